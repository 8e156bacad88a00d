package crawler

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Config holds the archive endpoint and the politeness settings. Zero values
// mean the default; the defaults follow wayback-api.md §7.
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

	CDXMaxPages      int           // resume-key pages per listing before giving up, default 1000
	ConnectTimeout   time.Duration // TCP connect timeout, default 15s
	HeaderTimeout    time.Duration // wait for playback response headers, default 60s
	CDXHeaderTimeout time.Duration // wait for CDX response headers, default 120s (big listings are slow)
	TotalTimeout     time.Duration // whole exchange incl. body, default 5 min
	MaxConns         int           // connections per endpoint class when New builds the transport, default 1

	// WrapTransport, when set, wraps the transport New builds for each
	// endpoint class ("cdx", "playback"), so that a caller can observe the
	// requests (the daemon counts them for /metrics) without building
	// transports of its own, which would drift from these timeouts and limits.
	WrapTransport func(class string, rt http.RoundTripper) http.RoundTripper
}

// DefaultUserAgent identifies policywatch to the archive. IA answers 400 to
// requests without a User-Agent and asks for a contact URL in it.
const DefaultUserAgent = "policywatch/0.1 (+https://github.com/policywatch/policywatch)"

// Defaults from wayback-api.md §7.
const (
	DefaultBaseURL          = "https://web.archive.org"
	DefaultCDXRate          = 0.4
	DefaultPlaybackRate     = 1.0
	DefaultMaxBodySize      = 20 << 20
	DefaultMaxAttempts      = 6
	DefaultBackoffBase      = 2 * time.Second
	DefaultPause429         = 60 * time.Second
	DefaultMax429Pauses     = 5
	DefaultCDXPageSize      = 1000
	DefaultCDXMaxPages      = 1000
	DefaultConnectTimeout   = 15 * time.Second
	DefaultHeaderTimeout    = 60 * time.Second
	DefaultCDXHeaderTimeout = 120 * time.Second
	DefaultTotalTimeout     = 5 * time.Minute
	DefaultMaxConns         = 1
)

// Errors callers branch on with errors.Is.
var (
	ErrNotArchived    = errors.New("not archived")
	ErrBlocked        = errors.New("blocked or excluded by the archive")
	ErrRateLimited    = errors.New("rate limited by the archive")
	ErrUnreachable    = errors.New("archive unreachable")
	ErrRedirectLoop   = errors.New("redirect loop")
	ErrUnavailable    = errors.New("archive kept failing")
	ErrPaging         = errors.New("cdx paging did not end")
	ErrNotImplemented = errors.New("crawler: not implemented")
)

// slog keys, snake_case.
const (
	logKeyURL      = "url"
	logKeyClass    = "class"
	logKeyAttempt  = "attempt"
	logKeyDelay    = "delay"
	logKeyPause    = "pause"
	logKeyStatus   = "status"
	logKeyError    = "error"
	logKeyRepeats  = "consecutive_429"
	logKeySkipped  = "skipped_rows"
	logKeyPage     = "page"
	logKeyRows     = "rows"
	logKeyLocation = "location"
)

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.CDXRate == 0 {
		c.CDXRate = DefaultCDXRate
	}
	if c.PlaybackRate == 0 {
		c.PlaybackRate = DefaultPlaybackRate
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.MaxBodySize == 0 {
		c.MaxBodySize = DefaultMaxBodySize
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.Max429Pauses == 0 {
		c.Max429Pauses = DefaultMax429Pauses
	}
	if c.CDXPageSize == 0 {
		c.CDXPageSize = DefaultCDXPageSize
	}
	if c.CDXMaxPages == 0 {
		c.CDXMaxPages = DefaultCDXMaxPages
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	def(&c.BackoffBase, DefaultBackoffBase)
	def(&c.Pause429, DefaultPause429)
	def(&c.ConnectTimeout, DefaultConnectTimeout)
	def(&c.HeaderTimeout, DefaultHeaderTimeout)
	def(&c.CDXHeaderTimeout, DefaultCDXHeaderTimeout)
	def(&c.TotalTimeout, DefaultTotalTimeout)
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return c
}

// validate checks a config that already has its defaults.
func (c Config) validate() error {
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("BaseURL %q: want an http or https URL such as %s", c.BaseURL, DefaultBaseURL)
	}
	for name, v := range map[string]float64{"CDXRate": c.CDXRate, "PlaybackRate": c.PlaybackRate} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s %v: want a positive number of requests per second", name, v)
		}
	}
	if strings.ContainsAny(c.UserAgent, "\r\n") {
		return fmt.Errorf("UserAgent %q: must be one line", c.UserAgent)
	}
	if c.MaxBodySize < 0 || c.MaxBodySize >= math.MaxInt32 {
		return fmt.Errorf("MaxBodySize %d: want between 1 and %d bytes", c.MaxBodySize, math.MaxInt32-1)
	}
	for name, v := range map[string]int{
		"MaxAttempts": c.MaxAttempts, "Max429Pauses": c.Max429Pauses, "CDXPageSize": c.CDXPageSize,
		"CDXMaxPages": c.CDXMaxPages, "MaxConns": c.MaxConns,
	} {
		if v < 0 {
			return fmt.Errorf("%s %d: must not be negative", name, v)
		}
	}
	for name, v := range map[string]time.Duration{
		"BackoffBase": c.BackoffBase, "Pause429": c.Pause429, "ConnectTimeout": c.ConnectTimeout,
		"HeaderTimeout": c.HeaderTimeout, "CDXHeaderTimeout": c.CDXHeaderTimeout, "TotalTimeout": c.TotalTimeout,
	} {
		if v < 0 {
			return fmt.Errorf("%s %v: must not be negative", name, v)
		}
	}
	return nil
}

