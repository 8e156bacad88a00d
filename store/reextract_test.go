package store

import (
	"errors"
	"testing"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/snapshot"
)

// replaceWith re-extracts every capture of the vendor with the texts given,
// computing changes the way the monitor does.
func replaceWith(t *testing.T, db *DB, vendorID int64, texts map[string]string, latestBefore *Version) (*ReplaceResult, error) {
	t.Helper()
	caps, err := db.Captures(t.Context(), vendorID)
	if err != nil {
		t.Fatal(err)
	}
	in := ReplaceInput{VendorID: vendorID, Extractor: "new"}
	var prev, latest *snapshot.Document
	for _, c := range caps {
		in.LastCaptureID = max(in.LastCaptureID, c.ID)
		d := doc("P", texts[c.Timestamp], "")
		r := Reextracted{CaptureID: c.ID, Verdict: "ok", Document: d}
		if prev != nil && snapshot.Hash(prev.Markdown()) != snapshot.Hash(d.Markdown()) {
			ch := diffing.Compare(prev, d)
			r.Change = &ch
		}
		prev, latest = d, d
		in.Captures = append(in.Captures, r)
	}
	if latestBefore != nil && latestBefore.SHA256 != snapshot.Hash(latest.Markdown()) {
		ch := diffing.Compare(latestBefore.Document(), latest)
		in.ExtractorChange = &ch
	}
	return db.ReplaceExtraction(t.Context(), in)
}

func TestReplaceExtraction(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	v, _ := db.EnsureVendor(ctx, "Acme", "https://example.com/privacy")
	// The old extractor let a rotating tip into the text: two false changes
	// and one real one.
	record(t, db, v.ID, "20200101000000", []byte("a"), doc("P", "Policy text. Tip: one", ""))
	record(t, db, v.ID, "20200201000000", []byte("b"), doc("P", "Policy text. Tip: two", ""))
	record(t, db, v.ID, "20200301000000", []byte("c"), doc("P", "Policy text v2. Tip: three", ""))
	before, _ := db.Changes(ctx, v.ID, "")
	if len(before) != 2 {
		t.Fatalf("setup: %d changes", len(before))
	}
	latest, _, _ := db.VersionAt(ctx, v.ID, "2021")

	res, err := replaceWith(t, db, v.ID, map[string]string{
		"20200101000000": "Policy text.", "20200201000000": "Policy text.", "20200301000000": "Policy text v2.",
	}, latest)
	if err != nil {
		t.Fatal(err)
	}
	if res.VersionsBefore != 3 || res.VersionsAfter != 2 || res.ChangesBefore != 2 || res.ChangesAfter != 1 ||
		len(res.Removed) != 1 || len(res.Added) != 0 || res.Updated != 1 || res.VerdictsChanged != 3 {
		t.Fatalf("result = %+v", res)
	}
	if r := res.Removed[0]; r.OldCapture.Timestamp != "20200101000000" || r.NewCapture.Timestamp != "20200201000000" {
		t.Fatalf("removed the wrong change: %s → %s", r.OldCapture.Timestamp, r.NewCapture.Timestamp)
	}
	after, _ := db.Changes(ctx, v.ID, CauseArchive)
	// The window 2020-02 → 2020-03 stands (same row), now between the clean texts.
	if len(after) != 1 || after[0].ID != before[1].ID || after[0].OldCapture.Timestamp != "20200201000000" {
		t.Fatalf("archive changes after = %+v", after)
	}
	// The latest text changed ("Tip: three" is gone): an extractor change.
	if res.ExtractorChange == nil || res.ExtractorChange.Cause != CauseExtractor {
		t.Fatalf("extractor change = %+v", res.ExtractorChange)
	}
	all, _ := db.Changes(ctx, v.ID, "")
	if len(all) != 2 {
		t.Fatalf("all changes = %d, want the archive one and the extractor one", len(all))
	}
	vs, _ := db.Versions(ctx, v.ID)
	if len(vs) != 2 || vs[0].Extractor != "new" || vs[0].First.Extractor != "new" {
		t.Fatalf("versions = %+v", vs)
	}
	if stale, err := db.NeedsReextract(ctx, v.ID, "new"); err != nil || stale {
		t.Fatalf("NeedsReextract(new) = %v, %v after re-extraction", stale, err)
	}
	if stale, _ := db.NeedsReextract(ctx, v.ID, "newer"); !stale {
		t.Fatal("NeedsReextract(newer) = false")
	}

	// Doing it again with the same texts moves nothing.
	latest, _, _ = db.VersionAt(ctx, v.ID, "2021")
	res, err = replaceWith(t, db, v.ID, map[string]string{
		"20200101000000": "Policy text.", "20200201000000": "Policy text.", "20200301000000": "Policy text v2.",
	}, latest)
	if err != nil || len(res.Removed)+len(res.Added)+res.Updated+res.VerdictsChanged != 0 || res.ExtractorChange != nil {
		t.Fatalf("idempotent re-extraction = %+v, %v", res, err)
	}
	if n := count(t, db, "reextractions"); n != 2 {
		t.Fatalf("reextractions logged = %d", n)
	}
}

func TestReplaceExtractionRefusesConcurrentFetch(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	v, _ := db.EnsureVendor(ctx, "Acme", "https://example.com/privacy")
	record(t, db, v.ID, "20200101000000", []byte("a"), doc("P", "one", ""))
	_, err := db.ReplaceExtraction(ctx, ReplaceInput{VendorID: v.ID, Extractor: "new", LastCaptureID: 0})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	c, _ := db.LatestCapture(ctx, v.ID)
	if c.VersionID == 0 || c.Extractor == "new" {
		t.Fatalf("a refused re-extraction changed the capture: %+v", c)
	}
}
