package waybacktest_test

// The ground truth of Synthetic comes from the generator's own bookkeeping,
// because waybacktest must not import snapshot. These tests check that
// bookkeeping independently with the real extractor: an external test
// package may import snapshot (the layering test looks at non-test imports
// only).

import (
	"crypto/sha1"
	"encoding/base32"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/snapshot"
)

// acceptanceSpec is the history of the target: 2,000 captures over
// 20 years, 400 distinct digests, 15 real text changes, A/B flapping and
// blocked captures. monitor/history_bench_test.go uses the same figures.
var acceptanceSpec = waybacktest.AcceptanceSpec()

func TestSyntheticGroundTruth(t *testing.T) {
	specs := map[string]waybacktest.SyntheticSpec{
		"acceptance":  acceptanceSpec,
		"other seed":  func() waybacktest.SyntheticSpec { s := acceptanceSpec; s.Seed = 42; return s }(),
		"long revert": func() waybacktest.SyntheticSpec { s := acceptanceSpec; s.RevertDays = 200; return s }(),
		"small": {URL: "http://vendor.example/legal/privacy.html", Start: time.Date(2012, 3, 1, 0, 0, 0, 0, time.UTC),
			Years: 10, Captures: 300, Digests: 60, Changes: 5, Flapping: 12, Blocked: 10, Seed: 7},
		"tiny":            {URL: "https://www.tiny-shop.example/privacy", Years: 3, Captures: 60, Digests: 12, Changes: 2, Blocked: 4, Seed: 3},
		"one change":      {URL: "https://www.tiny-shop.example/privacy", Years: 5, Captures: 40, Digests: 9, Changes: 1, Flapping: 4, Blocked: 2, Seed: 5},
		"no change":       {URL: "https://www.tiny-shop.example/privacy", Years: 2, Captures: 20, Digests: 5, Seed: 9},
		"legacy flapping": {URL: "https://www.example-vendor.com/privacy", Captures: 400, Digests: 90, Changes: 2, Flapping: 60, Blocked: 10, Seed: 4},
		"many changes": {URL: "https://www.example-vendor.com/privacy", Captures: 2000, Digests: 500, Changes: 22,
			Flapping: 30, Blocked: 40, Seed: 11},
	}
	for name, spec := range specs {
		t.Run(name, func(t *testing.T) {
			if testing.Short() && name != "acceptance" && spec.Captures > 500 {
				t.Skip("extracting another 2,000 pages; the acceptance history is checked in -short too")
			}
			t.Parallel()
			h, err := waybacktest.Synthetic(spec)
			if err != nil {
				t.Fatal(err)
			}
			verifySynthetic(t, spec, h)
		})
	}
}

