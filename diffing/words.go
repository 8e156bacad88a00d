package diffing

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aymanbagabas/go-udiff/lcs"
)

// Word-diff operations (WordOp.Op).
const (
	WordKept    = "="
	WordAdded   = "+"
	WordRemoved = "-"
)

// tokenize splits a text into words, runs of whitespace and single other
// characters, so that joining the tokens gives the text back. A word is a
// run of letters and digits; digits joined by "." or "," ("1,000", "3.5")
// and letters joined by an apostrophe ("don't", "l'utilisateur") stay one
// word, because a reader sees them as one.
func tokenize(s string) []string {
	toks := make([]string, 0, len(s)/4)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		start := i
		i += n
		switch {
		case isWordRune(r):
			for i < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[i:])
				if isWordRune(r2) {
					i += n2
					continue
				}
				if joiner(s, i, r2, n2) {
					i += n2
					continue
				}
				break
			}
		case unicode.IsSpace(r):
			for i < len(s) {
				r2, n2 := utf8.DecodeRuneInString(s[i:])
				if !unicode.IsSpace(r2) {
					break
				}
				i += n2
			}
		}
		toks = append(toks, s[start:i])
	}
	return toks
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// joiner reports whether the separator r at s[i] (n bytes) sits inside a
// word: a digit separator between digits, or an apostrophe between letters.
func joiner(s string, i int, r rune, n int) bool {
	if i+n >= len(s) {
		return false
	}
	prev, _ := utf8.DecodeLastRuneInString(s[:i])
	next, _ := utf8.DecodeRuneInString(s[i+n:])
	switch r {
	case '.', ',':
		return unicode.IsDigit(prev) && unicode.IsDigit(next)
	case '\'', '’':
		return unicode.IsLetter(prev) && unicode.IsLetter(next)
	}
	return false
}

// WordDiff returns the word-level difference between two clause texts as
// runs: kept ("="), removed ("-") and added ("+") text. Joining the "=" and
// "-" runs gives old back, the "=" and "+" runs give new. A change is
// written as its removal followed by its addition, and the spaces between
// two changed words belong to the change, so "kept for 30 days" →
// "kept for 90 weeks" reads as one replacement of "30 days" by "90 weeks"
// rather than two.
func WordDiff(old, new string) []WordOp {
	a, b := tokenize(old), tokenize(new)
	type tok struct {
		op   byte
		text string
	}
	var ops []tok
	ai := 0
	for _, d := range lcs.DiffLines(a, b) {
		for ; ai < d.Start; ai++ {
			ops = append(ops, tok{'=', a[ai]})
		}
		for ; ai < d.End; ai++ {
			ops = append(ops, tok{'-', a[ai]})
		}
		for bi := d.ReplStart; bi < d.ReplEnd; bi++ {
			ops = append(ops, tok{'+', b[bi]})
		}
	}
	for ; ai < len(a); ai++ {
		ops = append(ops, tok{'=', a[ai]})
	}
	// Kept whitespace between two changes joins them.
	for i := 1; i+1 < len(ops); i++ {
		if ops[i].op == '=' && strings.TrimSpace(ops[i].text) == "" && ops[i-1].op != '=' && ops[i+1].op != '=' {
			ops[i].op = '~'
		}
	}
	var out []WordOp
	var del, add strings.Builder
	flush := func() {
		if del.Len() > 0 {
			out = append(out, WordOp{WordRemoved, del.String()})
			del.Reset()
		}
		if add.Len() > 0 {
			out = append(out, WordOp{WordAdded, add.String()})
			add.Reset()
		}
	}
	for _, o := range ops {
		switch o.op {
		case '-':
			del.WriteString(o.text)
		case '+':
			add.WriteString(o.text)
		case '~':
			del.WriteString(o.text)
			add.WriteString(o.text)
		default:
			flush()
			if n := len(out); n > 0 && out[n-1].Op == WordKept {
				out[n-1].Text += o.text
			} else {
				out = append(out, WordOp{WordKept, o.text})
			}
		}
	}
	flush()
	return out
}

// changedText returns the removed and the added text of a word diff, the
// runs of each side joined by a space.
func changedText(ops []WordOp) (removed, added string) {
	var r, a []string
	for _, o := range ops {
		switch o.Op {
		case WordRemoved:
			r = append(r, o.Text)
		case WordAdded:
			a = append(a, o.Text)
		}
	}
	return strings.Join(r, " "), strings.Join(a, " ")
}

// wordDict numbers the lower-cased words of one comparison, so that word
// multisets are sorted integer slices and similarity is a merge.
type wordDict map[string]int32

// bag returns the sorted word ids of a text. Numbers are left out unless
// the text has nothing else: they are what edits change (periods, ages,
// dates), while the words around them say which clause it is, so "Last
// updated March 3, 2021" and "Last updated June 14, 2022" stay one clause.
func (d wordDict) bag(text string) []int32 {
	var ids []int32
	toks := tokenize(text)
	wordsOnly := false
	for _, t := range toks {
		if r, _ := utf8.DecodeRuneInString(t); unicode.IsLetter(r) {
			wordsOnly = true
			break
		}
	}
	for _, t := range toks {
		r, _ := utf8.DecodeRuneInString(t)
		if !isWordRune(r) || wordsOnly && !unicode.IsLetter(r) {
			continue
		}
		t = strings.ToLower(t)
		id, ok := d[t]
		if !ok {
			id = int32(len(d))
			d[t] = id
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// similarity is the Dice coefficient of two word multisets: twice the
// shared words over all words, 1 for the same words in any order, 0 for
// nothing in common.
func similarity(a, b []int32) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	common, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			common++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return 2 * float64(common) / float64(len(a)+len(b))
}
