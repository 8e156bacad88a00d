package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/snapshot"
)

// Reextracted is the new extraction result of one stored capture.
type Reextracted struct {
	CaptureID     int64
	Verdict       string
	VerdictReason string
	Charset       string
	// Document is set when the capture holds a policy text (OK verdict).
	Document *snapshot.Document
	// Change compares Document with the previous entry that has a Document,
	// when their texts differ. The caller computes it (store does no diffing).
	Change *diffing.Change
}

// ReplaceInput is a whole vendor's re-extraction.
type ReplaceInput struct {
	VendorID  int64
	Extractor string // the fingerprint of the extraction that produced Captures
	// Captures lists every capture of the vendor that was re-extracted,
	// oldest first. Captures not listed keep their verdict and lose their
	// version only if they had none.
	Captures []Reextracted
	// LastCaptureID is the newest capture id the caller saw; a capture
	// recorded since (by a concurrent fetch) makes the replacement fail with
	// ErrConflict rather than silently skip it.
	LastCaptureID int64
	// ExtractorChange compares the vendor's latest version before the
	// re-extraction with the latest after, when their texts differ: a change
	// made by policywatch, not by the vendor.
	ExtractorChange *diffing.Change
}

// ReplaceResult says what a re-extraction moved.
type ReplaceResult struct {
	Captures        int
	VerdictsChanged int
	VersionsBefore  int
	VersionsAfter   int
	ChangesBefore   int
	ChangesAfter    int
	Removed         []*Change // archive changes that no longer exist (they were extraction noise)
	Added           []*Change // archive changes that appeared (hidden before, or new text boundaries)
	Updated         int       // archive changes whose window stands but whose texts were re-extracted
	ExtractorChange *Change   // recorded with CauseExtractor; nil when the latest text is unchanged
}

// ReplaceExtraction rewrites a vendor's versions and changes from a new
// extraction of its stored captures, in one transaction. Archive changes
// whose window and texts are unchanged keep their rows (and ids); others are
// removed or added. Versions no capture points at any more stay in the table
// as the record of what the older extractor produced. The difference in the
// latest text, if any, is recorded as a change with CauseExtractor so that it
// is visible but never alerted.
func (db *DB) ReplaceExtraction(ctx context.Context, in ReplaceInput) (*ReplaceResult, error) {
	op := fmt.Sprintf("re-extract vendor %d", in.VendorID)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()

	var lastID int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM captures WHERE vendor_id = ?`, in.VendorID).Scan(&lastID); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if lastID != in.LastCaptureID {
		return nil, fmt.Errorf("%s: captures were recorded while re-extracting; run it again: %w", op, ErrConflict)
	}
	res := &ReplaceResult{Captures: len(in.Captures)}
	if res.VersionsBefore, err = countVersions(ctx, tx, in.VendorID); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	oldChanges, err := db.changes(ctx, tx, in.VendorID, CauseArchive)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	res.ChangesBefore = len(oldChanges)
	var latestBefore int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT version_id FROM captures WHERE vendor_id = ? AND version_id IS NOT NULL
		ORDER BY timestamp DESC, id DESC LIMIT 1), 0)`, in.VendorID).Scan(&latestBefore); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}

	// Re-point every listed capture at its new version.
	for _, r := range in.Captures {
		c, err := captureByID(ctx, tx, r.CaptureID)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if c.VendorID != in.VendorID {
			return nil, fmt.Errorf("%s: capture %d belongs to vendor %d", op, c.ID, c.VendorID)
		}
		var versionID int64
		if r.Document != nil && r.Document.Quality.OK() {
			v, _, err := db.ensureVersion(ctx, tx, in.VendorID, in.Extractor, r.Document)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			versionID = v.ID
		}
		if c.Verdict != r.Verdict || c.VersionID != versionID {
			res.VerdictsChanged++
		}
		if _, err := tx.ExecContext(ctx, `UPDATE captures SET verdict = ?, verdict_reason = ?, charset = ?, version_id = ?, extractor = ?
			WHERE id = ?`, r.Verdict, r.VerdictReason, nullStr(r.Charset), nullInt64(versionID), in.Extractor, c.ID); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}

	// Inferred captures follow the fetched captures they were inferred from.
	if err := db.reinfer(ctx, tx, in.VendorID); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}

	// Recompute the archive changes over the new versions.
	keep := map[int64]bool{}
	changeOf := map[int64]*diffing.Change{}
	for i := range in.Captures {
		if in.Captures[i].Change != nil {
			changeOf[in.Captures[i].CaptureID] = in.Captures[i].Change
		}
	}
	caps, err := capturesOf(ctx, tx, in.VendorID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var prev *Capture
	for _, c := range caps {
		if c.VersionID == 0 {
			continue
		}
		if prev != nil && prev.VersionID != c.VersionID {
			d := changeOf[c.ID]
			old := findChange(oldChanges, prev.ID, c.ID)
			switch {
			case old != nil && old.FromVersionID == prev.VersionID && old.ToVersionID == c.VersionID:
				keep[old.ID] = true
			case d == nil:
				return nil, fmt.Errorf("%s: capture %s has a new text but no change was given", op, c.Timestamp)
			case old != nil:
				// Same window, other texts: the change stands, its content moved.
				if err := db.updateChange(ctx, tx, old.ID, prev.VersionID, c.VersionID, d); err != nil {
					return nil, fmt.Errorf("%s: %w", op, err)
				}
				keep[old.ID] = true
				res.Updated++
			default:
				ch, err := db.insertChange(ctx, tx, prev, c, CauseArchive, d)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", op, err)
				}
				res.Added = append(res.Added, ch)
			}
		}
		prev = c
	}
	for _, ch := range oldChanges {
		if keep[ch.ID] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM changes WHERE id = ?`, ch.ID); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		res.Removed = append(res.Removed, ch)
	}
	res.ChangesAfter = res.ChangesBefore - len(res.Removed) + len(res.Added)
	if res.VersionsAfter, err = countVersions(ctx, tx, in.VendorID); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}

	if prev != nil && latestBefore != 0 && latestBefore != prev.VersionID {
		if in.ExtractorChange == nil {
			return nil, fmt.Errorf("%s: the latest text changed but no extractor change was given", op)
		}
		old := *prev
		old.VersionID = latestBefore
		// Replace an earlier extractor change at the same capture: only the
		// latest difference between extractors is worth keeping there.
		if _, err := tx.ExecContext(ctx, `DELETE FROM changes WHERE new_capture_id = ? AND cause = ?`, prev.ID, CauseExtractor); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if res.ExtractorChange, err = db.insertChange(ctx, tx, &old, prev, CauseExtractor, in.ExtractorChange); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}

	if _, err := tx.ExecContext(ctx, `INSERT INTO reextractions (vendor_id, extractor, captures, verdicts_changed, versions_before,
		versions_after, changes_before, changes_after, changes_removed, changes_added, latest_changed, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, in.VendorID, in.Extractor, res.Captures, res.VerdictsChanged,
		res.VersionsBefore, res.VersionsAfter, res.ChangesBefore, res.ChangesAfter, len(res.Removed), len(res.Added),
		res.ExtractorChange != nil, db.now()); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return res, nil
}

