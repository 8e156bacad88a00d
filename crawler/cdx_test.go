package crawler_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/crawler/waybacktest"
)

// policyCaptures are five captures of one page under its http/https/www
// variants, which the archive treats as one urlkey.
func policyCaptures() []waybacktest.Capture {
	return []waybacktest.Capture{
		{Timestamp: "20180105120000", URL: "http://example.com/privacy", Body: []byte("<p>v1</p>")},
		{Timestamp: "20190210080000", URL: "https://www.example.com/privacy", Body: []byte("<p>v2</p>")},
		{Timestamp: "20190305080000", URL: "https://www.example.com/privacy/", Body: []byte("<p>v2</p>")},
		{Timestamp: "20200101000000", URL: "https://example.com/privacy", Status: 301, RedirectTo: "https://example.com/legal/privacy"},
		{Timestamp: "20210615093000", URL: "https://example.com/Privacy", Body: []byte("<p>v3</p>")},
	}
}

func timestamps(cs []crawler.Capture) string {
	var b []string
	for _, c := range cs {
		b = append(b, c.Timestamp)
	}
	return strings.Join(b, ",")
}

const allTS = "20180105120000,20190210080000,20190305080000,20200101000000,20210615093000"

func TestListPaging(t *testing.T) {
	tests := []struct {
		name      string
		knobs     func(k *waybacktest.Knobs)
		pageSize  int
		minPages  int
		wantTS    string
		checkRows func(t *testing.T, cs []crawler.Capture)
	}{
		{name: "opaque keys", knobs: func(k *waybacktest.Knobs) { k.KeyStyle = waybacktest.KeyOpaque }, pageSize: 2, minPages: 3, wantTS: allTS},
		{name: "legacy keys", knobs: func(k *waybacktest.Knobs) { k.KeyStyle = waybacktest.KeyLegacy }, pageSize: 2, minPages: 3, wantTS: allTS},
		{name: "opaque key repeats its row", knobs: func(k *waybacktest.Knobs) { k.RepeatKeyRow = true }, pageSize: 2, minPages: 4, wantTS: allTS},
		{name: "duplicate rows within and across pages", knobs: func(k *waybacktest.Knobs) {
			k.DuplicateRows = 3
			k.RepeatKeyRow = true
		}, pageSize: 4, minPages: 4, wantTS: allTS},
		{name: "server page cap below limit", knobs: func(k *waybacktest.Knobs) { k.PageCap = 1 }, pageSize: 1000, minPages: 5, wantTS: allTS},
		{name: "empty last page", knobs: func(k *waybacktest.Knobs) { k.EmptyLastPage = true }, pageSize: 5, minPages: 2, wantTS: allTS},
		{name: "revisit rows", knobs: func(k *waybacktest.Knobs) { k.Revisits = true }, pageSize: 3, minPages: 2, wantTS: allTS,
			checkRows: func(t *testing.T, cs []crawler.Capture) {
				if !cs[2].IsRevisit() || cs[2].StatusCode != "-" {
					t.Errorf("third capture = %+v, want a revisit with status -", cs[2])
				}
				if cs[1].IsRevisit() || cs[3].StatusCode != "301" {
					t.Errorf("rows = %+v", cs)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t)
			fake.Set(tt.knobs)
			fake.Add(policyCaptures()...)
			cfg := fastConfig(fake.URL)
			cfg.CDXPageSize = tt.pageSize
			c := newClient(t, cfg, nil)

			got, err := c.List(t.Context(), "https://example.com/privacy", crawler.ListOptions{})
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if ts := timestamps(got); ts != tt.wantTS {
				t.Errorf("timestamps = %s, want %s", ts, tt.wantTS)
			}
			for _, c := range got {
				if c.URLKey != "com,example)/privacy" || c.Digest == "" {
					t.Errorf("row %+v: want urlkey com,example)/privacy and a digest", c)
				}
			}
			if tt.checkRows != nil {
				tt.checkRows(t, got)
			}
			st := fake.Stats().CDX
			if st.Requests < tt.minPages {
				t.Errorf("cdx requests = %d, want at least %d pages", st.Requests, tt.minPages)
			}
			for _, h := range st.Hits {
				for _, p := range []string{"matchType=exact", "output=json", "showResumeKey=true", "fl=urlkey%2C", fmt.Sprintf("limit=%d", tt.pageSize)} {
					if !strings.Contains(h.URI, p) {
						t.Errorf("request %s lacks %s", h.URI, p)
					}
				}
				if h.UserAgent != crawler.DefaultUserAgent {
					t.Errorf("User-Agent = %q", h.UserAgent)
				}
			}
		})
	}
}

