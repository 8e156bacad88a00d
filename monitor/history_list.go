package monitor

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/snapshot"
	"github.com/policywatch/policywatch/store"
)

// maxListingPages bounds one URL's listing, as crawler.List does, so that a
// cycling archive cannot keep a run going forever.
const maxListingPages = 1000

// maxRedirectHops bounds a chain of captured redirects.
const maxRedirectHops = 10

// listAll lists the configured URL over the range and, where it leaves a
// stretch longer than MaxGap without a playable capture, the URL its
// captured redirects lead to, or (with Discover) the policy link of the
// archived home page. It returns every row, oldest first.
func (h *history) listAll(ctx context.Context) ([]crawler.Capture, error) {
	rows, err := h.list(ctx, h.cfg.URL, h.opts.From, h.opts.To)
	if err != nil {
		return nil, err
	}
	h.addSpan(h.cfg.URL, "configured", rows)
	h.report("following")
	var extra []crawler.Capture
	for _, hole := range h.holes(rows) {
		target, how, err := h.resolveHole(ctx, hole)
		if err != nil {
			return nil, err
		}
		if target == "" {
			continue
		}
		more, err := h.list(ctx, target, hole.from, hole.to)
		if err != nil {
			return nil, err
		}
		h.logger.Info("policy found at another URL for a stretch", "url", target, "how", how, "from", hole.from, "to", hole.to, "captures", len(more))
		h.addSpan(target, how, more)
		extra = append(extra, more...)
	}
	rows = append(rows, extra...)
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Timestamp != rows[j].Timestamp {
			return rows[i].Timestamp < rows[j].Timestamp
		}
		return rows[i].Original < rows[j].Original
	})
	// The same capture can come from two listings (a redirect target that is
	// also the configured URL's urlkey); keep one.
	out := rows[:0]
	for i, r := range rows {
		if i > 0 && r.Timestamp == rows[i-1].Timestamp && r.Original == rows[i-1].Original {
			continue
		}
		out = append(out, r)
	}
	h.out.Listed = len(out)
	return out, nil
}

func (h *history) addSpan(u, how string, rows []crawler.Capture) {
	if len(rows) == 0 {
		return
	}
	h.out.URLs = append(h.out.URLs, URLSpan{URL: u, How: how, From: rows[0].Timestamp, To: rows[len(rows)-1].Timestamp})
}

// list pages through the CDX index for one URL, storing every page before
// asking for the next, and continues an unfinished listing of an earlier run.
func (h *history) list(ctx context.Context, u, from, to string) ([]crawler.Capture, error) {
	l, resumed, err := h.db.OpenListing(ctx, h.vendor.ID, u, from, to)
	if err != nil {
		return nil, err
	}
	if resumed {
		h.out.Resumed = true
		h.logger.Info("continuing an interrupted listing", "url", u, "pages_done", l.Pages)
	}
	seen := map[string]bool{}
	for !l.Complete {
		if l.Pages >= maxListingPages {
			return nil, fmt.Errorf("list %s: %w: more than %d pages; narrow the range with --from/--to", u, crawler.ErrPaging, maxListingPages)
		}
		if l.ResumeKey != "" {
			if seen[l.ResumeKey] {
				return nil, fmt.Errorf("list %s: %w: the archive sent resume key %q twice; retry later", u, crawler.ErrPaging, l.ResumeKey)
			}
			seen[l.ResumeKey] = true
		}
		page, next, err := h.archive.ListPage(ctx, u, crawler.ListOptions{From: from, To: to}, l.ResumeKey)
		if err != nil {
			return nil, fmt.Errorf("list captures of %s: %w", u, err)
		}
		rows := make([]store.CDXRow, 0, len(page))
		for _, c := range page {
			rows = append(rows, store.CDXRow{Timestamp: c.Timestamp, Original: c.Original, URLKey: c.URLKey,
				MimeType: c.MimeType, Status: c.StatusCode, Digest: c.Digest, Length: c.Length})
		}
		if err := h.db.AppendListingPage(ctx, l, rows, next); err != nil {
			return nil, err
		}
		h.prog.Pages++
		h.prog.Listed += len(page)
		h.report("listing")
	}
	stored, err := h.db.ListingRows(ctx, l)
	if err != nil {
		return nil, err
	}
	out := make([]crawler.Capture, 0, len(stored))
	for _, r := range stored {
		out = append(out, crawler.Capture{URLKey: r.URLKey, Timestamp: r.Timestamp, Original: r.Original,
			MimeType: r.MimeType, StatusCode: r.Status, Digest: r.Digest, Length: r.Length})
	}
	return out, nil
}

