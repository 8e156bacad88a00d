package snapshot

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// brMark stands for a <br> inside a paragraph until the paragraph is laid out.
const brMark = "\x00"

// maxRenderDepth bounds rendering recursion; limitDepth already flattens deeper
// trees, this is the renderer's own guard.
const maxRenderDepth = maxTreeDepth + 8

// renderer writes the citp (html2text-style) Markdown of a subtree. Finished
// blocks go to out; the paragraph being built goes to the top of inl, a stack so
// that links and emphasis can capture their text without copying the paragraph.
type renderer struct {
	base   *url.URL
	ts     string
	st     *stats
	skipH1 string // the title: a body <h1> repeating it is dropped

	out     strings.Builder
	started bool
	sep     int // newlines required before the next block
	inl     []*strings.Builder
	space   bool // the inline text ends in whitespace (or is empty)
	lists   []*listState
	h1Done  bool
	quoting bool
}

type listState struct {
	ordered bool
	n       int
	marker  string // pending marker for the current item's first line
	cont    string // indentation of the current item's later lines
}

func newRenderer(base *url.URL, ts string, st *stats) *renderer {
	r := &renderer{base: base, ts: ts, st: st, space: true}
	r.inl = []*strings.Builder{{}}
	return r
}

// child returns a renderer for a nested context (table cell, blockquote) that
// shares link resolution but has its own output.
func (r *renderer) child() *renderer {
	c := newRenderer(r.base, r.ts, r.st)
	c.h1Done = true
	return c
}

// render renders the content nodes and returns the Markdown body.
func (r *renderer) render(nodes []*html.Node) string {
	for _, n := range nodes {
		r.node(n, 0)
	}
	r.flush()
	s := r.out.String()
	if s == "" {
		return ""
	}
	if r.sep >= 4 {
		return s + "\n\n\n"
	}
	return s + "\n"
}

func (r *renderer) cur() *strings.Builder { return r.inl[len(r.inl)-1] }

// text writes inline text with HTML whitespace collapsing.
func (r *renderer) text(s string) {
	if s == "" {
		return
	}
	b := r.cur()
	start := -1
	for i := 0; i < len(s); i++ {
		if !isHTMLSpace(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			b.WriteString(s[start:i])
			r.space = false
			start = -1
		}
		if !r.space {
			b.WriteByte(' ')
			r.space = true
		}
	}
	if start >= 0 {
		b.WriteString(s[start:])
		r.space = false
	}
}

// raw writes inline markup that must not be collapsed.
func (r *renderer) raw(s string) {
	r.cur().WriteString(s)
	r.space = strings.HasSuffix(s, " ") || strings.HasSuffix(s, brMark)
}

// capture renders n's children into a fresh inline buffer and returns it.
func (r *renderer) capture(n *html.Node, depth int) string {
	r.inl = append(r.inl, &strings.Builder{})
	saved := r.space
	r.space = false
	r.children(n, depth)
	s := r.cur().String()
	r.inl = r.inl[:len(r.inl)-1]
	r.space = saved
	return s
}

// wrap writes inner with its outer spaces moved outside the markers, the way
// citp writes " **Corel** " for "<b> Corel </b>".
func (r *renderer) wrap(open, inner, close string) {
	core := strings.Trim(inner, " ")
	if strings.HasPrefix(inner, " ") {
		r.text(" ")
	}
	if strings.Trim(core, brMark+" ") != "" {
		r.raw(open + core + close)
	} else if strings.Contains(core, brMark) {
		r.raw(brMark)
	}
	if strings.HasSuffix(inner, " ") && core != "" {
		r.text(" ")
	}
}

func (r *renderer) children(n *html.Node, depth int) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		r.node(c, depth+1)
	}
}

