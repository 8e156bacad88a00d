package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/policywatch/policywatch/diffing"
)

// Causes of a change.
const (
	CauseArchive   = "archive"   // the vendor's page changed between two captures
	CauseExtractor = "extractor" // policywatch's extraction of the same bytes changed; never alerted
)

// Change is a transition from one version to another, with its window: the
// last capture that had the old text and the first capture with the new one.
// The change happened somewhere between the two; policywatch never claims a
// more precise time than that.
type Change struct {
	ID            int64
	VendorID      int64
	FromVersionID int64
	ToVersionID   int64
	Cause         string // CauseArchive or CauseExtractor
	OldCapture    *Capture
	NewCapture    *Capture
	OldStatedDate string
	NewStatedDate string
	TextChanged   bool
	DateChanged   bool
	LinesAdded    int
	LinesRemoved  int
	Kinds         []string
	Severity      int
	SeverityLevel string
	// Report is the clause-level comparison as recorded (diffing.Change
	// without the line diff), so that alerts and pages show what was found
	// when the change was detected.
	Report    *diffing.Change
	CreatedAt time.Time
}

func (db *DB) insertChange(ctx context.Context, tx *sql.Tx, prev, cur *Capture, cause string, d *diffing.Change) (*Change, error) {
	ch := &Change{
		Cause:         cause,
		VendorID:      cur.VendorID,
		FromVersionID: prev.VersionID,
		ToVersionID:   cur.VersionID,
		OldCapture:    prev,
		NewCapture:    cur,
		OldStatedDate: d.OldDate,
		NewStatedDate: d.NewDate,
		TextChanged:   d.TextChanged,
		DateChanged:   d.DateChanged,
		LinesAdded:    d.LinesAdded,
		LinesRemoved:  d.LinesRemoved,
		Kinds:         d.Kinds,
		Severity:      d.Severity.Score,
		SeverityLevel: d.Severity.Level,
		Report:        d,
		CreatedAt:     db.Now().UTC().Truncate(time.Second),
	}
	report, err := encodeReport(d)
	if err != nil {
		return nil, err
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO changes (vendor_id, from_version_id, to_version_id, old_capture_id,
		new_capture_id, cause, old_stated_date, new_stated_date, text_changed, date_changed, lines_added, lines_removed,
		kinds, severity, severity_level, report, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ch.VendorID, ch.FromVersionID, ch.ToVersionID, prev.ID, cur.ID, cause, nullStr(ch.OldStatedDate), nullStr(ch.NewStatedDate),
		ch.TextChanged, ch.DateChanged, ch.LinesAdded, ch.LinesRemoved, strings.Join(ch.Kinds, ","), ch.Severity, ch.SeverityLevel,
		report, ch.CreatedAt.Format(time.RFC3339))
	if err != nil {
		return nil, fmt.Errorf("insert change: %w", err)
	}
	if ch.ID, err = r.LastInsertId(); err != nil {
		return nil, fmt.Errorf("insert change: %w", err)
	}
	return ch, nil
}

// Changes returns the vendor's changes of the given cause ("" for all), in
// archive order.
func (db *DB) Changes(ctx context.Context, vendorID int64, cause string) ([]*Change, error) {
	return db.changes(ctx, db.db, vendorID, cause)
}

func (db *DB) changes(ctx context.Context, q querier, vendorID int64, cause string) ([]*Change, error) {
	out, err := db.changesWhere(ctx, q, `ch.vendor_id = ? AND (? = '' OR ch.cause = ?)`, vendorID, cause, cause)
	if err != nil {
		return nil, fmt.Errorf("changes of vendor %d: %w", vendorID, err)
	}
	return out, nil
}

// changesWhere returns the changes matching a condition on the changes
// table (aliased ch), in archive order.
func (db *DB) changesWhere(ctx context.Context, q querier, where string, args ...any) ([]*Change, error) {
	rows, err := q.QueryContext(ctx, `SELECT ch.id, ch.vendor_id, ch.from_version_id, ch.to_version_id, ch.cause,
		ch.old_capture_id, ch.new_capture_id, COALESCE(ch.old_stated_date, ''), COALESCE(ch.new_stated_date, ''),
		ch.text_changed, ch.date_changed, ch.lines_added, ch.lines_removed, ch.kinds, ch.severity, ch.severity_level, ch.report, ch.created_at
		FROM changes ch JOIN captures c ON c.id = ch.new_capture_id
		WHERE `+where+` ORDER BY c.timestamp, ch.id`, args...)
	if err != nil {
		return nil, err
	}
	type row struct {
		ch         Change
		oldID, new int64
	}
	var list []row
	for rows.Next() {
		var r row
		var created, kinds, report string
		if err := rows.Scan(&r.ch.ID, &r.ch.VendorID, &r.ch.FromVersionID, &r.ch.ToVersionID, &r.ch.Cause, &r.oldID, &r.new,
			&r.ch.OldStatedDate, &r.ch.NewStatedDate, &r.ch.TextChanged, &r.ch.DateChanged,
			&r.ch.LinesAdded, &r.ch.LinesRemoved, &kinds, &r.ch.Severity, &r.ch.SeverityLevel, &report, &created); err != nil {
			rows.Close()
			return nil, err
		}
		r.ch.CreatedAt, _ = time.Parse(time.RFC3339, created)
		if kinds != "" {
			r.ch.Kinds = strings.Split(kinds, ",")
		}
		if r.ch.Report, err = decodeReport(report); err != nil {
			rows.Close()
			return nil, fmt.Errorf("change %d: %w", r.ch.ID, err)
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]*Change, 0, len(list))
	for i := range list {
		ch := list[i].ch
		if ch.OldCapture, err = captureByID(ctx, q, list[i].oldID); err != nil {
			return nil, err
		}
		if ch.NewCapture, err = captureByID(ctx, q, list[i].new); err != nil {
			return nil, err
		}
		out = append(out, &ch)
	}
	return out, nil
}

// encodeReport stores a change's comparison without its line diff, which can
// be recomputed from the two versions and would double the row's size.
func encodeReport(d *diffing.Change) (string, error) {
	c := *d
	c.Unified = ""
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode change report: %w", err)
	}
	return string(b), nil
}

