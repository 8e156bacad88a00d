-- A CDX listing made by `policywatch history`, persisted page by page so that
-- an interrupted run resumes from its resume key instead of listing again.
CREATE TABLE cdx_listings (
    id          INTEGER PRIMARY KEY,
    vendor_id   INTEGER NOT NULL REFERENCES vendors(id),
    url         TEXT NOT NULL,
    from_ts     TEXT NOT NULL DEFAULT '',
    to_ts       TEXT NOT NULL DEFAULT '',
    resume_key  TEXT NOT NULL DEFAULT '',  -- opaque; '' before the first page
    pages       INTEGER NOT NULL DEFAULT 0,
    complete    INTEGER NOT NULL DEFAULT 0,
    done        INTEGER NOT NULL DEFAULT 0,   -- the history run that used it finished
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX cdx_listings_vendor ON cdx_listings (vendor_id, url, from_ts, to_ts);

-- The rows of a listing, de-duplicated (the archive repeats rows across pages).
CREATE TABLE cdx_rows (
    listing_id  INTEGER NOT NULL REFERENCES cdx_listings(id),
    timestamp   TEXT NOT NULL,
    original    TEXT NOT NULL,
    urlkey      TEXT NOT NULL DEFAULT '',
    mimetype    TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT '',
    digest      TEXT NOT NULL DEFAULT '',
    length      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (listing_id, timestamp, original)
) WITHOUT ROWID;
