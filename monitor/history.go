package monitor

import (
	"context"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/snapshot"
	"github.com/policywatch/policywatch/store"
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
	URL        string  `json:"url"`          // URL of its first capture
	First      string  `json:"first_seen"`   // timestamp of its first capture
	Last       string  `json:"last_seen"`    // and of its last
	Captures   int     `json:"captures"`     // captures carrying it, inferred ones included
	StatedDate *string `json:"last_updated"` // the date the policy states
}

// History builds a vendor's version history from every capture in the
// range, fetching only the captures that tell something: the ends of the
// range, the captures that bisect a change down to two adjacent captures,
// and enough captures that no two fetched ones are more than MaxGap apart.
// It records exactly as Pass does (one transaction per capture, changes with
// their windows, but no alerts: a backfill is not news) and can be
// interrupted at any point: the next run continues, fetching nothing twice.
func (m *Monitor) History(ctx context.Context, v Vendor, opts HistoryOptions) (res *HistoryResult, err error) {
	res = &HistoryResult{Vendor: v.Name, URL: v.URL, From: opts.From, To: opts.To,
		URLs: []URLSpan{}, Versions: []VersionRef{}, Changes: []ChangeSummary{}}
	defer func() {
		if err != nil {
			err = fmt.Errorf("history of %q: %w", v.Name, err)
			res.Error = err.Error()
		}
	}()
	if opts.MaxGap <= 0 {
		opts.MaxGap = DefaultMaxGap
	}
	for name, ts := range map[string]string{"from": opts.From, "to": opts.To} {
		if ts != "" && !ValidTimestamp(ts) {
			return res, fmt.Errorf("--%s %q: want a date as 1 to 14 digits, e.g. 2015 or 20150601", name, ts)
		}
	}
	site, vendor, logger, _, err := m.prepare(ctx, v, "history")
	if err != nil {
		return res, err
	}

	h := &history{
		pass: &pass{Monitor: m, vendor: vendor, cfg: v, site: site, logger: logger,
			res: &PassResult{Vendor: v.Name, URL: v.URL}, middle: true, quiet: true, docs: map[string]*snapshot.Document{},
			hashes: map[*snapshot.Document]string{}},
		opts: opts,
		out:  res,
		prog: HistoryProgress{Vendor: v.Name, Phase: "listing"},
	}
	defer h.report("done")
	return res, h.run(ctx)
}

// history is the state of one vendor's history run.
type history struct {
	*pass
	opts HistoryOptions
	out  *HistoryResult
	prog HistoryProgress

	groups []*group
	known  map[captureKey]*store.Capture // recorded captures of the vendor
	// pending counts the unresolved intervals, for the estimate.
	pending []interval
}

type captureKey struct{ ts, original string }

// A group is a run of neighbouring playable captures with one digest: the
// same bytes, so one fetch tells the text of all of them.
type group struct {
	rows        []crawler.Capture
	first, last time.Time
	state       groupState
	version     int64
	noBody      bool // fetched and not playable: the other rows cannot reuse a body
	// inferred is set when an earlier run recorded the group as inferred.
	inferred bool
	// visited is set once this run has probed or inferred the group. The
	// bisection chooses among unvisited groups only, so a rerun makes the
	// same choices as the interrupted run and finds them already recorded.
	visited bool
}

type groupState int

const (
	unknown groupState = iota
	textual            // holds a policy text (version)
	bad                // fetched, but not a policy text (error page, blocked, not archived)
)

type interval struct{ lo, hi int }

