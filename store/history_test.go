package store

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/snapshot"
)

// splice records a capture anywhere in the history, the way history's
// bisection does: compared with the versions on both sides.
func splice(t *testing.T, db *DB, vendorID int64, ts, text string) *RecordResult {
	t.Helper()
	ctx := t.Context()
	d := doc("Policy", text, "")
	in := RecordInput{
		Capture:  Capture{VendorID: vendorID, Timestamp: ts, Original: "https://example.com/privacy", Digest: "D" + ts, Fetched: true, HTTPStatus: 200, Verdict: "ok"},
		Body:     []byte(text),
		Document: d,
	}
	hash := snapshot.Hash(d.Markdown())
	if prev, _, err := db.VersionBefore(ctx, vendorID, ts); err == nil {
		in.PrevVersionID = prev.ID
		if prev.SHA256 != hash {
			ch := diffing.Compare(prev.Document(), d)
			in.Change = &ch
		}
	} else if !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if next, _, err := db.VersionAfter(ctx, vendorID, ts); err == nil {
		in.NextVersionID = next.ID
		if next.SHA256 != hash {
			ch := diffing.Compare(d, next.Document())
			in.NextChange = &ch
		}
	} else if !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	res, err := db.RecordCapture(ctx, in)
	if err != nil {
		t.Fatalf("record %s: %v", ts, err)
	}
	return res
}

