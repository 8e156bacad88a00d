package diffing

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ReportSchemaVersion is the version of the Report JSON contract
// (docs/changes.md). It changes only when a field is renamed, removed or
// changes meaning; new fields are added without a bump, so consumers must
// ignore names they do not know.
const ReportSchemaVersion = 1

// Report is a Change with the context a reader needs: whose policy, which two
// versions, and when the change happened. Its JSON form is the contract that
// `policywatch diff --format json`, alerts and the web UI share
// (docs/changes.md): keep the names stable.
type Report struct {
	// SchemaVersion is ReportSchemaVersion; RenderJSON fills it in so that
	// callers cannot forget it.
	SchemaVersion int    `json:"schema_version"`
	Vendor        string `json:"vendor"` // vendor name as in the config
	URL           string `json:"url"`    // the policy's URL, as watched
	Old           Side   `json:"old"`
	New           Side   `json:"new"`
	// Window brackets the change in the archive: the last capture with the
	// old text and the first with the new. It is nil when the two sides were
	// picked by hand and no recorded change links them, because then
	// policywatch cannot say when the text changed.
	Window *Window `json:"window"`
	Change Change  `json:"change"`
}

// Side is one of the two versions compared, named by one of its captures.
type Side struct {
	Timestamp  string `json:"timestamp"`   // 14-digit Wayback timestamp (UTC) of a capture with this text
	WaybackURL string `json:"wayback_url"` // that capture's raw (id_) playback URL
	StatedDate string `json:"stated_date"` // "YYYY-MM-DD" the text states as its last update, "" when none
}

// Window is where in the archive a change happened. The change took place
// somewhere between the two captures; policywatch never claims more.
type Window struct {
	LastOld  CaptureRef `json:"last_old"`  // the last capture with the old text
	FirstNew CaptureRef `json:"first_new"` // the first capture with the new text
}

// CaptureRef names one Wayback capture.
type CaptureRef struct {
	Timestamp  string `json:"timestamp"`   // 14-digit Wayback timestamp, UTC
	WaybackURL string `json:"wayback_url"` // raw (id_) playback URL
}

// Output formats of Render.
const (
	FormatTerminal = "terminal"
	FormatMarkdown = "markdown"
	FormatHTML     = "html"
	FormatJSON     = "json"
)

// Formats lists the output formats Render knows, for flag help and checks.
var Formats = []string{FormatTerminal, FormatMarkdown, FormatHTML, FormatJSON}

// RenderOptions tune the human-readable formats. JSON ignores them: it is
// the complete record.
type RenderOptions struct {
	// Color adds ANSI colours to the terminal format.
	Color bool
	// ShowCosmetic lists cosmetic clause changes instead of counting them:
	// readers rarely care about a curly quote, but sometimes need to check.
	ShowCosmetic bool
}

// Render writes r in the named format (one of Formats).
func Render(w io.Writer, format string, r Report, opts RenderOptions) error {
	switch format {
	case FormatTerminal:
		return renderText(w, NewView(r, opts), opts.Color)
	case FormatMarkdown:
		return renderMarkdown(w, NewView(r, opts))
	case FormatHTML:
		return renderHTML(w, NewView(r, opts))
	case FormatJSON:
		return RenderJSON(w, r)
	}
	return fmt.Errorf("unknown format %q: want one of %s", format, strings.Join(Formats, ", "))
}

// RenderText writes r for a terminal: plain text with [-removed-]{+added+}
// word diffs, or ANSI colours when color is set. Archived text is stripped of
// escape sequences and control characters first, so a captured page cannot
// drive the reader's terminal.
func RenderText(w io.Writer, r Report, color bool) error {
	return Render(w, FormatTerminal, r, RenderOptions{Color: color})
}

// RenderMarkdown writes r as GitHub-flavoured Markdown. Archived text is
// escaped so that it reads as text and never becomes a link, an image, HTML
// or formatting.
func RenderMarkdown(w io.Writer, r Report) error {
	return Render(w, FormatMarkdown, r, RenderOptions{})
}

// RenderHTML writes r as a complete, self-contained HTML document (inline
// CSS, no scripts, no external resources) that reads well on a phone. All
// text goes through html/template.
func RenderHTML(w io.Writer, r Report) error {
	return Render(w, FormatHTML, r, RenderOptions{})
}