func (h *history) run(ctx context.Context) error {
	if err := h.loadKnown(ctx); err != nil {
		return err
	}
	rows, err := h.listAll(ctx)
	if err != nil {
		return err
	}

	// Rows that are not captures of a page (redirects, errors) cost nothing:
	// record them as listed. Playable rows are grouped by payload.
	h.report("bisecting")
	var playableRows []crawler.Capture
	for _, c := range rows {
		if playable(c) {
			playableRows = append(playableRows, c)
			continue
		}
		if h.known[captureKey{c.Timestamp, c.Original}] != nil {
			continue
		}
		if _, err := h.process(ctx, c); err != nil {
			return err
		}
		h.out.Skipped++
	}
	h.groups = groupRows(playableRows)
	digests := map[string]bool{}
	for _, g := range h.groups {
		digests[g.rows[0].Digest] = true
	}
	h.out.Distinct = len(digests)
	h.prog.Distinct = h.out.Distinct
	for _, g := range h.groups {
		h.classify(g)
	}

	// The ends of the range: the first and last captures holding a text.
	lo, hi := -1, -1
	for i := range h.groups {
		ok, err := h.probe(ctx, i)
		if err != nil {
			return err
		}
		if ok {
			lo = i
			break
		}
	}
	if lo < 0 {
		h.logger.Warn("no capture in the range holds a policy text", "captures", len(rows))
		if err := h.db.FinishListings(ctx, h.vendor.ID); err != nil {
			return err
		}
		return h.summarise(ctx)
	}
	for i := len(h.groups) - 1; i > lo; i-- {
		ok, err := h.probe(ctx, i)
		if err != nil {
			return err
		}
		if ok {
			hi = i
			break
		}
	}
	if hi >= 0 {
		h.pending = []interval{{lo, hi}}
	}
	for len(h.pending) > 0 {
		iv := h.pending[len(h.pending)-1]
		h.pending = h.pending[:len(h.pending)-1]
		if err := h.solve(ctx, iv); err != nil {
			return err
		}
	}
	if err := h.db.FinishListings(ctx, h.vendor.ID); err != nil {
		return err
	}
	return h.summarise(ctx)
}

// solve works on one interval between two groups that hold a text: it
// either settles it (adjacent groups; or equal texts close enough that the
// captures between are inferred) or splits it at a probed group and pushes
// the halves.
func (h *history) solve(ctx context.Context, iv interval) error {
	lo, hi := h.groups[iv.lo], h.groups[iv.hi]
	inner := h.candidates(iv)
	if len(inner) == 0 {
		return nil // pinned: the change (if any) lies between these two
	}
	equal := lo.version == hi.version
	if equal && hi.first.Sub(lo.last) <= h.opts.MaxGap {
		return h.infer(ctx, iv)
	}
	var order []int
	if equal {
		// Equal texts too far apart: fetch the furthest capture within
		// MaxGap of the old end, so the gaps are covered with the fewest
		// fetches; the nearest one when none is that close.
		target := inner[0]
		for _, i := range inner {
			if h.groups[i].first.Sub(lo.last) <= h.opts.MaxGap {
				target = i
			}
		}
		order = h.byDistance(iv, target)
	} else {
		// Different texts: bisect by position, so that k changes among n
		// payloads cost about k·log2(n/k) fetches.
		mid := inner[len(inner)/2]
		order = h.byDistance(iv, mid)
	}
	for _, i := range order {
		ok, err := h.probe(ctx, i)
		if err != nil {
			return err
		}
		if ok {
			h.push(iv, i)
			return nil
		}
	}
	return nil // every capture between holds no text: the ends are adjacent
}

// push splits iv at i and queues both halves, the earlier one on top.
func (h *history) push(iv interval, i int) {
	h.pending = append(h.pending, interval{i, iv.hi}, interval{iv.lo, i})
}

// candidates lists the groups strictly inside iv not visited yet.
func (h *history) candidates(iv interval) []int {
	var out []int
	for i := iv.lo + 1; i < iv.hi; i++ {
		if !h.groups[i].visited {
			out = append(out, i)
		}
	}
	return out
}

// byDistance orders the unvisited groups inside iv by distance from target.
func (h *history) byDistance(iv interval, target int) []int {
	out := h.candidates(iv)
	sort.SliceStable(out, func(a, b int) bool {
		da, db := out[a]-target, out[b]-target
		if da < 0 {
			da = -da
		}
		if db < 0 {
			db = -db
		}
		return da < db
	})
	return out
}

