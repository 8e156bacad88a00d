// Package diffing compares two extracted versions of a policy. It is pure: it
// takes snapshot Documents and returns a Change, with no I/O, so the same
// comparison serves the fetch pass, the diff command and, later, alerts.
package diffing

import (
	"fmt"
	"strings"

	"github.com/aymanbagabas/go-udiff/lcs"

	"github.com/policywatch/policywatch/snapshot"
)

// Change is what differs between an old and a new version. Its JSON form is
// the contract that alerts, the API and `policywatch diff --format json`
// share (docs/changes.md): keep the names stable.
type Change struct {
	TextChanged  bool           `json:"text_changed"` // the normalised Markdown differs (snapshot.Hash)
	DateChanged  bool           `json:"date_changed"` // the stated "last updated" date differs
	OldDate      string         `json:"old_date"`     // stated date of the old version, "YYYY-MM-DD" or ""
	NewDate      string         `json:"new_date"`     // stated date of the new version
	Kinds        []string       `json:"kinds"`        // KindSilent, KindDated, … (see Classify)
	Severity     Severity       `json:"severity"`
	Stats        Stats          `json:"stats"`
	Clauses      []ClauseChange `json:"clauses"`       // the clauses that differ, in new-document order
	LinesAdded   int            `json:"lines_added"`   // non-blank lines only in the new version
	LinesRemoved int            `json:"lines_removed"` // non-blank lines only in the old version
	Unified      string         `json:"unified"`       // unified diff of the two texts ("" when the text did not change)
}

// Compare returns the change from old to new with the default options.
func Compare(old, new *snapshot.Document) Change {
	return CompareWith(old, new, Options{})
}

// CompareWith returns the change from old to new. A nil old (no earlier
// version) is treated as an empty text, so everything counts as added.
func CompareWith(old, new *snapshot.Document, opts Options) Change {
	var ch Change
	if old != nil {
		ch.OldDate = old.StatedDate
	}
	if new != nil {
		ch.NewDate = new.StatedDate
	}
	ch.DateChanged = ch.OldDate != ch.NewDate
	// Version identity (snapshot.Hash) ignores what no reader sees: a
	// non-breaking space for a space, the capture a link was resolved
	// against. Two texts that differ only there are one version, but as two
	// texts they did change: cosmetically, which Classify reports.
	sameVersion := old != nil && new != nil && snapshot.Hash(old.Markdown()) == snapshot.Hash(new.Markdown())
	ch.TextChanged = !sameVersion || old.Markdown() != new.Markdown()
	ch.Severity = Severity{Level: LevelNone, Reasons: []string{}}
	if !ch.TextChanged || sameVersion {
		// Nothing to align: the clauses are the same, and not counting
		// them keeps the commonest comparison (no change) cheap.
		ch.Kinds = Classify(ch, opts)
		return ch
	}
	d := diffLines(markdownLines(old), markdownLines(new))
	ch.LinesAdded, ch.LinesRemoved = d.counts()
	ch.Unified = d.unified("old", "new", 3)
	ch.Clauses, ch.Stats = Align(Clauses(old), Clauses(new))
	markDateOnly(ch.Clauses, old, new)
	ch.Severity = Assess(ch.Clauses, opts.Terms)
	ch.Kinds = Classify(ch, opts)
	return ch
}

// Clauses returns the clauses of a version: its title as a first-level
// heading, then the clauses of its body (snapshot.Segment). The title is
// kept out of the body's paths so that they read "4 Data storage › 4.1",
// not "Privacy Policy › 4 Data storage › 4.1". A nil document has none.
func Clauses(d *snapshot.Document) []snapshot.Clause {
	if d == nil {
		return nil
	}
	body := dropPageHeading(snapshot.Segment(d.Body))
	title := strings.TrimSpace(d.Title)
	if title == "" {
		return body
	}
	out := make([]snapshot.Clause, 0, len(body)+1)
	out = append(out, snapshot.Clause{Kind: snapshot.ClauseHeading, Level: 1, Text: title, Hash: snapshot.ClauseHash(title)})
	return append(out, body...)
}

// dropPageHeading keeps a page's one top heading out of the paths below it:
// a body that opens with its only level-1 heading ("# Acme Cloud Privacy
// Policy") is the document's name again, and every path would start with it.
// The heading itself stays a clause, so a change to it is still reported.
func dropPageHeading(cs []snapshot.Clause) []snapshot.Clause {
	if len(cs) == 0 || cs[0].Kind != snapshot.ClauseHeading || cs[0].Level != 1 {
		return cs
	}
	for _, c := range cs[1:] {
		if c.Kind == snapshot.ClauseHeading && c.Level == 1 {
			return cs
		}
	}
	for i := 1; i < len(cs); i++ {
		if len(cs[i].Path) > 0 {
			cs[i].Path = cs[i].Path[1:]
		}
	}
	return cs
}

