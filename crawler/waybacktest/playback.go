package waybacktest

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// playbackPath splits "<timestamp><flag>/<original>" (the part after /web/).
var playbackPath = regexp.MustCompile(`^(\d{1,14})([a-z]{2}_)?/(.*)$`)

const tsLayout = "20060102150405"

// servePlayback answers /web/<timestamp><flag>/<original> (wayback-api.md §3).
// The original URL is cut from r.RequestURI, not r.URL.Path, so that its own
// query string stays attached to it.
func (s *Server) servePlayback(w http.ResponseWriter, r *http.Request) {
	uri := r.RequestURI
	if i := strings.Index(uri, "/web/"); i >= 0 {
		uri = uri[i+len("/web/"):]
	}
	ts, flag, orig := "", "", uri
	if m := playbackPath.FindStringSubmatch(uri); m != nil {
		ts, flag, orig = m[1], m[2], m[3]
	}
	if orig == "" {
		http.NotFound(w, r)
		return
	}
	if !strings.Contains(orig, "://") {
		orig = "http://" + strings.TrimPrefix(orig, "//")
	}
	// A client may have percent-encoded characters of the original; the
	// archive matches on the canonical key, so the raw form is kept for
	// Location headers only.
	key := URLKey(orig)
	knobs := s.Knobs()
	base := baseURL(r)

	if isExcluded(knobs.Excluded, key) {
		serveExcluded(w, knobs.Excluded403)
		return
	}

	s.mu.Lock()
	caps := append([]*stored(nil), s.captures[key]...)
	s.mu.Unlock()
	if len(caps) == 0 {
		serveNotArchived(w, base, orig)
		return
	}

	if len(ts) == 14 {
		var exact *stored
		for _, c := range caps {
			if c.Timestamp == ts && (exact == nil || c.URL == orig) {
				exact = c
			}
		}
		if exact != nil {
			serveMemento(w, r, base, flag, exact, caps, knobs)
			return
		}
	}

	// No exact capture: Wayback redirects to the nearest one, in either
	// direction and possibly under another scheme or host variant
	// (fx:edgi-wayback/test_get_memento_with_date_datetime/00,
	// ..._should_fail_for_non_playbackable_mementos/00).
	nearest := caps[len(caps)-1]
	if ts != "" {
		want := parseTS(ts + "19700101000000"[len(ts):])
		best := time.Duration(-1)
		for _, c := range caps {
			d := parseTS(c.Timestamp).Sub(want)
			if d < 0 {
				d = -d
			}
			if best < 0 || d < best {
				best, nearest = d, c
			}
		}
	}
	h := w.Header()
	h.Set("Location", base+"/web/"+nearest.Timestamp+flag+"/"+nearest.URL)
	h.Set("X-Archive-Redirect-Reason", "found capture at "+nearest.Timestamp)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusFound)
}

func parseTS(ts string) time.Time {
	t, err := time.Parse(tsLayout, ts)
	if err != nil {
		// Month or day 00 (crawls from 2000): fall back to the year.
		t, _ = time.Parse("2006", ts[:4])
	}
	return t
}

func httpDate(ts string) string { return parseTS(ts).UTC().Format(http.TimeFormat) }

