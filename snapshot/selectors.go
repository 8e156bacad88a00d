package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// Options tune the extraction of one document. The zero value means automatic
// main-content selection.
type Options struct {
	// Select names the parts of the page that hold the policy, in order; when
	// set, automatic content selection is skipped. This is the same idea as an
	// Open Terms Archive declaration's "select".
	Select []Selector
	// Remove names parts of the page to delete first (OTA's "remove").
	Remove []Selector
}

// Selector is a CSS selector, or a range: the content between two elements,
// each given by a CSS selector (OTA's startBefore/startAfter/endBefore/endAfter).
type Selector struct {
	CSS         string `json:"css,omitempty" yaml:"css,omitempty"`
	StartBefore string `json:"startBefore,omitempty" yaml:"start_before,omitempty"`
	StartAfter  string `json:"startAfter,omitempty" yaml:"start_after,omitempty"`
	EndBefore   string `json:"endBefore,omitempty" yaml:"end_before,omitempty"`
	EndAfter    string `json:"endAfter,omitempty" yaml:"end_after,omitempty"`
}

func (o Options) empty() bool { return len(o.Select) == 0 && len(o.Remove) == 0 }

// IsRange reports whether s is a range selector rather than a CSS selector.
func (s Selector) IsRange() bool {
	return s.StartBefore != "" || s.StartAfter != "" || s.EndBefore != "" || s.EndAfter != ""
}

// String writes s the way a declaration does: the CSS selector itself, or the
// range as a JSON object, so that error messages and reports name the selector
// exactly as the user wrote it.
func (s Selector) String() string {
	if !s.IsRange() {
		return s.CSS
	}
	var parts []string
	for _, f := range []struct{ key, val string }{
		{"css", s.CSS}, {"startBefore", s.StartBefore}, {"startAfter", s.StartAfter},
		{"endBefore", s.EndBefore}, {"endAfter", s.EndAfter},
	} {
		if f.val != "" {
			parts = append(parts, strconv.Quote(f.key)+":"+strconv.Quote(f.val))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// UnmarshalJSON accepts both shapes an Open Terms Archive declaration uses for
// one selector: a string (CSS) or a range object {"startBefore": …, "endBefore": …}.
// Declarations can then be decoded as they are published.
func (s *Selector) UnmarshalJSON(b []byte) error {
	var css string
	if err := json.Unmarshal(b, &css); err == nil {
		*s = Selector{CSS: css}
		return nil
	}
	type plain Selector // no UnmarshalJSON: avoids recursion
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("selector: want a CSS string or a range object: %w", err)
	}
	*s = Selector(p)
	return nil
}

// ParseSelectors decodes an OTA declaration's "select" or "remove" value: null,
// one selector (a CSS string or a range object) or an array of them.
func ParseSelectors(raw json.RawMessage) ([]Selector, error) {
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" {
		return nil, nil
	}
	if strings.HasPrefix(t, "[") {
		var list []Selector
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("parse selectors: %w", err)
		}
		return list, nil
	}
	var one Selector
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, fmt.Errorf("parse selectors: %w", err)
	}
	return []Selector{one}, nil
}

// compiledSelector is a Selector whose CSS has been compiled by cascadia, the
// engine goquery uses: compiling once lets us report syntax errors instead of
// silently matching nothing, which is what goquery does with a bad selector.
type compiledSelector struct {
	src        Selector
	css        cascadia.Selector // CSS selectors
	start, end cascadia.Selector // range selectors
	startAfter bool              // start just after the start element, not at it
	endAfter   bool              // end just after the end element (include it), not before it
}

func compileCSS(field, css string) (cascadia.Selector, error) {
	sel, err := cascadia.Compile(css)
	if err != nil {
		return nil, fmt.Errorf("%s %q is not valid CSS: %w", field, css, err)
	}
	return sel, nil
}

