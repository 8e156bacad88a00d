// Package monitor is the pipeline that ties policywatch together: for each
// vendor it lists the captures the archive has, fetches the ones it needs,
// extracts their text, compares it with the previous version and records the
// result, one transaction per capture. It parses no HTML and writes no SQL of
// its own: those belong to snapshot and store.
package monitor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/snapshot"
	"github.com/policywatch/policywatch/store"
)

// Archive is the part of the Wayback client the pipeline uses.
type Archive interface {
	List(ctx context.Context, url string, opts crawler.ListOptions) ([]crawler.Capture, error)
	ListPage(ctx context.Context, url string, opts crawler.ListOptions, resumeKey string) ([]crawler.Capture, string, error)
	Fetch(ctx context.Context, timestamp, url string) (*crawler.Memento, error)
}

// Vendor is one policy document to watch, as configured.
type Vendor struct {
	Name string
	URL  string
	// Options say where the policy is on the page, for pages where automatic
	// content selection goes wrong.
	Options snapshot.Options
}

// Fingerprint names the extraction a vendor's texts are made with: the
// extractor version and the vendor's selectors. Text made under another
// fingerprint is re-extracted before new captures are compared with it.
func (v Vendor) Fingerprint() string {
	if len(v.Options.Select) == 0 && len(v.Options.Remove) == 0 {
		return snapshot.ExtractorVersion
	}
	b, _ := json.Marshal(v.Options)
	sum := sha256.Sum256(b)
	return snapshot.ExtractorVersion + "+" + hex.EncodeToString(sum[:6])
}

// Monitor runs passes. It is safe for concurrent use on different vendors;
// two passes over one vendor at once are refused by the store (ErrConflict).
type Monitor struct {
	db      *store.DB
	archive Archive
	logger  *slog.Logger

	// BaselineTries is how many of the newest captures a first pass may try
	// before giving up on finding one that holds a policy text.
	BaselineTries int

	// Terms are the key terms that make a change severe; nil means
	// diffing.DefaultTerms.
	Terms []diffing.Term

	// Route names the alert channels a vendor's change goes to (none when
	// nil). Their alerts are written to the outbox with the change, in one
	// transaction, so a recorded change always gets its alerts.
	Route func(vendor string, ch diffing.Change) []string

	// Now is the clock (time.Now when nil): history's open-ended range ends now.
	Now func() time.Time
}

// New returns a Monitor.
func New(db *store.DB, archive Archive, logger *slog.Logger) *Monitor {
	if logger == nil {
		logger = slog.Default()
	}
	return &Monitor{db: db, archive: archive, logger: logger, BaselineTries: 3}
}

// PassResult summarises one vendor's pass. Its JSON form is what
// `policywatch fetch --json` prints: keep the names stable.
type PassResult struct {
	Vendor          string           `json:"vendor"`
	URL             string           `json:"url"`
	FirstRun        bool             `json:"first_run"`
	Reextracted     *ReextractReport `json:"reextracted,omitempty"`
	Listed          int              `json:"captures_listed"`
	New             int              `json:"captures_new"`
	Fetched         int              `json:"captures_fetched"`
	Reused          int              `json:"bodies_reused"`
	NotVersions     int              `json:"captures_not_versions"`
	NewVersions     int              `json:"versions_new"`
	Alerts          int              `json:"alerts_queued"`
	Changes         []ChangeSummary  `json:"changes"`
	LatestTimestamp string           `json:"latest_timestamp,omitempty"`
	Error           string           `json:"error,omitempty"`
}

// ChangeSummary is one change found during a pass, with its window.
type ChangeSummary struct {
	OldTimestamp  string   `json:"old_timestamp"`
	NewTimestamp  string   `json:"new_timestamp"`
	OldWaybackURL string   `json:"old_wayback_url"`
	NewWaybackURL string   `json:"new_wayback_url"`
	OldStatedDate *string  `json:"old_last_updated"`
	NewStatedDate *string  `json:"new_last_updated"`
	TextChanged   bool     `json:"text_changed"`
	DateChanged   bool     `json:"date_changed"`
	LinesAdded    int      `json:"lines_added"`
	LinesRemoved  int      `json:"lines_removed"`
	Kinds         []string `json:"kinds"`
	Severity      string   `json:"severity"`
	Clauses       int      `json:"clauses_changed"`
}

