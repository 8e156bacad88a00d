package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/snapshot"
	"github.com/policywatch/policywatch/store"
)

const acmePath = "a/ac/acm/acme-cloud.example.md"

// gitIn runs git in dir for a test's checks, without the machine's git
// configuration.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

func splitLines(s string) []string {
	if s = strings.TrimRight(s, "\n"); s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// storedVersions reads the Acme versions straight from the database, to
// compare the export with what snapshot renders for them.
func (e *env) storedVersions() []*store.Version {
	e.t.Helper()
	db, err := store.Open(e.t.Context(), filepath.Join(e.dir, "data.db"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	v, err := db.VendorByName(e.t.Context(), "Acme Cloud")
	if err != nil {
		e.t.Fatal(err)
	}
	vs, err := db.Versions(e.t.Context(), v.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return vs
}

// TestExportCommand follows a researcher: versions fetched through the
// real pipeline from the fake archive are exported as a citp repository,
// one commit per text period (here one per version: no text comes back) at
// its archive date holding exactly the rendered version; exporting again adds nothing, a new version adds one commit, and
// the jsonl export carries the same versions.
func TestExportCommand(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed; export --format citp needs it (Debian/Ubuntu: apt-get install git)")
	}
	archive := waybacktest.New()
	defer archive.Close()
	archive.Add(acme("20210922174411", "acme-2021.html"))
	e := newEnv(t, archive.URL)
	e.mustRun("fetch")
	archive.Add(acme("20220701120505", "acme-2022.html"))
	e.mustRun("fetch")

	dir := filepath.Join(t.TempDir(), "policies")
	out := e.mustRun("export", "--format", "citp", dir)
	for _, want := range []string{"exported to " + dir + ": 2 new commits\n", acmePath, "git -C " + dir + " log -p -- " + acmePath} {
		if !strings.Contains(out, want) {
			t.Errorf("export output lacks %q:\n%s", want, out)
		}
	}
	if files := splitLines(gitIn(t, dir, "ls-files")); len(files) != 1 || files[0] != acmePath {
		t.Fatalf("files in the export: %q", files)
	}
	dates := splitLines(gitIn(t, dir, "log", "--reverse", "--format=%aI %cI", "--", acmePath))
	if strings.Join(dates, ",") != "2021-09-22T17:44:11+00:00 2021-09-22T17:44:11+00:00,2022-07-01T12:05:05+00:00 2022-07-01T12:05:05+00:00" {
		t.Fatalf("commit dates %q, want one commit per version at its first capture", dates)
	}
	hashes := splitLines(gitIn(t, dir, "log", "--reverse", "--format=%H"))
	stored := e.storedVersions()
	if len(hashes) != 2 || len(stored) != 2 {
		t.Fatalf("%d commits for %d versions", len(hashes), len(stored))
	}
	for i, ver := range stored {
		got := gitIn(t, dir, "show", hashes[i]+":"+acmePath)
		want := ver.Document().Render(snapshot.Source{Site: "acme-cloud.example", URL: ver.First.Original, Timestamp: ver.First.Timestamp})
		if got != want {
			t.Errorf("commit %d holds:\n%s\nwant snapshot's Render:\n%s", i+1, got, want)
		}
		if show := e.mustRun("show", "--vendor", "Acme Cloud", "--at", ver.First.Timestamp); got != show {
			t.Errorf("commit %d differs from `show --at %s`", i+1, ver.First.Timestamp)
		}
	}
	if subject := gitIn(t, dir, "log", "-1", "--format=%s"); subject != "acme-cloud.example: changed between 2021-09-22 and 2022-07-01 (last updated 2022-06-14)\n" {
		t.Errorf("subject %q", subject)
	}

	// Again, with the flags in another order: nothing to add.
	out = e.mustRun("export", dir, "--format=citp", "--vendor", "Acme Cloud")
	if !strings.Contains(out, "is up to date") || len(splitLines(gitIn(t, dir, "log", "--format=%H"))) != 2 {
		t.Fatalf("second export:\n%s", out)
	}

	// A new text in the archive: one more commit, at its date.
	third := acme("20230301090000", "acme-2022.html")
	third.Body = bytes.Replace(third.Body, []byte("kept for 90 days"), []byte("kept for 120 days"), 1)
	archive.Add(third)
	e.mustRun("fetch")
	out = e.mustRun("export", dir)
	if !strings.Contains(out, "1 new commit\n") {
		t.Errorf("third export:\n%s", out)
	}
	if dates := splitLines(gitIn(t, dir, "log", "--format=%aI")); len(dates) != 3 || dates[0] != "2023-03-01T09:00:00+00:00" {
		t.Fatalf("after a new version the log is %q", dates)
	}
	diff := gitIn(t, dir, "log", "-1", "-p", "--format=", "--", acmePath)
	var removed, added bool
	for _, l := range splitLines(diff) {
		removed = removed || strings.HasPrefix(l, "-") && strings.Contains(l, "kept for 90 days")
		added = added || strings.HasPrefix(l, "+") && strings.Contains(l, "kept for 120 days")
	}
	if !removed || !added {
		t.Errorf("git log -p does not show 90 days becoming 120 days:\n%s", diff)
	}
	stored = e.storedVersions()

	// JSON lines on stdout: one object per version with the documented names.
	out = e.mustRun("export", "--format", "jsonl", "-")
	recs := splitLines(out)
	if len(recs) != 3 {
		t.Fatalf("jsonl has %d lines, want 3:\n%s", len(recs), out)
	}
	for i, l := range recs {
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for _, k := range []string{"vendor", "url", "site", "sha256", "first_seen", "last_seen", "first_wayback_url", "captures",
			"last_updated", "last_updated_text", "title", "markdown", "extractor", "periods"} {
			if _, ok := r[k]; !ok {
				t.Errorf("line %d lacks %q", i+1, k)
			}
		}
		if r["vendor"] != "Acme Cloud" || r["site"] != "acme-cloud.example" || r["sha256"] != stored[i].SHA256 || r["first_seen"] != stored[i].First.Timestamp {
			t.Errorf("line %d: %v", i+1, r)
		}
	}
	if !strings.Contains(recs[0], `"first_seen":"20210922174411"`) || !strings.Contains(recs[2], `"last_updated":"2022-06-14"`) {
		t.Errorf("jsonl records:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "acme.jsonl")
	if out := e.mustRun("export", "--format", "jsonl", file); !strings.Contains(out, "wrote 3 versions of 1 vendors") {
		t.Errorf("jsonl to a file:\n%s", out)
	}
	if b, _ := os.ReadFile(file); len(splitLines(string(b))) != 3 {
		t.Errorf("jsonl file:\n%s", b)
	}
}

func TestExportCommandErrors(t *testing.T) {
	archive := waybacktest.New()
	defer archive.Close()
	archive.Add(acme("20210922174411", "acme-2021.html"))
	e := newEnv(t, archive.URL)
	notes := t.TempDir()
	os.WriteFile(filepath.Join(notes, "notes.txt"), []byte("mine"), 0o644)
	tests := []struct {
		name  string
		args  []string
		fetch bool
		want  string
	}{
		{"no database yet", []string{"export", t.TempDir()}, false, "no database at"},
		{"no output", []string{"export"}, true, "name the output"},
		{"two outputs", []string{"export", "a", "b"}, true, "one output only"},
		{"unknown format", []string{"export", "--format", "csv", "x"}, true, `--format "csv": want citp or jsonl`},
		{"unknown vendor", []string{"export", "--vendor", "Nobody", t.TempDir()}, true, `vendor "Nobody": no such vendor`},
		{"not an export", []string{"export", notes}, true, "not a policywatch export"},
		{"jsonl over a directory", []string{"export", "--format", "jsonl", notes}, true, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fetch {
				e.mustRun("fetch")
			}
			_, _, err := e.run(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(notes, "notes.txt")); string(b) != "mine" {
		t.Fatal("a refused directory was changed")
	}
	if entries, _ := os.ReadDir(notes); len(entries) != 1 {
		t.Fatalf("a refused directory got new files: %v", entries)
	}
}

func TestExportHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	err := m.Run(context.Background(), []string{"export", "--help"})
	if err == nil || !strings.Contains(err.Error(), "help requested") {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"Usage: policywatch export", "<a>/<ab>/<abc>/<domain>.md",
		"git -C DIR log -p -- a/ac/acm/acme-cloud.example.md", "-format", "-vendor", "-config", "<domain>--<vendor-slug>.md", "docs/export.md"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("--help lacks %q:\n%s", want, errOut.String())
		}
	}
}

// TestExportCommandFlipBack: a policy that changes and changes back in the
// archive (A → B → A, fetched through the real pipeline) is three commits,
// the last marked as a flip-back and holding A again with a provenance line
// linking the capture that showed it again; the jsonl export gives A two
// periods.
func TestExportCommandFlipBack(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed; export --format citp needs it (Debian/Ubuntu: apt-get install git)")
	}
	archive := waybacktest.New()
	defer archive.Close()
	archive.Add(acme("20210922174411", "acme-2021.html"))
	e := newEnv(t, archive.URL)
	e.mustRun("fetch")
	archive.Add(acme("20220701120505", "acme-2022.html"))
	e.mustRun("fetch")
	archive.Add(acme("20230301090000", "acme-2021.html"))
	e.mustRun("fetch")
	stored := e.storedVersions()
	if len(stored) != 2 {
		t.Fatalf("%d versions stored, want 2 (A and B)", len(stored))
	}

	dir := filepath.Join(t.TempDir(), "policies")
	if out := e.mustRun("export", dir); !strings.Contains(out, "3 new commits") {
		t.Fatalf("export output:\n%s", out)
	}
	dates := splitLines(gitIn(t, dir, "log", "--format=%aI", "--", acmePath))
	if strings.Join(dates, ",") != "2023-03-01T09:00:00+00:00,2022-07-01T12:05:05+00:00,2021-09-22T17:44:11+00:00" {
		t.Fatalf("commit dates %q, want A, B and A again at their first captures", dates)
	}
	hashes := splitLines(gitIn(t, dir, "log", "--reverse", "--format=%H"))
	render := func(ver *store.Version, ts string) string {
		return ver.Document().Render(snapshot.Source{Site: "acme-cloud.example", URL: ver.First.Original, Timestamp: ts})
	}
	for i, want := range []string{render(stored[0], "20210922174411"), render(stored[1], "20220701120505"), render(stored[0], "20230301090000")} {
		if got := gitIn(t, dir, "show", hashes[i]+":"+acmePath); got != want {
			t.Errorf("commit %d holds:\n%s\nwant:\n%s", i+1, got, want)
		}
	}
	msg := gitIn(t, dir, "log", "-1", "--format=%B")
	for _, want := range []string{"acme-cloud.example: changed between 2022-07-01 and 2023-03-01 (last updated 2021-03-03)\n",
		"\nPolicywatch-Flip-Back: true\n", "\nPolicywatch-Since: 20230301090000\n", "\nPolicywatch-Version: " + stored[0].SHA256 + "\n"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the revert's message lacks %q:\n%s", want, msg)
		}
	}
	if out := e.mustRun("export", dir); !strings.Contains(out, "is up to date") {
		t.Errorf("second export:\n%s", out)
	}

	out := e.mustRun("export", "--format", "jsonl", "-")
	recs := splitLines(out)
	if len(recs) != 2 {
		t.Fatalf("jsonl has %d lines, want one per version:\n%s", len(recs), out)
	}
	var a struct {
		SHA256  string `json:"sha256"`
		Periods []struct {
			From string `json:"from"`
			To   string `json:"to"`
		} `json:"periods"`
	}
	if err := json.Unmarshal([]byte(recs[0]), &a); err != nil {
		t.Fatal(err)
	}
	if a.SHA256 != stored[0].SHA256 || len(a.Periods) != 2 || a.Periods[0].From != "20210922174411" || a.Periods[0].To != "20210922174411" ||
		a.Periods[1].From != "20230301090000" || a.Periods[1].To != "20230301090000" {
		t.Errorf("A's record: %+v", a)
	}
}
