package snapshot

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Stated dates are found in three steps. First a phrase that says the text
// dates itself ("last updated", "Stand:", "en vigueur le"), found by our own
// matcher; then, after only filler words, a span shaped like a full calendar
// date, cut out by a cheap regular expression; then parseSpan reads that
// short span in the page's language. Requiring phrase and shape keeps "©
// 2019", "founded in 2010" and dates in ordinary sentences out, and keeps the
// comparatively slow parser off whole texts. A missing date costs less than a
// wrong one, because diffing treats a changed stated date as a signal: month
// and year alone, ambiguous or implausible dates give no date at all.
//
// docs/dates.md lists the phrases and formats and the measured precision and
// recall.

// phraseKind ranks what a phrase says about the text's own date. When a page
// states several dates, an explicit "last updated" describes the current
// version better than an "effective" date (which may be a conditional one
// for some users), and both beat a bare "updated".
type phraseKind int

const (
	kindWeak      phraseKind = 1 // "updated", "revised", "Stand"
	kindEffective phraseKind = 2 // "effective", "applies from", "en vigueur", "gültig ab", "version:"
	kindUpdated   phraseKind = 3 // "last updated", "dernière mise à jour", "zuletzt geändert"
)

// The phrase alternatives per kind. They are matched case-insensitively at a
// word start, and must end at a word end (checked by hand: Go's \b is ASCII
// only, and many of these end in a non-ASCII letter).
const (
	updatedPhrases = `last[\s\-]+(?:updated|modified|revised|changed|amended|reviewed|update|revision|modification|adjustment|change)|` +
		`date\s+of\s+(?:last\s+)?(?:revision|update|modification)|` +
		`(?:updated|revised|modified|amended|changed)\s+(?:as\s+of|on)|` +
		`most\s+recent\s+version\s+has\s+been\s+updated|` +
		// French
		`derni[eè]re\s+(?:mise\s+[aà]\s+jour|modification|r[ée]vision|actualisation)|` +
		`mis(?:e|es)?\s+[aà]\s+jour(?:\s+le)?|[aà]\s+jour\s+(?:du|au)|` +
		`(?:modifi[ée]e?s?|r[ée]vis[ée]e?s?)\s+le|` +
		// German
		`zuletzt\s+(?:aktualisiert|ge[äa]ndert|überarbeitet)|letzte\s+(?:aktualisierung|änderung|überarbeitung)|` +
		`(?:aktualisiert|ge[äa]ndert)\s+am|` +
		// Spanish
		`[úu]ltima\s+(?:actualizaci[óo]n|modificaci[óo]n|revisi[óo]n)|(?:actualizad[oa]|modificad[oa])\s+el|` +
		`fecha\s+de\s+(?:la\s+)?(?:[úu]ltima\s+)?(?:actualizaci[óo]n|modificaci[óo]n)|` +
		// Italian
		`ultim[oa]\s+(?:aggiornamento|modifica|revisione)|(?:aggiornat[oa]|modificat[oa])\s+(?:il|al)|data\s+(?:di\s+)?(?:ultimo\s+)?aggiornamento|` +
		// Portuguese
		`[úu]ltima\s+(?:atualiza[çc][ãa]o|altera[çc][ãa]o|revis[ãa]o)|(?:atualizad[oa]|alterad[oa])\s+em|` +
		// Dutch
		`laatst\s+(?:bijgewerkt|gewijzigd|aangepast|herzien)|laatste\s+(?:wijziging|update|herziening)|(?:bijgewerkt|gewijzigd)\s+op`
	effectivePhrases = `effective(?:\s+date|\s+as\s+of|\s+from|\s+since|\s+on)?|in\s+effect\s+(?:as\s+of|from|since)|took\s+effect(?:\s+on)?|` +
		`(?:applies|applicable|valid)\s+(?:from|as\s+of)|version\s+date|version\s*:|published\s*:|` +
		// French
		`(?:date\s+d['’])?entr[ée]e\s+en\s+vigueur(?:\s+le)?|en\s+vigueur\s+(?:le|depuis|du|au|à\s+compter\s+du)|` +
		`s['’]applique\s+[aà]\s+(?:partir|compter)\s+d[eu]|applicable\s+[aà]\s+(?:partir|compter)\s+d[eu]|version\s+du|` +
		// German
		`g[üu]ltig\s+(?:ab|seit)|(?:gilt|gelten)\s+ab|in\s+kraft\s+(?:seit|ab)|inkrafttreten|(?:version|fassung)\s+vom|` +
		// Spanish
		`fecha\s+de\s+entrada\s+en\s+vigor|(?:en\s+vigor|vigente|efectiv[oa])\s+(?:desde|a\s+partir\s+del?)|` +
		// Italian
		`data\s+di\s+entrata\s+in\s+vigore|(?:in\s+vigore|efficace|valid[oa])\s+(?:dal|a\s+partire\s+dal)|` +
		// Portuguese
		`data\s+de\s+entrada\s+em\s+vigor|(?:em\s+vigor|vigente|v[áa]lid[oa])\s+(?:desde|a\s+partir\s+de)|` +
		// Dutch
		`van\s+kracht\s+(?:sinds|vanaf|per)|geldig\s+(?:vanaf|sinds|per)|ingangsdatum`
	weakPhrases = `updated|revised|modified|amended|stand|aktualisiert|actualizado|aggiornato|atualizado|bijgewerkt`
	// logPhrases head a change log or version history: a list of dated
	// entries, whose newest entry dates the current version whatever the
	// list's order.
	logPhrases = `change\s*log|revision\s+history|version\s+history|document\s+history|[ée]volutions?\s+du\s+document|[äa]nderungshistorie|versionshistorie|historial\s+de\s+(?:cambios|versiones)`
)

