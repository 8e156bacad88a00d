package diffing

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/policywatch/policywatch/snapshot"
)

// Classify returns the kinds of a change, from its clause changes and its
// dates:
//
//   - KindDated: some clause changed materially and the stated date moved;
//   - KindSilent: some clause changed materially and the stated date did not,
//     the change readers most want to hear about;
//   - KindDateOnly: the stated date moved and every other clause change is
//     cosmetic (or there is none): the clause holding the date changed only
//     in its date words (ClauseChange.DateOnly);
//   - KindCosmetic: the text changed, the stated date did not, and every
//     clause change is cosmetic (see CosmeticOnly) or only reformats the
//     date phrase;
//   - KindFlipBack, added to the others when opts.FlipBack says the new text
//     is one seen before.
//
// A change with neither text nor date changed has no kind (unless FlipBack).
func Classify(ch Change, opts Options) []string {
	var kinds []string
	material := false
	for _, c := range ch.Clauses {
		if !c.Cosmetic && !c.DateOnly {
			material = true
			break
		}
	}
	switch {
	case material && ch.DateChanged:
		kinds = append(kinds, KindDated)
	case material:
		kinds = append(kinds, KindSilent)
	case ch.DateChanged:
		kinds = append(kinds, KindDateOnly)
	case ch.TextChanged:
		kinds = append(kinds, KindCosmetic)
	}
	if opts.FlipBack {
		kinds = append(kinds, KindFlipBack)
	}
	return kinds
}

// CosmeticOnly reports whether two clause texts differ only in ways that do
// not change what a reader is told. The texts are compared after
// cosmeticKey has removed:
//
//   - whitespace, line breaks and Markdown emphasis and escapes;
//   - punctuation, typographic or not (quotes, apostrophes, dashes,
//     ellipses, brackets): they become word breaks, so "third-party" and
//     "third party" compare equal, while punctuation between digits stays
//     ("1,000" is not "1000", "3.5" is not "35");
//   - letter case: a sentence recased or a heading set in capitals says the
//     same thing (the one legal exception, capitals for conspicuousness in
//     US waivers, changes no term of them);
//   - link targets ("[text](url)" counts as "text"), since the words a
//     reader follows did not change; inline HTML tags likewise;
//   - in URLs written as text, the scheme, "www." and tracking parameters
//     (utm_*, fbclid, gclid and the like): the same page for the reader.
//
// A real word change, a changed number, or a changed e-mail address or
// visible URL is never cosmetic.
func CosmeticOnly(old, new string) bool {
	return cosmeticKey(old) == cosmeticKey(new)
}

var (
	linkTargetRe = regexp.MustCompile(`\]\([^)\s]*(?:\s+"[^"]*")?\)`)
	htmlTagRe    = regexp.MustCompile(`</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>`)
	autoLinkRe   = regexp.MustCompile(`<((?:https?|ftp|mailto):[^>\s]*)>`)
	trackingRe   = regexp.MustCompile(`(?i)([?&])(?:utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|igshid|mc_cid|mc_eid|_hsenc|_hsmi|_ga|_gl|ref_src|trk|spm)=[^&#\s)>\]]*&?`)
	emptyQueryRe = regexp.MustCompile(`[?&]([#\s)>\]]|$)`)
	urlQueryRe   = regexp.MustCompile(`(https?://[^\s?#)>\]]*)[?#][^\s)>\]]*`)
)