func (r *renderer) node(n *html.Node, depth int) {
	if depth > maxRenderDepth {
		r.text(flatText(n))
		return
	}
	switch n.Type {
	case html.TextNode:
		r.text(n.Data)
		return
	case html.ElementNode:
	case html.DocumentNode:
		r.children(n, depth)
		return
	default:
		return
	}
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Head, atom.Title, atom.Img, atom.Noscript, atom.Template:
		return
	case atom.Br:
		r.raw(brMark)
	case atom.Hr:
		r.flush()
		r.block("* * *")
	case atom.P, atom.Div, atom.Section, atom.Article, atom.Main, atom.Center, atom.Address, atom.Form,
		atom.Fieldset, atom.Figure, atom.Figcaption, atom.Header, atom.Details, atom.Summary, atom.Body, atom.Html,
		atom.Tbody, atom.Thead, atom.Tfoot, atom.Tr, atom.Td, atom.Th, atom.Caption:
		r.flush()
		r.children(n, depth)
		r.flush()
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		r.heading(n, depth)
	case atom.Ul, atom.Ol, atom.Menu:
		r.list(n, depth)
	case atom.Li:
		r.item(n, depth)
	case atom.Dl:
		r.flush()
		r.children(n, depth)
		r.flush()
	case atom.Dt:
		r.flush()
		r.children(n, depth)
		r.flush()
	case atom.Dd:
		r.flush()
		if blockChild(n, r.st) { // structured definitions: render as they come
			r.children(n, depth)
			r.flush()
			return
		}
		s := r.capture(n, depth)
		if t := r.layout(s); t != "" {
			r.blockSep(indentLines(t, "    "), 1) // citp: dd right under its dt, indented
		}
	case atom.Blockquote:
		r.flush()
		c := r.child()
		body := strings.TrimRight(c.render(childNodes(n)), "\n")
		if body != "" {
			r.block(indentLines(body, "> "))
		}
	case atom.Pre:
		r.flush()
		t := strings.Trim(strings.ReplaceAll(flatText(n), "\r", ""), "\n")
		if strings.TrimSpace(t) != "" {
			r.block(indentLines(t, "    "))
		}
	case atom.Table:
		r.table(n, depth)
	case atom.A:
		r.link(n, depth)
	case atom.B, atom.Strong:
		r.emphasis(n, depth, "**")
	case atom.I, atom.Em, atom.U, atom.Cite:
		r.emphasis(n, depth, "_")
	default:
		if r.st.get(n).block && !isInlineTag(n.DataAtom) {
			r.flush()
			r.children(n, depth)
			r.flush()
			return
		}
		r.children(n, depth)
	}
}

// blockChild reports whether any element below n is a block.
func blockChild(n *html.Node, st *stats) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if st.get(c).block {
			return true
		}
	}
	return false
}

func childNodes(n *html.Node) []*html.Node {
	var out []*html.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, c)
	}
	return out
}

func (r *renderer) emphasis(n *html.Node, depth int, mark string) {
	if r.st.get(n).block {
		r.children(n, depth)
		return
	}
	r.wrap(mark, r.capture(n, depth), mark)
}

func (r *renderer) heading(n *html.Node, depth int) {
	r.flush()
	level := int(n.Data[1] - '0')
	raw := r.capture(n, depth)
	t := collapseSpace(strings.ReplaceAll(raw, brMark, " "))
	if t == "" {
		return
	}
	// A <br> inside a heading ends the heading's line, as in html2text: the
	// heading is the first line and the rest follows as its own lines, so a
	// page that puts a section's first sentences into its <h3> keeps a
	// heading of the section's title only.
	var lines []string
	for _, piece := range strings.Split(raw, brMark) {
		if l := collapseSpace(piece); l != "" {
			lines = append(lines, escapeLine(l))
		}
	}
	if level == 1 && !r.h1Done {
		r.h1Done = true
		if strings.EqualFold(t, r.skipH1) || strings.EqualFold(strings.Trim(t, "*_ "), r.skipH1) {
			return
		}
	}
	if len(lines) > 1 {
		r.blockSep(strings.Repeat("#", level)+" "+strings.Join(lines, "  \n"), 2)
		return
	}
	r.blockSep(strings.Repeat("#", level)+" "+escapeLine(t), 2)
}

func (r *renderer) list(n *html.Node, depth int) {
	r.flush()
	if len(r.lists) == 0 {
		r.sep = max(r.sep, 2) // a blank line between a paragraph and a list
	}
	ls := &listState{ordered: n.DataAtom == atom.Ol}
	if ls.ordered {
		if s, err := strconv.Atoi(strings.TrimSpace(attr(n, "start"))); err == nil && s > -1e6 && s < 1e6 {
			ls.n = s - 1
		}
	}
	r.lists = append(r.lists, ls)
	r.children(n, depth)
	r.flush()
	r.lists = r.lists[:len(r.lists)-1]
	if len(r.lists) == 0 {
		r.sep = max(r.sep, 4) // citp leaves two extra blank lines after a list
	} else {
		r.sep = max(r.sep, 1)
	}
}

