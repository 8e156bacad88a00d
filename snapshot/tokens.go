package snapshot

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	// tokenTagRe matches literal HTML tags left in reference Markdown (turndown
	// writes <br> inside table cells): markup, not words.
	tokenTagRe        = regexp.MustCompile(`</?[a-zA-Z][a-zA-Z0-9]*\s*/?>`)
	tokenLinkTargetRe = regexp.MustCompile(`\]\([^)\s]*(?:\s+"[^"]*")?\)`)
	tokenAutoLinkRe   = regexp.MustCompile(`<[a-zA-Z][a-zA-Z0-9+.\-]*:[^>\s]*>`)
	tokenBareURLRe    = regexp.MustCompile(`(?i)\b(?:https?|ftp)://\S+`)
)

// Tokens returns the lower-cased words of a Markdown text, without link
// targets, URLs and Markdown syntax: the units extraction quality is measured in.
//
// A word is a run of letters and digits, optionally followed by apostrophe +
// letters groups ("don't", "l'utilisateur"). The regular expressions run only
// where their first character occurs: scoring a corpus should not cost more
// than extracting it.
func Tokens(md string) []string {
	s := md
	if strings.IndexByte(s, '<') >= 0 {
		s = tokenTagRe.ReplaceAllString(s, " ")
		s = tokenAutoLinkRe.ReplaceAllString(s, " ")
	}
	if strings.Contains(s, "](") {
		s = tokenLinkTargetRe.ReplaceAllString(s, "]")
	}
	if strings.Contains(s, "://") {
		s = tokenBareURLRe.ReplaceAllString(s, " ")
	}
	return tokenWords(strings.ToLower(s))
}

// tokenWords splits s into words as described at Tokens.
func tokenWords(s string) []string {
	out := make([]string, 0, len(s)/6)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isLetterOrDigit(r) {
			i += n
			continue
		}
		start := i
		i += n
		for i < len(s) { // letters and digits
			r, n := utf8.DecodeRuneInString(s[i:])
			if !isLetterOrDigit(r) {
				break
			}
			i += n
		}
		for i < len(s) { // apostrophe groups: letters only
			r, n := utf8.DecodeRuneInString(s[i:])
			if r != '\'' && r != '’' {
				break
			}
			r2, n2 := utf8.DecodeRuneInString(s[i+n:])
			if i+n >= len(s) || !unicode.IsLetter(r2) {
				break
			}
			i += n + n2
			for i < len(s) {
				r, n := utf8.DecodeRuneInString(s[i:])
				if !unicode.IsLetter(r) {
					break
				}
				i += n
			}
		}
		out = append(out, strings.ReplaceAll(s[start:i], "’", "'"))
	}
	return out
}

