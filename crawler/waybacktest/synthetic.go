package waybacktest

import (
	"crypto/sha1"
	"encoding/base32"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// SyntheticSpec describes a made-up archive history of one policy page.
type SyntheticSpec struct {
	URL      string    // the policy URL
	Start    time.Time // first capture (UTC, whole seconds); zero means 2006-01-01
	Years    int       // span, e.g. 20; zero means 20
	Captures int       // CDX rows, e.g. 2000
	Digests  int       // distinct payloads among the 2xx captures, e.g. 400
	// Changes is the number of real text changes, e.g. 15. From two changes
	// on, one of them is reverted RevertDays later (the revert counts as a
	// change too).
	Changes int
	// RevertDays is about how long the reverted text lasts; zero picks 30 to
	// 54 days (shorter than history's default max gap, so only luck or a
	// smaller max gap finds it). The window around the reverted text is kept
	// under RevertDays + 31 days (90 days when zero).
	RevertDays int
	// Flapping is the number of captures in A/B-test stretches: two page
	// templates alternating with the same policy text (different bytes,
	// different digests).
	Flapping int
	// Blocked is the number of captures that are listed but cannot be played
	// back usefully: soft error pages served with 200 (the site's own
	// "Service Unavailable", the archive's "internal error" page), archived
	// 403 and 503 statuses, and a few rows whose playback is the archive's
	// "has not archived that URL" page. (The fake plays back every row it
	// lists, so a row that is not archived is a 200 memento of that page
	// rather than a 404 without Memento-Datetime.)
	Blocked int
	Seed    int64
}

// SyntheticHistory is the generated history and its ground truth. Nothing in
// it comes from the extractor: waybacktest does not import snapshot, so the
// truth is the generator's own bookkeeping (synthetic_test.go checks it
// against snapshot.Extract).
type SyntheticHistory struct {
	Captures []Capture         // add with Server.Add; oldest first, timestamps unique
	Texts    []string          // the distinct policy texts in order of appearance (version i)
	Windows  []SyntheticWindow // every real text change, oldest first
	Naive    int               // distinct digests among playable 2xx captures: what fetching every digest costs

	// Edits names each change (same index as Windows), for messages:
	// "typo fix (one word)", "revert of browsing data shared with
	// advertising partners" …
	Edits []string

	// Truth says, for each capture (same index as Captures), what it is.
	Truth []SyntheticTruth
}

// SyntheticWindow is one text change: the 14-digit timestamps of the last
// capture with the old text and of the first with the new one (blocked and
// error captures in between are ignored).
type SyntheticWindow struct{ LastOld, FirstNew string }

// SyntheticTruth is the ground truth of one synthetic capture.
type SyntheticTruth struct {
	// Version indexes SyntheticHistory.Texts; -1 for a blocked capture.
	Version int
	// Template names the page template: "legacy", "classic", "modern" or
	// "modern-b" (the A/B-test variant); "" for a blocked capture.
	Template string
	// Flapping is true for captures inside an A/B-test stretch.
	Flapping bool
	// Blocked names the kind of a blocked capture ("soft-503",
	// "wayback-error", "not-archived", "status-403", "status-503"), "" for
	// a capture that holds the policy.
	Blocked string
	// Digest is the CDX digest the fake archive lists for the capture.
	Digest string
}

// Kinds of blocked captures.
const (
	blockedSoft503     = "soft-503"      // the site's "Service Unavailable" page, archived with status 200
	blockedWayback     = "wayback-error" // the archive's "snapshot cannot be displayed" page inside a 200 capture
	blockedNotArchived = "not-archived"  // the archive's "has not archived that URL" page inside a 200 capture
	blockedStatus403   = "status-403"    // an archived 403 (bot wall / access denied)
	blockedStatus503   = "status-503"    // an archived 503 (maintenance)
)

// AcceptanceSpec is the history of the history benchmark's target: 2,000
// captures over 20 years (2006–2025), 400 distinct digests, 15 real text
// changes, A/B flapping and blocked captures.
func AcceptanceSpec() SyntheticSpec {
	return SyntheticSpec{
		URL:      "https://www.example-vendor.com/privacy",
		Start:    time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC),
		Years:    20,
		Captures: 2000,
		Digests:  400,
		Changes:  15,
		Flapping: 60,
		Blocked:  80,
		Seed:     1,
	}
}

// revertMaxGap bounds the time from the last capture before a change to the
// first capture after its revert.
const revertMaxGap = 85 * 24 * time.Hour

// revertMaxGap is the spec's bound on the reverted stretch.
func (g *synthGen) revertMaxGap() time.Duration {
	if g.spec.RevertDays > 0 {
		return time.Duration(g.spec.RevertDays+31) * 24 * time.Hour
	}
	return revertMaxGap
}

// Synthetic generates a made-up archive history of one policy page: a
// multi-year run of captures, sparse early and dense later, of a page whose
// text changes spec.Changes times, with realistic page templates around the
// policy, byte-level noise that changes the digest but not the text, A/B-test
// stretches and blocked captures. The same spec always gives the same
// history.
func Synthetic(spec SyntheticSpec) (*SyntheticHistory, error) {
	g, err := newSynthGen(spec)
	if err != nil {
		return nil, fmt.Errorf("synthetic: %w", err)
	}
	h, err := g.run()
	if err != nil {
		return nil, fmt.Errorf("synthetic: %w", err)
	}
	return h, nil
}

// synthGen holds the state of one generation.
type synthGen struct {
	spec    SyntheticSpec
	r       *rand.Rand
	u       *url.URL
	host    string // host without "www."
	company string
	start   time.Time
	end     time.Time

	times   []time.Time
	changes []int // index of the first capture of segment j+1 (before blocking is considered)
	revert  int   // the change that is reverted by the next one; -1 for none
	minSeg  int

	seg      []int    // segment of each capture
	flap     []bool   // capture inside an A/B stretch
	blocked  []string // blocked kind or ""
	template []string // template of each capture
	era      []int    // era of each segment
}

