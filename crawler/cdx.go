package crawler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
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

// cdxFields is the fl parameter. urlkey must be included or resume keys
// break (internetarchive/wayback#121).
var cdxFields = []string{"urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"}

var (
	digitsPattern    = regexp.MustCompile(`^\d{1,14}$`)
	timestampPattern = regexp.MustCompile(`^\d{14}$`)
	statusPattern    = regexp.MustCompile(`^(\d{3}|-)$`)
	lengthPattern    = regexp.MustCompile(`^(\d+|-)$`)
)

// List returns the captures of url, oldest first, de-duplicated. It asks
// for an exact match and pages with resume keys, which it treats as opaque
// (their format changed in 2026); it stops on a repeated key or after
// CDXMaxPages pages rather than loop forever.
func (c *Client) List(ctx context.Context, url string, opts ListOptions) ([]Capture, error) {
	caps, err := c.list(ctx, url, opts)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", url, err)
	}
	return caps, nil
}

func (c *Client) list(ctx context.Context, target string, opts ListOptions) ([]Capture, error) {
	seenKeys := map[string]bool{}
	seenRows := map[Capture]bool{}
	var out []Capture
	key := ""
	for page := 1; ; page++ {
		if page > c.cfg.CDXMaxPages {
			return nil, fmt.Errorf("%w: more than %d pages of %d rows; narrow the range with From/To or raise CDXMaxPages",
				ErrPaging, c.cfg.CDXMaxPages, c.cfg.CDXPageSize)
		}
		rows, next, err := c.listPage(ctx, target, opts, key)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", page, err)
		}
		for _, r := range rows {
			// Identity ignores length: the same capture held in several WARC
			// files is listed with different record lengths.
			id := r
			id.Length = ""
			if seenRows[id] {
				continue
			}
			seenRows[id] = true
			out = append(out, r)
		}
		if next == "" {
			break
		}
		if seenKeys[next] {
			return nil, fmt.Errorf("%w: the archive sent resume key %q twice (page %d); the listing would never end, retry later",
				ErrPaging, next, page)
		}
		seenKeys[next] = true
		key = next
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Timestamp < out[j].Timestamp })
	return out, nil
}

// ListPage returns one page of the CDX listing of url: the rows of the page
// after resumeKey ("" for the first page) and the key of the next page (""
// after the last). It is for callers that persist a long listing as it
// arrives and resume it later; they must treat keys as opaque and guard
// against a key that repeats, as List does. Rows are not de-duplicated
// across pages.
func (c *Client) ListPage(ctx context.Context, url string, opts ListOptions, resumeKey string) ([]Capture, string, error) {
	rows, next, err := c.listPage(ctx, url, opts, resumeKey)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", url, err)
	}
	return rows, next, nil
}

func (c *Client) listPage(ctx context.Context, target string, opts ListOptions, key string) ([]Capture, string, error) {
	if strings.TrimSpace(target) == "" {
		return nil, "", fmt.Errorf("empty URL")
	}
	for name, v := range map[string]string{"From": opts.From, "To": opts.To} {
		if v != "" && !digitsPattern.MatchString(v) {
			return nil, "", fmt.Errorf("ListOptions.%s %q: want 1 to 14 digits (yyyyMMddhhmmss)", name, v)
		}
	}
	params := url.Values{}
	params.Set("url", target)
	params.Set("matchType", "exact")
	params.Set("output", "json")
	params.Set("fl", strings.Join(cdxFields, ","))
	params.Set("limit", fmt.Sprint(c.cfg.CDXPageSize))
	params.Set("showResumeKey", "true")
	if opts.From != "" {
		params.Set("from", opts.From)
	}
	if opts.To != "" {
		params.Set("to", opts.To)
	}
	if key != "" {
		// Sent back unchanged; Encode escapes it once more, as it must.
		params.Set("resumeKey", key)
	}
	reqURL := c.cfg.BaseURL + "/cdx/search/cdx?" + params.Encode()
	body, err := c.cdxGet(ctx, reqURL)
	if err != nil {
		return nil, "", err
	}
	rows, next, skipped, err := parseCDX(body)
	if err != nil {
		return nil, "", err
	}
	if skipped > 0 {
		c.logger.LogAttrs(ctx, slog.LevelDebug, "skipped malformed cdx rows",
			slog.String(logKeyURL, target), slog.Int(logKeySkipped, skipped))
	}
	return rows, next, nil
}