var (
	anchoredPhraseRe = regexp.MustCompile(`(?i)\A(?:(?P<log>` + logPhrases + `)|(?P<upd>` + updatedPhrases + `)|(?P<eff>` + effectivePhrases + `)|(?P<weak>` + weakPhrases + `))`)
	phraseLogIdx     = anchoredPhraseRe.SubexpIndex("log")
	phraseUpdIdx     = anchoredPhraseRe.SubexpIndex("upd")
	phraseEffIdx     = anchoredPhraseRe.SubexpIndex("eff")
	// logEntryRe finds the dates that open change-log entries ("April 16,
	// 2026: Replaced …", "2025-09-23 – Added …").
	logEntryRe = regexp.MustCompile(`(?i)(?:^|[\s.:;|>*])(` + monthWord + `\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{1,2}(?:\.|st|nd|rd|th|er)?\s+` + monthWord + `,?\s+\d{4}|\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{4})\s*[:\-–—|]`)

	// statedFillerRe is what may stand between a phrase and its date:
	// punctuation, Markdown emphasis and the small words of the seven
	// languages ("on", "le", "am", "el", "em", "il", "op", "the earlier of").
	statedFillerRe = regexp.MustCompile(`(?i)^(?:[\s:\-–—,(.*_"“”'’»«]|` +
		`(?:on|as\s+of|of|date|dated|is|was|at|the\s+earlier\s+of|the|from|since|le|du|de|des|la|depuis|` +
		`am|vom|ab|seit|ist|el|del|desde|em|a\s+partir\s+de|il|al|dal|op|per|vanaf|sinds)(?:[\s:,]|$)|` +
		`(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|` +
		`montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lunes|martes|mi[ée]rcoles|jueves|viernes|s[áa]bado|domingo)[\s,.])*`)
	// statedGapRe lets an explicit phrase name what it dates before the
	// date: "last updated these Terms on", "Dernière mise à jour des
	// Conditions générales : 14 mars 2025", "mise à jour pour la dernière
	// fois le". Only kindUpdated phrases get it: a bare "updated our app
	// on" must not.
	statedGapRe = regexp.MustCompile(`(?i)^(?:[^\d:.;!?\n]{1,70}:|(?:[\p{L}'’]+\s+){1,7}(?:on|le|am|el|em|il|op)\s)`)

	// dateShapeRe cuts the date out after the filler: the span parseSpan
	// reads. Month names are any word here; the parser knows them.
	monthWord   = `\p{L}{3,10}\.?`
	dateShapeRe = regexp.MustCompile(`(?i)^(?:` +
		`(?P<dm>\d{1,2}(?:st|nd|rd|th|er|º|°|\.)?\s+(?:of\s+|de\s+)?` + monthWord + `,?\s+(?:de\s+)?\d{4})|` +
		`(?P<md>` + monthWord + `\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})|` +
		`(?P<iso>\d{4}-\d{1,2}-\d{1,2})|` +
		`(?P<num>\d{1,2}/\d{1,2}/\d{4}|\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}-\d{1,2}-\d{4})|` +
		`(?P<my>` + monthWord + `,?\s+(?:de\s+)?\d{4}))`)
	shapeNumIdx = dateShapeRe.SubexpIndex("num")
	shapeMYIdx  = dateShapeRe.SubexpIndex("my")

	numericDateRe = regexp.MustCompile(`^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$`)
)