func newSynthGen(spec SyntheticSpec) (*synthGen, error) {
	if spec.Start.IsZero() {
		spec.Start = time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if spec.Years == 0 {
		spec.Years = 20
	}
	u, err := url.Parse(spec.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("URL %q: want an absolute http(s) URL", spec.URL)
	}
	switch {
	case spec.Years < 1:
		return nil, errors.New("spec.Years must be positive")
	case spec.Captures < 1:
		return nil, errors.New("spec.Captures must be positive")
	case spec.Changes < 0 || spec.Flapping < 0 || spec.Blocked < 0:
		return nil, errors.New("spec.Changes, Flapping and Blocked must not be negative")
	case spec.Flapping+spec.Blocked >= spec.Captures:
		return nil, fmt.Errorf("spec.Flapping (%d) + Blocked (%d) leave no plain captures of %d", spec.Flapping, spec.Blocked, spec.Captures)
	case spec.Digests < spec.Changes+1:
		return nil, fmt.Errorf("spec.Digests (%d) must be at least Changes+1 (%d): every version has its own bytes", spec.Digests, spec.Changes+1)
	}
	host := strings.ToLower(u.Hostname())
	host = strings.TrimPrefix(host, "www.")
	start := spec.Start.UTC().Truncate(time.Second)
	return &synthGen{
		spec:    spec,
		r:       rand.New(rand.NewPCG(uint64(spec.Seed), 0x706f6c6963790a)),
		u:       u,
		host:    host,
		company: companyName(host),
		start:   start,
		end:     start.AddDate(spec.Years, 0, 0),
		revert:  -1,
	}, nil
}

func (g *synthGen) run() (*SyntheticHistory, error) {
	n := g.spec.Captures
	g.genTimes()
	if err := g.placeChanges(); err != nil {
		return nil, err
	}
	g.seg = make([]int, n)
	for i, j := 0, 0; i < n; i++ {
		for j < len(g.changes) && g.changes[j] <= i {
			j++
		}
		g.seg[i] = j
	}
	g.assignEras()
	g.flap = make([]bool, n)
	g.blocked = make([]string, n)
	g.template = make([]string, n)
	if err := g.placeFlapping(); err != nil {
		return nil, err
	}
	if err := g.placeBlocked(); err != nil {
		return nil, err
	}
	windows, lastOld, firstNew := g.windows()
	if g.revert >= 0 {
		gap := g.times[firstNew[g.revert+1]].Sub(g.times[lastOld[g.revert]])
		if gap >= g.revertMaxGap() {
			return nil, fmt.Errorf("the change and its revert span %v (want < %v); give more captures", gap.Round(time.Hour), g.revertMaxGap())
		}
	}
	docs, edits := g.documents(lastOld, firstNew)
	h, err := g.render(docs, windows)
	if err != nil {
		return nil, err
	}
	h.Edits = edits
	return h, nil
}

// genTimes draws the capture times: a mixture of a uniform spread and a
// density growing with the square of time (crawls became much more frequent
// over the years), plus bursts of captures within hours of each other.
func (g *synthGen) genTimes() {
	n := g.spec.Captures
	span := g.end.Sub(g.start)
	ts := make([]time.Time, 0, n)
	for len(ts) < n {
		if len(ts) > 10 && g.r.Float64() < 0.15 {
			base := ts[g.r.IntN(len(ts))]
			t := base.Add(time.Duration(g.r.Int64N(int64(36 * time.Hour))))
			if t.Before(g.end) {
				ts = append(ts, t)
			}
			continue
		}
		u := g.r.Float64()
		frac := u
		if g.r.Float64() >= 0.12 {
			frac = math.Cbrt(u)
		}
		frac = math.Min(frac, 0.9995)
		ts = append(ts, g.start.Add(time.Duration(frac*float64(span))))
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	ts[0] = g.start // the first capture opens the span
	for i := range ts {
		ts[i] = ts[i].Truncate(time.Second)
		if i > 0 && !ts[i].After(ts[i-1]) {
			ts[i] = ts[i-1].Add(time.Duration(1+g.r.IntN(900)) * time.Second)
		}
	}
	g.times = ts
}

// firstAtOrAfter returns the index of the first capture at or after t.
func (g *synthGen) firstAtOrAfter(t time.Time) int {
	return sort.Search(len(g.times), func(i int) bool { return !g.times[i].Before(t) })
}

// placeChanges spreads the changes over the span in time (so the early
// sparse years get changes too) with at least minSeg captures per segment,
// and puts one change and its revert less than 90 days apart.
func (g *synthGen) placeChanges() error {
	n, c := g.spec.Captures, g.spec.Changes
	g.minSeg = min(8, max(2, n/(c+1)/4))
	if n < (c+1)*g.minSeg {
		return fmt.Errorf("%d captures cannot hold %d changes with %d captures per version", n, c, g.minSeg)
	}
	if c == 0 {
		return nil
	}
	span := g.end.Sub(g.start)
	base := make([]int, c)
	for j := range base {
		f := (float64(j) + 0.75 + 0.5*g.r.Float64()) / float64(c+1)
		base[j] = g.firstAtOrAfter(g.start.Add(time.Duration(f * float64(span))))
	}
	if c < 2 {
		g.changes = g.spread(base, -1, 0)
		if g.changes == nil {
			return errors.New("cannot place the change")
		}
		return nil
	}
	// The revert pair goes about two thirds in, where captures are dense;
	// if that fails, any other place.
	pref := min(c-2, 2*c/3)
	order := []int{pref}
	for d := 1; d < c; d++ {
		for _, k := range []int{pref + d, pref - d} {
			if k >= 0 && k <= c-2 {
				order = append(order, k)
			}
		}
	}
	gapDays := 30 + g.r.IntN(25)
	if g.spec.RevertDays > 0 {
		gapDays = g.spec.RevertDays
	}
	for _, ra := range order {
		if pos := g.spread(base, ra, gapDays); pos != nil {
			g.changes, g.revert = pos, ra
			return nil
		}
	}
	// Sparse histories: move the reverted change to where captures are
	// close enough together, as near its planned place as possible.
	for _, ra := range order {
		target := append([]int(nil), base...)
		for d := 1; d < n; d++ {
			for _, p := range []int{base[ra] - d, base[ra] + d} {
				if p < 1 || p >= n {
					continue
				}
				target[ra] = p
				if pos := g.spread(target, ra, gapDays); pos != nil {
					g.changes, g.revert = pos, ra
					return nil
				}
			}
		}
	}
	return fmt.Errorf("no place for a change and its revert within %v with %d captures per version; give more captures", g.revertMaxGap(), g.minSeg)
}

// spread enforces minSeg captures per segment on the target positions and,
// when ra >= 0, moves change ra+1 gapDays after change ra. It returns nil
// when the constraints cannot be met.
func (g *synthGen) spread(target []int, ra, gapDays int) []int {
	n, m := len(g.times), g.minSeg
	pos := append([]int(nil), target...)
	fix := func() {
		for j := range pos {
			lo := m
			if j > 0 {
				lo = pos[j-1] + m
			}
			pos[j] = max(pos[j], lo)
		}
		for j := len(pos) - 1; j >= 0; j-- {
			hi := n - m
			if j < len(pos)-1 {
				hi = pos[j+1] - m
			}
			pos[j] = min(pos[j], hi)
		}
	}
	fix()
	// The reverted text may be short-lived: it needs revertMinSeg captures,
	// not minSeg.
	segMin := func(j int) int {
		if ra >= 0 && j == ra+1 {
			return min(m, revertMinSeg)
		}
		return m
	}
	if ra >= 0 {
		// The revert comes about gapDays after the change, and the captures
		// right before the change and at the revert (never blocked, see
		// placeBlocked) are less than revertMaxGap apart.
		before := g.times[pos[ra]-1]
		want := g.firstAtOrAfter(g.times[pos[ra]].Add(time.Duration(gapDays) * 24 * time.Hour))
		last := g.firstAtOrAfter(before.Add(g.revertMaxGap())) - 1
		pos[ra+1] = min(max(want, pos[ra]+segMin(ra+1)), last)
		for j := ra + 2; j < len(pos); j++ {
			pos[j] = max(pos[j], pos[j-1]+m)
		}
	}
	for j := range pos {
		lo := m
		if j > 0 {
			lo = pos[j-1] + segMin(j)
		}
		if pos[j] < lo || pos[j] > n-m*(len(pos)-j) {
			return nil
		}
	}
	return pos
}

// revertMinSeg is the fewest captures the reverted text has.
const revertMinSeg = 3

// Templates (eras of the site's design) and the A/B-test variant.
const (
	tmplLegacy  = "legacy"   // 2000s table layout
	tmplClassic = "classic"  // 2010s div layout
	tmplModern  = "modern"   // semantic HTML5
	tmplModernB = "modern-b" // the A/B-test variant of the modern design
)

var eraTemplates = []string{tmplLegacy, tmplClassic, tmplModern}

// assignEras gives each segment a design era by the time its first capture
// was made. Redesigns happen with a text change, never inside a version; the
// reverted text comes back in the design it had.
func (g *synthGen) assignEras() {
	nseg := len(g.changes) + 1
	g.era = make([]int, nseg)
	span := float64(g.end.Sub(g.start))
	for s := range g.era {
		first := 0
		if s > 0 {
			first = g.changes[s-1]
		}
		f := float64(g.times[first].Sub(g.start)) / span
		switch {
		case f < 0.3:
			g.era[s] = 0
		case f < 0.6:
			g.era[s] = 1
		default:
			g.era[s] = 2
		}
		if s > 0 {
			g.era[s] = max(g.era[s], g.era[s-1])
		}
	}
	if g.revert >= 0 {
		e := g.era[g.revert]
		g.era[g.revert+1], g.era[g.revert+2] = e, e
		for s := g.revert + 3; s < nseg; s++ {
			g.era[s] = max(g.era[s], e)
		}
	}
}

// segBounds returns the capture index range [lo, hi) of segment s.
func (g *synthGen) segBounds(s int) (lo, hi int) {
	hi = len(g.times)
	if s > 0 {
		lo = g.changes[s-1]
	}
	if s < len(g.changes) {
		hi = g.changes[s]
	}
	return lo, hi
}

// placeFlapping puts spec.Flapping captures into a few A/B-test stretches,
// each inside one version (preferably of the modern design, when A/B tests
// became common), away from the version's ends.
func (g *synthGen) placeFlapping() error {
	f := g.spec.Flapping
	for i := range g.template {
		g.template[i] = eraTemplates[g.era[g.seg[i]]]
	}
	if f == 0 {
		return nil
	}
	nStretch := max(1, min(4, f/10))
	lens := make([]int, nStretch)
	for i := range lens {
		lens[i] = f / nStretch
	}
	for i := 0; i < f%nStretch; i++ {
		lens[i]++
	}
	const margin = 2
	for _, l := range lens {
		placed := false
		for _, modernOnly := range []bool{true, false} {
			var cands []int
			for s := range g.era {
				if g.revert >= 0 && s == g.revert+1 {
					continue
				}
				if modernOnly && g.era[s] != 2 {
					continue
				}
				lo, hi := g.segBounds(s)
				if hi-lo >= l+2*margin {
					cands = append(cands, s)
				}
			}
			for try := 0; try < 50 && len(cands) > 0 && !placed; try++ {
				s := cands[g.r.IntN(len(cands))]
				lo, hi := g.segBounds(s)
				at := lo + margin + g.r.IntN(hi-lo-2*margin-l+1)
				free := true
				for i := at - 1; i <= at+l; i++ {
					if i >= 0 && i < len(g.flap) && g.flap[i] {
						free = false
					}
				}
				if !free {
					continue
				}
				for i := at; i < at+l; i++ {
					g.flap[i] = true
					if g.r.IntN(2) == 0 {
						g.template[i] = tmplModernB
					}
				}
				// Both templates show up, and they alternate at least once.
				g.template[at] = eraTemplates[g.era[s]]
				g.template[at+l-1] = tmplModernB
				placed = true
			}
			if placed {
				break
			}
		}
		if !placed {
			return fmt.Errorf("no room for an A/B stretch of %d captures; lower Flapping or raise Captures", l)
		}
	}
	return nil
}

// placeBlocked marks spec.Blocked captures outside the A/B stretches as
// blocked, some singly and some in runs (an outage captured several times),
// two of them right at a change window, while every version keeps captures
// that show it.
func (g *synthGen) placeBlocked() error {
	b := g.spec.Blocked
	if b == 0 {
		return nil
	}
	kinds := blockedKinds(b)
	g.r.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })

	n := len(g.times)
	keep := make([]int, len(g.changes)+1) // plain captures each segment still has
	for i := range g.times {
		if !g.flap[i] {
			keep[g.seg[i]]++
		}
	}
	protected := make([]bool, n)
	if g.revert >= 0 {
		protected[g.changes[g.revert]-1] = true
		protected[g.changes[g.revert+1]] = true
	}
	minKeep := max(1, g.minSeg/2)
	can := func(i int) bool {
		return i >= 0 && i < n && !g.flap[i] && !protected[i] && g.blocked[i] == "" && keep[g.seg[i]] > minKeep
	}
	mark := func(i int, kind string) {
		g.blocked[i] = kind
		g.template[i] = ""
		keep[g.seg[i]]--
	}

	next := 0
	// One blocked capture where the first new text would be, one right
	// before the last old one: windows must skip them.
	if len(g.changes) > 2 && next < len(kinds) && can(g.changes[2]) {
		mark(g.changes[2], kinds[next])
		next++
	}
	if len(g.changes) > 5 && next < len(kinds) && can(g.changes[5]-1) {
		mark(g.changes[5]-1, kinds[next])
		next++
	}
	for tries := 0; next < len(kinds) && tries < 100*n; tries++ {
		i := g.r.IntN(n)
		if !can(i) {
			continue
		}
		run := 1
		if g.r.Float64() < 0.3 {
			run = 2 + g.r.IntN(3)
		}
		for k := 0; k < run && next < len(kinds) && can(i+k); k++ {
			mark(i+k, kinds[next])
			if k < run-1 {
				// An outage shows the same page several times in a row:
				// bring another capture of this kind forward.
				for j := next + 2; j < len(kinds); j++ {
					if kinds[j] == kinds[next] {
						kinds[next+1], kinds[j] = kinds[j], kinds[next+1]
						break
					}
				}
			}
			next++
		}
	}
	if next < len(kinds) {
		return fmt.Errorf("placed only %d of %d blocked captures; lower Blocked or raise Captures", next, len(kinds))
	}
	return nil
}

