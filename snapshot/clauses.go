package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
)

// Clause is one unit of a policy for clause-level diffing: a heading, a
// paragraph, a list item or a table row of the Markdown body, with the path
// of the sections it sits in.
type Clause struct {
	// Path locates the clause: the headings above it and the numbers of the
	// list items it is nested in, e.g. ["7 Final provisions", "7.1"]. It is
	// stable across versions as long as the headings and numbers are.
	Path []string `json:"path"`
	// Label is the clause's own number or bullet label ("7.1", "a)", "3."),
	// "" when it has none. Renumbering changes Label, not Text.
	Label string `json:"label,omitempty"`
	// Kind is "heading", "paragraph", "item" or "row".
	Kind string `json:"kind"`
	// Level is the heading level (1–6) or list depth (1…), 0 for others.
	Level int `json:"level,omitempty"`
	// Text is the clause's text without its label, as Markdown.
	Text string `json:"text"`
	// Hash is the hex SHA-256 of the normalised Text (see Normalize), so that
	// identical clauses are found in constant time.
	Hash string `json:"hash"`
}

// Clause kinds.
const (
	ClauseHeading   = "heading"
	ClauseParagraph = "paragraph"
	ClauseItem      = "item"
	ClauseRow       = "row"
)

// PathString joins a clause path for display: "7 Final provisions › 7.1".
func PathString(path []string) string {
	return strings.Join(path, " › ")
}

// Location is where a reader finds the clause: its path followed by its own
// label, e.g. "4 Data storage › 4.1" for item 4.1 of section 4.
func (c Clause) Location() string {
	if c.Label == "" {
		return PathString(c.Path)
	}
	if len(c.Path) == 0 {
		return c.Label
	}
	return PathString(c.Path) + " › " + nestedLabel(c.Path[len(c.Path)-1], c.Label)
}

