package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/policywatch/policywatch/diffing"
)

// VerdictInferred marks a capture that history did not fetch because the
// fetched captures on either side of it hold the same text: it is assumed to
// hold that text too. Its verdict reason names the two captures.
const VerdictInferred = "inferred"

// VerdictHomePage marks a vendor's home page that history fetched to find
// the policy link (--discover). Its bytes are kept, like every fetched
// capture's, but it is never extracted as a policy.
const VerdictHomePage = "home-page"

// Listing is a CDX listing of one URL over a range, persisted page by page
// so that an interrupted history run resumes where it stopped.
type Listing struct {
	ID        int64
	VendorID  int64
	URL       string
	From, To  string
	ResumeKey string // the key to send for the next page; "" before the first
	Pages     int
	Complete  bool
}

// CDXRow is one listed CDX row. It mirrors crawler.Capture, which store
// cannot import.
type CDXRow struct {
	Timestamp string
	Original  string
	URLKey    string
	MimeType  string
	Status    string
	Digest    string
	Length    string
}

// OpenListing returns the listing of url over [from, to] that an
// interrupted history run left (complete or not), so that a rerun continues
// it without asking the archive again, or starts a new one. A listing whose
// run finished is never reused: the archive may hold newer captures since.
func (db *DB) OpenListing(ctx context.Context, vendorID int64, url, from, to string) (*Listing, bool, error) {
	op := fmt.Sprintf("open listing of %s", url)
	l := &Listing{VendorID: vendorID, URL: url, From: from, To: to}
	err := db.db.QueryRowContext(ctx, `SELECT id, resume_key, pages, complete FROM cdx_listings
		WHERE vendor_id = ? AND url = ? AND from_ts = ? AND to_ts = ? AND done = 0
		ORDER BY id DESC LIMIT 1`, vendorID, url, from, to).Scan(&l.ID, &l.ResumeKey, &l.Pages, &l.Complete)
	if err == nil {
		return l, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, false, fmt.Errorf("%s: %w", op, err)
	}
	r, err := db.db.ExecContext(ctx, `INSERT INTO cdx_listings (vendor_id, url, from_ts, to_ts, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, vendorID, url, from, to, db.now(), db.now())
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", op, err)
	}
	if l.ID, err = r.LastInsertId(); err != nil {
		return nil, false, fmt.Errorf("%s: %w", op, err)
	}
	return l, false, nil
}

// AppendListingPage stores one CDX page and the key of the next one in one
// transaction; next == "" marks the listing complete. Rows already stored
// (the archive repeats rows across pages) are ignored.
func (db *DB) AppendListingPage(ctx context.Context, l *Listing, rows []CDXRow, next string) error {
	op := fmt.Sprintf("store cdx page %d of %s", l.Pages+1, l.URL)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	for _, r := range rows {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO cdx_rows (listing_id, timestamp, original, urlkey, mimetype, status, digest, length)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, l.ID, r.Timestamp, r.Original, r.URLKey, r.MimeType, r.Status, r.Digest, r.Length); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	complete := next == ""
	if _, err := tx.ExecContext(ctx, `UPDATE cdx_listings SET resume_key = ?, pages = pages + 1, complete = ?, updated_at = ? WHERE id = ?`,
		next, complete, db.now(), l.ID); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	l.ResumeKey, l.Complete = next, complete
	l.Pages++
	return nil
}

// FinishListings marks the vendor's listings as used by a history run that
// finished, so that the next run lists the archive afresh.
func (db *DB) FinishListings(ctx context.Context, vendorID int64) error {
	if _, err := db.db.ExecContext(ctx, `UPDATE cdx_listings SET done = 1, updated_at = ? WHERE vendor_id = ? AND done = 0`,
		db.now(), vendorID); err != nil {
		return fmt.Errorf("finish listings of vendor %d: %w", vendorID, err)
	}
	return nil
}

// ListingRows returns a listing's rows, oldest first.
func (db *DB) ListingRows(ctx context.Context, l *Listing) ([]CDXRow, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT timestamp, original, urlkey, mimetype, status, digest, length
		FROM cdx_rows WHERE listing_id = ? ORDER BY timestamp, original`, l.ID)
	if err != nil {
		return nil, fmt.Errorf("rows of listing %d: %w", l.ID, err)
	}
	defer rows.Close()
	var out []CDXRow
	for rows.Next() {
		var r CDXRow
		if err := rows.Scan(&r.Timestamp, &r.Original, &r.URLKey, &r.MimeType, &r.Status, &r.Digest, &r.Length); err != nil {
			return nil, fmt.Errorf("rows of listing %d: %w", l.ID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rows of listing %d: %w", l.ID, err)
	}
	return out, nil
}

// VersionAfter returns the version of the vendor's oldest version-bearing
// capture strictly after ts, with that capture: the version a capture
// recorded in the middle of the history must also be compared with.
// ErrNotFound when there is none.
func (db *DB) VersionAfter(ctx context.Context, vendorID int64, ts string) (*Version, *Capture, error) {
	c, err := scanCapture(db.db.QueryRowContext(ctx, `SELECT `+captureCols+` FROM captures
		WHERE vendor_id = ? AND version_id IS NOT NULL AND timestamp > ?
		ORDER BY timestamp, id LIMIT 1`, vendorID, ts))
	if err != nil {
		return nil, nil, fmt.Errorf("version of vendor %d after %s: %w", vendorID, ts, err)
	}
	v, err := versionByID(ctx, db.db, c.VersionID)
	if err != nil {
		return nil, nil, err
	}
	return v, c, nil
}

// RecordInferred records captures that were not fetched because the
// version-bearing captures on both sides of them carry version versionID, in
// one transaction. They carry that version (they count as its captures)
// with VerdictInferred and reason saying which captures the assumption rests
// on. Rows already recorded are skipped. It fails with ErrConflict when the
// neighbours no longer carry versionID, so that an assumption is never
// recorded on a history that moved under it.
func (db *DB) RecordInferred(ctx context.Context, vendorID, versionID int64, extractor, reason string, caps []Capture) (int, error) {
	if len(caps) == 0 {
		return 0, nil
	}
	op := fmt.Sprintf("record %d inferred captures of vendor %d", len(caps), vendorID)
	lo, hi := caps[0].Timestamp, caps[0].Timestamp
	for _, c := range caps {
		lo, hi = min(lo, c.Timestamp), max(hi, c.Timestamp)
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	var before, after, other int64
	if err := tx.QueryRowContext(ctx, `SELECT
		COALESCE((SELECT version_id FROM captures WHERE vendor_id = ?1 AND version_id IS NOT NULL AND timestamp < ?2 ORDER BY timestamp DESC, id DESC LIMIT 1), 0),
		COALESCE((SELECT version_id FROM captures WHERE vendor_id = ?1 AND version_id IS NOT NULL AND timestamp > ?3 ORDER BY timestamp, id LIMIT 1), 0),
		(SELECT COUNT(*) FROM captures WHERE vendor_id = ?1 AND version_id IS NOT NULL AND version_id <> ?4 AND timestamp BETWEEN ?2 AND ?3)`,
		vendorID, lo, hi, versionID).Scan(&before, &after, &other); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	if before != versionID || after != versionID || other != 0 {
		return 0, fmt.Errorf("%s: the captures around them no longer all carry version %d: %w", op, versionID, ErrConflict)
	}
	n := 0
	for _, c := range caps {
		r, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO captures (vendor_id, timestamp, original, urlkey, mimetype, cdx_status,
			digest, length, fetched, verdict, verdict_reason, version_id, extractor, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)`,
			vendorID, c.Timestamp, c.Original, c.URLKey, c.MimeType, c.CDXStatus, c.Digest, c.Length,
			VerdictInferred, reason, versionID, extractor, db.now())
		if err != nil {
			return 0, fmt.Errorf("%s: %w", op, err)
		}
		k, err := r.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", op, err)
		}
		n += int(k)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	return n, nil
}

// ForgetInferred deletes inferred captures (and only those) so that history
// can fetch them after all. Inferred captures are never the ends of a
// change, so nothing else points at them.
func (db *DB) ForgetInferred(ctx context.Context, vendorID int64, caps []Capture) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("forget inferred captures: %w", err)
	}
	defer tx.Rollback()
	for _, c := range caps {
		if _, err := tx.ExecContext(ctx, `DELETE FROM captures WHERE vendor_id = ? AND timestamp = ? AND original = ? AND verdict = ?`,
			vendorID, c.Timestamp, c.Original, VerdictInferred); err != nil {
			return fmt.Errorf("forget inferred capture %s: %w", c.Timestamp, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("forget inferred captures: %w", err)
	}
	return nil
}

// UpdateChangeReport replaces a change's comparison (kinds, severity,
// report) while its versions and window stay. History uses it when a capture
// recorded later shows that a change returns to an earlier text (a
// flip-back), which was not known when the change was first recorded.
func (db *DB) UpdateChangeReport(ctx context.Context, ch *Change, d *diffing.Change) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("update change %d: %w", ch.ID, err)
	}
	defer tx.Rollback()
	if err := db.updateChange(ctx, tx, ch.ID, ch.FromVersionID, ch.ToVersionID, d); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("update change %d: %w", ch.ID, err)
	}
	return nil
}