// blockedKinds returns b kinds of blocked captures in realistic proportions,
// each kind present once b allows it.
func blockedKinds(b int) []string {
	order := []string{blockedSoft503, blockedStatus403, blockedNotArchived, blockedStatus503, blockedWayback}
	weights := map[string]float64{blockedSoft503: 0.45, blockedStatus403: 0.2, blockedStatus503: 0.15, blockedNotArchived: 0.1, blockedWayback: 0.1}
	count := map[string]int{}
	total := 0
	for _, k := range order {
		count[k] = int(float64(b) * weights[k])
		if count[k] == 0 && total < b {
			count[k] = 1
		}
		total += count[k]
	}
	for total > b {
		for i := len(order) - 1; i >= 0 && total > b; i-- {
			if count[order[i]] > 0 {
				count[order[i]]--
				total--
			}
		}
	}
	count[blockedSoft503] += b - total
	var out []string
	for _, k := range order {
		for range count[k] {
			out = append(out, k)
		}
	}
	return out
}

// windows computes the ground-truth windows: for each change, the last
// unblocked capture before it and the first unblocked capture from it on.
func (g *synthGen) windows() (ws []SyntheticWindow, lastOld, firstNew []int) {
	for _, at := range g.changes {
		lo := at - 1
		for lo >= 0 && g.blocked[lo] != "" {
			lo--
		}
		hi := at
		for hi < len(g.times) && g.blocked[hi] != "" {
			hi++
		}
		lastOld = append(lastOld, lo)
		firstNew = append(firstNew, hi)
		ws = append(ws, SyntheticWindow{LastOld: g.times[lo].Format(tsLayout), FirstNew: g.times[hi].Format(tsLayout)})
	}
	return ws, lastOld, firstNew
}

// documents builds the policy of every segment: the first one, then one
// edit per change, the revert restoring the text from before the change it
// undoes. The stated date moves to a day inside the change's window, except
// for the edits real sites make silently.
func (g *synthGen) documents(lastOld, firstNew []int) (docs []*policyDoc, edits []string) {
	first := g.times[0]
	doc := basePolicy(g.company, g.host)
	doc.date = first.AddDate(0, 0, -(60 + g.r.IntN(300))).Truncate(24 * time.Hour)
	docs = []*policyDoc{doc}
	ops := policyEdits(g.host)
	next := 0
	extra := 0
	for j := range g.changes {
		prev := docs[len(docs)-1]
		if g.revert >= 0 && j == g.revert+1 {
			docs = append(docs, docs[g.revert])
			edits = append(edits, "revert of "+adSharingEdit.name)
			continue
		}
		d := prev.clone()
		var op policyEdit
		switch {
		case g.revert >= 0 && j == g.revert:
			op = adSharingEdit
		case next < len(ops):
			op = ops[next]
			next++
		default:
			extra++
			op = ticketRetentionEdit(extra)
		}
		op.apply(d)
		edits = append(edits, op.name)
		if !op.silent {
			lo, hi := g.times[lastOld[j]], g.times[firstNew[j]]
			day := lo.Add(time.Duration((0.4 + 0.6*g.r.Float64()) * float64(hi.Sub(lo)))).Truncate(24 * time.Hour)
			if !day.After(prev.date) {
				day = prev.date.AddDate(0, 0, 1)
			}
			d.date = day
		}
		docs = append(docs, d)
	}
	return docs, edits
}

