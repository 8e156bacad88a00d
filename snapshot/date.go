package snapshot

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Stated dates are found in two steps: a phrase that says the text dates itself
// ("last updated", "effective as of"), then, after only filler words, a full
// calendar date. Requiring both keeps "© 2019", "founded in 2010" and dates in
// ordinary sentences out: a missing date costs less than a wrong one, because
// diffing treats a changed stated date as a signal.
var (
	statedPhraseRe = regexp.MustCompile(`(?i)\b(?:` +
		`(?P<strong>last[\s\-]+(?:updated|modified|revised|changed|amended|reviewed|update|revision|modification)|` +
		`effective(?:\s+date|\s+as\s+of|\s+from|\s+since|\s+on)?|` +
		`date\s+of\s+(?:last\s+)?(?:revision|update|modification)|version\s+date|` +
		`(?:updated|revised|modified|amended)\s+(?:as\s+of|on)|` +
		`most\s+recent\s+version\s+has\s+been\s+updated)` +
		`|(?P<weak>updated|revised|modified|amended))\b`)
	statedFillerRe = regexp.MustCompile(`(?i)^(?:\s|[:\-–—,(.*_]|\b(?:on|as\s+of|date|dated|is|was|at|the|from|since)\b|` +
		`\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b)*`)

	monthPat       = `(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?`
	dateMDYRe      = regexp.MustCompile(`(?i)^` + monthPat + `\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+((?:19|20)\d{2})\b`)
	dateDMYRe      = regexp.MustCompile(`(?i)^(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?` + monthPat + `,?\s+((?:19|20)\d{2})\b`)
	dateISORe      = regexp.MustCompile(`^((?:19|20)\d{2})-(\d{1,2})-(\d{1,2})\b`)
	dateNumericRe  = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})\b`)
	monthsByPrefix = map[string]time.Month{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
)

// edgeChars is how close to the start or end of the text a stated date is
// expected; policies put it under the title or at the very bottom.
const edgeChars = 1500

// FindStatedDate finds the date a policy text states for itself and returns it
// as YYYY-MM-DD with the phrase it was read from, or "", "" when there is none.
// When several phrases carry dates, an explicit "last updated"/"effective" near
// the top or bottom wins over a bare "updated" in the middle.
func FindStatedDate(text string) (date, phrase string) {
	strongIdx := statedPhraseRe.SubexpIndex("strong")
	bestScore := -1
	for _, m := range statedPhraseMatches(text) {
		rest := text[m[1]:min(len(text), m[1]+120)]
		skip := statedFillerRe.FindStringIndex(rest)
		if skip != nil {
			rest = rest[skip[1]:]
		}
		d, n := parseLeadingDate(rest)
		if d == "" {
			continue
		}
		score := 1
		if m[2*strongIdx] >= 0 {
			score = 3
		}
		if m[0] < edgeChars || len(text)-m[1] < edgeChars || m[0] < len(text)/5 || m[0] > len(text)*4/5 {
			score++
		}
		if score > bestScore {
			bestScore = score
			end := m[1] + (len(text[m[1]:min(len(text), m[1]+120)]) - len(rest)) + n
			date, phrase = d, collapseSpace(text[m[0]:end])
		}
	}
	return date, phrase
}

// parseLeadingDate parses a full date at the start of s and returns it with the
// number of bytes it used.
func parseLeadingDate(s string) (string, int) {
	if m := dateMDYRe.FindStringSubmatch(s); m != nil {
		return ymd(m[3], monthNumber(m[1]), m[2]), len(m[0])
	}
	if m := dateDMYRe.FindStringSubmatch(s); m != nil {
		return ymd(m[3], monthNumber(m[2]), m[1]), len(m[0])
	}
	if m := dateISORe.FindStringSubmatch(s); m != nil {
		mo, _ := strconv.Atoi(m[2])
		return ymd(m[1], mo, m[3]), len(m[0])
	}
	if m := dateNumericRe.FindStringSubmatch(s); m != nil {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[2])
		if a > 12 { // 25/05/2018 can only be day-first
			return ymd(m[3], b, m[1]), len(m[0])
		}
		return ymd(m[3], a, m[2]), len(m[0]) // US order, as in English policies
	}
	return "", 0
}

func monthNumber(name string) int {
	name = strings.ToLower(name)
	if len(name) < 3 {
		return 0
	}
	return int(monthsByPrefix[name[:3]])
}

// ymd validates a calendar date (no 31 April) and formats it.
func ymd(year string, month int, day string) string {
	y, err1 := strconv.Atoi(year)
	d, err2 := strconv.Atoi(day)
	if err1 != nil || err2 != nil || month < 1 || month > 12 || d < 1 || y < 1990 || y > 2100 {
		return ""
	}
	t := time.Date(y, time.Month(month), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != month {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, month, d)
}

// statedPhraseKeywords are the words every statedPhraseRe match starts with.
var statedPhraseKeywords = []string{"last", "effective", "date", "version", "updated", "revised", "modified", "amended", "most"}

// anchoredPhraseRe is statedPhraseRe matched only at the start of its input.
var anchoredPhraseRe = regexp.MustCompile(`\A(?:` + statedPhraseRe.String() + `)`)

// statedPhraseMatches returns what statedPhraseRe.FindAllStringSubmatchIndex
// returns, without running the regular expression over the whole text: every
// match starts at a word boundary with one of statedPhraseKeywords, so only
// those places are tried. Go's regexp has no literal prefilter for
// case-insensitive alternations; on 40 MB of policies this is the difference
// between seconds and milliseconds.
func statedPhraseMatches(text string) [][]int {
	lower := []byte(strings.ToLower(text))
	if len(lower) != len(text) { // non-ASCII case mapping changed lengths
		return statedPhraseRe.FindAllStringSubmatchIndex(text, -1)
	}
	var out [][]int
	end := 0
	for i := 0; i < len(lower); i++ {
		c := lower[i]
		if c != 'l' && c != 'e' && c != 'd' && c != 'v' && c != 'u' && c != 'r' && c != 'm' && c != 'a' {
			continue
		}
		if i < end || i > 0 && isASCIIWord(text[i-1]) {
			continue
		}
		hit := false
		for _, k := range statedPhraseKeywords {
			if len(lower)-i >= len(k) && string(lower[i:i+len(k)]) == k {
				hit = true
				break
			}
		}
		if !hit {
			continue
		}
		w := min(len(text), i+400)
		m := anchoredPhraseRe.FindStringSubmatchIndex(text[i:w])
		if m == nil {
			continue
		}
		// drop the wrapper's own group and shift to text offsets
		r := make([]int, len(m))
		for j, v := range m {
			if v >= 0 {
				v += i
			}
			r[j] = v
		}
		out = append(out, r)
		end = r[1]
		i = r[1] - 1
	}
	return out
}

func isASCIIWord(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
