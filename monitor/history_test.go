package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/store"
)

// noisy is a policy page whose bytes differ on every capture (a nonce in the
// footer, as real pages carry CSRF tokens and ad slots) while its text does
// not: distinct digests, one version.
func noisy(date, clause string, nonce int) []byte {
	return []byte(strings.Replace(string(page(date, clause)), "</body>", fmt.Sprintf("<!-- request %d --></body>", nonce), 1))
}

// era is a stretch of the policy's history with one text.
type era struct {
	until  string // captures strictly before this timestamp have this text
	date   string
	clause string
}

// monthly adds one capture a month (each with its own digest) from start
// until the last era ends, and returns the ground-truth windows: the last
// capture of each era and the first of the next.
func monthly(t *testing.T, a *waybacktest.Server, u, start string, eras []era) (windows []string, captures int) {
	t.Helper()
	ts, err := time.Parse("20060102150405", start)
	if err != nil {
		t.Fatal(err)
	}
	e, prev := 0, ""
	for n := 0; ; n++ {
		s := ts.Format("20060102150405")
		for e < len(eras) && s >= eras[e].until {
			e++
			if e < len(eras) {
				windows = append(windows, prev+"→"+s)
			}
		}
		if e == len(eras) {
			return windows, captures
		}
		a.Add(waybacktest.Capture{Timestamp: s, URL: u, Header: http.Header{"Content-Type": {"text/html"}},
			Body: noisy(eras[e].date, eras[e].clause, n)})
		captures++
		prev = s
		ts = ts.AddDate(0, 1, 0)
	}
}

func (f *fixture) history(t *testing.T, opts HistoryOptions) *HistoryResult {
	t.Helper()
	res, err := f.mon.History(t.Context(), Vendor{Name: "Example", URL: policyURL}, opts)
	if err != nil {
		t.Fatalf("history: %v", err)
	}
	return res
}

func (f *fixture) windows(t *testing.T) []string {
	t.Helper()
	v, err := f.db.VendorByName(t.Context(), "Example")
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.db.Changes(t.Context(), v.ID, store.CauseArchive)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ch := range list {
		out = append(out, ch.OldCapture.Timestamp+"→"+ch.NewCapture.Timestamp)
	}
	return out
}

var fourYears = []era{
	{"20170315000000", "January 5, 2016", "Logs are kept for 30 days."},
	{"20180820000000", "March 1, 2017", "Logs are kept for 90 days."},
	// A change reverted within three months: only the gap rule finds it.
	{"20181120000000", "August 1, 2018", "Logs are kept for 90 days and shared with our analytics partner."},
	{"20200101000000", "March 1, 2017", "Logs are kept for 90 days."},
}

func TestHistoryBisectsToExactWindows(t *testing.T) {
	f := newFixture(t)
	want, n := monthly(t, f.archive, policyURL, "20160110120000", fourYears)
	res := f.history(t, HistoryOptions{})

	if got := f.windows(t); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("changes = %v\nwant      %v", got, want)
	}
	playback := f.archive.Stats().Playback.Requests
	if res.Listed != n || res.Distinct != n {
		t.Errorf("listed %d distinct %d, want %d each", res.Listed, res.Distinct, n)
	}
	if res.Fetched != playback || res.Fetched >= n/2 {
		t.Errorf("fetched %d (archive saw %d) of %d distinct payloads; bisection should need far fewer", res.Fetched, playback, n)
	}
	if res.Fetched+res.Inferred+res.Reused != n {
		t.Errorf("fetched %d + inferred %d + reused %d != %d captures", res.Fetched, res.Inferred, res.Reused, n)
	}
	if len(res.Versions) != 3 || len(res.Changes) != 3 {
		t.Errorf("versions %d, changes %d; want 3 and 3 (the revert returns to the second text)", len(res.Versions), len(res.Changes))
	}
	if k := res.Changes[2].Kinds; !strings.Contains(strings.Join(k, ","), "flip-back") {
		t.Errorf("the revert's kinds = %v, want flip-back", k)
	}
	t.Logf("%d captures: %d fetched, %d inferred", n, res.Fetched, res.Inferred)

	// Every capture is recorded exactly once, and the inferred ones say why.
	caps := f.captures(t)
	if len(caps) != n {
		t.Fatalf("%d captures stored, want %d", len(caps), n)
	}
	inferred := 0
	for _, c := range caps {
		if c.Verdict == store.VerdictInferred {
			inferred++
			if c.VersionID == 0 || !strings.Contains(c.VerdictReason, "same text") {
				t.Errorf("inferred capture %s: version %d, reason %q", c.Timestamp, c.VersionID, c.VerdictReason)
			}
		}
	}
	if inferred != res.Inferred || inferred == 0 {
		t.Errorf("stored %d inferred captures, result says %d", inferred, res.Inferred)
	}

	// A second run has nothing to do; fetch continues after the history.
	f.archive.ResetStats()
	again := f.history(t, HistoryOptions{})
	if again.Fetched != 0 || f.archive.Stats().Playback.Requests != 0 || !again.Resumed {
		t.Errorf("second run fetched %d (archive %d), resumed %v", again.Fetched, f.archive.Stats().Playback.Requests, again.Resumed)
	}
	f.archive.Add(capture("20200301000000", page("February 1, 2020", "Logs are kept for 7 days.")))
	pass := f.pass(t)
	if pass.FirstRun || pass.New != 1 || len(pass.Changes) != 1 || pass.Changes[0].OldTimestamp != "20191210120000" {
		t.Errorf("fetch after history = %+v", pass)
	}
}

