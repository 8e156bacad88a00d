package crawler_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/crawler/waybacktest"
)

func TestFetch(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 300) // 3000 bytes
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("<p>stored gzip</p>"))
	_ = zw.Close()

	captures := append(policyCaptures(),
		waybacktest.Capture{Timestamp: "20150129034904", URL: "http://www.example.com/busy", Status: 429,
			Header: http.Header{"Content-Type": {"text/html; charset=UTF-8"}, "Retry-After": {"6"}}, Body: []byte("whoa there")},
		waybacktest.Capture{Timestamp: "20200101000000", URL: "https://example.com/big", Body: big},
		waybacktest.Capture{Timestamp: "20200101000000", URL: "https://example.com/search?q=privacy&lang=en", Body: []byte("query page")},
		waybacktest.Capture{Timestamp: "20200101000000", URL: "https://example.com/gone", Status: 404, Body: []byte("captured 404")},
		waybacktest.Capture{Timestamp: "20200101000000", URL: "https://example.com/latin1",
			Header: http.Header{"Content-Type": {"text/html; charset=iso-8859-1"}}, Body: []byte("caf\xe9")},
		waybacktest.Capture{Timestamp: "20200101000000", URL: "https://example.com/stored-gzip", Body: gz.Bytes()},
	)

	tests := []struct {
		name      string
		knobs     func(k *waybacktest.Knobs)
		maxBody   int64
		ts, url   string
		wantErr   error
		status    int
		timestamp string
		original  string
		location  string
		body      string
		truncated bool
		requests  int // playback requests the fake must have seen; 0 = don't check
	}{
		{name: "exact 200", ts: "20190210080000", url: "https://www.example.com/privacy",
			status: 200, timestamp: "20190210080000", original: "https://www.example.com/privacy", body: "<p>v2</p>", requests: 1},
		{name: "nearest capture via archive 302", ts: "20190301", url: "http://example.com/privacy",
			status: 200, timestamp: "20190305080000", original: "https://www.example.com/privacy/", body: "<p>v2</p>", requests: 2},
		{name: "nearest capture is earlier", ts: "20211231235959", url: "https://example.com/privacy",
			status: 200, timestamp: "20210615093000", original: "https://example.com/Privacy", body: "<p>v3</p>", requests: 2},
		{name: "captured 301 absolute Location", ts: "20200101000000", url: "https://example.com/privacy",
			status: 301, timestamp: "20200101000000", location: "https://example.com/legal/privacy", requests: 1},
		{name: "captured 301 path Location", knobs: func(k *waybacktest.Knobs) { k.LocationStyle = waybacktest.LocationPath },
			ts: "20200101000000", url: "https://example.com/privacy", status: 301, location: "https://example.com/legal/privacy", timestamp: "20200101000000"},
		{name: "captured 301 scheme-relative Location", knobs: func(k *waybacktest.Knobs) { k.LocationStyle = waybacktest.LocationSchemeRelative },
			ts: "20200101000000", url: "https://example.com/privacy", status: 301, location: "https://example.com/legal/privacy", timestamp: "20200101000000"},
		{name: "captured 429 is a memento", ts: "20150129034904", url: "http://www.example.com/busy",
			status: 429, timestamp: "20150129034904", body: "whoa there", requests: 1},
		{name: "captured 404 is a memento", ts: "20200101000000", url: "https://example.com/gone", status: 404, body: "captured 404", timestamp: "20200101000000", requests: 1},
		{name: "original keeps its query string", ts: "20200101000000", url: "https://example.com/search?q=privacy&lang=en",
			status: 200, body: "query page", original: "https://example.com/search?q=privacy&lang=en", timestamp: "20200101000000"},
		{name: "raw bytes despite charset", ts: "20200101000000", url: "https://example.com/latin1", status: 200, body: "caf\xe9", timestamp: "20200101000000"},
		{name: "stored gzip payload", ts: "20200101000000", url: "https://example.com/stored-gzip", status: 200, body: "<p>stored gzip</p>", timestamp: "20200101000000"},
		{name: "transport gzip", knobs: func(k *waybacktest.Knobs) { k.GzipBodies = true },
			ts: "20210615093000", url: "https://example.com/privacy", status: 200, body: "<p>v3</p>", timestamp: "20210615093000"},
		{name: "double gzip", knobs: func(k *waybacktest.Knobs) { k.DoubleGzip = true },
			ts: "20210615093000", url: "https://example.com/privacy", status: 200, body: "<p>v3</p>", timestamp: "20210615093000"},
		{name: "double gzip over the cap", knobs: func(k *waybacktest.Knobs) { k.DoubleGzip = true }, maxBody: 1000,
			ts: "20200101000000", url: "https://example.com/big", status: 200, body: string(big[:1000]), truncated: true, timestamp: "20200101000000"},
		{name: "lowercase header names", knobs: func(k *waybacktest.Knobs) { k.LowercaseNames = true },
			ts: "20190210080000", url: "https://www.example.com/privacy", status: 200, timestamp: "20190210080000", original: "https://www.example.com/privacy", body: "<p>v2</p>"},
		{name: "body over the cap", maxBody: 1000, ts: "20200101000000", url: "https://example.com/big",
			status: 200, body: string(big[:1000]), truncated: true, timestamp: "20200101000000"},
		{name: "body exactly at the cap", maxBody: 3000, ts: "20200101000000", url: "https://example.com/big",
			status: 200, body: string(big), timestamp: "20200101000000"},
		{name: "not archived", ts: "20200101000000", url: "https://nowhere.example.org/", wantErr: crawler.ErrNotArchived, requests: 1},
		{name: "excluded 200 page", knobs: func(k *waybacktest.Knobs) { k.Excluded = []string{"example.com"} },
			ts: "20190210080000", url: "https://www.example.com/privacy", wantErr: crawler.ErrBlocked, requests: 1},
		{name: "excluded 403", knobs: func(k *waybacktest.Knobs) { k.Excluded = []string{"example.com"}; k.Excluded403 = true },
			ts: "20190210080000", url: "https://www.example.com/privacy", wantErr: crawler.ErrBlocked, requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t)
			fake.Add(captures...)
			if tt.knobs != nil {
				fake.Set(tt.knobs)
			}
			cfg := fastConfig(fake.URL)
			cfg.MaxBodySize = tt.maxBody
			c := newClient(t, cfg, nil)

			m, err := c.Fetch(t.Context(), tt.ts, tt.url)
			if tt.requests > 0 {
				if n := fake.Stats().Playback.Requests; n != tt.requests {
					t.Errorf("playback requests = %d, want %d", n, tt.requests)
				}
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.url) {
					t.Fatalf("err = %v, want %v naming %s", err, tt.wantErr, tt.url)
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if m.Status != tt.status {
				t.Errorf("Status = %d, want %d", m.Status, tt.status)
			}
			if tt.timestamp != "" && m.Timestamp != tt.timestamp {
				t.Errorf("Timestamp = %s, want %s", m.Timestamp, tt.timestamp)
			}
			if tt.original != "" && m.Original != tt.original {
				t.Errorf("Original = %s, want %s", m.Original, tt.original)
			}
			if m.Location != tt.location {
				t.Errorf("Location = %q, want %q", m.Location, tt.location)
			}
			if string(m.Body) != tt.body {
				t.Errorf("Body = %q, want %q", trim(m.Body), trim([]byte(tt.body)))
			}
			if m.Truncated != tt.truncated {
				t.Errorf("Truncated = %v, want %v", m.Truncated, tt.truncated)
			}
			if !strings.Contains(m.RequestURL, "/web/"+m.Timestamp+"id_/") {
				t.Errorf("RequestURL = %s, want the id_ URL of %s", m.RequestURL, m.Timestamp)
			}
		})
	}
}