var (
	plainNumberRe = regexp.MustCompile(`^([0-9]+)[.)]?$`)
	sectionNumRe  = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)*)[.)]?(?:\s|$)`)
)

// nestedLabel composes a plain item number with the number of the section
// it is nested in, as readers cite it: item "4." under "2 How we use
// information" is 2.4. Labels that carry their own numbering (4.1, a), IV.)
// are kept as they are.
func nestedLabel(parent, label string) string {
	m := plainNumberRe.FindStringSubmatch(label)
	p := sectionNumRe.FindStringSubmatch(parent)
	if m == nil || p == nil {
		return label
	}
	return p[1] + "." + m[1]
}

// ClauseHash is the hash a clause text gets in Clause.Hash: the SHA-256 of
// its normal form. It is exported so that callers building clauses by hand
// (a document title, tests) hash them the same way.
func ClauseHash(text string) string {
	var sum [32]byte
	if strings.Contains(text, "://") {
		sum = sha256.Sum256([]byte(Normalize(text)))
	} else {
		// Without a URL Normalize's link rules cannot apply; the rest is
		// done here without regular expressions, as segmentation hashes
		// every clause of every version.
		sum = sha256.Sum256([]byte(normalizePlain(text)))
	}
	return hex.EncodeToString(sum[:])
}

// normalizePlain is Normalize for a text without URLs.
func normalizePlain(s string) string {
	if strings.Contains(s, "\u00a0") || strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\u00a0", " ")
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	if !strings.Contains(s, "\n") {
		return strings.TrimSpace(s)
	}
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\f\v")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// Segment splits a version's Markdown (Document.Markdown or Body) into
// clauses, in document order.
//
// It reads the Markdown we render (ATX headings, "  1. item" lists indented
// two spaces per level, pipe tables without outer pipes, blank-line separated
// paragraphs) and the common Markdown other tools write (setext headings,
// "*   item" bullets indented four spaces per level, tables with outer pipes,
// block quotes). It is a line scanner, not a CommonMark parser: policies are
// machine-written Markdown, and what matters here is that the same text
// always yields the same clauses with the same paths.
//
// Nesting of list items goes by the indentation of their markers (deeper
// marker, deeper item), which both layouts agree on although their content
// columns differ. Inside an item, a line that follows the item's text
// directly starts a new paragraph of the item (our renderer writes an item's
// paragraphs that way) unless the line before ends in a hard break ("  " or
// "\"); a paragraph inside an item has the item's label in its path.
func Segment(markdown string) []Clause {
	s := strings.ReplaceAll(markdown, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	sg := &segmenter{}
	for i := 0; i < len(lines); i++ {
		raw := expandTabs(lines[i])
		if strings.TrimSpace(raw) == "" {
			sg.flush()
			sg.inTable = false
			sg.blank = true
			continue
		}
		ind := len(raw) - len(strings.TrimLeft(raw, " "))
		t := strings.TrimRight(raw[ind:], " ")
		hardBreak := strings.HasSuffix(raw, "  ") || strings.HasSuffix(raw, "\\")
		next := ""
		if i+1 < len(lines) {
			next = expandTabs(lines[i+1])
		}
		if sg.inTable && !strings.Contains(t, "|") {
			sg.inTable = false
		}
		// The first byte tells which block rules can apply; the regular
		// expressions run only then, since most lines are plain text.
		c0 := t[0]
		marker := c0 == '*' || c0 == '-' || c0 == '+' || c0 >= '0' && c0 <= '9'
		switch {
		case sg.inTable:
			sg.row(t)
		case ind < 4 && strings.IndexByte(t, '|') >= 0 && isTableStart(t, next):
			sg.flush()
			sg.closeLists()
			sg.row(t)
			sg.inTable = true
			i++ // the delimiter row
		case ind < 4 && c0 == '#' && atxRe.MatchString(t):
			m := atxRe.FindStringSubmatch(t)
			sg.heading(len(m[1]), m[2])
		case ind < 4 && (c0 == '*' || c0 == '-' || c0 == '_') && thematicRe.MatchString(t):
			sg.flush()
		case ind < 4 && isUnderline(next) && setextRe.MatchString(next) && !(marker && listRe.MatchString(t)) && (sg.cur == nil || len(sg.lists) == 0):
			text := t
			if sg.cur != nil && sg.cur.Kind == ClauseParagraph && !sg.blank {
				text = strings.Join(append(sg.lines, t), " ")
				sg.cur, sg.lines = nil, nil
			}
			level := 2
			if strings.HasPrefix(strings.TrimSpace(next), "=") {
				level = 1
			}
			sg.heading(level, text)
			i++ // the underline
		case marker && listRe.MatchString(t):
			m := listRe.FindStringSubmatch(t)
			sg.item(ind, m[1], m[3])
		default:
			sg.text(ind, t)
		}
		sg.blank = false
		sg.hardBreak = hardBreak
	}
	sg.flush()
	return sg.out
}

var (
	atxRe      = regexp.MustCompile(`^(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	setextRe   = regexp.MustCompile(`^ {0,3}(?:=+|-{2,})[ \t]*$`)
	thematicRe = regexp.MustCompile(`^(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$`)
	listRe     = regexp.MustCompile(`^([*+-]|[0-9]{1,9}[.)])(?:([ \t]+)(.*))?$`)
	delimRe    = regexp.MustCompile(`^\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?$`)
	quoteRe    = regexp.MustCompile(`^(?:>[ \t]?)+`)
)

// isTableStart reports whether t is the header row of a pipe table: a row
// with a "|" followed by a delimiter row.
func isTableStart(t, next string) bool {
	return strings.Contains(t, "|") && strings.Contains(next, "-") && delimRe.MatchString(strings.TrimSpace(next))
}

// isUnderline reports whether a line may be a setext underline.
func isUnderline(l string) bool {
	l = strings.TrimLeft(l, " ")
	return l != "" && (l[0] == '=' || l[0] == '-')
}

func expandTabs(l string) string {
	if !strings.Contains(l, "\t") {
		return l
	}
	return strings.ReplaceAll(l, "\t", "    ")
}

type heading struct {
	level int
	title string
}

type openItem struct {
	marker int    // column of the list marker
	label  string // "" for bullets
	title  string // the item's first line when it reads as a section title
}

type segmenter struct {
	out       []Clause
	headings  []heading
	lists     []openItem
	cur       *Clause  // the clause being built
	lines     []string // its lines
	blank     bool     // the previous line was blank
	hardBreak bool     // the previous line ended in a hard break
	inTable   bool
}

// path returns the current section path: enclosing headings, then the
// labels of the enclosing list items (bullets have none).
func (sg *segmenter) path(items int) []string {
	p := make([]string, 0, len(sg.headings)+items)
	for _, h := range sg.headings {
		p = append(p, h.title)
	}
	for _, it := range sg.lists[:items] {
		switch {
		case it.label != "" && it.title != "":
			p = append(p, strings.TrimRight(it.label, ".)")+" "+it.title)
		case it.label != "":
			p = append(p, it.label)
		case it.title != "":
			p = append(p, it.title)
		}
	}
	return p
}