// A hole is a stretch longer than MaxGap in which the configured URL has no
// playable capture.
type hole struct {
	from, to  string            // timestamps bounding the stretch ("" to: open end)
	redirects []crawler.Capture // captured 3xx rows inside it
}

// holes finds the stretches worth looking elsewhere for: those with captured
// redirects, and (with Discover) those with none at all.
func (h *history) holes(rows []crawler.Capture) []hole {
	var out []hole
	var prev string // timestamp of the last playable row
	var run []crawler.Capture
	consider := func(next string) {
		start, end := prev, next
		if start == "" {
			switch {
			case h.opts.From != "":
				start = pad(h.opts.From, false)
			case len(run) > 0:
				start = run[0].Timestamp
			default:
				run = nil
				return // nothing before the first capture to look at
			}
		}
		endT := h.now()
		if end != "" {
			endT = parseTS(end)
		} else if h.opts.To != "" {
			endT = parseTS(pad(h.opts.To, true))
		}
		var redirects []crawler.Capture
		for _, c := range run {
			if strings.HasPrefix(c.StatusCode, "3") {
				redirects = append(redirects, c)
			}
		}
		run = nil
		if endT.Sub(parseTS(start)) <= h.opts.MaxGap {
			return
		}
		if len(redirects) == 0 && !h.opts.Discover {
			return
		}
		to := end
		if to == "" {
			to = h.opts.To
		}
		out = append(out, hole{from: start, to: to, redirects: redirects})
	}
	for _, c := range rows {
		if playable(c) {
			consider(c.Timestamp)
			prev = c.Timestamp
			continue
		}
		run = append(run, c)
	}
	consider("")
	return out
}

// resolveHole finds where the policy was during a hole: where its captured
// redirects lead, or the policy link on the archived home page.
func (h *history) resolveHole(ctx context.Context, hl hole) (target, how string, err error) {
	if len(hl.redirects) > 0 {
		target, err := h.followRedirect(ctx, hl.redirects[0])
		if err != nil || target == "" {
			return "", "", err
		}
		return target, "redirect", nil
	}
	target, err = h.discover(ctx, hl)
	if err != nil || target == "" {
		return "", "", err
	}
	return target, "discovered", nil
}

// followRedirect plays a captured redirect back and follows its chain (each
// hop at the same time, as the archive rewrites it) to the URL that finally
// answers 2xx. It returns "" when the chain ends on the configured document
// itself (http→https, www, trailing slash), loops, or goes nowhere.
func (h *history) followRedirect(ctx context.Context, c crawler.Capture) (string, error) {
	if h.known[captureKey{c.Timestamp, c.Original}] != nil && h.known[captureKey{c.Timestamp, c.Original}].Fetched {
		// Followed by an earlier run: its Location is in the stored headers.
		if loc := h.known[captureKey{c.Timestamp, c.Original}].VerdictReason; strings.HasPrefix(loc, redirectReason) {
			return h.chase(ctx, c.Timestamp, strings.TrimPrefix(loc, redirectReason), map[string]bool{docKey(c.Original): true}, 1)
		}
	}
	m, err := h.fetch(ctx, c.Timestamp, c.Original)
	if err != nil {
		return "", h.fetchProblem(err, c)
	}
	rec := h.captureOf(c, m)
	rec.Verdict = store.VerdictNotOK
	rec.VerdictReason = fmt.Sprintf("archived status %d", m.Status)
	if m.Location != "" && m.Status >= 300 && m.Status < 400 {
		rec.VerdictReason = redirectReason + m.Location
	}
	res, err := h.db.RecordCapture(ctx, store.RecordInput{Capture: rec, Body: m.Body})
	if err != nil {
		return "", err
	}
	h.known[captureKey{c.Timestamp, c.Original}] = res.Capture
	if m.Status < 300 || m.Status >= 400 || m.Location == "" {
		return "", nil
	}
	return h.chase(ctx, c.Timestamp, m.Location, map[string]bool{docKey(c.Original): true}, 1)
}

// redirectReason prefixes the verdict reason of a followed captured redirect.
const redirectReason = "captured redirect to "

