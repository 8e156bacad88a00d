package monitor

import (
	"context"
	"errors"
	"time"
)

// DefaultMaxGap is the longest stretch of time history leaves between two
// fetched captures even when their texts are equal, so that a change and its
// revert inside the stretch are not missed.
const DefaultMaxGap = 180 * 24 * time.Hour

// HistoryOptions narrow and steer a history run.
type HistoryOptions struct {
	// From and To bound the captures considered (1–14 digit Wayback
	// timestamps, inclusive; "" for no bound).
	From, To string

	// MaxGap is the longest time between two fetched captures; zero means
	// DefaultMaxGap.
	MaxGap time.Duration

	// Discover looks for the policy link on the vendor's archived home page
	// for long stretches in which the configured URL has no capture.
	Discover bool

	// Progress, when set, is called after every archive request and every
	// recorded capture with the run's counters. It is called from the
	// goroutine running History and must not block for long.
	Progress func(HistoryProgress)
}

// HistoryProgress is a snapshot of a running history, for progress bars and
// log lines.
type HistoryProgress struct {
	Vendor string `json:"vendor"`
	// Phase is "listing" while the CDX index is paged, "following" while
	// redirects and discovered URLs are resolved, "bisecting" while captures
	// are fetched, and "done".
	Phase string `json:"phase"`
	// Listed counts the CDX rows listed so far (all URLs of the vendor);
	// Pages the CDX pages requested in this run.
	Listed int `json:"captures_listed"`
	Pages  int `json:"cdx_pages"`
	// Distinct is the number of distinct payloads (digests) among playable
	// rows: what a naive run would fetch.
	Distinct int `json:"distinct_digests"`
	// Fetched counts playback requests made in this run; Reused the captures
	// whose body was already stored.
	Fetched int `json:"fetched"`
	Reused  int `json:"reused"`
	// Remaining is an estimate of the playback requests still needed (an
	// upper bound from the unresolved intervals); 0 when unknown or done.
	Remaining int `json:"remaining_estimate"`
	// Versions and Changes found so far (whole stored history of the vendor).
	Versions int `json:"versions"`
	Changes  int `json:"changes"`
}

// URLSpan is one URL the vendor's policy was read from, and when.
type URLSpan struct {
	URL  string `json:"url"`
	From string `json:"from"` // first capture timestamp used from this URL
	To   string `json:"to"`   // last one
	// How is "configured", "redirect" (a captured redirect led here) or
	// "discovered" (the link was found on the archived home page).
	How string `json:"how"`
}

// HistoryResult summarises a history run. Its JSON form is what
// `policywatch history --json` prints: keep the names stable.
type HistoryResult struct {
	Vendor string `json:"vendor"`
	URL    string `json:"url"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	// Resumed is true when the run continued a listing or a bisection that
	// an earlier run had started.
	Resumed bool `json:"resumed"`

	Listed   int `json:"captures_listed"`   // CDX rows in the range, all URLs, duplicates removed
	Distinct int `json:"distinct_digests"`  // naive fetch count
	Fetched  int `json:"fetched"`           // playback requests made by this run
	Reused   int `json:"bodies_reused"`     // captures whose stored body was reused
	Inferred int `json:"captures_inferred"` // recorded without a fetch: both fetched neighbours hold the same text
	Skipped  int `json:"captures_not_versions"`

	URLs     []URLSpan       `json:"urls"`
	Versions []VersionRef    `json:"versions"`
	Changes  []ChangeSummary `json:"changes"`
	Error    string          `json:"error,omitempty"`
}

// VersionRef is one version in a history result.
type VersionRef struct {
	SHA256     string  `json:"sha256"`
	URL        string  `json:"url"`         // URL of its first capture
	First      string  `json:"first_seen"`  // timestamp of its first capture
	Last       string  `json:"last_seen"`   // and of its last
	Captures   int     `json:"captures"`    // captures carrying it, inferred ones included
	StatedDate *string `json:"last_updated"` // the date the policy states
}

// errHistoryNotImplemented marks the stub while history is being built.
var errHistoryNotImplemented = errors.New("history: not implemented yet")

// History builds a vendor's version history from every capture in the
// range, fetching only the captures that tell something: the ends of the
// range, the captures that bisect a change down to two adjacent captures,
// and enough captures that no two fetched ones are more than MaxGap apart.
// It records exactly as Pass does (one transaction per capture) and can be
// interrupted at any point: the next run continues, fetching nothing twice.
func (m *Monitor) History(ctx context.Context, v Vendor, opts HistoryOptions) (*HistoryResult, error) {
	return &HistoryResult{Vendor: v.Name, URL: v.URL}, errHistoryNotImplemented
}
