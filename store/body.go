package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// SHA256 returns the hex SHA-256 of b, the key raw bodies are stored under.
func SHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// putBody stores raw compressed, once per distinct content, and returns its key.
func putBody(ctx context.Context, tx *sql.Tx, raw []byte) (string, error) {
	key := SHA256(raw)
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM bodies WHERE sha256 = ?`, key).Scan(&n); err != nil {
		return "", fmt.Errorf("store body: %w", err)
	}
	if n > 0 {
		return key, nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(raw); err != nil {
		return "", fmt.Errorf("compress body: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("compress body: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO bodies (sha256, size, encoding, data) VALUES (?, ?, 'gzip', ?)`,
		key, len(raw), buf.Bytes()); err != nil {
		return "", fmt.Errorf("store body: %w", err)
	}
	return key, nil
}

// Body returns the raw bytes stored under the SHA-256 key.
func (db *DB) Body(ctx context.Context, key string) ([]byte, error) {
	var enc string
	var data []byte
	err := db.db.QueryRowContext(ctx, `SELECT encoding, data FROM bodies WHERE sha256 = ?`, key).Scan(&enc, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("body %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("body %s: %w", key, err)
	}
	if enc != "gzip" {
		return nil, fmt.Errorf("body %s: unknown encoding %q", key, enc)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("body %s: %w", key, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("body %s: %w", key, err)
	}
	return raw, nil
}

// CaptureByDigest returns the earliest capture that was fetched in full, with
// a 2xx status, under the given CDX digest. A later capture with the same
// digest has the same payload, so its body can be reused without a request.
func (db *DB) CaptureByDigest(ctx context.Context, digest string) (*Capture, error) {
	if digest == "" || digest == "-" {
		return nil, fmt.Errorf("capture by digest: %w", ErrNotFound)
	}
	c, err := scanCapture(db.db.QueryRowContext(ctx, `SELECT `+captureCols+` FROM captures
		WHERE digest = ? AND body_sha256 IS NOT NULL AND truncated = 0 AND fetched = 1 AND http_status BETWEEN 200 AND 299
		ORDER BY id LIMIT 1`, digest))
	if err != nil {
		return nil, fmt.Errorf("capture by digest %s: %w", digest, err)
	}
	return c, nil
}