func isLetterOrDigit(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// TokenScore compares extracted Markdown (got) with a reference (want) as
// multisets of words: precision is the share of got's words found in want,
// recall the share of want's words found in got. Word order is ignored, so
// the score measures what was kept and dropped, not formatting. Two empty
// texts score 1.
func TokenScore(got, want string) (precision, recall, f1 float64) {
	g, w := Tokens(got), Tokens(want)
	if len(g) == 0 && len(w) == 0 {
		return 1, 1, 1
	}
	counts := make(map[string]int, len(w))
	for _, t := range w {
		counts[t]++
	}
	overlap := 0
	for _, t := range g {
		if counts[t] > 0 {
			counts[t]--
			overlap++
		}
	}
	if overlap == 0 {
		return 0, 0, 0
	}
	precision = float64(overlap) / float64(len(g))
	recall = float64(overlap) / float64(len(w))
	return precision, recall, 2 * precision * recall / (precision + recall)
}

// Structure counts how much of a reference's structure an extraction kept:
// the reference's headings and list items, and how many of them appear in the
// extraction as headings and list items with the same words. Clause-level
// diffing works on this structure, so text that survives as a plain
// paragraph where the reference has a heading counts as lost here even though
// TokenScore counts its words.
type Structure struct{ HeadingsWant, HeadingsKept, ItemsWant, ItemsKept int }

// Add returns the sum of two counts, for totals over a corpus.
func (s Structure) Add(o Structure) Structure {
	return Structure{s.HeadingsWant + o.HeadingsWant, s.HeadingsKept + o.HeadingsKept,
		s.ItemsWant + o.ItemsWant, s.ItemsKept + o.ItemsKept}
}

// HeadingRate, ItemRate and Rate are the kept shares of headings, list items
// and both together; a reference without any counts as fully kept.
func (s Structure) HeadingRate() float64 { return ratio(s.HeadingsKept, s.HeadingsWant) }
func (s Structure) ItemRate() float64    { return ratio(s.ItemsKept, s.ItemsWant) }
func (s Structure) Rate() float64 {
	return ratio(s.HeadingsKept+s.ItemsKept, s.HeadingsWant+s.ItemsWant)
}

func ratio(kept, want int) float64 {
	if want == 0 {
		return 1
	}
	return float64(kept) / float64(want)
}

// StructureScore compares the headings and list items of got with those of
// want. A heading is an ATX line ("## Text") or a setext one (a line
// underlined with === or ---); a list item is a line starting, after any
// indentation, with "*", "-", "+" or "N." and a space. Texts are compared as
// their Tokens (lower-cased words, without Markdown and URLs), as multisets:
// each heading of got can stand for one heading of want.
func StructureScore(got, want string) Structure {
	gh, gi := structureKeys(got)
	wh, wi := structureKeys(want)
	var s Structure
	for k, n := range wh {
		s.HeadingsWant += n
		s.HeadingsKept += min(n, gh[k])
	}
	for k, n := range wi {
		s.ItemsWant += n
		s.ItemsKept += min(n, gi[k])
	}
	return s
}

// structureKeys returns the normalised texts of md's headings and list items
// with their counts. Headings and items without words are skipped.
func structureKeys(md string) (headings, items map[string]int) {
	headings, items = map[string]int{}, map[string]int{}
	lines := strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n")
	add := func(m map[string]int, text string) {
		if k := strings.Join(Tokens(text), " "); k != "" {
			m[k]++
		}
	}
	for i, l := range lines {
		t := strings.TrimLeft(l, " \t")
		switch {
		case strings.HasPrefix(l, "#"):
			if h := atxHeading(l); h != "" {
				add(headings, h)
			}
		case listItemText(t) != "":
			add(items, listItemText(t))
		case t != "" && !strings.Contains(t, "|") && i+1 < len(lines) && isSetextUnderline(lines[i+1]) && !isSetextUnderline(l):
			// A line of "---" under a table row is the row's separator, hence the "|" test.
			add(headings, t)
		}
	}
	return headings, items
}

// atxHeading returns the text of "## Text", or "" when l is not a heading.
func atxHeading(l string) string {
	n := 0
	for n < len(l) && l[n] == '#' {
		n++
	}
	if n > 6 || n == len(l) || l[n] != ' ' && l[n] != '\t' {
		return ""
	}
	return l[n:]
}

// listItemText returns the text after a bullet or number marker at the start
// of t (already without indentation), or "".
func listItemText(t string) string {
	if t == "" {
		return ""
	}
	n := 0
	switch t[0] {
	case '*', '-', '+':
		n = 1
	default:
		for n < len(t) && t[n] >= '0' && t[n] <= '9' {
			n++
		}
		if n == 0 || n == len(t) || t[n] != '.' {
			return ""
		}
		n++
	}
	if n == len(t) || t[n] != ' ' && t[n] != '\t' {
		return ""
	}
	return t[n:]
}

// isSetextUnderline reports whether l is a run of "=" or of "-" (a setext
// heading's underline, which turndown writes under h1 and h2).
func isSetextUnderline(l string) bool {
	l = strings.TrimSpace(l)
	if l == "" {
		return false
	}
	return strings.Trim(l, "=") == "" || strings.Trim(l, "-") == ""
}
