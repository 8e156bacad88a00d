package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/snapshot"
)

// Verdicts for captures whose bytes never reached the extractor. The others are
// snapshot.Verdict values.
const (
	VerdictNotFetched = "not-fetched" // the CDX row is not a 2xx capture
	VerdictFetchError = "fetch-error" // the archive had no playable capture
	VerdictTruncated  = "truncated"   // the body hit the size cap; not trusted as a version
	VerdictNotOK      = "archived-status"
)

// Capture is one processed CDX row and what became of it.
type Capture struct {
	ID       int64
	VendorID int64

	// From the CDX index.
	Timestamp string
	Original  string
	URLKey    string
	MimeType  string
	CDXStatus string
	Digest    string
	Length    string

	// From playback. Fetched is false when the body was reused from an earlier
	// capture with the same digest, or not needed at all.
	Fetched          bool
	HTTPStatus       int
	MementoTimestamp string
	MementoOriginal  string
	ContentType      string
	Headers          http.Header
	BodySHA256       string
	Truncated        bool

	// From extraction.
	Charset       string
	Verdict       string
	VerdictReason string
	VersionID     int64  // 0 when the capture did not become a version
	Extractor     string // extraction fingerprint behind Verdict and VersionID
}

// WaybackURL returns the capture's raw playback URL on the public archive.
func (c *Capture) WaybackURL() string {
	return snapshot.Source{URL: c.Original, Timestamp: c.Timestamp}.WaybackURL()
}

const captureCols = `id, vendor_id, timestamp, original, urlkey, mimetype, cdx_status, digest, length,
	fetched, COALESCE(http_status, 0), COALESCE(memento_timestamp, ''), COALESCE(memento_original, ''),
	COALESCE(content_type, ''), COALESCE(headers, ''), COALESCE(body_sha256, ''), truncated,
	COALESCE(charset, ''), verdict, verdict_reason, COALESCE(version_id, 0), extractor`

func scanCapture(s scanner) (*Capture, error) {
	var c Capture
	var headers string
	err := s.Scan(&c.ID, &c.VendorID, &c.Timestamp, &c.Original, &c.URLKey, &c.MimeType, &c.CDXStatus,
		&c.Digest, &c.Length, &c.Fetched, &c.HTTPStatus, &c.MementoTimestamp, &c.MementoOriginal,
		&c.ContentType, &headers, &c.BodySHA256, &c.Truncated, &c.Charset, &c.Verdict, &c.VerdictReason, &c.VersionID, &c.Extractor)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if headers != "" {
		if err := json.Unmarshal([]byte(headers), &c.Headers); err != nil {
			return nil, fmt.Errorf("capture %d headers: %w", c.ID, err)
		}
	}
	return &c, nil
}

// LatestCapture returns the vendor's newest processed capture, or ErrNotFound
// before the first pass. Incremental passes continue after it.
func (db *DB) LatestCapture(ctx context.Context, vendorID int64) (*Capture, error) {
	c, err := scanCapture(db.db.QueryRowContext(ctx, `SELECT `+captureCols+` FROM captures
		WHERE vendor_id = ? ORDER BY timestamp DESC, id DESC LIMIT 1`, vendorID))
	if err != nil {
		return nil, fmt.Errorf("latest capture of vendor %d: %w", vendorID, err)
	}
	return c, nil
}

// HasCapture reports whether the CDX row (timestamp, original) was already processed.
func (db *DB) HasCapture(ctx context.Context, vendorID int64, timestamp, original string) (bool, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM captures WHERE vendor_id = ? AND timestamp = ? AND original = ?`,
		vendorID, timestamp, original).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("has capture %s: %w", timestamp, err)
	}
	return n > 0, nil
}

// Captures returns all of a vendor's captures, oldest first.
func (db *DB) Captures(ctx context.Context, vendorID int64) ([]*Capture, error) {
	cs, err := capturesOf(ctx, db.db, vendorID)
	if err != nil {
		return nil, fmt.Errorf("captures of vendor %d: %w", vendorID, err)
	}
	return cs, nil
}

// CaptureByID returns one capture.
func (db *DB) CaptureByID(ctx context.Context, id int64) (*Capture, error) {
	return captureByID(ctx, db.db, id)
}

func captureByID(ctx context.Context, q querier, id int64) (*Capture, error) {
	c, err := scanCapture(q.QueryRowContext(ctx, `SELECT `+captureCols+` FROM captures WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("capture %d: %w", id, err)
	}
	return c, nil
}