func (r *renderer) item(n *html.Node, depth int) {
	r.flush()
	if len(r.lists) == 0 { // a stray <li>: render as a bullet of a one-item list
		r.lists = append(r.lists, &listState{})
		defer func() { r.lists = r.lists[:0]; r.sep = max(r.sep, 4) }()
	}
	ls := r.lists[len(r.lists)-1]
	ls.n++
	if v, err := strconv.Atoi(strings.TrimSpace(attr(n, "value"))); err == nil && v > -1e6 && v < 1e6 {
		ls.n = v
	}
	indent := strings.Repeat("  ", len(r.lists))
	if ls.ordered {
		ls.marker = indent + strconv.Itoa(ls.n) + ". "
	} else {
		ls.marker = indent + "* "
	}
	ls.cont = strings.Repeat(" ", len(ls.marker))
	r.children(n, depth)
	r.flush()
	ls.marker = ""
}

// link writes [text](url), <url> when the text is the URL, or only the text when
// the href cannot be followed. Image-only links carry no text and are dropped.
func (r *renderer) link(n *html.Node, depth int) {
	if r.st.get(n).block {
		r.children(n, depth)
		return
	}
	inner := r.capture(n, depth)
	href, ok := r.resolve(attr(n, "href"))
	core := strings.Trim(inner, " ")
	if !ok || strings.Trim(core, brMark+" ") == "" {
		if strings.Trim(core, brMark+" ") != "" {
			r.wrap("", inner, "")
		}
		return
	}
	core = strings.ReplaceAll(core, brMark, " ")
	if core == href {
		if strings.HasPrefix(inner, " ") {
			r.text(" ")
		}
		r.raw("<" + href + ">")
		if strings.HasSuffix(inner, " ") {
			r.text(" ")
		}
		return
	}
	r.wrap("[", core+suffixSpace(inner), "]("+href+")")
}

func suffixSpace(s string) string {
	if strings.HasSuffix(s, " ") {
		return " "
	}
	return ""
}

// hrefSpaceReplacer drops the line breaks and tabs that browsers ignore in an href.
var hrefSpaceReplacer = strings.NewReplacer("\n", "", "\r", "", "\t", "")

var emailHrefRe = regexp.MustCompile(`^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}$`)

// resolve turns an href into the URL we write. Relative links are resolved
// against the page's original URL (or <base href>) and then pointed at the same
// capture time in the archive, where a reader can still follow them; absolute
// links stay as the page wrote them.
func (r *renderer) resolve(href string) (string, bool) {
	h := strings.TrimSpace(hrefSpaceReplacer.Replace(href))
	if h == "" || strings.HasPrefix(h, "#") {
		return "", false
	}
	if emailHrefRe.MatchString(h) { // a bare address used as href
		return "mailto:" + h, true
	}
	u, err := url.Parse(h)
	if err != nil {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.String(), true
	case "mailto", "tel", "ftp", "news", "irc":
		return strings.ReplaceAll(h, " ", "%20"), true
	case "":
	default: // javascript:, data:, vbscript: and the like cannot be followed
		return "", false
	}
	if r.base == nil {
		return "", false
	}
	abs := r.base.ResolveReference(u)
	switch abs.Scheme {
	case "http", "https":
		return WaybackBase + "/web/" + r.ts + "id_/" + abs.String(), true
	}
	return "", false
}

// table writes a data table as a pipe table and a layout table as the blocks in
// its cells: 2000s pages lay the whole page out in tables.
func (r *renderer) table(n *html.Node, depth int) {
	r.flush()
	rows := tableRows(n)
	if !r.isDataTable(n, rows) {
		r.children(n, depth)
		r.flush()
		return
	}
	var lines []string
	width := 0
	for _, row := range rows {
		var cells []string
		for _, c := range row {
			cr := r.child()
			t := cr.render([]*html.Node{c})
			t = collapseSpace(strings.ReplaceAll(t, "\n", " "))
			cells = append(cells, strings.ReplaceAll(t, "|", `\|`))
		}
		width = max(width, len(cells))
		lines = append(lines, strings.Join(cells, " | "))
		if len(lines) == 1 {
			lines = append(lines, "")
		}
	}
	lines[1] = strings.TrimSuffix(strings.Repeat("---|", width), "|")
	r.block(strings.Join(lines, "\n"))
}