// cosmeticKey is the text with everything CosmeticOnly ignores removed.
func cosmeticKey(s string) string {
	if strings.Contains(s, "](") {
		s = linkTargetRe.ReplaceAllString(s, "]")
	}
	if strings.IndexByte(s, '<') >= 0 {
		s = autoLinkRe.ReplaceAllString(s, " $1 ")
		s = htmlTagRe.ReplaceAllString(s, " ")
	}
	if strings.IndexByte(s, '=') >= 0 {
		// Each match eats the separator the next would start with, so
		// repeat until the text is stable ("?utm_a=1&utm_b=2").
		for range 8 {
			t := trackingRe.ReplaceAllString(s, "$1")
			if t == s {
				break
			}
			s = t
		}
		s = emptyQueryRe.ReplaceAllString(s, "$1")
	}
	if strings.Contains(s, "://") {
		// A visible URL whose query string or fragment changed still
		// names the same page ("…/dpf?tabset-35584=2"): UI state, session
		// and tracking parameters are not the text.
		s = urlQueryRe.ReplaceAllString(s, "$1")
		s = snapshot.Normalize(s) // scheme, www. and archive prefixes of URLs
	}
	var b strings.Builder
	b.Grow(len(s))
	space := true
	rs := []rune(s)
	for i, r := range rs {
		keep := unicode.IsLetter(r) || unicode.IsDigit(r) ||
			(unicode.IsSymbol(r) && r != '`' && r != '^' && r != '~') || strings.ContainsRune("%§@&#/", r)
		if !keep && (r == '.' || r == ',') && i > 0 && i+1 < len(rs) && unicode.IsDigit(rs[i-1]) && unicode.IsDigit(rs[i+1]) {
			keep = true
		}
		if r == '/' { // a path separator is a word break in URLs written as text
			keep = false
		}
		if !keep {
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		b.WriteRune(unicode.ToLower(r))
		space = false
	}
	return strings.TrimSpace(b.String())
}

// dateWords are the words a stated-date phrase is made of besides numbers:
// months (English, French, German, Spanish, full and abbreviated), ordinal
// suffixes and the labels around the date.
var dateWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		january february march april may june july august september october november december
		jan feb mar apr jun jul aug sep sept oct nov dec
		janvier février fevrier mars avril mai juin juillet août aout septembre octobre novembre décembre decembre
		janv févr fevr avr juil déc
		januar februar märz maerz juni juli oktober dezember
		enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre
		ene abr ago dic
		st nd rd th er e
		last updated update effective revised revision modified date dated as of on since from version at the
		dernière derniere mise mis à a jour le du en vigueur depuis date
		stand zuletzt aktualisiert geändert geaendert gültig gueltig ab vom am seit
		última ultima actualización actualizacion actualizado fecha de vigor desde el
		monday tuesday wednesday thursday friday saturday sunday`) {
		m[w] = true
	}
	return m
}()

// isDateWord reports whether a lower-cased word can be part of a date
// phrase: a number, an ordinal ("25th", "1er"), a month or a date label.
func isDateWord(w string) bool {
	if dateWords[w] {
		return true
	}
	digits := 0
	for digits < len(w) && w[digits] >= '0' && w[digits] <= '9' {
		digits++
	}
	if digits == 0 {
		return false
	}
	switch w[digits:] {
	case "", "st", "nd", "rd", "th", "er", "e":
		return true
	}
	// 2018-05-25, 25.05.2018, 05/25/2018 come out as one token when digits
	// are joined by separators.
	return strings.Trim(w, "0123456789./-") == ""
}

// words returns the lower-cased words of a text, link targets dropped.
func words(s string) []string {
	if strings.Contains(s, "](") {
		s = linkTargetRe.ReplaceAllString(s, "]")
	}
	var out []string
	for _, t := range tokenize(strings.ToLower(s)) {
		for _, r := range t {
			if isWordRune(r) {
				out = append(out, t)
			}
			break
		}
	}
	return out
}

// holdsStatedDate reports whether a clause text carries the document's
// stated date: it contains the phrase the date was read from, or the year
// of the stated date next to a date label such as "updated" or "effective".
func holdsStatedDate(text string, d *snapshot.Document) bool {
	if d == nil || d.StatedDate == "" && d.StatedDateText == "" {
		return false
	}
	ws := words(text)
	joined := " " + strings.Join(ws, " ") + " "
	if d.StatedDateText != "" {
		if p := strings.Join(words(d.StatedDateText), " "); p != "" && strings.Contains(joined, " "+p+" ") {
			return true
		}
	}
	if len(d.StatedDate) < 4 || !strings.Contains(joined, d.StatedDate[:4]) {
		return false
	}
	for _, w := range ws {
		switch w {
		case "updated", "effective", "revised", "modified", "update", "version", "jour", "vigueur", "stand",
			"aktualisiert", "geändert", "gültig", "actualización", "actualizacion", "actualizado", "vigor":
			return true
		}
	}
	return false
}

// markDateOnly sets DateOnly on the clause changes that hold the stated
// date and changed only in date words: a modified clause whose removed and
// added words are all date words, or an added or removed clause made only
// of date words (a "Last updated" line that appeared or went).
func markDateOnly(changes []ClauseChange, old, new *snapshot.Document) {
	allDate := func(texts ...string) bool {
		n := 0
		for _, s := range texts {
			for _, w := range words(s) {
				if !isDateWord(w) {
					return false
				}
				n++
			}
		}
		return n > 0
	}
	for i := range changes {
		c := &changes[i]
		switch c.Op {
		case OpModified:
			if !holdsStatedDate(c.Old, old) && !holdsStatedDate(c.New, new) {
				continue
			}
			removed, added := changedText(c.Words)
			c.DateOnly = allDate(removed, added)
		case OpAdded:
			c.DateOnly = holdsStatedDate(c.New, new) && allDate(c.New)
		case OpRemoved:
			c.DateOnly = holdsStatedDate(c.Old, old) && allDate(c.Old)
		}
	}
}