func decodeReport(s string) (*diffing.Change, error) {
	if s == "" {
		return nil, nil
	}
	var c diffing.Change
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return nil, fmt.Errorf("decode change report: %w", err)
	}
	return &c, nil
}

// severityLevels are diffing's levels, lowest first.
var severityLevels = diffing.Levels

// ChangeFilter selects changes for RecentChanges. Zero fields select all.
type ChangeFilter struct {
	VendorID int64  // one vendor's changes
	Cause    string // CauseArchive or CauseExtractor
	// MinLevel keeps changes of this severity level or above (none, low,
	// medium, high).
	MinLevel string
	// Before keeps changes whose first new capture is older than this
	// 14-digit timestamp: the cursor of the next page.
	Before string
	Limit  int // at most this many (default 50)
}

// RecentChanges returns the changes matching f, newest first by the first
// capture with the new text: what a reader of a feed or the API wants first.
func (db *DB) RecentChanges(ctx context.Context, f ChangeFilter) ([]*Change, error) {
	where := []string{"1 = 1"}
	var args []any
	if f.VendorID != 0 {
		where = append(where, "ch.vendor_id = ?")
		args = append(args, f.VendorID)
	}
	if f.Cause != "" {
		where = append(where, "ch.cause = ?")
		args = append(args, f.Cause)
	}
	if f.MinLevel != "" {
		i := slices.Index(severityLevels, f.MinLevel)
		if i < 0 {
			return nil, fmt.Errorf("recent changes: severity level %q: want one of %s", f.MinLevel, strings.Join(severityLevels, ", "))
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(severityLevels)-i), ", ")
		where = append(where, "ch.severity_level IN ("+marks+")")
		for _, l := range severityLevels[i:] {
			args = append(args, l)
		}
	}
	if f.Before != "" {
		where = append(where, "c.timestamp < ?")
		args = append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	// changesWhere sorts oldest first; the newest ids are picked here, so
	// that only one page of rows is decoded.
	rows, err := db.db.QueryContext(ctx, `SELECT ch.id FROM changes ch JOIN captures c ON c.id = ch.new_capture_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY c.timestamp DESC, ch.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("recent changes: %w", err)
	}
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("recent changes: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent changes: %w", err)
	}
	if len(ids) == 0 {
		return []*Change{}, nil
	}
	out, err := db.changesWhere(ctx, db.db, "ch.id IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")+")", ids...)
	if err != nil {
		return nil, fmt.Errorf("recent changes: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}

// ChangeByID returns one change, or ErrNotFound.
func (db *DB) ChangeByID(ctx context.Context, id int64) (*Change, error) {
	out, err := db.changesWhere(ctx, db.db, "ch.id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("change %d: %w", id, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("change %d: %w", id, ErrNotFound)
	}
	return out[0], nil
}
