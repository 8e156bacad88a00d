package monitor_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/monitor"
	"github.com/policywatch/policywatch/store"
)

// syntheticSpec is the acceptance history: 20 years, 2,000
// captures, 400 distinct digests, 15 real text changes (one of them a
// revert, 200 days after the change it undoes: longer than the default max
// gap, so the gap rule guarantees it is seen), A/B flapping pages and
// blocked captures. TestHistorySyntheticShortRevert covers a revert shorter
// than the gap.
var syntheticSpec = func() waybacktest.SyntheticSpec {
	s := waybacktest.AcceptanceSpec()
	s.RevertDays = 200
	return s
}()

// The acceptance figures.
const (
	maxHistoryFetches = 150 // page fetches allowed for the synthetic history (naive: 400)

	// The archive's CDX limit, 30 requests a minute, and the client's
	// defaults (0.4 CDX and 1 playback request a second) run 100 times
	// faster, so that the test takes seconds instead of an hour.
	defaultTimeScale = 100
	cdxLimit         = 30
	cdxPageSize      = 100 // 2,000 rows make at least 20 CDX pages
)

const syntheticVendor = "Synthetic Vendor"

// historyRun is one History run against a fresh database.
type historyRun struct {
	res   *monitor.HistoryResult
	err   error
	wall  time.Duration
	stats waybacktest.Stats
	db    *store.DB
}