// The gap rule: with a MaxGap longer than the revert, the revert between two
// equal ends is missed; that is the documented trade.
func TestHistoryMaxGapDecidesWhatIsSeen(t *testing.T) {
	f := newFixture(t)
	monthly(t, f.archive, policyURL, "20160110120000", fourYears)
	res := f.history(t, HistoryOptions{MaxGap: 5 * 365 * 24 * time.Hour})
	if len(res.Changes) != 1 {
		t.Errorf("with a 5-year gap: %d changes, want only the first (the change and revert between equal ends are not looked at)", len(res.Changes))
	}
}

func TestHistoryResumesWithoutFetchingTwice(t *testing.T) {
	ref := newFixture(t)
	want, _ := monthly(t, ref.archive, policyURL, "20160110120000", fourYears)
	full := ref.history(t, HistoryOptions{})

	for _, stopAt := range []int{1, 4, 9} {
		t.Run(fmt.Sprintf("interrupted after %d fetches", stopAt), func(t *testing.T) {
			f := newFixture(t)
			monthly(t, f.archive, policyURL, "20160110120000", fourYears)
			f.archive.Set(func(k *waybacktest.Knobs) { k.PageCap = 10 }) // several CDX pages
			ctx, cancel := context.WithCancel(t.Context())
			_, err := f.mon.History(ctx, Vendor{Name: "Example", URL: policyURL}, HistoryOptions{Progress: func(p HistoryProgress) {
				if p.Fetched >= stopAt {
					cancel()
				}
			}})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted run: err = %v", err)
			}
			res := f.history(t, HistoryOptions{})
			if !res.Resumed {
				t.Error("second run did not say it resumed")
			}
			if got := f.windows(t); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("changes = %v, want %v", got, want)
			}
			if got := f.archive.Stats().Playback.Requests; got > full.Fetched+1 {
				// The interrupted request itself may be repeated once.
				t.Errorf("the two runs made %d playback requests; one run makes %d", got, full.Fetched)
			}
			if got := len(f.captures(t)); got != len(ref.captures(t)) {
				t.Errorf("%d captures stored, want %d (no duplicates)", got, len(ref.captures(t)))
			}
		})
	}
}

