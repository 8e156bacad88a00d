package waybacktest

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// cdxFields are the CDX columns in their default order.
var cdxFields = []string{"urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"}

func fieldIndex(name string) int {
	for i, f := range cdxFields {
		if f == name {
			return i
		}
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < len(cdxFields) {
		return n
	}
	return -1
}

// row is one CDX line in the default column order.
type row [7]string

// cdxFilter is one filter=[~][!]field:pattern parameter.
type cdxFilter struct {
	field    int
	negate   bool
	contains string
	re       *regexp.Regexp
}

func (f cdxFilter) pass(r row) bool {
	v := r[f.field]
	var ok bool
	if f.re != nil {
		ok = f.re.MatchString(v)
	} else {
		ok = strings.Contains(v, f.contains)
	}
	return ok != f.negate
}

// cdxCollapse is one collapse=field[:N] parameter.
type cdxCollapse struct {
	field int
	n     int // 0: whole field
}

func (c cdxCollapse) value(r row) string {
	v := r[c.field]
	if c.n > 0 && len(v) > c.n {
		return v[:c.n]
	}
	return v
}

func cdxError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

// serveCDX answers /cdx/search/cdx (wayback-api.md §1).
func (s *Server) serveCDX(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	knobs := s.Knobs()

	raw := q.Get("url")
	if raw == "" {
		cdxError(w, http.StatusBadRequest, "java.lang.IllegalArgumentException: Missing url parameter")
		return
	}
	matchType := q.Get("matchType")
	switch {
	case strings.HasPrefix(raw, "*."):
		matchType, raw = "domain", raw[2:]
	case strings.HasSuffix(raw, "*"):
		matchType, raw = "prefix", strings.TrimSuffix(raw, "*")
	}
	if matchType == "" {
		matchType = "exact"
	}
	key := URLKey(raw)
	if matchType == "prefix" && strings.HasSuffix(raw, "/") && !strings.HasSuffix(key, "/") {
		key += "/"
	}
	if isExcluded(knobs.Excluded, key) {
		// fx:edgi-wayback/test_search_raises_for_blocked_urls/00
		const msg = "org.archive.util.io.RuntimeIOException: org.archive.wayback.exception.AdministrativeAccessControlException: Blocked Site Error"
		w.Header().Set("X-Archive-Wayback-Runtime-Error", msg)
		cdxError(w, http.StatusForbidden, msg)
		return
	}

	fl := cdxFields
	if v := q.Get("fl"); v != "" {
		fl = strings.Split(v, ",")
		for _, f := range fl {
			if fieldIndex(f) < 0 || isDigits(f) {
				cdxError(w, http.StatusBadRequest, "java.lang.IllegalArgumentException: unknown field "+f)
				return
			}
		}
	}
	from, to := q.Get("from"), q.Get("to")
	for _, v := range []string{from, to} {
		if v != "" && (!isDigits(v) || len(v) > 14) {
			cdxError(w, http.StatusBadRequest, "java.lang.IllegalArgumentException: bad timestamp "+v)
			return
		}
	}
	// A short bound covers its whole period: from=2004 is the start of 2004,
	// to=2004 the end of it. Padding with 0s and 9s gives the same order as
	// real dates under string comparison.
	if from != "" {
		from += strings.Repeat("0", 14-len(from))
	}
	if to != "" {
		to += strings.Repeat("9", 14-len(to))
	}

	var filters []cdxFilter
	for _, v := range q["filter"] {
		f, err := parseFilter(v)
		if err != nil {
			cdxError(w, http.StatusBadRequest, "java.lang.IllegalArgumentException: "+err.Error())
			return
		}
		filters = append(filters, f)
	}
	var collapses []cdxCollapse
	for _, v := range q["collapse"] {
		name, nStr, _ := strings.Cut(v, ":")
		c := cdxCollapse{field: fieldIndex(name)}
		if nStr != "" {
			c.n, _ = strconv.Atoi(nStr)
		}
		if c.field < 0 {
			cdxError(w, http.StatusBadRequest, "java.lang.IllegalArgumentException: bad collapse "+v)
			return
		}
		collapses = append(collapses, c)
	}

	rows := s.rowsFor(matchType, key, knobs)

	// Date range, filters, collapse: in this order, as the Java server does.
	kept := rows[:0:0]
	last := make([]string, len(collapses))
	first := true
	for _, rw := range rows {
		if from != "" && rw[1] < from || to != "" && rw[1] > to {
			continue
		}
		ok := true
		for _, f := range filters {
			if !f.pass(rw) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if len(collapses) > 0 {
			same := !first
			for i, c := range collapses {
				if c.value(rw) != last[i] {
					same = false
				}
			}
			if same {
				continue
			}
			for i, c := range collapses {
				last[i] = c.value(rw)
			}
			first = false
		}
		kept = append(kept, rw)
	}
	rows = kept

	showKey := q.Get("showResumeKey") == "true"
	if rk := q.Get("resumeKey"); rk != "" {
		start, err := resumeStart(rows, rk, knobs.RepeatKeyRow)
		if err != nil {
			cdxError(w, http.StatusBadRequest, "java.lang.IllegalArgumentException: bad resumeKey: "+err.Error())
			return
		}
		rows = rows[start:]
	}
	if off, err := strconv.Atoi(q.Get("offset")); err == nil && off > 0 {
		rows = rows[min(off, len(rows)):]
	}

	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit < 0 {
		// limit=-N: the last N rows, never with a key.
		rows = rows[max(0, len(rows)+limit):]
		limit, showKey = 0, false
	}
	pageSize := limit
	if knobs.PageCap > 0 && (pageSize <= 0 || knobs.PageCap < pageSize) {
		pageSize = knobs.PageCap
	}
	more := false
	if pageSize > 0 && len(rows) > pageSize {
		rows, more = rows[:pageSize], true
	}
	if knobs.EmptyLastPage && len(rows) > 0 {
		more = true
	}
	resumeKey := ""
	if showKey && more && len(rows) > 0 {
		resumeKey = makeResumeKey(rows[len(rows)-1], knobs.KeyStyle)
	}

	var body []byte
	contentType := "text/plain"
	if q.Get("output") == "json" {
		contentType = "application/json"
		body = cdxJSON(rows, fl, resumeKey)
	} else {
		body = cdxText(rows, fl, resumeKey)
	}
	writeMaybeGzip(w, r, contentType, body, q.Get("gzip") != "false")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseFilter(v string) (cdxFilter, error) {
	var f cdxFilter
	contains := false
	if strings.HasPrefix(v, "~") {
		contains, v = true, v[1:]
	}
	if strings.HasPrefix(v, "!") {
		f.negate, v = true, v[1:]
	}
	name, pattern, ok := strings.Cut(v, ":")
	if !ok {
		return f, fmt.Errorf("bad filter %q", v)
	}
	f.field = fieldIndex(name)
	if f.field < 0 {
		return f, fmt.Errorf("bad filter field %q", name)
	}
	if contains {
		f.contains = pattern
		return f, nil
	}
	// Java's Matcher.matches(): the pattern must match the whole field.
	re, err := regexp.Compile("^(?:" + pattern + ")$")
	if err != nil {
		return f, fmt.Errorf("bad filter pattern %q: %v", pattern, err)
	}
	f.re = re
	return f, nil
}

// rowsFor lists the CDX rows of the captures matching key, ordered by urlkey
// then timestamp, with revisit rows and duplicate rows as the knobs ask.
func (s *Server) rowsFor(matchType, key string, knobs Knobs) []row {
	s.mu.Lock()
	var keys []string
	switch matchType {
	case "prefix":
		for k := range s.captures {
			if strings.HasPrefix(k, key) {
				keys = append(keys, k)
			}
		}
	case "host", "domain":
		host := hostOfKey(key)
		for k := range s.captures {
			h := hostOfKey(k)
			if h == host || matchType == "domain" && strings.HasPrefix(h, host+",") {
				keys = append(keys, k)
			}
		}
	default:
		if _, ok := s.captures[key]; ok {
			keys = []string{key}
		}
	}
	sort.Strings(keys)
	var rows []row
	dup := max(knobs.DuplicateRows, 1)
	for _, k := range keys {
		var prev *stored
		for _, st := range s.captures[k] {
			rw := row{st.key, st.Timestamp, st.URL, st.MimeType, strconv.Itoa(st.Status), st.digest, st.length}
			if knobs.Revisits && prev != nil && prev.digest == st.digest && st.Status == http.StatusOK {
				rw[3], rw[4] = "warc/revisit", "-"
			}
			for range dup {
				rows = append(rows, rw)
			}
			prev = st
		}
	}
	s.mu.Unlock()
	return rows
}

// makeResumeKey names the last row returned, in the chosen style.
func makeResumeKey(last row, style KeyStyle) string {
	if style == KeyLegacy {
		ts := []byte(last[1])
		ts[len(ts)-1]++ // "…39" becomes "…3:", the smallest key after the row
		return url.QueryEscape(last[0] + " " + string(ts))
	}
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	_, _ = io.WriteString(zw, last[0]+" "+last[1]+" "+last[2])
	_ = zw.Close()
	return base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

// resumeStart returns the index of the first row after a resume key of
// either style.
func resumeStart(rows []row, key string, repeat bool) (int, error) {
	if b, err := base64.RawURLEncoding.DecodeString(key); err == nil {
		if zr, err := zlib.NewReader(bytes.NewReader(b)); err == nil {
			plain, err := io.ReadAll(io.LimitReader(zr, 64<<10))
			if err == nil {
				parts := strings.SplitN(string(plain), " ", 3)
				if len(parts) == 3 {
					k := [3]string{parts[0], parts[1], parts[2]}
					return sort.Search(len(rows), func(i int) bool {
						c := compare3([3]string{rows[i][0], rows[i][1], rows[i][2]}, k)
						return c > 0 || repeat && c == 0
					}), nil
				}
			}
		}
	}
	plain, err := url.QueryUnescape(key)
	if err != nil {
		return 0, err
	}
	k, ts, ok := strings.Cut(plain, " ")
	if !ok {
		return 0, fmt.Errorf("unrecognised key %q", key)
	}
	return sort.Search(len(rows), func(i int) bool {
		return rows[i][0] > k || rows[i][0] == k && rows[i][1] >= ts
	}), nil
}

func compare3(a, b [3]string) int {
	for i := range a {
		if c := strings.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

func project(rw row, fl []string) []string {
	out := make([]string, len(fl))
	for i, f := range fl {
		out[i] = rw[fieldIndex(f)]
	}
	return out
}

// cdxText writes one row per line and, when paging, an empty line and the key.
func cdxText(rows []row, fl []string, key string) []byte {
	var b bytes.Buffer
	for _, rw := range rows {
		b.WriteString(strings.Join(project(rw, fl), " "))
		b.WriteByte('\n')
	}
	if key != "" {
		b.WriteString("\n" + key + "\n")
	}
	return b.Bytes()
}

// cdxJSON writes the header row and the rows, then [] and [key] when paging;
// an empty result is [] as the Java writer produces.
func cdxJSON(rows []row, fl []string, key string) []byte {
	if len(rows) == 0 && key == "" {
		return []byte("[]\n")
	}
	out := make([][]string, 0, len(rows)+3)
	out = append(out, fl)
	for _, rw := range rows {
		out = append(out, project(rw, fl))
	}
	if key != "" {
		out = append(out, []string{}, []string{key})
	}
	var b bytes.Buffer
	b.WriteString("[")
	for i, r := range out {
		if i > 0 {
			b.WriteString(",\n")
		}
		enc, _ := json.Marshal(r)
		b.Write(enc)
	}
	b.WriteString("]\n")
	return b.Bytes()
}

// writeMaybeGzip gzips the answer when the client accepts it: every recorded
// CDX answer was gzip-encoded.
func writeMaybeGzip(w http.ResponseWriter, r *http.Request, contentType string, body []byte, allowed bool) {
	w.Header().Set("Content-Type", contentType)
	if allowed && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		body = gzipBytes(body)
		w.Header().Set("Content-Encoding", "gzip")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// isExcluded reports whether a urlkey's host is one of the excluded hosts.
func isExcluded(excluded []string, key string) bool {
	host := hostOfKey(key)
	for _, e := range excluded {
		eh := hostOfKey(URLKey(e))
		if host == eh || strings.HasPrefix(host, eh+",") {
			return true
		}
	}
	return false
}