// tableRows returns the cells of n's own rows (not of nested tables).
func tableRows(n *html.Node) [][]*html.Node {
	var rows [][]*html.Node
	var walk func(*html.Node)
	walk = func(p *html.Node) {
		for c := p.FirstChild; c != nil; c = c.NextSibling {
			switch c.DataAtom {
			case atom.Thead, atom.Tbody, atom.Tfoot:
				walk(c)
			case atom.Tr:
				var cells []*html.Node
				for d := c.FirstChild; d != nil; d = d.NextSibling {
					if d.DataAtom == atom.Td || d.DataAtom == atom.Th {
						cells = append(cells, d)
					}
				}
				if len(cells) > 0 {
					rows = append(rows, cells)
				}
			}
		}
	}
	walk(n)
	return rows
}

// isDataTable tells a table of data from a layout table: data tables have at
// least two rows and two columns of short cells without block structure.
func (r *renderer) isDataTable(n *html.Node, rows [][]*html.Node) bool {
	if len(rows) < 2 || attr(n, "role") == "presentation" {
		return false
	}
	cols := 0
	for _, row := range rows {
		cols = max(cols, len(row))
		for _, c := range row {
			if r.st.get(c).text > 400 {
				return false
			}
			for d := range c.Descendants() {
				switch d.DataAtom {
				case atom.Table, atom.Ul, atom.Ol, atom.Dl, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
					atom.Blockquote, atom.Pre, atom.Form:
					return false
				}
			}
		}
	}
	return cols >= 2
}

// flush lays out the paragraph being built: <br> becomes two spaces and a
// newline, a double <br> a paragraph break.
func (r *renderer) flush() {
	if len(r.inl) != 1 {
		return // inside a capture; the capturing element lays it out
	}
	s := r.inl[0].String()
	r.inl[0].Reset()
	r.space = true
	if t := r.layout(s); t != "" {
		for _, para := range strings.Split(t, "\n\n") {
			r.block(para)
		}
	}
}

// layout turns inline text with br marks into lines, trimmed and escaped.
func (r *renderer) layout(s string) string {
	if strings.TrimSpace(strings.ReplaceAll(s, brMark, "")) == "" {
		return ""
	}
	var paras []string
	var lines []string
	for _, piece := range strings.Split(s, brMark) {
		l := strings.Trim(piece, " \u00a0")
		if l == "" {
			if len(lines) > 0 {
				paras = append(paras, strings.Join(lines, "  \n"))
				lines = nil
			}
			continue
		}
		lines = append(lines, strings.ReplaceAll(escapeLine(l), "\u00a0", " "))
	}
	if len(lines) > 0 {
		paras = append(paras, strings.Join(lines, "  \n"))
	}
	return strings.Join(paras, "\n\n")
}

