package diffing

import (
	"slices"
	"sort"

	"github.com/aymanbagabas/go-udiff/lcs"

	"github.com/policywatch/policywatch/snapshot"
)

// Alignment tuning. The numbers trade recall for bounded work: a long
// policy (≥ 500 clauses) must align in a few milliseconds even when every
// clause changed, so no step may compare every old clause with every new one.
const (
	// MinSimilarity is the least word-multiset similarity (Dice: shared
	// words over all words) at which an unmatched old and new clause are
	// read as one modified clause rather than a removal and an addition.
	// At 0.5 half the words must survive, which keeps "we keep logs for 30
	// days" → "… 90 days" paired and keeps a rewritten clause from being
	// paired with whatever clause happens to sit in the same gap.
	MinSimilarity = 0.5
	// fullGapPairs bounds the gaps searched exhaustively: up to 64×64
	// candidate pairs every old clause is compared with every new one.
	fullGapPairs = 64 * 64
	// gapWindow is, in a larger gap, how many clauses on each side of its
	// proportional position an old clause is compared with, so the work is
	// linear in the size of the gap.
	gapWindow = 24
	// maxRepeats is how often a hash may occur on each side and still
	// anchor the exact alignment.
	maxRepeats = 8
)

// aligner holds one comparison of two clause lists.
type aligner struct {
	old, new []snapshot.Clause
	oldPair  []int    // old index → new index, -1 when unmatched
	newPair  []int    // new index → old index, -1 when unmatched
	newOp    []string // new index → "" (exact, in order), OpMoved or OpModified
	dict     wordDict
	bags     map[int][]int32 // word bags, keyed by index (new ones negated-1)
}

// Align pairs the clauses of two versions and returns the clauses that
// differ, in new-document order with removed clauses where they stood, and
// counts of what happened to every clause.
//
// It works in three passes, each bounded so that a long policy stays near
// linear:
//
//  1. Exact matches by hash in order: common prefix and suffix, then
//     clauses whose hash occurs once on each side anchor a longest
//     increasing subsequence (patience diff), recursively; runs without
//     such anchors fall back to go-udiff's LCS over hashes. Matched clauses
//     are identical, or renumbered when their label changed (a whole list
//     renumbered by an inserted item reads as renumbered items, not as
//     modified ones).
//  2. Clauses with the same hash left over on both sides are the same text
//     in another place: moved.
//  3. Inside each gap between exact matches, the remaining old and new
//     clauses are paired greedily, most similar first, when their word
//     similarity reaches MinSimilarity: modified, with a word diff. What is
//     left is removed or added.
func Align(old, new []snapshot.Clause) ([]ClauseChange, Stats) {
	al := &aligner{
		old: old, new: new,
		oldPair: make([]int, len(old)),
		newPair: make([]int, len(new)),
		newOp:   make([]string, len(new)),
		dict:    wordDict{},
		bags:    map[int][]int32{},
	}
	for i := range al.oldPair {
		al.oldPair[i] = -1
	}
	for j := range al.newPair {
		al.newPair[j] = -1
	}
	ha, hb := make([]string, len(old)), make([]string, len(new))
	for i, c := range old {
		ha[i] = c.Hash
	}
	for j, c := range new {
		hb[j] = c.Hash
	}
	al.exact(ha, hb, 0, len(ha), 0, len(hb))
	// The gaps are taken between the exact matches, before moves are paired.
	var anchors [][2]int
	for i, j := range al.oldPair {
		if j >= 0 {
			anchors = append(anchors, [2]int{i, j})
		}
	}
	al.moved()
	prevA, prevB := -1, -1
	for _, an := range append(anchors, [2]int{len(old), len(new)}) {
		al.gap(prevA+1, an[0], prevB+1, an[1])
		prevA, prevB = an[0], an[1]
	}
	return al.changes()
}

func (al *aligner) link(i, j int, op string) {
	al.oldPair[i], al.newPair[j], al.newOp[j] = j, i, op
}

