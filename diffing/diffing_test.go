package diffing

import (
	"strings"
	"testing"

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
		{"whitespace only", doc("P", base, ""), doc("P", strings.ReplaceAll(base, "\n\n", "\n\n\n\n")+"  \n", ""), false, false, 0, 0, "", ""},
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

func TestNormalise(t *testing.T) {
	got := Normalise("# T\u00a0x  \n\n\n\nbody\t\n")
	if got != "# T x\n\nbody\n" {
		t.Fatalf("Normalise = %q", got)
	}
}