// historyMarkers, found in the same sentence before a phrase, say that the
// date is not the current version's: an earlier version, or a date that
// applies only to some users ("for users who registered before ...").
var historyMarkers = []string{
	"previous version", "prior version", "earlier version", "older version", "former version", "previous policy",
	"prior to", "before", "registered", "until", "superseded", "replaced",
	"précédente version", "version précédente", "ancienne version", "avant le", "jusqu'au", "jusqu’au",
	"vor dem", "ältere", "frühere", "vorherige", "bis zum", "bis dahin", "noch die",
	"versión anterior", "antes del", "versione precedente", "prima del", "versão anterior", "antes de",
	"vorige versie", "eerdere versie", "vóór",
}

// edgeChars is how close to the start or end of the text a stated date is
// expected; policies put it under the title or at the very bottom.
const edgeChars = 1500

// futureSlack is how far after the capture a stated date may lie: policies
// announce an "effective" date a few weeks ahead, never half a year.
const futureSlack = 45 * 24 * time.Hour

// dateHint is what the caller knows about the text beyond the text itself.
type dateHint struct {
	capture  time.Time // when the page was captured; zero when unknown
	dayFirst bool      // the page's host is British or European (uk.match.com, happn.fr)
}

// hintFor derives the hint from a capture's Source: its timestamp bounds
// plausible dates, and a country-code host makes an English page day-first.
func hintFor(src Source) dateHint {
	var h dateHint
	if t, err := time.Parse("20060102150405", src.Timestamp); err == nil {
		h.capture = t
	}
	if u, err := url.Parse(src.URL); err == nil {
		host := strings.ToLower(u.Hostname())
		if strings.HasPrefix(host, "uk.") || strings.HasPrefix(host, "en-gb.") || strings.Contains(strings.ToLower(u.Path), "/en-gb") {
			h.dayFirst = true
		}
		for _, tld := range dayFirstTLDs {
			if strings.HasSuffix(host, tld) {
				h.dayFirst = true
			}
		}
	}
	return h
}

// dayFirstTLDs are country-code hosts whose English pages write dates day
// first. .com and the US are month first.
var dayFirstTLDs = []string{".uk", ".ie", ".au", ".nz", ".in", ".fr", ".de", ".at", ".ch", ".es", ".it", ".pt", ".nl", ".be", ".eu"}

// statedCandidate is one phrase with the date read after it.
type statedCandidate struct {
	date    string // YYYY-MM-DD
	phrase  string
	kind    phraseKind
	pos     int
	edge    bool
	history bool
}

// FindStatedDate finds the date a policy text states for itself and returns it
// as YYYY-MM-DD with the phrase it was read from, or "", "" when there is none.
// When several phrases carry dates, an explicit "last updated" wins over an
// "effective" date, which wins over a bare "updated"; see FindStatedDates.
func FindStatedDate(text string) (date, phrase string) {
	date, phrase, _ = FindStatedDates(text)
	return date, phrase
}

// FindStatedDates is FindStatedDate that also returns the other dates the
// text states about itself (earlier versions, dates for some users only), as
// YYYY-MM-DD, newest first, for Document.DateHistory.
func FindStatedDates(text string) (current, phrase string, history []string) {
	return findStatedDates(text, dateHint{})
}

var typoSpaces = strings.NewReplacer("\u00a0", " ", "\u202f", " ", "\u2009", " ", "\u2007", " ")