// RecordInput is everything that one processed capture adds to the database.
type RecordInput struct {
	Capture Capture // VendorID, CDX fields, playback fields and verdict

	// Body is the raw payload to keep. Nil when the capture reused a stored
	// body (then Capture.BodySHA256 names it) or had none.
	Body []byte

	// Document is the extraction result. When its quality is OK the capture
	// becomes (or joins) a version.
	Document *snapshot.Document

	// PrevVersionID is the version the caller compared Document against: the
	// version of the vendor's latest version-bearing capture before this one
	// (0 when there is none). It is checked inside the transaction.
	PrevVersionID int64

	// Change is the comparison of the previous version with Document. It is
	// required when the text differs from PrevVersionID's.
	Change *diffing.Change

	// Alerts are written to the outbox with the change, in the same
	// transaction, when a change is recorded; ignored otherwise.
	Alerts []Alert

	// NextVersionID is the version of the vendor's oldest version-bearing
	// capture after this one (0 when there is none, always the case for an
	// incremental pass). History records captures in the middle of what is
	// stored; it is checked inside the transaction like PrevVersionID.
	NextVersionID int64

	// NextChange compares Document with NextVersionID's text. It is required
	// when they differ.
	NextChange *diffing.Change
}

// RecordResult says what RecordCapture wrote.
type RecordResult struct {
	Capture    *Capture
	Version    *Version // nil when the capture did not become a version
	NewVersion bool     // the text had not been seen for this vendor before
	Change     *Change  // non-nil when the text differs from the previous version (new, or an existing change whose window narrowed to this capture)
	NextChange *Change  // non-nil when the text differs from the next version (history only)
	Alerts     []*OutboxItem
	Duplicate  bool // the capture had been recorded before; nothing was written
}

