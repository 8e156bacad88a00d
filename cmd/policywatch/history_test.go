package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/monitor"
	"github.com/policywatch/policywatch/store"
)

// historyArchive fills an archive with five years of monthly Acme captures,
// every one with its own bytes (a request id in the footer), and three text
// changes. It returns the expected change windows.
func historyArchive(a *waybacktest.Server) []string {
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	texts := []struct {
		until, date string
		days        int
	}{{"2018", "January 5, 2016", 30}, {"2019", "January 2, 2018", 60}, {"2020", "March 3, 2019", 90}, {"2021", "June 1, 2020", 14}}
	var windows []string
	prev, e := "", 0
	start := time.Date(2016, 1, 15, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 60; i++ {
		ts := start.AddDate(0, i, 0).Format("20060102150405")
		if ts >= texts[e].until {
			e++
			windows = append(windows, prev+" → "+ts)
		}
		body := fmt.Sprintf(`<html><head><title>Acme privacy</title></head><body><nav><a href="/">Acme</a></nav><main><h1>Privacy Policy</h1>
<p>Last updated: %s</p><p>We keep server logs for %d days and then delete them. We never sell personal data and share it only with processors bound by contract.</p>
<p>Contact privacy@acme-cloud.example to access, correct or delete your data.</p></main><footer>request %d</footer></body></html>`, texts[e].date, texts[e].days, i)
		a.Add(waybacktest.Capture{Timestamp: ts, URL: acmeURL, Header: html, Body: []byte(body)})
		prev = ts
	}
	return windows
}

func TestHistoryCommand(t *testing.T) {
	archive := waybacktest.New()
	defer archive.Close()
	archive.Set(func(k *waybacktest.Knobs) { k.PageCap = 25 })
	want := historyArchive(archive)
	e := newEnv(t, archive.URL)

	out := e.mustRun("history", "--vendor", "Acme Cloud")
	for _, w := range want {
		ends := strings.Split(w, " → ")
		if !strings.Contains(out, "CHANGED between "+ends[0]+" and "+ends[1]) {
			t.Errorf("output lacks the change %s:\n%s", w, out)
		}
	}
	if !strings.Contains(out, "60 captures listed, 60 distinct payloads (naive: 60 fetches)") || !strings.Contains(out, "4 versions:") {
		t.Errorf("summary:\n%s", out)
	}
	fetched := archive.Stats().Playback.Requests
	if fetched >= 40 {
		t.Errorf("%d playback requests for 60 payloads", fetched)
	}

	// JSON: a rerun fetches nothing and says it resumed.
	archive.ResetStats()
	var doc struct {
		Vendors []monitor.HistoryResult `json:"vendors"`
	}
	js := e.mustRun("history", "--all", "--json")
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatalf("history --json: %v\n%s", err, js)
	}
	r := doc.Vendors[0]
	if len(doc.Vendors) != 1 || r.Fetched != 0 || !r.Resumed || len(r.Changes) != 3 || r.Listed != 60 || r.Distinct != 60 {
		t.Errorf("rerun = %+v", r)
	}
	if n := archive.Stats().Playback.Requests; n != 0 {
		t.Errorf("the rerun made %d playback requests", n)
	}

	// fetch continues from where history ended.
	if out := e.mustRun("fetch"); !strings.Contains(out, "no new captures since 20201215100000") {
		t.Errorf("fetch after history:\n%s", out)
	}
	if vs := e.versions(); len(vs) != 4 || vs[3].Captures != 12 || vs[0].URL != acmeURL {
		t.Errorf("versions = %+v", vs)
	}
}

func TestHistoryFlags(t *testing.T) {
	e := newEnv(t, "http://127.0.0.1:1")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"history"}, "say which vendor"},
		{[]string{"history", "--all", "--vendor", "Acme Cloud"}, "not both"},
		{[]string{"history", "--all", "--from", "2015-01"}, `--from "2015-01": want a date as 1 to 14 digits`},
		{[]string{"history", "--all", "--to", "201513"}, `--to "201513"`},
		{[]string{"history", "--all", "--from", "2020", "--to", "2019"}, "--from 2020 is after --to 2019"},
		{[]string{"history", "--all", "--max-gap", "0"}, "--max-gap 0"},
		{[]string{"history", "--vendor", "Nobody"}, "Nobody"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := e.run(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
	m.Run(t.Context(), []string{"history", "--help"})
	for _, w := range []string{"bisects", "--max-gap", "--discover", "resumes", "inferred"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("--help does not mention %q", w)
		}
	}
}

