package waybacktest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"encoding/base32"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Capture is one archived response as the fake archive stores it.
type Capture struct {
	Timestamp  string      // 14 digits, UTC
	URL        string      // original URL as captured (http/https/www variants of one page share a urlkey)
	Status     int         // archived status, default 200
	MimeType   string      // CDX mimetype, default from Header Content-Type or "text/html"
	Header     http.Header // archived response headers; Content-Type passes through unprefixed, others are served as X-Archive-Orig-*
	Body       []byte
	RedirectTo string // for 3xx captures: the target original URL
}

// KeyStyle selects how CDX resume keys look.
type KeyStyle int

const (
	// KeyOpaque issues 2026-style keys: base64url of zlib-compressed
	// "urlkey timestamp original" naming the last row returned
	// (fx:edgi-wayback/docs_tutorial/00).
	KeyOpaque KeyStyle = iota
	// KeyLegacy issues 2018–2023-style keys: the query-escaped urlkey, "+",
	// and the last timestamp with its final digit incremented
	// (fx:edgi-wayback/test_search_multipage/00).
	KeyLegacy
)

// LocationStyle selects how the Location of a captured redirect is written.
type LocationStyle int

const (
	// LocationAbsolute writes "http://host/web/<ts>id_/<target>"
	// (fx:edgi-wayback/test_get_memento_with_redirects/00).
	LocationAbsolute LocationStyle = iota
	// LocationPath writes "/web/<ts>id_/<target>"
	// (fx:edgi-wayback/test_get_memento_with_path_based_redirects/00).
	LocationPath
	// LocationSchemeRelative writes "//host/web/<ts>id_/<target>"
	// (fx:edgi-wayback/test_get_memento_with_schemeless_redirects/00).
	LocationSchemeRelative
)

// Knobs are the behaviour switches of the fake archive. Change them with
// Server.Set; doc.go says which real behaviour each one reproduces.
type Knobs struct {
	DuplicateRows  int           // every CDX row is repeated this many times (0 and 1 mean once)
	PageCap        int           // server-side cap on CDX rows per response; a resume key still follows
	EmptyLastPage  bool          // give a resume key on the last non-empty page too, so the final page is an empty 200
	KeyStyle       KeyStyle      // resume key format
	RepeatKeyRow   bool          // with KeyOpaque, the next page starts again with the row the key names
	Revisits       bool          // a capture whose body equals the previous capture's is listed as warc/revisit with status "-"
	GzipBodies     bool          // mementos are sent with Content-Encoding: gzip when the client accepts it
	DoubleGzip     bool          // mementos are gzip bytes sent with an empty content-encoding header before "gzip"
	LowercaseNames bool          // 2023+ header name case: memento-datetime, link, x-archive-orig-*
	LocationStyle  LocationStyle // form of the rewritten Location of captured redirects
	Excluded       []string      // hosts (any form, "www." ignored) the archive refuses to show
	Excluded403    bool          // excluded playback answers the 2016-style 403 instead of the 2020 200 page
	Latency        time.Duration // added before every answer
	RateLimit      int           // answer 429 once a class has had this many requests inside RateWindow (0: off)
	RateWindow     time.Duration // window for RateLimit, default 1 minute
	RetryAfter     string        // Retry-After value sent with RateLimit 429s ("" sends none, as IA does)
}

// Server is a fake Wayback Machine: CDX search and raw playback over a store
// of captures, with switches for the archive's quirks and scripted faults.
// All methods are safe for concurrent use, also while requests are served.
type Server struct {
	// URL is the base URL of the started server, e.g. "http://127.0.0.1:41234";
	// pass it as crawler.Config.BaseURL. It is empty for NewUnstarted.
	URL string

	ts *httptest.Server

	mu       sync.Mutex
	captures map[string][]*stored // by urlkey, sorted by timestamp then original
	knobs    Knobs
	faults   map[Class][]Fault
	stats    map[Class]*ClassStats
}

// stored is a capture with the values the archive derives from it.
type stored struct {
	Capture
	key    string
	digest string
	length string
}

// New returns a fake archive already listening on 127.0.0.1. Close it when done.
func New() *Server {
	s := NewUnstarted()
	s.ts = httptest.NewServer(s.Handler())
	s.URL = s.ts.URL
	return s
}

// NewUnstarted returns a fake archive that does not listen anywhere; serve
// Handler on a listener of your choice (the demo command does this to replay
// archived pages offline). Absolute URLs it writes use the request's Host.
func NewUnstarted() *Server {
	return &Server{
		captures: make(map[string][]*stored),
		faults:   make(map[Class][]Fault),
		stats:    map[Class]*ClassStats{CDX: newClassStats(), Playback: newClassStats()},
	}
}

