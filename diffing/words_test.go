package diffing

import (
	"strings"
	"testing"
)

func TestWordDiff(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     string // ops as "=text|-text|+text"
	}{
		{"number", "Logs are kept for 30 days.", "Logs are kept for 90 days.", "=Logs are kept for |-30|+90|= days."},
		{"adjacent words join", "kept for 30 days.", "kept for 90 weeks.", "=kept for |-30 days|+90 weeks|=."},
		{"insertion", "We share data.", "We never share data.", "=We|+ never|= share data."},
		{"deletion", "We do not sell data.", "We do sell data.", "=We do|- not|= sell data."},
		{"identical", "Same text.", "Same text.", "=Same text."},
		{"from empty", "", "New clause.", "+New clause."},
		{"numbers stay whole", "up to 1,000 users", "up to 1,500 users", "=up to |-1,000|+1,500|= users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops := WordDiff(tt.old, tt.new)
			var parts []string
			var oldText, newText strings.Builder
			for _, o := range ops {
				parts = append(parts, o.Op+o.Text)
				if o.Op != WordAdded {
					oldText.WriteString(o.Text)
				}
				if o.Op != WordRemoved {
					newText.WriteString(o.Text)
				}
			}
			if got := strings.Join(parts, "|"); got != tt.want {
				t.Errorf("WordDiff = %s, want %s", got, tt.want)
			}
			if oldText.String() != tt.old || newText.String() != tt.new {
				t.Errorf("runs rebuild %q / %q, want %q / %q", oldText.String(), newText.String(), tt.old, tt.new)
			}
		})
	}
}

func TestSimilarity(t *testing.T) {
	d := wordDict{}
	tests := []struct {
		a, b string
		min  float64
		max  float64
	}{
		{"We keep logs for 30 days.", "We keep logs for 90 days.", 1, 1}, // numbers do not count
		{"We share data with advertisers.", "We share data with trusted partners.", 0.5, 0.8},
		{"We share data with advertisers.", "Children under 13 may not use the service.", 0, 0.2},
		{"Same words in order", "order in words Same", 1, 1},
		{"", "anything", 0, 0},
	}
	for _, tt := range tests {
		if s := similarity(d.bag(tt.a), d.bag(tt.b)); s < tt.min || s > tt.max {
			t.Errorf("similarity(%q, %q) = %.2f, want in [%.2f, %.2f]", tt.a, tt.b, s, tt.min, tt.max)
		}
	}
}
