package snapshot

import (
	"regexp"
	"strings"
)

var (
	tokenLinkTargetRe = regexp.MustCompile(`\]\([^)\s]*(?:\s+"[^"]*")?\)`)
	tokenAutoLinkRe   = regexp.MustCompile(`<[a-zA-Z][a-zA-Z0-9+.\-]*:[^>\s]*>`)
	tokenBareURLRe    = regexp.MustCompile(`(?i)\b(?:https?|ftp)://\S+`)
	tokenWordRe       = regexp.MustCompile(`[\p{L}\p{N}]+(?:['’][\p{L}]+)*`)
)

// Tokens returns the lower-cased words of a Markdown text, without link
// targets, URLs and Markdown syntax: the units extraction quality is measured in.
func Tokens(md string) []string {
	s := tokenLinkTargetRe.ReplaceAllString(md, "]")
	s = tokenAutoLinkRe.ReplaceAllString(s, " ")
	s = tokenBareURLRe.ReplaceAllString(s, " ")
	s = strings.ReplaceAll(s, "’", "'")
	return tokenWordRe.FindAllString(strings.ToLower(s), -1)
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