// render writes every capture's bytes and the ground truth.
func (g *synthGen) render(docs []*policyDoc, windows []SyntheticWindow) (*SyntheticHistory, error) {
	n := len(g.times)
	h := &SyntheticHistory{Windows: windows, Truth: make([]SyntheticTruth, n)}

	// Versions in order of appearance; a reverted text is the old version.
	texts := map[string]int{}
	segVersion := make([]int, len(docs))
	for s, d := range docs {
		t := d.text()
		v, ok := texts[t]
		if !ok {
			v = len(h.Texts)
			texts[t] = v
			h.Texts = append(h.Texts, t)
		}
		segVersion[s] = v
	}

	// Blocked pages have fixed bytes; the 2xx ones use part of the digest
	// budget.
	soft := map[string]bool{}
	for _, k := range g.blocked {
		if k == blockedSoft503 || k == blockedWayback || k == blockedNotArchived {
			soft[k] = true
		}
	}
	budget := g.spec.Digests - len(soft)

	// A stream is the captures of one version in one template (the same
	// text can come back after a revert: that is another stream, with other
	// bytes). Each stream is cut into runs of identical bytes, so that the
	// number of runs is the digest budget.
	type streamKey struct {
		seg  int
		tmpl string
	}
	streams := map[streamKey][]int{}
	var keys []streamKey
	for i := range g.times {
		if g.blocked[i] != "" {
			continue
		}
		k := streamKey{g.seg[i], g.template[i]}
		if _, ok := streams[k]; !ok {
			keys = append(keys, k)
		}
		streams[k] = append(streams[k], i)
	}
	var gaps [][2]int // (stream, position after which a new run starts)
	for si, k := range keys {
		for p := 1; p < len(streams[k]); p++ {
			gaps = append(gaps, [2]int{si, p})
		}
	}
	splits := budget - len(keys)
	if splits < 0 || splits > len(gaps) {
		return nil, fmt.Errorf("spec.Digests %d cannot be met: the %d policy captures fall into %d version/template streams and %d kinds of soft error pages (want between %d and %d digests)",
			g.spec.Digests, n-g.spec.Blocked, len(keys), len(soft), len(keys)+len(soft), len(keys)+len(soft)+len(gaps))
	}
	g.r.Shuffle(len(gaps), func(i, j int) { gaps[i], gaps[j] = gaps[j], gaps[i] })
	cut := map[[2]int]bool{}
	for _, gp := range gaps[:splits] {
		cut[gp] = true
	}
	run := make([]int, n) // run id of each policy capture
	runs := 0
	for si, k := range keys {
		for p, i := range streams[k] {
			if p == 0 || cut[[2]int{si, p}] {
				runs++
			}
			run[i] = runs - 1
		}
	}

	bodies := make(map[int][]byte, runs)
	for i, t := range g.times {
		ts := t.Format(tsLayout)
		orig := g.original(t)
		var c Capture
		tr := SyntheticTruth{Version: -1, Blocked: g.blocked[i]}
		if kind := g.blocked[i]; kind != "" {
			c = blockedCapture(kind, ts, orig, g.company)
		} else {
			body, ok := bodies[run[i]]
			if !ok {
				// The bytes of a run are those served when its first capture
				// was made: that capture's time names the run's noise.
				body = g.page(docs[g.seg[i]], g.template[i], g.era[g.seg[i]], t, run[i])
				bodies[run[i]] = body
			}
			c = Capture{Timestamp: ts, URL: orig, Status: http.StatusOK, Header: pageHeader(g.template[i]), Body: body}
			tr.Version = segVersion[g.seg[i]]
			tr.Template = g.template[i]
			tr.Flapping = g.flap[i]
		}
		tr.Digest = digestOf(c.Body)
		h.Captures = append(h.Captures, c)
		h.Truth[i] = tr
	}

	// Self-check the bookkeeping against the spec.
	distinct := map[string]bool{}
	flapping, blocked := 0, 0
	for i, c := range h.Captures {
		if c.Status >= 200 && c.Status < 300 {
			distinct[h.Truth[i].Digest] = true
		}
		if h.Truth[i].Flapping {
			flapping++
		}
		if h.Truth[i].Blocked != "" {
			blocked++
		}
		if i > 0 && c.Timestamp <= h.Captures[i-1].Timestamp {
			return nil, fmt.Errorf("bug: timestamps not increasing at %d", i)
		}
	}
	h.Naive = len(distinct)
	switch {
	case len(h.Captures) != g.spec.Captures:
		return nil, fmt.Errorf("bug: %d captures, want %d", len(h.Captures), g.spec.Captures)
	case h.Naive != g.spec.Digests:
		return nil, fmt.Errorf("bug: %d distinct 2xx digests, want %d", h.Naive, g.spec.Digests)
	case flapping != g.spec.Flapping || blocked != g.spec.Blocked:
		return nil, fmt.Errorf("bug: %d flapping and %d blocked captures, want %d and %d", flapping, blocked, g.spec.Flapping, g.spec.Blocked)
	case len(h.Windows) != g.spec.Changes:
		return nil, fmt.Errorf("bug: %d windows, want %d", len(h.Windows), g.spec.Changes)
	}
	return h, nil
}

// original is the URL as captured at t: http in the early years and https
// later, now and then without (or with) "www.", as crawlers found it.
func (g *synthGen) original(t time.Time) string {
	scheme := "https"
	if float64(t.Sub(g.start)) < 0.4*float64(g.end.Sub(g.start)) {
		scheme = "http"
	}
	host := g.u.Host
	if g.r.Float64() < 0.04 {
		if strings.HasPrefix(strings.ToLower(host), "www.") {
			host = host[4:]
		} else {
			host = "www." + host
		}
	}
	u := *g.u
	u.Scheme, u.Host = scheme, host
	return u.String()
}

func digestOf(b []byte) string {
	sum := sha1.Sum(b)
	return base32.StdEncoding.EncodeToString(sum[:])
}

// companyName makes "Example Vendor" of "example-vendor.com".
func companyName(host string) string {
	name := host
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	words := strings.FieldsFunc(name, func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	if len(words) == 0 {
		return "Example"
	}
	return strings.Join(words, " ")
}

// policyDoc is the policy text of one version, before it is put in a page.
type policyDoc struct {
	date     time.Time
	intro    []policyPara
	sections []policySection
}

type policySection struct {
	key   string // stable name the edits refer to
	title string
	paras []policyPara
}

// policyPara is a paragraph, or a bulleted list when items is set. Text may
// hold links written [label](href).
type policyPara struct {
	text  string
	items []string
}

func (d *policyDoc) clone() *policyDoc {
	c := &policyDoc{date: d.date, intro: append([]policyPara(nil), d.intro...)}
	for _, s := range d.sections {
		s.paras = append([]policyPara(nil), s.paras...)
		for i, p := range s.paras {
			s.paras[i].items = append([]string(nil), p.items...)
		}
		c.sections = append(c.sections, s)
	}
	return c
}

func (d *policyDoc) section(key string) *policySection {
	for i := range d.sections {
		if d.sections[i].key == key {
			return &d.sections[i]
		}
	}
	panic("waybacktest: synthetic policy has no section " + key)
}

// replace swaps old for new in the one paragraph or item of section key that
// holds it; the edits are fixed, so a miss is a bug in them.
func (d *policyDoc) replace(key, old, new string) {
	s := d.section(key)
	for i := range s.paras {
		p := &s.paras[i]
		if strings.Contains(p.text, old) {
			p.text = strings.Replace(p.text, old, new, 1)
			return
		}
		for j := range p.items {
			if strings.Contains(p.items[j], old) {
				p.items[j] = strings.Replace(p.items[j], old, new, 1)
				return
			}
		}
	}
	panic(fmt.Sprintf("waybacktest: synthetic policy section %s has no %q", key, old))
}

// insertSection puts s after the section named after.
func (d *policyDoc) insertSection(after string, s policySection) {
	for i := range d.sections {
		if d.sections[i].key == after {
			d.sections = append(d.sections[:i+1], append([]policySection{s}, d.sections[i+1:]...)...)
			return
		}
	}
	panic("waybacktest: synthetic policy has no section " + after)
}

func statedDate(t time.Time) string { return t.Format("January 2, 2006") }

// text is the version's plain text: what a reader sees of the policy.
func (d *policyDoc) text() string {
	var b strings.Builder
	b.WriteString("Privacy Policy\n\nLast updated: " + statedDate(d.date) + "\n")
	para := func(p policyPara) {
		b.WriteString("\n")
		if p.items == nil {
			b.WriteString(plainLinks(p.text) + "\n")
			return
		}
		for _, it := range p.items {
			b.WriteString("- " + plainLinks(it) + "\n")
		}
	}
	for _, p := range d.intro {
		para(p)
	}
	for i, s := range d.sections {
		fmt.Fprintf(&b, "\n%d. %s\n", i+1, s.title)
		for _, p := range s.paras {
			para(p)
		}
	}
	return b.String()
}

// words counts the words of the version's text.
func (d *policyDoc) words() int { return len(strings.Fields(d.text())) }

// splitLinks cuts text at its [label](href) links: even elements are text,
// odd ones "label\x00href".
func splitLinks(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "[")
		j := strings.Index(s, "](")
		if i < 0 || j < i {
			return append(out, s)
		}
		k := strings.Index(s[j:], ")")
		if k < 0 {
			return append(out, s)
		}
		out = append(out, s[:i], s[i+1:j]+"\x00"+s[j+2:j+k])
		s = s[j+k+1:]
	}
}

