package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/policywatch/policywatch/store"
)

const hookSecret = "whsec-TOPSECRET-1234"

// receiver is an httptest webhook receiver that verifies signatures, records
// delivery ids and answers with the status its script says.
type receiver struct {
	mu        sync.Mutex
	srv       *httptest.Server
	status    func(n int) int // status for the n-th request (1-based)
	delay     func(n int) time.Duration
	n         int
	delivered map[string]int // delivery id → successful deliveries
	ids       []string       // delivery ids of every request, in order
	bodies    [][]byte
	headers   []http.Header
	badSig    int
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	r := &receiver{status: status, delivered: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.n++
		n := r.n
		id := req.Header.Get(HeaderDelivery)
		r.ids = append(r.ids, id)
		r.bodies = append(r.bodies, body)
		r.headers = append(r.headers, req.Header.Clone())
		if !Verify([]byte(hookSecret), body, req.Header.Get(HeaderSignature)) {
			r.badSig++
		}
		r.mu.Unlock()
		if r.delay != nil {
			select {
			case <-time.After(r.delay(n)):
			case <-req.Context().Done():
				return
			}
		}
		code := r.status(n)
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "120")
		}
		if code >= 200 && code < 300 {
			r.mu.Lock()
			r.delivered[id]++
			r.mu.Unlock()
		}
		w.WriteHeader(code)
		io.WriteString(w, http.StatusText(code))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) snapshot() (ids []string, delivered map[string]int, badSig int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := map[string]int{}
	for k, v := range r.delivered {
		d[k] = v
	}
	return append([]string(nil), r.ids...), d, r.badSig
}

func hookConfig(url, format string) Config {
	return Config{
		Webhooks:     []WebhookConfig{{URL: url + "/T000/SECRETPATH", Secret: hookSecret, Format: format, Headers: map[string]Secret{"Authorization": "Bearer tok-TOPSECRET"}}},
		MaxAttempts:  4,
		RetryBackoff: time.Second,
		MaxBackoff:   time.Minute,
		Timeout:      300 * time.Millisecond,
	}
}

// The receiver's view of retries: failed deliveries (503, a timeout, 429)
// come back with the same delivery id and signature until one succeeds;
// a 400 dead-letters at once; too many failures dead-letter too. Neither
// logs nor stored reasons show a secret.
func TestWebhookDelivery(t *testing.T) {
	tests := []struct {
		name      string
		status    func(n int) int
		delay     func(n int) time.Duration
		wantState string
		wantReqs  int
		wantError string // in last_error
	}{
		{"ok first time", func(int) int { return 204 }, nil, store.AlertDelivered, 1, ""},
		{"503 twice then ok", func(n int) int { return map[bool]int{true: 503, false: 200}[n <= 2] }, nil, store.AlertDelivered, 3, ""},
		{"slow twice then ok", func(int) int { return 200 }, func(n int) time.Duration {
			return map[bool]time.Duration{true: 2 * time.Second, false: 0}[n <= 2]
		}, store.AlertDelivered, 3, ""},
		{"408 and 429 are retried", func(n int) int { return map[int]int{1: 408, 2: 429}[n] + map[bool]int{true: 200}[n > 2] }, nil, store.AlertDelivered, 3, ""},
		{"400 is dead at once", func(int) int { return 400 }, nil, store.AlertDead, 1, "HTTP 400"},
		{"410 is dead at once", func(int) int { return 410 }, nil, store.AlertDead, 1, "HTTP 410"},
		{"503 forever is dead after max attempts", func(int) int { return 503 }, nil, store.AlertDead, 4, "HTTP 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			db := openDB(t, "", c)
			rcv := newReceiver(t, tt.status)
			rcv.delay = tt.delay
			var logs logBuffer
			s := newSender(t, hookConfig(rcv.srv.URL, FormatJSON), db, c, &logs)
			var outcomes []string
			s.Observe(func(ch, o string) { outcomes = append(outcomes, ch+"="+o) })
			it := enqueue(t, db, "webhook:0", SampleReport())
			for range 10 {
				if _, _, err := s.DrainOnce(t.Context()); err != nil {
					t.Fatal(err)
				}
				c.Add(3 * time.Minute) // past any backoff and Retry-After
			}
			got := alertState(t, db, it.ID)
			ids, delivered, badSig := rcv.snapshot()
			if got.State != tt.wantState || len(ids) != tt.wantReqs {
				t.Fatalf("state %s after %d requests, want %s after %d (last error %q)", got.State, len(ids), tt.wantState, tt.wantReqs, got.LastError)
			}
			if got.Attempts != tt.wantReqs || len(outcomes) != tt.wantReqs {
				t.Errorf("attempts %d, outcomes %v, want %d", got.Attempts, outcomes, tt.wantReqs)
			}
			for _, id := range ids {
				if id != it.DeliveryID {
					t.Errorf("delivery id %q, want %q on every retry", id, it.DeliveryID)
				}
			}
			if badSig != 0 {
				t.Errorf("%d requests with a bad signature", badSig)
			}
			if tt.wantState == store.AlertDelivered && delivered[it.DeliveryID] != 1 {
				t.Errorf("delivered %d times", delivered[it.DeliveryID])
			}
			if !strings.Contains(got.LastError, tt.wantError) {
				t.Errorf("last error %q, want %q", got.LastError, tt.wantError)
			}
			for _, where := range []string{got.LastError, logs.String()} {
				for _, secret := range []string{"TOPSECRET", "SECRETPATH"} {
					if strings.Contains(where, secret) {
						t.Errorf("a secret leaked: %s", where)
					}
				}
			}
		})
	}
}

