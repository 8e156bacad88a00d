package web_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// hostileMarkers are strings of the hostile vendor's archived text that must
// reach the reader as text: on pages, in the API and in feeds.
var hostileMarkers = []string{
	`<script>alert('h1')</script>`,
	`"><script>alert('attr')</script>`,
}

// TestNothingArchivedExecutes is the XSS test. It crawls every page the
// dashboard links to, starting from the vendor list and the hostile
// vendor's timeline, and reads every API response and feed, and checks
// that no archived text became markup anywhere: no script or other active
// element, no event-handler attribute, no link or source with a scheme
// other than http, https or mailto, no inline style; and that the hostile
// strings are still there, as text, for the reader to see.
func TestNothingArchivedExecutes(t *testing.T) {
	f := newFixture(t)
	evil := "/vendors/" + url.PathEscape(evilName)
	queue := []string{"/", evil}
	seen := map[string]bool{}
	var pages, sawMarkers int
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		if seen[path] {
			continue
		}
		seen[path] = true
		resp, body := fetch(t, f.URL+path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d (linked from a page)", path, resp.StatusCode)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			continue // the stylesheet, feeds: checked below
		}
		pages++
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		checkNode(t, path, doc.Nodes[0])
		text := doc.Find("body").Text()
		for _, m := range hostileMarkers {
			if strings.Contains(text, m) {
				sawMarkers++
			}
		}
		doc.Find("a[href], link[href], form[action]").Each(func(_ int, s *goquery.Selection) {
			ref := s.AttrOr("href", s.AttrOr("action", ""))
			u, err := url.Parse(ref)
			if err != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/") {
				return // external, or not a path of ours
			}
			if s.Is("form") {
				return // needs parameters; the compare page is reached by its links
			}
			next := u.EscapedPath()
			if u.RawQuery != "" {
				next += "?" + u.RawQuery
			}
			if !seen[next] && len(seen) < 200 {
				queue = append(queue, next)
			}
		})
	}
	if pages < 10 {
		t.Errorf("crawled %d pages; the dashboard should link at least the list, 2 timelines, 3 changes in two views and 5 versions", pages)
	}
	for _, p := range []string{evil, "/vendors/" + url.PathEscape(evilName) + "/changes/"} {
		found := false
		for s := range seen {
			found = found || strings.HasPrefix(s, p)
		}
		if !found {
			t.Errorf("no crawled page starts with %s: the hostile vendor's pages were not reached", p)
		}
	}
	if sawMarkers == 0 {
		t.Error("the hostile strings never showed as text: escaping must keep them readable, not drop them")
	}

	// The API: every response is JSON whose raw bytes hold no markup, and
	// whose decoded strings hold the hostile text as it was.
	api := []string{
		"/api/v1/vendors",
		"/api/v1/vendors/" + url.PathEscape(evilName),
		"/api/v1/vendors/" + url.PathEscape(evilName) + "/versions?include=body",
		"/api/v1/changes",
	}
	for _, v := range f.EvilVersions {
		api = append(api, "/api/v1/vendors/"+url.PathEscape(evilName)+"/versions/"+itoa(v.ID))
	}
	for _, ch := range f.EvilChanges {
		api = append(api, "/api/v1/changes/"+itoa(ch.ID))
	}
	api = append(api, "/api/v1/vendors/"+url.PathEscape(evilName)+"/diff?from="+itoa(f.EvilVersions[0].ID)+"&to="+itoa(f.EvilVersions[1].ID))
	decodedMarkers := 0
	for _, path := range api {
		resp, body := fetch(t, f.URL+path)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s = %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
			continue
		}
		if i := strings.IndexAny(body, "<>"); i >= 0 {
			t.Errorf("GET %s: raw JSON holds %q at %d; < and > must be escaped so a sniffed response cannot be markup", path, body[i], i)
		}
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Errorf("GET %s: %v", path, err)
			continue
		}
		walkStrings(v, func(s string) {
			for _, m := range append(hostileMarkers, evilName) {
				if strings.Contains(s, m) {
					decodedMarkers++
				}
			}
		})
	}
	if decodedMarkers == 0 {
		t.Error("no API response carried the hostile text back exactly")
	}

	// The feeds: well-formed XML; entry content is HTML that passes the same
	// checks as the pages.
	for _, path := range []string{"/feeds/changes.atom", "/feeds/vendors/" + url.PathEscape(evilName) + ".atom", "/feeds/severity/none.atom"} {
		resp, body := fetch(t, f.URL+path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", path, resp.StatusCode)
			continue
		}
		if strings.Contains(strings.ToLower(body), "<script") {
			t.Errorf("GET %s: raw feed holds a script tag", path)
		}
		var feed struct {
			Entries []struct {
				Title   string `xml:"title"`
				Content struct {
					Type string `xml:"type,attr"`
					Text string `xml:",chardata"`
				} `xml:"content"`
			} `xml:"entry"`
		}
		if err := xml.Unmarshal([]byte(body), &feed); err != nil {
			t.Errorf("GET %s: not well-formed XML: %v", path, err)
			continue
		}
		if len(feed.Entries) == 0 {
			t.Errorf("GET %s: no entries", path)
		}
		for i, e := range feed.Entries {
			if e.Content.Type == "xhtml" {
				t.Errorf("GET %s entry %d: type xhtml would embed archived markup", path, i)
			}
			frag, err := html.Parse(strings.NewReader("<!DOCTYPE html><html><body>" + e.Content.Text + "</body></html>"))
			if err != nil {
				t.Errorf("GET %s entry %d: %v", path, i, err)
				continue
			}
			checkNode(t, path+" entry "+itoa(int64(i)), frag)
		}
	}
}

