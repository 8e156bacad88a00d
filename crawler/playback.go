package crawler

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/gocolly/colly/v2"
)

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

// maxHops bounds the archive's own redirects followed by one Fetch.
const maxHops = 10

// archivePath matches ".../web/<timestamp><flag>/<original>" in a playback
// URL or a rewritten Location, absolute, path-only or scheme-relative.
var archivePath = regexp.MustCompile(`^(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?(?://[^/]*)?/web/(\d{1,14})([a-z]{2}_)?/(.+)$`)

// Fetch returns the raw capture of url at timestamp. The archive's own 302
// to the nearest capture is followed, so Memento.Timestamp can differ from
// timestamp; a captured redirect is returned as is with Location decoded.
// Errors wrap ErrNotArchived, ErrBlocked, ErrRateLimited, ErrUnreachable,
// ErrUnavailable or ErrRedirectLoop.
func (c *Client) Fetch(ctx context.Context, timestamp, url string) (*Memento, error) {
	m, err := c.fetch(ctx, timestamp, url)
	if err != nil {
		return nil, fmt.Errorf("fetch %s at %s: %w", url, timestamp, err)
	}
	return m, nil
}

func (c *Client) fetch(ctx context.Context, timestamp, original string) (*Memento, error) {
	if !digitsPattern.MatchString(timestamp) {
		return nil, fmt.Errorf("timestamp %q: want 1 to 14 digits (yyyyMMddhhmmss)", timestamp)
	}
	original, _, _ = strings.Cut(strings.TrimSpace(original), "#")
	if original == "" {
		return nil, errors.New("empty URL")
	}
	reqURL := c.cfg.BaseURL + "/web/" + timestamp + "id_/" + original
	visited := map[string]bool{}
	for hop := 0; ; hop++ {
		if visited[reqURL] {
			return nil, fmt.Errorf("%w: the archive redirected back to %s; the capture cannot be played back", ErrRedirectLoop, reqURL)
		}
		if hop > maxHops {
			return nil, fmt.Errorf("%w: more than %d archive redirects, last to %s", ErrRedirectLoop, maxHops, reqURL)
		}
		visited[reqURL] = true

		ex, err := c.do(ctx, c.playback, reqURL, func(ctx context.Context) (*exchange, error) {
			return c.playbackAttempt(ctx, reqURL)
		})
		if err != nil {
			return nil, err
		}
		if hasMemento(ex.header) {
			return c.memento(reqURL, ex), nil
		}

		// No Memento-Datetime: the archive itself is speaking.
		switch {
		case ex.status >= 300 && ex.status < 400:
			loc := ex.header.Get("Location")
			if loc == "" {
				return nil, fmt.Errorf("archive answered %d without Location for %s", ex.status, reqURL)
			}
			next, err := resolve(reqURL, loc)
			if err != nil {
				return nil, fmt.Errorf("archive redirect to %q: %w", loc, err)
			}
			c.logger.LogAttrs(ctx, slog.LevelDebug, "following archive redirect to nearest capture",
				slog.String(logKeyURL, reqURL), slog.String(logKeyLocation, next))
			reqURL = next
		case ex.status == http.StatusNotFound:
			return nil, fmt.Errorf("%w: the archive has no capture of this URL (%s answered 404); check the URL against List", ErrNotArchived, reqURL)
		case ex.status == http.StatusForbidden:
			reason := ex.header.Get("X-Archive-Wayback-Runtime-Error")
			return nil, fmt.Errorf("%w: %s answered 403 (%s); the archive will not play this site back, nothing to retry", ErrBlocked, reqURL, reason)
		case ex.status == http.StatusOK && isExcludedPage(ex.body):
			return nil, fmt.Errorf("%w: %s says the URL has been excluded from the Wayback Machine; nothing to retry", ErrBlocked, reqURL)
		default:
			return nil, fmt.Errorf("archive answered %d without Memento-Datetime for %s; not a capture, check BaseURL", ex.status, reqURL)
		}
	}
}

// isExcludedPage recognises the archive's "excluded" HTML page
// (fx:edgi-wayback/test_get_memento_raises_blocked_error/00).
func isExcludedPage(body []byte) bool {
	b := strings.ToLower(string(body[:min(len(body), 256<<10)]))
	return strings.Contains(b, "has been excluded from the wayback machine")
}

// resolve makes an absolute URL from a Location that may be absolute,
// path-only or scheme-relative.
func resolve(base, loc string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	l, err := b.Parse(loc)
	if err != nil {
		return "", err
	}
	if l.Scheme != "http" && l.Scheme != "https" {
		return "", fmt.Errorf("unsupported scheme %q", l.Scheme)
	}
	return l.String(), nil
}

// memento builds the result of a playback answer that has Memento-Datetime.
func (c *Client) memento(reqURL string, ex *exchange) *Memento {
	m := &Memento{RequestURL: reqURL, Status: ex.status, Header: ex.header}
	pathTS, pathOrig := "", ""
	if p := archivePath.FindStringSubmatch(reqURL); p != nil {
		pathTS, pathOrig = p[1], p[3]
	}
	m.Timestamp = pathTS
	if t, err := http.ParseTime(headerValue(ex.header, "Memento-Datetime")); err == nil {
		m.Timestamp = t.UTC().Format("20060102150405")
	}
	m.Original = linkOriginal(ex.header.Values("Link"))
	if m.Original == "" {
		m.Original = pathOrig
	}
	if ex.status >= 300 && ex.status < 400 {
		if loc := ex.header.Get("Location"); loc != "" {
			m.Location = redirectTarget(loc, m.Original)
		}
	}
	raw := ex.body
	truncated := int64(len(raw)) > c.cfg.MaxBodySize
	if truncated {
		raw = raw[:c.cfg.MaxBodySize]
	}
	m.Body, m.Truncated = decodeBody(raw, c.cfg.MaxBodySize, truncated)
	return m
}

