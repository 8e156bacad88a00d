package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/store"
)

const acmeURL = "https://www.acme-cloud.example/legal/privacy"

// env is one user's setup: a config file and database in a temp dir,
// pointing at a fake archive.
type env struct {
	t       *testing.T
	dir     string
	config  string
	archive *waybacktest.Server
}

func newEnv(t *testing.T, archiveURL string) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, config: filepath.Join(dir, "policywatch.yaml")}
	cfg := fmt.Sprintf(`database: data.db
wayback:
  url: %s
  cdx_rate: 200
  playback_rate: 200
  retry_backoff: 1ms
  pause_on_429: 5ms
  max_attempts: 6
vendors:
  - name: Acme Cloud
    url: %s
`, archiveURL, acmeURL)
	if err := os.WriteFile(e.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// run runs policywatch with args and the env's config, like a shell would.
func (e *env) run(args ...string) (stdout, stderr string, err error) {
	e.t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	err = m.Run(e.t.Context(), append(args, "--config", e.config, "--log-level", "warn"))
	return out.String(), errOut.String(), err
}

func (e *env) mustRun(args ...string) string {
	e.t.Helper()
	out, errOut, err := e.run(args...)
	if err != nil {
		e.t.Fatalf("policywatch %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func (e *env) versions() []versionJSON {
	e.t.Helper()
	var vs []versionJSON
	out := e.mustRun("versions", "--vendor", "Acme Cloud", "--json")
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		e.t.Fatalf("versions --json is not JSON: %v\n%s", err, out)
	}
	return vs
}

func (e *env) count(table string) int {
	e.t.Helper()
	db, err := store.Open(e.t.Context(), filepath.Join(e.dir, "data.db"))
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	var n int
	switch table {
	case "captures":
		v, err := db.VendorByName(e.t.Context(), "Acme Cloud")
		if err != nil {
			e.t.Fatal(err)
		}
		cs, err := db.Captures(e.t.Context(), v.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		n = len(cs)
	default:
		e.t.Fatalf("count %s: not supported", table)
	}
	return n
}

func acme(ts string, page string) waybacktest.Capture {
	return waybacktest.Capture{Timestamp: ts, URL: acmeURL, Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}}, Body: demoPage(page)}
}

// TestFetchEndToEnd follows a user: first fetch records a baseline, a new
// capture with changed text and stated date appears, the second fetch finds
// the change, and versions/show/diff report it. The archive duplicates rows
// and pages its CDX answers, as the real one does.
func TestFetchEndToEnd(t *testing.T) {
	archive := waybacktest.New()
	defer archive.Close()
	archive.Set(func(k *waybacktest.Knobs) { k.DuplicateRows = 3; k.PageCap = 2 })
	archive.Add(acme("20210310081502", "acme-2021.html"), acme("20210922174411", "acme-2021.html"))
	e := newEnv(t, archive.URL)

	out := e.mustRun("fetch")
	if !strings.Contains(out, "baseline recorded") {
		t.Fatalf("first fetch output:\n%s", out)
	}
	vs := e.versions()
	if len(vs) != 1 || vs[0].Timestamp != "20210922174411" || vs[0].LastUpdated == nil || *vs[0].LastUpdated != "2021-03-03" {
		t.Fatalf("after the first fetch versions = %+v; want the newest capture as baseline, last updated 2021-03-03", vs)
	}
	if want := "https://web.archive.org/web/20210922174411id_/" + acmeURL; vs[0].WaybackURL != want {
		t.Errorf("wayback_url = %q, want %q", vs[0].WaybackURL, want)
	}
	if n := archive.Stats().Playback.Requests; n != 1 {
		t.Errorf("first fetch made %d playback requests, want 1 (the baseline only)", n)
	}

	archive.Add(acme("20220105093000", "acme-2021.html"), acme("20220701120505", "acme-2022.html"), acme("20220915064010", "acme-2022.html"))
	out = e.mustRun("fetch", "--json")
	var doc struct {
		Vendors []struct {
			New     int `json:"captures_new"`
			Fetched int `json:"captures_fetched"`
			Reused  int `json:"bodies_reused"`
			Changes []struct {
				OldTimestamp   string  `json:"old_timestamp"`
				NewTimestamp   string  `json:"new_timestamp"`
				OldLastUpdated *string `json:"old_last_updated"`
				NewLastUpdated *string `json:"new_last_updated"`
				TextChanged    bool    `json:"text_changed"`
			} `json:"changes"`
		} `json:"vendors"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("fetch --json: %v\n%s", err, out)
	}
	r := doc.Vendors[0]
	// 20220105 repeats the baseline's bytes and 20220915 those of 20220701:
	// both are reused by digest, only 20220701 is fetched.
	if r.New != 3 || r.Fetched != 1 || r.Reused != 2 || len(r.Changes) != 1 {
		t.Fatalf("second fetch = %+v, want 3 new, 1 fetched, 2 reused, 1 change\n%s", r, out)
	}
	c := r.Changes[0]
	if c.OldTimestamp != "20220105093000" || c.NewTimestamp != "20220701120505" || !c.TextChanged ||
		c.OldLastUpdated == nil || *c.OldLastUpdated != "2021-03-03" || c.NewLastUpdated == nil || *c.NewLastUpdated != "2022-06-14" {
		t.Fatalf("change = %+v", c)
	}

	vs = e.versions()
	if len(vs) != 2 || vs[1].Timestamp != "20220701120505" || *vs[1].LastUpdated != "2022-06-14" || vs[1].LastSeen != "20220915064010" || vs[0].SHA256 == vs[1].SHA256 {
		t.Fatalf("versions = %+v", vs)
	}

	diff := e.mustRun("diff", "--vendor", "Acme Cloud")
	for _, want := range []string{
		"stated date: 2021-03-03 → 2022-06-14",
		"changed between 2022-01-05 09:30:00 UTC (last capture with the old text) and 2022-07-01 12:05:05 UTC",
	} {
		if !strings.Contains(diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, diff)
		}
	}
	// The retention change shows as a word diff in its clause, or as a line
	// diff when clause analysis is not available.
	if !retentionChange.MatchString(diff) &&
		!(strings.Contains(diff, "\n-    1. Server logs are kept for 30 days") && strings.Contains(diff, "\n+    1. Server logs are kept for 90 days")) {
		t.Errorf("diff does not show the retention going from 30 to 90 days:\n%s", diff)
	}

	show := e.mustRun("show", "--vendor", "Acme Cloud", "--at", "2021")
	if !strings.HasPrefix(show, "> *The following text is extracted and transformed from the acme-cloud.example privacy policy that was archived on 2021-09-22.") ||
		!strings.Contains(show, "\n# Privacy Policy | Acme Cloud\n") || !strings.Contains(show, "30 days") || strings.Contains(show, "90 days") {
		t.Fatalf("show --at 2021:\n%s", show)
	}
	if latest := e.mustRun("show", "--vendor", "Acme Cloud"); !strings.Contains(latest, "90 days") {
		t.Fatalf("show (latest) lacks the new text:\n%s", latest)
	}

	// A third fetch with nothing new writes nothing and fetches nothing.
	before := archive.Stats().Playback.Requests
	captures := e.count("captures")
	if out := e.mustRun("fetch"); !strings.Contains(out, "no new captures since 20220915064010") {
		t.Fatalf("third fetch:\n%s", out)
	}
	if got := e.count("captures"); got != captures {
		t.Fatalf("captures %d → %d after a pass with nothing new", captures, got)
	}
	if got := archive.Stats().Playback.Requests; got != before {
		t.Fatalf("a pass with nothing new made %d playback requests", got-before)
	}
}

// TestFetchSurvivesArchiveFaults: 429s, 5xx, resets and cut-off bodies end in
// the right data after retries, with nothing duplicated.
func TestFetchSurvivesArchiveFaults(t *testing.T) {
	archive := waybacktest.New()
	defer archive.Close()
	archive.Add(acme("20210922174411", "acme-2021.html"))
	e := newEnv(t, archive.URL)
	archive.Inject(waybacktest.CDX, waybacktest.Fault503, waybacktest.Fault429)
	archive.Inject(waybacktest.Playback, waybacktest.Fault429, waybacktest.Fault503, waybacktest.FaultTruncate, waybacktest.FaultReset)
	e.mustRun("fetch")

	archive.Add(acme("20220701120505", "acme-2022.html"))
	archive.Inject(waybacktest.Playback, waybacktest.FaultTruncate, waybacktest.Fault502)
	e.mustRun("fetch")
	e.mustRun("fetch")

	vs := e.versions()
	if len(vs) != 2 || *vs[0].LastUpdated != "2021-03-03" || *vs[1].LastUpdated != "2022-06-14" {
		t.Fatalf("versions = %+v", vs)
	}
	if got := e.count("captures"); got != 2 {
		t.Fatalf("captures = %d, want 2: nothing duplicated", got)
	}
	st := archive.Stats()
	if st.Playback.ByStatus[429] != 1 || st.Playback.ByStatus[503] != 1 || st.Playback.ByStatus[502] != 1 || st.CDX.ByStatus[503] != 1 {
		t.Fatalf("faults not all served: playback %v, cdx %v", st.Playback.ByStatus, st.CDX.ByStatus)
	}
}

// TestFetchArchiveUnreachable: a clear error and a non-zero exit, and what
// was stored before is still there.
func TestFetchArchiveUnreachable(t *testing.T) {
	archive := waybacktest.New()
	archive.Add(acme("20210922174411", "acme-2021.html"))
	e := newEnv(t, archive.URL)
	e.mustRun("fetch")
	archive.Close()

	// Point the config at a port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	cfg, _ := os.ReadFile(e.config)
	os.WriteFile(e.config, bytes.Replace(cfg, []byte(archive.URL), []byte(dead), 1), 0o644)

	out, _, err := e.run("fetch")
	if err == nil {
		t.Fatalf("fetch against a dead archive succeeded:\n%s", out)
	}
	if !strings.Contains(err.Error(), "could not be reached") || !strings.Contains(err.Error(), "Acme Cloud") {
		t.Fatalf("error does not say what happened and what to do: %v", err)
	}
	if vs := e.versions(); len(vs) != 1 {
		t.Fatalf("versions after the failed fetch = %+v, want the stored one", vs)
	}
}

func TestCommandErrors(t *testing.T) {
	archive := waybacktest.New()
	defer archive.Close()
	e := newEnv(t, archive.URL)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"versions"}, "--vendor NAME is required"},
		{[]string{"versions", "--vendor", "Nobody"}, `vendor "Nobody" has no data`},
		{[]string{"fetch", "--vendor", "Nobody"}, `vendor "Nobody" is not in`},
		{[]string{"fetch", "stray"}, `unexpected argument "stray"`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := e.run(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, cmd := range []string{"fetch", "versions", "show", "diff", "demo"} {
		t.Run(cmd, func(t *testing.T) {
			var out, errOut bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
			err := m.Run(context.Background(), []string{cmd, "--help"})
			if err == nil || !strings.Contains(err.Error(), "help requested") {
				t.Fatalf("err = %v", err)
			}
			if !strings.Contains(errOut.String(), "Usage: policywatch "+cmd) || !strings.Contains(errOut.String(), "-config") {
				t.Fatalf("--help output:\n%s", errOut.String())
			}
		})
	}
}

func TestDemo(t *testing.T) {
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	dir := t.TempDir()
	if err := m.Run(t.Context(), []string{"demo", "--dir", dir}); err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{
		"Globex Analytics (http://www.globex.example/privacy.html)\n  baseline recorded",
		"Initech (https://initech.example/privacy)\n  2 new captures: 1 fetched, 0 reused by digest, 2 not a policy text",
		"CHANGED between 20220105093000 and 20220701120505: dated, severity high",
		"retention: \"30 days\" → \"90 days\" in 4 Data storage › 4.1",
		"stated date: 2021-03-03 → 2022-06-14",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "policywatch.db")); err != nil {
		t.Fatalf("--dir did not keep the database: %v", err)
	}
}

// TestReextractCommand: a selector added to the config after the fact turns
// a false change into nothing, and the report says so.
func TestReextractCommand(t *testing.T) {
	archive := waybacktest.New()
	defer archive.Close()
	e := newEnv(t, archive.URL)
	withTip := func(ts, tip string) waybacktest.Capture {
		c := acme(ts, "acme-2021.html")
		c.Body = bytes.Replace(c.Body, []byte("<h1>Acme Cloud Privacy Policy</h1>"),
			[]byte("<h1>Acme Cloud Privacy Policy</h1><div class=\"tip\"><p>Tip: "+tip+"</p></div>"), 1)
		return c
	}
	archive.Add(withTip("20210310081502", "use keyboard shortcuts"))
	e.mustRun("fetch")
	archive.Add(withTip("20210922174411", "invite your team"))
	if out := e.mustRun("fetch"); !strings.Contains(out, "CHANGED") {
		t.Fatalf("setup: the tip should look like a change without selectors:\n%s", out)
	}
	cfg, _ := os.ReadFile(e.config)
	os.WriteFile(e.config, append(cfg, []byte("    remove: .tip\n")...), 0o644)
	out := e.mustRun("reextract")
	for _, want := range []string{"Acme Cloud: 2 captures re-extracted", "versions 2 → 1, changes 1 → 0",
		"removed change 20210310081502 → 20210922174411: it was extraction noise",
		"the current text differs (+0 −1 lines): recorded as an extractor change, not alerted"} {
		if !strings.Contains(out, want) {
			t.Errorf("reextract output lacks %q:\n%s", want, out)
		}
	}
	if vs := e.versions(); len(vs) != 1 {
		t.Fatalf("versions after reextract = %+v", vs)
	}
	if out := e.mustRun("diff", "--vendor", "Acme Cloud"); !strings.Contains(out, "no changes recorded yet") {
		t.Fatalf("diff after reextract:\n%s", out)
	}
}
