package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/notify"
)

// TestFetchDeliversSignedWebhook follows an operator: a webhook is
// configured, a vendor's policy changes, `fetch` records the change and
// delivers one signed alert; the receiver fails the first attempt, the next
// fetch delivers it again with the same delivery id, and a fetch with
// nothing new sends nothing more.
func TestFetchDeliversSignedWebhook(t *testing.T) {
	const secret = "s3cret-for-tests"
	var mu sync.Mutex
	var deliveries []string
	var got []notify.Envelope
	fail := 1
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !notify.Verify([]byte(secret), body, r.Header.Get("X-Policywatch-Signature-256")) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		deliveries = append(deliveries, r.Header.Get("X-Policywatch-Delivery"))
		if fail > 0 {
			fail--
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		var env notify.Envelope
		if err := json.Unmarshal(body, &env); err != nil {
			t.Errorf("webhook body is not an envelope: %v", err)
		}
		got = append(got, env)
	}))
	defer recv.Close()

	archive := waybacktest.New()
	defer archive.Close()
	archive.Add(acme("20210922174411", "acme-2021.html"))
	e := newEnv(t, archive.URL)
	cfg, _ := os.ReadFile(e.config)
	cfg = append(cfg, []byte(fmt.Sprintf("alerts:\n  retry_backoff: 1ms\n  webhooks:\n    - url: %s\n      secret: %s\n      format: json\n", recv.URL, secret))...)
	os.WriteFile(e.config, cfg, 0o644)

	e.mustRun("fetch")
	archive.Add(acme("20220701120505", "acme-2022.html"))
	e.mustRun("fetch") // the change; its first delivery gets a 503
	e.mustRun("fetch") // nothing new; the queued alert is retried and delivered
	e.mustRun("fetch") // nothing new, nothing left to send

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || len(deliveries) != 2 || deliveries[0] != deliveries[1] || got[0].DeliveryID != deliveries[0] {
		t.Fatalf("deliveries %q, accepted %d: want one alert, retried once with the same delivery id", deliveries, len(got))
	}
	var rep diffing.Report
	if err := json.Unmarshal(got[0].Report, &rep); err != nil {
		t.Fatal(err)
	}
	if got[0].Event != "policy.changed" || rep.Vendor != "Acme Cloud" || rep.Window == nil || rep.Old.StatedDate != "2021-03-03" ||
		rep.New.StatedDate != "2022-06-14" || len(rep.Change.Clauses) == 0 {
		t.Fatalf("alert = %+v, report = %+v", got[0], rep)
	}
}