// RecordCapture writes a capture with its body, version and change in one
// transaction. Recording the same CDX row twice is a no-op that reports
// Duplicate, so a rerun after a crash never duplicates anything.
func (db *DB) RecordCapture(ctx context.Context, in RecordInput) (*RecordResult, error) {
	c := in.Capture
	op := fmt.Sprintf("record capture %s of vendor %d", c.Timestamp, c.VendorID)
	if len(c.Timestamp) != 14 {
		return nil, fmt.Errorf("%s: timestamp must have 14 digits", op)
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()

	existing, err := scanCapture(tx.QueryRowContext(ctx, `SELECT `+captureCols+` FROM captures
		WHERE vendor_id = ? AND timestamp = ? AND original = ?`, c.VendorID, c.Timestamp, c.Original))
	if err == nil {
		return &RecordResult{Capture: existing, Duplicate: true}, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%s: %w", op, err)
	}

	if in.Body != nil {
		if c.BodySHA256, err = putBody(ctx, tx, in.Body); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}

	res := &RecordResult{}
	var version *Version
	if in.Document != nil && in.Document.Quality.OK() && !c.Truncated {
		version, res.NewVersion, err = db.ensureVersion(ctx, tx, c.VendorID, c.Extractor, in.Document)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		c.VersionID = version.ID
	}

	var headers any
	if len(c.Headers) > 0 {
		b, err := json.Marshal(c.Headers)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		headers = string(b)
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO captures (vendor_id, timestamp, original, urlkey, mimetype, cdx_status,
		digest, length, fetched, http_status, memento_timestamp, memento_original, content_type, headers, body_sha256,
		truncated, charset, verdict, verdict_reason, version_id, extractor, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.VendorID, c.Timestamp, c.Original, c.URLKey, c.MimeType, c.CDXStatus, c.Digest, c.Length, c.Fetched,
		nullInt(c.HTTPStatus), nullStr(c.MementoTimestamp), nullStr(c.MementoOriginal), nullStr(c.ContentType),
		headers, nullStr(c.BodySHA256), c.Truncated, nullStr(c.Charset), c.Verdict, c.VerdictReason,
		nullInt64(c.VersionID), c.Extractor, db.now())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if c.ID, err = r.LastInsertId(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	res.Capture = &c

	if version != nil {
		if err := db.linkVersion(ctx, tx, &c, version.ID, in, res); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if res.Version, err = versionByID(ctx, tx, version.ID); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return res, nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func nullInt64(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// normaliseTimestamp pads a 1–14 digit timestamp the way the archive does for
// an upper bound (end of the period) or a lower bound (start of it).
func normaliseTimestamp(ts string, upper bool) (string, error) {
	if ts == "" || len(ts) > 14 || strings.Trim(ts, "0123456789") != "" {
		return "", fmt.Errorf("timestamp %q: want 1 to 14 digits (YYYYMMDDhhmmss)", ts)
	}
	pad := "00000101000000"
	if upper {
		pad = "99991231235959"
	}
	return ts + pad[len(ts):], nil
}

// linkVersion places a version-bearing capture among the vendor's others and
// keeps the changes between neighbouring versions true, in the caller's
// transaction. A capture recorded in the middle of the history (by history's
// bisection) can narrow an existing change's window, split it in two, or
// introduce a change and its revert. Existing change rows are updated rather
// than replaced where they survive, so that alerts already queued for them
// keep pointing at them.
func (db *DB) linkVersion(ctx context.Context, tx *sql.Tx, c *Capture, versionID int64, in RecordInput, res *RecordResult) error {
	prev, err := scanCapture(tx.QueryRowContext(ctx, `SELECT `+captureCols+` FROM captures
		WHERE vendor_id = ? AND version_id IS NOT NULL AND timestamp < ?
		ORDER BY timestamp DESC, id DESC LIMIT 1`, c.VendorID, c.Timestamp))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	next, err := scanCapture(tx.QueryRowContext(ctx, `SELECT `+captureCols+` FROM captures
		WHERE vendor_id = ? AND version_id IS NOT NULL AND timestamp > ?
		ORDER BY timestamp, id LIMIT 1`, c.VendorID, c.Timestamp))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	var prevVersionID, nextVersionID int64
	if prev != nil {
		prevVersionID = prev.VersionID
	}
	if next != nil {
		nextVersionID = next.VersionID
	}
	if prevVersionID != in.PrevVersionID {
		return fmt.Errorf("compared with version %d but the previous version is %d: %w", in.PrevVersionID, prevVersionID, ErrConflict)
	}
	if nextVersionID != in.NextVersionID {
		return fmt.Errorf("compared with next version %d but the next version is %d: %w", in.NextVersionID, nextVersionID, ErrConflict)
	}

	// The change that spanned the gap this capture falls into, if any.
	var spanning *Change
	if prev != nil && next != nil && prevVersionID != nextVersionID {
		list, err := db.changesWhere(ctx, tx, `ch.new_capture_id = ? AND ch.cause = ?`, next.ID, CauseArchive)
		if err != nil {
			return err
		}
		if len(list) > 0 {
			spanning = list[0]
			if spanning.OldCapture.ID != prev.ID || spanning.FromVersionID != prevVersionID || spanning.ToVersionID != nextVersionID {
				return fmt.Errorf("change %d does not join captures %s and %s: %w", spanning.ID, prev.Timestamp, next.Timestamp, ErrConflict)
			}
		}
	}
	c.VersionID = versionID

	// Before this capture.
	switch {
	case prev == nil || prevVersionID == versionID:
	case spanning != nil && nextVersionID == versionID:
		// The new text showed up earlier than we knew: the window narrows.
		if _, err := tx.ExecContext(ctx, `UPDATE changes SET new_capture_id = ? WHERE id = ?`, c.ID, spanning.ID); err != nil {
			return fmt.Errorf("narrow change %d: %w", spanning.ID, err)
		}
		spanning.NewCapture = c
		res.Change = spanning
	default:
		if in.Change == nil {
			return fmt.Errorf("the text differs from version %d but no change was given", prevVersionID)
		}
		ch, err := db.insertChange(ctx, tx, prev, c, CauseArchive, in.Change)
		if err != nil {
			return err
		}
		res.Change = ch
		for _, a := range in.Alerts {
			item, err := db.insertAlert(ctx, tx, ch.ID, a)
			if err != nil {
				return err
			}
			res.Alerts = append(res.Alerts, item)
		}
	}

	// After this capture.
	switch {
	case next == nil || nextVersionID == versionID:
	case spanning != nil && prevVersionID == versionID:
		// The old text lasted longer than we knew: the window narrows.
		if _, err := tx.ExecContext(ctx, `UPDATE changes SET old_capture_id = ? WHERE id = ?`, c.ID, spanning.ID); err != nil {
			return fmt.Errorf("narrow change %d: %w", spanning.ID, err)
		}
		spanning.OldCapture = c
		res.NextChange = spanning
	default:
		if in.NextChange == nil {
			return fmt.Errorf("the text differs from the next version %d but no change was given", nextVersionID)
		}
		if spanning != nil {
			// A third text between the two: the spanning change now starts
			// here. Its row (and any alert on it) stays; its content is redone.
			if err := db.updateChange(ctx, tx, spanning.ID, versionID, nextVersionID, in.NextChange); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE changes SET old_capture_id = ? WHERE id = ?`, c.ID, spanning.ID); err != nil {
				return fmt.Errorf("move change %d: %w", spanning.ID, err)
			}
			list, err := db.changesWhere(ctx, tx, `ch.id = ?`, spanning.ID)
			if err != nil {
				return err
			}
			res.NextChange = list[0]
			break
		}
		ch, err := db.insertChange(ctx, tx, c, next, CauseArchive, in.NextChange)
		if err != nil {
			return err
		}
		res.NextChange = ch
	}
	return nil
}
