package store

import (
	"errors"
	"testing"
	"time"

	"github.com/policywatch/policywatch/diffing"
)

// An alert is written with its change or not at all, and keeps its delivery
// id across retries until it is delivered or dead-lettered.
func TestOutbox(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	v, _ := db.EnsureVendor(ctx, "Acme", "https://example.com/privacy")
	record(t, db, v.ID, "20200101000000", []byte("a"), doc("P", "one", ""))
	prev, _, _ := db.VersionBefore(ctx, v.ID, "20200201000000")
	in := RecordInput{
		Capture:       Capture{VendorID: v.ID, Timestamp: "20200201000000", Original: "https://example.com/privacy", Verdict: "ok"},
		Body:          []byte("b"),
		Document:      doc("P", "two", ""),
		PrevVersionID: prev.ID,
		Change:        &diffing.Change{TextChanged: true},
		Alerts:        []Alert{{Channel: "webhook:0", Payload: []byte(`{"a":1}`)}, {Channel: "email", Payload: []byte(`{"a":1}`)}},
	}
	res, err := db.RecordCapture(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Alerts) != 2 || res.Alerts[0].ChangeID != res.Change.ID || res.Alerts[0].DeliveryID == res.Alerts[1].DeliveryID {
		t.Fatalf("alerts = %+v", res.Alerts)
	}
	// A capture without a change writes no alert, whatever it is given.
	in2 := in
	in2.Capture.Timestamp, in2.PrevVersionID, in2.Change = "20200301000000", res.Version.ID, nil
	if r, err := db.RecordCapture(ctx, in2); err != nil || len(r.Alerts) != 0 {
		t.Fatalf("no change, alerts = %v, %v", r, err)
	}

	now := db.Now()
	due, err := db.DueAlerts(ctx, now, 10)
	if err != nil || len(due) != 2 {
		t.Fatalf("due = %v, %v", due, err)
	}
	id, key := due[0].ID, due[0].DeliveryID
	if err := db.MarkFailed(ctx, id, "503 from the receiver", now.Add(time.Minute), false); err != nil {
		t.Fatal(err)
	}
	if due, _ := db.DueAlerts(ctx, now, 10); len(due) != 1 {
		t.Fatalf("a failed alert is due again before its next attempt: %d due", len(due))
	}
	later, _ := db.DueAlerts(ctx, now.Add(2*time.Minute), 10)
	if len(later) != 2 || later[1].ID != id || later[1].DeliveryID != key || later[1].Attempts != 1 || later[1].LastError != "503 from the receiver" {
		t.Fatalf("after the backoff: %+v", later)
	}
	if err := db.MarkFailed(ctx, id, "gave up", now, true); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkDelivered(ctx, due[1].ID); err != nil {
		t.Fatal(err)
	}
	counts, _ := db.AlertCounts(ctx)
	if counts[AlertDead] != 1 || counts[AlertDelivered] != 1 || counts[AlertPending] != 0 {
		t.Fatalf("counts = %v", counts)
	}
	if err := db.RetryAlert(ctx, id); err != nil {
		t.Fatal(err)
	}
	if a, _ := db.Alert(ctx, id); a.State != AlertPending || a.DeliveryID != key {
		t.Fatalf("retried alert = %+v", a)
	}
	if err := db.RetryAlert(ctx, due[1].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("retrying a delivered alert: %v", err)
	}
	test, err := db.EnqueueAlert(ctx, 0, Alert{Channel: "email", Payload: []byte("{}")})
	if err != nil || test.ChangeID != 0 {
		t.Fatalf("test alert = %+v, %v", test, err)
	}
}