// itemTitle returns an item's first line when it reads as the title of the
// items nested under it ("2. **How we use information**"), so paths say
// "2 How we use information › 2.4" rather than "2. › 4.": short, and not a
// sentence. Otherwise "".
func itemTitle(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	t := plainTitle(line)
	if t == "" || len(t) > 80 || strings.ContainsAny(t[len(t)-1:], ".;:,!?") || len(strings.Fields(t)) > 10 {
		return ""
	}
	return t
}

func (sg *segmenter) flush() {
	if sg.cur == nil {
		return
	}
	c := *sg.cur
	c.Text = strings.TrimSpace(strings.Join(sg.lines, "\n"))
	sg.cur, sg.lines = nil, nil
	if (c.Kind == ClauseParagraph || c.Kind == ClauseItem) && c.Label == "" {
		c.Label, c.Text = splitLabel(c.Text, false)
	}
	if strings.Trim(c.Text, " *_|\\>") == "" {
		return // an empty item ("  1." before its paragraphs) or stray markup
	}
	c.Hash = ClauseHash(c.Text)
	sg.out = append(sg.out, c)
}

func (sg *segmenter) closeLists() { sg.lists = sg.lists[:0] }

func (sg *segmenter) heading(level int, text string) {
	sg.flush()
	sg.closeLists()
	sg.inTable = false
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	for len(sg.headings) > 0 && sg.headings[len(sg.headings)-1].level >= level {
		sg.headings = sg.headings[:len(sg.headings)-1]
	}
	label, rest := splitLabel(text, true)
	sg.cur = &Clause{Path: sg.path(0), Label: label, Kind: ClauseHeading, Level: level}
	sg.lines = []string{rest}
	sg.flush()
	sg.headings = append(sg.headings, heading{level, plainTitle(text)})
}

func (sg *segmenter) item(ind int, marker, text string) {
	sg.flush()
	sg.inTable = false
	for len(sg.lists) > 0 && sg.lists[len(sg.lists)-1].marker >= ind {
		sg.lists = sg.lists[:len(sg.lists)-1]
	}
	label := ""
	if marker[0] >= '0' && marker[0] <= '9' {
		label = marker
	}
	if own, rest := splitLabel(text, false); own != "" {
		label, text = own, rest
	}
	sg.cur = &Clause{Path: sg.path(len(sg.lists)), Label: label, Kind: ClauseItem, Level: len(sg.lists) + 1}
	sg.lines = []string{text}
	sg.lists = append(sg.lists, openItem{marker: ind, label: label, title: itemTitle(text)})
}

// text handles a line that is neither a heading, a list item nor a table
// row: the continuation of the clause being built, or a new paragraph.
func (sg *segmenter) text(ind int, t string) {
	if t[0] == '>' {
		t = quoteRe.ReplaceAllString(t, "")
	}
	if len(sg.lists) > 0 {
		// The innermost item whose marker is left of the line owns it.
		n := len(sg.lists)
		for n > 0 && sg.lists[n-1].marker >= ind {
			n--
		}
		switch {
		case n == 0 && !sg.blank && sg.cur != nil:
			// A lazy continuation line: it carries on the clause it follows.
			sg.lines = append(sg.lines, t)
			return
		case n == 0:
			sg.flush()
			sg.closeLists()
		default:
			sg.lists = sg.lists[:n]
			if sg.cur != nil && !sg.blank && sg.hardBreak {
				sg.lines = append(sg.lines, t)
				return
			}
			sg.flush()
			sg.cur = &Clause{Path: sg.path(n), Kind: ClauseParagraph}
			sg.lines = []string{t}
			return
		}
	}
	if sg.cur != nil && !sg.blank && sg.cur.Kind == ClauseParagraph {
		sg.lines = append(sg.lines, t)
		return
	}
	sg.flush()
	sg.cur = &Clause{Path: sg.path(0), Kind: ClauseParagraph}
	sg.lines = []string{t}
}