// verifySynthetic checks a generated history against its spec and against
// what snapshot.Extract makes of every capture.
func verifySynthetic(t *testing.T, spec waybacktest.SyntheticSpec, h *waybacktest.SyntheticHistory) {
	t.Helper()
	if len(h.Captures) != spec.Captures || len(h.Truth) != spec.Captures {
		t.Fatalf("%d captures, %d truths; want %d", len(h.Captures), len(h.Truth), spec.Captures)
	}
	site := strings.TrimPrefix(mustParse(t, spec.URL).Hostname(), "www.")
	key := waybacktest.URLKey(spec.URL)

	// Counts, digests and timestamps, from the bytes.
	digests := map[string]bool{}
	flapping, blocked, plain, repeats := 0, 0, 0, 0
	templates := map[string]bool{}
	for i, c := range h.Captures {
		tr := h.Truth[i]
		if len(c.Timestamp) != 14 || i > 0 && c.Timestamp <= h.Captures[i-1].Timestamp {
			t.Fatalf("capture %d: timestamp %q not 14 digits or not after %q", i, c.Timestamp, h.Captures[i-1].Timestamp)
		}
		if got := waybacktest.URLKey(c.URL); got != key {
			t.Fatalf("capture %d: original %q has urlkey %q, want %q", i, c.URL, got, key)
		}
		d := digest(c.Body)
		if d != tr.Digest {
			t.Fatalf("capture %d: truth digest %s, body digest %s", i, tr.Digest, d)
		}
		if c.Status >= 200 && c.Status < 300 {
			digests[d] = true
		}
		if i > 0 && d == h.Truth[i-1].Digest {
			repeats++
		}
		switch {
		case tr.Blocked != "":
			blocked++
			if tr.Version != -1 || tr.Flapping {
				t.Fatalf("capture %d: blocked but version %d, flapping %v", i, tr.Version, tr.Flapping)
			}
		case tr.Flapping:
			flapping++
		default:
			plain++
		}
		if tr.Template != "" {
			templates[tr.Template] = true
		}
	}
	if len(digests) != spec.Digests || h.Naive != spec.Digests {
		t.Errorf("distinct 2xx digests = %d, Naive = %d; want %d", len(digests), h.Naive, spec.Digests)
	}
	if flapping != spec.Flapping || blocked != spec.Blocked || plain+flapping+blocked != spec.Captures {
		t.Errorf("flapping %d, blocked %d, plain %d; want %d, %d and a total of %d", flapping, blocked, plain, spec.Flapping, spec.Blocked, spec.Captures)
	}
	if repeats == 0 && spec.Captures > 2*spec.Digests {
		t.Error("no run of identical digests: re-captures of the same bytes are missing")
	}
	if spec.Flapping > 0 && !templates["modern-b"] {
		t.Error("no A/B variant among the templates")
	}

	// Extraction: every policy capture OK, one text per version, no blocked
	// capture OK.
	type extracted struct {
		hash string
		date string
	}
	out := make([]extracted, len(h.Captures))
	hashOf := map[int]string{}    // version → text hash
	versionOf := map[string]int{} // text hash → version
	blockedKinds := map[string]bool{}
	for i, c := range h.Captures {
		tr := h.Truth[i]
		doc, err := snapshot.Extract(c.Body, snapshot.Source{Site: site, URL: c.URL, Timestamp: c.Timestamp, ContentType: c.Header.Get("Content-Type")})
		if err != nil {
			t.Fatalf("capture %d: %v", i, err)
		}
		if tr.Blocked != "" {
			blockedKinds[tr.Blocked] = true
			if doc.Quality.OK() {
				t.Errorf("capture %s (blocked %s, status %d): verdict OK, want anything else", c.Timestamp, tr.Blocked, c.Status)
			}
			continue
		}
		if !doc.Quality.OK() {
			t.Fatalf("capture %s (version %d, %s): verdict %s (%s)", c.Timestamp, tr.Version, tr.Template, doc.Quality.Verdict, doc.Quality.Reason)
		}
		hash := snapshot.Hash(doc.Markdown())
		out[i] = extracted{hash, doc.StatedDate}
		if prev, ok := hashOf[tr.Version]; ok && prev != hash {
			t.Fatalf("capture %s (version %d, %s): extracted text differs from the version's other captures", c.Timestamp, tr.Version, tr.Template)
		}
		if v, ok := versionOf[hash]; ok && v != tr.Version {
			t.Fatalf("capture %s: versions %d and %d extract to the same text", c.Timestamp, v, tr.Version)
		}
		hashOf[tr.Version], versionOf[hash] = hash, tr.Version
	}
	if len(hashOf) != len(h.Texts) {
		t.Errorf("%d distinct extracted texts, %d Texts", len(hashOf), len(h.Texts))
	}
	if spec.Blocked >= 5 && len(blockedKinds) != 5 {
		t.Errorf("blocked kinds %v: want all five", blockedKinds)
	}

	// The transitions between extracted texts, skipping blocked captures,
	// are the windows.
	var windows []waybacktest.SyntheticWindow
	var versions []int // version of each text run
	last := -1
	for i := range h.Captures {
		if h.Truth[i].Blocked != "" {
			continue
		}
		if last < 0 || out[i].hash != out[last].hash {
			if last >= 0 {
				windows = append(windows, waybacktest.SyntheticWindow{LastOld: h.Captures[last].Timestamp, FirstNew: h.Captures[i].Timestamp})
			}
			versions = append(versions, versionOf[out[i].hash])
		}
		last = i
	}
	if len(windows) != spec.Changes || !reflect.DeepEqual(windows, h.Windows) {
		t.Fatalf("extracted windows (%d):\n%v\nground truth (%d):\n%v", len(windows), windows, len(h.Windows), h.Windows)
	}
	seen := -1
	for _, v := range versions {
		if v > seen+1 {
			t.Fatalf("versions %v: Texts not in order of appearance", versions)
		}
		seen = max(seen, v)
	}

	// Texts look like policies, one change is a one-word edit, most changes
	// move the stated date, and one change is reverted within 90 days.
	for i, txt := range h.Texts {
		if n := len(strings.Fields(txt)); n < 1500 || n > 3000 {
			t.Errorf("text %d has %d words, want 1,500 to 3,000", i, n)
		}
	}
	oneWord, dated, reverted := false, 0, false
	for j := range windows {
		a, b := strings.Fields(h.Texts[versions[j]]), strings.Fields(h.Texts[versions[j+1]])
		if len(a) == len(b) {
			diff := 0
			for k := range a {
				if a[k] != b[k] {
					diff++
				}
			}
			oneWord = oneWord || diff == 1
		}
		if out[index(h, windows[j].LastOld)].date != out[index(h, windows[j].FirstNew)].date {
			dated++
		}
		if j+1 < len(windows) && versions[j+2] == versions[j] {
			gap := ts(t, windows[j+1].FirstNew).Sub(ts(t, windows[j].LastOld))
			limit := 90 * 24 * time.Hour
			if spec.RevertDays > 0 {
				limit = time.Duration(spec.RevertDays+31) * 24 * time.Hour
			}
			reverted = reverted || gap < limit
		}
	}
	if spec.Changes >= 3 && !oneWord {
		t.Error("no one-word change")
	}
	if spec.Changes >= 4 && dated*2 < spec.Changes {
		t.Errorf("only %d of %d changes move the stated date", dated, spec.Changes)
	}
	if spec.Changes >= 2 && !reverted {
		t.Error("no change reverted within 90 days")
	}

	// Sparse early years, dense later ones.
	if spec.Captures >= 100 {
		start := ts(t, h.Captures[0].Timestamp)
		span := ts(t, h.Captures[len(h.Captures)-1].Timestamp).Sub(start)
		early, late := 0, 0
		for _, c := range h.Captures {
			switch age := ts(t, c.Timestamp).Sub(start); {
			case age < span/5:
				early++
			case age > span*4/5:
				late++
			}
		}
		if early*5 > late {
			t.Errorf("first fifth of the span has %d captures, last fifth %d: want the early years sparse", early, late)
		}
	}
	t.Logf("%d captures, %d digests (naive %d), %d texts, %d changes, %d flapping, %d blocked, %d repeated digests",
		len(h.Captures), len(digests), h.Naive, len(h.Texts), len(windows), flapping, blocked, repeats)
}

