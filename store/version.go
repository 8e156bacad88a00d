package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/policywatch/policywatch/snapshot"
)

// Version is one distinct extracted text of a vendor's policy.
type Version struct {
	ID             int64
	VendorID       int64
	SHA256         string // of the normalised Markdown
	Title          string
	Body           string
	StatedDate     string // YYYY-MM-DD or ""
	StatedDateText string
	Extractor      string // extraction fingerprint that produced the text
	CreatedAt      time.Time

	First    *Capture // the first capture with this text
	Last     *Capture // the last capture with this text
	Captures int      // how many captures carry this text
}

// Document returns the version as the extractor's Document, for diffing.
func (v *Version) Document() *snapshot.Document {
	return &snapshot.Document{
		Title:          v.Title,
		Body:           v.Body,
		StatedDate:     v.StatedDate,
		StatedDateText: v.StatedDateText,
		Quality:        snapshot.Quality{Verdict: snapshot.VerdictOK},
	}
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ensureVersion finds the vendor's version with doc's text, or inserts it. A
// text that was first produced by another extractor is claimed by this one.
func (db *DB) ensureVersion(ctx context.Context, tx *sql.Tx, vendorID int64, extractor string, doc *snapshot.Document) (*Version, bool, error) {
	hash := snapshot.Hash(doc.Markdown())
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM versions WHERE vendor_id = ? AND sha256 = ?`, vendorID, hash).Scan(&id)
	if err == nil {
		if _, err := tx.ExecContext(ctx, `UPDATE versions SET extractor = ? WHERE id = ? AND extractor <> ?`, extractor, id, extractor); err != nil {
			return nil, false, fmt.Errorf("claim version: %w", err)
		}
		return &Version{ID: id}, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, false, fmt.Errorf("find version: %w", err)
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO versions (vendor_id, sha256, title, body, stated_date, stated_date_text, extractor, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, vendorID, hash, doc.Title, doc.Body, nullStr(doc.StatedDate), nullStr(doc.StatedDateText), extractor, db.now())
	if err != nil {
		return nil, false, fmt.Errorf("insert version: %w", err)
	}
	if id, err = r.LastInsertId(); err != nil {
		return nil, false, fmt.Errorf("insert version: %w", err)
	}
	return &Version{ID: id}, true, nil
}

const versionCols = `v.id, v.vendor_id, v.sha256, v.title, v.body, COALESCE(v.stated_date, ''), COALESCE(v.stated_date_text, ''), v.extractor, v.created_at`

// versionByID loads a version with its first and last captures.
func versionByID(ctx context.Context, q querier, id int64) (*Version, error) {
	var v Version
	var created string
	err := q.QueryRowContext(ctx, `SELECT `+versionCols+` FROM versions v WHERE v.id = ?`, id).
		Scan(&v.ID, &v.VendorID, &v.SHA256, &v.Title, &v.Body, &v.StatedDate, &v.StatedDateText, &v.Extractor, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("version %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("version %d: %w", id, err)
	}
	v.CreatedAt, _ = time.Parse(time.RFC3339, created)
	if v.First, err = scanCapture(q.QueryRowContext(ctx, `SELECT `+captureCols+` FROM captures WHERE version_id = ? ORDER BY timestamp, id LIMIT 1`, id)); err != nil {
		return nil, fmt.Errorf("version %d first capture: %w", id, err)
	}
	if v.Last, err = scanCapture(q.QueryRowContext(ctx, `SELECT `+captureCols+` FROM captures WHERE version_id = ? ORDER BY timestamp DESC, id DESC LIMIT 1`, id)); err != nil {
		return nil, fmt.Errorf("version %d last capture: %w", id, err)
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM captures WHERE version_id = ?`, id).Scan(&v.Captures); err != nil {
		return nil, fmt.Errorf("version %d: %w", id, err)
	}
	return &v, nil
}

// VersionByID returns one version with its first and last captures.
func (db *DB) VersionByID(ctx context.Context, id int64) (*Version, error) {
	return versionByID(ctx, db.db, id)
}

// Versions returns the vendor's distinct versions in the order they first
// appeared in the archive.
func (db *DB) Versions(ctx context.Context, vendorID int64) ([]*Version, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT v.id FROM versions v
		JOIN captures c ON c.version_id = v.id
		WHERE v.vendor_id = ?
		GROUP BY v.id ORDER BY MIN(c.timestamp), v.id`, vendorID)
	if err != nil {
		return nil, fmt.Errorf("versions of vendor %d: %w", vendorID, err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("versions of vendor %d: %w", vendorID, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("versions of vendor %d: %w", vendorID, err)
	}
	out := make([]*Version, 0, len(ids))
	for _, id := range ids {
		v, err := versionByID(ctx, db.db, id)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// VersionAt returns the version in effect at the timestamp ts (1–14 digits):
// the version of the newest version-bearing capture at or before it, together
// with that capture.
func (db *DB) VersionAt(ctx context.Context, vendorID int64, ts string) (*Version, *Capture, error) {
	upper, err := normaliseTimestamp(ts, true)
	if err != nil {
		return nil, nil, err
	}
	return db.versionBefore(ctx, vendorID, "<=", upper)
}

// VersionBefore returns the version of the vendor's newest version-bearing
// capture strictly before ts, with that capture: the version a new capture at
// ts must be compared with. ErrNotFound when there is none.
func (db *DB) VersionBefore(ctx context.Context, vendorID int64, ts string) (*Version, *Capture, error) {
	return db.versionBefore(ctx, vendorID, "<", ts)
}

func (db *DB) versionBefore(ctx context.Context, vendorID int64, cmp, ts string) (*Version, *Capture, error) {
	c, err := scanCapture(db.db.QueryRowContext(ctx, `SELECT `+captureCols+` FROM captures
		WHERE vendor_id = ? AND version_id IS NOT NULL AND timestamp `+cmp+` ?
		ORDER BY timestamp DESC, id DESC LIMIT 1`, vendorID, ts))
	if err != nil {
		return nil, nil, fmt.Errorf("version of vendor %d at %s: %w", vendorID, ts, err)
	}
	v, err := versionByID(ctx, db.db, c.VersionID)
	if err != nil {
		return nil, nil, err
	}
	return v, c, nil
}

// SeenText reports whether a capture of the vendor already carried the text
// with this hash: a new capture with it is a flip-back (A/B pages, flapping
// captures), not a new text. Versions left behind by an older extractor,
// which no capture points at, do not count.
func (db *DB) SeenText(ctx context.Context, vendorID int64, sha string) (bool, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM versions v JOIN captures c ON c.version_id = v.id
		WHERE v.vendor_id = ? AND v.sha256 = ?`, vendorID, sha).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("seen text: %w", err)
	}
	return n > 0, nil
}