// exact matches equal hashes of a[a0:a1] and b[b0:b1] in order.
func (al *aligner) exact(a, b []string, a0, a1, b0, b1 int) {
	for a0 < a1 && b0 < b1 && a[a0] == b[b0] {
		al.link(a0, b0, "")
		a0++
		b0++
	}
	for a0 < a1 && b0 < b1 && a[a1-1] == b[b1-1] {
		a1--
		b1--
		al.link(a1, b1, "")
	}
	if a0 == a1 || b0 == b1 {
		return
	}
	// Anchors: hashes that occur as often in a as in b (and not too
	// often), their occurrences paired in order. Hashes occurring once on
	// each side are patience diff's anchors; allowing a few repeats keeps
	// repeated clauses (table rows, "None.") from being lost to moves.
	type occ struct{ as, bs []int }
	occs := make(map[string]*occ, (a1-a0)+(b1-b0))
	for i := a0; i < a1; i++ {
		o := occs[a[i]]
		if o == nil {
			o = &occ{}
			occs[a[i]] = o
		}
		o.as = append(o.as, i)
	}
	for j := b0; j < b1; j++ {
		if o := occs[b[j]]; o != nil {
			o.bs = append(o.bs, j)
		}
	}
	var cands [][2]int
	for i := a0; i < a1; i++ {
		o := occs[a[i]]
		if n := len(o.as); n == len(o.bs) && n <= maxRepeats {
			k := slices.Index(o.as, i)
			cands = append(cands, [2]int{i, o.bs[k]})
		}
	}
	if len(cands) == 0 {
		al.lcs(a, b, a0, a1, b0, b1)
		return
	}
	pa, pb := a0, b0
	for _, an := range increasing(cands) {
		al.exact(a, b, pa, an[0], pb, an[1])
		al.link(an[0], an[1], "")
		pa, pb = an[0]+1, an[1]+1
	}
	al.exact(a, b, pa, a1, pb, b1)
}

// lcs matches a run without unique anchors by go-udiff's LCS. The LCS
// bounds its own search, so on a long run of very different clauses it
// may miss matches; the gaps it leaves are aligned again (they are
// smaller, and may now have unique anchors), until a pass matches nothing.
func (al *aligner) lcs(a, b []string, a0, a1, b0, b1 int) {
	ai, bi := a0, b0
	matched := false
	var gaps [][4]int
	for _, d := range lcs.DiffLines(a[a0:a1], b[b0:b1]) {
		for ; ai < a0+d.Start; ai, bi = ai+1, bi+1 {
			al.link(ai, bi, "")
			matched = true
		}
		gaps = append(gaps, [4]int{ai, a0 + d.End, bi, b0 + d.ReplEnd})
		ai, bi = a0+d.End, b0+d.ReplEnd
	}
	for ; ai < a1 && bi < b1; ai, bi = ai+1, bi+1 {
		al.link(ai, bi, "")
		matched = true
	}
	if !matched {
		return
	}
	for _, g := range gaps {
		if g[0] < g[1] && g[2] < g[3] {
			al.exact(a, b, g[0], g[1], g[2], g[3])
		}
	}
}

// increasing returns the longest subsequence of pairs (sorted by their
// first index) whose second index increases too: patience sorting,
// O(n log n).
func increasing(pairs [][2]int) [][2]int {
	tails := make([]int, 0, len(pairs)) // index into pairs of the smallest tail of each length
	prev := make([]int, len(pairs))
	for k, p := range pairs {
		n := sort.Search(len(tails), func(x int) bool { return pairs[tails[x]][1] >= p[1] })
		if n > 0 {
			prev[k] = tails[n-1]
		} else {
			prev[k] = -1
		}
		if n == len(tails) {
			tails = append(tails, k)
		} else {
			tails[n] = k
		}
	}
	out := make([][2]int, len(tails))
	for k, x := len(tails)-1, tails[len(tails)-1]; k >= 0; k, x = k-1, prev[x] {
		out[k] = pairs[x]
	}
	return out
}

// moved pairs unmatched clauses with the same text, first with first.
func (al *aligner) moved() {
	pending := map[string][]int{}
	for j, i := range al.newPair {
		if i < 0 {
			pending[al.new[j].Hash] = append(pending[al.new[j].Hash], j)
		}
	}
	if len(pending) == 0 {
		return
	}
	for i, j := range al.oldPair {
		if j >= 0 {
			continue
		}
		h := al.old[i].Hash
		if js := pending[h]; len(js) > 0 {
			al.link(i, js[0], OpMoved)
			pending[h] = js[1:]
		}
	}
}

func (al *aligner) bag(side, k int) []int32 {
	key := k
	text := ""
	if side == 0 {
		text = al.old[k].Text
	} else {
		key = -k - 1
		text = al.new[k].Text
	}
	b, ok := al.bags[key]
	if !ok {
		b = al.dict.bag(text)
		al.bags[key] = b
	}
	return b
}

