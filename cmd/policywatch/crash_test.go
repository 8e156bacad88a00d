package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/store"
)

// TestCrashChild is not a test of its own: TestFetchSurvivesKill runs the
// test binary again with POLICYWATCH_CRASH_ARGS set, and this runs
// policywatch with those arguments in that child process, which is then
// killed with SIGKILL at a random moment.
func TestCrashChild(t *testing.T) {
	args := os.Getenv("POLICYWATCH_CRASH_ARGS")
	if args == "" {
		t.Skip("only runs as the child process of TestFetchSurvivesKill")
	}
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if err := m.Run(t.Context(), strings.Split(args, "\x1f")); err != nil {
		t.Fatal(err)
	}
}

// TestFetchSurvivesKill kills a real fetch process (SIGKILL, no chance to
// clean up) at random points while it records 30 new captures, restarts it
// until a run completes, and checks that every capture, version and change
// is there exactly once with the right windows, and the database is intact.
func TestFetchSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped with -short")
	}
	archive := waybacktest.New()
	defer archive.Close()
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	page := func(i int) []byte {
		return []byte(fmt.Sprintf(`<html><head><title>Acme privacy</title></head><body><main><h1>Privacy</h1>
<p>Last updated: January %d, 2021</p><p>We keep server logs for %d days and then delete them. We never sell personal data and share it only with processors bound by contract.</p>
<p>Contact privacy@acme-cloud.example to access, correct or delete your data.</p></main></body></html>`, i%28+1, 10+i))
	}
	archive.Add(waybacktest.Capture{Timestamp: "20210101000000", URL: acmeURL, Header: html, Body: page(0)})
	e := newEnv(t, archive.URL)
	e.mustRun("fetch")
	const n = 30
	for i := 1; i <= n; i++ {
		archive.Add(waybacktest.Capture{Timestamp: fmt.Sprintf("2021%02d%02d000000", 2+i/28, 1+i%28), URL: acmeURL, Header: html, Body: page(i)})
	}
	// Every request waits, so a pass takes seconds and the kills land mid-pass.
	archive.Set(func(k *waybacktest.Knobs) { k.Latency = 40 * time.Millisecond })

	kills, completed := 0, false
	for attempt := 0; attempt < 40 && !completed; attempt++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "POLICYWATCH_CRASH_ARGS="+strings.Join([]string{"fetch", "--config", e.config, "--log-level", "error"}, "\x1f"))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Kill between 0.2 s and 1.4 s in: after start-up, during the pass.
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("fetch failed without being killed: %v\n%s", err, out.String())
			}
			completed = true
		case <-time.After(time.Duration(200+attempt*97%1200) * time.Millisecond):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
		}
	}
	if !completed {
		t.Fatalf("no fetch completed in 40 attempts (%d kills)", kills)
	}
	if kills < 3 {
		t.Logf("only %d kills landed before a run completed", kills)
	}
	e.mustRun("fetch") // a run after the crashes finds nothing left to do

	db, err := store.Open(t.Context(), filepath.Join(e.dir, "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, _ := db.VendorByName(t.Context(), "Acme Cloud")
	caps, _ := db.Captures(t.Context(), v.ID)
	versions, _ := db.Versions(t.Context(), v.ID)
	changes, _ := db.Changes(t.Context(), v.ID, store.CauseArchive)
	if len(caps) != n+1 || len(versions) != n+1 || len(changes) != n {
		t.Fatalf("after %d kills: %d captures, %d versions, %d changes; want %d, %d, %d", kills, len(caps), len(versions), len(changes), n+1, n+1, n)
	}
	for i, ch := range changes {
		if ch.OldCapture.Timestamp != caps[i].Timestamp || ch.NewCapture.Timestamp != caps[i+1].Timestamp {
			t.Errorf("change %d window %s → %s, want %s → %s", i, ch.OldCapture.Timestamp, ch.NewCapture.Timestamp, caps[i].Timestamp, caps[i+1].Timestamp)
		}
	}
	for _, c := range caps {
		if c.VersionID == 0 || c.BodySHA256 == "" {
			t.Errorf("capture %s recorded without its version or body", c.Timestamp)
		}
		if _, err := db.Body(t.Context(), c.BodySHA256); err != nil {
			t.Errorf("capture %s: body lost: %v", c.Timestamp, err)
		}
	}
	t.Logf("%d kills, then a complete run: %d captures, %d versions, %d changes, all consistent", kills, len(caps), len(versions), len(changes))
}
