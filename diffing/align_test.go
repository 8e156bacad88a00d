package diffing

import (
	"fmt"
	"strings"
	"testing"

	"github.com/policywatch/policywatch/snapshot"
)

// opLine is a compact form of a clause change: "op path [old path] text".
func opLine(c ClauseChange) string {
	s := c.Op + " " + c.Path
	if c.OldPath != "" {
		s += " <- " + c.OldPath
	}
	text := c.New
	if text == "" {
		text = c.Old
	}
	return s + ": " + text
}

func TestAlign(t *testing.T) {
	list := func(items ...string) string {
		var b strings.Builder
		b.WriteString("## 6 Your rights\n\n")
		for i, it := range items {
			fmt.Fprintf(&b, "  %d. %s\n", i+1, it)
		}
		return b.String()
	}
	rights := []string{
		"You may access the personal data we hold about you.",
		"You may ask us to correct inaccurate data.",
		"You may ask us to delete your data.",
		"You may object to processing based on legitimate interests.",
	}
	tests := []struct {
		name     string
		old, new string
		want     []string
		stats    Stats
	}{
		{"identical", list(rights...), list(rights...), nil, Stats{Identical: 5}},
		{"modified", list(rights...), list(rights[0], rights[1], "You may ask us to delete your data at any time.", rights[3]),
			[]string{"modified 6 Your rights › 6.3: You may ask us to delete your data at any time."}, Stats{Identical: 4, Modified: 1}},
		{"added at the end", list(rights...), list(append(rights[:4:4], "You may withdraw your consent.")...),
			[]string{"added 6 Your rights › 6.5: You may withdraw your consent."}, Stats{Identical: 5, Added: 1}},
		{"removed in the middle", list(rights...), list(rights[0], rights[2], rights[3]),
			[]string{
				"removed  <- 6 Your rights › 6.2: You may ask us to correct inaccurate data.",
				"renumbered 6 Your rights › 6.2 <- 6 Your rights › 6.3: You may ask us to delete your data.",
				"renumbered 6 Your rights › 6.3 <- 6 Your rights › 6.4: You may object to processing based on legitimate interests.",
			}, Stats{Identical: 2, Removed: 1, Renumbered: 2}},
		{"whole list renumbered by an inserted item", list(rights...), list(append([]string{"You may ask for a copy of your data."}, rights...)...),
			[]string{
				"added 6 Your rights › 6.1: You may ask for a copy of your data.",
				"renumbered 6 Your rights › 6.2 <- 6 Your rights › 6.1: You may access the personal data we hold about you.",
				"renumbered 6 Your rights › 6.3 <- 6 Your rights › 6.2: You may ask us to correct inaccurate data.",
				"renumbered 6 Your rights › 6.4 <- 6 Your rights › 6.3: You may ask us to delete your data.",
				"renumbered 6 Your rights › 6.5 <- 6 Your rights › 6.4: You may object to processing based on legitimate interests.",
			}, Stats{Identical: 1, Added: 1, Renumbered: 4}},
		{"moved to another section",
			"## 1 A\n\nAlpha one.\n\nWe never sell your personal data.\n\nAlpha two.\n\n## 2 B\n\nBeta one.\n",
			"## 1 A\n\nAlpha one.\n\nAlpha two.\n\n## 2 B\n\nBeta one.\n\nWe never sell your personal data.\n",
			[]string{"moved 2 B <- 1 A: We never sell your personal data."}, Stats{Identical: 5, Moved: 1}},
		{"modified among similar clauses",
			"We share data with advertisers for marketing.\n\nWe share data with partners for support.\n\nWe share data with auditors for compliance.\n",
			"We share data with advertisers for marketing.\n\nWe share data with partners for support.\n\nWe share data with carefully chosen auditors for compliance.\n\nWe share data with partners for billing support.\n",
			[]string{
				"modified : We share data with carefully chosen auditors for compliance.",
				"added : We share data with partners for billing support.",
			}, Stats{Identical: 2, Modified: 1, Added: 1}},
		{"rewritten clause is removed and added, not modified",
			"Intro.\n\nWe keep logs for thirty days.\n\nEnd.\n", "Intro.\n\nChildren under thirteen may not register.\n\nEnd.\n",
			[]string{"removed : We keep logs for thirty days.", "added : Children under thirteen may not register."},
			Stats{Identical: 2, Removed: 1, Added: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st := Align(snapshot.Segment(tt.old), snapshot.Segment(tt.new))
			var lines []string
			for _, c := range got {
				lines = append(lines, opLine(c))
			}
			if len(tt.want) > 0 && strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Align =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
			if st != tt.stats {
				t.Errorf("stats %+v, want %+v\n%s", st, tt.stats, strings.Join(lines, "\n"))
			}
		})
	}
}

// A renumbered clause reports both labels, so a reader sees "3.3 → 3.2".
func TestAlignRenumberedLabels(t *testing.T) {
	old := snapshot.Segment("## 3 Sharing\n\n  * 3.2 We do not sell data.\n  * 3.3 We disclose data when the law requires it.\n")
	new := snapshot.Segment("## 3 Sharing\n\n  * 3.2 We disclose data when the law requires it.\n")
	got, _ := Align(old, new)
	if len(got) != 2 || got[0].Op != OpRemoved || got[1].Op != OpRenumbered || got[1].Label != "3.2" || got[1].OldLabel != "3.3" ||
		got[1].Path != "3 Sharing › 3.2" || got[1].OldPath != "3 Sharing › 3.3" || !got[1].Cosmetic {
		t.Fatalf("Align = %+v", got)
	}
}