// serveMemento answers an exact capture with its archived status, the
// Memento headers and the archived headers renamed to X-Archive-Orig-*
// (fx:edgi-wayback/test_get_memento/00).
func serveMemento(w http.ResponseWriter, r *http.Request, base, flag string, c *stored, all []*stored, knobs Knobs) {
	h := w.Header()
	lower := knobs.LowercaseNames
	for name, vals := range c.Header {
		cn := http.CanonicalHeaderKey(name)
		if cn == "Content-Type" {
			h.Set("Content-Type", vals[0])
			continue
		}
		for _, v := range vals {
			setHeader(h, lower, "X-Archive-Orig-"+cn, v)
		}
	}
	if h.Get("Content-Type") == "" && len(c.Body) > 0 && c.MimeType != "warc/revisit" && c.MimeType != "unk" {
		h.Set("Content-Type", c.MimeType)
	}
	setHeader(h, lower, "Memento-Datetime", httpDate(c.Timestamp))
	setHeader(h, lower, "Link", linkHeader(base, c, all))
	setHeader(h, lower, "X-Archive-Src", "waybacktest-"+c.Timestamp+".warc.gz")
	h.Set("Cache-Control", "max-age=1800")

	if c.Status >= 300 && c.Status < 400 {
		target := c.RedirectTo
		if target == "" {
			if loc := c.Header.Get("Location"); loc != "" {
				if bu, err := url.Parse(c.URL); err == nil {
					if lu, err := bu.Parse(loc); err == nil {
						target = lu.String()
					}
				}
			}
		}
		if target != "" {
			// The Location is rewritten to the same timestamp and flag; that
			// URL then usually gets a Wayback 302 to the target's nearest
			// capture (fx:edgi-wayback/test_get_memento_with_redirects/*).
			path := "/web/" + c.Timestamp + flag + "/" + target
			switch knobs.LocationStyle {
			case LocationPath:
				h.Set("Location", path)
			case LocationSchemeRelative:
				h.Set("Location", "//"+strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")+path)
			default:
				h.Set("Location", base+path)
			}
		}
	}

	body := c.Body
	switch {
	case knobs.DoubleGzip:
		// The empty value comes first, so HTTP clients that read the first
		// Content-Encoding (Go's among them) leave the gzip bytes alone
		// (EDGI web-monitoring-processing#309, hartator#259).
		body = gzipBytes(body)
		h["Content-Encoding"] = []string{"", "gzip"}
	case knobs.GzipBodies && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip"):
		body = gzipBytes(body)
		h.Set("Content-Encoding", "gzip")
	}
	w.WriteHeader(c.Status)
	_, _ = w.Write(body)
}

// linkHeader builds the Memento Link header: original, timemap, timegate and
// the neighbouring mementos, all in view mode as IA writes them.
func linkHeader(base string, c *stored, all []*stored) string {
	memento := func(s *stored, rel string) string {
		return fmt.Sprintf(`<%s/web/%s/%s>; rel="%s"; datetime="%s"`, base, s.Timestamp, s.URL, rel, httpDate(s.Timestamp))
	}
	parts := []string{
		"<" + c.URL + `>; rel="original"`,
		"<" + base + "/web/timemap/link/" + c.URL + `>; rel="timemap"; type="application/link-format"`,
		"<" + base + "/web/" + c.URL + `>; rel="timegate"`,
	}
	idx := 0
	for i, s := range all {
		if s == c {
			idx = i
		}
	}
	if idx > 0 {
		parts = append(parts, memento(all[0], "first memento"))
		if idx > 1 {
			parts = append(parts, memento(all[idx-1], "prev memento"))
		}
	}
	parts = append(parts, memento(c, "memento"))
	if idx < len(all)-1 {
		if idx < len(all)-2 {
			parts = append(parts, memento(all[idx+1], "next memento"))
		}
		parts = append(parts, memento(all[len(all)-1], "last memento"))
	}
	return strings.Join(parts, ", ")
}

// serveNotArchived is the 404 page for a URL with no capture at all
// (fx:edgi-wayback/test_get_memento_raises_no_memento_error/00).
func serveNotArchived(w http.ResponseWriter, base, orig string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	fmt.Fprintf(w, `<!DOCTYPE html>
<html lang="en">
  <head>
    <title>Wayback Machine</title>
  </head>
  <body>
<div id="error">
<h2>Hrm.</h2>
<p>The Wayback Machine has not archived that URL.</p>
    <p>Click here to search for all archived pages under
      <a href="%s/web/*/%s*">%s</a>.
    </p>
</div>
  </body>
</html>
`, base, orig, orig)
}

// serveExcluded answers an excluded site: the 2020 200 page without
// Memento-Datetime (fx:edgi-wayback/test_get_memento_raises_blocked_error/00)
// or the older 403 with the runtime-error header.
func serveExcluded(w http.ResponseWriter, as403 bool) {
	if as403 {
		const msg = "org.archive.wayback.exception.AdministrativeAccessControlException: Blocked Site Error"
		w.Header().Set("X-Archive-Wayback-Runtime-Error", msg)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(msg + "\n"))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`<!DOCTYPE html>
<html lang="en">
  <head>
    <title>Wayback Machine</title>
  </head>
  <body>
<div id="error">
	      <h2>Sorry.</h2>
	      <p>This URL has been excluded from the Wayback Machine.</p>
</div>
  </body>
</html>
`))
}
