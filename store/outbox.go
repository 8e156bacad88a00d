package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Outbox states.
const (
	AlertPending   = "pending"
	AlertDelivered = "delivered"
	AlertDead      = "dead" // gave up after the configured attempts; `policywatch alerts retry` revives it
)

// Alert is a message to deliver on one channel, as RecordCapture takes it.
type Alert struct {
	Channel string // the configured channel it goes to
	Payload []byte // JSON diffing.Report, fixed at detection time
}

// OutboxItem is one alert in the outbox.
type OutboxItem struct {
	ID            int64
	ChangeID      int64 // 0 for a test alert
	Channel       string
	DeliveryID    string // idempotency key: receivers de-duplicate on it
	Payload       []byte
	State         string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	DeliveredAt   time.Time
}

// newDeliveryID returns a random idempotency key. It is stored with the row,
// so every retry of one alert carries the same key.
func newDeliveryID() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "pwd_" + hex.EncodeToString(b[:]), nil
}

func (db *DB) insertAlert(ctx context.Context, tx *sql.Tx, changeID int64, a Alert) (*OutboxItem, error) {
	id, err := newDeliveryID()
	if err != nil {
		return nil, fmt.Errorf("enqueue alert: %w", err)
	}
	now := db.Now().UTC().Truncate(time.Second)
	r, err := tx.ExecContext(ctx, `INSERT INTO outbox (change_id, channel, delivery_id, payload, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, nullInt64(changeID), a.Channel, id, string(a.Payload), now.Format(time.RFC3339), now.Format(time.RFC3339))
	if err != nil {
		return nil, fmt.Errorf("enqueue alert on %s: %w", a.Channel, err)
	}
	item := &OutboxItem{ChangeID: changeID, Channel: a.Channel, DeliveryID: id, Payload: a.Payload, State: AlertPending,
		NextAttemptAt: now, CreatedAt: now}
	if item.ID, err = r.LastInsertId(); err != nil {
		return nil, fmt.Errorf("enqueue alert: %w", err)
	}
	return item, nil
}

// EnqueueAlert puts an alert into the outbox outside a capture's
// transaction: for `policywatch alerts test` (changeID 0).
func (db *DB) EnqueueAlert(ctx context.Context, changeID int64, a Alert) (*OutboxItem, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("enqueue alert: %w", err)
	}
	defer tx.Rollback()
	item, err := db.insertAlert(ctx, tx, changeID, a)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("enqueue alert: %w", err)
	}
	return item, nil
}

const outboxCols = `id, COALESCE(change_id, 0), channel, delivery_id, payload, state, attempts, next_attempt_at, last_error,
	created_at, COALESCE(delivered_at, '')`

func scanOutbox(s scanner) (*OutboxItem, error) {
	var it OutboxItem
	var payload, next, created, delivered string
	if err := s.Scan(&it.ID, &it.ChangeID, &it.Channel, &it.DeliveryID, &payload, &it.State, &it.Attempts, &next,
		&it.LastError, &created, &delivered); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	it.Payload = []byte(payload)
	it.NextAttemptAt, _ = time.Parse(time.RFC3339, next)
	it.CreatedAt, _ = time.Parse(time.RFC3339, created)
	it.DeliveredAt, _ = time.Parse(time.RFC3339, delivered)
	return &it, nil
}

func (db *DB) queryOutbox(ctx context.Context, where string, args ...any) ([]*OutboxItem, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+outboxCols+` FROM outbox `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer rows.Close()
	var out []*OutboxItem
	for rows.Next() {
		it, err := scanOutbox(rows)
		if err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// DueAlerts returns up to limit pending alerts whose next attempt is due at
// now, oldest first.
func (db *DB) DueAlerts(ctx context.Context, now time.Time, limit int) ([]*OutboxItem, error) {
	return db.queryOutbox(ctx, `WHERE state = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
		AlertPending, now.UTC().Format(time.RFC3339), limit)
}

// Alerts lists the outbox, newest first; state "" means every state.
func (db *DB) Alerts(ctx context.Context, state string, limit int) ([]*OutboxItem, error) {
	return db.queryOutbox(ctx, `WHERE (? = '' OR state = ?) ORDER BY id DESC LIMIT ?`, state, state, limit)
}

// Alert returns one outbox item.
func (db *DB) Alert(ctx context.Context, id int64) (*OutboxItem, error) {
	it, err := scanOutbox(db.db.QueryRowContext(ctx, `SELECT `+outboxCols+` FROM outbox WHERE id = ?`, id))
	if err != nil {
		return nil, fmt.Errorf("alert %d: %w", id, err)
	}
	return it, nil
}

// MarkDelivered records a successful delivery; the row stays as history.
func (db *DB) MarkDelivered(ctx context.Context, id int64) error {
	return db.updateAlert(ctx, id, `UPDATE outbox SET state = ?, attempts = attempts + 1, delivered_at = ?, last_error = '' WHERE id = ?`,
		AlertDelivered, db.now(), id)
}

// MarkFailed records a failed attempt: the alert is tried again at next, or
// dead-lettered when dead is set.
func (db *DB) MarkFailed(ctx context.Context, id int64, reason string, next time.Time, dead bool) error {
	state := AlertPending
	if dead {
		state = AlertDead
	}
	return db.updateAlert(ctx, id, `UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?`,
		state, reason, next.UTC().Format(time.RFC3339), id)
}

// RetryAlert makes a dead or pending alert due now, keeping its delivery id.
func (db *DB) RetryAlert(ctx context.Context, id int64) error {
	return db.updateAlert(ctx, id, `UPDATE outbox SET state = ?, next_attempt_at = ? WHERE id = ? AND state <> ?`,
		AlertPending, db.now(), id, AlertDelivered)
}

func (db *DB) updateAlert(ctx context.Context, id int64, query string, args ...any) error {
	r, err := db.db.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("alert %d: %w", id, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("alert %d: %w", id, ErrNotFound)
	}
	return nil
}

// AlertCounts counts outbox rows by state, for metrics and `alerts list`.
func (db *DB) AlertCounts(ctx context.Context) (map[string]int, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("alert counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{AlertPending: 0, AlertDelivered: 0, AlertDead: 0}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("alert counts: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}