// Run does one pass per vendor, in order. A vendor whose pass fails is
// reported in its result and the others still run, except when the archive
// itself is unreachable or keeps rate-limiting us, or ctx is cancelled: then
// the remaining vendors are not attempted. The returned error joins every
// vendor's failure; what was stored before a failure stays stored.
func (m *Monitor) Run(ctx context.Context, vendors []Vendor) ([]*PassResult, error) {
	var results []*PassResult
	var errs []error
	for _, v := range vendors {
		res, err := m.Pass(ctx, v)
		results = append(results, res)
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil || errors.Is(err, crawler.ErrUnreachable) || errors.Is(err, crawler.ErrRateLimited) {
				break
			}
		}
	}
	return results, errors.Join(errs...)
}

// Pass does one incremental pass over a vendor. On the very first pass it
// records the newest capture as the baseline; later passes process every
// capture newer than the newest one already recorded, oldest first.
func (m *Monitor) Pass(ctx context.Context, v Vendor) (res *PassResult, err error) {
	res = &PassResult{Vendor: v.Name, URL: v.URL, Changes: []ChangeSummary{}}
	var vendor *store.Vendor
	defer func() {
		if err != nil {
			err = fmt.Errorf("vendor %q: %w", v.Name, err)
			res.Error = err.Error()
		}
		if vendor != nil {
			m.recordOutcome(ctx, vendor, err)
		}
	}()
	site, vendor, logger, reextracted, err := m.prepare(ctx, v, "pass")
	if err != nil {
		return res, err
	}
	res.Reextracted = reextracted

	var opts crawler.ListOptions
	last, err := m.db.LatestCapture(ctx, vendor.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		res.FirstRun = true
	case err != nil:
		return res, err
	default:
		opts.From = last.Timestamp
		res.LatestTimestamp = last.Timestamp
	}

	caps, err := m.archive.List(ctx, v.URL, opts)
	if err != nil {
		return res, fmt.Errorf("list captures of %s: %w", v.URL, err)
	}
	if !res.FirstRun {
		// History may have followed the policy to another URL (a captured
		// redirect, a discovered link): keep watching it there too.
		_, latest, err := m.db.VersionAt(ctx, vendor.ID, "99991231235959")
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return res, err
		}
		if latest != nil && docKey(latest.Original) != docKey(v.URL) {
			more, err := m.archive.List(ctx, latest.Original, opts)
			if err != nil {
				return res, fmt.Errorf("list captures of %s: %w", latest.Original, err)
			}
			caps = append(caps, more...)
			sort.SliceStable(caps, func(i, j int) bool { return caps[i].Timestamp < caps[j].Timestamp })
		}
	}
	res.Listed = len(caps)

	p := &pass{Monitor: m, vendor: vendor, cfg: v, site: site, res: res, logger: logger}
	if res.FirstRun {
		return res, p.baseline(ctx, caps)
	}
	for _, c := range caps {
		if c.Timestamp < last.Timestamp {
			continue
		}
		seen, err := m.db.HasCapture(ctx, vendor.ID, c.Timestamp, c.Original)
		if err != nil {
			return res, err
		}
		if seen {
			continue
		}
		res.New++
		if _, err := p.process(ctx, c); err != nil {
			return res, err
		}
	}
	return res, nil
}

// recordOutcome stores how a pass ended, for the dashboard's health column.
// It runs even when ctx was cancelled (an interrupted pass is worth
// showing), and a failure to record is logged, not returned: the pass's own
// outcome matters more.
func (m *Monitor) recordOutcome(ctx context.Context, vendor *store.Vendor, passErr error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := m.db.RecordPassOutcome(ctx, vendor.ID, m.now(), passErr); err != nil {
		m.logger.Warn("could not record the pass outcome", "vendor", vendor.Name, "err", err)
	}
}