func trim(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}

// TestFetchRecordedHeaders serves hand-made copies of recorded memento headers.
func TestFetchRecordedHeaders(t *testing.T) {
	tests := []struct {
		file, timestamp, original, location string
		status                              int
	}{
		{"memento-429-lowercase.json", "20150129034904", "http://www.reddit.com/r/PokemonGiveaway", "", 429},
		{"memento-301-schemeless.json", "20201102232816", "https://www.census.gov/geography/gss-initiative.html", "https://www.census.gov/geo/gssi/", 301},
		{"memento-302-amp.json", "20200925075411",
			"https://idp.springer.com/authorize?response_type=cookie&client_id=springerlink&redirect_uri=https://link.springer.com/article/10.1007/s00382-012-1331-2",
			"https://link.springer.com/article/10.1007/s00382-012-1331-2", 302},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "testdata", "wayback", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var fx struct {
				Status  int        `json:"status"`
				Headers [][]string `json:"headers"`
				Body    string     `json:"body"`
			}
			if err := json.Unmarshal(raw, &fx); err != nil {
				t.Fatal(err)
			}
			var n int
			var mu sync.Mutex
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n++
				mu.Unlock()
				for _, h := range fx.Headers {
					w.Header()[h[0]] = append(w.Header()[h[0]], h[1]) // names exactly as recorded
				}
				w.WriteHeader(fx.Status)
				fmt.Fprint(w, fx.Body)
			})
			c := newClient(t, fastConfig(srv.URL), nil)
			m, err := c.Fetch(t.Context(), tt.timestamp, tt.original)
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if m.Status != tt.status || m.Timestamp != tt.timestamp || m.Original != tt.original || m.Location != tt.location {
				t.Errorf("got status %d ts %s original %s location %s", m.Status, m.Timestamp, m.Original, m.Location)
			}
			if string(m.Body) != fx.Body {
				t.Errorf("Body = %q", m.Body)
			}
			if n != 1 {
				t.Errorf("%d requests, want 1: a memento is never retried or followed", n)
			}
		})
	}
}