func TestSyntheticDeterministic(t *testing.T) {
	spec := acceptanceSpec
	spec.Captures, spec.Digests = 400, 90
	a, err := waybacktest.Synthetic(spec)
	if err != nil {
		t.Fatal(err)
	}
	b, err := waybacktest.Synthetic(spec)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same spec gave two different histories")
	}
	spec.Seed++
	c, err := waybacktest.Synthetic(spec)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.Windows, c.Windows) {
		t.Fatal("another seed gave the same history")
	}
}

func TestSyntheticRejectsImpossibleSpecs(t *testing.T) {
	base := waybacktest.SyntheticSpec{URL: "https://www.example-vendor.com/privacy", Years: 5, Captures: 100, Digests: 20, Changes: 3, Flapping: 8, Blocked: 5}
	tests := map[string]func(s *waybacktest.SyntheticSpec){
		"relative URL":          func(s *waybacktest.SyntheticSpec) { s.URL = "example-vendor.com/privacy" },
		"no captures":           func(s *waybacktest.SyntheticSpec) { s.Captures = 0 },
		"fewer digests":         func(s *waybacktest.SyntheticSpec) { s.Digests = 3 },
		"more digests":          func(s *waybacktest.SyntheticSpec) { s.Digests = 101 },
		"too many changes":      func(s *waybacktest.SyntheticSpec) { s.Changes = 60 },
		"all flapping":          func(s *waybacktest.SyntheticSpec) { s.Flapping, s.Blocked = 60, 40 },
		"negative blocked":      func(s *waybacktest.SyntheticSpec) { s.Blocked = -1 },
		"more blocked than fit": func(s *waybacktest.SyntheticSpec) { s.Blocked = 90 },
	}
	if _, err := waybacktest.Synthetic(base); err != nil {
		t.Fatalf("base spec: %v", err)
	}
	for name, mutate := range tests {
		spec := base
		mutate(&spec)
		if _, err := waybacktest.Synthetic(spec); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// The fake archive lists every synthetic capture under the policy's urlkey,
// with the digests the ground truth names, and plays each one back.
func TestSyntheticServed(t *testing.T) {
	spec := acceptanceSpec
	spec.Captures, spec.Digests, spec.Flapping, spec.Blocked = 300, 70, 12, 15
	h, err := waybacktest.Synthetic(spec)
	if err != nil {
		t.Fatal(err)
	}
	srv := waybacktest.New()
	defer srv.Close()
	srv.Add(h.Captures...)

	q := url.Values{"url": {spec.URL}, "output": {"json"}, "fl": {"timestamp,statuscode,digest"}}
	var rows [][]string
	if err := json.Unmarshal(fetchBody(t, srv.URL+"/cdx/search/cdx?"+q.Encode()), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != spec.Captures+1 {
		t.Fatalf("cdx listed %d rows, want %d", len(rows)-1, spec.Captures)
	}
	for i, r := range rows[1:] {
		if r[0] != h.Captures[i].Timestamp || r[2] != h.Truth[i].Digest {
			t.Fatalf("row %d = %v, want %s %s", i, r, h.Captures[i].Timestamp, h.Truth[i].Digest)
		}
	}
	for _, i := range []int{0, len(h.Captures) / 2, len(h.Captures) - 1} {
		c := h.Captures[i]
		body := fetchBody(t, srv.URL+"/web/"+c.Timestamp+"id_/"+c.URL)
		if digest(body) != h.Truth[i].Digest {
			t.Errorf("playback of %s: body digest differs from the listed one", c.Timestamp)
		}
	}
}

func fetchBody(t *testing.T, rawURL string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "waybacktest synthetic test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func digest(b []byte) string {
	sum := sha1.Sum(b)
	return base32.StdEncoding.EncodeToString(sum[:])
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse("20060102150405", s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func index(h *waybacktest.SyntheticHistory, timestamp string) int {
	for i, c := range h.Captures {
		if c.Timestamp == timestamp {
			return i
		}
	}
	return -1
}