// gap pairs the unmatched clauses of old[a0:a1] and new[b0:b1] as modified.
func (al *aligner) gap(a0, a1, b0, b1 int) {
	var olds, news []int
	for i := a0; i < a1; i++ {
		if al.oldPair[i] < 0 {
			olds = append(olds, i)
		}
	}
	for j := b0; j < b1; j++ {
		if al.newPair[j] < 0 {
			news = append(news, j)
		}
	}
	m, n := len(olds), len(news)
	if m == 0 || n == 0 {
		return
	}
	type cand struct {
		x, y int // ranks in olds, news
		sim  float64
		dist int
	}
	var cands []cand
	full := m*n <= fullGapPairs
	for x, oi := range olds {
		lo, hi, c := 0, n, x*n/m
		if !full {
			lo, hi = max(0, c-gapWindow), min(n, c+gapWindow+1)
		}
		ba := al.bag(0, oi)
		for y := lo; y < hi; y++ {
			bb := al.bag(1, news[y])
			// Dice cannot exceed 2·min/(sum): skip pairs too unequal in length.
			if lo, hi := min(len(ba), len(bb)), len(ba)+len(bb); hi == 0 || 2*float64(lo)/float64(hi) < MinSimilarity {
				continue
			}
			if s := similarity(ba, bb); s >= MinSimilarity {
				cands = append(cands, cand{x, y, s, abs(c - y)})
			}
		}
	}
	slices.SortFunc(cands, func(p, q cand) int {
		switch {
		case p.sim != q.sim:
			if p.sim > q.sim {
				return -1
			}
			return 1
		case p.dist != q.dist:
			return p.dist - q.dist
		case p.x != q.x:
			return p.x - q.x
		}
		return p.y - q.y
	})
	for _, c := range cands {
		i, j := olds[c.x], news[c.y]
		if al.oldPair[i] < 0 && al.newPair[j] < 0 {
			al.link(i, j, OpModified)
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// changes lists the clause changes in new-document order; a removed clause
// comes right before the first new clause that follows it in the old order.
// Paths are locations (snapshot.Clause.Location): the section path followed
// by the clause's own label, "4 Data storage › 4.1", since that is where a
// reader looks for it.
func (al *aligner) changes() ([]ClauseChange, Stats) {
	var out []ClauseChange
	var st Stats
	oi := 0
	removedUpTo := func(p int) {
		for ; oi < p; oi++ {
			if al.oldPair[oi] < 0 {
				out = append(out, al.removed(oi))
				st.Removed++
			}
		}
	}
	// nextOld[j] is the old index of the first new clause from j on that
	// is paired in order (exact or modified): an added clause comes after
	// the removed ones of its gap, as in a line diff.
	nextOld := make([]int, len(al.new)+1)
	nextOld[len(al.new)] = len(al.old)
	for j := len(al.new) - 1; j >= 0; j-- {
		nextOld[j] = nextOld[j+1]
		if i := al.newPair[j]; i >= 0 && al.newOp[j] != OpMoved {
			nextOld[j] = i
		}
	}
	for j, c := range al.new {
		i := al.newPair[j]
		if i < 0 || al.newOp[j] != OpMoved {
			removedUpTo(nextOld[j])
		}
		if i >= 0 && al.newOp[j] != OpMoved {
			oi = max(oi, i+1)
		}
		if i < 0 {
			out = append(out, ClauseChange{Op: OpAdded, Path: c.Location(), Label: c.Label,
				New: c.Text, Cosmetic: cosmeticKey(c.Text) == ""})
			st.Added++
			continue
		}
		o := al.old[i]
		cc := ClauseChange{Path: c.Location(), Label: c.Label, Old: o.Text, New: c.Text}
		if p := o.Location(); p != cc.Path || al.newOp[j] == OpMoved {
			cc.OldPath = p // a moved clause always says where it came from
		}
		if o.Label != c.Label {
			cc.OldLabel = o.Label
		}
		switch al.newOp[j] {
		case "":
			if o.Label == c.Label && o.Kind == c.Kind && (o.Kind != snapshot.ClauseHeading || o.Level == c.Level) {
				st.Identical++
				continue
			}
			if o.Label == c.Label {
				// Same text, another form: a heading moved a level, a
				// paragraph became an item. The words did not change, so
				// it is a cosmetic modification, but it is one.
				cc.Op, cc.Cosmetic = OpModified, true
				cc.Words = []WordOp{{WordKept, c.Text}}
				st.Modified++
				break
			}
			// Same text in the same order under another number: the
			// numbering is layout, so the clause change is cosmetic.
			cc.Op, cc.Cosmetic = OpRenumbered, true
			st.Renumbered++
		case OpMoved:
			cc.Op = OpMoved
			st.Moved++
		case OpModified:
			cc.Op = OpModified
			cc.Words = WordDiff(o.Text, c.Text)
			cc.Cosmetic = CosmeticOnly(o.Text, c.Text)
			st.Modified++
		}
		out = append(out, cc)
	}
	removedUpTo(len(al.old))
	return out, st
}

func (al *aligner) removed(i int) ClauseChange {
	o := al.old[i]
	return ClauseChange{Op: OpRemoved, OldPath: o.Location(), Label: o.Label, Old: o.Text,
		Cosmetic: cosmeticKey(o.Text) == ""}
}