// Unified returns a unified diff (three lines of context) between two
// versions. Lines are compared by their normal form (snapshot.Normalize), so
// a link that points at another capture of the same page, or at the www.
// variant of the same URL, is not reported; they are printed as written.
func Unified(oldLabel, newLabel string, old, new *snapshot.Document) string {
	return diffLines(markdownLines(old), markdownLines(new)).unified(oldLabel, newLabel, 3)
}

// markdownLines returns the document's Markdown as display lines: trailing
// spaces trimmed, non-breaking spaces made plain, runs of blank lines
// collapsed to one, as in the version's normal form.
func markdownLines(d *snapshot.Document) []string {
	if d == nil {
		return nil
	}
	lines := strings.Split(strings.ReplaceAll(d.Markdown(), "\u00a0", " "), "\n")
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if l == "" && (len(out) == 0 || out[len(out)-1] == "") {
			continue
		}
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// op is one line of a line diff: kept (' '), removed ('-') or added ('+'),
// with its index in the old (a) and new (b) line lists.
type op struct {
	kind byte
	a, b int
}

type lineDiff struct {
	a, b []string
	ops  []op
}

// diffLines aligns two line lists by the longest common subsequence of their
// normal forms.
func diffLines(a, b []string) lineDiff {
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i, l := range a {
		ka[i] = normalizeLine(l)
	}
	for i, l := range b {
		kb[i] = normalizeLine(l)
	}
	d := lineDiff{a: a, b: b}
	ai, bi := 0, 0
	for _, e := range lcs.DiffLines(ka, kb) {
		for ai < e.Start {
			d.ops = append(d.ops, op{' ', ai, bi})
			ai++
			bi++
		}
		for ; ai < e.End; ai++ {
			d.ops = append(d.ops, op{'-', ai, bi})
		}
		for ; bi < e.ReplEnd; bi++ {
			d.ops = append(d.ops, op{'+', ai, bi})
		}
	}
	for ai < len(a) {
		d.ops = append(d.ops, op{' ', ai, bi})
		ai++
		bi++
	}
	return d
}

// normalizeLine is snapshot.Normalize for one line. A line without a URL
// or a carriage return needs none of Normalize's regular expressions, only
// its whitespace rules, and most lines of a policy have neither: this keeps
// the line diff of a long policy within a few milliseconds.
func normalizeLine(l string) string {
	if strings.Contains(l, "://") || strings.IndexByte(l, '\r') >= 0 {
		return snapshot.Normalize(l)
	}
	return strings.TrimSpace(strings.ReplaceAll(l, "\u00a0", " "))
}

// counts returns the non-blank lines added and removed.
func (d lineDiff) counts() (added, removed int) {
	for _, o := range d.ops {
		switch {
		case o.kind == '+' && strings.TrimSpace(d.b[o.b]) != "":
			added++
		case o.kind == '-' && strings.TrimSpace(d.a[o.a]) != "":
			removed++
		}
	}
	return added, removed
}

// unified renders the diff in unified format with ctx lines of context. Kept
// lines are printed as they stand in the new version.
func (d lineDiff) unified(oldLabel, newLabel string, ctx int) string {
	var changes []int
	for i, o := range d.ops {
		if o.kind != ' ' {
			changes = append(changes, i)
		}
	}
	if len(changes) == 0 {
		return ""
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", oldLabel, newLabel)
	for i := 0; i < len(changes); {
		j := i
		for j+1 < len(changes) && changes[j+1]-changes[j] <= 2*ctx {
			j++
		}
		start, end := max(changes[i]-ctx, 0), min(changes[j]+ctx+1, len(d.ops))
		d.hunk(&sb, d.ops[start:end])
		i = j + 1
	}
	return sb.String()
}

func (d lineDiff) hunk(sb *strings.Builder, ops []op) {
	aStart, bStart, aLen, bLen := ops[0].a+1, ops[0].b+1, 0, 0
	for _, o := range ops {
		if o.kind != '+' {
			aLen++
		}
		if o.kind != '-' {
			bLen++
		}
	}
	// An empty side names the line before the hunk, as diff(1) does.
	if aLen == 0 {
		aStart--
	}
	if bLen == 0 {
		bStart--
	}
	fmt.Fprintf(sb, "@@ -%d,%d +%d,%d @@\n", aStart, aLen, bStart, bLen)
	for _, o := range ops {
		switch o.kind {
		case ' ':
			sb.WriteString(" " + d.b[o.b] + "\n")
		case '-':
			sb.WriteString("-" + d.a[o.a] + "\n")
		case '+':
			sb.WriteString("+" + d.b[o.b] + "\n")
		}
	}
}
