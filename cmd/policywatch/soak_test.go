package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/store"
)

// Settings of the soak. The rates are the configured archive limits; the
// client's limiters have a burst of one (crawler.newLimiter), so no
// one-second window may hold more than rate+1 requests of a class.
const (
	soakVendors      = 1000
	soakCDXRate      = 5
	soakPlaybackRate = 10
	soakBurst        = 1
	soakMaxRSS       = 100 << 20 // the target at 1,000 vendors
	soakSampleEvery  = 10 * time.Second
	soakGrace        = 5 * time.Second
	soakGoroutineTol = 5
)

// TestDaemonSoak runs the daemon in-process for POLICYWATCH_SOAK (e.g. 10m)
// over 1,000 vendors on an accelerated schedule, against a fake archive
// that gets new captures every minute, and checks what only a long run
// shows: that RSS stays flat and under the target, that goroutines return
// to their starting level after shutdown, and that the shared rate limits
// held over the whole run (the fake archive's own arrival times prove it,
// not the client's word). It is skipped by default because it takes as long
// as asked; docs/benchmarks.md records a run.
//
// RSS is that of the test process, which also holds the fake archive (its
// captures and request log), the webhook receiver and the log parser, so it
// overstates the daemon alone; the Go heap is reported next to it.
func TestDaemonSoak(t *testing.T) {
	spec := os.Getenv("POLICYWATCH_SOAK")
	if spec == "" {
		t.Skip("soak test: set POLICYWATCH_SOAK to a duration (e.g. POLICYWATCH_SOAK=10m) to run it; it takes that long")
	}
	duration, err := time.ParseDuration(spec)
	if err != nil || duration <= 0 {
		t.Fatalf("POLICYWATCH_SOAK=%q: want a positive duration such as 10m", spec)
	}

	archive := waybacktest.New()
	defer archive.Close()
	// A little latency, so requests overlap as they do over a network.
	archive.Set(func(k *waybacktest.Knobs) { k.Latency = 20 * time.Millisecond })
	feed := newSoakFeed(archive, soakVendors)

	var delivered atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		delivered.Add(1)
	}))
	defer recv.Close()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "policywatch.yaml")
	writeConfig(t, cfgPath, soakConfig(archive.URL, recv.URL, feed.vendors))

	runtime.GC()
	baseline := runtime.NumGoroutine()

	logs := &soakLog{}
	m := &Main{Stderr: logs}
	logger, err := m.daemonLogger("info", "json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDaemon(t.Context(), cfgPath, func(string) string { return "" }, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hup := make(chan os.Signal)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, hup, soakGrace) }()
	base := "http://" + d.Addr().String()
	client := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()

	// New captures for a random 5% of vendors every minute, so later passes
	// find new work, fetch it or reuse a stored body, and record changes.
	feedCtx, stopFeed := context.WithCancel(context.Background())
	feedDone := make(chan struct{})
	go func() {
		defer close(feedDone)
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		for {
			select {
			case <-feedCtx.Done():
				return
			case <-tick.C:
				feed.addRound(soakVendors / 20)
			}
		}
	}()

	start := time.Now()
	var samples []soakSample
	sample := func() soakSample {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s := soakSample{
			at:         time.Since(start).Round(time.Second),
			rss:        procStatus("VmRSS"),
			heap:       ms.HeapAlloc,
			sys:        ms.Sys,
			goroutines: runtime.NumGoroutine(),
			delivered:  delivered.Load(),
			captures:   feed.added.Load(),
		}
		s.passes, s.changes, s.failed = logs.counts()
		if _, body, err := getQuiet(client, base+"/metrics"); err == nil {
			s.fetched = metric(body, "policywatch_captures_fetched_total")
			s.reused = metric(body, "policywatch_bodies_reused_total")
			s.inFlight = metric(body, "policywatch_passes_in_flight")
		}
		return s
	}
	samples = append(samples, sample())
	tick := time.NewTicker(soakSampleEvery)
	deadline := time.After(duration)
run:
	for {
		select {
		case <-tick.C:
			s := sample()
			samples = append(samples, s)
			if s.at%time.Minute == 0 {
				t.Logf("soak %s: rss %s, heap %s, %d goroutines, %d passes, %d changes, %d alerts",
					s.at, mib(s.rss), mib(s.heap), s.goroutines, s.passes, s.changes, s.delivered)
			}
		case <-deadline:
			break run
		case err := <-done:
			t.Fatalf("daemon stopped by itself after %s: %v", time.Since(start), err)
		}
	}
	tick.Stop()
	stopFeed()
	<-feedDone
	final := sample()
	samples = append(samples, final)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v after cancellation, want nil", err)
		}
	case <-time.After(soakGrace + 15*time.Second):
		t.Fatal("daemon did not stop within its grace period")
	}
	client.CloseIdleConnections()

	// Goroutines must come back to where they were before the daemon
	// started; idle connections and exiting handlers may take a moment.
	after := runtime.NumGoroutine()
	for wait := time.Now().Add(15 * time.Second); after > baseline+soakGoroutineTol && time.Now().Before(wait); {
		time.Sleep(100 * time.Millisecond)
		after = runtime.NumGoroutine()
	}
	peak := procStatus("VmHWM")

	t.Logf("soak %s, %d vendors, schedule @every 1m, jitter 50s, max_concurrent 8, cdx_rate %d, playback_rate %d\n%s",
		duration, soakVendors, soakCDXRate, soakPlaybackRate, soakTable(samples))
	t.Logf("peak RSS (VmHWM) %s; goroutines %d before start, %d at the end of the run, %d after stop",
		mib(peak), baseline, final.goroutines, after)
	if after > baseline+soakGoroutineTol {
		buf := make([]byte, 4<<20)
		t.Errorf("goroutine leak: %d after stop, %d before start (tolerance %d):\n%s",
			after, baseline, soakGoroutineTol, buf[:runtime.Stack(buf, true)])
	}

	for _, s := range samples {
		if s.rss > soakMaxRSS {
			t.Errorf("RSS %s at %s exceeds the target of %s", mib(s.rss), s.at, mib(soakMaxRSS))
		}
	}

	// The fake archive saw every request, retries included; count the
	// busiest one-second window of each class.
	st := archive.Stats()
	for _, c := range []struct {
		name  string
		stats waybacktest.ClassStats
		rate  int
	}{{"cdx", st.CDX, soakCDXRate}, {"playback", st.Playback, soakPlaybackRate}} {
		busiest, at := busiestSecond(c.stats.Times, start)
		t.Logf("%s: %d requests, statuses %v, busiest 1-second window %d requests (at +%s); limit rate+burst = %d",
			c.name, c.stats.Requests, c.stats.ByStatus, busiest, at.Round(time.Millisecond), c.rate+soakBurst)
		if busiest > c.rate+soakBurst {
			t.Errorf("%s rate limit exceeded: %d requests within one second, configured %d/s (burst %d)",
				c.name, busiest, c.rate, soakBurst)
		}
		if n := c.stats.ByStatus[http.StatusTooManyRequests]; n > 0 {
			t.Errorf("%s: the archive answered 429 %d times", c.name, n)
		}
	}

	// Nothing fails in this archive, so no pass may have failed; passes
	// cancelled at shutdown are expected.
	if final.failed > 0 {
		t.Errorf("%d passes failed; first errors:\n%s", final.failed, strings.Join(logs.errors(), "\n"))
	}
	if final.passes == 0 {
		t.Fatal("no pass finished")
	}

	db, err := store.Open(t.Context(), filepath.Join(dir, "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	vendors, err := db.Vendors(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	dbChanges, withVersion := 0, 0
	for _, v := range vendors {
		names[v.Name] = true
		vs, err := db.Versions(t.Context(), v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) > 0 {
			withVersion++
		}
		chs, err := db.Changes(t.Context(), v.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		dbChanges += len(chs)
	}
	missing := 0
	for _, v := range feed.vendors {
		if !names[v.name] {
			missing++
		}
	}
	t.Logf("database: %d vendors (%d with a version), %d changes; passes ok %d, changes logged %d, new captures added %d (%d with new text), alerts delivered %d",
		len(vendors), withVersion, dbChanges, final.passes, final.changes, final.captures, feed.changed.Load(), final.delivered)
	if duration >= 6*time.Minute && (missing > 0 || withVersion != soakVendors) {
		t.Errorf("the database lacks %d of the %d vendors and holds a version for %d; every vendor should have had a pass",
			missing, soakVendors, withVersion)
	}
	// Passes keep finishing during the grace period, so compare with the
	// log as it stands after the stop, not with the last sample.
	passesAll, changesAll, _ := logs.counts()
	t.Logf("after stop: passes ok %d, changes logged %d", passesAll, changesAll)
	if dbChanges != int(changesAll) {
		t.Errorf("the database holds %d changes, the passes logged %d", dbChanges, changesAll)
	}
	if dbChanges > int(feed.changed.Load()) {
		t.Errorf("%d changes recorded from %d captures with new text", dbChanges, feed.changed.Load())
	}
}

// soakConfig is the soak's policywatch.yaml: every vendor on an accelerated
// schedule, the archive's rates, and a webhook so the alert sender works too.
func soakConfig(archiveURL, webhookURL string, vendors []soakVendor) string {
	var b strings.Builder
	fmt.Fprintf(&b, `database: data.db
schedule: "@every 1m"
listen: 127.0.0.1:0
jitter: 50s
max_concurrent: 8
wayback:
  url: %s
  cdx_rate: %d
  playback_rate: %d
alerts:
  webhooks:
    - url: %s
      secret: soak-secret
      format: json
vendors:
`, archiveURL, soakCDXRate, soakPlaybackRate, webhookURL)
	for _, v := range vendors {
		fmt.Fprintf(&b, "  - name: %s\n    url: %s\n", v.name, v.url)
	}
	return b.String()
}

// soakVendor is one vendor of the fake archive and the state of its latest
// capture, so new captures follow on in time and text.
type soakVendor struct {
	name, url string
	rev       int       // revision of the latest capture's text
	last      time.Time // latest capture's time
}

// soakFeed adds captures to the fake archive, from the test's start and
// every minute, and counts what it added.
type soakFeed struct {
	archive *waybacktest.Server
	mu      sync.Mutex
	rng     *rand.Rand
	vendors []soakVendor
	added   atomic.Int64 // captures added after the start
	changed atomic.Int64 // of which with new text
}

// newSoakFeed gives every vendor 2–3 captures in 2020–2021; a third of them
// change text between captures.
func newSoakFeed(archive *waybacktest.Server, n int) *soakFeed {
	f := &soakFeed{archive: archive, rng: rand.New(rand.NewPCG(5, 1000))}
	var all []waybacktest.Capture
	for i := range n {
		v := soakVendor{
			name: fmt.Sprintf("Vendor %04d", i),
			url:  fmt.Sprintf("https://vendor%04d.example/legal/privacy", i),
			last: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
		}
		for c := range 2 + i%2 {
			if c > 0 {
				v.last = v.last.AddDate(0, 4, 0)
				if i%3 == 0 {
					v.rev++
				}
			}
			all = append(all, v.capture())
		}
		f.vendors = append(f.vendors, v)
	}
	archive.Add(all...)
	return f
}

// addRound gives k random vendors a new capture one day after their last:
// two in three with a new text, the rest with the same bytes (so the pass
// reuses the stored body instead of fetching it).
func (f *soakFeed) addRound(k int) {
	f.mu.Lock()
	var cs []waybacktest.Capture
	for _, i := range f.rng.Perm(len(f.vendors))[:k] {
		v := &f.vendors[i]
		v.last = v.last.AddDate(0, 0, 1)
		if f.rng.IntN(3) < 2 {
			v.rev++
			f.changed.Add(1)
		}
		cs = append(cs, v.capture())
	}
	f.mu.Unlock()
	f.archive.Add(cs...)
	f.added.Add(int64(len(cs)))
}

func (v *soakVendor) capture() waybacktest.Capture {
	return waybacktest.Capture{
		Timestamp: v.last.Format("20060102150405"),
		URL:       v.url,
		Header:    http.Header{"Content-Type": {"text/html; charset=utf-8"}},
		Body:      soakPage(v.name, v.rev),
	}
}

// soakPage is a synthetic privacy policy of about 4 KB. Each revision
// changes the retention period and a sharing clause; every other one also
// moves the stated date, so both dated and silent changes occur.
func soakPage(vendor string, rev int) []byte {
	updated := time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC).AddDate(0, rev/2, 0).Format("January 2, 2006")
	var b bytes.Buffer
	fmt.Fprintf(&b, `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Privacy Policy | %[1]s</title></head>
<body><header><nav><a href="/">Home</a> <a href="/pricing">Pricing</a> <a href="/login">Log in</a></nav></header>
<main><article>
<h1>%[1]s Privacy Policy</h1>
<p><em>Last updated: %[2]s</em></p>
<p>This Privacy Policy explains how %[1]s Inc. collects, uses and shares personal data when you use our website, our hosted service and our mobile applications, and which choices you have about it.</p>
<h2>1. Information we collect</h2>
<p>We collect the information you give us when you create an account, such as your name, email address, company name and billing details, and the content you upload to the service.</p>
<p>We collect usage data automatically: the pages you visit, the features you use, your browser type, your IP address and the date and time of each request.</p>
<h2>2. How we use information</h2>
<ul><li>To provide, operate and maintain the service.</li><li>To process payments and send invoices.</li><li>To answer your questions and provide support.</li><li>To detect, investigate and prevent fraud and abuse.</li></ul>
<h2>3. Sharing</h2>
<p>We share personal data with service providers who process it on our behalf under contracts that require them to protect it. %[3]s</p>
<p>We may disclose information if the law requires it, or to protect the rights, property or safety of %[1]s, our customers or others.</p>
<h2>4. Data retention</h2>
<p>We keep account data for as long as your account is active and delete it within %[4]d days after you close it, unless the law requires us to keep it longer.</p>
<p>Backups are overwritten on a rolling schedule and deleted within %[5]d days.</p>
<h2>5. Your rights</h2>
<p>Depending on where you live, you may have the right to access, correct, delete or export your personal data, and to object to or restrict its processing. Write to privacy@%[6]s.example to use these rights.</p>
<h2>6. Security</h2>
<p>We use encryption in transit and at rest, access controls and regular audits to protect personal data. No method of transmission over the Internet is completely secure.</p>
<h2>7. Changes to this policy</h2>
<p>We may update this policy from time to time. We will post the new version on this page and update the date above; material changes will be announced by email.</p>
</article></main>
<footer><p>&copy; %[1]s Inc. All rights reserved.</p></footer>
</body></html>
`, vendor, updated, soakSharing[rev%len(soakSharing)], 30+30*rev, 60+15*rev, strings.ToLower(strings.ReplaceAll(vendor, " ", "")))
	return b.Bytes()
}

var soakSharing = []string{
	"We do not sell personal data.",
	"We may share aggregated usage statistics with our partners for marketing purposes.",
	"We may share contact details with advertising partners, who may use them for targeted advertising.",
	"We do not sell personal data, and we do not share it for cross-context behavioural advertising.",
}

// soakSample is one point of the soak's curve.
type soakSample struct {
	at              time.Duration
	rss, heap, sys  uint64
	goroutines      int
	passes, changes int64
	failed          int64
	captures        int64
	delivered       int64
	fetched, reused float64
	inFlight        float64
}

func soakTable(samples []soakSample) string {
	var b strings.Builder
	b.WriteString("| t | RSS | Go heap | Go sys | goroutines | passes ok | failed | new captures added | fetched | reused | changes | alerts delivered |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range samples {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %d | %d | %d | %.0f | %.0f | %d | %d |\n",
			s.at, mib(s.rss), mib(s.heap), mib(s.sys), s.goroutines, s.passes, s.failed, s.captures,
			s.fetched, s.reused, s.changes, s.delivered)
	}
	return b.String()
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// procStatus reads a memory line of /proc/self/status (VmRSS, VmHWM) in
// bytes; 0 where there is no /proc.
func procStatus(key string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// busiestSecond is the largest number of arrivals within any one-second
// window (sliding, not aligned to clock seconds) and where it starts.
func busiestSecond(times []time.Time, start time.Time) (int, time.Duration) {
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, at := 0, time.Duration(0)
	j := 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= time.Second {
			j++
		}
		if n := i - j + 1; n > best {
			best, at = n, ts[j].Sub(start)
		}
	}
	return best, at
}

// getQuiet fetches a URL without failing the test, for sampling.
func getQuiet(c *http.Client, url string) (int, string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// soakLog reads the daemon's JSON log as it is written and keeps only
// counts and the first errors, so a long run does not hold its whole log.
type soakLog struct {
	mu      sync.Mutex
	partial []byte
	passes  int64
	changes int64
	failed  int64
	errs    []string
}

func (l *soakLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := l.partial[:i]
		var rec struct {
			Msg     string  `json:"msg"`
			Level   string  `json:"level"`
			Changes float64 `json:"changes"`
		}
		if json.Unmarshal(line, &rec) == nil {
			switch {
			case rec.Msg == "pass finished":
				l.passes++
				l.changes += int64(rec.Changes)
			case strings.HasPrefix(rec.Msg, "pass failed"):
				l.failed++
			}
			if rec.Level == "ERROR" && len(l.errs) < 20 {
				l.errs = append(l.errs, string(line))
			}
		}
		l.partial = append(l.partial[:0], l.partial[i+1:]...)
	}
	return len(p), nil
}

func (l *soakLog) counts() (passes, changes, failed int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.passes, l.changes, l.failed
}

func (l *soakLog) errors() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs)
}
