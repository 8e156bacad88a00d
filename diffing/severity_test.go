package diffing

import (
	"strings"
	"testing"
)

func TestAssess(t *testing.T) {
	tests := []struct {
		name    string
		changes []ClauseChange
		terms   []Term
		score   int
		level   string
		topics  string // Terms of the first change
		reason  string // substring of the first reason
	}{
		{"nothing", nil, nil, 0, LevelNone, "", ""},
		{"added AI clause", []ClauseChange{{Op: OpAdded, Path: "5 AI › 5.1", New: "We use your content to train our machine learning models."}},
			nil, 5, LevelMedium, "AI or model training", `AI or model training: added in 5 AI › 5.1: "We use`},
		{"retention period changed", []ClauseChange{{Op: OpModified, Path: "4 Data storage › 4.1",
			Old: "Logs are kept for 30 days.", New: "Logs are kept for 90 days.",
			Words: WordDiff("Logs are kept for 30 days.", "Logs are kept for 90 days.")}},
			nil, 4, LevelLow, "retention", `retention: "30 days" → "90 days" in 4 Data storage › 4.1`},
		{"changed words hit a topic", []ClauseChange{{Op: OpModified, Path: "3 Sharing",
			Old: "We do not share your data.", New: "We do not share your data, except we sell it to advertisers.",
			Words: WordDiff("We do not share your data.", "We do not share your data, except we sell it to advertisers.")}},
			nil, 5 + 3, LevelMedium, "sale or sharing of data, third parties", `added ", except we sell it to advertisers"`},
		{"removed arbitration waiver", []ClauseChange{{Op: OpRemoved, OldPath: "12 Disputes", Old: "You waive any right to a jury trial or class action."}},
			nil, 5, LevelMedium, "arbitration and class-action waivers", "removed from 12 Disputes"},
		{"cosmetic changes score 0", []ClauseChange{{Op: OpModified, Cosmetic: true, Old: "We SELL data to third parties.", New: "We sell data to third parties."},
			{Op: OpRenumbered, Cosmetic: true, Old: "Children under 13.", New: "Children under 13."}},
			nil, 0, LevelNone, "", ""},
		{"French and German phrases", []ClauseChange{{Op: OpAdded, New: "Nous pouvons vendre vos données."}, {Op: OpAdded, New: "Wir verarbeiten Standortdaten von Kindern."}},
			nil, 5 + 5 + 4, LevelHigh, "sale or sharing of data", "added: "},
		{"custom terms", []ClauseChange{{Op: OpAdded, Path: "9", New: "We use cookies."}},
			[]Term{{Topic: "cookies", Phrases: []string{"cookie*"}, Weight: 2}}, 2, LevelLow, "cookies", "cookies: added in 9"},
		{"no partial words", []ClauseChange{{Op: OpAdded, New: "We aim to maintain the air quality."}}, nil, 0, LevelNone, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sev := Assess(tt.changes, tt.terms)
			if sev.Score != tt.score || sev.Level != tt.level {
				t.Errorf("score %d %s, want %d %s; reasons %q", sev.Score, sev.Level, tt.score, tt.level, sev.Reasons)
			}
			if len(tt.changes) > 0 && strings.Join(tt.changes[0].Terms, ", ") != tt.topics {
				t.Errorf("Terms = %q, want %q", tt.changes[0].Terms, tt.topics)
			}
			if tt.reason != "" && (len(sev.Reasons) == 0 || !strings.Contains(strings.Join(sev.Reasons, "\n"), tt.reason)) {
				t.Errorf("reasons %q lack %q", sev.Reasons, tt.reason)
			}
		})
	}
}

func TestSeverityLevel(t *testing.T) {
	for score, want := range map[int]string{0: LevelNone, 1: LevelLow, 4: LevelLow, 5: LevelMedium, 9: LevelMedium, 10: LevelHigh, 40: LevelHigh} {
		if got := SeverityLevel(score); got != want {
			t.Errorf("SeverityLevel(%d) = %s, want %s", score, got, want)
		}
	}
}

// What the 20-report reading found misleading (docs/changes.md): a
// rewording inside a clause is not a change of the clause's topic, a
// negation is, and link targets are neither words nor reasons.
func TestAssessReadingFixes(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		level    string
		reason   string // "" means no reason
	}{
		{"spelling inside a sharing clause", "We never share behaviours with partners.", "We never share behaviors with partners.", LevelNone, ""},
		{"negation dropped", "We do not sell your personal data.", "We sell your personal data.", LevelMedium, `sale or sharing of data: removed "do not" in 3 Sharing`},
		{"number in a retention clause", "Logs are kept for 30 days.", "Logs are kept for 90 days.", LevelLow, `retention: "30 days" → "90 days" in 3 Sharing`},
		{"link target only", "See [our partners](https://x.example/a).", "See [our partners](https://x.example/b).", LevelNone, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := Compare(doc("P", "## 3 Sharing\n\n"+tt.old+"\n", ""), doc("P", "## 3 Sharing\n\n"+tt.new+"\n", ""))
			sev := ch.Severity
			if sev.Level != tt.level {
				t.Fatalf("level %s (score %d, reasons %q), want %s", sev.Level, sev.Score, sev.Reasons, tt.level)
			}
			if tt.reason == "" && len(sev.Reasons) > 0 || tt.reason != "" && (len(sev.Reasons) == 0 || sev.Reasons[0] != tt.reason) {
				t.Fatalf("reasons %q, want %q", sev.Reasons, tt.reason)
			}
		})
	}
}
