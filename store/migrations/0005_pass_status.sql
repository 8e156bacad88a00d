-- The outcome of each vendor's latest pass, so that the dashboard can say
-- whether a vendor is healthy without the daemon's memory: when the last pass
-- ended, when one last succeeded, and the error of the last one ('' when it
-- succeeded).
ALTER TABLE vendors ADD COLUMN last_pass_at TEXT;
ALTER TABLE vendors ADD COLUMN last_ok_at TEXT;
ALTER TABLE vendors ADD COLUMN last_pass_error TEXT NOT NULL DEFAULT '';