// compile checks s and compiles its CSS.
func (s Selector) compile() (compiledSelector, error) {
	c := compiledSelector{src: s}
	var err error
	if !s.IsRange() {
		if strings.TrimSpace(s.CSS) == "" {
			return c, errors.New("empty selector")
		}
		c.css, err = compileCSS("css", s.CSS)
		return c, err
	}
	if s.CSS != "" {
		return c, errors.New("a selector is either css or a range (startBefore/startAfter, endBefore/endAfter), not both")
	}
	startKey, start := "startBefore", s.StartBefore
	switch {
	case s.StartBefore != "" && s.StartAfter != "":
		return c, errors.New("range has both startBefore and startAfter")
	case s.StartAfter != "":
		startKey, start, c.startAfter = "startAfter", s.StartAfter, true
	case s.StartBefore == "":
		return c, errors.New("range needs startBefore or startAfter")
	}
	endKey, end := "endBefore", s.EndBefore
	switch {
	case s.EndBefore != "" && s.EndAfter != "":
		return c, errors.New("range has both endBefore and endAfter")
	case s.EndAfter != "":
		endKey, end, c.endAfter = "endAfter", s.EndAfter, true
	case s.EndBefore == "":
		return c, errors.New("range needs endBefore or endAfter")
	}
	if c.start, err = compileCSS(startKey, start); err != nil {
		return c, err
	}
	if c.end, err = compileCSS(endKey, end); err != nil {
		return c, err
	}
	return c, nil
}

// Validate reports whether s can be applied: a non-empty CSS selector that
// cascadia compiles, or a range with exactly one start and one end whose CSS
// compiles. Configs call it at load time, because at extraction time a bad
// selector can only match nothing, and that would pass unnoticed for months.
func (s Selector) Validate() error {
	if _, err := s.compile(); err != nil {
		return fmt.Errorf("selector %s: %w", s, err)
	}
	return nil
}

