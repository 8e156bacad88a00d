package diffing

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aymanbagabas/go-udiff"

	"github.com/policywatch/policywatch/snapshot"
)

func doc(title, body, date string) *snapshot.Document {
	return &snapshot.Document{Title: title, Body: body, StatedDate: date}
}

func TestCompare(t *testing.T) {
	base := "Intro.\n\n  1. Logs are kept for 30 days.\n  2. We do not sell data.\n"
	tests := []struct {
		name                 string
		old, new             *snapshot.Document
		text, date           bool
		added, removed       int
		contains, notContain string
	}{
		{"identical", doc("P", base, "2021-03-03"), doc("P", base, "2021-03-03"), false, false, 0, 0, "", ""},
		{"whitespace only: cosmetic", doc("P", base, ""), doc("P", strings.ReplaceAll(base, "\n\n", "\n\n\n\n")+"  \n", ""), true, false, 0, 0, "", ""},
		{"text and date", doc("P", base, "2021-03-03"), doc("P", strings.Replace(base, "30 days", "90 days", 1), "2022-06-14"),
			true, true, 1, 1, "+  1. Logs are kept for 90 days.", ""},
		{"date only", doc("P", base, "2021-03-03"), doc("P", base, "2021-04-01"), false, true, 0, 0, "", ""},
		{"added clause", doc("P", base, ""), doc("P", base+"  3. We train models on your data.\n", ""), true, false, 1, 0, "+  3. We train models", "-"},
		{"title change", doc("Privacy", base, ""), doc("Privacy Notice", base, ""), true, false, 1, 1, "+# Privacy Notice", ""},
		{"no old version", nil, doc("P", base, "2021-03-03"), true, true, 4, 0, "+  2. We do not sell data.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := Compare(tt.old, tt.new)
			if ch.TextChanged != tt.text || ch.DateChanged != tt.date || ch.LinesAdded != tt.added || ch.LinesRemoved != tt.removed {
				t.Fatalf("Compare = text %v date %v +%d -%d, want %v %v +%d -%d\n%s",
					ch.TextChanged, ch.DateChanged, ch.LinesAdded, ch.LinesRemoved, tt.text, tt.date, tt.added, tt.removed, ch.Unified)
			}
			if tt.contains != "" && !strings.Contains(ch.Unified, tt.contains) {
				t.Errorf("diff lacks %q:\n%s", tt.contains, ch.Unified)
			}
			if tt.notContain != "" && strings.Contains(strings.SplitN(ch.Unified, "@@", 2)[len(strings.SplitN(ch.Unified, "@@", 2))-1], "\n"+tt.notContain) {
				t.Errorf("diff has a %q line:\n%s", tt.notContain, ch.Unified)
			}
			if !ch.TextChanged && ch.Unified != "" {
				t.Errorf("no text change but a diff:\n%s", ch.Unified)
			}
		})
	}
}

// Lines that differ only by the capture a link was resolved against, or by
// the www. variant of a URL, are not changes; real changes print as written.
func TestUnifiedComparesNormalForms(t *testing.T) {
	old := doc("P", "See [cookies](https://web.archive.org/web/20210101000000id_/https://x.example/cookies).\n\nLogs: 30 days.\n", "")
	new := doc("P", "See [cookies](https://web.archive.org/web/20220101000000id_/http://www.x.example/cookies).\n\nLogs: 90 days.\n", "")
	ch := Compare(old, new)
	want := "--- old\n+++ new\n@@ -2,4 +2,4 @@\n \n See [cookies](https://web.archive.org/web/20220101000000id_/http://www.x.example/cookies).\n \n-Logs: 30 days.\n+Logs: 90 days.\n"
	if ch.Unified != want || ch.LinesAdded != 1 || ch.LinesRemoved != 1 {
		t.Fatalf("Unified =\n%s\nwant\n%s", ch.Unified, want)
	}
}

// On texts without link variants the hunks must match a reference unified
// diff (go-udiff's) line for line.
func TestUnifiedMatchesReference(t *testing.T) {
	var long []string
	for i := 0; i < 40; i++ {
		long = append(long, fmt.Sprintf("clause %d", i))
	}
	edit := func(lines []string, f func([]string) []string) string {
		return strings.Join(f(append([]string(nil), lines...)), "\n")
	}
	base := strings.Join(long, "\n")
	cases := map[string]string{
		"one change":      edit(long, func(l []string) []string { l[20] = "changed"; return l }),
		"two far changes": edit(long, func(l []string) []string { l[2] = "x"; l[35] = "y"; return l }),
		"two near":        edit(long, func(l []string) []string { l[10] = "x"; l[15] = "y"; return l }),
		"insert at start": "new first\n" + base,
		"append":          base + "\nnew last",
		"delete block":    edit(long, func(l []string) []string { return append(l[:5], l[12:]...) }),
	}
	for name, changed := range cases {
		t.Run(name, func(t *testing.T) {
			got := Unified("a", "b", doc("T", base, ""), doc("T", changed, ""))
			want := udiff.Unified("a", "b", "# T\n\n"+base+"\n", "# T\n\n"+changed+"\n")
			if got != want {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// Texts that are one version (they differ only in what identity ignores)
// still differ as texts: a cosmetic change, never "no change".
func TestCompareInvisibleDifferences(t *testing.T) {
	a := doc("P", "By registering you agree to the Moderation Policy.\u00a0Report abuse.", "")
	b := doc("P", "By registering you agree to the Moderation Policy. Report abuse.", "")
	ch := Compare(a, b)
	if !ch.TextChanged || len(ch.Kinds) != 1 || ch.Kinds[0] != KindCosmetic || ch.Severity.Score != 0 {
		t.Fatalf("Compare = text %v kinds %v severity %+v", ch.TextChanged, ch.Kinds, ch.Severity)
	}
	if ch := Compare(a, a); ch.TextChanged || len(ch.Kinds) != 0 {
		t.Fatalf("identical texts: text %v kinds %v", ch.TextChanged, ch.Kinds)
	}
}

// A page's one top heading names the document again; it is not part of the
// section paths below it.
func TestClausePathsSkipThePageHeading(t *testing.T) {
	body := "# Acme Privacy Policy\n\n  1. **How we use information**\n    1. To run the service.\n  2. **Data storage**\n    1. Logs are kept for 30 days.\n"
	ch := Compare(doc("Privacy | Acme", body, ""), doc("Privacy | Acme", strings.Replace(body, "30 days", "90 days", 1), ""))
	if len(ch.Clauses) != 1 || ch.Clauses[0].Path != "2 Data storage › 2.1" {
		t.Fatalf("clauses = %+v", ch.Clauses)
	}
	two := "# Part one\n\nText one.\n\n# Part two\n\nLogs are kept for 30 days.\n"
	ch = Compare(doc("P", two, ""), doc("P", strings.Replace(two, "30 days", "90 days", 1), ""))
	if len(ch.Clauses) != 1 || ch.Clauses[0].Path != "Part two" {
		t.Fatalf("with two top headings the paths keep them: %+v", ch.Clauses)
	}
}