// RenderJSON writes r as indented JSON, the contract of docs/changes.md.
// Lists are never null, so that consumers can iterate without a check.
func RenderJSON(w io.Writer, r Report) error {
	r.SchemaVersion = ReportSchemaVersion
	c := &r.Change
	c.Kinds = nonNil(c.Kinds)
	c.Clauses = nonNil(c.Clauses)
	c.Severity.Reasons = nonNil(c.Severity.Reasons)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// View is what the human formats show, worked out once so that terminal,
// Markdown, HTML and the web dashboard always say the same thing. Every
// string in it that comes from archived text has been through clean, so a
// renderer only has to escape for its own format.
type View struct {
	Vendor, URL string
	Kinds       []KindView
	Severity    Severity
	DateLine    string // "2021-03-03 → 2022-06-14" or "unchanged (2021-03-03)"
	Old, New    SideView
	Window      *WindowView
	// Note, Stats and HiddenWhat are the renderer's own words and numbers,
	// never archived text, so Markdown shows them unescaped.
	Note       string // said instead of clause changes when there are none to show
	Stats      string // "3 modified, 1 added; 14 unchanged"
	Groups     []GroupView
	Hidden     int    // cosmetic clause changes not shown
	HiddenWhat string // what they touch: "punctuation, links"
	Unified    string // the line diff, when there is no clause analysis
}

// KindView is one kind of a change as readers see it.
type KindView struct {
	Kind  string // one of the Kind constants, or "other" for a kind this renderer does not know
	Label string // "SILENT CHANGE", …
	Note  string // what the kind means, "" for an unknown kind
}

// SideView is one capture of a version: when it was taken and where it can
// be read in the archive.
type SideView struct {
	Timestamp  string // the 14-digit Wayback timestamp
	When       string // "2022-07-01 12:05:05 UTC", or Timestamp when it does not parse
	URL        string // the raw (id_) playback URL, not checked: see the renderers before linking it
	StatedDate string // "YYYY-MM-DD", "" when none
	ISO        string // RFC 3339, for <time datetime>; "" when Timestamp does not parse
}

// WindowView brackets a recorded change in the archive.
type WindowView struct {
	LastOld, FirstNew SideView
}

// GroupView is the clause changes of one section, in document order.
type GroupView struct {
	Section string
	Items   []ItemView
}

// ItemView is one clause change as shown.
type ItemView struct {
	Op       string // one of the Op constants, or "other"
	Verb     string // "Modified", "Added", … for display
	Where    string // the clause's place inside its section ("4.1"), "" when it is the section itself
	Terms    []string
	Words    []WordOp // the word diff of a modified clause
	Old, New string   // texts: removed shows Old, added New, modified without Words both
	Detail   string   // what happened to a moved or renumbered clause: "from 3 Sharing to 5 Transfers", "3.3 → 3.2"
	Excerpt  string   // its opening words, marked when cut
	Was      string   // the clause's old label, when it changed along with the text
	Cosmetic bool
	DateOnly bool // the clause holds the stated date and only its date changed
}

// kindLabels are what the human formats call each kind. A silent change
// comes first and loudest: it is what readers most want to know.
var kindLabels = map[string]KindView{
	KindSilent:   {KindSilent, "SILENT CHANGE", "the text changed but the stated “last updated” date did not"},
	KindDated:    {KindDated, "DATED CHANGE", "the text and the stated date both changed"},
	KindDateOnly: {KindDateOnly, "DATE-ONLY CHANGE", "the stated date changed; the text did not in substance"},
	KindCosmetic: {KindCosmetic, "COSMETIC", "only whitespace, punctuation, typography or link targets changed"},
	KindFlipBack: {KindFlipBack, "FLIP-BACK", "the new text equals an earlier version"},
}

var opVerbs = map[string]string{
	OpModified: "Modified", OpAdded: "Added", OpRemoved: "Removed", OpMoved: "Moved", OpRenumbered: "Renumbered",
}

// KindLabel returns how the human formats name a kind of change, so that a
// list of changes elsewhere (the dashboard) uses the same words as the
// report. An unknown kind is shown upper-cased, with no note.
func KindLabel(kind string) KindView {
	if kv, ok := kindLabels[kind]; ok {
		return kv
	}
	return KindView{Kind: "other", Label: strings.ToUpper(clean(kind))}
}

// NewView works out what the human formats show of r: labels, dates in
// words, clause changes grouped by section, cosmetic ones counted unless
// opts.ShowCosmetic. Archived text in it is cleaned (see clean) but not
// escaped: the caller escapes for its format.
func NewView(r Report, opts RenderOptions) View {
	c := r.Change
	v := View{
		Vendor:   clean(r.Vendor),
		URL:      clean(r.URL),
		Severity: Severity{Score: c.Severity.Score, Level: clean(c.Severity.Level)},
		Old:      newSide(r.Old.Timestamp, r.Old.WaybackURL, r.Old.StatedDate),
		New:      newSide(r.New.Timestamp, r.New.WaybackURL, r.New.StatedDate),
	}
	for _, reason := range c.Severity.Reasons {
		v.Severity.Reasons = append(v.Severity.Reasons, clean(reason))
	}
	for _, k := range c.Kinds {
		kv := KindLabel(k)
		if k == KindSilent {
			v.Kinds = append([]KindView{kv}, v.Kinds...)
		} else {
			v.Kinds = append(v.Kinds, kv)
		}
	}
	if c.DateChanged {
		v.DateLine = orNone(clean(c.OldDate)) + " → " + orNone(clean(c.NewDate))
	} else {
		v.DateLine = "unchanged (" + orNone(clean(c.NewDate)) + ")"
	}
	if r.Window != nil {
		v.Window = &WindowView{
			LastOld:  newSide(r.Window.LastOld.Timestamp, r.Window.LastOld.WaybackURL, ""),
			FirstNew: newSide(r.Window.FirstNew.Timestamp, r.Window.FirstNew.WaybackURL, ""),
		}
	}
	v.Stats = c.Stats.String()

	var hiddenWhat []string
	for _, cc := range c.Clauses {
		if cc.Cosmetic && !opts.ShowCosmetic {
			v.Hidden++
			if w := cosmeticWhat(cc); !contains(hiddenWhat, w) {
				hiddenWhat = append(hiddenWhat, w)
			}
			continue
		}
		section, it := newItem(cc)
		if n := len(v.Groups); n == 0 || v.Groups[n-1].Section != section {
			v.Groups = append(v.Groups, GroupView{Section: section})
		}
		g := &v.Groups[len(v.Groups)-1]
		g.Items = append(g.Items, it)
	}
	v.HiddenWhat = strings.Join(hiddenWhat, ", ")

	switch {
	case !c.TextChanged && !c.DateChanged:
		v.Note = "No difference: the two versions have the same text and stated date."
	case !c.TextChanged:
		v.Note = "The text did not change."
	case len(c.Clauses) == 0 && c.Unified != "":
		// No clause analysis (an older record, or a text the segmenter could
		// not split): the line diff is still the truth.
		v.Note = "No clause-level analysis is available for this change; the line diff follows."
		v.Unified = clean(c.Unified)
	case len(c.Clauses) == 0 && slices.Contains(c.Kinds, KindCosmetic):
		// One version to policywatch (snapshot.Hash): the texts differ only
		// in what no reader sees.
		v.Note = "Only invisible characters changed (spaces for non-breaking spaces, or how a link is written); the text reads the same."
	case len(c.Clauses) == 0:
		v.Note = "The text changed, but no details are available."
	case len(v.Groups) == 0 && v.Hidden == 0:
		v.Note = "No clause changed."
	}
	return v
}

func newSide(ts, url, stated string) SideView {
	s := SideView{Timestamp: clean(ts), URL: clean(url), StatedDate: clean(stated), When: clean(ts)}
	if t, err := time.Parse("20060102150405", ts); err == nil {
		s.When = t.Format("2006-01-02 15:04:05 UTC")
		s.ISO = t.Format(time.RFC3339)
	}
	return s
}

// newItem returns the section a clause change is listed under and how it is
// shown there.
func newItem(cc ClauseChange) (string, ItemView) {
	path := cc.Path
	if cc.Op == OpRemoved || path == "" {
		path = cc.OldPath
		if path == "" {
			path = cc.Path
		}
	}
	label := cc.Label
	if cc.Op == OpRemoved && cc.OldLabel != "" {
		label = cc.OldLabel
	}
	section, where := splitPath(clean(path), clean(label))
	if title := headingTitle(clean(path), clean(label), clean(firstNonEmpty(cc.New, cc.Old))); title != "" {
		// A numbered heading added or removed with its section: the
		// heading's path is its number alone, so without this it would be
		// listed before the first heading instead of as its own section.
		section, where = title, ""
	}
	it := ItemView{
		Op:       cc.Op,
		Verb:     opVerbs[cc.Op],
		Where:    where,
		Old:      clean(cc.Old),
		New:      clean(cc.New),
		Cosmetic: cc.Cosmetic,
	}
	if it.Verb == "" {
		// An op this renderer does not know yet: show it as it is.
		it.Op, it.Verb = "other", clean(cc.Op)
	}
	for _, t := range cc.Terms {
		it.Terms = append(it.Terms, clean(t))
	}
	for _, w := range cc.Words {
		it.Words = append(it.Words, WordOp{Op: w.Op, Text: clean(w.Text)})
	}
	switch cc.Op {
	case OpMoved:
		it.Detail = "from " + orTop(clean(cc.OldPath)) + " to " + orTop(clean(cc.Path))
		it.Excerpt = excerpt(firstNonEmpty(it.New, it.Old))
	case OpRenumbered:
		if cc.OldLabel != "" && cc.Label != "" {
			it.Detail = clean(cc.OldLabel) + " → " + clean(cc.Label)
		} else {
			it.Detail = lastStep(clean(cc.OldPath)) + " → " + lastStep(clean(cc.Path))
		}
		it.Excerpt = excerpt(firstNonEmpty(it.New, it.Old))
	default:
		if cc.OldLabel != "" && cc.OldLabel != cc.Label {
			it.Was = clean(cc.OldLabel)
		}
	}
	it.DateOnly = cc.DateOnly
	return section, it
}

// headingTitle returns "5. International transfers" for a top-level clause
// whose path is only its label ("5.") and whose text is one short line: a
// numbered heading, named as its section's paths name it. It returns ""
// for anything else, such as a numbered paragraph of several sentences.
func headingTitle(path, label, text string) string {
	if label == "" || path != label || strings.Contains(text, "\n") || len(text) > 100 || strings.HasSuffix(text, ".") {
		return ""
	}
	text = strings.Trim(strings.TrimSpace(text), "*_#")
	if text == "" {
		return ""
	}
	return label + " " + text
}

// pathSep joins the steps of a clause path (snapshot.PathString).
const pathSep = " › "

// splitPath splits a clause path into the section the clause is listed
// under and its place there. A numbered clause ends its own path with its
// label ("4 Data storage › 4.1"): it goes under its parent, as "4.1". Any
// other clause (a paragraph under a heading) is listed under its whole path.
func splitPath(p, label string) (section, where string) {
	if i := strings.LastIndex(p, pathSep); label != "" && i >= 0 && p[i+len(pathSep):] == label {
		return p[:i], label
	}
	if p == label && p != "" {
		return "Before the first heading", label
	}
	if p == "" {
		return "Before the first heading", ""
	}
	return p, ""
}

func lastStep(p string) string {
	if p == "" {
		return "(none)"
	}
	if i := strings.LastIndex(p, pathSep); i >= 0 {
		return p[i+len(pathSep):]
	}
	return p
}

func orTop(p string) string {
	if p == "" {
		return "the top of the document"
	}
	return p
}

func orNone(s string) string {
	if s == "" {
		return "none stated"
	}
	return s
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// excerptWords is how much of a moved or renumbered clause its one line
// quotes: enough to recognise it, with an ellipsis saying it was cut.
const excerptWords = 10

func excerpt(s string) string {
	f := strings.Fields(s)
	if len(f) <= excerptWords {
		return strings.Join(f, " ")
	}
	return strings.Join(f[:excerptWords], " ") + " …"
}

// String says how many clauses each operation touched: "3 modified, 1
// added; 14 unchanged", "" when nothing was counted. Reports, pages and
// feeds all word it this way.
func (s Stats) String() string {
	var parts []string
	for _, p := range []struct {
		n    int
		name string
	}{{s.Modified, "modified"}, {s.Added, "added"}, {s.Removed, "removed"}, {s.Moved, "moved"}, {s.Renumbered, "renumbered"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.name))
		}
	}
	if len(parts) == 0 && s.Identical == 0 {
		return ""
	}
	if len(parts) == 0 {
		parts = append(parts, "no clause changed")
	}
	return strings.Join(parts, ", ") + fmt.Sprintf("; %d unchanged", s.Identical)
}

