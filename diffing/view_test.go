package diffing_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/policywatch/policywatch/diffing"
)

// The exported View is what the web dashboard renders; these tests hold it
// to what the package's own formats show.

func viewReport() diffing.Report {
	const u = "https://www.acme-cloud.example/legal/privacy"
	return diffing.Report{
		Vendor: "Acme \x1b[31mCloud",
		URL:    u,
		Old:    diffing.Side{Timestamp: "20210922174411", WaybackURL: "https://web.archive.org/web/20210922174411id_/" + u, StatedDate: "2021-03-01"},
		New:    diffing.Side{Timestamp: "not-a-time", WaybackURL: "https://web.archive.org/web/20220701120505id_/" + u, StatedDate: "2022-06-14"},
		Window: &diffing.Window{
			LastOld:  diffing.CaptureRef{Timestamp: "20220105093000", WaybackURL: "https://web.archive.org/web/20220105093000id_/" + u},
			FirstNew: diffing.CaptureRef{Timestamp: "20220701120505", WaybackURL: "https://web.archive.org/web/20220701120505id_/" + u},
		},
		Change: diffing.Change{
			TextChanged: true, DateChanged: true, OldDate: "2021-03-01", NewDate: "2022-06-14",
			Kinds:    []string{diffing.KindDated, diffing.KindFlipBack, diffing.KindSilent, "brand-new"},
			Severity: diffing.Severity{Score: 4, Level: `high" onclick="x`, Reasons: []string{"retention"}},
			Stats:    diffing.Stats{Identical: 3, Modified: 2},
			Clauses: []diffing.ClauseChange{
				{Op: diffing.OpModified, Path: "4 Data storage › 4.1", Label: "4.1", Terms: []string{"retention"},
					Old: "Logs are kept 30 days.", New: "Logs are kept 90 days.",
					Words: []diffing.WordOp{{Op: "=", Text: "Logs are kept "}, {Op: "-", Text: "30"}, {Op: "+", Text: "90"}, {Op: "=", Text: " days."}}},
				{Op: diffing.OpModified, Path: "5 Rights", Cosmetic: true, Old: "Write to us.", New: "Write to us!",
					Words: []diffing.WordOp{{Op: "=", Text: "Write to us"}, {Op: "-", Text: "."}, {Op: "+", Text: "!"}}},
			},
			Unified: "--- old\n+++ new\n@@ -1 +1 @@\n same\n-Logs are kept 30 days.\n+Logs are kept 90 days.\n",
		},
	}
}

func TestNewView(t *testing.T) {
	v := diffing.NewView(viewReport(), diffing.RenderOptions{})
	if v.Vendor != "Acme Cloud" {
		t.Errorf("Vendor %q: archived text is not cleaned of escapes", v.Vendor)
	}
	var kinds []string
	for _, k := range v.Kinds {
		kinds = append(kinds, k.Kind+"="+k.Label)
	}
	want := []string{"silent=SILENT CHANGE", "dated=DATED CHANGE", "flip-back=FLIP-BACK", "other=BRAND-NEW"}
	if !slices.Equal(kinds, want) {
		t.Errorf("kinds %q, want %q (silent first)", kinds, want)
	}
	if v.Old.When != "2021-09-22 17:44:11 UTC" || v.Old.ISO != "2021-09-22T17:44:11Z" {
		t.Errorf("old side %+v", v.Old)
	}
	if v.New.When != "not-a-time" || v.New.ISO != "" {
		t.Errorf("a timestamp that does not parse: %+v", v.New)
	}
	if v.Window == nil || v.Window.FirstNew.Timestamp != "20220701120505" {
		t.Errorf("window %+v", v.Window)
	}
	if v.DateLine != "2021-03-01 → 2022-06-14" {
		t.Errorf("DateLine %q", v.DateLine)
	}
	if got := v.LevelClass(); got != "other" {
		t.Errorf("LevelClass of a hostile level: %q, want other", got)
	}
	if len(v.Groups) != 1 || v.Groups[0].Section != "4 Data storage" || v.Groups[0].Items[0].Where != "4.1" {
		t.Errorf("groups %+v", v.Groups)
	}
	if v.Hidden != 1 || v.HiddenLine() != "1 cosmetic change (punctuation) not shown" {
		t.Errorf("Hidden %d, HiddenLine %q", v.Hidden, v.HiddenLine())
	}
	if v.Unified != "" || v.UnifiedRows() != nil {
		t.Error("the line diff is shown though there is a clause analysis")
	}

	shown := diffing.NewView(viewReport(), diffing.RenderOptions{ShowCosmetic: true})
	if shown.Hidden != 0 || shown.HiddenLine() != "" || len(shown.Groups) != 2 || !shown.Groups[1].Items[0].Cosmetic {
		t.Errorf("ShowCosmetic: hidden %d %q, groups %+v", shown.Hidden, shown.HiddenLine(), shown.Groups)
	}
}

func TestNewViewUnified(t *testing.T) {
	r := viewReport()
	r.Change.Clauses = nil
	r.Change.Severity.Level = "medium"
	v := diffing.NewView(r, diffing.RenderOptions{})
	if v.LevelClass() != "medium" {
		t.Errorf("LevelClass %q", v.LevelClass())
	}
	var classes []string
	for _, row := range v.UnifiedRows() {
		classes = append(classes, row.Class)
	}
	if want := []string{"file", "file", "hunk", "ctx", "del", "add"}; !slices.Equal(classes, want) {
		t.Errorf("unified rows %q, want %q", classes, want)
	}
}

func TestKindLabel(t *testing.T) {
	tests := []struct{ kind, label string }{
		{diffing.KindSilent, "SILENT CHANGE"},
		{diffing.KindDated, "DATED CHANGE"},
		{diffing.KindDateOnly, "DATE-ONLY CHANGE"},
		{diffing.KindCosmetic, "COSMETIC"},
		{diffing.KindFlipBack, "FLIP-BACK"},
		{"new\x1b[1mkind", "NEWKIND"},
	}
	for _, tc := range tests {
		k := diffing.KindLabel(tc.kind)
		if k.Label != tc.label {
			t.Errorf("KindLabel(%q).Label = %q, want %q", tc.kind, k.Label, tc.label)
		}
		known := k.Kind == tc.kind
		if known == (k.Note == "") {
			t.Errorf("KindLabel(%q) = %+v: a known kind has a note, an unknown one is \"other\" without", tc.kind, k)
		}
	}
}

// TestViewGroupsAnAddedNumberedHeading checks that a numbered heading added
// with its section is listed in that section, not before the first heading.
func TestViewGroupsAnAddedNumberedHeading(t *testing.T) {
	r := diffing.Report{Change: diffing.Change{TextChanged: true, Clauses: []diffing.ClauseChange{
		{Op: diffing.OpAdded, Path: "5.", Label: "5.", New: "International transfers"},
		{Op: diffing.OpAdded, Path: "5. International transfers", New: "Your information may be transferred to the United States."},
		{Op: diffing.OpAdded, Path: "7.", Label: "7.", New: "A numbered paragraph that is a whole sentence."},
	}}}
	v := diffing.NewView(r, diffing.RenderOptions{})
	var got []string
	for _, g := range v.Groups {
		got = append(got, fmt.Sprintf("%s:%d", g.Section, len(g.Items)))
	}
	want := []string{"5. International transfers:2", "Before the first heading:1"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("groups = %q, want %q", got, want)
	}
}
