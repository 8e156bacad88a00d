package snapshot

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// clauseLine is a compact form of a clause for table tests:
// "kind|level|path|label|text".
func clauseLine(c Clause) string {
	return fmt.Sprintf("%s|%d|%s|%s|%s", c.Kind, c.Level, PathString(c.Path), c.Label, strings.ReplaceAll(c.Text, "\n", "⏎"))
}

func TestSegment(t *testing.T) {
	tests := []struct {
		name string
		md   string
		want []string
	}{
		{"headings by level", "# Policy\n\n## 1 Scope\n\nText one.\n\n### 1.1 Detail\n\nText two.\n\n## 2 Other\n\nText three.\n",
			[]string{
				"heading|1|||Policy",
				"heading|2|Policy|1|Scope",
				"paragraph|0|Policy › 1 Scope||Text one.",
				"heading|3|Policy › 1 Scope|1.1|Detail",
				"paragraph|0|Policy › 1 Scope › 1.1 Detail||Text two.",
				"heading|2|Policy|2|Other",
				"paragraph|0|Policy › 2 Other||Text three.",
			}},
		{"paragraphs and hard breaks", "First line  \nsame paragraph.\n\nSecond\nlazy continuation.\n",
			[]string{"paragraph|0|||First line⏎same paragraph.", "paragraph|0|||Second⏎lazy continuation."}},
		{"nested numbered lists (ours)", "## 4 Data storage\n\n  1. 4.1 Logs are kept for 30 days.\n    1. Web logs.\n    2. API logs.\n  2. Backups are kept.\n",
			[]string{
				"heading|2||4|Data storage",
				"item|1|4 Data storage|4.1|Logs are kept for 30 days.",
				"item|2|4 Data storage › 4.1|1.|Web logs.",
				"item|2|4 Data storage › 4.1|2.|API logs.",
				"item|1|4 Data storage|2.|Backups are kept.",
			}},
		{"paragraph inside an item (ours)", "  1. Retention.\n     We keep logs for 30 days.\n  2. Next.\n",
			[]string{"item|1||1.|Retention.", "paragraph|0|1.||We keep logs for 30 days.", "item|1||2.|Next."}},
		{"item with a hard break stays one clause", "  1. Line one  \n     line two.\n",
			[]string{"item|1||1.|Line one⏎line two."}},
		{"common Markdown bullets", "Intro:\n\n*   one\n*   two\n    *   nested\n*   three\n\nAfter the list.\n",
			[]string{"paragraph|0|||Intro:", "item|1|||one", "item|1|||two", "item|2|two||nested", "item|1|||three", "paragraph|0|||After the list."}},
		{"paragraph after a blank inside an item", "1.  First item.\n\n    More about it.\n\n2.  Second.\n",
			[]string{"item|1||1.|First item.", "paragraph|0|1.||More about it.", "item|1||2.|Second."}},
		{"setext headings", "Privacy\n=======\n\nData\n----\n\nText.\n",
			[]string{"heading|1|||Privacy", "heading|2|Privacy||Data", "paragraph|0|Privacy › Data||Text."}},
		{"tables, ours and with outer pipes", "Name | Purpose\n---|---\n_ga | analytics\n\n| A | B |\n| --- | --- |\n|     |     |\n| x \\| y | z |\n",
			[]string{"row|0|||Name | Purpose", "row|0|||_ga | analytics", "row|0|||A | B", "row|0|||x \\| y | z"}},
		{"thematic break and escaped number", "One.\n\n* * *\n\n1\\. Not a list.\n\n30 days of notice.\n",
			[]string{"paragraph|0|||One.", "paragraph|0||1.|Not a list.", "paragraph|0|||30 days of notice."}},
		{"labels in text", "(a) first\n\n§ 3 Scope of this policy\n\nIV. Rights\n\ni.e. not a label\n",
			[]string{"paragraph|0||(a)|first", "paragraph|0||§ 3|Scope of this policy", "paragraph|0||IV.|Rights", "paragraph|0|||i.e. not a label"}},
		{"bold label", "## **7.** Final provisions\n\n  * **7.1** Governing law.\n",
			[]string{"heading|2||7.|Final provisions", "item|1|7. Final provisions|7.1|Governing law."}},
		{"block quote", "> Quoted text.\n", []string{"paragraph|0|||Quoted text."}},
		{"heading closes lists", "  1. Item.\n\n## 2 Next\n\nText.\n",
			[]string{"item|1||1.|Item.", "heading|2||2|Next", "paragraph|0|2 Next||Text."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Segment(tt.md)
			var lines []string
			for _, c := range got {
				lines = append(lines, clauseLine(c))
				if c.Hash != ClauseHash(c.Text) {
					t.Errorf("clause %q: hash is not ClauseHash(Text)", c.Text)
				}
			}
			if strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Segment =\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// Renumbering must change a clause's label, never its text or hash: that is
// how alignment tells a renumbered clause from a modified one.
func TestSegmentRenumberingKeepsHash(t *testing.T) {
	a := Segment("## 3 Sharing\n\n  1. 3.1 We share data with processors.\n")
	b := Segment("## 4 Sharing\n\n  1. 4.1 We share data with processors.\n")
	if len(a) != 2 || len(b) != 2 {
		t.Fatalf("got %d and %d clauses, want 2", len(a), len(b))
	}
	for i := range a {
		if a[i].Hash != b[i].Hash || a[i].Label == b[i].Label {
			t.Errorf("clause %d: %q/%q hash equal %v, want equal hashes and different labels",
				i, a[i].Label, b[i].Label, a[i].Hash == b[i].Hash)
		}
	}
	if got := a[1].Location(); got != "3 Sharing › 3.1" {
		t.Errorf("Location = %q, want %q", got, "3 Sharing › 3.1")
	}
}

// ClauseHash takes a shortcut for texts without URLs; it must agree with
// Normalize, which defines clause identity.
func TestNormalizePlainMatchesNormalize(t *testing.T) {
	for _, s := range []string{
		"", "  plain  ", "a  \nb\t\n\n\n\nc", "\u00a0x\u00a0", "a\r\nb\rc", "x \f\n\v\ny", "\n\n a \n\n",
		"line one  \n     line two", "tabs\t\t\nend",
	} {
		if got, want := normalizePlain(s), Normalize(s); got != want {
			t.Errorf("normalizePlain(%q) = %q, Normalize = %q", s, got, want)
		}
	}
}

// Segment must cope with the Markdown of other tools (setext headings,
// "*   " bullets, tables with outer pipes): every OTA version in the corpus
// of more than a few words segments into clauses, each with text.
func TestSegmentCorpus(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "ota")
	if _, err := os.Stat(filepath.Join(dir, "manifest.jsonl")); err != nil {
		t.Skipf("no OTA corpus at %s: %v", dir, err)
	}
	n, docs := 0, 0
	for _, e := range readManifest[otaEntry](t, filepath.Join(dir, "manifest.jsonl")) {
		b, err := os.ReadFile(filepath.Join(dir, e.MD))
		if err != nil {
			t.Fatalf("%s: %v", e.ID, err)
		}
		cs := Segment(string(b))
		if len(strings.Fields(string(b))) > 20 && len(cs) == 0 {
			t.Errorf("%s: no clauses", e.ID)
		}
		for _, c := range cs {
			if strings.TrimSpace(c.Text) == "" {
				t.Errorf("%s: empty clause %+v", e.ID, c)
			}
		}
		n += len(cs)
		docs++
	}
	t.Logf("%d OTA versions, %d clauses", docs, n)
}
