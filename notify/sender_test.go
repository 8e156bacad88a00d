package notify

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/policywatch/policywatch/store"
)

// Several alerts on two webhooks, a receiver that fails at first, and a
// restart in the middle (a new Sender over the reopened file): every alert
// reaches each channel exactly once as the receiver counts it, de-duplicating
// on delivery id, because all state is in the database.
func TestSenderRestartExactlyOnce(t *testing.T) {
	c := newClock()
	path := filepath.Join(t.TempDir(), "pw.db")
	fail := map[int]bool{1: true, 2: true, 5: true}
	rcvA := newReceiver(t, func(n int) int {
		if fail[n] {
			return 503
		}
		return 200
	})
	rcvB := newReceiver(t, func(n int) int { return 200 })
	cfg := Config{
		Webhooks:     []WebhookConfig{{URL: rcvA.srv.URL, Secret: hookSecret}, {URL: rcvB.srv.URL, Secret: hookSecret}},
		MaxAttempts:  8,
		RetryBackoff: time.Second,
		MaxBackoff:   time.Minute,
		Timeout:      2 * time.Second,
	}
	db := openDB(t, path, c)
	const n = 6
	want := map[string]map[string]bool{"webhook:0": {}, "webhook:1": {}}
	for i := range n {
		r := SampleReport()
		r.Vendor = string(rune('A' + i))
		for _, ch := range []string{"webhook:0", "webhook:1"} {
			want[ch][enqueue(t, db, ch, r).DeliveryID] = true
		}
	}
	s1 := newSender(t, cfg, db, c, nil)
	sent, failed, err := s1.DrainOnce(t.Context())
	if err != nil || sent+failed != 2*n || failed != 3 {
		t.Fatalf("first drain = %d sent, %d failed, %v", sent, failed, err)
	}
	db.Close() // the process stops

	c.Add(10 * time.Minute)
	db2 := openDB(t, path, c)
	s2 := newSender(t, cfg, db2, c, nil)
	for range 3 {
		if _, _, err := s2.DrainOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		c.Add(10 * time.Minute)
	}
	for ch, rcv := range map[string]*receiver{"webhook:0": rcvA, "webhook:1": rcvB} {
		_, delivered, badSig := rcv.snapshot()
		if badSig != 0 {
			t.Errorf("%s: %d bad signatures", ch, badSig)
		}
		if len(delivered) != n {
			t.Errorf("%s: %d distinct deliveries, want %d", ch, len(delivered), n)
		}
		for id, times := range delivered {
			if !want[ch][id] || times != 1 {
				t.Errorf("%s: delivery %s accepted %d times (expected id: %v)", ch, id, times, want[ch][id])
			}
		}
	}
	counts, err := db2.AlertCounts(t.Context())
	if err != nil || counts[store.AlertDelivered] != 2*n || counts[store.AlertPending] != 0 {
		t.Fatalf("counts = %v, %v", counts, err)
	}
}

// Backoff doubles from the base, stays within its jitter band and is
// capped.
func TestBackoff(t *testing.T) {
	s := &Sender{cfg: Config{RetryBackoff: 10 * time.Second, MaxBackoff: time.Minute}}
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 5 * time.Second, 10 * time.Second},
		{2, 10 * time.Second, 20 * time.Second},
		{3, 20 * time.Second, 40 * time.Second},
		{4, 30 * time.Second, time.Minute},
		{20, 30 * time.Second, time.Minute},
	}
	for _, tt := range tests {
		t.Run(time.Duration(tt.attempt).String(), func(t *testing.T) {
			for range 50 {
				if d := s.backoff(tt.attempt); d < tt.min || d > tt.max {
					t.Fatalf("backoff(%d) = %v, want in [%v, %v]", tt.attempt, d, tt.min, tt.max)
				}
			}
		})
	}
}

// An alert whose channel is no longer configured, or whose payload is not a
// report, is dead-lettered with a reason instead of retried forever.
func TestUndeliverable(t *testing.T) {
	c := newClock()
	db := openDB(t, "", c)
	s := newSender(t, Config{}, db, c, nil)
	gone := enqueue(t, db, "webhook:3", SampleReport())
	bad, err := db.EnqueueAlert(t.Context(), 0, store.Alert{Channel: "webhook:3", Payload: []byte(`[1,2]`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, failed, err := s.DrainOnce(t.Context()); err != nil || failed != 2 {
		t.Fatalf("drain = %d failed, %v", failed, err)
	}
	for _, id := range []int64{gone.ID, bad.ID} {
		if it := alertState(t, db, id); it.State != store.AlertDead || it.LastError == "" {
			t.Errorf("alert %d = %s %q", id, it.State, it.LastError)
		}
	}
}