// probe fetches (or reuses) one group's first capture and records all of
// its captures. It reports whether the group holds a text. A group an
// earlier run recorded costs nothing.
func (h *history) probe(ctx context.Context, i int) (bool, error) {
	g := h.groups[i]
	g.visited = true
	if g.state != unknown {
		return g.state == textual, h.complete(ctx, g)
	}
	if g.inferred {
		// An earlier run (over another range) assumed this group's text;
		// now it is needed as evidence, so it is fetched after all.
		if err := h.forget(ctx, g); err != nil {
			return false, err
		}
	}
	c := g.rows[0]
	fetchedBefore := h.res.Fetched
	rec, err := h.process(ctx, c)
	if err != nil {
		return false, err
	}
	h.out.Fetched += h.res.Fetched - fetchedBefore
	h.tally(rec)
	switch {
	case rec.Version != nil:
		g.state, g.version = textual, rec.Version.ID
	default:
		g.state = bad
		g.noBody = rec.Capture.BodySHA256 == ""
	}
	h.known[captureKey{c.Timestamp, c.Original}] = rec.Capture
	h.report("bisecting")
	return g.state == textual, h.complete(ctx, g)
}

// complete records the group's captures not recorded yet. They share the
// probed capture's payload, so nothing is fetched: their body is reused by
// digest. A group whose probe could not be played back at all is recorded
// as such without asking the archive again for each of its captures.
func (h *history) complete(ctx context.Context, g *group) error {
	for _, c := range g.rows {
		k := captureKey{c.Timestamp, c.Original}
		if h.known[k] != nil {
			continue
		}
		var rec *store.RecordResult
		var err error
		if g.noBody {
			rec, err = h.db.RecordCapture(ctx, store.RecordInput{Capture: store.Capture{
				VendorID: h.vendor.ID, Timestamp: c.Timestamp, Original: c.Original, URLKey: c.URLKey, MimeType: c.MimeType,
				CDXStatus: c.StatusCode, Digest: c.Digest, Length: c.Length, Extractor: h.cfg.Fingerprint(),
				Verdict: store.VerdictFetchError, VerdictReason: "not fetched: a capture with the same digest could not be played back",
			}})
			h.out.Skipped++
		} else {
			fetchedBefore := h.res.Fetched
			rec, err = h.process(ctx, c)
			if err == nil {
				h.out.Fetched += h.res.Fetched - fetchedBefore
				h.tally(rec)
			}
		}
		if err != nil {
			return err
		}
		h.known[k] = rec.Capture
		h.report("bisecting")
	}
	return nil
}

// tally counts what one recorded capture was.
func (h *history) tally(rec *store.RecordResult) {
	switch {
	case rec.Duplicate:
	case rec.Version == nil:
		h.out.Skipped++
	case !rec.Capture.Fetched:
		h.out.Reused++
	}
}

// infer records the unknown groups between two groups with the same text as
// carrying that text, without fetching them.
func (h *history) infer(ctx context.Context, iv interval) error {
	lo, hi := h.groups[iv.lo], h.groups[iv.hi]
	var caps []store.Capture
	for _, i := range h.candidates(iv) {
		h.groups[i].visited = true
		for _, c := range h.groups[i].rows {
			if h.known[captureKey{c.Timestamp, c.Original}] != nil {
				continue
			}
			caps = append(caps, store.Capture{VendorID: h.vendor.ID, Timestamp: c.Timestamp, Original: c.Original,
				URLKey: c.URLKey, MimeType: c.MimeType, CDXStatus: c.StatusCode, Digest: c.Digest, Length: c.Length})
		}
	}
	reason := fmt.Sprintf("not fetched: the captures of %s and %s on either side hold the same text, and are less than %s apart",
		lo.rows[len(lo.rows)-1].Timestamp, hi.rows[0].Timestamp, days(h.opts.MaxGap))
	n, err := h.db.RecordInferred(ctx, h.vendor.ID, lo.version, h.cfg.Fingerprint(), reason, caps)
	if err != nil {
		return err
	}
	h.out.Inferred += n
	for _, c := range caps {
		c := c
		c.Verdict = store.VerdictInferred
		h.known[captureKey{c.Timestamp, c.Original}] = &c
	}
	h.report("bisecting")
	return nil
}

