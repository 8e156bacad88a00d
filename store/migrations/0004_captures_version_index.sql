-- Finding a version's first and last capture and counting its captures runs
-- for every recorded capture; history records thousands per vendor.
CREATE INDEX captures_version_ts ON captures (version_id, timestamp);