// chase follows a redirect chain from loc at ts.
func (h *history) chase(ctx context.Context, ts, loc string, visited map[string]bool, hops int) (string, error) {
	for ; hops <= maxRedirectHops; hops++ {
		key := docKey(loc)
		if visited[key] {
			h.logger.Warn("captured redirects loop; not followed", "timestamp", ts, "url", loc)
			return "", nil
		}
		visited[key] = true
		m, err := h.fetch(ctx, ts, loc)
		if err != nil {
			if fatal(err) {
				return "", err
			}
			h.logger.Warn("a captured redirect leads to a URL the archive cannot play back", "url", loc, "err", err)
			return "", nil
		}
		switch {
		case m.Status >= 300 && m.Status < 400 && m.Location != "":
			loc = m.Location
		case m.Status >= 200 && m.Status < 300:
			final := loc
			if m.Original != "" {
				final = m.Original
			}
			if docKey(final) == docKey(h.cfg.URL) {
				return "", nil
			}
			return final, nil
		default:
			return "", nil
		}
	}
	h.logger.Warn("more than the allowed captured redirects; not followed", "timestamp", ts, "hops", maxRedirectHops)
	return "", nil
}

// discover looks for the policy link on the vendor's home page as archived
// in the middle of the hole. The home page is kept as a capture (nothing
// fetched is thrown away) but never becomes a version.
func (h *history) discover(ctx context.Context, hl hole) (string, error) {
	u, err := url.Parse(h.cfg.URL)
	if err != nil {
		return "", err
	}
	home := u.Scheme + "://" + u.Host + "/"
	start := parseTS(hl.from)
	end := h.now()
	if hl.to != "" {
		end = parseTS(pad(hl.to, true))
	}
	mid := start.Add(end.Sub(start) / 2).Format("20060102150405")
	m, err := h.fetch(ctx, mid, home)
	for hops := 0; err == nil && m.Status >= 300 && m.Status < 400 && m.Location != "" && hops < maxRedirectHops; hops++ {
		m, err = h.fetch(ctx, m.Timestamp, m.Location)
	}
	if err != nil {
		if fatal(err) {
			return "", err
		}
		h.logger.Info("no archived home page to discover the policy link from", "url", home, "err", err)
		return "", nil
	}
	if m.Timestamp < hl.from || (hl.to != "" && m.Timestamp > pad(hl.to, true)) || m.Status < 200 || m.Status > 299 {
		h.logger.Info("the nearest home page capture is outside the stretch; nothing discovered", "url", home, "timestamp", m.Timestamp, "from", hl.from, "to", hl.to)
		return "", nil
	}
	rec := h.captureOf(crawler.Capture{Timestamp: m.Timestamp, Original: m.Original}, m)
	links := snapshot.FindPolicyLinks(m.Body, snapshot.Source{Site: h.site, URL: m.Original, Timestamp: m.Timestamp, ContentType: rec.ContentType})
	rec.Verdict = store.VerdictHomePage
	rec.VerdictReason = "home page searched for the policy link: none found"
	var target string
	for _, l := range links {
		if docKey(l.URL) != docKey(h.cfg.URL) {
			target = l.URL
			rec.VerdictReason = fmt.Sprintf("home page searched for the policy link: %q → %s", l.Text, l.URL)
			break
		}
	}
	if _, err := h.db.RecordCapture(ctx, store.RecordInput{Capture: rec, Body: m.Body}); err != nil {
		return "", err
	}
	return target, nil
}

// fetch is one counted playback request.
func (h *history) fetch(ctx context.Context, ts, u string) (*crawler.Memento, error) {
	m, err := h.archive.Fetch(ctx, ts, u)
	h.out.Fetched++
	h.report(h.prog.Phase)
	return m, err
}

func (h *history) fetchProblem(err error, c crawler.Capture) error {
	if fatal(err) {
		return fmt.Errorf("fetch capture %s: %w", c.Timestamp, err)
	}
	h.logger.Warn("captured redirect could not be played back", "timestamp", c.Timestamp, "err", err)
	return nil
}

// captureOf is the store row of a fetched memento.
func (h *history) captureOf(c crawler.Capture, m *crawler.Memento) store.Capture {
	return store.Capture{
		VendorID: h.vendor.ID, Timestamp: c.Timestamp, Original: c.Original, URLKey: c.URLKey, MimeType: c.MimeType,
		CDXStatus: c.StatusCode, Digest: c.Digest, Length: c.Length, Extractor: h.cfg.Fingerprint(),
		Fetched: true, HTTPStatus: m.Status, MementoTimestamp: m.Timestamp, MementoOriginal: m.Original,
		ContentType: m.Header.Get("Content-Type"), Headers: m.Header, Truncated: m.Truncated,
	}
}

// docKey is a URL's identity as a document: the archive's urlkey rules in
// short (scheme, "www.", case, trailing slash and fragment ignored).
func docKey(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return strings.ToLower(raw)
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	path := strings.TrimSuffix(strings.ToLower(u.EscapedPath()), "/")
	if u.RawQuery != "" {
		path += "?" + strings.ToLower(u.RawQuery)
	}
	return host + path
}

func (m *Monitor) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}