// classify sets a group's state from what earlier runs (or fetch) recorded.
func (h *history) classify(g *group) {
	for _, c := range g.rows {
		rec := h.known[captureKey{c.Timestamp, c.Original}]
		if rec != nil && rec.Verdict == store.VerdictInferred {
			g.inferred = true
		}
		if rec == nil || rec.Verdict == store.VerdictInferred || rec.Verdict == store.VerdictNotFetched {
			continue
		}
		if rec.VersionID != 0 {
			g.state, g.version = textual, rec.VersionID
			return
		}
		g.state = bad
		g.noBody = rec.BodySHA256 == ""
	}
}

// loadKnown reads the vendor's recorded captures, so that a rerun knows
// what it has already fetched.
func (h *history) loadKnown(ctx context.Context) error {
	caps, err := h.db.Captures(ctx, h.vendor.ID)
	if err != nil {
		return err
	}
	h.known = make(map[captureKey]*store.Capture, len(caps))
	for _, c := range caps {
		h.known[captureKey{c.Timestamp, c.Original}] = c
		if c.Verdict != store.VerdictInferred && c.Verdict != store.VerdictNotFetched {
			h.out.Resumed = h.out.Resumed || h.inRange(c.Timestamp)
		}
	}
	return nil
}

func (h *history) inRange(ts string) bool {
	return (h.opts.From == "" || ts >= pad(h.opts.From, false)) && (h.opts.To == "" || ts <= pad(h.opts.To, true))
}

// groupRows groups neighbouring playable rows with the same digest.
func groupRows(rows []crawler.Capture) []*group {
	var out []*group
	for _, c := range rows {
		t := parseTS(c.Timestamp)
		if n := len(out); n > 0 && out[n-1].rows[0].Digest == c.Digest && c.Digest != "" && c.Digest != "-" {
			g := out[n-1]
			g.rows = append(g.rows, c)
			g.last = t
			continue
		}
		out = append(out, &group{rows: []crawler.Capture{c}, first: t, last: t})
	}
	return out
}

// reassess corrects the flip-back kind of the vendor's changes. Captures
// are recorded out of order, so whether a change returns to a text seen
// before was not always known when it was recorded.
func (h *history) reassess(ctx context.Context) error {
	caps, err := h.db.Captures(ctx, h.vendor.ID)
	if err != nil {
		return err
	}
	changes, err := h.db.Changes(ctx, h.vendor.ID, store.CauseArchive)
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	next := 0
	for _, ch := range changes {
		for ; next < len(caps) && caps[next].Timestamp <= ch.OldCapture.Timestamp; next++ {
			seen[caps[next].VersionID] = true
		}
		flip := seen[ch.ToVersionID]
		if flip == slices.Contains(ch.Kinds, diffing.KindFlipBack) {
			continue
		}
		from, err := h.db.VersionByID(ctx, ch.FromVersionID)
		if err != nil {
			return err
		}
		to, err := h.db.VersionByID(ctx, ch.ToVersionID)
		if err != nil {
			return err
		}
		d := diffing.CompareWith(from.Document(), to.Document(), diffing.Options{Terms: h.Terms, FlipBack: flip})
		if err := h.db.UpdateChangeReport(ctx, ch, &d); err != nil {
			return err
		}
	}
	return nil
}