// windows renders a vendor's archive changes as "old→new" timestamp pairs
// with the texts' first words, for comparison with a want string.
func windows(t *testing.T, db *DB, vendorID int64) string {
	t.Helper()
	list, err := db.Changes(t.Context(), vendorID, CauseArchive)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ch := range list {
		from, err := db.VersionByID(t.Context(), ch.FromVersionID)
		if err != nil {
			t.Fatal(err)
		}
		to, err := db.VersionByID(t.Context(), ch.ToVersionID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s:%s→%s:%s", ch.OldCapture.Timestamp[:4], from.Body, ch.NewCapture.Timestamp[:4], to.Body))
	}
	return strings.Join(out, " ")
}

func TestRecordCaptureInTheMiddle(t *testing.T) {
	type step struct{ ts, text string }
	tests := []struct {
		name  string
		steps []step
		want  string
	}{
		{"narrow the new end", []step{{"20100101000000", "A"}, {"20200101000000", "B"}, {"20150101000000", "B"}},
			"2010:A→2015:B"},
		{"narrow the old end", []step{{"20100101000000", "A"}, {"20200101000000", "B"}, {"20150101000000", "A"}},
			"2015:A→2020:B"},
		{"third text splits the change", []step{{"20100101000000", "A"}, {"20200101000000", "B"}, {"20150101000000", "C"}},
			"2010:A→2015:C 2015:C→2020:B"},
		{"change and revert between equal ends", []step{{"20100101000000", "A"}, {"20200101000000", "A"}, {"20150101000000", "C"}},
			"2010:A→2015:C 2015:C→2020:A"},
		{"earlier than everything", []step{{"20150101000000", "B"}, {"20100101000000", "A"}},
			"2010:A→2015:B"},
		{"bisected down", []step{{"20100101000000", "A"}, {"20200101000000", "B"}, {"20150101000000", "A"},
			{"20170101000000", "B"}, {"20160101000000", "A"}}, "2016:A→2017:B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openTest(t)
			v, err := db.EnsureVendor(t.Context(), "Example", "https://example.com/privacy")
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.steps {
				splice(t, db, v.ID, s.ts, s.text)
			}
			if got := windows(t, db, v.ID); got != tt.want {
				t.Errorf("changes = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSpliceKeepsAlertedChangeRow(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	v, _ := db.EnsureVendor(ctx, "Example", "https://example.com/privacy")
	splice(t, db, v.ID, "20100101000000", "A")
	res := splice(t, db, v.ID, "20200101000000", "B")
	if _, err := db.EnqueueAlert(ctx, res.Change.ID, Alert{Channel: "ops", Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	splice(t, db, v.ID, "20150101000000", "C")
	list, err := db.Changes(ctx, v.ID, CauseArchive)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[1].ID != res.Change.ID || list[1].OldCapture.Timestamp != "20150101000000" {
		t.Fatalf("the alerted change should now run from the 2015 capture: %+v", list)
	}
	if list[1].Report == nil || list[1].Report.LinesAdded == 0 {
		t.Errorf("the moved change's report was not redone: %+v", list[1].Report)
	}
}

func TestSpliceRefusesStaleNeighbour(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	v, _ := db.EnsureVendor(ctx, "Example", "https://example.com/privacy")
	splice(t, db, v.ID, "20100101000000", "A")
	d := doc("Policy", "A", "")
	_, err := db.RecordCapture(ctx, RecordInput{
		Capture:       Capture{VendorID: v.ID, Timestamp: "20050101000000", Original: "https://example.com/privacy", Verdict: "ok"},
		Document:      d,
		NextVersionID: 0, // wrong: a version follows
	})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	if n := count(t, db, "captures"); n != 1 {
		t.Errorf("captures = %d after a refused write, want 1", n)
	}
}

func TestRecordInferred(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	v, _ := db.EnsureVendor(ctx, "Example", "https://example.com/privacy")
	a := splice(t, db, v.ID, "20100101000000", "A")
	splice(t, db, v.ID, "20120101000000", "A")
	splice(t, db, v.ID, "20140101000000", "B")
	mid := []Capture{
		{VendorID: v.ID, Timestamp: "20110101000000", Original: "https://example.com/privacy", Digest: "X"},
		{VendorID: v.ID, Timestamp: "20110601000000", Original: "https://example.com/privacy", Digest: "Y"},
	}
	n, err := db.RecordInferred(ctx, v.ID, a.Version.ID, "x", "both sides hold the same text", mid)
	if err != nil || n != 2 {
		t.Fatalf("RecordInferred = %d, %v", n, err)
	}
	if n, err := db.RecordInferred(ctx, v.ID, a.Version.ID, "x", "again", mid); err != nil || n != 0 {
		t.Fatalf("second RecordInferred = %d, %v; want 0 new rows", n, err)
	}
	vs, err := db.Versions(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if vs[0].Captures != 4 {
		t.Errorf("version A carries %d captures, want 4 (2 fetched + 2 inferred)", vs[0].Captures)
	}
	bad := []Capture{{VendorID: v.ID, Timestamp: "20130101000000", Original: "https://example.com/privacy"}}
	if _, err := db.RecordInferred(ctx, v.ID, a.Version.ID, "x", "wrong", bad); !errors.Is(err, ErrConflict) {
		t.Errorf("inferring across a change: err = %v, want ErrConflict", err)
	}
	if got := windows(t, db, v.ID); got != "2012:A→2014:B" {
		t.Errorf("changes = %s", got)
	}
}

func TestListingResumes(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	v, _ := db.EnsureVendor(ctx, "Example", "https://example.com/privacy")
	l, resumed, err := db.OpenListing(ctx, v.ID, "https://example.com/privacy", "2010", "")
	if err != nil || resumed {
		t.Fatalf("OpenListing = %v, resumed %v", err, resumed)
	}
	rows := []CDXRow{{Timestamp: "20100101000000", Original: "https://example.com/privacy", Digest: "A"},
		{Timestamp: "20110101000000", Original: "https://example.com/privacy", Digest: "B"}}
	if err := db.AppendListingPage(ctx, l, rows, "key-1"); err != nil {
		t.Fatal(err)
	}
	again, resumed, err := db.OpenListing(ctx, v.ID, "https://example.com/privacy", "2010", "")
	if err != nil || !resumed || again.ID != l.ID || again.ResumeKey != "key-1" || again.Pages != 1 {
		t.Fatalf("reopened = %+v, resumed %v, %v", again, resumed, err)
	}
	// The archive repeats a row on the next page.
	if err := db.AppendListingPage(ctx, again, append(rows[1:], CDXRow{Timestamp: "20120101000000", Original: "https://example.com/privacy"}), ""); err != nil {
		t.Fatal(err)
	}
	got, err := db.ListingRows(ctx, again)
	if err != nil || len(got) != 3 || got[2].Timestamp != "20120101000000" {
		t.Fatalf("rows = %+v, %v", got, err)
	}
	// Complete but its run was interrupted: reused without a request.
	if l, resumed, _ := db.OpenListing(ctx, v.ID, "https://example.com/privacy", "2010", ""); !resumed || !l.Complete {
		t.Errorf("a complete listing of an unfinished run was not reused: %+v", l)
	}
	if err := db.FinishListings(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, resumed, _ := db.OpenListing(ctx, v.ID, "https://example.com/privacy", "2010", ""); resumed {
		t.Error("a listing of a finished run was reused; a new run must list the archive again")
	}
}