func TestFetchRedirectLoop(t *testing.T) {
	// Two archive 302s without Memento-Datetime pointing at each other, as
	// the fake archive cannot (fx:…redirect_in_a_loop/01 and /03).
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		next := "20200925075411"
		if strings.Contains(r.RequestURI, "20200925075411") {
			next = "20200925075402"
		}
		w.Header().Set("Location", "/web/"+next+"id_/https://link.example/article")
		w.Header().Set("X-Archive-Redirect-Reason", "found capture at "+next)
		w.WriteHeader(http.StatusFound)
	})
	c := newClient(t, fastConfig(srv.URL), nil)
	_, err := c.Fetch(t.Context(), "20200925075402", "https://link.example/article")
	if !errors.Is(err, crawler.ErrRedirectLoop) {
		t.Fatalf("err = %v, want ErrRedirectLoop", err)
	}

	// An endless chain of distinct URLs stops at the hop limit.
	var hops int
	srv2 := serve(t, func(w http.ResponseWriter, r *http.Request) {
		hops++
		w.Header().Set("Location", fmt.Sprintf("/web/2020%010did_/https://link.example/", hops))
		w.WriteHeader(http.StatusFound)
	})
	c2 := newClient(t, fastConfig(srv2.URL), nil)
	if _, err := c2.Fetch(t.Context(), "2020", "https://link.example/"); !errors.Is(err, crawler.ErrRedirectLoop) {
		t.Fatalf("err = %v, want ErrRedirectLoop", err)
	}
	if hops != 11 {
		t.Errorf("%d requests, want 11 (10 redirects followed)", hops)
	}
}

func TestFetchRetries(t *testing.T) {
	tests := []struct {
		name   string
		faults []waybacktest.Fault
		gzip   bool
	}{
		{"503 then ok", []waybacktest.Fault{waybacktest.Fault503}, false},
		{"reset then ok", []waybacktest.Fault{waybacktest.FaultReset}, false},
		{"truncated then ok", []waybacktest.Fault{waybacktest.FaultTruncate}, false},
		{"truncated gzip then ok", []waybacktest.Fault{waybacktest.FaultTruncate}, true},
		{"mixed", []waybacktest.Fault{waybacktest.Fault500, waybacktest.FaultTruncate, waybacktest.FaultReset}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t)
			fake.Add(waybacktest.Capture{Timestamp: "20200101000000", URL: "https://example.com/privacy",
				Body: bytes.Repeat([]byte("policy text "), 500)})
			fake.Set(func(k *waybacktest.Knobs) { k.GzipBodies = tt.gzip })
			fake.Inject(waybacktest.Playback, tt.faults...)
			c := newClient(t, fastConfig(fake.URL), nil)
			m, err := c.Fetch(t.Context(), "20200101000000", "https://example.com/privacy")
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if len(m.Body) != 6000 || m.Truncated {
				t.Errorf("body %d bytes, truncated %v; want the whole 6000", len(m.Body), m.Truncated)
			}
			st := fake.Stats().Playback
			if st.Requests < len(tt.faults)+1 || st.ByStatus[200] < 1 {
				t.Errorf("stats %+v, want %d faults then a 200", st.ByStatus, len(tt.faults))
			}
		})
	}
	t.Run("gives up after MaxAttempts", func(t *testing.T) {
		fake := newFake(t)
		fake.Add(policyCaptures()...)
		fake.Inject(waybacktest.Playback, waybacktest.Fault503, waybacktest.FaultTruncate, waybacktest.Fault503, waybacktest.Fault503, waybacktest.Fault503)
		c := newClient(t, fastConfig(fake.URL), nil)
		_, err := c.Fetch(t.Context(), "20180105120000", "http://example.com/privacy")
		if !errors.Is(err, crawler.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		if n := fake.Stats().Playback.Requests; n != 4 {
			t.Errorf("%d requests, want 4", n)
		}
	})
}