// summarise fills the result with the vendor's versions and changes in the
// range, as stored.
func (h *history) summarise(ctx context.Context) error {
	if err := h.reassess(ctx); err != nil {
		return err
	}
	versions, err := h.db.Versions(ctx, h.vendor.ID)
	if err != nil {
		return err
	}
	for _, v := range versions {
		if v.First == nil || v.Last == nil || !h.overlaps(v.First.Timestamp, v.Last.Timestamp) {
			continue
		}
		h.out.Versions = append(h.out.Versions, VersionRef{SHA256: v.SHA256, URL: v.First.Original,
			First: v.First.Timestamp, Last: v.Last.Timestamp, Captures: v.Captures, StatedDate: optional(v.StatedDate)})
	}
	changes, err := h.db.Changes(ctx, h.vendor.ID, store.CauseArchive)
	if err != nil {
		return err
	}
	for _, ch := range changes {
		if h.inRange(ch.NewCapture.Timestamp) {
			h.out.Changes = append(h.out.Changes, summarise(ch))
		}
	}
	h.prog.Versions, h.prog.Changes = len(h.out.Versions), len(h.out.Changes)
	return nil
}

func (h *history) overlaps(first, last string) bool {
	return (h.opts.To == "" || first <= pad(h.opts.To, true)) && (h.opts.From == "" || last >= pad(h.opts.From, false))
}

// report sends the counters to the progress callback.
func (h *history) report(phase string) {
	h.prog.Phase = phase
	h.prog.Fetched, h.prog.Reused = h.out.Fetched, h.out.Reused
	h.prog.Listed = h.out.Listed
	if h.groups != nil {
		versions := map[int64]bool{}
		changes := 0
		var last int64
		for _, g := range h.groups {
			if g.state != textual {
				continue
			}
			versions[g.version] = true
			if last != 0 && g.version != last {
				changes++
			}
			last = g.version
		}
		h.prog.Versions, h.prog.Changes = len(versions), changes
	}
	h.prog.Remaining = h.remaining()
	if phase == "done" {
		h.prog.Remaining = 0
	}
	if h.opts.Progress != nil {
		h.opts.Progress(h.prog)
	}
}

// remaining estimates the fetches still needed: log2 of the unknown groups
// of each interval whose ends differ, and one per MaxGap of each whose ends
// are equal but far apart.
func (h *history) remaining() int {
	n := 0
	for _, iv := range h.pending {
		inner := len(h.candidates(iv))
		if inner == 0 {
			continue
		}
		lo, hi := h.groups[iv.lo], h.groups[iv.hi]
		if lo.version != hi.version {
			n += bits.Len(uint(inner))
		} else if gap := hi.first.Sub(lo.last); gap > h.opts.MaxGap {
			n += min(inner, int(gap/h.opts.MaxGap))
		}
	}
	return n
}

func parseTS(ts string) time.Time {
	t, err := time.Parse("20060102150405", pad(ts, false))
	if err != nil {
		return time.Time{}
	}
	return t
}

// pad completes a 1–14 digit timestamp as the start (or, with upper, the
// end) of the period it names.
func pad(ts string, upper bool) string {
	if len(ts) >= 14 {
		return ts[:14]
	}
	if upper {
		return ts + "99991231235959"[len(ts):]
	}
	return ts + "00000101000000"[len(ts):]
}

// ValidTimestamp reports whether ts is a Wayback date of 1 to 14 digits
// naming a real moment (2015, 201506, 20150601, … 20150601123000).
func ValidTimestamp(ts string) bool {
	if len(ts) == 0 || len(ts) > 14 || strings.Trim(ts, "0123456789") != "" {
		return false
	}
	return !parseTS(ts).IsZero()
}

func days(d time.Duration) string {
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// forget removes the inferred rows of a group so that it can be probed.
func (h *history) forget(ctx context.Context, g *group) error {
	var caps []store.Capture
	for _, c := range g.rows {
		k := captureKey{c.Timestamp, c.Original}
		if rec := h.known[k]; rec != nil && rec.Verdict == store.VerdictInferred {
			caps = append(caps, store.Capture{Timestamp: c.Timestamp, Original: c.Original})
			delete(h.known, k)
		}
	}
	g.inferred = false
	return h.db.ForgetInferred(ctx, h.vendor.ID, caps)
}