func TestListFromTo(t *testing.T) {
	fake := newFake(t)
	fake.Add(policyCaptures()...)
	c := newClient(t, fastConfig(fake.URL), nil)
	tests := []struct {
		from, to, want string
	}{
		{"2019", "2019", "20190210080000,20190305080000"},
		{"201902", "", "20190210080000,20190305080000,20200101000000,20210615093000"},
		{"", "20190210080000", "20180105120000,20190210080000"},
		{"2022", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.from+"-"+tt.to, func(t *testing.T) {
			got, err := c.List(t.Context(), "http://www.example.com/privacy", crawler.ListOptions{From: tt.from, To: tt.to})
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if ts := timestamps(got); ts != tt.want {
				t.Errorf("timestamps = %s, want %s", ts, tt.want)
			}
		})
	}
	if _, err := c.List(t.Context(), "http://example.com/", crawler.ListOptions{From: "2019-01"}); err == nil {
		t.Error("List with From 2019-01: want a validation error")
	}
}

func TestListQueryStringURL(t *testing.T) {
	fake := newFake(t)
	fake.Add(
		waybacktest.Capture{Timestamp: "20200101000000", URL: "https://example.com/privacy?lang=en&v=2", Body: []byte("en")},
		waybacktest.Capture{Timestamp: "20200102000000", URL: "https://example.com/privacy?lang=de", Body: []byte("de")},
	)
	c := newClient(t, fastConfig(fake.URL), nil)
	got, err := c.List(t.Context(), "https://example.com/privacy?v=2&lang=en", crawler.ListOptions{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(got) != 1 || got[0].Original != "https://example.com/privacy?lang=en&v=2" {
		t.Errorf("got %+v, want only the ?lang=en&v=2 capture", got)
	}
}

func TestListEmptyAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"json empty array": "[]",
		"empty body":       "",
		"header row only":  `[["urlkey","timestamp","original","mimetype","statuscode","digest","length"]]`,
		"whitespace":       "\n",
	} {
		t.Run(name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
			c := newClient(t, fastConfig(srv.URL), nil)
			got, err := c.List(t.Context(), "https://example.com/", crawler.ListOptions{})
			if err != nil || len(got) != 0 {
				t.Errorf("List = %v, %v; want no captures and no error", got, err)
			}
		})
	}
}

func TestListKeyCycleGuard(t *testing.T) {
	var n atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		fmt.Fprintf(w, "[[\"urlkey\",\"timestamp\",\"original\",\"mimetype\",\"statuscode\",\"digest\",\"length\"],\n"+
			"[\"com,example)/\",\"2020010100000%d\",\"https://example.com/\",\"text/html\",\"200\",\"X\",\"1\"],\n[],\n[\"SAMEKEY\"]]", n.Load()%10)
	})
	c := newClient(t, fastConfig(srv.URL), nil)
	_, err := c.List(t.Context(), "https://example.com/", crawler.ListOptions{})
	if !errors.Is(err, crawler.ErrPaging) {
		t.Fatalf("err = %v, want ErrPaging", err)
	}
	if n.Load() > 3 {
		t.Errorf("%d requests, want the cycle noticed on the second key", n.Load())
	}

	// Fresh keys forever stop at the page cap.
	srv2 := serve(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		fmt.Fprintf(w, "[[\"urlkey\"],[],[\"key%d\"]]", n.Load())
	})
	cfg := fastConfig(srv2.URL)
	cfg.CDXMaxPages = 7
	c2 := newClient(t, cfg, nil)
	n.Store(0)
	if _, err := c2.List(t.Context(), "https://example.com/", crawler.ListOptions{}); !errors.Is(err, crawler.ErrPaging) {
		t.Fatalf("err = %v, want ErrPaging", err)
	}
	if n.Load() != 7 {
		t.Errorf("%d requests, want 7 (CDXMaxPages)", n.Load())
	}
}