// findChange returns the old change with the same window.
func findChange(list []*Change, oldCapture, newCapture int64) *Change {
	for _, ch := range list {
		if ch.OldCapture.ID == oldCapture && ch.NewCapture.ID == newCapture {
			return ch
		}
	}
	return nil
}

func (db *DB) updateChange(ctx context.Context, tx *sql.Tx, id, from, to int64, d *diffing.Change) error {
	report, err := encodeReport(d)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE changes SET from_version_id = ?, to_version_id = ?, old_stated_date = ?, new_stated_date = ?,
		text_changed = ?, date_changed = ?, lines_added = ?, lines_removed = ?, kinds = ?, severity = ?, severity_level = ?, report = ?
		WHERE id = ?`,
		from, to, nullStr(d.OldDate), nullStr(d.NewDate), d.TextChanged, d.DateChanged, d.LinesAdded, d.LinesRemoved,
		strings.Join(d.Kinds, ","), d.Severity.Score, d.Severity.Level, report, id)
	if err != nil {
		return fmt.Errorf("update change %d: %w", id, err)
	}
	return nil
}

// countVersions counts the versions that captures point at.
func countVersions(ctx context.Context, q querier, vendorID int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(DISTINCT version_id) FROM captures WHERE vendor_id = ? AND version_id IS NOT NULL`, vendorID).Scan(&n)
	return n, err
}

func capturesOf(ctx context.Context, q querier, vendorID int64) ([]*Capture, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+captureCols+` FROM captures WHERE vendor_id = ? ORDER BY timestamp, id`, vendorID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Capture
	for rows.Next() {
		c, err := scanCapture(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// NeedsReextract reports whether any of the vendor's captures that hold a
// playable body were judged by an extraction other than extractor, so that a
// new capture would be compared with text made another way.
func (db *DB) NeedsReextract(ctx context.Context, vendorID int64, extractor string) (bool, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM captures WHERE vendor_id = ? AND extractor <> ?
		AND body_sha256 IS NOT NULL AND truncated = 0 AND COALESCE(http_status, 0) BETWEEN 200 AND 299 AND verdict <> ?`,
		vendorID, extractor, VerdictHomePage).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("needs re-extract: %w", err)
	}
	return n > 0, nil
}

// reinfer re-points inferred captures at the version their fetched
// neighbours now share. When the neighbours no longer share one (the new
// extraction tells them apart), the assumption behind the inferred rows is
// gone: they are deleted, so that the next history run bisects there. They
// hold no body, only a CDX row the archive lists again.
func (db *DB) reinfer(ctx context.Context, tx *sql.Tx, vendorID int64) error {
	caps, err := capturesOf(ctx, tx, vendorID)
	if err != nil {
		return err
	}
	var prev int64 // version of the last fetched version-bearing capture
	var pending []*Capture
	flush := func(next int64) error {
		for _, c := range pending {
			var err error
			if prev != 0 && prev == next {
				_, err = tx.ExecContext(ctx, `UPDATE captures SET version_id = ? WHERE id = ?`, next, c.ID)
			} else {
				_, err = tx.ExecContext(ctx, `DELETE FROM captures WHERE id = ?`, c.ID)
			}
			if err != nil {
				return fmt.Errorf("re-infer capture %s: %w", c.Timestamp, err)
			}
		}
		pending = pending[:0]
		return nil
	}
	for _, c := range caps {
		switch {
		case c.Verdict == VerdictInferred:
			pending = append(pending, c)
		case c.VersionID != 0:
			if err := flush(c.VersionID); err != nil {
				return err
			}
			prev = c.VersionID
		}
	}
	return flush(0)
}
