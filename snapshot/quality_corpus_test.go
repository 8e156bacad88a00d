package snapshot

import (
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestQualityCorpusCITP: every citp page is a real archived privacy policy, so
// the verdict must accept every one of them.
func TestQualityCorpusCITP(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "citp")
	type entry struct {
		Domain     string `json:"domain"`
		Timestamp  string `json:"timestamp"`
		WaybackURL string `json:"wayback_url"`
		HTML       string `json:"html"`
	}
	entries := readManifest[entry](t, filepath.Join(dir, "manifest.jsonl"))
	rejected := 0
	for _, e := range entries {
		name := e.Domain + "/" + e.Timestamp
		raw, err := os.ReadFile(filepath.Join(dir, e.HTML))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		orig := e.WaybackURL
		if _, after, ok := strings.Cut(orig, "id_/"); ok {
			if u, err := url.PathUnescape(after); err == nil {
				orig = u
			}
		}
		src := Source{Site: e.Domain, URL: orig, Timestamp: e.Timestamp, ContentType: "text/html; charset=utf-8"}
		doc, err := Extract(citpHeaderRe.ReplaceAll(raw, nil), src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !doc.Quality.OK() {
			rejected++
			t.Errorf("%s: real policy rejected: %s (%s)", name, doc.Quality.Verdict, doc.Quality.Reason)
		}
	}
	t.Logf("citp: %d pages, %d accepted, %d rejected", len(entries), len(entries)-rejected, rejected)
}

// TestQualityCorpusOTA runs the verdict over every Open Terms Archive page.
// OTA's manifest flags "tiny-text" pairs (expected text under 300 bytes: its
// soft-404s and loading pages); those are the pages the verdict should catch.
// Every other page is a real legal document and must be accepted.
func TestQualityCorpusOTA(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "ota")
	type entry struct {
		ID        string   `json:"id"`
		HTML      string   `json:"html"`
		URL       string   `json:"url"`
		FetchedAt string   `json:"fetched_at"`
		Flags     []string `json:"flags"`
	}
	entries := readManifest[entry](t, filepath.Join(dir, "manifest.jsonl"))
	var tiny, tinyCaught, checked int
	var falseRejects []string
	byVerdict := map[Verdict]int{}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.HTML))
		if err != nil {
			t.Fatalf("%s: %v", e.ID, err)
		}
		ts := "20200101000000"
		if at, err := time.Parse(time.RFC3339, e.FetchedAt); err == nil {
			ts = at.UTC().Format("20060102150405")
		}
		src := Source{Site: e.ID, URL: e.URL, Timestamp: ts, ContentType: "text/html"}
		doc, err := Extract(raw, src)
		if err != nil {
			t.Fatalf("%s: %v", e.ID, err)
		}
		checked++
		byVerdict[doc.Quality.Verdict]++
		isTiny := slices.Contains(e.Flags, "tiny-text")
		if isTiny {
			tiny++
		}
		switch {
		case isTiny && !doc.Quality.OK():
			tinyCaught++
			t.Logf("caught tiny-text page %s: %s (%s)", e.ID, doc.Quality.Verdict, doc.Quality.Reason)
		case isTiny:
			t.Logf("missed tiny-text page %s (verdict ok, title %q)", e.ID, doc.Title)
		case !doc.Quality.OK():
			falseRejects = append(falseRejects, e.ID)
			t.Errorf("%s: real document rejected: %s (%s)", e.ID, doc.Quality.Verdict, doc.Quality.Reason)
		}
	}
	t.Logf("ota: %d pages, verdicts %v; tiny-text pages caught %d of %d; false rejections %d %v",
		checked, byVerdict, tinyCaught, tiny, len(falseRejects), falseRejects)
}