// prepare does what a pass and a history share before they start: the
// vendor's site name and row, a logger, and the re-extraction of stored
// captures whose text was made another way — or the first new capture would
// be reported as the vendor's change.
func (m *Monitor) prepare(ctx context.Context, v Vendor, what string) (string, *store.Vendor, *slog.Logger, *ReextractReport, error) {
	site, err := siteOf(v.URL)
	if err != nil {
		return "", nil, nil, nil, err
	}
	vendor, err := m.db.EnsureVendor(ctx, v.Name, v.URL)
	if err != nil {
		return "", nil, nil, nil, err
	}
	logger := m.logger.With("vendor", v.Name)
	stale, err := m.db.NeedsReextract(ctx, vendor.ID, v.Fingerprint())
	if err != nil {
		return "", nil, nil, nil, err
	}
	var rep *ReextractReport
	if stale {
		logger.Info("stored captures were extracted differently; re-extracting before the "+what, "extractor", v.Fingerprint())
		if rep, err = m.Reextract(ctx, v); err != nil {
			return "", nil, nil, nil, err
		}
	}
	return site, vendor, logger, rep, nil
}

// pass holds the state of one vendor's pass.
type pass struct {
	*Monitor
	vendor *store.Vendor
	cfg    Vendor
	site   string
	res    *PassResult
	logger *slog.Logger

	// middle is set by history, which records captures between stored ones.
	middle bool
	// quiet records changes without alerts: a backfill of years of history
	// is not news.
	quiet bool
	// docs caches extractions by body SHA-256: captures that share a payload
	// share its text, and history records many of them. (Links in the text
	// point at the capture extracted first; text identity ignores that.)
	docs map[string]*snapshot.Document
	// hashes caches the text identity of the cached documents.
	hashes map[*snapshot.Document]string
}

// hash returns the text identity of doc, once per cached document.
func (p *pass) hash(doc *snapshot.Document) string {
	if h, ok := p.hashes[doc]; ok {
		return h
	}
	h := snapshot.Hash(doc.Markdown())
	if p.hashes != nil {
		p.hashes[doc] = h
	}
	return h
}

// extract runs the extractor over a capture's body, once per distinct body.
// body is nil for a capture that reuses the stored body bodySHA; the
// stored bytes are then read only when the text is not cached.
func (p *pass) extract(ctx context.Context, body []byte, bodySHA string, c crawler.Capture, contentType string) (*snapshot.Document, error) {
	var key string
	if p.docs != nil {
		if bodySHA == "" {
			bodySHA = store.SHA256(body)
		}
		key = bodySHA + "\x00" + contentType
		if d, ok := p.docs[key]; ok {
			return d, nil
		}
	}
	if body == nil {
		var err error
		if body, err = p.db.Body(ctx, bodySHA); err != nil {
			return nil, err
		}
	}
	src := snapshot.Source{Site: p.site, URL: c.Original, Timestamp: c.Timestamp, ContentType: contentType}
	doc, err := snapshot.ExtractWith(body, src, p.cfg.Options)
	if err == nil && p.docs != nil {
		p.docs[key] = doc
	}
	return doc, err
}

// baseline records the newest capture that holds a policy text, trying at most
// BaselineTries of the newest playable captures.
func (p *pass) baseline(ctx context.Context, caps []crawler.Capture) error {
	tries := 0
	for i := len(caps) - 1; i >= 0 && tries < p.BaselineTries; i-- {
		c := caps[i]
		if !playable(c) {
			continue
		}
		tries++
		p.res.New++
		rec, err := p.process(ctx, c)
		if err != nil {
			return err
		}
		if rec != nil && rec.Version != nil {
			return nil
		}
	}
	if len(caps) == 0 {
		p.logger.Warn("the archive has no captures of this URL yet", "url", p.vendor.URL)
	} else {
		p.logger.Warn("no recent capture holds a policy text; the next pass tries newer captures", "tried", tries)
	}
	return nil
}

// playable reports whether a CDX row is worth a playback request: a 2xx
// capture, or a revisit record (same payload as an earlier 2xx capture).
func playable(c crawler.Capture) bool {
	return c.IsRevisit() || strings.HasPrefix(c.StatusCode, "2")
}

// fatal reports whether a fetch error means the archive, not this one
// capture, is in trouble, so the pass must stop (and a rerun will retry).
func fatal(err error) bool {
	return !errors.Is(err, crawler.ErrNotArchived) && !errors.Is(err, crawler.ErrRedirectLoop)
}

