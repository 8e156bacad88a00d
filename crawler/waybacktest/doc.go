// Package waybacktest is a fake Wayback Machine for tests and for serving
// archived pages offline (the demo command). It keeps a store of captures
// and answers CDX searches (/cdx/search/cdx, text and output=json) and
// playbacks (/web/<timestamp><flag>/<url>) the way web.archive.org does,
// with switches for the archive's quirks and scripted faults. Behaviour is
// taken from docs/wayback-api.md and the recordings in wayback-fixtures,
// cited below as fx:<id>.
//
// Always on, because the real archive always does it:
//
//   - Matching by SURT urlkey (URLKey): http/https, www, default ports,
//     case and trailing slashes do not matter, query parameters are sorted,
//     so one page's captures under several originals share one history
//     (fx:edgi-wayback/test_get_memento_returns_memento_with_accurate_url/00).
//   - CDX: from/to with short bounds covering their period, limit (negative
//     for the last rows), offset, filter=[~][!]field:regex matching the whole
//     field, collapse=field[:N] against the previous row, fl, showResumeKey
//     with the key after an empty line (text) or after [] (JSON), an empty
//     200 for no rows in text and [] in JSON, gzip transfer when accepted
//     (fx:edgi-wayback/test_search_multipage/*, test_search_with_filter*/*).
//     The digest is the base32 SHA-1 of the body, so an empty body gives
//     3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ as on real 3xx rows.
//   - Playback parses r.RequestURI, so the original's own query string is
//     kept (fx:…redirect_in_a_loop/00). An exact capture answers its archived
//     status with Memento-Datetime, Link (original, timemap, timegate,
//     neighbouring mementos) and X-Archive-Orig-* headers, Content-Type
//     unprefixed (fx:edgi-wayback/test_get_memento/00). A captured 3xx keeps
//     its status and gets a Location rewritten to the same timestamp and
//     flag (fx:edgi-wayback/test_get_memento_with_redirects/00). Captured 404
//     and 429 pages are mementos too
//     (fx:edgi-wayback/test_get_memento_works_on_archived_rate_limit_responses/00).
//   - An inexact or partial timestamp gets a 302 without Memento-Datetime to
//     the nearest capture in either direction, with X-Archive-Redirect-Reason
//     (fx:edgi-wayback/test_get_memento_with_date_datetime/00,
//     ..._should_fail_for_non_playbackable_mementos/00,
//     ..._outside_target_window/00).
//   - A URL never archived gets the 404 "Hrm. The Wayback Machine has not
//     archived that URL." page (fx:edgi-wayback/test_get_memento_raises_no_memento_error/00).
//   - A request without User-Agent gets 400 (hahwul/urx PR #264).
//
// Knobs (Server.Set):
//
//   - DuplicateRows repeats each CDX row, as the index does for captures held
//     in several ARC/WARC files (fx:edgi-wayback/test_search/00,
//     docs_tutorial/00, fx:edgi-wayback-timemap-branch/test_search_v2/01).
//   - PageCap caps rows per response below the client's limit while still
//     giving a key, like the server's own cap; without showResumeKey the
//     result is silently cut, as in EDGI #65.
//   - EmptyLastPage gives a key on the last page too, so the final page is an
//     empty 200 (fx:edgi-wayback/test_search_multipage/14).
//   - KeyStyle picks legacy keys, the escaped urlkey plus the next timestamp
//     (fx:edgi-wayback/test_search_multipage/00), or opaque base64url tokens
//     of zlib data naming the last row (fx:edgi-wayback/docs_tutorial/00).
//     RepeatKeyRow makes the next page start with the row the opaque key
//     names, the possible 2026 behaviour wayback-api.md marks uncertain.
//   - Revisits lists a capture whose body equals the previous capture's as
//     warc/revisit with status "-"
//     (fx:edgi-wayback/test_search_does_not_repeat_results/00).
//   - GzipBodies sends mementos with Content-Encoding: gzip, as Wayback does
//     for clients that accept it (fx:edgi-wayback/test_get_memento/00).
//   - DoubleGzip sends gzip bytes under an empty content-encoding header
//     followed by "gzip", the bug that leaves clients holding gzip data
//     (EDGI web-monitoring-processing#309, hartator#259).
//   - LowercaseNames writes the 2023+ lowercase memento-datetime, link and
//     x-archive-orig-* names (fx:…works_on_archived_rate_limit_responses/00).
//   - LocationStyle writes captured-redirect Locations absolute, path-only
//     (fx:edgi-wayback/test_get_memento_with_path_based_redirects/00) or
//     scheme-relative (fx:edgi-wayback/test_get_memento_with_schemeless_redirects/00).
//   - Excluded hosts get a CDX 403 with X-Archive-Wayback-Runtime-Error
//     (fx:edgi-wayback/test_search_raises_for_blocked_urls/00) and the 2020
//     playback 200 "excluded" page without Memento-Datetime
//     (fx:edgi-wayback/test_get_memento_raises_blocked_error/00), or with
//     Excluded403 the older 403 with the runtime-error header.
//   - Latency delays every answer; RateLimit/RateWindow/RetryAfter answer
//     429 once a class exceeds a request budget, without Retry-After by
//     default since IA sends none (wayback-api.md §1).
//
// Scripted faults (Server.Inject) apply, in order, to the next requests of a
// class (CDX or Playback): Fault429 (optionally Fault429RetryAfter), Fault500
// to Fault504 with nginx-style pages (internetarchive/wayback#285), FaultReset
// (TCP RST without an answer, as during outages), and FaultTruncate (the
// real answer with its full Content-Length but half the body, then the
// connection dropped). No real 429 or 5xx was recorded; their shapes follow
// wayback-api.md.
//
// Stats reports per class the requests, the statuses answered and the
// arrival times, so tests can prove retries happened and rate limits held.
//
// Not implemented: timemaps, the Availability API, matchType-specific
// paging subtleties, and view-mode rewriting (every flag is served like id_).
package waybacktest
