-- Alerts waiting to be delivered, written in the same transaction as the
-- change they report, so that a change once recorded always gets its alert.
-- A row stays until its delivery succeeded or it was dead-lettered.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    change_id       INTEGER REFERENCES changes(id),   -- NULL for a test alert
    channel         TEXT NOT NULL,                    -- a configured channel, e.g. "webhook:0", "email"
    delivery_id     TEXT NOT NULL UNIQUE,             -- idempotency key, the same on every retry
    payload         TEXT NOT NULL,                    -- JSON diffing.Report as detected
    state           TEXT NOT NULL DEFAULT 'pending',  -- pending, delivered, dead
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    delivered_at    TEXT,
    UNIQUE (change_id, channel)
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
