package store

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/snapshot"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	t.Cleanup(func() { db.Close() })
	return db
}

func count(t *testing.T, db *DB, table string) int {
	t.Helper()
	var n int
	if err := db.db.QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func doc(title, body, date string) *snapshot.Document {
	return &snapshot.Document{Title: title, Body: body, StatedDate: date, Quality: snapshot.Quality{Verdict: snapshot.VerdictOK}}
}

// record is the way the monitor records a capture: compare with the version
// before it, pass the change when the text differs.
func record(t *testing.T, db *DB, vendorID int64, ts string, body []byte, d *snapshot.Document) *RecordResult {
	t.Helper()
	ctx := t.Context()
	in := RecordInput{
		Capture:  Capture{VendorID: vendorID, Timestamp: ts, Original: "https://example.com/privacy", Digest: "D" + ts, Fetched: true, HTTPStatus: 200, Verdict: "ok"},
		Body:     body,
		Document: d,
	}
	prev, _, err := db.VersionBefore(ctx, vendorID, ts)
	if err != nil && !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if prev != nil && d != nil {
		in.PrevVersionID = prev.ID
		if prev.SHA256 != snapshot.Hash(d.Markdown()) {
			ch := diffing.Compare(prev.Document(), d)
			in.Change = &ch
		}
	}
	res, err := db.RecordCapture(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestOpenMigratesOnceAndReopens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pw.db")
	for i := 0; i < 2; i++ {
		db, err := Open(t.Context(), path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		files, err := fs.Glob(migrations, "migrations/*.sql")
		if err != nil || len(files) < 3 {
			t.Fatalf("embedded migrations = %v (%v)", files, err)
		}
		if n := count(t, db, "migrations"); n != len(files) {
			t.Fatalf("open %d: %d migrations recorded, want %d", i, n, len(files))
		}
		var mode string
		if err := db.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Fatalf("journal_mode = %q (%v), want wal", mode, err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	}
}

func TestOpenBadPath(t *testing.T) {
	_, err := Open(t.Context(), filepath.Join(t.TempDir(), "missing", "pw.db"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v, want a message naming the missing directory", err)
	}
}

func TestEnsureVendor(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	a, err := db.EnsureVendor(ctx, "SE Ranking", "https://seranking.com/privacy-policy.html")
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.EnsureVendor(ctx, "se ranking", "https://seranking.com/privacy.html")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || b.URL != "https://seranking.com/privacy.html" || b.Name != "SE Ranking" {
		t.Fatalf("got %+v then %+v: want one vendor, URL updated, name kept", a, b)
	}
	if _, err := db.VendorByName(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestRecordCaptureVersionsAndChanges(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	v, _ := db.EnsureVendor(ctx, "Acme", "https://example.com/privacy")
	a := doc("Privacy", "We keep logs for 30 days.\n", "2021-03-03")
	b := doc("Privacy", "We keep logs for 90 days.\n", "2022-06-14")

	steps := []struct {
		ts         string
		body       string
		doc        *snapshot.Document
		newVersion bool
		change     bool
	}{
		{"20210310081502", "<p>A</p>", a, true, false},
		{"20210922174411", "<p>A</p>", a, false, false},  // same bytes: body stored once
		{"20220105093000", "<p>A'</p>", a, false, false}, // other bytes, same text
		{"20220701120505", "<p>B</p>", b, true, true},    // text and date change
		{"20220915064010", "<p>A</p>", a, false, true},   // flip-back: old version reused, change recorded
	}
	for _, s := range steps {
		res := record(t, db, v.ID, s.ts, []byte(s.body), s.doc)
		if res.Duplicate || res.NewVersion != s.newVersion || (res.Change != nil) != s.change {
			t.Fatalf("%s: duplicate=%v newVersion=%v change=%v, want false %v %v", s.ts, res.Duplicate, res.NewVersion, res.Change != nil, s.newVersion, s.change)
		}
	}
	if got := count(t, db, "bodies"); got != 3 {
		t.Errorf("bodies = %d, want 3 (de-duplicated by SHA-256)", got)
	}
	if got := count(t, db, "versions"); got != 2 {
		t.Errorf("versions = %d, want 2", got)
	}

	versions, err := db.Versions(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || versions[0].First.Timestamp != "20210310081502" || versions[0].Last.Timestamp != "20220915064010" ||
		versions[0].Captures != 4 || versions[1].First.Timestamp != "20220701120505" || versions[1].StatedDate != "2022-06-14" {
		for _, x := range versions {
			t.Logf("%+v first=%s last=%s", x, x.First.Timestamp, x.Last.Timestamp)
		}
		t.Fatal("versions are not as recorded")
	}

	changes, err := db.Changes(ctx, v.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 2 {
		t.Fatalf("changes = %d, want 2", len(changes))
	}
	c := changes[0]
	// The window: the last capture with the old text, the first with the new.
	if c.OldCapture.Timestamp != "20220105093000" || c.NewCapture.Timestamp != "20220701120505" ||
		c.OldStatedDate != "2021-03-03" || c.NewStatedDate != "2022-06-14" || !c.TextChanged || !c.DateChanged {
		t.Fatalf("change = %+v old=%s new=%s", c, c.OldCapture.Timestamp, c.NewCapture.Timestamp)
	}

	raw, err := db.Body(ctx, SHA256([]byte("<p>B</p>")))
	if err != nil || string(raw) != "<p>B</p>" {
		t.Fatalf("body round trip = %q, %v", raw, err)
	}

	at, capAt, err := db.VersionAt(ctx, v.ID, "2022")
	if err != nil || at.ID != versions[0].ID || capAt.Timestamp != "20220915064010" {
		t.Fatalf("VersionAt(2022) = %v %v %v", at, capAt, err)
	}
	at, _, err = db.VersionAt(ctx, v.ID, "202207")
	if err != nil || at.ID != versions[1].ID {
		t.Fatalf("VersionAt(202207) = %v, %v; want the second version", at, err)
	}
	if _, _, err := db.VersionAt(ctx, v.ID, "2020"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("VersionAt(2020) err = %v, want ErrNotFound", err)
	}
}

func TestRecordCaptureIsIdempotent(t *testing.T) {
	db := openTest(t)
	v, _ := db.EnsureVendor(t.Context(), "Acme", "https://example.com/privacy")
	d := doc("Privacy", "text", "")
	record(t, db, v.ID, "20200101000000", []byte("x"), d)
	res := record(t, db, v.ID, "20200101000000", []byte("x"), d)
	if !res.Duplicate {
		t.Fatal("recording the same CDX row twice was not reported as a duplicate")
	}
	for table, want := range map[string]int{"captures": 1, "versions": 1, "bodies": 1, "changes": 0} {
		if got := count(t, db, table); got != want {
			t.Errorf("%s = %d, want %d", table, got, want)
		}
	}
}

// A failed write must leave nothing behind: not the body, not the capture,
// not the version.
func TestRecordCaptureRollsBackOnConflict(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	v, _ := db.EnsureVendor(ctx, "Acme", "https://example.com/privacy")
	record(t, db, v.ID, "20200101000000", []byte("a"), doc("P", "one", ""))
	_, err := db.RecordCapture(ctx, RecordInput{
		Capture:       Capture{VendorID: v.ID, Timestamp: "20200201000000", Original: "https://example.com/privacy", Verdict: "ok"},
		Body:          []byte("b"),
		Document:      doc("P", "two", ""),
		PrevVersionID: 0, // wrong: there is a previous version
	})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	for table, want := range map[string]int{"captures": 1, "versions": 1, "bodies": 1, "changes": 0} {
		if got := count(t, db, table); got != want {
			t.Errorf("after rollback %s = %d, want %d", table, got, want)
		}
	}
}

func TestCaptureByDigestOnlyTrustsCompleteBodies(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	v, _ := db.EnsureVendor(ctx, "Acme", "https://example.com/privacy")
	in := RecordInput{
		Capture: Capture{VendorID: v.ID, Timestamp: "20200101000000", Original: "https://example.com/privacy",
			Digest: "TRUNC", Fetched: true, HTTPStatus: 200, Truncated: true, Verdict: VerdictTruncated},
		Body: []byte("cut"),
	}
	if _, err := db.RecordCapture(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CaptureByDigest(ctx, "TRUNC"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a truncated body was offered for reuse: %v", err)
	}
	record(t, db, v.ID, "20200102000000", []byte("full"), doc("P", "full", ""))
	c, err := db.CaptureByDigest(ctx, "D20200102000000")
	if err != nil || c.BodySHA256 != SHA256([]byte("full")) {
		t.Fatalf("CaptureByDigest = %+v, %v", c, err)
	}
}

func TestNormaliseTimestamp(t *testing.T) {
	tests := []struct {
		in    string
		upper bool
		want  string
		ok    bool
	}{
		{"2019", true, "20191231235959", true},
		{"2019", false, "20190101000000", true},
		{"20190523091427", true, "20190523091427", true},
		{"2019-05", true, "", false},
		{"", true, "", false},
		{"201905230914270", true, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := normaliseTimestamp(tt.in, tt.upper)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("normaliseTimestamp(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

// The comparison found when a change was detected is stored with it.
func TestChangeKeepsItsReport(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	v, _ := db.EnsureVendor(ctx, "Acme", "https://example.com/privacy")
	record(t, db, v.ID, "20200101000000", []byte("a"), doc("P", "Logs are kept for 30 days.", "2020-01-01"))
	in := RecordInput{
		Capture:  Capture{VendorID: v.ID, Timestamp: "20200201000000", Original: "https://example.com/privacy", Verdict: "ok"},
		Body:     []byte("b"),
		Document: doc("P", "Logs are kept for 90 days.", "2020-01-01"),
		Change: &diffing.Change{TextChanged: true, Kinds: []string{diffing.KindSilent},
			Severity: diffing.Severity{Score: 7, Level: "medium", Reasons: []string{`retention: "30 days" → "90 days"`}},
			Clauses:  []diffing.ClauseChange{{Op: diffing.OpModified, Path: "4 Data storage › 4.1", Old: "30 days", New: "90 days"}},
			Unified:  "--- old\n+++ new\n"},
	}
	prev, _, _ := db.VersionBefore(ctx, v.ID, "20200201000000")
	in.PrevVersionID = prev.ID
	if _, err := db.RecordCapture(ctx, in); err != nil {
		t.Fatal(err)
	}
	chs, err := db.Changes(ctx, v.ID, CauseArchive)
	if err != nil || len(chs) != 1 {
		t.Fatalf("changes = %v, %v", chs, err)
	}
	c := chs[0]
	if len(c.Kinds) != 1 || c.Kinds[0] != "silent" || c.Severity != 7 || c.SeverityLevel != "medium" || c.Report == nil ||
		len(c.Report.Clauses) != 1 || c.Report.Clauses[0].Path != "4 Data storage › 4.1" || c.Report.Severity.Reasons[0] != `retention: "30 days" → "90 days"` {
		t.Fatalf("change = %+v report = %+v", c, c.Report)
	}
	if c.Report.Unified != "" {
		t.Error("the line diff was stored; it is recomputed from the versions")
	}
}

func TestSeenText(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	v, _ := db.EnsureVendor(ctx, "Acme", "https://example.com/privacy")
	a := doc("P", "text A", "")
	record(t, db, v.ID, "20200101000000", []byte("a"), a)
	if seen, err := db.SeenText(ctx, v.ID, snapshot.Hash(a.Markdown())); err != nil || !seen {
		t.Fatalf("SeenText(A) = %v, %v", seen, err)
	}
	if seen, _ := db.SeenText(ctx, v.ID, snapshot.Hash(doc("P", "text B", "").Markdown())); seen {
		t.Fatal("SeenText(B) = true before any capture had it")
	}
}