// findStatedDates chooses among the candidates: dates marked as history
// never become current; among the rest the highest phrase kind wins, then a
// phrase near the top or bottom of the text, then the first one.
func findStatedDates(text string, hint dateHint) (current, phrase string, history []string) {
	// Typesetting spaces ("2&nbsp;mars&nbsp;2026", a thin space before a
	// French colon) are spaces to a reader, and must be to the phrases.
	if strings.ContainsAny(text, "\u00a0\u202f\u2009\u2007") {
		text = typoSpaces.Replace(text)
	}
	cands := statedCandidates(text, hint)
	best := -1
	for i, c := range cands {
		if c.history {
			continue
		}
		if best < 0 || rankOf(c) > rankOf(cands[best]) {
			best = i
		}
	}
	if best >= 0 {
		current, phrase = cands[best].date, cands[best].phrase
	}
	for _, c := range cands {
		if c.date != current && !slices.Contains(history, c.date) {
			history = append(history, c.date)
		}
	}
	slices.SortFunc(history, func(a, b string) int { return strings.Compare(b, a) })
	return current, phrase, history
}

func rankOf(c statedCandidate) int {
	r := int(c.kind) * 2
	if c.edge {
		r++
	}
	return r
}

// statedCandidates returns every phrase followed by a readable full date.
func statedCandidates(text string, hint dateHint) []statedCandidate {
	var out []statedCandidate
	var lang string
	order := ""
	for _, m := range statedPhraseMatches(text) {
		if m[2*phraseLogIdx] >= 0 {
			if lang == "" {
				lang = detectLanguage(text)
			}
			if order == "" {
				order = numericOrder(text, lang, hint)
			}
			out = append(out, logCandidates(text, m, lang, order, hint)...)
			continue
		}
		kind := kindWeak
		switch {
		case m[2*phraseUpdIdx] >= 0:
			kind = kindUpdated
		case m[2*phraseEffIdx] >= 0:
			kind = kindEffective
		}
		after := text[m[1]:min(len(text), m[1]+200)]
		rest := after
		if f := statedFillerRe.FindStringIndex(rest); f != nil {
			rest = rest[f[1]:]
		}
		s := dateShapeRe.FindStringSubmatchIndex(rest)
		if s == nil && kind == kindUpdated {
			if g := statedGapRe.FindStringIndex(rest); g != nil {
				rest = rest[g[1]:]
				if f := statedFillerRe.FindStringIndex(rest); f != nil {
					rest = rest[f[1]:]
				}
				s = dateShapeRe.FindStringSubmatchIndex(rest)
			}
		}
		if s == nil || s[2*shapeMYIdx] >= 0 { // month and year only: no date (docs/dates.md)
			continue
		}
		span := rest[:s[1]]
		if s[1] < len(rest) && isWordByte(rest[s[1]]) { // "2018-05-25T10" is fine, "25.05.20181" is not
			if r, _ := utf8.DecodeRuneInString(rest[s[1]:]); unicode.IsDigit(r) {
				continue
			}
		}
		if lang == "" {
			lang = detectLanguage(text)
		}
		// A phrase in another language than the page ("Mise à jour : le
		// 21/07/2022" in an English page's French block) dates in its own.
		clang := lang
		if pl := phraseLanguage(text[m[0]:m[1]]); pl != "" {
			clang = pl
		}
		var d string
		if s[2*shapeNumIdx] >= 0 {
			if order == "" {
				order = numericOrder(text, lang, hint)
			}
			o := order
			if clang != "en" {
				o = "DMY"
			}
			d = parseNumeric(span, o, clang, hint)
		} else {
			d = parseDate(span, clang, "")
		}
		if d == "" || !plausible(d, hint) {
			continue
		}
		end := m[1] + (len(after) - len(rest)) + s[1]
		out = append(out, statedCandidate{
			date:    d,
			phrase:  collapseSpace(text[m[0]:end]),
			kind:    kind,
			pos:     m[0],
			edge:    m[0] < edgeChars || len(text)-end < edgeChars,
			history: isHistory(text, m[0]),
		})
	}
	return out
}

// maxLogEntries bounds the dates read from one change log.
const maxLogEntries = 30

// logCandidates reads the dated entries of the change log whose heading m
// matched. The newest entry dates the current version, whichever order the
// log is in; the others are returned marked as history.
func logCandidates(text string, m []int, lang, order string, hint dateHint) []statedCandidate {
	window := text[m[1]:min(len(text), m[1]+4000)]
	var out []statedCandidate
	newest := -1
	for _, e := range logEntryRe.FindAllStringSubmatchIndex(window, maxLogEntries) {
		span := window[e[2]:e[3]]
		var d string
		if numericDateRe.MatchString(span) {
			d = parseNumeric(span, order, lang, hint)
		} else {
			d = parseDate(span, lang, "")
		}
		if d == "" || !plausible(d, hint) {
			continue
		}
		out = append(out, statedCandidate{date: d, phrase: collapseSpace(text[m[0]:m[1]] + ": " + span),
			kind: kindUpdated, pos: m[0], edge: m[0] < edgeChars || len(text)-m[1] < edgeChars, history: true})
		if newest < 0 || d > out[newest].date {
			newest = len(out) - 1
		}
	}
	if newest >= 0 {
		out[newest].history = false
	}
	return out
}