// A 429's Retry-After is honoured even when the backoff is shorter.
func TestWebhookRetryAfter(t *testing.T) {
	c := newClock()
	db := openDB(t, "", c)
	rcv := newReceiver(t, func(n int) int { return map[bool]int{true: 429, false: 200}[n == 1] })
	s := newSender(t, hookConfig(rcv.srv.URL, FormatJSON), db, c, nil)
	it := enqueue(t, db, "webhook:0", SampleReport())
	if sent, failed, err := s.DrainOnce(t.Context()); err != nil || sent != 0 || failed != 1 {
		t.Fatalf("drain = %d, %d, %v", sent, failed, err)
	}
	got := alertState(t, db, it.ID)
	if d := got.NextAttemptAt.Sub(c.Now()); d < 120*time.Second {
		t.Fatalf("next attempt in %v, want at least the Retry-After of 120s", d)
	}
	c.Add(time.Minute)
	if sent, _, _ := s.DrainOnce(t.Context()); sent != 0 {
		t.Fatal("retried before Retry-After")
	}
	c.Add(2 * time.Minute)
	if sent, _, _ := s.DrainOnce(t.Context()); sent != 1 {
		t.Fatal("not retried after Retry-After")
	}
}

// The JSON envelope carries the report and what a receiver de-duplicates
// on; headers name the event and the delivery; custom headers are sent.
func TestWebhookEnvelope(t *testing.T) {
	c := newClock()
	db := openDB(t, "", c)
	rcv := newReceiver(t, func(int) int { return 200 })
	s := newSender(t, hookConfig(rcv.srv.URL, FormatJSON), db, c, nil)
	it := enqueue(t, db, "webhook:0", SampleReport())
	if _, _, err := s.DrainOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	var env struct {
		Envelope
		Report struct {
			Vendor string `json:"vendor"`
			Old    struct {
				WaybackURL string `json:"wayback_url"`
				StatedDate string `json:"stated_date"`
			} `json:"old"`
			Change struct {
				Kinds []string `json:"kinds"`
			} `json:"change"`
		} `json:"report"`
	}
	if err := json.Unmarshal(rcv.bodies[0], &env); err != nil {
		t.Fatal(err)
	}
	h := rcv.headers[0]
	if env.Version != 1 || env.Event != EventTest || env.DeliveryID != it.DeliveryID || env.Channel != "webhook:0" ||
		env.Report.Vendor != "Example Vendor (test)" || env.Report.Old.StatedDate != "2023-11-02" ||
		!strings.HasPrefix(env.Report.Old.WaybackURL, "https://web.archive.org/web/20240110093000id_/") || env.Report.Change.Kinds[0] != "silent" {
		t.Errorf("envelope = %+v", env)
	}
	if h.Get(HeaderEvent) != EventTest || h.Get("Authorization") != "Bearer tok-TOPSECRET" || h.Get("Content-Type") != "application/json" ||
		!strings.HasPrefix(h.Get(HeaderSignature), "sha256=") {
		t.Errorf("headers = %v", h)
	}
	real := &store.OutboxItem{ChangeID: 7, DeliveryID: "pwd_x", Channel: "webhook:0"}
	if (alert{item: real}).event() != EventPolicyChanged {
		t.Error("a change's alert is not a policy.changed event")
	}
}

// Slack payloads carry text and blocks, with Slack's <, > and & escaped so
// archived text cannot make links or mentions.
func TestWebhookSlack(t *testing.T) {
	c := newClock()
	db := openDB(t, "", c)
	rcv := newReceiver(t, func(int) int { return 200 })
	s := newSender(t, hookConfig(rcv.srv.URL, FormatSlack), db, c, nil)
	r := SampleReport()
	r.Vendor = "Evil <!channel> & <https://evil.example|click>"
	r.Change.Clauses[1].New = "Share with <@U123> & partners > all"
	enqueue(t, db, "webhook:0", r)
	if _, _, err := s.DrainOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(rcv.bodies[0], &msg); err != nil {
		t.Fatal(err)
	}
	if len(msg.Blocks) < 3 || !strings.Contains(msg.Text, "Evil &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;") {
		t.Fatalf("slack message = %+v", msg)
	}
	all := msg.Text
	for _, b := range msg.Blocks {
		all += b.Text.Text
	}
	for _, bad := range []string{"<!channel>", "<@U123>", "<https://evil"} {
		if strings.Contains(all, bad) {
			t.Errorf("unescaped %q in %s", bad, all)
		}
	}
	if !strings.Contains(all, "Share with &lt;@U123&gt; &amp; partners &gt; all") || !strings.Contains(all, "<https://web.archive.org/web/20240110093000id_/https://example.com/privacy|20240110093000>") {
		t.Errorf("slack blocks = %s", all)
	}
}