func TestHistoryListingResumesFromItsKey(t *testing.T) {
	f := newFixture(t)
	monthly(t, f.archive, policyURL, "20160110120000", fourYears)
	f.archive.Set(func(k *waybacktest.Knobs) { k.PageCap = 10 })
	ctx, cancel := context.WithCancel(t.Context())
	_, err := f.mon.History(ctx, Vendor{Name: "Example", URL: policyURL}, HistoryOptions{Progress: func(p HistoryProgress) {
		if p.Phase == "listing" && p.Pages == 2 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	pages := f.archive.Stats().CDX.Requests
	f.archive.ResetStats()
	res := f.history(t, HistoryOptions{})
	total := pages + f.archive.Stats().CDX.Requests
	if !res.Resumed || total > 5+1 || total < 5 {
		// 48 rows at 10 a page: 5 pages; the cut can repeat one request.
		t.Errorf("resumed %v, %d CDX requests over both runs, want about 5", res.Resumed, total)
	}
	if res.Listed != 48 {
		t.Errorf("listed %d rows, want 48", res.Listed)
	}
}

func TestHistoryStopsOnRateLimitKeepingProgress(t *testing.T) {
	f := newFixture(t)
	want, _ := monthly(t, f.archive, policyURL, "20160110120000", fourYears)
	f.archive.Set(func(k *waybacktest.Knobs) { k.RateLimit = 6; k.RateWindow = time.Hour })
	_, err := f.mon.History(t.Context(), Vendor{Name: "Example", URL: policyURL}, HistoryOptions{})
	if !errors.Is(err, crawler.ErrRateLimited) {
		t.Fatalf("err = %v, want ErrRateLimited", err)
	}
	kept := len(f.captures(t))
	if kept == 0 {
		t.Fatal("nothing was kept from before the block")
	}
	f.archive.Set(func(k *waybacktest.Knobs) { k.RateLimit = 0 })
	f.history(t, HistoryOptions{})
	if got := f.windows(t); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("after the block lifted: changes = %v, want %v", got, want)
	}
}

func TestHistoryFollowsTheMovedPolicy(t *testing.T) {
	f := newFixture(t)
	const moved = "https://www.example-vendor.com/legal/privacy-policy"
	monthly(t, f.archive, policyURL, "20160110120000", []era{{"20180101000000", "January 5, 2016", "Logs are kept for 30 days."}})
	// From 2018 the old URL answers 301 to the new one, captured twice a year.
	for _, ts := range []string{"20180301000000", "20180901000000", "20190301000000", "20190901000000", "20200301000000"} {
		f.archive.Add(waybacktest.Capture{Timestamp: ts, URL: policyURL, Status: http.StatusMovedPermanently, RedirectTo: moved})
	}
	windows, _ := monthly(t, f.archive, moved, "20180115000000", []era{
		{"20190601000000", "January 5, 2016", "Logs are kept for 30 days."},
		{"20200601000000", "May 20, 2019", "Logs are kept for 45 days."},
	})
	res := f.history(t, HistoryOptions{})
	if len(res.URLs) != 2 || res.URLs[1].URL != moved || res.URLs[1].How != "redirect" {
		t.Fatalf("urls = %+v", res.URLs)
	}
	if got := f.windows(t); len(got) != 1 || got[0] != windows[0] {
		t.Fatalf("changes = %v, want %v (found at the new URL)", got, windows)
	}
	if len(res.Versions) != 2 || res.Versions[1].URL != moved {
		t.Errorf("versions = %+v; the second should be recorded at %s", res.Versions, moved)
	}

	// fetch keeps watching the policy where history found it.
	f.archive.Add(waybacktest.Capture{Timestamp: "20210101000000", URL: policyURL, Status: http.StatusMovedPermanently, RedirectTo: moved})
	f.archive.Add(waybacktest.Capture{Timestamp: "20210102000000", URL: moved, Header: http.Header{"Content-Type": {"text/html"}},
		Body: page("January 1, 2021", "Logs are kept for 7 days.")})
	pass := f.pass(t)
	if len(pass.Changes) != 1 || pass.Changes[0].NewTimestamp != "20210102000000" {
		t.Errorf("fetch after the move = %+v", pass)
	}
}

func TestHistoryRedirectLoopIsNotFollowed(t *testing.T) {
	f := newFixture(t)
	const other = "https://www.example-vendor.com/privacy-2"
	f.archive.Add(capture("20160101000000", page("January 5, 2016", "Logs are kept for 30 days.")))
	f.archive.Add(
		waybacktest.Capture{Timestamp: "20180101000000", URL: policyURL, Status: http.StatusFound, RedirectTo: other},
		waybacktest.Capture{Timestamp: "20180101000000", URL: other, Status: http.StatusFound, RedirectTo: policyURL},
	)
	res := f.history(t, HistoryOptions{})
	if len(res.URLs) != 1 || len(res.Versions) != 1 {
		t.Errorf("a redirect loop was followed: urls %+v versions %+v", res.URLs, res.Versions)
	}
}

func TestHistoryDiscoversThePolicyLink(t *testing.T) {
	f := newFixture(t)
	const old = "https://www.example-vendor.com/about/privacy.html"
	monthly(t, f.archive, old, "20140110120000", []era{
		{"20150601000000", "January 5, 2014", "Logs are kept for 30 days."},
		{"20170101000000", "June 1, 2015", "Logs are kept for 60 days."},
	})
	monthly(t, f.archive, policyURL, "20170110120000", []era{{"20180101000000", "June 1, 2015", "Logs are kept for 60 days."}})
	f.archive.Add(waybacktest.Capture{Timestamp: "20150701000000", URL: "https://www.example-vendor.com/",
		Header: http.Header{"Content-Type": {"text/html"}},
		Body: []byte(`<html><body><h1>Example Vendor</h1><p>Invoices made easy.</p>
<footer><a href="/about/privacy.html">Privacy Policy</a> <a href="/terms">Terms</a></footer></body></html>`)})

	without := f.history(t, HistoryOptions{From: "2014"})
	if len(without.Changes) != 0 || len(without.URLs) != 1 {
		t.Fatalf("without --discover: %d changes, urls %+v", len(without.Changes), without.URLs)
	}
	res := f.history(t, HistoryOptions{From: "2014", Discover: true})
	if len(res.URLs) != 2 || res.URLs[1].How != "discovered" || res.URLs[1].URL != old {
		t.Fatalf("urls = %+v", res.URLs)
	}
	if got := f.windows(t); len(got) != 1 || got[0] != "20150510120000→20150610120000" {
		t.Errorf("changes = %v, want the 2015 change at the old URL", got)
	}
}
