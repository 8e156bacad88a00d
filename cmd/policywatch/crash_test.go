package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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

	// A slow webhook receiver, so that kills also land while alerts are sent.
	// It de-duplicates on the delivery id, as receivers are told to.
	var mu sync.Mutex
	seen := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(60 * time.Millisecond)
		mu.Lock()
		seen[r.Header.Get("X-Policywatch-Delivery")]++
		mu.Unlock()
	}))
	defer recv.Close()
	cfg, _ := os.ReadFile(e.config)
	os.WriteFile(e.config, append(cfg, []byte("alerts:\n  retry_backoff: 1ms\n  webhooks:\n    - url: "+recv.URL+"\n")...), 0o644)
	e.mustRun("fetch")
	const n = 30
	for i := 1; i <= n; i++ {
		archive.Add(waybacktest.Capture{Timestamp: fmt.Sprintf("2021%02d%02d000000", 2+i/28, 1+i%28), URL: acmeURL, Header: html, Body: page(i)})
	}
	// Every request waits, so a pass takes seconds and the kills land mid-pass.
	archive.Set(func(k *waybacktest.Knobs) { k.Latency = 40 * time.Millisecond })

	// Kill between 0.2 s and 3.2 s in: during the pass (about 1.3 s) or
	// while its alerts are sent (60 ms each).
	kills := killRepeatedly(t, []string{"fetch", "--config", e.config, "--log-level", "error"}, func(attempt int) time.Duration {
		return time.Duration(200+attempt*397%3000) * time.Millisecond
	})
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
	// Every change has exactly one alert on the channel, delivered; the
	// receiver saw each delivery id at most twice (a kill between its
	// answer and the outbox update means one repeat) and no stray ids.
	items, err := db.Alerts(t.Context(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	perChange := map[int64]int{}
	for _, it := range items {
		perChange[it.ChangeID]++
		if it.State != store.AlertDelivered {
			t.Errorf("alert %d for change %d is %s (%s)", it.ID, it.ChangeID, it.State, it.LastError)
		}
		mu.Lock()
		n := seen[it.DeliveryID]
		mu.Unlock()
		if n < 1 || n > 2 {
			t.Errorf("delivery %s reached the receiver %d times", it.DeliveryID, n)
		}
	}
	if len(items) != n || len(perChange) != n {
		t.Errorf("%d alerts for %d changes, want one per change (%d)", len(items), len(perChange), n)
	}
	mu.Lock()
	repeats := 0
	for _, c := range seen {
		if c > 1 {
			repeats++
		}
	}
	if len(seen) != n {
		t.Errorf("the receiver saw %d distinct delivery ids, want %d", len(seen), n)
	}
	mu.Unlock()
	t.Logf("%d kills, then a complete run: %d captures, %d versions, %d changes, %d alerts delivered (%d delivered twice), all consistent",
		kills, len(caps), len(versions), len(changes), len(items), repeats)
}

// killRepeatedly runs policywatch with args in a child process (through
// TestCrashChild) and kills it with SIGKILL killAt(attempt) after its start,
// again and again, until one run completes before its kill. It returns the
// number of kills; it fails the test when a run fails on its own or none
// completes in 40 attempts.
func killRepeatedly(t *testing.T, args []string, killAt func(attempt int) time.Duration) int {
	t.Helper()
	kills := 0
	for attempt := 0; attempt < 40; attempt++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "POLICYWATCH_CRASH_ARGS="+strings.Join(args, "\x1f"))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("policywatch %s failed without being killed: %v\n%s", args[0], err, out.String())
			}
			return kills
		case <-time.After(killAt(attempt)):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
		}
	}
	t.Fatalf("no %s run completed in 40 attempts (%d kills)", args[0], kills)
	return kills
}
