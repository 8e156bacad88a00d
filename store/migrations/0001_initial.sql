-- Vendors are the documents we watch: one policy URL each.
CREATE TABLE vendors (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    url        TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Raw capture payloads, gzip-compressed and content-addressed by the SHA-256 of
-- the uncompressed bytes, so identical captures cost one row.
CREATE TABLE bodies (
    sha256     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    encoding   TEXT NOT NULL,          -- 'gzip'
    data       BLOB NOT NULL
);

-- A version is a distinct extracted text of one vendor's policy.
CREATE TABLE versions (
    id               INTEGER PRIMARY KEY,
    vendor_id        INTEGER NOT NULL REFERENCES vendors(id),
    sha256           TEXT NOT NULL,     -- of the normalised Markdown (title + body)
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    stated_date      TEXT,              -- YYYY-MM-DD the policy states, NULL if none
    stated_date_text TEXT,
    extractor        TEXT NOT NULL DEFAULT '', -- extraction fingerprint that produced the text
    created_at       TEXT NOT NULL,
    UNIQUE (vendor_id, sha256)
);

-- Every CDX row we processed, fetched or not. Captures point at versions.
CREATE TABLE captures (
    id                INTEGER PRIMARY KEY,
    vendor_id         INTEGER NOT NULL REFERENCES vendors(id),
    timestamp         TEXT NOT NULL,    -- 14-digit Wayback timestamp (UTC)
    original          TEXT NOT NULL,    -- URL as captured
    urlkey            TEXT NOT NULL DEFAULT '',
    mimetype          TEXT NOT NULL DEFAULT '',
    cdx_status        TEXT NOT NULL DEFAULT '',
    digest            TEXT NOT NULL DEFAULT '',
    length            TEXT NOT NULL DEFAULT '',
    fetched           INTEGER NOT NULL DEFAULT 0, -- 1 when the bytes came from a playback request of this capture
    http_status       INTEGER,          -- archived status of the playback
    memento_timestamp TEXT,
    memento_original  TEXT,
    content_type      TEXT,
    headers           TEXT,             -- JSON object of the playback response headers
    body_sha256       TEXT REFERENCES bodies(sha256),
    truncated         INTEGER NOT NULL DEFAULT 0,
    charset           TEXT,
    verdict           TEXT NOT NULL,    -- snapshot verdict, or 'not-fetched', 'fetch-error', 'truncated'
    verdict_reason    TEXT NOT NULL DEFAULT '',
    version_id        INTEGER REFERENCES versions(id),
    extractor         TEXT NOT NULL DEFAULT '', -- extraction fingerprint behind verdict and version
    created_at        TEXT NOT NULL,
    UNIQUE (vendor_id, timestamp, original)
);
CREATE INDEX captures_vendor_ts ON captures (vendor_id, timestamp);
CREATE INDEX captures_digest ON captures (digest);

-- A change is a transition between two versions, with its window: the last
-- capture with the old text and the first capture with the new one. Its cause
-- is 'archive' (the vendor's page changed) or 'extractor' (policywatch's
-- extraction of the same bytes changed; never alerted).
CREATE TABLE changes (
    id               INTEGER PRIMARY KEY,
    vendor_id        INTEGER NOT NULL REFERENCES vendors(id),
    from_version_id  INTEGER NOT NULL REFERENCES versions(id),
    to_version_id    INTEGER NOT NULL REFERENCES versions(id),
    old_capture_id   INTEGER NOT NULL REFERENCES captures(id),
    new_capture_id   INTEGER NOT NULL REFERENCES captures(id),
    cause            TEXT NOT NULL DEFAULT 'archive',
    kinds            TEXT NOT NULL DEFAULT '',    -- comma-separated: silent, dated, date-only, cosmetic, flip-back
    severity         INTEGER NOT NULL DEFAULT 0,  -- score
    severity_level   TEXT NOT NULL DEFAULT '',    -- none, low, medium, high
    report           TEXT NOT NULL DEFAULT '',    -- JSON of diffing.Change without the line diff
    old_stated_date  TEXT,
    new_stated_date  TEXT,
    text_changed     INTEGER NOT NULL,
    date_changed     INTEGER NOT NULL,
    lines_added      INTEGER NOT NULL,
    lines_removed    INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    UNIQUE (new_capture_id, cause)
);
CREATE INDEX changes_vendor ON changes (vendor_id, new_capture_id);

-- Every run of the extractor over stored captures, and what it moved.
CREATE TABLE reextractions (
    id                INTEGER PRIMARY KEY,
    vendor_id         INTEGER NOT NULL REFERENCES vendors(id),
    extractor         TEXT NOT NULL,
    captures          INTEGER NOT NULL,
    verdicts_changed  INTEGER NOT NULL,
    versions_before   INTEGER NOT NULL,
    versions_after    INTEGER NOT NULL,
    changes_before    INTEGER NOT NULL,
    changes_after     INTEGER NOT NULL,
    changes_removed   INTEGER NOT NULL,
    changes_added     INTEGER NOT NULL,
    latest_changed    INTEGER NOT NULL,
    created_at        TEXT NOT NULL
);