// Close shuts the server down if New started it.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// Set changes the knobs under the server's lock.
func (s *Server) Set(f func(k *Knobs)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.knobs)
}

// Knobs returns a copy of the current knobs.
func (s *Server) Knobs() Knobs {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.knobs
	k.Excluded = append([]string(nil), k.Excluded...)
	return k
}

var tsPattern = regexp.MustCompile(`^\d{14}$`)

// Add stores captures. New captures appear in later CDX queries and
// playbacks. It panics on a capture without a 14-digit timestamp or a URL,
// because such a fixture is a bug in the test that builds it.
func (s *Server) Add(cs ...Capture) {
	prepared := make([]*stored, 0, len(cs))
	for _, c := range cs {
		if !tsPattern.MatchString(c.Timestamp) {
			panic(fmt.Sprintf("waybacktest: Add: capture of %q: timestamp %q is not 14 digits", c.URL, c.Timestamp))
		}
		if c.URL == "" {
			panic("waybacktest: Add: capture without URL")
		}
		if c.Status == 0 {
			c.Status = http.StatusOK
		}
		c.Header = c.Header.Clone()
		if c.Header == nil {
			c.Header = http.Header{}
		}
		if c.MimeType == "" {
			c.MimeType = mimeOf(c.Header.Get("Content-Type"))
		}
		c.Body = bytes.Clone(c.Body)
		sum := sha1.Sum(c.Body)
		prepared = append(prepared, &stored{
			Capture: c,
			key:     URLKey(c.URL),
			digest:  base32.StdEncoding.EncodeToString(sum[:]),
			length:  strconv.Itoa(recordLength(c.Body)),
		})
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range prepared {
		list := append(s.captures[st.key], st)
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].Timestamp != list[j].Timestamp {
				return list[i].Timestamp < list[j].Timestamp
			}
			return list[i].URL < list[j].URL
		})
		s.captures[st.key] = list
	}
}

func mimeOf(contentType string) string {
	if contentType == "" {
		return "text/html"
	}
	m, _, _ := strings.Cut(contentType, ";")
	return strings.ToLower(strings.TrimSpace(m))
}

// recordLength imitates the CDX length column, the size of the compressed
// WARC record rather than of the body (wayback-api.md §1).
func recordLength(body []byte) int {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(body)
	_ = zw.Close()
	return buf.Len() + 400
}

// Handler returns the archive's HTTP handler. It does not use http.ServeMux
// for /web/ because ServeMux cleans paths containing "//", which every
// playback URL has (wayback-api.md §3).
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	var class Class
	switch {
	case r.URL.Path == "/cdx/search/cdx":
		class = CDX
	case strings.HasPrefix(r.URL.Path, "/web/"):
		class = Playback
	default:
		http.NotFound(w, r)
		return
	}

	rec := &recorder{ResponseWriter: w}
	hit := s.begin(class, r)
	defer func() { s.end(class, hit, rec.status) }()

	if lat := s.Knobs().Latency; lat > 0 {
		select {
		case <-time.After(lat):
		case <-r.Context().Done():
			return
		}
	}
	// IA answered 400 to a request without User-Agent (hahwul/urx PR #264).
	if r.Header.Get("User-Agent") == "" {
		rec.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rec.WriteHeader(http.StatusBadRequest)
		_, _ = rec.Write([]byte("Bad Request: a User-Agent header is required\n"))
		return
	}

	fault, ok := s.nextFault(class)
	if ok && fault.Status != 0 {
		serveFaultStatus(rec, fault)
		return
	}
	if ok && fault.Reset {
		rec.status = 0
		resetConnection(w)
		return
	}
	var out http.ResponseWriter = rec
	if ok && fault.Truncate {
		tw := &truncatingWriter{recorder: rec}
		defer tw.abort()
		out = tw
	}

	switch class {
	case CDX:
		s.serveCDX(out, r)
	case Playback:
		s.servePlayback(out, r)
	}
}

// recorder remembers the status written, for Stats.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// baseURL is the archive's own base URL as the client addressed it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// setHeader sets a header with the name case the knobs ask for. Go's client
// canonicalises names, so only raw-wire readers see the difference, but it
// keeps the fake honest about the 2023+ lowercase names.
func setHeader(h http.Header, lower bool, name, value string) {
	if lower {
		h[strings.ToLower(name)] = append(h[strings.ToLower(name)], value)
		return
	}
	h.Add(name, value)
}