// process fetches (or reuses), extracts and records one capture.
func (p *pass) process(ctx context.Context, c crawler.Capture) (*store.RecordResult, error) {
	rec := store.Capture{
		VendorID:  p.vendor.ID,
		Timestamp: c.Timestamp,
		Original:  c.Original,
		URLKey:    c.URLKey,
		MimeType:  c.MimeType,
		CDXStatus: c.StatusCode,
		Digest:    c.Digest,
		Length:    c.Length,
		Extractor: p.cfg.Fingerprint(),
	}
	if !playable(c) {
		rec.Verdict = store.VerdictNotFetched
		rec.VerdictReason = "archived status " + c.StatusCode
		p.res.NotVersions++
		return p.db.RecordCapture(ctx, store.RecordInput{Capture: rec})
	}

	// body stays nil for a reused capture: its stored bytes are only read
	// when its text is not already known.
	var body []byte
	reused, err := p.reuse(ctx, c, &rec)
	if err != nil {
		return nil, err
	}
	if reused {
		p.res.Reused++
	} else {
		mem, err := p.archive.Fetch(ctx, c.Timestamp, c.Original)
		if err != nil {
			if fatal(err) {
				return nil, fmt.Errorf("fetch capture %s: %w", c.Timestamp, err)
			}
			rec.Verdict = store.VerdictFetchError
			rec.VerdictReason = err.Error()
			p.res.NotVersions++
			p.logger.Warn("capture listed but not playable", "timestamp", c.Timestamp, "err", err)
			return p.db.RecordCapture(ctx, store.RecordInput{Capture: rec})
		}
		p.res.Fetched++
		rec.Fetched = true
		rec.HTTPStatus = mem.Status
		rec.MementoTimestamp = mem.Timestamp
		rec.MementoOriginal = mem.Original
		rec.ContentType = mem.Header.Get("Content-Type")
		rec.Headers = mem.Header
		rec.Truncated = mem.Truncated
		body = mem.Body
		if mem.Status < 200 || mem.Status > 299 {
			rec.Verdict = store.VerdictNotOK
			rec.VerdictReason = "archived status " + strconv.Itoa(mem.Status)
			p.res.NotVersions++
			return p.db.RecordCapture(ctx, store.RecordInput{Capture: rec, Body: body})
		}
		if mem.Truncated {
			rec.Verdict = store.VerdictTruncated
			rec.VerdictReason = fmt.Sprintf("body cut at %d bytes (wayback.max_body_size); not trusted as a version", len(body))
			p.res.NotVersions++
			return p.db.RecordCapture(ctx, store.RecordInput{Capture: rec, Body: body})
		}
	}

	doc, err := p.extract(ctx, body, rec.BodySHA256, c, rec.ContentType)
	if err != nil {
		rec.Verdict = string(snapshot.VerdictUnsupported)
		rec.VerdictReason = err.Error()
		p.res.NotVersions++
		return p.db.RecordCapture(ctx, store.RecordInput{Capture: rec, Body: body})
	}
	rec.Charset = doc.Charset
	rec.Verdict = string(doc.Quality.Verdict)
	rec.VerdictReason = doc.Quality.Reason
	in := store.RecordInput{Capture: rec, Body: body, Document: doc}
	if !doc.Quality.OK() {
		p.res.NotVersions++
		p.logger.Info("capture is not a policy text", "timestamp", c.Timestamp, "verdict", doc.Quality.Verdict, "reason", doc.Quality.Reason)
		return p.db.RecordCapture(ctx, in)
	}

	hash := p.hash(doc)
	prev, prevCap, err := p.db.VersionBefore(ctx, p.vendor.ID, c.Timestamp)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if prev != nil {
		in.PrevVersionID = prev.ID
		if prev.SHA256 != hash {
			seen, err := p.db.SeenText(ctx, p.vendor.ID, hash)
			if err != nil {
				return nil, err
			}
			ch := diffing.CompareWith(prev.Document(), doc, diffing.Options{Terms: p.Terms, FlipBack: seen})
			in.Change = &ch
			if !p.quiet {
				if in.Alerts, err = p.alerts(prev, prevCap, &rec, doc, ch); err != nil {
					return nil, err
				}
			}
		}
	}
	if p.middle {
		// History records captures between stored ones: the text must also
		// be compared with the version that follows.
		next, _, err := p.db.VersionAfter(ctx, p.vendor.ID, c.Timestamp)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if next != nil {
			in.NextVersionID = next.ID
			if next.SHA256 != hash {
				ch := diffing.CompareWith(doc, next.Document(), diffing.Options{Terms: p.Terms})
				in.NextChange = &ch
			}
		}
	}
	out, err := p.db.RecordCapture(ctx, in)
	if err != nil {
		return nil, err
	}
	if out.NewVersion {
		p.res.NewVersions++
	}
	if out.Change != nil {
		p.res.Alerts += len(out.Alerts)
		s := summarise(out.Change)
		p.res.Changes = append(p.res.Changes, s)
		p.logger.Info("policy changed", "old_timestamp", s.OldTimestamp, "new_timestamp", s.NewTimestamp,
			"kinds", strings.Join(out.Change.Kinds, ","), "severity", out.Change.SeverityLevel,
			"old_last_updated", out.Change.OldStatedDate, "new_last_updated", out.Change.NewStatedDate,
			"lines_added", s.LinesAdded, "lines_removed", s.LinesRemoved)
	}
	return out, nil
}

