package waybacktest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/policywatch/policywatch/crawler/waybacktest"
)

func TestURLKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://www.archive.org/goo/?b&a", "org,archive)/goo?a&b"},
		{"http://www.nasa.gov:80/", "gov,nasa)/"},
		{"https://www.nasa.gov:443", "gov,nasa)/"},
		{"nasa.gov", "gov,nasa)/"},
		{"seranking.com/privacy-policy.html", "com,seranking)/privacy-policy.html"},
		{"https://www.seranking.com/Privacy-Policy.html", "com,seranking)/privacy-policy.html"},
		{"http://seranking.com/privacy-policy.html/", "com,seranking)/privacy-policy.html"},
		{"https://www2.example.com/a?", "com,example)/a"},
		{"https://Example.com:8080/a#frag", "com,example:8080)/a"},
		{"https://example.com/a?lang=en&jsessionid=123", "com,example)/a?lang=en"},
		{"https://user:pw@example.com/%7Euser", "com,example)/~user"},
		{"http://127.0.0.1:8080/x", "127.0.0.1:8080)/x"},
	}
	for _, tt := range tests {
		if got := waybacktest.URLKey(tt.in); got != tt.want {
			t.Errorf("URLKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func get(t *testing.T, rawURL string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "waybacktest-test")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func seeded(t *testing.T) *waybacktest.Server {
	s := waybacktest.New()
	t.Cleanup(s.Close)
	s.Add(
		waybacktest.Capture{Timestamp: "20200101000000", URL: "http://example.com/p", Body: []byte("a")},
		waybacktest.Capture{Timestamp: "20200201000000", URL: "https://www.example.com/p", Body: []byte("a")},
		waybacktest.Capture{Timestamp: "20200301000000", URL: "https://example.com/p/", Status: 302, RedirectTo: "https://example.com/q"},
		waybacktest.Capture{Timestamp: "20200401000000", URL: "https://example.com/p", Body: []byte("b"),
			Header: http.Header{"Content-Type": {"text/html; charset=utf-8"}, "Server": {"nginx"}}},
	)
	return s
}

func TestCDXText(t *testing.T) {
	s := seeded(t)
	s.Set(func(k *waybacktest.Knobs) { k.KeyStyle = waybacktest.KeyLegacy; k.DuplicateRows = 2 })
	_, body := get(t, s.URL+"/cdx/search/cdx?url=example.com/p&limit=3&showResumeKey=true")
	want := "com,example)/p 20200101000000 http://example.com/p text/html 200 " +
		"Q336IN72UWT7ZYK5DXOLT2XK5I3XMZ5Y "
	if !strings.HasPrefix(body, want) {
		t.Fatalf("body = %q", body)
	}
	lines := strings.Split(body, "\n")
	if len(lines) != 6 || lines[3] != "" || lines[4] != "com%2Cexample%29%2Fp+20200201000001" {
		t.Fatalf("want 3 rows, blank line and legacy key; got %q", lines)
	}
	_, next := get(t, s.URL+"/cdx/search/cdx?url=example.com/p&limit=3&showResumeKey=true&resumeKey="+url.QueryEscape(lines[4]))
	if !strings.HasPrefix(next, "com,example)/p 20200301000000 https://example.com/p/ text/html 302 3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ") {
		t.Errorf("second page = %q", next)
	}
}

func TestCDXJSONAndFilters(t *testing.T) {
	s := seeded(t)
	tests := []struct {
		query string
		want  []string // timestamps
	}{
		{"", []string{"20200101000000", "20200201000000", "20200301000000", "20200401000000"}},
		{"&filter=statuscode:200", []string{"20200101000000", "20200201000000", "20200401000000"}},
		{"&filter=statuscode:2", nil},
		{"&filter=!statuscode:2..", []string{"20200301000000"}},
		{"&filter=~original:www", []string{"20200201000000"}},
		{"&collapse=digest", []string{"20200101000000", "20200301000000", "20200401000000"}},
		{"&from=202002&to=202003", []string{"20200201000000", "20200301000000"}},
		{"&limit=-1", []string{"20200401000000"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, body := get(t, s.URL+"/cdx/search/cdx?output=json&url=https://www.example.com/p/"+tt.query)
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var rows [][]string
			if err := json.Unmarshal([]byte(body), &rows); err != nil {
				t.Fatalf("%v: %q", err, body)
			}
			var got []string
			for i, r := range rows {
				if i == 0 {
					if r[0] != "urlkey" {
						t.Errorf("header row %v", r)
					}
					continue
				}
				got = append(got, r[1])
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPlayback(t *testing.T) {
	s := seeded(t)

	resp, body := get(t, s.URL+"/web/20200401000000id_/http://example.com/p")
	if resp.StatusCode != 200 || body != "b" || resp.Header.Get("Memento-Datetime") != "Wed, 01 Apr 2020 00:00:00 GMT" ||
		resp.Header.Get("X-Archive-Orig-Server") != "nginx" || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.Contains(resp.Header.Get("Link"), `<https://example.com/p>; rel="original"`) {
		t.Errorf("exact: %d %q %v", resp.StatusCode, body, resp.Header)
	}

	resp, _ = get(t, s.URL+"/web/20200215id_/https://example.com/p")
	if resp.StatusCode != 302 || resp.Header.Get("Memento-Datetime") != "" ||
		resp.Header.Get("Location") != s.URL+"/web/20200201000000id_/https://www.example.com/p" ||
		resp.Header.Get("X-Archive-Redirect-Reason") != "found capture at 20200201000000" {
		t.Errorf("nearest: %d %v", resp.StatusCode, resp.Header)
	}

	resp, _ = get(t, s.URL+"/web/20200301000000id_/https://example.com/p")
	if resp.StatusCode != 302 || resp.Header.Get("Memento-Datetime") == "" ||
		resp.Header.Get("Location") != s.URL+"/web/20200301000000id_/https://example.com/q" {
		t.Errorf("captured redirect: %d %v", resp.StatusCode, resp.Header)
	}

	resp, body = get(t, s.URL+"/web/2020id_/https://example.com/never")
	if resp.StatusCode != 404 || resp.Header.Get("Memento-Datetime") != "" || !strings.Contains(body, "has not archived that URL") {
		t.Errorf("not archived: %d %q", resp.StatusCode, body)
	}

	s.Set(func(k *waybacktest.Knobs) { k.DoubleGzip = true })
	// Ask for no transport compression so Go hands over the wire bytes.
	resp, body = get(t, s.URL+"/web/20200401000000id_/http://example.com/p", "Accept-Encoding", "identity")
	if ce := resp.Header.Values("Content-Encoding"); len(ce) != 2 || ce[0] != "" || ce[1] != "gzip" || !strings.HasPrefix(body, "\x1f\x8b") {
		t.Errorf("double gzip: Content-Encoding %q body %q", ce, body)
	}

	// Captures added while serving appear at once.
	s.Set(func(k *waybacktest.Knobs) { k.DoubleGzip = false })
	s.Add(waybacktest.Capture{Timestamp: "20210101000000", URL: "https://example.com/new", Body: []byte("new")})
	if resp, body = get(t, s.URL+"/web/20210101000000id_/https://example.com/new"); body != "new" {
		t.Errorf("late capture: %d %q", resp.StatusCode, body)
	}
}

func TestFaultsAndStats(t *testing.T) {
	s := seeded(t)
	s.Inject(waybacktest.Playback, waybacktest.Fault429RetryAfter(7), waybacktest.Fault503)
	u := s.URL + "/web/20200401000000id_/http://example.com/p"
	if resp, _ := get(t, u); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" || resp.Header.Get("Memento-Datetime") != "" {
		t.Errorf("first: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := get(t, u); resp.StatusCode != 503 {
		t.Errorf("second: %d", resp.StatusCode)
	}
	if resp, _ := get(t, u); resp.StatusCode != 200 {
		t.Errorf("third: %d", resp.StatusCode)
	}
	st := s.Stats()
	if st.Playback.Requests != 3 || st.Playback.ByStatus[429] != 1 || st.Playback.ByStatus[503] != 1 || st.CDX.Requests != 0 {
		t.Errorf("stats = %+v", st)
	}

	// No User-Agent: 400, as IA answers.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	req.Header.Set("User-Agent", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("without User-Agent: %d", resp.StatusCode)
	}

	s.ResetStats()
	s.Set(func(k *waybacktest.Knobs) { k.RateLimit = 2; k.RateWindow = time.Minute })
	var codes []int
	for range 3 {
		resp, _ := get(t, u)
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != 200 || codes[1] != 200 || codes[2] != 429 {
		t.Errorf("rate limit codes = %v", codes)
	}
}
