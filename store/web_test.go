package store

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestRecordPassOutcome checks that the latest outcome replaces the one
// before, that a failure keeps the time of the last success, and that every
// way of reading a vendor carries the outcome.
func TestRecordPassOutcome(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	v, err := db.EnsureVendor(ctx, "Acme", "https://example.com/privacy")
	if err != nil {
		t.Fatal(err)
	}
	if !v.LastPassAt.IsZero() || !v.LastOKAt.IsZero() || v.LastPassError != "" {
		t.Fatalf("new vendor has an outcome: %+v", v)
	}
	ok := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	failed := ok.Add(time.Hour)
	steps := []struct {
		at      time.Time
		err     error
		wantOK  time.Time
		wantErr string
	}{
		{ok, nil, ok, ""},
		{failed, errors.New("list captures: archive unreachable"), ok, "list captures: archive unreachable"},
		{failed.Add(time.Hour), nil, failed.Add(time.Hour), ""},
	}
	for i, s := range steps {
		if err := db.RecordPassOutcome(ctx, v.ID, s.at, s.err); err != nil {
			t.Fatal(err)
		}
		byName, err := db.VendorByName(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		all, err := db.Vendors(ctx)
		if err != nil || len(all) != 1 {
			t.Fatalf("Vendors = %v, %v", all, err)
		}
		for _, got := range []*Vendor{byName, all[0]} {
			if !got.LastPassAt.Equal(s.at) || !got.LastOKAt.Equal(s.wantOK) || got.LastPassError != s.wantErr {
				t.Errorf("step %d: outcome = %v / %v / %q, want %v / %v / %q", i, got.LastPassAt, got.LastOKAt, got.LastPassError, s.at, s.wantOK, s.wantErr)
			}
		}
	}
}

// TestRecentChanges checks the newest-first order across vendors, each
// filter, and paging with Before.
func TestRecentChanges(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	a, _ := db.EnsureVendor(ctx, "Acme", "https://example.com/privacy")
	b, _ := db.EnsureVendor(ctx, "Beta", "https://beta.example/privacy")
	// Acme: 2020 → 2021 (retention change: severity above none) → 2022.
	record(t, db, a.ID, "20200101000000", []byte("a1"), doc("P", "We keep logs for 30 days.", "2020-01-01"))
	record(t, db, a.ID, "20210101000000", []byte("a2"), doc("P", "We keep logs for 90 days.", "2021-01-01"))
	record(t, db, a.ID, "20220101000000", []byte("a3"), doc("P", "We keep logs for 90 days. Contact us.", "2021-01-01"))
	// Beta: one change in between.
	record(t, db, b.ID, "20200601000000", []byte("b1"), doc("P", "We never sell data.", ""))
	record(t, db, b.ID, "20210601000000", []byte("b2"), doc("P", "We may sell your personal data to advertisers.", ""))

	stamps := func(chs []*Change) string {
		var s string
		for _, c := range chs {
			s += fmt.Sprintf("%d:%s:%s ", c.VendorID, c.NewCapture.Timestamp[:4]+c.NewCapture.Timestamp[4:6], c.SeverityLevel)
		}
		return s
	}
	all, err := db.RecentChanges(ctx, ChangeFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[0].NewCapture.Timestamp != "20220101000000" || all[1].NewCapture.Timestamp != "20210601000000" || all[2].NewCapture.Timestamp != "20210101000000" {
		t.Fatalf("RecentChanges = %s, want Acme 2022, Beta 2021-06, Acme 2021", stamps(all))
	}
	for _, tt := range []struct {
		name string
		f    ChangeFilter
		want int
	}{
		{"vendor", ChangeFilter{VendorID: b.ID}, 1},
		{"limit", ChangeFilter{Limit: 2}, 2},
		{"before", ChangeFilter{Before: "20210601000000"}, 1},
		{"cause", ChangeFilter{Cause: CauseExtractor}, 0},
		{"min level none", ChangeFilter{MinLevel: "none"}, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.RecentChanges(ctx, tt.f)
			if err != nil || len(got) != tt.want {
				t.Fatalf("RecentChanges(%+v) = %s, %v; want %d", tt.f, stamps(got), err, tt.want)
			}
		})
	}
	// Each level keeps what is at or above it: the counts never grow with the level.
	prev := len(all)
	for _, level := range []string{"low", "medium", "high"} {
		got, err := db.RecentChanges(ctx, ChangeFilter{MinLevel: level})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range got {
			if rank(c.SeverityLevel) < rank(level) {
				t.Errorf("min level %s returned a %s change", level, c.SeverityLevel)
			}
		}
		if len(got) > prev {
			t.Errorf("min level %s returned %d changes, more than the level below (%d)", level, len(got), prev)
		}
		prev = len(got)
	}
	if got, err := db.RecentChanges(ctx, ChangeFilter{MinLevel: "medium"}); err != nil || len(got) != 1 || got[0].VendorID != b.ID {
		t.Errorf("min level medium = %s, %v; want only Beta's sale of data (the others are low): all %s", stamps(got), err, stamps(all))
	}
	if _, err := db.RecentChanges(ctx, ChangeFilter{MinLevel: "severe"}); err == nil {
		t.Error("an unknown level was accepted")
	}

	got, err := db.ChangeByID(ctx, all[1].ID)
	if err != nil || got.VendorID != b.ID || got.NewCapture.Timestamp != "20210601000000" {
		t.Fatalf("ChangeByID = %+v, %v", got, err)
	}
	if _, err := db.ChangeByID(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ChangeByID(9999) = %v, want ErrNotFound", err)
	}
}

func rank(level string) int {
	for i, l := range severityLevels {
		if l == level {
			return i
		}
	}
	return -1
}
