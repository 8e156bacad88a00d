package waybacktest

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Class is an endpoint class of the archive. The real archive rate-limits
// CDX (and timemaps) separately from playback, so faults and statistics are
// kept per class.
type Class int

const (
	// CDX is /cdx/search/cdx.
	CDX Class = iota
	// Playback is /web/<timestamp><flag>/<url>.
	Playback
)

func (c Class) String() string {
	switch c {
	case CDX:
		return "cdx"
	case Playback:
		return "playback"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// Fault is one scripted misbehaviour, applied to one request.
type Fault struct {
	Status     int    // answer this status from the archive itself (429, 500, 502, 503, 504, 400)
	RetryAfter string // with Status 429: the Retry-After header value; "" sends none, as IA does
	Reset      bool   // close the TCP connection (RST) without answering
	Truncate   bool   // serve the real answer but cut the body in half and drop the connection
}

// Predefined faults for Inject.
var (
	Fault429      = Fault{Status: http.StatusTooManyRequests}
	Fault500      = Fault{Status: http.StatusInternalServerError}
	Fault502      = Fault{Status: http.StatusBadGateway}
	Fault503      = Fault{Status: http.StatusServiceUnavailable}
	Fault504      = Fault{Status: http.StatusGatewayTimeout}
	FaultReset    = Fault{Reset: true}
	FaultTruncate = Fault{Truncate: true}
)

// Fault429RetryAfter is a 429 carrying "Retry-After: <seconds>".
func Fault429RetryAfter(seconds int) Fault {
	return Fault{Status: http.StatusTooManyRequests, RetryAfter: strconv.Itoa(seconds)}
}

// Inject queues faults for the next requests of class, one fault per
// request, in order. Requests after the queue is drained are served normally.
func (s *Server) Inject(class Class, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[class] = append(s.faults[class], faults...)
}

// nextFault pops the next scripted fault of class, or makes a 429 when the
// RateLimit knob is exceeded.
func (s *Server) nextFault(class Class) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.faults[class]; len(q) > 0 {
		f := q[0]
		s.faults[class] = q[1:]
		return f, true
	}
	if s.knobs.RateLimit > 0 {
		window := s.knobs.RateWindow
		if window <= 0 {
			window = time.Minute
		}
		since := time.Now().Add(-window)
		n := 0
		for _, t := range s.stats[class].Times {
			if t.After(since) {
				n++
			}
		}
		if n > s.knobs.RateLimit {
			return Fault{Status: http.StatusTooManyRequests, RetryAfter: s.knobs.RetryAfter}, true
		}
	}
	return Fault{}, false
}

// serveFaultStatus answers like the archive's front end does when it is the
// one failing: no Memento-Datetime, an HTML error page.
func serveFaultStatus(w http.ResponseWriter, f Fault) {
	h := w.Header()
	h.Set("Content-Type", "text/html")
	var body string
	if f.Status == http.StatusTooManyRequests {
		if f.RetryAfter != "" {
			h.Set("Retry-After", f.RetryAfter)
		}
		// Body as hand-copied by EDGI in 2020 (wayback-api.md §1).
		body = "<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>"
	} else {
		text := fmt.Sprintf("%d %s", f.Status, http.StatusText(f.Status))
		body = "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text +
			"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(body))
}

// resetConnection drops the connection with an RST, the way an overloaded
// archive or a firewall does.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// truncatingWriter buffers the answer, then sends the headers with the full
// Content-Length and only half of the body before dropping the connection:
// the client sees an unexpected EOF, as with a transfer cut mid-way.
type truncatingWriter struct {
	*recorder
	code int
	buf  []byte
}

func (t *truncatingWriter) WriteHeader(code int) {
	if t.code == 0 {
		t.code = code
	}
}

func (t *truncatingWriter) Write(p []byte) (int, error) {
	if t.code == 0 {
		t.code = http.StatusOK
	}
	t.buf = append(t.buf, p...)
	return len(p), nil
}

func (t *truncatingWriter) Flush() {}

func (t *truncatingWriter) abort() {
	if t.code == 0 {
		t.code = http.StatusOK
	}
	full := len(t.buf)
	if full == 0 {
		full = 16 // promise a body that never comes
	}
	t.recorder.Header().Set("Content-Length", strconv.Itoa(full))
	t.recorder.WriteHeader(t.code)
	_, _ = t.recorder.Write(t.buf[:len(t.buf)/2])
	t.recorder.Flush()
	panic(http.ErrAbortHandler)
}

// Hit is one request as the fake archive saw it.
type Hit struct {
	Time      time.Time // arrival
	URI       string    // request URI as sent
	UserAgent string
	Status    int // status answered; 0 for a reset connection
}

// ClassStats counts the requests of one class.
type ClassStats struct {
	Requests int
	ByStatus map[int]int // status answered → count; 0 counts resets
	Times    []time.Time // arrival times, in arrival order
	Hits     []Hit
}

// Stats holds the counts of every class.
type Stats struct {
	CDX      ClassStats
	Playback ClassStats
}

func newClassStats() *ClassStats { return &ClassStats{ByStatus: map[int]int{}} }

// Stats returns a copy of the request counts, so tests can prove that
// retries happened and that rate limits were respected.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{CDX: s.stats[CDX].clone(), Playback: s.stats[Playback].clone()}
}

// ResetStats forgets every counted request.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = map[Class]*ClassStats{CDX: newClassStats(), Playback: newClassStats()}
}

func (c *ClassStats) clone() ClassStats {
	out := ClassStats{Requests: c.Requests, ByStatus: make(map[int]int, len(c.ByStatus))}
	for k, v := range c.ByStatus {
		out.ByStatus[k] = v
	}
	out.Times = append([]time.Time(nil), c.Times...)
	out.Hits = append([]Hit(nil), c.Hits...)
	return out
}

// begin records the arrival of a request and returns its index.
func (s *Server) begin(class Class, r *http.Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats[class]
	now := time.Now()
	st.Requests++
	st.Times = append(st.Times, now)
	st.Hits = append(st.Hits, Hit{Time: now, URI: r.RequestURI, UserAgent: r.Header.Get("User-Agent")})
	return len(st.Hits) - 1
}

// end records the status a request was answered with.
func (s *Server) end(class Class, hit, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats[class]
	st.ByStatus[status]++
	if hit < len(st.Hits) {
		st.Hits[hit].Status = status
	}
}