// Validate checks every Select and Remove selector and reports all the bad
// ones at once, each named by its list and position.
func (o Options) Validate() error {
	var errs []error
	for i, s := range o.Select {
		if err := s.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("select[%d]: %w", i, err))
		}
	}
	for i, s := range o.Remove {
		if err := s.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("remove[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// SelectorReport says how a page answered an Options: which selectors found
// nothing, and whether the whole body was kept because Select found nothing.
type SelectorReport struct {
	// Fallback is true when Select was given but none of its selectors
	// matched, so the whole body was extracted instead.
	Fallback bool
	// Unmatched lists the Select and Remove selectors that matched nothing
	// (or whose range was empty), as "select <selector>" / "remove <selector>".
	Unmatched []string
}

// Reason is the note a Quality.Reason should carry for this report: empty when
// Select matched, otherwise a sentence naming what was kept and why. A silent
// fallback would store a whole page, menus included, as if it were the policy.
func (r SelectorReport) Reason() string {
	if !r.Fallback {
		return ""
	}
	return "select matched nothing (" + strings.Join(r.Unmatched, "; ") + "): whole page kept"
}

// CheckSelectors decodes and parses raw as Extract does and reports how opts
// applies to it, without rendering anything. Evaluation and config tooling use
// it to show which selectors have stopped matching a page.
func CheckSelectors(raw []byte, contentType string, opts Options) (SelectorReport, error) {
	if len(raw) > MaxInputBytes {
		raw = raw[:MaxInputBytes]
	}
	text, _, err := Decode(raw, contentType)
	if err != nil {
		return SelectorReport{}, fmt.Errorf("check selectors: %w", err)
	}
	root, err := html.Parse(strings.NewReader(text))
	if err != nil {
		return SelectorReport{}, fmt.Errorf("check selectors: %w", err)
	}
	limitDepth(root, maxTreeDepth)
	gq := goquery.NewDocumentFromNode(root)
	gq.Find("script, style, noscript, template, link, meta").Remove()
	_, rep := selectParts(gq, opts)
	return rep, nil
}

// piece is one selected part of the page: a matched element, or the clones
// of one range's content. from and to are preorder positions (to exclusive),
// used to put pieces in document order and drop pieces inside other pieces.
type piece struct {
	nodes    []*html.Node
	from, to int
}

// selectParts deletes the Remove parts and returns the Select parts in
// document order, with a report of selectors that matched nothing. Without
// Select it returns what automatic selection picks from the rest of the page;
// when Select matches nothing, the whole body.
//
// It follows the Open Terms Archive engine (src/archivist/extract): CSS Remove
// matches are deleted, then Remove ranges are deleted (DOM Range
// deleteContents: elements only partly inside the range keep their other
// content); then Select is applied to what is left. A range starts at
// (startBefore) or just after (startAfter) the first element its start
// selector matches and ends just before (endBefore) or just after (endAfter)
// the first element its end selector matches; its content is cloned as DOM
// Range cloneContents does, so that a range crossing element boundaries keeps
// the partly covered ancestors (a list, a section) around the covered part.
//
// Where we differ from OTA, on purpose: OTA concatenates the results selector
// by selector, and repeats an element matched twice (by two selectors, or by
// a selector that matches both a wrapper and something inside it). We return
// the parts in document order and keep each part of the page once, because a
// policy read in page order is the policy, and a repeated paragraph is a false
// change waiting to happen when a page's wrappers shift. The words are the
// same either way except for such repeats.
func selectParts(gq *goquery.Document, opts Options) ([]*html.Node, SelectorReport) {
	var rep SelectorReport
	root := gq.Nodes[0]
	body := func() []*html.Node {
		if b := gq.Find("body").First(); b.Length() > 0 {
			return b.Nodes
		}
		return gq.Nodes
	}

	var ranges []boundaryRange
	var doomed []*html.Node
	for _, s := range opts.Remove {
		c, err := s.compile()
		if err != nil {
			rep.Unmatched = append(rep.Unmatched, "remove "+s.String()+" (invalid)")
			continue
		}
		if !s.IsRange() {
			m := c.css.MatchAll(root)
			if len(m) == 0 {
				rep.Unmatched = append(rep.Unmatched, "remove "+s.String())
			}
			doomed = append(doomed, m...)
			continue
		}
		if r, ok := c.locate(root); ok {
			ranges = append(ranges, r)
		} else {
			rep.Unmatched = append(rep.Unmatched, "remove "+s.String())
		}
	}
	// Ranges are located before any deletion (as OTA does), and deleting
	// them first gives the same result as OTA's order (nodes, then ranges)
	// while keeping their boundary nodes attached while we use them.
	for _, r := range ranges {
		r.deleteContents()
	}
	for _, n := range doomed {
		if n.Parent != nil {
			n.Parent.RemoveChild(n)
		}
	}

	if len(opts.Select) == 0 {
		// Remove alone tweaks automatic selection, it does not replace it:
		// "remove: .tip" must not turn a policy into the whole page with its menus.
		b := body()[0]
		return selectContent(b, removeBoilerplate(b)), rep
	}

	pos := preorder(root)
	var pieces []piece
	var holder *html.Node // receives range clones, so they are part of the tree
	for _, s := range opts.Select {
		c, err := s.compile()
		if err != nil {
			rep.Unmatched = append(rep.Unmatched, "select "+s.String()+" (invalid)")
			continue
		}
		if !s.IsRange() {
			m := c.css.MatchAll(root)
			if len(m) == 0 {
				rep.Unmatched = append(rep.Unmatched, "select "+s.String())
			}
			for _, n := range m {
				pieces = append(pieces, piece{[]*html.Node{n}, pos[n], pos[n] + subtreeSize(n)})
			}
			continue
		}
		r, ok := c.locate(root)
		var clones []*html.Node
		if ok {
			clones = r.cloneContents()
		}
		if len(clones) == 0 {
			rep.Unmatched = append(rep.Unmatched, "select "+s.String())
			continue
		}
		if holder == nil {
			holder = &html.Node{Type: html.ElementNode, Data: "div"}
		}
		for _, n := range clones {
			holder.AppendChild(n)
		}
		from, to := r.span(pos)
		pieces = append(pieces, piece{clones, from, to})
	}
	if len(pieces) == 0 {
		rep.Fallback = true
		return body(), rep
	}
	if holder != nil {
		// Content statistics and rendering walk the document from its
		// root; a detached clone would be invisible to them.
		root.AppendChild(holder)
	}

	// Document order; a piece inside an earlier, longer piece is dropped.
	slices.SortStableFunc(pieces, func(a, b piece) int {
		if a.from != b.from {
			return a.from - b.from
		}
		return b.to - a.to
	})
	var out []*html.Node
	end := -1
	for _, p := range pieces {
		if p.to <= end {
			continue
		}
		out = append(out, p.nodes...)
		end = max(end, p.to)
	}
	return out, rep
}

// boundaryRange is a DOM Range whose two boundary points sit between the
// children of an element (never inside a text node), which is all that range
// selectors can express: (node, i) is the point just before node's i-th child.
type boundaryRange struct {
	startNode *html.Node
	startOff  int
	endNode   *html.Node
	endOff    int
}

// locate finds the range a range selector names, with the first element
// matching its start and end selectors, as document.querySelector does.
func (c compiledSelector) locate(root *html.Node) (boundaryRange, bool) {
	start, end := c.start.MatchFirst(root), c.end.MatchFirst(root)
	if start == nil || end == nil || start.Parent == nil || end.Parent == nil {
		return boundaryRange{}, false
	}
	r := boundaryRange{startNode: start.Parent, startOff: childIndex(start), endNode: end.Parent, endOff: childIndex(end)}
	if c.startAfter {
		r.startOff++
	}
	if c.endAfter {
		r.endOff++
	}
	return r, true
}

// span returns the range's extent in preorder positions, to order it among
// other selected parts.
func (r boundaryRange) span(pos map[*html.Node]int) (from, to int) {
	return pointPos(r.startNode, r.startOff, pos), pointPos(r.endNode, r.endOff, pos)
}

// pointPos is the preorder position of a boundary point: that of the child
// it precedes, or the position right after the element's subtree.
func pointPos(n *html.Node, off int, pos map[*html.Node]int) int {
	if c := nthChild(n, off); c != nil {
		return pos[c]
	}
	return pos[n] + subtreeSize(n)
}

// collapsed reports whether the range is empty or its end comes before its
// start, which DOM Range treats as collapsed (setEnd before the start moves
// the start there).
func (r boundaryRange) collapsed() bool {
	pos := preorder(commonRoot(r.startNode))
	from, to := r.span(pos)
	return to <= from
}

// cloneContents returns copies of what the range covers, as DOM Range
// cloneContents does: fully covered nodes are deep-copied, and an element the
// range only partly covers is copied without its children, then given copies
// of its covered part.
func (r boundaryRange) cloneContents() []*html.Node {
	if r.collapsed() {
		return nil
	}
	return r.walk(
		func(n *html.Node) *html.Node { return cloneTree(n) },
		func(n *html.Node, inner []*html.Node) *html.Node {
			c := cloneShallow(n)
			for _, k := range inner {
				c.AppendChild(k)
			}
			return c
		})
}

// deleteContents removes what the range covers, as DOM Range deleteContents
// does: fully covered nodes go, partly covered elements stay with the rest of
// their content.
func (r boundaryRange) deleteContents() {
	if r.collapsed() {
		return
	}
	var gone []*html.Node
	r.walk(
		func(n *html.Node) *html.Node { gone = append(gone, n); return nil },
		func(*html.Node, []*html.Node) *html.Node { return nil })
	for _, n := range gone {
		if n.Parent != nil {
			n.Parent.RemoveChild(n)
		}
	}
}

// walk visits the range in document order: whole(n) for every maximal node
// inside it, partial(n, inner) for every element it partly covers, inner being
// what the visit of that element's covered part returned. It follows the DOM
// standard's "clone the contents of a range" with element boundary points.
func (r boundaryRange) walk(whole func(*html.Node) *html.Node, partial func(*html.Node, []*html.Node) *html.Node) []*html.Node {
	var out []*html.Node
	add := func(n *html.Node) {
		if n != nil {
			out = append(out, n)
		}
	}
	if r.startNode == r.endNode {
		for _, c := range childrenRange(r.startNode, r.startOff, r.endOff) {
			add(whole(c))
		}
		return out
	}
	common := commonAncestor(r.startNode, r.endNode)
	var firstPartial, lastPartial *html.Node
	from, to := 0, 0
	if common == r.startNode {
		from = r.startOff
	} else {
		firstPartial = childToward(common, r.startNode)
		from = childIndex(firstPartial) + 1
	}
	if common == r.endNode {
		to = r.endOff
	} else {
		lastPartial = childToward(common, r.endNode)
		to = childIndex(lastPartial)
	}
	contained := childrenRange(common, from, to) // before any callback mutates the tree
	if firstPartial != nil {
		sub := boundaryRange{r.startNode, r.startOff, firstPartial, countChildren(firstPartial)}
		add(partial(firstPartial, sub.walk(whole, partial)))
	}
	for _, c := range contained {
		add(whole(c))
	}
	if lastPartial != nil {
		sub := boundaryRange{lastPartial, 0, r.endNode, r.endOff}
		add(partial(lastPartial, sub.walk(whole, partial)))
	}
	return out
}

// preorder numbers every node under root in document order.
func preorder(root *html.Node) map[*html.Node]int {
	pos := map[*html.Node]int{}
	i := 0
	stack := []*html.Node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		pos[n] = i
		i++
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
	return pos
}

// subtreeSize counts n and its descendants.
func subtreeSize(n *html.Node) int {
	k := 0
	stack := []*html.Node{n}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		k++
		for d := c.FirstChild; d != nil; d = d.NextSibling {
			stack = append(stack, d)
		}
	}
	return k
}

func commonRoot(n *html.Node) *html.Node {
	for n.Parent != nil {
		n = n.Parent
	}
	return n
}

func commonAncestor(a, b *html.Node) *html.Node {
	seen := map[*html.Node]bool{}
	for n := a; n != nil; n = n.Parent {
		seen[n] = true
	}
	for n := b; n != nil; n = n.Parent {
		if seen[n] {
			return n
		}
	}
	return nil
}

// childToward returns the child of anc that is d or contains d.
func childToward(anc, d *html.Node) *html.Node {
	for d.Parent != anc {
		d = d.Parent
	}
	return d
}

func childIndex(n *html.Node) int {
	i := 0
	for c := n.PrevSibling; c != nil; c = c.PrevSibling {
		i++
	}
	return i
}

func countChildren(n *html.Node) int {
	i := 0
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		i++
	}
	return i
}

func nthChild(n *html.Node, i int) *html.Node {
	c := n.FirstChild
	for ; c != nil && i > 0; i-- {
		c = c.NextSibling
	}
	return c
}

// childrenRange returns n's children with index in [from, to).
func childrenRange(n *html.Node, from, to int) []*html.Node {
	var out []*html.Node
	i := 0
	for c := n.FirstChild; c != nil && i < to; c, i = c.NextSibling, i+1 {
		if i >= from {
			out = append(out, c)
		}
	}
	return out
}

func cloneShallow(n *html.Node) *html.Node {
	return &html.Node{Type: n.Type, DataAtom: n.DataAtom, Data: n.Data, Namespace: n.Namespace, Attr: slices.Clone(n.Attr)}
}

// cloneTree deep-copies n without recursion, so hostile nesting cannot
// exhaust the stack.
func cloneTree(n *html.Node) *html.Node {
	type job struct{ src, dst *html.Node }
	top := cloneShallow(n)
	stack := []job{{n, top}}
	for len(stack) > 0 {
		j := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for c := j.src.FirstChild; c != nil; c = c.NextSibling {
			d := cloneShallow(c)
			j.dst.AppendChild(d)
			stack = append(stack, job{c, d})
		}
	}
	return top
}