var linkTarget = regexp.MustCompile(`\]\([^)]*\)`)

// cosmeticWhat names what a cosmetic clause change touches, for the count
// line. It only describes; the classification itself is Classify's.
func cosmeticWhat(cc ClauseChange) string {
	o, n := cc.Old, cc.New
	switch {
	case linkTarget.ReplaceAllString(o, "]") == linkTarget.ReplaceAllString(n, "]"):
		return "links"
	case strings.Join(strings.Fields(o), "") == strings.Join(strings.Fields(n), ""):
		return "whitespace"
	case lettersOnly(o) == lettersOnly(n):
		return "punctuation"
	}
	return "formatting"
}

func lettersOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// clean makes archived text safe to show in every format: invalid UTF-8
// becomes U+FFFD, ANSI/VT escape sequences (7- and 8-bit) are removed whole,
// other control characters but newline and tab are dropped, and Unicode
// bidirectional overrides, which can make a terminal show text in another
// order than it is stored, are dropped too. Carriage returns go, so "\r\n"
// is a plain newline.
func clean(s string) string {
	if isClean(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			i += escapeLen(s[i:])
			continue
		case r >= 0x80 && r <= 0x9f:
			// An 8-bit control: C1 CSI (0x9b), OSC (0x9d)… act like ESC plus
			// a byte on many terminals, so their sequence goes too.
			i += size + sequenceBody(s[i+size:], byte(r-0x40))
			continue
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f, isBidiControl(r):
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// isClean is the fast path: most text has nothing to remove.
func isClean(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r <= 0x9f) || r == utf8.RuneError || isBidiControl(r) {
			return false
		}
	}
	return true
}

func isBidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// escapeLen returns the length of the escape sequence at the start of s
// (s[0] is ESC).
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	return 2 + sequenceBody(s[2:], s[1])
}

// sequenceBody returns how many bytes of s belong to an escape sequence whose
// introducer (after ESC) is intro: CSI parameters up to the final byte; OSC,
// DCS, SOS, PM and APC strings up to BEL or ST; for other escapes their
// intermediate and final bytes. An unterminated string sequence is not
// swallowed: what follows it stays visible, which is what a reader needs
// when a page tries to hide text.
func sequenceBody(s string, intro byte) int {
	switch intro {
	case '[':
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
			if s[i] < 0x20 || s[i] > 0x7e {
				return i
			}
		}
		return len(s)
	case ']', 'P', 'X', '^', '_':
		for i := 0; i < len(s); i++ {
			switch {
			case s[i] == 0x07:
				return i + 1
			case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
				return i + 2
			case s[i] == 0xc2 && i+1 < len(s) && s[i+1] == 0x9c: // ST as UTF-8 U+009C
				return i + 2
			}
		}
		return 0
	}
	// The introducer was an intermediate (0x20–0x2f): more may follow, then
	// a final byte. Otherwise it was the final byte itself.
	if intro >= 0x20 && intro <= 0x2f {
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x30 && s[i] <= 0x7e {
				return i + 1
			}
			if s[i] < 0x20 || s[i] > 0x2f {
				return i
			}
		}
		return len(s)
	}
	return 0
}

// ---------------------------------------------------------------- terminal

// SGR codes of the terminal format. Deletions are also crossed out and
// insertions underlined, so that the diff reads without colour vision.
const (
	sgrReset  = "\x1b[0m"
	sgrBold   = "1"
	sgrDim    = "2"
	sgrDel    = "31;9"
	sgrIns    = "32;4"
	sgrRed    = "31"
	sgrGreen  = "32"
	sgrCyan   = "36"
	sgrSilent = "1;97;41"
)

var kindSGR = map[string]string{
	KindSilent: sgrSilent, KindDated: "1;33", KindDateOnly: "1;36", KindCosmetic: sgrDim, KindFlipBack: "1;35",
}

var levelSGR = map[string]string{"high": "1;31", "medium": "1;33", "low": sgrCyan, "none": sgrDim}

type textWriter struct {
	b     strings.Builder
	color bool
}

// paint colours s line by line, so that indentation added later and the
// newline itself stay uncoloured (an underlined indent looks like text).
func (t *textWriter) paint(sgr, s string) string {
	if !t.color || sgr == "" || s == "" {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "\x1b[" + sgr + "m" + l + sgrReset
		}
	}
	return strings.Join(lines, "\n")
}

func (t *textWriter) line(format string, args ...any) {
	fmt.Fprintf(&t.b, format, args...)
	t.b.WriteByte('\n')
}