// escapeLine keeps text that merely looks like Markdown from becoming it: a
// paragraph starting "1. " or "- " is not a list, "--" is not a rule.
func escapeLine(l string) string {
	if l == "" {
		return l
	}
	switch c := l[0]; {
	case c >= '0' && c <= '9':
		i := 1
		for i < len(l) && l[i] >= '0' && l[i] <= '9' {
			i++
		}
		if i < len(l) && l[i] == '.' && (i+1 == len(l) || l[i+1] == ' ' || l[i+1] == '\t') {
			return l[:i] + `\.` + l[i+1:]
		}
	case c == '-' || c == '+' || c == '*':
		if len(l) == 1 || l[1] == ' ' || l[1] == '\t' || c == '-' && l[1] == '-' {
			return `\` + l
		}
	}
	return l
}

// block writes a finished block with the separation its context needs.
func (r *renderer) block(t string) {
	if len(r.lists) > 0 {
		r.blockSep(t, 1)
		return
	}
	r.blockSep(t, 2)
}

func (r *renderer) blockSep(t string, sep int) {
	if t == "" {
		return
	}
	if len(r.lists) > 0 {
		ls := r.lists[len(r.lists)-1]
		lines := strings.Split(t, "\n")
		for i := range lines {
			if i == 0 && ls.marker != "" {
				lines[i] = ls.marker + lines[i]
			} else {
				lines[i] = ls.cont + lines[i]
			}
		}
		ls.marker = ""
		t = strings.Join(lines, "\n")
		if sep > 1 {
			sep = 1
		}
	}
	if r.started {
		r.out.WriteString(strings.Repeat("\n", max(sep, r.sep)))
	}
	r.out.WriteString(t)
	r.started = true
	r.sep = 0
}

func indentLines(t, prefix string) string {
	lines := strings.Split(t, "\n")
	for i, l := range lines {
		if l == "" && prefix == "> " {
			lines[i] = ">"
			continue
		}
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// plainOfMarkdown strips link targets and the commonest Markdown syntax so that
// date finding and length checks see the words a reader sees: "](url)" becomes
// "]", autolinks a space, line-start heading, quote, bullet and number markers
// go, and so do "**", "\\", "[" and "]". It is one pass over the text.
func plainOfMarkdown(md string) string {
	var b strings.Builder
	b.Grow(len(md))
	var line []byte
	for {
		i := strings.IndexByte(md, '\n')
		l := md
		if i >= 0 {
			l = md[:i]
		}
		line = dropLinkTargets(line[:0], l)
		plainLine(&b, line)
		if i < 0 {
			break
		}
		b.WriteByte('\n')
		md = md[i+1:]
	}
	return b.String()
}

// dropLinkTargets appends l to dst with "](target)" shortened to "]" and
// <scheme:...> autolinks replaced by a space.
func dropLinkTargets(dst []byte, l string) []byte {
	for i := 0; i < len(l); i++ {
		switch l[i] {
		case ']':
			if j := linkTargetEnd(l, i+1); j > 0 {
				dst = append(dst, ']')
				i = j - 1
				continue
			}
		case '<':
			if j := autoLinkEnd(l, i); j > 0 {
				dst = append(dst, ' ')
				i = j - 1
				continue
			}
		}
		dst = append(dst, l[i])
	}
	return dst
}

// linkTargetEnd returns the end of "(target)" at l[i:], or 0: the target
// holds no space and no ")".
func linkTargetEnd(l string, i int) int {
	if i >= len(l) || l[i] != '(' {
		return 0
	}
	for j := i + 1; j < len(l); j++ {
		switch l[j] {
		case ')':
			return j + 1
		case ' ', '\t', '\n', '\r', '\f':
			return 0
		}
	}
	return 0
}

// autoLinkEnd returns the end of "<scheme:...>" at l[i:], or 0.
func autoLinkEnd(l string, i int) int {
	rest := l[i+1:]
	n := 0
	for _, p := range []string{"http:", "https:", "mailto:", "ftp:"} {
		if strings.HasPrefix(rest, p) {
			n = len(p)
			break
		}
	}
	if n == 0 {
		return 0
	}
	for j := i + 1 + n; j < len(l); j++ {
		switch l[j] {
		case '>':
			return j + 1
		case ' ', '\t', '\n', '\r', '\f':
			return 0
		}
	}
	return 0
}

// plainLine writes one line without its block marker, "**", "\\", "[" and "]".
func plainLine(b *strings.Builder, l []byte) {
	if k := blockMarkerEnd(l); k > 0 {
		l = l[k:]
	}
	for i := 0; i < len(l); i++ {
		switch c := l[i]; c {
		case '*':
			if i+1 < len(l) && l[i+1] == '*' {
				i++
				continue
			}
		case '\\', '[', ']':
			continue
		}
		b.WriteByte(l[i])
	}
}

// blockMarkerEnd returns how many bytes of indentation and block marker
// ("## ", "> ", ">", "* ", "12. ") start the line, or 0 when there is no marker.
func blockMarkerEnd(l []byte) int {
	i := 0
	for i < len(l) && (l[i] == ' ' || l[i] == '\t') {
		i++
	}
	if i == len(l) {
		return 0
	}
	switch c := l[i]; {
	case c == '#':
		j := i
		for j < len(l) && l[j] == '#' {
			j++
		}
		if j-i <= 6 && j < len(l) && l[j] == ' ' {
			return j + 1
		}
	case c == '>':
		if i+1 < len(l) && l[i+1] == ' ' {
			return i + 2
		}
		return i + 1
	case c == '*':
		if i+1 < len(l) && l[i+1] == ' ' {
			return i + 2
		}
	case c >= '0' && c <= '9':
		j := i
		for j < len(l) && l[j] >= '0' && l[j] <= '9' {
			j++
		}
		if j+1 < len(l) && l[j] == '.' && l[j+1] == ' ' {
			return j + 2
		}
	}
	return 0
}