func plainLinks(s string) string {
	var b strings.Builder
	for i, part := range splitLinks(s) {
		if i%2 == 1 {
			part, _, _ = strings.Cut(part, "\x00")
		}
		b.WriteString(part)
	}
	return b.String()
}

// htmlText escapes text for HTML and turns its links into anchors.
func htmlText(s string) string {
	var b strings.Builder
	for i, part := range splitLinks(s) {
		if i%2 == 0 {
			b.WriteString(htmlEscaper.Replace(part))
			continue
		}
		label, href, _ := strings.Cut(part, "\x00")
		fmt.Fprintf(&b, `<a href="%s">%s</a>`, htmlEscaper.Replace(href), htmlEscaper.Replace(label))
	}
	return b.String()
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// basePolicy is the first version: about 2,000 words in eleven numbered
// sections, with a typo that a later edit fixes.
func basePolicy(company, host string) *policyDoc {
	r := strings.NewReplacer("{C}", company, "{H}", host, "{E}", "privacy@"+host)
	p := func(s string) policyPara { return policyPara{text: r.Replace(s)} }
	list := func(items ...string) policyPara {
		for i := range items {
			items[i] = r.Replace(items[i])
		}
		return policyPara{items: items}
	}
	return &policyDoc{
		intro: []policyPara{
			p(`{C} ("{C}", "we", "us" or "our") respects your privacy. This Privacy Policy explains what personal information we collect when you visit {H}, use our websites, mobile applications and hosted software (together, the "Services"), how we use and share that information, and the choices you have about it.`),
			p(`By using the Services you acknowledge that you have read and understood this Privacy Policy. If you do not agree with it, please do not use the Services. Terms that are capitalised but not defined here have the meaning given to them in our [Terms of Service](/terms).`),
		},
		sections: []policySection{
			{key: "collect", title: "Information We Collect", paras: []policyPara{
				p(`We collect information that you give us directly, information that is collected automatically when you use the Services, and information that we receive from third parties. The kinds of information we collect depend on how you interact with us and which features of the Services you use.`),
				list(
					`Account information, such as your name, e-mail address, password, company name and telephone number, when you register for an account or sign up for a trial.`,
					`Billing information, such as your postal address and payment card details, when you purchase a subscription. Card numbers are handled by our payment processor and are not stored on our servers.`,
					`Content you submit, such as files, messages, comments and support requests, together with the metadata attached to them.`,
					`Usage information, such as the pages you view, the features you use, the links you click and the dates and times of your visits.`,
					`Device information, such as your IP address, browser type and version, operating system, language preferences and device identifiers.`,
				),
				p(`When you contact our support team we keep a record of the conversation, including any attachments you send, so that we can answer your question and recieve feedback on the quality of our responses. If you take part in a survey or a promotion, we collect the answers and the contact details that you provide for that purpose.`),
				p(`If you install the {C} Toolbar, it sends us the addresses of the pages you visit so that it can suggest related content and keep its search box up to date. You can uninstall the Toolbar at any time from the add-ons menu of your browser, after which it no longer sends us any information.`),
				p(`We may also receive information about you from other sources, for example from business partners who resell the Services, from public databases, and from social networks when you choose to connect your account with them. We combine this information with the information we collect directly only where the law allows us to do so.`),
			}},
			{key: "use", title: "How We Use Your Information", paras: []policyPara{
				p(`We use the information we collect to provide, operate and maintain the Services; to create and manage your account; to process your payments and send you invoices; and to respond to your requests, questions and comments.`),
				p(`We also use information to understand how the Services are used, to diagnose technical problems, to develop new products and features, and to improve the quality, safety and performance of what we offer. Where possible we do this with aggregated or de-identified data that can no longer be linked to you.`),
				p(`With your permission, or where the law allows it, we use your contact details to send you newsletters, product announcements and offers that we believe may interest you. You can unsubscribe from these messages at any time by following the link at the bottom of each e-mail or by changing the notification settings of your account.`),
				p(`Finally, we use information to protect the rights, property and safety of {C}, our customers and the public; to detect and prevent fraud, spam and abuse; to enforce our agreements; and to comply with our legal obligations, such as keeping accounting and tax records.`),
			}},
			{key: "cookies", title: "Cookies and Similar Technologies", paras: []policyPara{
				p(`We and our service providers use cookies, web beacons and similar technologies to recognise your browser or device, to remember your preferences, to keep you signed in and to understand how visitors use the Services. A cookie is a small text file that a website stores on your computer or mobile device when you visit it.`),
				p(`Some cookies are strictly necessary for the Services to work, for example the cookies that keep your session secure. Others help us measure traffic, count visits and see which pages are the most and the least popular. The information these cookies collect is aggregated and therefore anonymous.`),
				p(`Most browsers accept cookies automatically, but you can change the settings of your browser to refuse cookies or to alert you when cookies are being sent. If you disable cookies, some parts of the Services may not work properly, and you may have to sign in again each time you visit.`),
			}},
			{key: "share", title: "How We Share Your Information", paras: []policyPara{
				p(`We do not sell or rent your personal information to third parties for their marketing purposes. We share it only in the circumstances described in this section, and only to the extent necessary for the purposes described in this Privacy Policy.`),
				list(
					`With service providers who host our infrastructure, process payments, send e-mail, provide customer support tools or analyse usage on our behalf. They may use your information only to perform services for us and are bound by contractual obligations of confidentiality.`,
					`With our affiliates and subsidiaries, who process information for the purposes described in this Privacy Policy and under the same protections.`,
					`With a buyer or successor if {C} is involved in a merger, acquisition, financing or sale of all or part of its assets. We will notify you before your information becomes subject to a different privacy policy.`,
					`With courts, law enforcement agencies and other public authorities when we believe in good faith that the law requires it, or when it is necessary to protect our rights and the safety of others.`,
				),
				p(`We may share aggregated or de-identified information that cannot reasonably be used to identify you with partners and with the public, for example to report on trends in the use of the Services.`),
			}},
			{key: "links", title: "Third-Party Links and Integrations", paras: []policyPara{
				p(`The Services may contain links to websites and services that are operated by third parties, and they let you connect your account to applications built by others, such as calendars, storage providers and accounting software. When you follow such a link or enable such an integration, the third party may receive information about you, including the fact that you came from the Services.`),
				p(`We do not control these third parties and are not responsible for their privacy practices. Information that you share with them is governed by their own privacy policies, not by this one, so we encourage you to read their policies before you give them any personal information.`),
			}},
			{key: "forums", title: "Community Forums and Public Content", paras: []policyPara{
				p(`The Services include community forums, comment sections and a public directory of customer profiles. Anything you post in these areas, including your name, your photograph and the content of your posts, can be read, collected and used by anyone who visits them.`),
				p(`Please think carefully before you post personal information in a public area. If you want us to remove a post or a profile that contains your personal information, please contact us; in some cases we may not be able to remove it, and we will tell you why.`),
			}},
			{key: "retention", title: "Data Retention", paras: []policyPara{
				p(`We keep personal information for as long as your account is active and for as long as we need it to provide the Services. When you close your account we delete or anonymise your personal information within 90 days, unless we need to keep it longer to comply with our legal obligations, resolve disputes or enforce our agreements.`),
				p(`Server logs that contain IP addresses are kept for 18 months and then deleted. Backups are overwritten on a rolling basis and are normally deleted within 35 days of their creation. Invoices and accounting records are kept for as long as tax law requires, which is usually ten years.`),
			}},
			{key: "security", title: "Security", paras: []policyPara{
				p(`We use administrative, technical and physical safeguards designed to protect your personal information against accidental, unlawful or unauthorised destruction, loss, alteration, access, disclosure or use. Data sent between your browser and the Services is encrypted, and access to production systems is limited to the staff who need it for their work.`),
				p(`No method of transmission over the Internet and no method of electronic storage is completely secure, however. While we strive to protect your personal information, we cannot guarantee its absolute security. If we learn of a security breach that affects your personal information, we will notify you and the competent authorities as the law requires.`),
				p(`You are responsible for keeping your password secret and for the activity on your account. Please choose a strong password that you do not use for other websites, sign out when you use a shared computer, and tell us at once if you believe that someone else has gained access to your account.`),
			}},
			{key: "transfers", title: "International Transfers", paras: []policyPara{
				p(`{C} is based in the United States, and we process and store information on servers located in the United States and in other countries where our service providers operate. These countries may have data protection laws that are different from the laws of your country of residence.`),
				p(`By using the Services you consent to the transfer of your information to the United States and to other countries as described in this Privacy Policy.`),
			}},
			{key: "choices", title: "Your Choices", paras: []policyPara{
				p(`You can review and update the information in your account at any time by signing in and visiting the account settings page. You can also ask us to give you a copy of, correct or delete the personal information that we hold about you by writing to us at the address given below.`),
				p(`We will respond to your request within 30 days. We may need to verify your identity before we act on your request, and we may keep some information where the law requires or allows us to do so, for example to complete a transaction or to comply with a legal obligation.`),
			}},
			{key: "changes", title: "Changes to This Privacy Policy", paras: []policyPara{
				p(`We may update this Privacy Policy from time to time. When we do, we will change the "Last updated" date at the top of this page, and if the changes are material we will notify you by e-mail or by a prominent notice on the Services before they take effect.`),
				p(`We encourage you to review this Privacy Policy regularly to stay informed about our information practices. Your continued use of the Services after an update takes effect means that you accept the revised Privacy Policy.`),
			}},
			{key: "contact", title: "Contact Us", paras: []policyPara{
				p(`If you have any questions about this Privacy Policy or about the way we handle your personal information, please contact us by e-mail at [{E}](mailto:{E}) or by post at the following address:`),
				p(`{C}, Attn: Privacy Team, 100 Main Street, Suite 400, Springfield, IL 62701, United States`),
			}},
		},
	}
}

// policyEdit is one real change to the text.
type policyEdit struct {
	name   string
	silent bool // the site changed the text without moving the "Last updated" date
	apply  func(d *policyDoc)
}

// policyEdits are the changes in the order they happen: typo fixes,
// retention periods, sentences and sections added or removed, the legal
// bases of transfers replaced.
func policyEdits(host string) []policyEdit {
	return []policyEdit{
		{name: "typo fix (one word)", silent: true, apply: func(d *policyDoc) {
			d.replace("collect", "recieve feedback", "receive feedback")
		}},
		{name: "server log retention shortened", apply: func(d *policyDoc) {
			d.replace("retention", "kept for 18 months", "kept for 12 months")
		}},
		{name: "discontinued toolbar paragraph removed", silent: true, apply: func(d *policyDoc) {
			s := d.section("collect")
			for i, p := range s.paras {
				if strings.Contains(p.text, "Toolbar") {
					s.paras = append(s.paras[:i], s.paras[i+1:]...)
					return
				}
			}
			panic("waybacktest: no toolbar paragraph")
		}},
		{name: "analytics sentence added", apply: func(d *policyDoc) {
			d.replace("cookies", "and therefore anonymous.", "and therefore anonymous. We use Google Analytics for this purpose; you can prevent Google Analytics from recognising you on return visits by installing the opt-out browser add-on that Google offers.")
		}},
		{name: "children section added", apply: func(d *policyDoc) {
			d.insertSection("choices", policySection{key: "children", title: "Children's Privacy", paras: []policyPara{
				{text: `The Services are not directed to children under the age of 13, and we do not knowingly collect personal information from children under 13. If we learn that we have collected personal information from a child under 13, we will delete that information as quickly as possible.`},
				{text: `If you believe that a child under 13 has given us personal information, please contact us at the address given below so that we can investigate and take appropriate action.`},
			}})
		}},
		{name: "do-not-track paragraph added", apply: func(d *policyDoc) {
			s := d.section("choices")
			s.paras = append(s.paras, policyPara{text: `Some browsers offer a "Do Not Track" setting that asks websites not to track your activity. Because there is not yet a common industry standard for how to interpret such signals, the Services do not currently respond to Do Not Track signals.`})
		}},
		{name: "postal address changed", apply: func(d *policyDoc) {
			d.replace("contact", "100 Main Street, Suite 400, Springfield, IL 62701", "2500 Harbor Boulevard, Floor 7, Oakland, CA 94607")
		}},
		{name: "Privacy Shield adopted", apply: func(d *policyDoc) {
			d.replace("transfers", "By using the Services you consent to the transfer of your information to the United States and to other countries as described in this Privacy Policy.",
				"When we transfer personal information from the European Economic Area and Switzerland to the United States, we rely on our certification under the EU-U.S. and Swiss-U.S. Privacy Shield Frameworks. We are subject to the investigatory and enforcement powers of the U.S. Federal Trade Commission.")
		}},
		{name: "notice of material changes weakened (one word)", apply: func(d *policyDoc) {
			d.replace("changes", "we will notify you by e-mail", "we may notify you by e-mail")
		}},
		{name: "GDPR rights section added", apply: func(d *policyDoc) {
			d.insertSection("choices", policySection{key: "gdpr", title: "Your Rights in the European Economic Area", paras: []policyPara{
				{text: `If you are in the European Economic Area, the United Kingdom or Switzerland, we process your personal information only where we have a legal basis for doing so. Depending on the circumstances, we rely on one or more of the following legal bases:`},
				{items: []string{
					`the performance of our contract with you, for example to provide the Services you signed up for;`,
					`our legitimate interests, for example in keeping the Services secure and in understanding how they are used, where these interests are not overridden by your rights;`,
					`your consent, for example for marketing e-mails and non-essential cookies, which you may withdraw at any time;`,
					`compliance with a legal obligation, for example to keep accounting records.`,
				}},
				{text: `You have the right to access your personal information, to have it corrected or erased, to restrict or object to its processing, and to receive it in a portable format. Where we process information on the basis of your consent, withdrawing your consent does not affect the lawfulness of processing that took place before you withdrew it.`},
				{text: `To exercise these rights, please contact us using the details below. You also have the right to lodge a complaint with the data protection authority of the country where you live or work, or where you believe an infringement took place.`},
			}})
		}},
		{name: "California section added", apply: func(d *policyDoc) {
			d.insertSection("gdpr", policySection{key: "california", title: "Your California Privacy Rights", paras: []policyPara{
				{text: `If you are a California resident, the California Consumer Privacy Act gives you the right to know which categories and specific pieces of personal information we have collected about you in the past twelve months, to ask us to delete it, and not to be discriminated against for exercising these rights.`},
				{text: `We do not sell personal information as the Act defines it. You may exercise your rights yourself or through an authorised agent by contacting us as described below; we will verify your request by matching the information you give us with the information we hold.`},
			}})
		}},
		{name: "Privacy Shield replaced by Standard Contractual Clauses", apply: func(d *policyDoc) {
			d.replace("transfers", "we rely on our certification under the EU-U.S. and Swiss-U.S. Privacy Shield Frameworks. We are subject to the investigatory and enforcement powers of the U.S. Federal Trade Commission.",
				"we use the Standard Contractual Clauses approved by the European Commission and take additional technical and organisational measures where they are needed to protect the information.")
		}},
		{name: "account deletion period shortened", apply: func(d *policyDoc) {
			d.replace("retention", "personal information within 90 days", "personal information within 30 days")
		}},
		{name: "data protection officer added", apply: func(d *policyDoc) {
			s := d.section("contact")
			s.paras = append(s.paras, policyPara{text: "We have appointed a Data Protection Officer, who can be reached at [dpo@" + host + "](mailto:dpo@" + host + ") for any question about how we protect your personal information."})
		}},
	}
}

// adSharingEdit is the change that is reverted soon after: the site starts
// sharing browsing data with advertisers and takes it back within weeks.
var adSharingEdit = policyEdit{name: "browsing data shared with advertising partners", apply: func(d *policyDoc) {
	d.replace("share", "We do not sell or rent your personal information to third parties for their marketing purposes.",
		"We may share information about your use of the Services, such as device identifiers and the pages you visit, with advertising partners who use it to show you advertisements that are relevant to you on other websites.")
}}

// ticketRetentionEdit is the k-th generic edit, for specs that ask for more
// changes than policyEdits has: the support ticket retention period moves.
func ticketRetentionEdit(k int) policyEdit {
	return policyEdit{name: fmt.Sprintf("support ticket retention %d", k), apply: func(d *policyDoc) {
		s := d.section("retention")
		sentence := fmt.Sprintf("Support tickets are kept for %d months after they are closed.", 6+3*k)
		for i := range s.paras {
			if strings.HasPrefix(s.paras[i].text, "Support tickets are kept for") {
				s.paras[i].text = sentence
				return
			}
		}
		s.paras = append(s.paras, policyPara{text: sentence})
	}}
}

// promos rotate in a block outside the policy, as ad and promo slots do.
var promos = []string{
	"Spring sale: save 20% on every annual plan until the end of the month.",
	"New: the {C} app for iPhone and Android is here.",
	"Join our free webinar on getting started with {C}.",
	"Read the {C} customer report and see how teams like yours work.",
	"We are hiring! See our open positions in engineering and support.",
	"{C} is now available in German, French and Spanish.",
	"Invite a colleague and get a month free.",
	"Our annual user conference is open for registration.",
}

// noise is what changes the bytes of a page between runs without touching
// its text: a promo slot, a CSRF token or nonce, a build hash and a
// "generated at" comment.
type noise struct {
	promo     string
	token     string
	nonce     string
	build     string
	generated time.Time
	server    int
	millis    int
}

func (g *synthGen) noise(t time.Time, run int) noise {
	r := rand.New(rand.NewPCG(uint64(g.spec.Seed), uint64(run)+1))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	str := func(n int, alpha string) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	return noise{
		promo:     strings.ReplaceAll(promos[r.IntN(len(promos))], "{C}", g.company),
		token:     str(43, alphabet),
		nonce:     str(22, alphabet),
		build:     str(10, "0123456789abcdef"),
		generated: t.Add(-time.Duration(r.Int64N(int64(6 * time.Hour)))).Truncate(time.Second),
		server:    1 + r.IntN(12),
		millis:    20 + r.IntN(400),
	}
}

// eraTitles and eraStyles are how each design era titles and marks up the
// policy. The A/B variant keeps its era's title and content markup, as a
// test of a new layout around the same CMS content does, so that both
// variants carry the same text.
var (
	eraTitles = []string{"Privacy Policy - %s", "Privacy Policy | %s", "Privacy Policy | %s"}
	eraStyles = []policyStyle{
		{date: "<p><i>Last updated: %s</i></p>"},
		{date: `<p class="updated">Last updated: %s</p>`},
		{date: `<p class="legal-meta">Last updated: %s</p>`},
	}
)

// page renders one capture's bytes: the policy of the design era in a page
// template.
func (g *synthGen) page(d *policyDoc, tmpl string, era int, t time.Time, run int) []byte {
	nz := g.noise(t, run)
	c := htmlEscaper.Replace(g.company)
	title := htmlEscaper.Replace(fmt.Sprintf(eraTitles[era], g.company))
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	year := t.Year()
	switch tmpl {
	case tmplLegacy:
		w(`<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>%[4]s</title>
<meta name="keywords" content="%[1]s, privacy, policy, personal information" />
<link rel="stylesheet" type="text/css" href="/css/main.css?%[2]s" />
<script type="text/javascript" src="/js/menu.js"></script>
</head>
<body>
<table width="100%%" border="0" cellspacing="0" cellpadding="0" id="page">
<tr><td colspan="2" id="header"><a href="/"><img src="/images/logo.gif" width="180" height="50" alt="%[1]s" border="0" /></a></td></tr>
<tr><td colspan="2" class="top-nav"><a href="/">Home</a> | <a href="/products/">Products</a> | <a href="/download/">Download</a> | <a href="/support/">Support</a> | <a href="/company/">Company</a></td></tr>
<tr>
<td width="180" valign="top" class="left-nav">
<ul>
<li><a href="/company/about.html">About Us</a></li>
<li><a href="/company/news.html">News</a></li>
<li><a href="/company/jobs.html">Jobs</a></li>
<li><a href="/company/contact.html">Contact</a></li>
</ul>
<div class="promo"><b>%[3]s</b> <a href="/promo/">More&raquo;</a></div>
</td>
<td valign="top" class="content">
`, c, nz.build, htmlEscaper.Replace(nz.promo), title)
		g.policyHTML(&b, d, eraStyles[era])
		w(`</td></tr>
<tr><td colspan="2" class="footer">Copyright &copy; 2004-%[2]d %[1]s. All rights reserved.<br />
<a href="/privacy.html">Privacy Policy</a> | <a href="/terms.html">Terms of Use</a> | <a href="/company/contact.html">Contact</a></td></tr>
</table>
<script type="text/javascript">
_uacct = "UA-%[3]d-1";
urchinTracker();
</script>
<!-- served by www%[4]d in 0.%03[5]d seconds at %[6]s -->
</body>
</html>
`, c, year, 100000+len(g.host)*7919, nz.server, nz.millis, nz.generated.Format(time.RFC1123))

	case tmplClassic:
		w(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>%[7]s</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-param" content="authenticity_token">
<meta name="csrf-token" content="%[2]s">
<link href="/assets/application-%[3]s.css" rel="stylesheet" media="all">
<script src="/assets/application-%[3]s.js"></script>
<!-- generated %[4]s by app%[5]d -->
</head>
<body class="legal privacy">
<div id="wrapper">
<div id="header" class="navbar navbar-default">
<div class="container">
<a class="navbar-brand" href="/">%[1]s</a>
<ul class="nav navbar-nav">
<li><a href="/features">Features</a></li>
<li><a href="/pricing">Pricing</a></li>
<li><a href="/customers">Customers</a></li>
<li><a href="/blog">Blog</a></li>
<li><a href="/login">Log in</a></li>
</ul>
</div>
</div>
<div class="promo-bar"><div class="container">%[6]s <a href="/promo">Learn more</a></div></div>
<div id="content" class="container">
<div class="row">
<div class="col-md-9 legal-text">
`, c, nz.token, nz.build, nz.generated.Format("2006-01-02 15:04:05 MST"), nz.server, htmlEscaper.Replace(nz.promo), title)
		g.policyHTML(&b, d, eraStyles[era])
		w(`</div>
<div class="col-md-3 sidebar">
<h4>Legal</h4>
<ul class="list-unstyled">
<li><a href="/terms">Terms of Service</a></li>
<li><a href="/privacy">Privacy Policy</a></li>
<li><a href="/security">Security</a></li>
</ul>
</div>
</div>
</div>
<div id="footer">
<div class="container">
<form action="/newsletter" method="post" class="newsletter"><input type="hidden" name="authenticity_token" value="%[2]s"><input type="email" name="email" placeholder="Your e-mail address"><button type="submit">Subscribe</button></form>
<p>&copy; %[3]d %[1]s, Inc. All rights reserved.</p>
<p><a href="/about">About</a> &middot; <a href="/jobs">Jobs</a> &middot; <a href="/press">Press</a> &middot; <a href="/contact">Contact</a></p>
</div>
</div>
</div>
<script>var _gaq=_gaq||[];_gaq.push(['_setAccount','UA-%[4]d-2']);_gaq.push(['_trackPageview']);</script>
</body>
</html>
`, c, nz.token, year, 200000+len(g.host)*7919)

	case tmplModern:
		w(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>%[6]s</title>
<meta name="csrf-token" content="%[2]s">
<link rel="stylesheet" href="/_next/static/css/%[3]s.css">
<script nonce="%[4]s">window.__BUILD_ID__="%[3]s";window.dataLayer=window.dataLayer||[];</script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
<a class="logo" href="/">%[1]s</a>
<nav aria-label="Main"><ul><li><a href="/product">Product</a></li><li><a href="/solutions">Solutions</a></li><li><a href="/pricing">Pricing</a></li><li><a href="/resources">Resources</a></li></ul></nav>
<a class="button" href="/signup">Start free trial</a>
</header>
<aside class="announcement-bar" aria-label="Announcement"><p>%[5]s <a href="/promo">Read more</a></p></aside>
<main id="main">
<article class="legal-document">
`, c, nz.token, nz.build, nz.nonce, htmlEscaper.Replace(nz.promo), title)
		g.policyHTML(&b, d, eraStyles[era])
		w(`</article>
</main>
<footer class="site-footer">
<ul><li><a href="/about">About</a></li><li><a href="/careers">Careers</a></li><li><a href="/legal/terms">Terms</a></li><li><a href="/privacy">Privacy</a></li><li><a href="/security">Security</a></li></ul>
<p>&copy; %[2]d %[1]s, Inc.</p>
</footer>
<div id="cookie-consent" class="cookie-banner" role="dialog" aria-label="Cookie consent"><p>We use cookies to give you the best experience on our website.</p><button>Accept all</button><button>Reject all</button></div>
<script nonce="%[3]s" src="/_next/static/chunks/main-%[4]s.js" defer></script>
<!-- rendered at %[5]s by edge-%[6]d in %[7]dms -->
</body>
</html>
`, c, year, nz.nonce, nz.build, nz.generated.Format(time.RFC3339), nz.server, nz.millis)

	case tmplModernB:
		w(`<!doctype html>
<html lang="en" data-experiment="legal-v2">
<head>
<meta charset="utf-8">
<title>%[6]s</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="%[2]s">
<link rel="stylesheet" href="/static/v2/legal.%[3]s.css">
<script nonce="%[4]s">window.__EXP__={"legal-v2":"B","build":"%[3]s"};</script>
</head>
<body class="v2 theme-light">
<div class="page">
<div class="topbar" role="banner"><a href="/" class="brand">%[1]s</a> <a href="/product">Product</a> <a href="/pricing">Pricing</a> <a href="/login">Sign in</a></div>
<div class="promo-strip advert" data-slot="legal-top">%[5]s</div>
<div class="legal-layout">
<aside class="legal-toc">
<p class="toc-title">On this page</p>
<ol>
`, c, nz.token, nz.build, nz.nonce, htmlEscaper.Replace(nz.promo), title)
		for i, s := range d.sections {
			w("<li><a href=\"#section-%d\">%s</a></li>\n", i+1, htmlEscaper.Replace(s.title))
		}
		w(`</ol>
</aside>
<div class="legal-content" role="main">
`)
		st := eraStyles[era]
		st.h1, st.section, st.pClass = `<h1 class="legal-title">Privacy Policy</h1>`, true, ` class="legal-p"`
		if era == 2 {
			st.date = `<div class="legal-updated">Last updated: %s</div>`
		}
		g.policyHTML(&b, d, st)
		w(`</div>
</div>
<div class="footer-v2" role="contentinfo">
<div class="footer-cols"><a href="/about">About</a> <a href="/careers">Careers</a> <a href="/legal/terms">Terms</a> <a href="/privacy">Privacy</a></div>
<p class="legal-small">&copy; %[2]d %[1]s, Inc.</p>
</div>
</div>
<script nonce="%[3]s" src="/static/v2/legal.%[4]s.js" defer></script>
<!-- ab:legal-v2 bucket=B rendered=%[5]s -->
</body>
</html>
`, c, year, nz.nonce, nz.build, nz.generated.Format(time.RFC3339))
	default:
		panic("waybacktest: unknown synthetic template " + tmpl)
	}
	return []byte(b.String())
}

// policyStyle is how a template marks up the policy itself.
type policyStyle struct {
	h1      string // default <h1>Privacy Policy</h1>
	date    string // format of the "Last updated" line
	section bool   // wrap each section in <section id="section-N">
	pClass  string // attribute string for <p>
}

func (g *synthGen) policyHTML(b *strings.Builder, d *policyDoc, st policyStyle) {
	h1 := st.h1
	if h1 == "" {
		h1 = "<h1>Privacy Policy</h1>"
	}
	b.WriteString(h1 + "\n")
	fmt.Fprintf(b, st.date+"\n", statedDate(d.date))
	para := func(p policyPara) {
		if p.items == nil {
			fmt.Fprintf(b, "<p%s>%s</p>\n", st.pClass, htmlText(p.text))
			return
		}
		b.WriteString("<ul>\n")
		for _, it := range p.items {
			fmt.Fprintf(b, "<li>%s</li>\n", htmlText(it))
		}
		b.WriteString("</ul>\n")
	}
	for _, p := range d.intro {
		para(p)
	}
	for i, s := range d.sections {
		if st.section {
			fmt.Fprintf(b, "<section id=\"section-%d\">\n", i+1)
		}
		fmt.Fprintf(b, "<h2>%d. %s</h2>\n", i+1, htmlEscaper.Replace(s.title))
		for _, p := range s.paras {
			para(p)
		}
		if st.section {
			b.WriteString("</section>\n")
		}
	}
}

// pageHeader is the archived response header of a policy page.
func pageHeader(tmpl string) http.Header {
	h := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	switch tmpl {
	case tmplLegacy:
		h.Set("Server", "Apache/2.2.3 (CentOS)")
		h.Set("X-Powered-By", "PHP/5.1.6")
	case tmplClassic:
		h.Set("Server", "nginx/1.4.6")
		h.Set("X-Runtime", "0.084512")
	default:
		h.Set("Server", "cloudflare")
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	return h
}

// blockedCapture is a capture that cannot be played back usefully. Its bytes
// are fixed per kind: an error page looks the same every time.
func blockedCapture(kind, ts, orig, company string) Capture {
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	c := Capture{Timestamp: ts, URL: orig, Status: http.StatusOK, Header: html}
	switch kind {
	case blockedSoft503:
		// Apache's 503 page, served by a misconfigured front end with 200.
		c.Header = http.Header{"Content-Type": {"text/html; charset=iso-8859-1"}}
		c.Body = []byte(`<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>503 Service Unavailable</title>
</head><body>
<h1>Service Unavailable</h1>
<p>The server is temporarily unable to service your
request due to maintenance downtime or capacity
problems. Please try again later.</p>
<hr>
<address>Apache Server Port 80</address>
</body></html>
`)
	case blockedWayback:
		c.Body = []byte(`<!DOCTYPE html>
<html lang="en">
  <head>
    <title>Wayback Machine</title>
  </head>
  <body>
<div id="error">
<h2>Sorry</h2>
<p>This snapshot cannot be displayed due to an internal error.</p>
</div>
  </body>
</html>
`)
	case blockedNotArchived:
		c.Body = []byte(`<!DOCTYPE html>
<html lang="en">
  <head>
    <title>Wayback Machine</title>
  </head>
  <body>
<div id="error">
<h2>Hrm.</h2>
<p>The Wayback Machine has not archived that URL.</p>
</div>
  </body>
</html>
`)
	case blockedStatus403:
		c.Status = http.StatusForbidden
		c.Body = []byte(`<HTML><HEAD>
<TITLE>Access Denied</TITLE>
</HEAD><BODY>
<H1>Access Denied</H1>
You don't have permission to access the requested page on this server.<P>
Reference&#32;&#35;18&#46;2f3c1402&#46;1394561234&#46;4a7b9c
</BODY>
</HTML>
`)
	case blockedStatus503:
		c.Status = http.StatusServiceUnavailable
		c.Header.Set("Retry-After", "3600")
		c.Body = []byte(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Down for maintenance | ` + htmlEscaper.Replace(company) + `</title></head>
<body><div class="maintenance"><h1>We&rsquo;ll be back soon</h1>
<p>We are down for scheduled maintenance and will be back shortly. Thank you for your patience.</p></div></body></html>
`)
	default:
		panic("waybacktest: unknown blocked kind " + kind)
	}
	return c
}
