// Package store keeps policywatch's data in one SQLite file (modernc.org/sqlite,
// pure Go): vendors, every capture processed, the raw bytes of every capture
// (compressed and de-duplicated by SHA-256, so any version can be re-extracted
// later), the distinct versions of each policy and the changes between them.
//
// The invariant this package exists to keep: one capture is recorded in one
// transaction together with its body, its version and its change, so a crash at
// any point leaves all of them or none, and a rerun never duplicates anything.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when a vendor, capture or version does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when the data changed between a caller's read and its
// write, which means two writers worked on one vendor at once.
var ErrConflict = errors.New("conflict: the vendor's history changed during the write")

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the policywatch database. It is safe for concurrent use.
type DB struct {
	db   *sql.DB
	path string

	// Now returns the current time; tests replace it for stable output.
	Now func() time.Time
}

// Open opens (creating if needed) the SQLite file at path and applies any
// pending migrations. The pragmas live in the DSN so that every pooled
// connection gets them, and write transactions start IMMEDIATE so concurrent
// writers wait on busy_timeout instead of failing with SQLITE_BUSY.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: no path given (set `database:` in the config)")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open database %q: the path may not contain '?' or '#'", path)
	}
	if dir := filepath.Dir(path); dir != "." {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("open database %q: directory %q does not exist; create it or change `database:` in the config", path, dir)
		}
	}
	dsn := "file:" + path +
		"?_pragma=busy_timeout(5000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)" +
		"&_txlock=immediate"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	db := &DB{db: sqldb, path: path, Now: time.Now}
	if err := db.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open database %q: %w", path, err)
	}
	return db, nil
}

// Close closes the database. It is safe to call more than once.
func (db *DB) Close() error {
	if db == nil || db.db == nil {
		return nil
	}
	return db.db.Close()
}

// Path returns the file the database lives in.
func (db *DB) Path() string { return db.path }

// migrate applies the embedded migrations that have not run yet, each in its
// own transaction, in file-name order.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	buf, err := fs.ReadFile(migrations, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(buf)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, name, db.now()); err != nil {
		return err
	}
	return tx.Commit()
}

func (db *DB) now() string { return db.Now().UTC().Format(time.RFC3339) }