// row adds one table row as a clause; the cells are kept as written, with
// the outer pipes and cell padding removed so that re-padding is no change.
func (sg *segmenter) row(t string) {
	sg.flush()
	t = strings.TrimSpace(t)
	t = strings.TrimPrefix(t, "|")
	if strings.HasSuffix(t, "|") && !strings.HasSuffix(t, `\|`) {
		t = t[:len(t)-1]
	}
	cells := splitCells(t)
	empty := true
	for i, c := range cells {
		cells[i] = strings.TrimSpace(c)
		if cells[i] != "" {
			empty = false
		}
	}
	if empty {
		return
	}
	sg.cur = &Clause{Path: sg.path(0), Kind: ClauseRow}
	sg.lines = []string{strings.Join(cells, " | ")}
	sg.flush()
}

// splitCells splits a row at the pipes that are not escaped.
func splitCells(t string) []string {
	var cells []string
	start := 0
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case '\\':
			i++
		case '|':
			cells = append(cells, t[start:i])
			start = i + 1
		}
	}
	return append(cells, t[start:])
}

var (
	// numLabelRe matches a clause number at the start of a text: "7.1",
	// "7.1.", "7)", "2a.", "§ 3", "Article 7", "(a)", "a)", "(iv)", "IV.", "A.".
	numLabelRe = regexp.MustCompile(`^(?:(?:§|(?i:article|section|art\.))[ \t]*[0-9]{1,3}(?:\.[0-9]{1,3})*\.?|[0-9]{1,3}(?:\.[0-9]{1,3})*(?:[a-z]?[.)])?|\([0-9]{1,3}\)|\(?[a-z]\)|\([ivxlc]{1,6}\)|[ivxlcIVXLC]{1,6}[.)]|[A-Z][.)])[:]?`)
	emphOpenRe = regexp.MustCompile(`^(\*\*|__)`)
)

// splitLabel takes the clause number off the start of a text: "7.1 Data is
// kept" gives "7.1" and "Data is kept". A number must look like one: a
// paragraph or item needs a dotted number or a closing "." or ")" ("30 days
// of notice" keeps its 30); a heading may have a bare number ("7 Final
// provisions"). Bold around the number ("**7.1** Data", "**7.1 Scope**") is
// kept on the text, and an escaped "1\." counts as "1.".
func splitLabel(text string, isHeading bool) (label, rest string) {
	t := text
	open := ""
	if m := emphOpenRe.FindString(t); m != "" {
		open, t = m, t[len(m):]
	}
	t = strings.Replace(t, `\.`, ".", 1)
	if !mayBeLabel(t) {
		return "", text
	}
	m := numLabelRe.FindString(t)
	if m == "" || len(m) == len(t) {
		return "", text
	}
	after := t[len(m):]
	if open != "" && strings.HasPrefix(after, open) { // **7.1** Text
		after, open = after[len(open):], ""
	}
	if after == "" || (after[0] != ' ' && after[0] != '\t') {
		return "", text
	}
	bare := m[len(m)-1] >= '0' && m[len(m)-1] <= '9' && !strings.Contains(m, ".") &&
		!strings.HasPrefix(m, "§") && !strings.HasPrefix(strings.ToLower(m), "art") && !strings.HasPrefix(strings.ToLower(m), "sec")
	if bare && !isHeading {
		return "", text
	}
	// A lone roman-looking word ("I.") is a label only before more text.
	rest = strings.TrimSpace(after)
	if rest == "" || rest == open {
		return "", text
	}
	return strings.TrimSuffix(m, ":"), open + rest
}

// mayBeLabel is a cheap test that t can start with a label numLabelRe
// matches, so that the expression runs on few of a policy's clauses.
func mayBeLabel(t string) bool {
	if t == "" {
		return false
	}
	switch c := t[0]; {
	case c >= '0' && c <= '9', c == '(', strings.HasPrefix(t, "§"):
		return true
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		n := 1
		for n < len(t) && n < 8 && (t[n] >= 'a' && t[n] <= 'z' || t[n] >= 'A' && t[n] <= 'Z') {
			n++
		}
		if n < len(t) && (t[n] == '.' || t[n] == ')') {
			return true
		}
		w := strings.ToLower(t[:n])
		return w == "article" || w == "section"
	}
	return false
}

// plainTitle is a heading as it appears in a path: without emphasis
// markers, escapes and link targets.
func plainTitle(s string) string {
	s = tokenLinkTargetRe.ReplaceAllString(s, "]")
	r := strings.NewReplacer("**", "", "__", "", `\`, "", "[", "", "]", "")
	return strings.Join(strings.Fields(r.Replace(s)), " ")
}