// TestListRecordedShapes replays hand-made copies of recorded CDX pages.
func TestListRecordedShapes(t *testing.T) {
	tests := []struct {
		name  string
		pages []string
		want  string
		check func(t *testing.T, cs []crawler.Capture)
	}{
		{
			name:  "text with legacy key, duplicates and malformed rows",
			pages: []string{"cdx-page1.txt", "cdx-page2.txt"},
			want:  "20010012170449,20010410213930,20010411045522,20010414005939,20010503212611,20010503212618,20010509235544",
			check: func(t *testing.T, cs []crawler.Capture) {
				if cs[5].StatusCode != "-" || !cs[5].IsRevisit() || cs[6].Length != "-" {
					t.Errorf("revisit/length rows: %+v %+v", cs[5], cs[6])
				}
			},
		},
		{
			name:  "json with opaque key",
			pages: []string{"cdx-opaque.json", "cdx-opaque-last.json"},
			want:  "19961231235847,19970605230559,20040905075719,20041005012417,20041105012417",
			check: func(t *testing.T, cs []crawler.Capture) {
				if cs[3].StatusCode != "301" || cs[3].Length != "-" || !cs[4].IsRevisit() {
					t.Errorf("rows: %+v", cs[3:])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pages [][]byte
			for _, p := range tt.pages {
				b, err := os.ReadFile(filepath.Join("..", "testdata", "wayback", p))
				if err != nil {
					t.Fatal(err)
				}
				pages = append(pages, b)
			}
			var n atomic.Int32
			var keys []string
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				i := int(n.Add(1)) - 1
				keys = append(keys, r.URL.Query().Get("resumeKey"))
				if i >= len(pages) {
					http.Error(w, "no more pages", http.StatusInternalServerError)
					return
				}
				_, _ = w.Write(pages[i])
			})
			c := newClient(t, fastConfig(srv.URL), nil)
			got, err := c.List(t.Context(), "https://example.com/", crawler.ListOptions{})
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if ts := timestamps(got); ts != tt.want {
				t.Errorf("timestamps = %s\nwant         %s", ts, tt.want)
			}
			tt.check(t, got)
			if int(n.Load()) != len(pages) {
				t.Errorf("%d requests, want %d", n.Load(), len(pages))
			}
			// The key goes back exactly as received.
			if strings.HasSuffix(tt.pages[0], ".txt") && keys[1] != "com%2Ccnn%29%2F+2001041400593%3A" {
				t.Errorf("resumeKey sent = %q", keys[1])
			}
		})
	}
}

func TestListArchiveErrors(t *testing.T) {
	t.Run("blocked site", func(t *testing.T) {
		fake := newFake(t)
		fake.Add(policyCaptures()...)
		fake.Set(func(k *waybacktest.Knobs) { k.Excluded = []string{"example.com"} })
		c := newClient(t, fastConfig(fake.URL), nil)
		_, err := c.List(t.Context(), "https://www.example.com/privacy", crawler.ListOptions{})
		if !errors.Is(err, crawler.ErrBlocked) || !strings.Contains(err.Error(), "https://www.example.com/privacy") {
			t.Fatalf("err = %v, want ErrBlocked naming the URL", err)
		}
		if n := fake.Stats().CDX.Requests; n != 1 {
			t.Errorf("%d requests, want 1 (403 is not retried)", n)
		}
	})
	t.Run("faults are retried", func(t *testing.T) {
		fake := newFake(t)
		fake.Add(policyCaptures()...)
		fake.Inject(waybacktest.CDX, waybacktest.Fault503, waybacktest.FaultReset, waybacktest.Fault429, waybacktest.FaultTruncate, waybacktest.Fault504)
		cfg := fastConfig(fake.URL)
		cfg.CDXPageSize = 1000
		c := newClient(t, cfg, nil)
		got, err := c.List(t.Context(), "https://example.com/privacy", crawler.ListOptions{})
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if ts := timestamps(got); ts != allTS {
			t.Errorf("timestamps = %s", ts)
		}
		st := fake.Stats().CDX
		if st.ByStatus[200] < 1 || st.ByStatus[503] != 1 || st.ByStatus[429] != 1 || st.ByStatus[504] != 1 {
			t.Errorf("stats = %+v", st.ByStatus)
		}
	})
	t.Run("persistent 5xx", func(t *testing.T) {
		fake := newFake(t)
		fake.Inject(waybacktest.CDX, waybacktest.Fault502, waybacktest.Fault502, waybacktest.Fault502, waybacktest.Fault502)
		c := newClient(t, fastConfig(fake.URL), nil)
		_, err := c.List(t.Context(), "https://example.com/privacy", crawler.ListOptions{})
		if !errors.Is(err, crawler.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
		if n := fake.Stats().CDX.Requests; n != 4 {
			t.Errorf("%d requests, want MaxAttempts=4", n)
		}
	})
}