// isHistory reports whether the sentence before pos says that the date
// belongs to another version or to some users only.
func isHistory(text string, pos int) bool {
	start := max(0, pos-160)
	before := text[start:pos]
	if i := strings.LastIndexAny(before, ".;!?\n"); i >= 0 {
		before = before[i+1:]
	}
	before = strings.ToLower(before)
	for _, h := range historyMarkers {
		if strings.Contains(before, h) {
			return true
		}
	}
	return false
}

// plausible rejects dates before the web policies we know of, and dates
// further after the capture than an announced effective date can be.
func plausible(d string, hint dateHint) bool {
	t, err := time.Parse("2006-01-02", d)
	if err != nil || t.Year() < 1990 {
		return false
	}
	if !hint.capture.IsZero() && t.Sub(hint.capture) > futureSlack {
		return false
	}
	return t.Year() <= 2100
}

// parseNumeric reads 05/06/2018 in the page's order and falls back on the
// other order only when the first reading lies implausibly after the
// capture (happn's "Updated: 11/05/2026" captured on 12 May 2026).
func parseNumeric(span, order, lang string, hint dateHint) string {
	m := numericDateRe.FindStringSubmatch(span)
	if m == nil {
		return ""
	}
	if strings.Contains(span, ".") { // 01.06.2018 is day first in every language that writes it
		order = "DMY"
	}
	if m[1] == m[2] || atoi(m[1]) > 12 || atoi(m[2]) > 12 {
		return parseDate(span, lang, order) // unambiguous: the parser settles it
	}
	d := parseDate(span, lang, order)
	if d != "" && plausible(d, hint) {
		return d
	}
	other := "DMY"
	if order == "DMY" {
		other = "MDY"
	}
	if alt := parseDate(span, lang, other); alt != "" && plausible(alt, hint) {
		return alt
	}
	return d
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// numericOrder decides how the page writes 05/06/2018: as its own
// unambiguous numeric dates do when it has any, else day first for every
// language but English, and for English pages of a British or European
// host, else month first.
func numericOrder(text, lang string, hint dateHint) string {
	dmy, mdy := 0, 0
	for i, n := 0, 0; n < 50; n++ {
		j := strings.IndexByte(text[i:], '/')
		if j < 0 {
			break
		}
		i += j + 1
		a, b, ok := slashDate(text, i-1)
		switch {
		case !ok:
		case a > 12 && b <= 12:
			dmy++
		case b > 12 && a <= 12:
			mdy++
		}
	}
	switch {
	case dmy > mdy:
		return "DMY"
	case mdy > dmy:
		return "MDY"
	case lang != "en" || hint.dayFirst:
		return "DMY"
	}
	return "MDY"
}

// slashDate reads the numeric date "a/b/yyyy" whose first slash is at
// text[k], for numericOrder: the page's unambiguous numeric dates
// (25/05/2018) settle the order of its ambiguous ones.
func slashDate(text string, k int) (a, b int, ok bool) {
	digits := func(s string) int { // leading digits, at most 4
		n := 0
		for n < len(s) && n < 5 && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		return n
	}
	s := 0
	for s < 2 && k-s-1 >= 0 && text[k-s-1] >= '0' && text[k-s-1] <= '9' {
		s++
	}
	if s == 0 || k-s-1 >= 0 && text[k-s-1] >= '0' && text[k-s-1] <= '9' {
		return 0, 0, false
	}
	rest := text[k+1:]
	nb := digits(rest)
	if nb == 0 || nb > 2 || len(rest) <= nb || rest[nb] != '/' || digits(rest[nb+1:]) != 4 {
		return 0, 0, false
	}
	return atoi(text[k-s : k]), atoi(rest[:nb]), true
}

// parseDate reads one cut-out date span in the page's day/month order and
// returns YYYY-MM-DD, or "" unless the span names a full, valid calendar
// date. Month names are recognised in all seven languages whatever the
// page's language (a French page may say "Last update: 16 February 2024").
func parseDate(span, lang, order string) string {
	key := lang + "/" + order
	ck := key + "/" + span
	if d, ok := parsedSpans.get(ck); ok {
		return d
	}
	d := parseDateUncached(span, lang, order, key)
	parsedSpans.put(ck, d)
	return d
}

// parsedSpans remembers what recent spans parsed to: the captures of one
// policy repeat the same "Last updated" line hundreds of times.
var parsedSpans = spanCache{m: map[string]string{}}

// spanCacheSize bounds the cache; it is emptied when full, which is cheap
// and keeps the memory flat whatever the input.
const spanCacheSize = 4096

type spanCache struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *spanCache) get(k string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.m[k]
	return d, ok
}