// Client is safe for concurrent use; its rate limiters and 429 pauses are
// shared by all callers, because the archive limits per endpoint class and
// per IP, not per goroutine.
type Client struct {
	cfg    Config
	logger *slog.Logger

	cdxHTTP           *http.Client      // CDX requests (plain net/http)
	playbackTransport http.RoundTripper // shared by the per-call colly collectors
	playbackTimeout   time.Duration
	built             []*http.Transport // the transports New built, for CloseIdleConnections

	cdx      *class
	playback *class
}

// New returns a Client. A nil logger means slog.Default(). httpClient may be
// nil; then New builds one transport per endpoint class with the configured
// timeouts and connection limit. A given httpClient is used as is for CDX,
// and its Transport (with its Timeout) for playback through colly.
func New(cfg Config, logger *slog.Logger, httpClient *http.Client) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("crawler config: %w", err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	c := &Client{
		cfg:      cfg,
		logger:   logger,
		cdx:      newClass("cdx", cfg.CDXRate, cfg.Pause429, cfg.Max429Pauses),
		playback: newClass("playback", cfg.PlaybackRate, cfg.Pause429, cfg.Max429Pauses),
	}
	if httpClient != nil {
		c.cdxHTTP = httpClient
		c.playbackTransport = httpClient.Transport
		if c.playbackTransport == nil {
			c.playbackTransport = http.DefaultTransport
		}
		c.playbackTimeout = httpClient.Timeout
		if c.playbackTimeout == 0 {
			c.playbackTimeout = cfg.TotalTimeout
		}
		return c, nil
	}
	cdxT, playT := newTransport(cfg, cfg.CDXHeaderTimeout), newTransport(cfg, cfg.HeaderTimeout)
	c.built = []*http.Transport{cdxT, playT}
	var cdxRT, playRT http.RoundTripper = cdxT, playT
	if cfg.WrapTransport != nil {
		cdxRT, playRT = cfg.WrapTransport("cdx", cdxRT), cfg.WrapTransport("playback", playRT)
	}
	c.cdxHTTP = &http.Client{Transport: cdxRT, Timeout: cfg.TotalTimeout}
	c.playbackTransport = playRT
	c.playbackTimeout = cfg.TotalTimeout
	return c, nil
}

// CloseIdleConnections closes the keep-alive connections of the transports
// New built, so that a stopped daemon leaves no connection goroutines behind.
func (c *Client) CloseIdleConnections() {
	for _, t := range c.built {
		t.CloseIdleConnections()
	}
}

// newTransport builds one endpoint class's transport: few keep-alive
// connections (IA asks for one per class) and explicit timeouts, since the
// archive can stall for minutes.
func newTransport(cfg Config, headerTimeout time.Duration) *http.Transport {
	dialer := &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          cfg.MaxConns,
		MaxIdleConnsPerHost:   cfg.MaxConns,
		MaxConnsPerHost:       cfg.MaxConns,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.ConnectTimeout,
		ResponseHeaderTimeout: headerTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

// newLimiter allows rps requests per second with a burst of one, so that
// workers starting together are spread out rather than sent at once.
func newLimiter(rps float64) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(rps), 1)
}