func renderText(w io.Writer, v View, color bool) error {
	t := &textWriter{color: color}
	if v.URL == "" {
		t.line("%s", t.paint(sgrBold, v.Vendor))
	} else {
		t.line("%s — %s", t.paint(sgrBold, v.Vendor), v.URL)
	}
	for _, k := range v.Kinds {
		if k.Note != "" {
			t.line("%s: %s", t.paint(kindSGR[k.Kind], k.Label), k.Note)
		} else {
			t.line("%s", t.paint(sgrBold, k.Label))
		}
	}
	if v.Severity.Level != "" {
		t.line("severity: %s (score %d)", t.paint(levelSGR[v.Severity.Level], v.Severity.Level), v.Severity.Score)
		for _, r := range v.Severity.Reasons {
			t.line("  • %s", r)
		}
	}
	t.line("stated date: %s", v.DateLine)
	t.line("old: %s  %s  (last updated %s)", v.Old.When, v.Old.URL, orNone(v.Old.StatedDate))
	t.line("new: %s  %s  (last updated %s)", v.New.When, v.New.URL, orNone(v.New.StatedDate))
	if v.Window != nil {
		t.line("changed between %s (last capture with the old text) and %s (first capture with the new)", v.Window.LastOld.When, v.Window.FirstNew.When)
		t.line("  last old:  %s", v.Window.LastOld.URL)
		t.line("  first new: %s", v.Window.FirstNew.URL)
	} else {
		t.line("change window: unknown (these versions were picked by hand, not a recorded change)")
	}
	if v.Stats != "" {
		t.line("\nclauses: %s", v.Stats)
	}
	if v.Note != "" {
		t.line("\n%s", v.Note)
	}
	for _, g := range v.Groups {
		t.line("\n%s", t.paint(sgrBold, "§ "+g.Section))
		for _, it := range g.Items {
			t.item(it)
		}
	}
	if v.Hidden > 0 {
		t.line("\n%s", t.paint(sgrDim, hiddenLine(v)))
	}
	if v.Unified != "" {
		t.b.WriteByte('\n')
		for _, l := range strings.Split(strings.TrimRight(v.Unified, "\n"), "\n") {
			switch {
			case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
				l = t.paint(sgrBold, l)
			case strings.HasPrefix(l, "@@"):
				l = t.paint(sgrCyan, l)
			case strings.HasPrefix(l, "+"):
				l = t.paint(sgrGreen, l)
			case strings.HasPrefix(l, "-"):
				l = t.paint(sgrRed, l)
			}
			t.line("%s", l)
		}
	}
	_, err := io.WriteString(w, t.b.String())
	return err
}

var opMarks = map[string]string{OpModified: "~", OpAdded: "+", OpRemoved: "-", OpMoved: "↷", OpRenumbered: "#"}

const textIndent = "      "

func (t *textWriter) item(it ItemView) {
	mark := opMarks[it.Op]
	if mark == "" {
		mark = "?"
	}
	head := "  " + mark + " "
	if it.Where != "" {
		head += it.Where + " "
	}
	switch it.Op {
	case OpMoved, OpRenumbered:
		head = "  " + mark + " " + strings.ToLower(it.Verb) + " " + it.Detail
		if it.Excerpt != "" {
			head += ": “" + it.Excerpt + "”"
		}
	default:
		head += strings.ToLower(it.Verb)
	}
	head += itemNotes(it)
	if len(it.Terms) > 0 {
		head += " [" + strings.Join(it.Terms, ", ") + "]"
	}
	t.line("%s", head)
	indent := func(s string) string { return textIndent + strings.ReplaceAll(s, "\n", "\n"+textIndent) }
	switch {
	case it.Op == OpMoved || it.Op == OpRenumbered:
	case it.Op == OpModified && len(it.Words) > 0:
		var b strings.Builder
		for _, w := range it.Words {
			switch w.Op {
			case "+":
				if t.color {
					b.WriteString(t.paint(sgrIns, w.Text))
				} else {
					b.WriteString("{+" + w.Text + "+}")
				}
			case "-":
				if t.color {
					b.WriteString(t.paint(sgrDel, w.Text))
				} else {
					b.WriteString("[-" + w.Text + "-]")
				}
			default:
				b.WriteString(w.Text)
			}
		}
		t.line("%s", indent(b.String()))
	case it.Op == OpAdded:
		t.line("%s", indent(t.paint(sgrGreen, it.New)))
	case it.Op == OpRemoved:
		t.line("%s", indent(t.paint(sgrRed, it.Old)))
	default:
		if it.Old != "" {
			t.line("%s", indent(t.paint(sgrRed, "- "+it.Old)))
		}
		if it.New != "" {
			t.line("%s", indent(t.paint(sgrGreen, "+ "+it.New)))
		}
	}
}

// itemNotes says what else is true of a clause change: its old number, that
// it is cosmetic, that it is the stated date.
func itemNotes(it ItemView) string {
	s := ""
	if it.Was != "" {
		s += " (was " + it.Was + ")"
	}
	if it.Cosmetic {
		s += " (cosmetic)"
	}
	if it.DateOnly {
		s += " (the stated date)"
	}
	return s
}

func hiddenLine(v View) string {
	noun := "changes"
	if v.Hidden == 1 {
		noun = "change"
	}
	return fmt.Sprintf("%d cosmetic %s (%s) not shown", v.Hidden, noun, v.HiddenWhat)
}

// ---------------------------------------------------------------- Markdown