func (c *spanCache) put(k, d string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= spanCacheSize {
		clear(c.m)
	}
	c.m[k] = d
}

func parseDateUncached(span, lang, order, key string) string {
	return parseSpan(strings.TrimRight(span, "."), lang, order)
}

// Why no date-parsing library: go-dateparser (the first choice, for its
// locale data) builds all of its ~200 locales at program start, which kept
// 30 MB of heap alive in every policywatch process and pushed a corpus run
// over its 100 MB budget. The spans reaching this parser are already cut to
// five shapes by dateShapeRe, so what is left to parse is a table of month
// names and the day/month order, which is below.

// spanTokenRe splits a date span into words and numbers.
var spanTokenRe = regexp.MustCompile(`\p{L}+|\d+`)

// monthNames maps month names and their usual abbreviations, lower-cased,
// in English, French, German, Spanish, Italian, Portuguese and Dutch, to
// the month. Where two languages share a spelling they mean the same month.
var monthNames = func() map[string]time.Month {
	m := map[string]time.Month{}
	for month, names := range [12]string{
		"january jan janvier janv januar jänner jaenner enero ene gennaio gen janeiro januari",
		"february feb février fevrier févr fevr februar febrero febbraio fevereiro fev februari",
		"march mar mars märz maerz marz mär marzo março marco maart mrt",
		"april apr avril avr abril abr aprile",
		"may mai mayo maggio mag maio mei",
		"june jun juin juni junio giugno giu junho",
		"july jul juillet juil juli julio luglio lug julho",
		"august aug août aout agosto ago augustus",
		"september sep sept septembre septiembre setiembre settembre set setembro",
		"october oct octobre oktober okt octubre ottobre ott outubro out",
		"november nov novembre noviembre novembro",
		"december dec décembre decembre déc dezember dez diciembre dic dicembre dezembro",
	} {
		for _, n := range strings.Fields(names) {
			m[n] = time.Month(month + 1)
		}
	}
	return m
}()

// spanFillers are the words a date span may hold besides its month:
// ordinal suffixes and "of" in the seven languages.
var spanFillers = map[string]bool{"st": true, "nd": true, "rd": true, "th": true, "er": true, "de": true, "del": true, "of": true, "the": true}

// parseSpan reads "25 May 2018", "May 25th, 2018", "25. Mai 2018",
// "2 de marzo de 2026", "2018-05-25", "05/25/2018" (in order, "MDY" or
// "DMY"; without one English is month first and the others day first) and
// "25.05.2018". A day, a month and a four-digit year, or nothing.
func parseSpan(span, lang, order string) string {
	var nums []string
	var month time.Month
	for _, t := range spanTokenRe.FindAllString(strings.ToLower(span), -1) {
		switch {
		case t[0] >= '0' && t[0] <= '9':
			nums = append(nums, t)
		case monthNames[t] != 0 && month == 0:
			month = monthNames[t]
		case spanFillers[t]:
		default:
			return "" // an unknown word: not a date we can vouch for
		}
	}
	var y, m, d int
	switch {
	case month != 0 && len(nums) == 2:
		a, b := nums[0], nums[1]
		if len(a) == 4 {
			a, b = b, a
		}
		if len(b) != 4 || len(a) > 2 {
			return ""
		}
		y, m, d = atoi(b), int(month), atoi(a)
	case month == 0 && len(nums) == 3 && len(nums[0]) == 4:
		y, m, d = atoi(nums[0]), atoi(nums[1]), atoi(nums[2])
	case month == 0 && len(nums) == 3 && len(nums[2]) == 4 && len(nums[0]) <= 2 && len(nums[1]) <= 2:
		a, b := atoi(nums[0]), atoi(nums[1])
		switch {
		case a > 12 && b <= 12: // only one reading: 31-01-2018
			order = "DMY"
		case b > 12 && a <= 12:
			order = "MDY"
		case order == "":
			order = "DMY"
			if lang == "en" {
				order = "MDY"
			}
		}
		y, m, d = atoi(nums[2]), a, b
		if order == "DMY" {
			m, d = b, a
		}
	default:
		return ""
	}
	if y < 1990 || y > 2100 || m < 1 || m > 12 || d < 1 {
		return ""
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return "" // 31 February
	}
	return t.Format("2006-01-02")
}

