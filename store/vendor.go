package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Vendor is one watched policy document.
type Vendor struct {
	ID        int64
	Name      string
	URL       string
	CreatedAt time.Time

	// The outcome of the latest pass (RecordPassOutcome): when it ended,
	// when a pass last succeeded, and the latest pass's error, "" when it
	// succeeded. Zero times mean no pass has been recorded.
	LastPassAt    time.Time
	LastOKAt      time.Time
	LastPassError string
}

const vendorCols = `id, name, url, created_at, COALESCE(last_pass_at, ''), COALESCE(last_ok_at, ''), last_pass_error`

// EnsureVendor returns the vendor called name, creating it, or updating its URL
// when the config now names another one. Names compare case-insensitively.
func (db *DB) EnsureVendor(ctx context.Context, name, url string) (*Vendor, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("ensure vendor %q: %w", name, err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `INSERT INTO vendors (name, url, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET url = excluded.url WHERE url <> excluded.url`, name, url, db.now())
	if err != nil {
		return nil, fmt.Errorf("ensure vendor %q: %w", name, err)
	}
	v, err := scanVendor(tx.QueryRowContext(ctx, `SELECT `+vendorCols+` FROM vendors WHERE name = ?`, name))
	if err != nil {
		return nil, fmt.Errorf("ensure vendor %q: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("ensure vendor %q: %w", name, err)
	}
	return v, nil
}

// VendorByName returns the vendor called name (case-insensitive), or ErrNotFound.
func (db *DB) VendorByName(ctx context.Context, name string) (*Vendor, error) {
	v, err := scanVendor(db.db.QueryRowContext(ctx, `SELECT `+vendorCols+` FROM vendors WHERE name = ?`, name))
	if err != nil {
		return nil, fmt.Errorf("vendor %q: %w", name, err)
	}
	return v, nil
}

// Vendors returns every vendor, by name.
func (db *DB) Vendors(ctx context.Context) ([]*Vendor, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+vendorCols+` FROM vendors ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list vendors: %w", err)
	}
	defer rows.Close()
	var out []*Vendor
	for rows.Next() {
		v, err := scanVendor(rows)
		if err != nil {
			return nil, fmt.Errorf("list vendors: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanVendor(s scanner) (*Vendor, error) {
	var v Vendor
	var created, lastPass, lastOK string
	if err := s.Scan(&v.ID, &v.Name, &v.URL, &created, &lastPass, &lastOK, &v.LastPassError); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	v.CreatedAt, _ = time.Parse(time.RFC3339, created)
	v.LastPassAt, _ = time.Parse(time.RFC3339, lastPass)
	v.LastOKAt, _ = time.Parse(time.RFC3339, lastOK)
	return &v, nil
}

// RecordPassOutcome records how a vendor's pass ended: passErr is nil when it
// succeeded. Only the latest outcome is kept; the logs and /metrics have the
// rest. The error text is stored as it is, so callers must not put secrets in
// errors (none of policywatch's do: URLs carry no credentials).
func (db *DB) RecordPassOutcome(ctx context.Context, vendorID int64, at time.Time, passErr error) error {
	ts := at.UTC().Format(time.RFC3339)
	msg := ""
	if passErr != nil {
		msg = passErr.Error()
	}
	_, err := db.db.ExecContext(ctx, `UPDATE vendors SET last_pass_at = ?, last_pass_error = ?,
		last_ok_at = CASE WHEN ? = '' THEN ? ELSE last_ok_at END WHERE id = ?`, ts, msg, msg, ts, vendorID)
	if err != nil {
		return fmt.Errorf("record pass outcome of vendor %d: %w", vendorID, err)
	}
	return nil
}