func TestHistoryStopsWhenTheArchiveBlocks(t *testing.T) {
	archive := waybacktest.New()
	defer archive.Close()
	historyArchive(archive)
	archive.Set(func(k *waybacktest.Knobs) { k.RateLimit = 8; k.RateWindow = time.Hour })
	e := newEnv(t, archive.URL)
	_, _, err := e.run("history", "--vendor", "Acme Cloud")
	if err == nil || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "run the same command again after") {
		t.Fatalf("err = %v", err)
	}
	kept := e.count("captures")
	if kept == 0 {
		t.Fatal("nothing kept")
	}
	archive.Set(func(k *waybacktest.Knobs) { k.RateLimit = 0 })
	out := e.mustRun("history", "--vendor", "Acme Cloud")
	if !strings.Contains(out, "continued an earlier run") || !strings.Contains(out, "4 versions:") {
		t.Errorf("after the block:\n%s", out)
	}
}

// killAfter is when the attempt-th child is killed: at varied moments in the
// first eight attempts, then never, so that a run completes however slow the
// machine (the race detector makes a run several times slower).
func killAfter(attempt int) time.Duration {
	if attempt >= 8 {
		return 5 * time.Minute
	}
	return time.Duration(150+attempt*173%700) * time.Millisecond
}

// TestHistorySurvivesKill kills real history processes (SIGKILL) at random
// moments until one completes, and checks that the result equals an
// uninterrupted run's and that the runs together fetched hardly more.
func TestHistorySurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes; skipped with -short")
	}
	ref := waybacktest.New()
	defer ref.Close()
	want := historyArchive(ref)
	refEnv := newEnv(t, ref.URL)
	refEnv.mustRun("history", "--vendor", "Acme Cloud")
	refFetches := ref.Stats().Playback.Requests

	archive := waybacktest.New()
	defer archive.Close()
	historyArchive(archive)
	archive.Set(func(k *waybacktest.Knobs) { k.Latency = 30 * time.Millisecond; k.PageCap = 10 })
	e := newEnv(t, archive.URL)
	kills := killRepeatedly(t, []string{"history", "--vendor", "Acme Cloud", "--config", e.config, "--log-level", "error"}, killAfter)
	db, err := store.Open(t.Context(), filepath.Join(e.dir, "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, _ := db.VendorByName(t.Context(), "Acme Cloud")
	changes, _ := db.Changes(t.Context(), v.ID, store.CauseArchive)
	var got []string
	for _, ch := range changes {
		got = append(got, ch.OldCapture.Timestamp+" → "+ch.NewCapture.Timestamp)
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("after %d kills: changes %v, want %v", kills, got, want)
	}
	if n := e.count("captures"); n != 60 {
		t.Errorf("%d captures stored, want 60 (no duplicates, none lost)", n)
	}
	// A killed run can lose the one request it was waiting for.
	if fetches := archive.Stats().Playback.Requests; fetches > refFetches+kills {
		t.Errorf("%d playback requests over %d killed runs and one complete; an uninterrupted run makes %d", fetches, kills, refFetches)
	}
	// 60 rows at 10 a page: 6 pages and an empty last one, each asked once
	// (plus the one a kill interrupts).
	if cdx := archive.Stats().CDX.Requests; cdx > 7+kills {
		t.Errorf("%d CDX requests over %d killed runs; the listing should resume from its key", cdx, kills)
	}
	t.Logf("%d kills; %d playback requests in all (uninterrupted: %d); %d CDX requests", kills,
		archive.Stats().Playback.Requests, refFetches, archive.Stats().CDX.Requests)
}

func TestHistoryStopsWhenTheArchiveIsUnreachable(t *testing.T) {
	archive := waybacktest.New()
	historyArchive(archive)
	e := newEnv(t, archive.URL)
	ctx := t.Context()
	// The archive goes away after the listing and a few fetches.
	var once sync.Once
	archive.Set(func(k *waybacktest.Knobs) { k.Latency = 5 * time.Millisecond })
	go func() {
		for archive.Stats().Playback.Requests < 5 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		once.Do(archive.Close)
	}()
	_, _, err := e.run("history", "--vendor", "Acme Cloud")
	once.Do(archive.Close)
	if err == nil || !strings.Contains(err.Error(), "refuses connections") || !strings.Contains(err.Error(), "resumes where it stopped") {
		t.Fatalf("err = %v", err)
	}
	if n := e.count("captures"); n == 0 {
		t.Error("nothing kept from before the outage")
	}
}