// languageWords are frequent short words that tell the seven languages of
// the issue apart; a page's language is the one whose words it uses most.
var languageWords = map[string]string{
	"the": "en", "and": "en", "of": "en", "to": "en", "you": "en", "your": "en", "we": "en", "is": "en", "with": "en", "for": "en",
	"le": "fr", "les": "fr", "des": "fr", "et": "fr", "vous": "fr", "est": "fr", "une": "fr", "pour": "fr", "vos": "fr", "sur": "fr",
	"der": "de", "die": "de", "und": "de", "das": "de", "sie": "de", "ist": "de", "wir": "de", "nicht": "de", "mit": "de", "ihre": "de",
	"el": "es", "los": "es", "las": "es", "y": "es", "usted": "es", "por": "es", "con": "es", "sus": "es", "su": "es", "del": "es",
	"il": "it", "gli": "it", "di": "it", "che": "it", "per": "it", "sono": "it", "della": "it", "dei": "it", "nel": "it", "tuoi": "it",
	"os": "pt", "você": "pt", "não": "pt", "seus": "pt", "ou": "pt", "em": "pt", "uma": "pt", "dos": "pt", "pelo": "pt", "seu": "pt",
	"het": "nl", "een": "nl", "van": "nl", "en": "nl", "je": "nl", "uw": "nl", "wij": "nl", "niet": "nl", "voor": "nl", "zijn": "nl",
}

// detectLanguage guesses the text's language from the first 8 KB: enough
// words to decide, and cheap, since it runs only on pages with a candidate.
func detectLanguage(text string) string {
	sample := text[:min(len(text), 8192)]
	counts := map[string]int{}
	for w := range strings.FieldsFuncSeq(sample, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if len(w) > 6 {
			continue
		}
		if l, ok := languageWords[strings.ToLower(w)]; ok {
			counts[l]++
		}
	}
	best, n := "en", 0
	for _, l := range []string{"en", "fr", "de", "es", "it", "pt", "nl"} {
		if counts[l] > n {
			best, n = l, counts[l]
		}
	}
	return best
}

// phraseLanguages tells a non-English phrase's language by a word in it.
var phraseLanguages = []struct{ lang, word string }{
	{"fr", "jour"}, {"fr", "vigueur"}, {"fr", "derni"}, {"fr", "applique"}, {"fr", "modifi"}, {"fr", "révis"}, {"fr", "version du"},
	{"de", "stand"}, {"de", "zuletzt"}, {"de", "letzte"}, {"de", "aktualisiert"}, {"de", "ndert"}, {"de", "ltig"}, {"de", "gilt"}, {"de", "gelten"}, {"de", "kraft"}, {"de", "fassung"}, {"de", "vom"},
	// Italian and Portuguese before Spanish: "in vigore" and "em vigor" contain "vigor".
	{"it", "aggiorna"}, {"it", "vigore"}, {"it", "efficace"}, {"it", "ultimo"}, {"it", "modifica"},
	{"pt", "atualiza"}, {"pt", "altera"}, {"pt", "em vigor"}, {"pt", "válid"},
	{"es", "actualiza"}, {"es", "vigor"}, {"es", "vigente"}, {"es", "fecha"}, {"es", "modificad"}, {"es", "efectiv"},
	{"nl", "laatst"}, {"nl", "bijgewerkt"}, {"nl", "gewijzigd"}, {"nl", "kracht"}, {"nl", "geldig"}, {"nl", "ingangsdatum"},
}

