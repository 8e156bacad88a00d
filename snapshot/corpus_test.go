package snapshot

import (
	"bufio"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// citpF1Floor is just under the mean token F1 the extractor reaches on the
// citp corpus; a drop below it is a regression in content selection.
const citpF1Floor = 0.97

func corpusDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("POLICYWATCH_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "citp", "manifest.jsonl")); err != nil {
		t.Skipf("corpus not found at %s (set POLICYWATCH_CORPUS to run the corpus evaluation): %v", dir, err)
	}
	return dir
}

func readManifest[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open manifest: %v", err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("manifest line: %v", err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read manifest: %v", err)
	}
	return out
}

type citpEntry struct {
	Domain     string `json:"domain"`
	Timestamp  string `json:"timestamp"`
	WaybackURL string `json:"wayback_url"`
	HTML       string `json:"html"`
	MD         string `json:"md"`
}

var (
	citpHeaderRe     = regexp.MustCompile(`(?s)^\s*<!--.*?-->\s*`)
	citpProvenanceRe = regexp.MustCompile(`^> \*The following text is extracted[^\n]*\n\n?`)
)

// citpSource rebuilds the Source of a citp pair from its id_ URL, whose original
// URL is path-escaped ("http%3A//host/x").
func citpSource(t *testing.T, e citpEntry) Source {
	t.Helper()
	_, orig, ok := strings.Cut(e.WaybackURL, "id_/")
	if !ok {
		t.Fatalf("%s: no id_ in %s", e.Domain, e.WaybackURL)
	}
	u, err := url.PathUnescape(orig)
	if err != nil {
		t.Fatalf("%s: unescape %s: %v", e.Domain, orig, err)
	}
	// The dataset stored every page as UTF-8 (legacy pages already decoded).
	return Source{Site: e.Domain, URL: u, Timestamp: e.Timestamp, ContentType: "text/html; charset=utf-8"}
}

type docScore struct {
	name  string
	p, r  float64
	f1    float64
	notes string
}

func TestCorpusCITP(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "citp")
	entries := readManifest[citpEntry](t, filepath.Join(dir, "manifest.jsonl"))
	var scores []docScore
	for _, e := range entries {
		name := e.Domain + "/" + e.Timestamp
		rawHTML, err := os.ReadFile(filepath.Join(dir, e.HTML))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rawMD, err := os.ReadFile(filepath.Join(dir, e.MD))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		page := citpHeaderRe.ReplaceAll(rawHTML, nil)
		want := citpProvenanceRe.ReplaceAllString(string(rawMD), "")
		src := citpSource(t, e)
		doc, err := Extract(page, src)
		if err != nil {
			t.Errorf("%s: extract: %v", name, err)
			continue
		}
		if !doc.Quality.OK() {
			t.Errorf("%s: verdict %s (%s), want ok: every citp page is a real policy", name, doc.Quality.Verdict, doc.Quality.Reason)
		}
		p, r, f := TokenScore(doc.Markdown(), want)
		scores = append(scores, docScore{name, p, r, f, doc.StatedDate + " " + doc.StatedDateText})
		if os.Getenv("POLICYWATCH_CORPUS_OUT") != "" {
			out := filepath.Join(os.Getenv("POLICYWATCH_CORPUS_OUT"), strings.ReplaceAll(name, "/", "_")+".md")
			if err := os.WriteFile(out, []byte(doc.Render(src)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	mean := logScores(t, "citp", scores)
	if mean < citpF1Floor {
		t.Errorf("citp mean F1 %.4f below floor %.2f", mean, citpF1Floor)
	}
}

// logScores logs per-document and mean scores and returns the mean F1.
func logScores(t *testing.T, set string, scores []docScore) float64 {
	t.Helper()
	if len(scores) == 0 {
		return 0
	}
	var sp, sr, sf float64
	for _, s := range scores {
		sp += s.p
		sr += s.r
		sf += s.f1
		t.Logf("%-45s P=%.3f R=%.3f F1=%.3f %s", s.name, s.p, s.r, s.f1, s.notes)
	}
	n := float64(len(scores))
	t.Logf("%s mean over %d documents: P=%.4f R=%.4f F1=%.4f", set, len(scores), sp/n, sr/n, sf/n)
	sorted := slices.Clone(scores)
	slices.SortFunc(sorted, func(a, b docScore) int {
		switch {
		case a.f1 < b.f1:
			return -1
		case a.f1 > b.f1:
			return 1
		}
		return 0
	})
	for _, s := range sorted[:min(3, len(sorted))] {
		t.Logf("%s worst: %s F1=%.3f (P=%.3f R=%.3f)", set, s.name, s.f1, s.p, s.r)
	}
	return sf / n
}

type otaEntry struct {
	ID        string `json:"id"`
	HTML      string `json:"html"`
	MD        string `json:"md"`
	URL       string `json:"url"`
	FetchedAt string `json:"fetched_at"`
	Fetcher   string `json:"fetcher"`
}

// TestCorpusOTA logs how whole-page extraction (without OTA's per-service
// selectors) compares with Open Terms Archive's versions. OTA's expected text
// is selector-cut and its inputs are often JS-rendered DOM dumps, so there is
// no floor: this is a report.
func TestCorpusOTA(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "ota")
	if _, err := os.Stat(filepath.Join(dir, "manifest.jsonl")); err != nil {
		t.Skipf("no OTA corpus at %s", dir)
	}
	entries := readManifest[otaEntry](t, filepath.Join(dir, "manifest.jsonl"))
	// A spread sample keeps the run short (the full set takes minutes under
	// -race); POLICYWATCH_OTA_ALL=1 evaluates every pair.
	if os.Getenv("POLICYWATCH_OTA_ALL") == "" {
		var sample []otaEntry
		for i := 0; i < len(entries); i += 8 {
			sample = append(sample, entries[i])
		}
		entries = sample
	}
	var scores []docScore
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.HTML))
		if err != nil {
			continue // pairs whose HTML was not copied
		}
		want, err := os.ReadFile(filepath.Join(dir, e.MD))
		if err != nil {
			continue
		}
		ts := "20200101000000"
		if at, err := time.Parse(time.RFC3339, e.FetchedAt); err == nil {
			ts = at.UTC().Format("20060102150405")
		}
		src := Source{Site: e.ID, URL: e.URL, Timestamp: ts, ContentType: "text/html"}
		doc, err := Extract(raw, src)
		if err != nil {
			t.Logf("%s: extract: %v", e.ID, err)
			continue
		}
		p, r, f := TokenScore(doc.Body, string(want))
		scores = append(scores, docScore{e.ID, p, r, f, string(doc.Quality.Verdict)})
	}
	logScores(t, "ota", scores)
}