// cdxGet fetches one CDX page with the CDX class's politeness.
func (c *Client) cdxGet(ctx context.Context, reqURL string) ([]byte, error) {
	ex, err := c.do(ctx, c.cdx, reqURL, func(ctx context.Context) (*exchange, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, reqURL, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("User-Agent", c.cfg.UserAgent)
		resp, err := c.cdxHTTP.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBodySize+1))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errTruncatedBody, err)
		}
		return &exchange{status: resp.StatusCode, header: resp.Header, body: body}, nil
	})
	if err != nil {
		return nil, err
	}
	switch {
	case ex.status == http.StatusOK:
	case ex.status == http.StatusForbidden:
		reason := ex.header.Get("X-Archive-Wayback-Runtime-Error")
		if reason == "" {
			reason = strings.TrimSpace(string(firstLine(ex.body)))
		}
		return nil, fmt.Errorf("%w: cdx answered 403 (%s); the archive refuses this site, nothing to retry", ErrBlocked, reason)
	case ex.status == http.StatusBadRequest:
		return nil, fmt.Errorf("cdx answered 400 (%s) for %s; check the URL, or retry later: the archive has also answered 400 during outages",
			strings.TrimSpace(string(firstLine(ex.body))), reqURL)
	default:
		return nil, fmt.Errorf("cdx answered unexpected status %d for %s", ex.status, reqURL)
	}
	if int64(len(ex.body)) > c.cfg.MaxBodySize {
		return nil, fmt.Errorf("cdx page larger than MaxBodySize (%d bytes); lower CDXPageSize", c.cfg.MaxBodySize)
	}
	return ex.body, nil
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return b
}

// parseCDX reads a CDX page in JSON (the format List asks for) or in text
// (what the server sends when it ignores output=json). It returns the valid
// rows, the resume key ("" on the last page) and the number of rows skipped
// as malformed. An empty body, [] and a header row alone are empty pages.
func parseCDX(body []byte) (rows []Capture, key string, skipped int, err error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, "", 0, nil
	}
	if body[0] == '[' {
		return parseCDXJSON(body)
	}
	rows, key, skipped = parseCDXText(body)
	return rows, key, skipped, nil
}

func parseCDXJSON(body []byte) ([]Capture, string, int, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, "", 0, fmt.Errorf("decode cdx json: %w", err)
	}
	index := map[string]int{}
	for i, f := range cdxFields {
		index[f] = i
	}
	var rows []Capture
	skipped := 0
	afterEmpty := false
	for i, r := range raw {
		var fields []string
		if err := json.Unmarshal(r, &fields); err != nil {
			skipped++
			continue
		}
		if len(fields) == 0 {
			afterEmpty = true
			continue
		}
		if afterEmpty && len(fields) == 1 {
			return rows, fields[0], skipped, nil
		}
		if i == 0 && isHeaderRow(fields) {
			index = map[string]int{}
			for j, f := range fields {
				index[f] = j
			}
			continue
		}
		get := func(name string) string {
			if j, ok := index[name]; ok && j < len(fields) {
				return fields[j]
			}
			return ""
		}
		if len(fields) < len(index) {
			skipped++
			continue
		}
		c := Capture{
			URLKey: get("urlkey"), Timestamp: get("timestamp"), Original: get("original"),
			MimeType: get("mimetype"), StatusCode: get("statuscode"), Digest: get("digest"), Length: get("length"),
		}
		if !validRow(c) {
			skipped++
			continue
		}
		rows = append(rows, c)
	}
	return rows, "", skipped, nil
}

func isHeaderRow(fields []string) bool {
	for _, f := range fields {
		if f == "timestamp" || f == "original" {
			return true
		}
	}
	return false
}

// parseCDXText reads rows in the fl order; a blank line is followed by the
// resume key.
func parseCDXText(body []byte) ([]Capture, string, int) {
	var rows []Capture
	skipped := 0
	lines := strings.Split(string(body), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], "\r")
		if line == "" {
			for _, rest := range lines[i+1:] {
				if k := strings.TrimSpace(rest); k != "" {
					return rows, k, skipped
				}
			}
			break
		}
		f := strings.Fields(line)
		if len(f) < len(cdxFields) {
			skipped++
			continue
		}
		c := Capture{URLKey: f[0], Timestamp: f[1], Original: f[2], MimeType: f[3], StatusCode: f[4], Digest: f[5], Length: f[6]}
		if !validRow(c) {
			skipped++
			continue
		}
		rows = append(rows, c)
	}
	return rows, "", skipped
}

// validRow rejects rows a caller could not use: bad timestamps, odd status
// or length values, and originals that are not fetchable http(s) URLs, such
// as "http://mailto:…" or bare paths (fx:edgi-wayback-cdx-samples).
func validRow(c Capture) bool {
	if !timestampPattern.MatchString(c.Timestamp) || !statusPattern.MatchString(c.StatusCode) ||
		!lengthPattern.MatchString(c.Length) || c.MimeType == "" {
		return false
	}
	u, err := url.Parse(c.Original)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return false
	}
	return !strings.HasPrefix(strings.ToLower(u.Host), "mailto:")
}
