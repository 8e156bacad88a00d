// Package crawler talks to the Wayback Machine: CDX listing and raw (id_) playback,
// politely and robustly.
package crawler

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// Config holds the archive endpoint and the politeness settings.
type Config struct {
	BaseURL      string        // default "https://web.archive.org"
	CDXRate      float64       // CDX requests per second across all workers, default 0.4
	PlaybackRate float64       // playback requests per second across all workers, default 1
	UserAgent    string        // default DefaultUserAgent
	MaxBodySize  int64         // body cap in bytes, default 20 MiB
	MaxAttempts  int           // tries per request incl. the first, default 6
	BackoffBase  time.Duration // first retry delay, doubled each time, default 2s
	Pause429     time.Duration // pause of the whole endpoint class on 429 without Retry-After, default 60s
	Max429Pauses int           // consecutive 429 pauses before giving up with ErrRateLimited, default 5
	CDXPageSize  int           // CDX limit per request, default 1000
}

// DefaultUserAgent identifies policywatch to the archive.
const DefaultUserAgent = "policywatch/0.1 (+https://github.com/policywatch/policywatch)"

// Errors callers branch on.
var (
	ErrNotArchived    = errors.New("not archived")
	ErrBlocked        = errors.New("blocked or excluded by the archive")
	ErrRateLimited    = errors.New("rate limited by the archive")
	ErrUnreachable    = errors.New("archive unreachable")
	ErrRedirectLoop   = errors.New("redirect loop")
	ErrNotImplemented = errors.New("crawler: not implemented")
)

// Capture is one de-duplicated CDX row.
type Capture struct {
	URLKey     string
	Timestamp  string // 14 digits
	Original   string
	MimeType   string // "warc/revisit" for revisit records
	StatusCode string // "200", "301", "-" …
	Digest     string // base32 SHA-1 of the payload
	Length     string
}

// IsRevisit reports whether the row is a revisit record (same payload as an earlier capture with this digest).
func (c Capture) IsRevisit() bool { return c.MimeType == "warc/revisit" }

// ListOptions narrows a CDX listing.
type ListOptions struct {
	From string // 1–14 digits, inclusive; "" for no bound
	To   string
}

// Memento is the result of one raw playback.
type Memento struct {
	RequestURL string      // the id_ URL finally requested (after Wayback's own redirects)
	Timestamp  string      // 14 digits, from Memento-Datetime
	Original   string      // Link rel="original": the URL actually captured
	Status     int         // the archived status (200, 301, 404 …)
	Header     http.Header // response headers as received
	Location   string      // for captured 3xx: the redirect target, as an original URL
	Body       []byte      // payload, transport-decoded and gunzipped when it was gzip data
	Truncated  bool        // the body hit MaxBodySize
}

// Client is safe for concurrent use; its rate limiters are shared by all callers.
type Client struct{}

// New returns a Client. httpClient may be nil.
func New(cfg Config, logger *slog.Logger, httpClient *http.Client) (*Client, error) {
	return nil, ErrNotImplemented
}

// List returns the captures of url, oldest first, de-duplicated.
func (c *Client) List(ctx context.Context, url string, opts ListOptions) ([]Capture, error) {
	return nil, ErrNotImplemented
}

// Fetch returns the raw capture of url at timestamp.
func (c *Client) Fetch(ctx context.Context, timestamp, url string) (*Memento, error) {
	return nil, ErrNotImplemented
}
