package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/store"
)

const policyURL = "https://www.example-vendor.com/privacy"

// page is a small but real-looking policy page whose text and stated date vary.
func page(date, clause string) []byte {
	return []byte(fmt.Sprintf(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>Example Vendor Privacy Policy</title></head>
<body><nav><a href="/">Home</a> <a href="/pricing">Pricing</a></nav>
<main><h1>Privacy Policy</h1><p>Last updated: %s</p>
<p>Example Vendor Ltd explains here which personal data it collects from customers of its invoicing service, why it does so and for how long it keeps the data.</p>
<h2>Data we collect</h2><ul><li>Your name, e-mail address and billing details when you subscribe.</li><li>Technical data such as IP addresses and browser versions in our server logs.</li></ul>
<h2>Retention</h2><p>%s</p>
<h2>Contact</h2><p>Write to privacy@example-vendor.com to exercise your rights of access, correction and deletion.</p></main>
<footer>© 2020 Example Vendor</footer></body></html>`, date, clause))
}

var shell = []byte(`<!DOCTYPE html><html><head><title>Example Vendor</title></head><body><div id="app">Loading…</div><script src="/app.js"></script></body></html>`)

func capture(ts string, body []byte) waybacktest.Capture {
	return waybacktest.Capture{Timestamp: ts, URL: policyURL, Header: http.Header{"Content-Type": {"text/html"}}, Body: body}
}

type fixture struct {
	archive *waybacktest.Server
	db      *store.DB
	mon     *Monitor
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	archive := waybacktest.New()
	t.Cleanup(archive.Close)
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "pw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	logger := slog.New(slog.DiscardHandler)
	client, err := crawler.New(crawler.Config{
		BaseURL: archive.URL, CDXRate: 500, PlaybackRate: 500,
		BackoffBase: time.Millisecond, Pause429: 5 * time.Millisecond, MaxAttempts: 4,
	}, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{archive: archive, db: db, mon: New(db, client, logger)}
}

func (f *fixture) pass(t *testing.T) *PassResult {
	t.Helper()
	res, err := f.mon.Pass(t.Context(), Vendor{Name: "Example", URL: policyURL})
	if err != nil {
		t.Fatalf("pass: %v", err)
	}
	return res
}

func (f *fixture) captures(t *testing.T) []*store.Capture {
	t.Helper()
	v, err := f.db.VendorByName(t.Context(), "Example")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := f.db.Captures(t.Context(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// count is captures() for other goroutines: it never calls t.Fatal.
func (f *fixture) count() int {
	ctx := context.Background()
	v, err := f.db.VendorByName(ctx, "Example")
	if err != nil {
		return 0
	}
	cs, _ := f.db.Captures(ctx, v.ID)
	return len(cs)
}

func TestFirstPassWithNoCaptures(t *testing.T) {
	f := newFixture(t)
	res := f.pass(t)
	if !res.FirstRun || res.Listed != 0 || res.NewVersions != 0 {
		t.Fatalf("result = %+v", res)
	}
	// A vendor with no captures yet still gets its baseline later.
	f.archive.Add(capture("20200101000000", page("January 1, 2020", "Logs are kept for 30 days.")))
	if res := f.pass(t); !res.FirstRun || res.NewVersions != 1 {
		t.Fatalf("second pass = %+v, want the baseline now", res)
	}
}

// The newest capture is a JavaScript shell: the baseline comes from the
// newest capture that holds a policy, and the shell is kept but is no version.
func TestBaselineSkipsCapturesThatAreNoPolicy(t *testing.T) {
	f := newFixture(t)
	f.archive.Add(
		capture("20190101000000", page("December 1, 2018", "Logs are kept for 30 days.")),
		capture("20200101000000", page("December 2, 2019", "Logs are kept for 60 days.")),
		capture("20200601000000", shell),
	)
	res := f.pass(t)
	if res.NewVersions != 1 || res.NotVersions != 1 || res.Fetched != 2 {
		t.Fatalf("result = %+v", res)
	}
	cs := f.captures(t)
	if len(cs) != 2 || cs[0].Timestamp != "20200101000000" || cs[0].VersionID == 0 || cs[1].VersionID != 0 || cs[1].Verdict == "ok" || cs[1].BodySHA256 == "" {
		for _, c := range cs {
			t.Logf("%s version=%d verdict=%s body=%s", c.Timestamp, c.VersionID, c.Verdict, c.BodySHA256)
		}
		t.Fatal("want the 2020-01 capture as the version and the shell kept with its body and a non-ok verdict")
	}
}

// Rows that are not playable, and captures the archive lists but cannot
// play back, are recorded and do not stop the pass.
func TestPassRecordsUnplayableCaptures(t *testing.T) {
	f := newFixture(t)
	f.archive.Add(capture("20200101000000", page("January 1, 2020", "Logs are kept for 30 days.")))
	f.pass(t)
	f.archive.Add(
		waybacktest.Capture{Timestamp: "20200201000000", URL: policyURL, Status: 301, RedirectTo: "https://www.example-vendor.com/legal/privacy"},
		waybacktest.Capture{Timestamp: "20200301000000", URL: policyURL, Status: 404, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte("<h1>Not Found</h1>")},
		capture("20200401000000", page("April 1, 2020", "Logs are kept for 90 days.")),
	)
	res := f.pass(t)
	if res.New != 3 || res.NotVersions != 2 || len(res.Changes) != 1 {
		t.Fatalf("result = %+v", res)
	}
	ch := res.Changes[0]
	// The window skips the captures that had no text: the old side is the
	// last capture that had the old text.
	if ch.OldTimestamp != "20200101000000" || ch.NewTimestamp != "20200401000000" || *ch.OldStatedDate != "2020-01-01" || *ch.NewStatedDate != "2020-04-01" {
		t.Fatalf("change = %+v", ch)
	}
	verdicts := map[string]string{}
	for _, c := range f.captures(t) {
		verdicts[c.Timestamp] = c.Verdict
	}
	if verdicts["20200201000000"] != store.VerdictNotFetched || verdicts["20200301000000"] != store.VerdictNotFetched {
		t.Fatalf("verdicts = %v", verdicts)
	}
}

// A pass stopped half way (ctx cancelled) keeps what it recorded, and the
// next pass continues after it without duplicates.
func TestInterruptedPassResumes(t *testing.T) {
	f := newFixture(t)
	f.archive.Add(capture("20200101000000", page("January 1, 2020", "Logs are kept for 30 days.")))
	f.pass(t)
	for i := 1; i <= 4; i++ {
		f.archive.Add(capture(fmt.Sprintf("2021%02d01000000", i), page(fmt.Sprintf("March %d, 2021", i), fmt.Sprintf("Logs are kept for %d days.", 30+i))))
	}
	// Slow playback down and cancel after the second capture is stored.
	f.archive.Set(func(k *waybacktest.Knobs) { k.Latency = 30 * time.Millisecond })
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		defer cancel()
		for i := 0; i < 5000; i++ {
			if f.count() >= 3 {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	_, err := f.mon.Pass(ctx, Vendor{Name: "Example", URL: policyURL})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted pass err = %v, want context.Canceled", err)
	}
	stored := len(f.captures(t))
	if stored < 3 || stored >= 5 {
		t.Fatalf("%d captures stored by the interrupted pass", stored)
	}
	f.archive.Set(func(k *waybacktest.Knobs) { k.Latency = 0 })
	res := f.pass(t)
	if res.New != 5-stored {
		t.Fatalf("resumed pass processed %d captures, want %d", res.New, 5-stored)
	}
	cs := f.captures(t)
	if len(cs) != 5 {
		t.Fatalf("captures = %d, want 5", len(cs))
	}
	v, _ := f.db.VendorByName(t.Context(), "Example")
	changes, _ := f.db.Changes(t.Context(), v.ID, "")
	if len(changes) != 4 {
		t.Fatalf("changes = %d, want 4 (one per new text)", len(changes))
	}
	for i, ch := range changes {
		if ch.OldCapture.Timestamp != cs[i].Timestamp || ch.NewCapture.Timestamp != cs[i+1].Timestamp {
			t.Errorf("change %d window %s → %s", i, ch.OldCapture.Timestamp, ch.NewCapture.Timestamp)
		}
	}
}

func TestRunStopsWhenArchiveUnreachable(t *testing.T) {
	f := newFixture(t)
	f.archive.Close()
	results, err := f.mon.Run(t.Context(), []Vendor{{Name: "A", URL: "https://a.example/privacy"}, {Name: "B", URL: "https://b.example/privacy"}})
	if !errors.Is(err, crawler.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	if len(results) != 1 || !strings.Contains(results[0].Error, `vendor "A"`) {
		t.Fatalf("results = %+v: want the run to stop after the first vendor", results)
	}
}

func TestSiteOf(t *testing.T) {
	tests := map[string]string{
		"https://www.SERanking.com/privacy-policy.html": "seranking.com",
		"http://social9.com:8080/privacy":               "social9.com",
	}
	for in, want := range tests {
		if got, err := siteOf(in); err != nil || got != want {
			t.Errorf("siteOf(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := siteOf("seranking.com/privacy"); err == nil {
		t.Error("siteOf accepted a URL without scheme")
	}
}

// A page that flips back to an earlier text (A/B pages, flapping captures)
// records the change with the flip-back kind, reusing the earlier version.
func TestFlipBack(t *testing.T) {
	f := newFixture(t)
	a := page("January 1, 2020", "Logs are kept for 30 days.")
	b := page("January 1, 2020", "Logs are kept for 30 days, and backups for one year.")
	f.archive.Add(capture("20200101000000", a))
	f.pass(t)
	f.archive.Add(capture("20200201000000", b), capture("20200301000000", a))
	res := f.pass(t)
	if len(res.Changes) != 2 || res.NewVersions != 1 {
		t.Fatalf("result = %+v", res)
	}
	first, back := res.Changes[0], res.Changes[1]
	if contains(first.Kinds, "flip-back") || !contains(back.Kinds, "flip-back") || !contains(back.Kinds, "silent") {
		t.Fatalf("kinds: first %v, back %v; want flip-back (and silent) only on the return to A", first.Kinds, back.Kinds)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A change is written with one alert per routed channel, carrying the report
// with both versions' Wayback links and the window; a capture without a
// change, and a vendor routed nowhere, write none.
func TestAlertsWrittenWithTheChange(t *testing.T) {
	f := newFixture(t)
	f.mon.Route = func(vendor string, ch diffing.Change) []string {
		if vendor != "Example" || !ch.TextChanged {
			return nil
		}
		return []string{"webhook:0", "email"}
	}
	f.archive.Add(capture("20200101000000", page("January 1, 2020", "Logs are kept for 30 days.")))
	f.pass(t)
	f.archive.Add(capture("20200201000000", page("February 1, 2020", "Logs are kept for 90 days.")))
	if res := f.pass(t); res.Alerts != 2 || len(res.Changes) != 1 {
		t.Fatalf("result = %+v", res)
	}
	items, err := f.db.DueAlerts(t.Context(), time.Now().Add(time.Hour), 10)
	if err != nil || len(items) != 2 {
		t.Fatalf("outbox = %v, %v", items, err)
	}
	var rep diffing.Report
	if err := json.Unmarshal(items[0].Payload, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Vendor != "Example" || rep.Window == nil || rep.Window.LastOld.Timestamp != "20200101000000" ||
		rep.New.WaybackURL != "https://web.archive.org/web/20200201000000id_/"+policyURL || rep.Old.StatedDate != "2020-01-01" ||
		rep.New.StatedDate != "2020-02-01" || !contains(rep.Change.Kinds, "dated") {
		t.Fatalf("payload = %+v", rep)
	}
}