// activeElements are the elements that run code, load something or restyle
// the page; none may come from archived text. The dashboard's own markup
// has no script, no inline style and loads only its stylesheet.
var activeElements = map[string]bool{
	"script": true, "iframe": true, "frame": true, "object": true, "embed": true, "applet": true,
	"svg": true, "math": true, "style": true, "base": true,
	"video": true, "audio": true, "source": true, "portal": true, "template": true,
}

// checkNode walks a parsed document and reports every active element,
// event-handler attribute, inline style and link with another scheme.
func checkNode(t *testing.T, where string, n *html.Node) {
	t.Helper()
	if n.Type == html.ElementNode {
		if activeElements[n.Data] {
			t.Errorf("%s: <%s> element in the output", where, n.Data)
		}
		if n.Data == "img" {
			for _, a := range n.Attr {
				if a.Key == "src" && (strings.Contains(a.Val, "//") || strings.Contains(a.Val, ":")) {
					t.Errorf("%s: <img src=%q>: a remote image tells its host who reads the policy", where, a.Val)
				}
			}
		}
		if n.Data == "meta" {
			for _, a := range n.Attr {
				if strings.EqualFold(a.Key, "http-equiv") && strings.EqualFold(a.Val, "refresh") {
					t.Errorf("%s: meta refresh in the output", where)
				}
			}
		}
		for _, a := range n.Attr {
			key := strings.ToLower(a.Key)
			switch {
			case strings.HasPrefix(key, "on"):
				t.Errorf("%s: <%s %s=%q>: an event handler", where, n.Data, a.Key, a.Val)
			case key == "style" || key == "srcdoc" || key == "formaction":
				t.Errorf("%s: <%s %s=%q>", where, n.Data, a.Key, a.Val)
			case key == "href" || key == "src" || key == "action" || key == "xlink:href" || key == "poster" || key == "data":
				if !safeRef(a.Val) {
					t.Errorf("%s: <%s %s=%q>: only relative, http(s) and mailto links are allowed", where, n.Data, a.Key, a.Val)
				}
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		checkNode(t, where, c)
	}
}

// safeRef reports whether a link target is relative or uses http, https or
// mailto: what a browser resolves, after trimming the whitespace and
// control characters it ignores.
func safeRef(ref string) bool {
	ref = strings.TrimFunc(ref, func(r rune) bool { return r <= ' ' })
	u, err := url.Parse(ref)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "", "http", "https", "mailto":
		return !strings.ContainsAny(ref, "\t\n\r") // "java\tscript:" hides a scheme
	}
	return false
}

func fetch(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, body := rawGet(t, u)
	return resp, string(body)
}

func walkStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case []any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	case map[string]any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
