// Package crawler talks to the Wayback Machine: CDX listing and raw (id_)
// playback, politely and robustly.
//
// The archive is shared, slow and strict, so every request goes through one
// of two endpoint classes, CDX and playback, each with its own rate limiter
// and its own 429 pause shared by all goroutines of a Client: IA blocks an IP
// at its firewall for an hour after about a minute of ignored 429s, so one
// worker's 429 must stop all of them (wayback-api.md §7).
//
// List pages through /cdx/search/cdx with explicit limits and resume keys it
// never interprets, because their format changed in 2026, and removes the
// duplicate rows the index returns for captures stored in several WARC files.
//
// Fetch plays a capture back in id_ mode through colly with automatic
// redirects off, and classifies every answer by Memento-Datetime: present,
// the status belongs to the captured site (a captured 404, 429 or 301 is a
// real memento, returned and never retried); absent, the archive itself is
// speaking (its 302 to the nearest capture is followed, its 404, 403, 429 and
// 5xx are errors or retries). Bodies are kept as raw bytes, except that gzip
// or zlib data left by Wayback's double-encoding bug is inflated.
//
// Errors are wrapped as "op: %w" and name the URL and what to do; callers
// branch with errors.Is on ErrNotArchived, ErrBlocked, ErrRateLimited,
// ErrUnreachable, ErrUnavailable, ErrRedirectLoop and ErrPaging.
//
// Tests run against crawler/waybacktest, a fake archive reproducing the
// recorded behaviour, and against the fixtures in testdata/wayback.
package crawler
