package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/store"
)

// SampleReport is the report a test alert carries: a made-up vendor whose
// policy changed silently in two clauses, with both versions' Wayback links
// and stated dates, so a test shows every part of a real alert.
func SampleReport() diffing.Report {
	const base = "https://web.archive.org/web/"
	const page = "https://example.com/privacy"
	return diffing.Report{
		SchemaVersion: diffing.ReportSchemaVersion,
		Vendor:        "Example Vendor (test)",
		URL:           page,
		Old:           diffing.Side{Timestamp: "20240110093000", WaybackURL: base + "20240110093000id_/" + page, StatedDate: "2023-11-02"},
		New:           diffing.Side{Timestamp: "20240312141500", WaybackURL: base + "20240312141500id_/" + page, StatedDate: "2023-11-02"},
		Window: &diffing.Window{
			LastOld:  diffing.CaptureRef{Timestamp: "20240301080000", WaybackURL: base + "20240301080000id_/" + page},
			FirstNew: diffing.CaptureRef{Timestamp: "20240312141500", WaybackURL: base + "20240312141500id_/" + page},
		},
		Change: diffing.Change{
			TextChanged: true, OldDate: "2023-11-02", NewDate: "2023-11-02",
			Kinds:    []string{diffing.KindSilent},
			Severity: diffing.Severity{Score: 9, Level: diffing.LevelMedium, Reasons: []string{`retention: "30 days" → "90 days" in 4 Data storage › 4.1`}},
			Stats:    diffing.Stats{Identical: 12, Modified: 1, Added: 1},
			Clauses: []diffing.ClauseChange{
				{Op: diffing.OpModified, Path: "4 Data storage › 4.1", Label: "4.1",
					Old: "We keep your data for 30 days.", New: "We keep your data for 90 days.",
					Words: []diffing.WordOp{{Op: "=", Text: "We keep your data for "}, {Op: "-", Text: "30"}, {Op: "+", Text: "90"}, {Op: "=", Text: " days."}},
					Terms: []string{"retention"}},
				{Op: diffing.OpAdded, Path: "5 Sharing › 5.3", Label: "5.3",
					New: "We may share usage data with our AI partners to improve their models.", Terms: []string{"ai training"}},
			},
		},
	}
}

// TestResult is the outcome of a test alert on one channel.
type TestResult struct {
	Channel    string
	AlertID    int64
	DeliveryID string
	Err        error // nil when delivered; never contains a secret
}

// SendTest enqueues a test alert (SampleReport, change id 0) on each named
// channel, every configured one when none is named, and delivers each right
// away. A failed test stays in the outbox and is retried like any alert.
func (s *Sender) SendTest(ctx context.Context, channels []string) ([]TestResult, error) {
	all := s.cfg.Channels()
	if len(all) == 0 {
		return nil, fmt.Errorf("alerts test: no channel configured: add alerts.webhooks or alerts.email to the config")
	}
	if len(channels) == 0 {
		channels = all
	}
	for _, c := range channels {
		if !slices.Contains(all, c) {
			return nil, fmt.Errorf("alerts test: channel %q is not configured; configured: %s", c, strings.Join(all, ", "))
		}
	}
	payload, err := json.Marshal(SampleReport())
	if err != nil {
		return nil, fmt.Errorf("alerts test: %w", err)
	}
	var out []TestResult
	for _, c := range channels {
		it, err := s.db.EnqueueAlert(ctx, 0, store.Alert{Channel: c, Payload: payload})
		if err != nil {
			return out, fmt.Errorf("alerts test: %w", err)
		}
		out = append(out, TestResult{Channel: c, AlertID: it.ID, DeliveryID: it.DeliveryID, Err: s.DeliverNow(ctx, it.ID)})
	}
	return out, nil
}