// headerValue reads a header whatever the case of its name on the wire.
func headerValue(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// redirectTarget turns the Location of a captured redirect into the
// target's original URL. The archive rewrites it to
// /web/<ts><flag>/<target> in absolute, path-only or scheme-relative form;
// an unrewritten Location is resolved against the captured URL.
func redirectTarget(loc, original string) string {
	if p := archivePath.FindStringSubmatch(loc); p != nil {
		target := p[3]
		if !strings.Contains(target, "://") {
			target = "http://" + strings.TrimPrefix(target, "//")
		}
		return target
	}
	if original != "" {
		if s, err := resolve(original, loc); err == nil {
			return s
		}
	}
	return loc
}

// linkOriginal extracts rel="original" from Link headers. URLs can contain
// commas, so the header is scanned by <…> rather than split on ",". IA
// HTML-escapes "&" inside these URLs (fx:…redirect_in_a_loop/02).
func linkOriginal(values []string) string {
	for _, v := range values {
		for {
			start := strings.IndexByte(v, '<')
			if start < 0 {
				break
			}
			end := strings.IndexByte(v[start:], '>')
			if end < 0 {
				break
			}
			target := v[start+1 : start+end]
			rest := v[start+end+1:]
			params := rest
			if next := strings.IndexByte(rest, '<'); next >= 0 {
				params = rest[:next]
			}
			if relIs(params, "original") {
				return html.UnescapeString(target)
			}
			v = rest
		}
	}
	return ""
}

func relIs(params, want string) bool {
	for _, p := range strings.Split(params, ";") {
		name, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "rel") {
			continue
		}
		for _, r := range strings.Fields(strings.Trim(strings.TrimSpace(val), `",`)) {
			if r == want {
				return true
			}
		}
	}
	return false
}

// playbackAttempt performs one playback request through colly. Colly is
// configured against its sharp edges (go-style.md): no automatic redirects
// (the caller classifies them by Memento-Datetime), non-2xx answers
// delivered as responses, revisits allowed, an explicit body cap of
// MaxBodySize+1 so an over-cap body is detectable, charset detection off,
// an explicit User-Agent, and ctx for cancellation.
//
// The body is taken from a recorder under colly rather than from
// colly.Response.Body, because colly transcodes Body before any callback
// when Content-Type names a charset, which would destroy the raw bytes we
// store and the gzip data of Wayback's double-encoding bug.
func (c *Client) playbackAttempt(ctx context.Context, reqURL string) (*exchange, error) {
	rec := &bodyRecorder{}
	col := colly.NewCollector(
		colly.UserAgent(c.cfg.UserAgent),
		colly.AllowURLRevisit(),
		colly.ParseHTTPErrorResponse(),
		colly.MaxBodySize(int(c.cfg.MaxBodySize+1)),
		colly.StdlibContext(ctx),
	)
	col.DetectCharset = false
	// The archive's robots.txt governs crawling its HTML interface, not this
	// API; checking it would also refetch it for every per-call collector.
	col.IgnoreRobotsTxt = true
	col.DisableCookies()
	col.WithTransport(&recordingTransport{base: c.playbackTransport, rec: rec})
	col.SetRequestTimeout(c.playbackTimeout)
	col.SetRedirectHandler(func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse })

	var status int
	var header http.Header
	col.OnResponse(func(r *colly.Response) {
		status = r.StatusCode
		header = r.Headers.Clone()
	})
	visitErr := col.Visit(reqURL)

	body, complete, readErr, got := rec.result()
	if !got {
		if visitErr == nil {
			visitErr = errors.New("no response")
		}
		return nil, visitErr
	}
	if !complete && int64(len(body)) <= c.cfg.MaxBodySize {
		if readErr == nil {
			readErr = visitErr
		}
		return nil, fmt.Errorf("%w after %d bytes: %w", errTruncatedBody, len(body), readErr)
	}
	if header == nil {
		// Colly failed after reading the whole body (for example while
		// transcoding it); the recorder still has the answer.
		status, header = rec.status, rec.header.Clone()
	}
	return &exchange{status: status, header: header, body: body}, nil
}

// recordingTransport hands colly the response and keeps a copy of the body
// bytes exactly as colly reads them, after transport decoding.
type recordingTransport struct {
	base http.RoundTripper
	rec  *bodyRecorder
}

func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	t.rec.start(resp)
	resp.Body = &recordingBody{rc: resp.Body, rec: t.rec}
	return resp, nil
}

type bodyRecorder struct {
	mu     sync.Mutex
	got    bool
	status int
	header http.Header
	buf    []byte
	eof    bool
	err    error
}

func (r *bodyRecorder) start(resp *http.Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got, r.status, r.header = true, resp.StatusCode, resp.Header
}

func (r *bodyRecorder) result() (body []byte, complete bool, readErr error, got bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf, r.eof, r.err, r.got
}

type recordingBody struct {
	rc  io.ReadCloser
	rec *bodyRecorder
}

func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.rec.mu.Lock()
	b.rec.buf = append(b.rec.buf, p[:n]...)
	switch {
	case err == io.EOF:
		b.rec.eof = true
	case err != nil && b.rec.err == nil:
		b.rec.err = err
	}
	b.rec.mu.Unlock()
	return n, err
}

func (b *recordingBody) Close() error { return b.rc.Close() }