// alerts builds the outbox rows for a change: one per routed channel, each
// carrying the report as it stands at detection (later re-extractions do
// not rewrite what was alerted).
func (p *pass) alerts(prev *store.Version, prevCap, cur *store.Capture, doc *snapshot.Document, ch diffing.Change) ([]store.Alert, error) {
	if p.Route == nil {
		return nil, nil
	}
	channels := p.Route(p.cfg.Name, ch)
	if len(channels) == 0 {
		return nil, nil
	}
	rep := diffing.Report{
		SchemaVersion: diffing.ReportSchemaVersion,
		Vendor:        p.cfg.Name,
		URL:           p.cfg.URL,
		Old:           diffing.Side{Timestamp: prev.First.Timestamp, WaybackURL: prev.First.WaybackURL(), StatedDate: prev.StatedDate},
		New:           diffing.Side{Timestamp: cur.Timestamp, WaybackURL: cur.WaybackURL(), StatedDate: doc.StatedDate},
		Window: &diffing.Window{
			LastOld:  diffing.CaptureRef{Timestamp: prevCap.Timestamp, WaybackURL: prevCap.WaybackURL()},
			FirstNew: diffing.CaptureRef{Timestamp: cur.Timestamp, WaybackURL: cur.WaybackURL()},
		},
		Change: ch,
	}
	payload, err := json.Marshal(rep)
	if err != nil {
		return nil, fmt.Errorf("alert payload: %w", err)
	}
	out := make([]store.Alert, 0, len(channels))
	for _, c := range channels {
		out = append(out, store.Alert{Channel: c, Payload: payload})
	}
	return out, nil
}

// reuse looks for a stored body with the capture's digest, so that a capture
// whose payload we already hold costs no playback request. It points rec at
// the earlier capture's body and reports whether one matched.
func (p *pass) reuse(ctx context.Context, c crawler.Capture, rec *store.Capture) (bool, error) {
	earlier, err := p.db.CaptureByDigest(ctx, c.Digest)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	rec.BodySHA256 = earlier.BodySHA256
	rec.HTTPStatus = earlier.HTTPStatus
	rec.ContentType = earlier.ContentType
	return true, nil
}

func summarise(ch *store.Change) ChangeSummary {
	return ChangeSummary{
		OldTimestamp:  ch.OldCapture.Timestamp,
		NewTimestamp:  ch.NewCapture.Timestamp,
		OldWaybackURL: ch.OldCapture.WaybackURL(),
		NewWaybackURL: ch.NewCapture.WaybackURL(),
		OldStatedDate: optional(ch.OldStatedDate),
		NewStatedDate: optional(ch.NewStatedDate),
		TextChanged:   ch.TextChanged,
		DateChanged:   ch.DateChanged,
		LinesAdded:    ch.LinesAdded,
		LinesRemoved:  ch.LinesRemoved,
		Kinds:         append([]string{}, ch.Kinds...),
		Severity:      ch.SeverityLevel,
		Clauses:       clauseCount(ch.Report),
	}
}

func clauseCount(r *diffing.Change) int {
	if r == nil {
		return 0
	}
	return len(r.Clauses)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// siteOf returns the site name used in provenance lines: the URL's host
// without "www.", as the Princeton-Leuven dataset names its sites.
func siteOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("vendor url %q: want an absolute http(s) URL", raw)
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www."), nil
}