// runSyntheticHistory runs History over the archive with a fresh database in
// dir; cfg is the client configuration without BaseURL.
func runSyntheticHistory(ctx context.Context, tb testing.TB, archive *waybacktest.Server, dir string, cfg crawler.Config, opts monitor.HistoryOptions) *historyRun {
	tb.Helper()
	db, err := store.Open(ctx, filepath.Join(dir, "pw.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	logger := slog.New(slog.DiscardHandler)
	cfg.BaseURL = archive.URL
	client, err := crawler.New(cfg, logger, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(client.CloseIdleConnections)
	m := monitor.New(db, client, logger)

	archive.ResetStats()
	start := time.Now()
	res, err := m.History(ctx, monitor.Vendor{Name: syntheticVendor, URL: syntheticSpec.URL}, opts)
	return &historyRun{res: res, err: err, wall: time.Since(start), stats: archive.Stats(), db: db}
}

// TestHistorySynthetic20Years is the target: on a synthetic 20-year
// history (2,000 captures, 400 distinct digests, 15 real text changes, A/B
// flapping pages and blocked captures) History finds every text change with
// its exact window, fetches at most 150 pages (naive: 400), and never
// exceeds the archive's CDX rate.
func TestHistorySynthetic20Years(t *testing.T) {
	hist, err := waybacktest.Synthetic(syntheticSpec)
	if err != nil {
		t.Fatal(err)
	}
	archive := waybacktest.New()
	defer archive.Close()
	archive.Add(hist.Captures...)
	// The fake has one RateLimit for both endpoint classes, so playback
	// must stay under the CDX budget too: at 1 req/s ×100 (60 per window)
	// every playback after the 30th in a window would be answered 429. Both
	// classes therefore run at the CDX rate, 0.4 req/s ×100 = 24 requests
	// per 600 ms window.
	// POLICYWATCH_HISTORY_REALTIME=1 runs at the real rates and the real
	// one-minute window (about five minutes), for docs/benchmarks.md.
	timeScale := time.Duration(defaultTimeScale)
	if os.Getenv("POLICYWATCH_HISTORY_REALTIME") != "" {
		timeScale = 1
	}
	cdxRateWindow := time.Minute / timeScale
	archive.Set(func(k *waybacktest.Knobs) {
		k.RateLimit = cdxLimit
		k.RateWindow = cdxRateWindow
	})
	cfg := crawler.Config{
		CDXRate:      crawler.DefaultCDXRate * float64(timeScale),
		PlaybackRate: crawler.DefaultCDXRate * float64(timeScale),
		CDXPageSize:  cdxPageSize,
		Pause429:     crawler.DefaultPause429 / timeScale,
		BackoffBase:  crawler.DefaultBackoffBase / timeScale,
		MaxAttempts:  4,
	}

	run := runSyntheticHistory(t.Context(), t, archive, t.TempDir(), cfg, monitor.HistoryOptions{})
	if run.err != nil {
		t.Fatalf("history: %v", run.err)
	}
	res, stats := run.res, run.stats

	maxCDX := maxInWindow(stats.CDX.Times, cdxRateWindow)
	t.Logf("fetches %d (limit %d, naive %d), CDX pages %d, max CDX requests per %v window %d (limit %d), wall time %v",
		stats.Playback.Requests, maxHistoryFetches, hist.Naive, stats.CDX.Requests, cdxRateWindow, maxCDX, cdxLimit, run.wall.Round(time.Millisecond))
	t.Logf("result: listed %d, distinct %d, fetched %d, reused %d, inferred %d, not versions %d, versions %d, changes %d",
		res.Listed, res.Distinct, res.Fetched, res.Reused, res.Inferred, res.Skipped, len(res.Versions), len(res.Changes))

	// Every text change, with its exact window, and nothing else.
	changes, got := storedWindows(t, run.db)
	want := map[waybacktest.SyntheticWindow]bool{}
	for i, w := range hist.Windows {
		want[w] = true
		if !got[w] {
			t.Errorf("change %d (%s) not found with its window %s → %s", i+1, hist.Edits[i], w.LastOld, w.FirstNew)
		}
	}
	for _, ch := range changes {
		if w := (waybacktest.SyntheticWindow{LastOld: ch.OldCapture.Timestamp, FirstNew: ch.NewCapture.Timestamp}); !want[w] {
			t.Errorf("extra change %s → %s (kinds %v): no such change in the ground truth", w.LastOld, w.FirstNew, ch.Kinds)
		}
	}
	if len(changes) != len(hist.Windows) {
		t.Errorf("%d changes stored, want %d", len(changes), len(hist.Windows))
	}

	// Page fetches: within budget, and counted honestly.
	if stats.Playback.Requests > maxHistoryFetches {
		t.Errorf("%d page fetches, want at most %d (naive: %d)", stats.Playback.Requests, maxHistoryFetches, hist.Naive)
	}
	if res.Fetched != stats.Playback.Requests {
		t.Errorf("result says %d fetched, the archive counted %d playback requests", res.Fetched, stats.Playback.Requests)
	}
	if res.Listed != syntheticSpec.Captures || res.Distinct != hist.Naive {
		t.Errorf("result lists %d captures with %d distinct digests, want %d and %d", res.Listed, res.Distinct, syntheticSpec.Captures, hist.Naive)
	}

	// The CDX rate: paged, never refused, never above the limit.
	if stats.CDX.Requests < syntheticSpec.Captures/cdxPageSize {
		t.Errorf("%d CDX requests: want at least %d pages of %d rows", stats.CDX.Requests, syntheticSpec.Captures/cdxPageSize, cdxPageSize)
	}
	if n := stats.CDX.ByStatus[http.StatusTooManyRequests]; n > 0 {
		t.Errorf("the archive answered %d CDX requests with 429", n)
	}
	if n := stats.Playback.ByStatus[http.StatusTooManyRequests]; n > 0 {
		t.Errorf("the archive answered %d playback requests with 429", n)
	}
	if maxCDX > cdxLimit {
		t.Errorf("%d CDX requests inside one %v window, limit %d", maxCDX, cdxRateWindow, cdxLimit)
	}
}

// BenchmarkHistorySynthetic20Years runs History over the synthetic 20-year
// history with a fresh database per iteration and no rate limits, and
// reports the page fetches and CDX requests per run next to the naive
// fetch count.
func BenchmarkHistorySynthetic20Years(b *testing.B) {
	hist, err := waybacktest.Synthetic(syntheticSpec)
	if err != nil {
		b.Fatal(err)
	}
	archive := waybacktest.New()
	defer archive.Close()
	archive.Add(hist.Captures...)
	cfg := crawler.Config{
		CDXRate:      1e6,
		PlaybackRate: 1e6,
		CDXPageSize:  cdxPageSize,
		Pause429:     time.Millisecond,
		BackoffBase:  time.Millisecond,
		MaxAttempts:  4,
	}
	ctx := context.Background()

	var fetches, cdx int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		b.StartTimer()
		run := runSyntheticHistory(ctx, b, archive, dir, cfg, monitor.HistoryOptions{})
		if run.err != nil {
			b.Fatalf("history: %v", run.err)
		}
		fetches += run.stats.Playback.Requests
		cdx += run.stats.CDX.Requests
		b.StopTimer()
		run.db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(fetches)/float64(b.N), "fetches/op")
	b.ReportMetric(float64(cdx)/float64(b.N), "cdx-requests/op")
	b.ReportMetric(float64(hist.Naive), "naive/op")
}

// maxInWindow returns the most arrivals inside any window of length w.
func maxInWindow(times []time.Time, w time.Duration) int {
	times = slices.Clone(times)
	slices.SortFunc(times, time.Time.Compare)
	best := 0
	j := 0
	for i := range times {
		for times[i].Sub(times[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// TestHistorySyntheticShortRevert measures the trade the max gap makes: a
// change reverted 30–54 days later, between two fetched captures with the
// same text, is only seen when the max gap is shorter than the reverted
// stretch. Every other change is found with its exact window either way.
func TestHistorySyntheticShortRevert(t *testing.T) {
	if testing.Short() {
		t.Skip("two 2,000-capture histories; skipped with -short")
	}
	spec := syntheticSpec
	spec.RevertDays = 0
	hist, err := waybacktest.Synthetic(spec)
	if err != nil {
		t.Fatal(err)
	}
	archive := waybacktest.New()
	defer archive.Close()
	archive.Add(hist.Captures...)
	cfg := crawler.Config{CDXRate: 1e6, PlaybackRate: 1e6, CDXPageSize: cdxPageSize, Pause429: time.Millisecond, BackoffBase: time.Millisecond}
	for _, gap := range []time.Duration{0, 30 * 24 * time.Hour} {
		run := runSyntheticHistory(t.Context(), t, archive, t.TempDir(), cfg, monitor.HistoryOptions{MaxGap: gap})
		if run.err != nil {
			t.Fatalf("history: %v", run.err)
		}
		_, got := storedWindows(t, run.db)
		found, missed := 0, []string{}
		for i, w := range hist.Windows {
			if got[w] {
				found++
			} else {
				missed = append(missed, hist.Edits[i])
			}
		}
		if gap == 0 {
			gap = monitor.DefaultMaxGap
		}
		t.Logf("max gap %d days: %d fetches, %d of %d changes found; missed %q", int(gap.Hours()/24), run.stats.Playback.Requests, found, len(hist.Windows), missed)
		for _, m := range missed {
			if !strings.Contains(m, "revert") && !strings.Contains(m, "advertis") && !strings.Contains(m, "browsing") {
				t.Errorf("max gap %v missed %q, which is not the short-lived change or its revert", gap, m)
			}
		}
		if gap < 54*24*time.Hour && found != len(hist.Windows) {
			t.Errorf("max gap %v is shorter than the reverted stretch, yet %d of %d changes were found", gap, found, len(hist.Windows))
		}
	}
}

// storedWindows returns the synthetic vendor's archive changes and their
// windows.
func storedWindows(t *testing.T, db *store.DB) ([]*store.Change, map[waybacktest.SyntheticWindow]bool) {
	t.Helper()
	vendor, err := db.VendorByName(t.Context(), syntheticVendor)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := db.Changes(t.Context(), vendor.ID, store.CauseArchive)
	if err != nil {
		t.Fatal(err)
	}
	got := map[waybacktest.SyntheticWindow]bool{}
	for _, ch := range changes {
		got[waybacktest.SyntheticWindow{LastOld: ch.OldCapture.Timestamp, FirstNew: ch.NewCapture.Timestamp}] = true
	}
	return changes, got
}