// phraseLanguage returns the language of a non-English phrase, or "".
func phraseLanguage(phrase string) string {
	p := strings.ToLower(phrase)
	for _, l := range phraseLanguages {
		if strings.Contains(p, l.word) {
			return l.lang
		}
	}
	return ""
}

// phraseKeywords are the lower-case beginnings of every phrase, by first
// byte, so that statedPhraseMatches tries the regular expression only where a
// phrase can start. Frequent words that only begin a phrase together with
// the next word ("data", "date", "applicable", "change") are listed with it,
// spelled with one space as extracted text has it.
var phraseKeywords = func() [256][]string {
	var k [256][]string
	for _, w := range []string{
		"last", "date of", "date d", "updated", "revised", "modified", "amended", "changed", "most recent", "effective", "in effect", "took effect",
		"applies from", "applies as", "applicable from", "applicable as", "applicable à", "applicable a ", "valid from", "valid as", "version", "published",
		"change log", "changelog", "change-log", "revision history", "document history",
		"dernière", "derniere", "mis à", "mis a ", "mise", "mises", "à jour", "a jour", "modifié", "modifie", "révisé", "revise", "entrée", "entree", "en vigueur", "s'applique", "s’applique",
		"zuletzt", "letzte", "aktualisiert", "geändert", "geandert", "gültig", "gultig", "gilt ab", "gelten ab", "in kraft", "inkrafttreten", "fassung", "stand",
		"änderungshistorie", "anderungshistorie", "versionshistorie", "évolution", "evolution", "historial",
		"última", "ultima", "ultimo", "actualizad", "modificad", "fecha", "en vigor", "vigente", "efectiv",
		"aggiornat", "data di", "in vigore", "efficace", "valido", "valida", "atualizad", "alterad", "em vigor", "válid",
		"laatst", "bijgewerkt", "gewijzigd", "van kracht", "geldig", "ingangsdatum",
	} {
		k[w[0]] = append(k[w[0]], w)
	}
	return k
}()

// phraseWindow bounds the text a phrase is matched in: the longest phrase
// with generous spacing fits, and a short input keeps Go's regexp on its
// fast backtracking path.
const phraseWindow = 64

// statedPhraseMatches returns the submatch indexes of anchoredPhraseRe at
// every word start where a phrase begins and ends at a word end, without
// running a regular expression over the whole text: Go's regexp has no
// literal prefilter for case-insensitive alternations, and on 40 MB of
// policies this is the difference between seconds and milliseconds. It
// folds case byte by byte instead of lowering a copy of the text: ASCII
// letters fold with 0x20, and the lead byte of every accented Latin letter
// of the keywords (0xC3) is the same in both cases.
func statedPhraseMatches(text string) [][]int {
	var out [][]int
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		ks := phraseKeywords[c]
		if ks == nil || i > 0 && isWordStartBlocked(text, i) {
			continue
		}
		hit := false
		for _, k := range ks {
			if hasPrefixFold(text[i:], k) {
				hit = true
				break
			}
		}
		if !hit {
			continue
		}
		m := anchoredPhraseRe.FindStringSubmatchIndex(text[i:min(len(text), i+phraseWindow)])
		if m == nil {
			continue
		}
		if e := i + m[1]; e < len(text) {
			if r, _ := utf8.DecodeRuneInString(text[e:]); unicode.IsLetter(r) || unicode.IsDigit(r) {
				continue
			}
		}
		for j := range m {
			if m[j] >= 0 {
				m[j] += i
			}
		}
		out = append(out, m)
		i = m[1] - 1
	}
	return out
}

// isWordStartBlocked reports whether text[i] continues a word.
func isWordStartBlocked(text string, i int) bool {
	if c := text[i-1]; c < utf8.RuneSelf {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return unicode.IsLetter(r) || unicode.IsDigit(r) // "_Effective on …_" is Markdown emphasis
}

// hasPrefixFold reports whether s starts with the lower-case keyword k,
// ignoring the case of ASCII letters and of the Latin-1 letters (À–Þ after
// the lead byte 0xC3), the only capitals the keywords can meet.
func hasPrefixFold(s, k string) bool {
	if len(s) < len(k) {
		return false
	}
	for j := 0; j < len(k); j++ {
		c := s[j]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case j > 0 && s[j-1] == 0xC3 && c >= 0x80 && c <= 0x9E && c != 0x97:
			c += 0x20
		}
		if c != k[j] {
			return false
		}
	}
	return true
}