// mdEscape makes archived text literal in Markdown. Every ASCII character
// that can open markup in the middle of a line is backslash-escaped: link
// and image brackets, HTML, emphasis, code, entities, tables, math, issue
// references, and '@' against mentions and e-mail autolinks. A ':' between a
// letter and a non-space (javascript:x, https://) is escaped so that no
// scheme autolinks, and the '.' of "www." for the same reason. Parentheses
// and '!' stay as they are: without an unescaped '[' they open nothing.
// Newlines become spaces: the text always sits inside a line the renderer
// started, so no block (heading, list, quote, code) can begin.
func mdEscape(s string) string {
	var b strings.Builder
	prev := ' '
	for i, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '#', '|', '~', '&', '$', '@':
			b.WriteByte('\\')
			b.WriteRune(r)
		case ':':
			if next, _ := utf8.DecodeRuneInString(s[i+1:]); unicode.IsLetter(prev) && i+1 < len(s) && !unicode.IsSpace(next) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case '.':
			if i >= 3 && strings.EqualFold(s[i-3:i], "www") {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case '\n', '\t':
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

// mdLink returns a Markdown link to u with the given (already escaped)
// text, or the text and the escaped URL when u is not a plain http(s) URL:
// a link from archived data must not be able to run code or break out of
// its destination.
func mdLink(text, u string) string {
	if !safeURL(u) {
		if u == "" {
			return text
		}
		return text + " (" + mdEscape(u) + ")"
	}
	return "[" + text + "](<" + u + ">)"
}

// safeURL reports whether u can be used as a link target as it is: http or
// https, and nothing that could end the destination or start markup.
func safeURL(u string) bool {
	lower := strings.ToLower(u)
	if !strings.HasPrefix(lower, "https://") && !strings.HasPrefix(lower, "http://") {
		return false
	}
	for _, r := range u {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("<>\\\"'`", r) {
			return false
		}
	}
	return true
}

func renderMarkdown(w io.Writer, v View) error {
	var b strings.Builder
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	line("# %s: policy change", mdEscape(v.Vendor))
	line("")
	switch {
	case v.URL == "":
	case safeURL(v.URL):
		line("<%s>", v.URL)
		line("")
	default:
		// Never at the start of a line: "1. x" or "- x" would open a list.
		line("Policy URL (not a web link): %s", mdEscape(v.URL))
		line("")
	}
	for i, k := range v.Kinds {
		end := "  " // a hard line break between kinds
		if i == len(v.Kinds)-1 {
			end = "\n"
		}
		if k.Note != "" {
			line("**%s**: %s%s", mdEscape(k.Label), k.Note, end)
		} else {
			line("**%s**%s", mdEscape(k.Label), end)
		}
	}
	if v.Severity.Level != "" {
		line("**Severity: %s** (score %d)", mdEscape(v.Severity.Level), v.Severity.Score)
		line("")
		for _, r := range v.Severity.Reasons {
			line("- %s", mdEscape(r))
		}
		if len(v.Severity.Reasons) > 0 {
			line("")
		}
	}
	// A heading between the reasons and the dates: two lists in a row
	// would merge into one.
	line("## Dates")
	line("")
	line("- **Stated date:** %s", mdEscape(v.DateLine))
	line("- **Old version:** %s, last updated %s", mdLink(mdEscape(v.Old.When), v.Old.URL), mdEscape(orNone(v.Old.StatedDate)))
	line("- **New version:** %s, last updated %s", mdLink(mdEscape(v.New.When), v.New.URL), mdEscape(orNone(v.New.StatedDate)))
	if v.Window != nil {
		line("- **Changed between** %s (last capture with the old text) and %s (first capture with the new)",
			mdLink(mdEscape(v.Window.LastOld.When), v.Window.LastOld.URL), mdLink(mdEscape(v.Window.FirstNew.When), v.Window.FirstNew.URL))
	} else {
		line("- **Change window:** unknown (these versions were picked by hand, not a recorded change)")
	}
	line("")
	line("## What changed")
	line("")
	if v.Stats != "" {
		line("Clauses: %s.", v.Stats)
		line("")
	}
	if v.Note != "" {
		line("%s", v.Note)
		line("")
	}
	for _, g := range v.Groups {
		line("### %s", mdEscape(g.Section))
		line("")
		for _, it := range g.Items {
			line("- %s", mdItem(it))
		}
		line("")
	}
	if v.Hidden > 0 {
		line("*%s.*", hiddenLine(v))
		line("")
	}
	if v.Unified != "" {
		fence := strings.Repeat("`", max(3, longestRun(v.Unified, '`')+1))
		line("%sdiff", fence)
		b.WriteString(strings.TrimRight(v.Unified, "\n"))
		line("")
		line("%s", fence)
		line("")
	}
	_, err := io.WriteString(w, strings.TrimRight(b.String(), "\n")+"\n")
	return err
}

func mdItem(it ItemView) string {
	head := "**" + mdEscape(it.Verb)
	if it.Where != "" && it.Op != OpMoved && it.Op != OpRenumbered {
		head += " " + mdEscape(it.Where)
	}
	head += "**" + mdEscape(itemNotes(it))
	if len(it.Terms) > 0 {
		head += " *(" + mdEscape(strings.Join(it.Terms, ", ")) + ")*"
	}
	switch {
	case it.Op == OpMoved || it.Op == OpRenumbered:
		s := head + " " + mdEscape(it.Detail)
		if it.Excerpt != "" {
			s += ": “" + mdEscape(it.Excerpt) + "”"
		}
		return s
	case it.Op == OpModified && len(it.Words) > 0:
		return head + ": " + mdWords(it.Words)
	case it.Op == OpAdded:
		return head + ": " + mdEscape(it.New)
	case it.Op == OpRemoved:
		return head + ": " + mdEscape(it.Old)
	}
	return head + ": " + mdWords([]WordOp{{Op: "-", Text: it.Old}, {Op: "+", Text: it.New}})
}

// mdWords renders a word diff as ~~removed~~ and **added**. Whitespace stays
// outside the markers, and where CommonMark would not see a marker as one
// (punctuation against a letter, as in "policy**.**") the span falls back
// to <del>/<ins>, which GitHub renders too; the text inside is escaped
// either way.
func mdWords(words []WordOp) string {
	type seg struct{ op, text string }
	segs := make([]seg, 0, len(words))
	for _, w := range words {
		if w.Text != "" {
			segs = append(segs, seg{w.Op, mdEscape(w.Text)})
		}
	}
	var b strings.Builder
	for i, s := range segs {
		if s.op != "+" && s.op != "-" {
			b.WriteString(s.text)
			continue
		}
		core := strings.TrimSpace(s.text)
		lead := s.text[:strings.Index(s.text, core)]
		trail := s.text[len(lead)+len(core):]
		if core == "" {
			if s.op == "+" {
				b.WriteString(s.text)
			}
			continue
		}
		b.WriteString(lead)
		prev := lastRune(b.String())
		next := ' '
		if trail == "" && i+1 < len(segs) {
			next, _ = utf8.DecodeRuneInString(segs[i+1].text)
			if segs[i+1].op == "+" || segs[i+1].op == "-" {
				next = '*' // the next span opens with a marker or a tag: punctuation
			}
		}
		first, _ := utf8.DecodeRuneInString(core)
		last := lastRune(core)
		opens := !isMDPunct(first) || isMDSpace(prev) || isMDPunct(prev)
		closes := !isMDPunct(last) || isMDSpace(next) || isMDPunct(next)
		marker, tag := "**", "ins"
		if s.op == "-" {
			marker, tag = "~~", "del"
		}
		if opens && closes {
			b.WriteString(marker + core + marker)
		} else {
			b.WriteString("<" + tag + ">" + core + "</" + tag + ">")
		}
		b.WriteString(trail)
	}
	return b.String()
}

func lastRune(s string) rune {
	if s == "" {
		return ' '
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

func isMDSpace(r rune) bool { return unicode.IsSpace(r) }

func isMDPunct(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) }

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// ---------------------------------------------------------------- HTML

// htmlView adds what only the standalone HTML report needs.
type htmlView struct {
	View
	Title   string
	URLSafe bool
}

// UnifiedRow is one line of the line diff with the class that colours it:
// "file" (the ---/+++ header), "hunk", "add", "del" or "ctx".
type UnifiedRow struct {
	Class, Text string
}

// LevelClass returns the severity level as a CSS class suffix: the level
// itself when it is one this package knows, else "other", so that no
// unexpected string ends up in a class attribute.
func (v View) LevelClass() string {
	if _, ok := levelSGR[v.Severity.Level]; ok {
		return v.Severity.Level
	}
	return "other"
}

// HiddenLine returns the line that counts the cosmetic clause changes not
// shown ("2 cosmetic changes (punctuation, links) not shown"), "" when none
// were hidden.
func (v View) HiddenLine() string {
	if v.Hidden == 0 {
		return ""
	}
	return hiddenLine(v)
}

// UnifiedRows splits the line diff into classed lines for HTML, nil when
// there is none.
func (v View) UnifiedRows() []UnifiedRow {
	if v.Unified == "" {
		return nil
	}
	var rows []UnifiedRow
	for _, l := range strings.Split(strings.TrimRight(v.Unified, "\n"), "\n") {
		cls := "ctx"
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
			cls = "file"
		case strings.HasPrefix(l, "@@"):
			cls = "hunk"
		case strings.HasPrefix(l, "+"):
			cls = "add"
		case strings.HasPrefix(l, "-"):
			cls = "del"
		}
		rows = append(rows, UnifiedRow{cls, l})
	}
	return rows
}

func renderHTML(w io.Writer, v View) error {
	hv := htmlView{View: v, Title: v.Vendor + ": policy change", URLSafe: safeURL(v.URL)}
	return htmlTemplate.Execute(w, hv)
}

// link returns a URL html/template may put in an href: http(s) only, so a
// hostile URL in the data shows as text instead (html/template would
// neutralise it anyway; this keeps the output honest rather than "#ZgotmplZ").
func link(u string) string {
	if safeURL(u) {
		return u
	}
	return ""
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{"link": link}).Parse(htmlSource))

// htmlSource is the HTML report. The Content-Security-Policy forbids every
// script, frame and remote load even if something slipped through the
// escaping; colours meet WCAG AA contrast in light and dark schemes, and
// <del>/<ins> carry hidden words for screen readers, which do not announce
// them otherwise.
const htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>
:root{color-scheme:light dark;--fg:#1f2328;--bg:#fff;--muted:#57606a;--line:#d0d7de;--link:#0550ae;--del-bg:#ffebe9;--del-fg:#82071e;--ins-bg:#dafbe1;--ins-fg:#0f5323;--chip:#eaeef2}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9da7b3;--line:#30363d;--link:#6cb6ff;--del-bg:#5d0f12;--del-fg:#ffdcd7;--ins-bg:#0f3d1e;--ins-fg:#aff5b4;--chip:#21262d}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:1rem/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:46rem;margin:0 auto;padding:1rem}
a{color:var(--link)}
h1{font-size:1.5rem;margin:.25rem 0}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.25rem}
h3{font-size:1.05rem;margin:1.25rem 0 .25rem}
.url,dd,.text,pre{overflow-wrap:anywhere}
.muted{color:var(--muted)}
.kinds{margin:.5rem 0}
.kind{display:inline-block;padding:.1rem .5rem;margin:0 .25rem .25rem 0;border-radius:.3rem;font-weight:700;font-size:.9rem;letter-spacing:.03em;background:var(--chip);color:var(--fg);border:1px solid var(--line)}
.kind-silent{background:#a40e26;color:#fff;border-color:#a40e26}
.kind-dated{background:#7d4e00;color:#fff;border-color:#7d4e00}
.level-high{color:#fff;background:#a40e26;padding:0 .4rem;border-radius:.3rem}
.level-medium{color:#fff;background:#7d4e00;padding:0 .4rem;border-radius:.3rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dt{font-weight:600}
dd{margin:0}
@media (max-width:32rem){dl{grid-template-columns:1fr}dd{margin-bottom:.5rem}}
ul.clauses{list-style:none;padding:0;margin:0}
ul.clauses>li{border-left:4px solid var(--line);padding:.25rem 0 .25rem .75rem;margin:.5rem 0}
li.op-added{border-left-color:#1a7f37}
li.op-removed{border-left-color:#cf222e}
li.op-modified{border-left-color:#9a6700}
.what{margin:0;font-weight:600}
.terms{font-weight:400;font-size:.85rem;background:var(--chip);border-radius:.3rem;padding:0 .35rem;margin-left:.25rem}
.text{margin:.25rem 0 0;white-space:pre-wrap}
del{background:var(--del-bg);color:var(--del-fg);text-decoration:line-through}
ins{background:var(--ins-bg);color:var(--ins-fg);text-decoration:underline}
.removed{color:var(--del-fg);background:var(--del-bg)}
.added{color:var(--ins-fg);background:var(--ins-bg)}
pre{white-space:pre-wrap;font-size:.85rem;background:var(--chip);padding:.5rem;border-radius:.3rem}
pre .add{color:var(--ins-fg);background:var(--ins-bg)}
pre .del{color:var(--del-fg);background:var(--del-bg)}
pre .hunk,pre .file{color:var(--muted)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
</style>
</head>
<body>
<main>
<header>
<h1>{{.Vendor}}</h1>
<p class="url">{{if .URLSafe}}<a href="{{link .URL}}" rel="noopener noreferrer">{{.URL}}</a>{{else}}{{.URL}}{{end}}</p>
{{- range .Kinds}}
<p class="kinds"><strong class="kind kind-{{.Kind}}">{{.Label}}</strong>{{if .Note}} {{.Note}}{{end}}</p>
{{- end}}
</header>
{{- if .Severity.Level}}
<section aria-labelledby="severity">
<h2 id="severity">Severity: <span class="level-{{.LevelClass}}">{{.Severity.Level}}</span> <span class="muted">(score {{.Severity.Score}})</span></h2>
{{- if .Severity.Reasons}}
<ul>
{{- range .Severity.Reasons}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
</section>
{{- end}}
<section aria-labelledby="dates">
<h2 id="dates">Dates</h2>
<dl>
<dt>Stated date</dt><dd>{{.DateLine}}</dd>
<dt>Old version</dt><dd>{{template "capture" .Old}}, last updated {{or .Old.StatedDate "none stated"}}</dd>
<dt>New version</dt><dd>{{template "capture" .New}}, last updated {{or .New.StatedDate "none stated"}}</dd>
{{- if .Window}}
<dt>Changed between</dt><dd>{{template "capture" .Window.LastOld}} (last capture with the old text) and {{template "capture" .Window.FirstNew}} (first capture with the new)</dd>
{{- else}}
<dt>Change window</dt><dd>unknown (these versions were picked by hand, not a recorded change)</dd>
{{- end}}
</dl>
</section>
<section aria-labelledby="changes">
<h2 id="changes">What changed</h2>
{{- if .Stats}}
<p>Clauses: {{.Stats}}.</p>
{{- end}}
{{- if .Note}}
<p>{{.Note}}</p>
{{- end}}
{{- range .Groups}}
<h3>{{.Section}}</h3>
<ul class="clauses">
{{- range .Items}}
<li class="op-{{.Op}}">
<p class="what">{{.Verb}}{{if and .Where (ne .Op "moved") (ne .Op "renumbered")}} {{.Where}}{{end}}{{if .Detail}} {{.Detail}}{{end}}{{if .Was}} <span class="muted">(was {{.Was}})</span>{{end}}{{if .Cosmetic}} <span class="muted">(cosmetic)</span>{{end}}{{if .DateOnly}} <span class="muted">(the stated date)</span>{{end}}{{range .Terms}} <span class="terms">{{.}}</span>{{end}}</p>
{{- if .Detail}}{{if .Excerpt}}
<p class="text muted" dir="auto">“{{.Excerpt}}”</p>{{end}}
{{- else if and (eq .Op "modified") .Words}}
<p class="text" dir="auto">{{range .Words}}{{if eq .Op "+"}}<ins><span class="sr">[added: </span>{{.Text}}<span class="sr">]</span></ins>{{else if eq .Op "-"}}<del><span class="sr">[removed: </span>{{.Text}}<span class="sr">]</span></del>{{else}}{{.Text}}{{end}}{{end}}</p>
{{- else if eq .Op "added"}}
<p class="text added" dir="auto">{{.New}}</p>
{{- else if eq .Op "removed"}}
<p class="text removed" dir="auto">{{.Old}}</p>
{{- else}}{{if .Old}}
<p class="text removed" dir="auto"><span class="sr">Old: </span>{{.Old}}</p>{{end}}{{if .New}}
<p class="text added" dir="auto"><span class="sr">New: </span>{{.New}}</p>{{end}}
{{- end}}
</li>
{{- end}}
</ul>
{{- end}}
{{- if .HiddenLine}}
<p class="muted">{{.HiddenLine}}.</p>
{{- end}}
{{- if .UnifiedRows}}
<pre aria-label="line diff">{{range .UnifiedRows}}<span class="{{.Class}}">{{.Text}}</span>
{{end}}</pre>
{{- end}}
</section>
</main>
</body>
</html>
{{define "capture"}}{{if link .URL}}<a href="{{link .URL}}" rel="noopener noreferrer"><time{{if .ISO}} datetime="{{.ISO}}"{{end}}>{{.When}}</time></a>{{else}}<time{{if .ISO}} datetime="{{.ISO}}"{{end}}>{{.When}}</time>{{if .URL}} ({{.URL}}){{end}}{{end}}{{end}}`