func TestFetch429(t *testing.T) {
	t.Run("pauses the whole class", func(t *testing.T) {
		fake := newFake(t)
		fake.Add(policyCaptures()...)
		fake.Inject(waybacktest.Playback, waybacktest.Fault429)
		sig := newSignal(pauseMessage)
		cfg := fastConfig(fake.URL)
		cfg.Pause429 = 300 * time.Millisecond
		c := newClient(t, cfg, slog.New(sig))

		errs := make(chan error, 2)
		go func() {
			_, err := c.Fetch(t.Context(), "20180105120000", "http://example.com/privacy")
			errs <- err
		}()
		select {
		case <-sig.ch:
		case <-time.After(10 * time.Second):
			t.Fatal("no pause logged")
		}
		// A second worker starting during the pause must wait it out.
		go func() {
			_, err := c.Fetch(t.Context(), "20210615093000", "https://example.com/privacy")
			errs <- err
		}()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("Fetch: %v", err)
			}
		}
		st := fake.Stats().Playback
		if st.Requests != 3 || st.ByStatus[429] != 1 {
			t.Fatalf("stats %+v, want one 429 and two 200s", st.ByStatus)
		}
		for _, h := range st.Hits[1:] {
			if gap := h.Time.Sub(st.Hits[0].Time); gap < cfg.Pause429 {
				t.Errorf("request %s came %v after the 429, want at least %v", h.URI, gap, cfg.Pause429)
			}
		}
	})
	t.Run("honours Retry-After", func(t *testing.T) {
		fake := newFake(t)
		fake.Add(policyCaptures()...)
		fake.Inject(waybacktest.Playback, waybacktest.Fault429RetryAfter(1))
		c := newClient(t, fastConfig(fake.URL), nil) // Pause429 is 5ms: only Retry-After explains a 1s wait
		if _, err := c.Fetch(t.Context(), "20180105120000", "http://example.com/privacy"); err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		times := fake.Stats().Playback.Times
		if len(times) != 2 || times[1].Sub(times[0]) < time.Second {
			t.Errorf("request times %v, want a retry at least 1s after the 429", times)
		}
	})
	t.Run("repeated 429 gives ErrRateLimited", func(t *testing.T) {
		fake := newFake(t)
		fake.Add(policyCaptures()...)
		for range 10 {
			fake.Inject(waybacktest.Playback, waybacktest.Fault429)
		}
		c := newClient(t, fastConfig(fake.URL), nil)
		_, err := c.Fetch(t.Context(), "20180105120000", "http://example.com/privacy")
		if !errors.Is(err, crawler.ErrRateLimited) || !strings.Contains(err.Error(), "retry after") {
			t.Fatalf("err = %v, want ErrRateLimited with advice", err)
		}
		if n := fake.Stats().Playback.Requests; n != 4 {
			t.Errorf("%d requests, want Max429Pauses+1 = 4", n)
		}
	})
	t.Run("cancellation during a pause", func(t *testing.T) {
		fake := newFake(t)
		fake.Add(policyCaptures()...)
		fake.Inject(waybacktest.Playback, waybacktest.Fault429)
		sig := newSignal(pauseMessage)
		cfg := fastConfig(fake.URL)
		cfg.Pause429 = time.Hour
		c := newClient(t, cfg, slog.New(sig))
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			<-sig.ch
			cancel()
		}()
		start := time.Now()
		_, err := c.Fetch(ctx, "20180105120000", "http://example.com/privacy")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("returned after %v", d)
		}
	})
}

func TestFetchUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	c := newClient(t, fastConfig("http://"+addr), nil)
	start := time.Now()
	_, err = c.Fetch(t.Context(), "20200101000000", "https://example.com/")
	if !errors.Is(err, crawler.ErrUnreachable) || !strings.Contains(err.Error(), "https://example.com/") {
		t.Fatalf("err = %v, want ErrUnreachable naming the URL", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if _, err := c.List(t.Context(), "https://example.com/", crawler.ListOptions{}); !errors.Is(err, crawler.ErrUnreachable) {
		t.Errorf("List err = %v, want ErrUnreachable", err)
	}
}

// TestRateLimit checks, from the fake's arrival times, that concurrent
// workers never exceed the configured rate (plus the burst of one). Only
// the limiter's own guarantee is asserted, with slack for delivery jitter.
func TestRateLimit(t *testing.T) {
	const rps, workers = 10.0, 12
	fake := newFake(t)
	fake.Add(policyCaptures()...)
	cfg := fastConfig(fake.URL)
	cfg.PlaybackRate = rps
	cfg.CDXRate = rps
	cfg.CDXPageSize = 1
	c := newClient(t, cfg, nil)

	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	for i := range workers {
		wg.Go(func() {
			ts := []string{"20180105120000", "20190210080000", "20210615093000"}[i%3]
			_, err := c.Fetch(t.Context(), ts, "https://example.com/privacy")
			errs <- err
		})
	}
	wg.Go(func() {
		_, err := c.List(t.Context(), "https://example.com/privacy", crawler.ListOptions{})
		errs <- err
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	st := fake.Stats()
	for name, times := range map[string][]time.Time{"playback": st.Playback.Times, "cdx": st.CDX.Times} {
		times = slices.Clone(times)
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		const slack = 50 * time.Millisecond
		for i := range times {
			for j := i + 2; j < len(times); j++ {
				min := time.Duration(float64(j-i-1) / rps * float64(time.Second))
				if got := times[j].Sub(times[i]); got < min-slack {
					t.Errorf("%s: requests %d..%d within %v, the limiter allows no less than %v", name, i, j, got, min)
				}
			}
		}
	}
	if len(st.Playback.Times) != workers || len(st.CDX.Times) < 5 {
		t.Errorf("requests: playback %d, cdx %d", len(st.Playback.Times), len(st.CDX.Times))
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name  string
		cfg   crawler.Config
		field string
	}{
		{"bad base URL", crawler.Config{BaseURL: "ftp://archive"}, "BaseURL"},
		{"negative rate", crawler.Config{PlaybackRate: -1}, "PlaybackRate"},
		{"negative attempts", crawler.Config{MaxAttempts: -2}, "MaxAttempts"},
		{"negative backoff", crawler.Config{BackoffBase: -time.Second}, "BackoffBase"},
		{"multi-line UA", crawler.Config{UserAgent: "a\nb"}, "UserAgent"},
		{"huge body cap", crawler.Config{MaxBodySize: 1 << 40}, "MaxBodySize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := crawler.New(tt.cfg, nil, nil)
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("err = %v, want one naming %s", err, tt.field)
			}
		})
	}
	if _, err := crawler.New(crawler.Config{}, nil, nil); err != nil {
		t.Errorf("zero config: %v", err)
	}
}

// WrapTransport sees every request of both endpoint classes, under the
// transports (timeouts, connection limits) the crawler built itself.
func TestWrapTransport(t *testing.T) {
	srv := newFake(t)
	srv.Add(waybacktest.Capture{Timestamp: "20200101000000", URL: "https://example.com/privacy", Body: []byte("<p>hi</p>")})
	var mu sync.Mutex
	seen := map[string]int{}
	cfg := fastConfig(srv.URL)
	cfg.WrapTransport = func(class string, rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			seen[class]++
			mu.Unlock()
			return rt.RoundTrip(r)
		})
	}
	c, err := crawler.New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := c.List(t.Context(), "https://example.com/privacy", crawler.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(t.Context(), "20200101000000", "https://example.com/privacy"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["cdx"] < 1 || seen["playback"] != 1 {
		t.Fatalf("wrapped requests by class = %v", seen)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
