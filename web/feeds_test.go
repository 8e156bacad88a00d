package web_test

import (
	"encoding/xml"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/policywatch/policywatch/web"
)

// atomFeedT is an Atom feed as a reader parses it.
type atomFeedT struct {
	XMLName xml.Name     `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string       `xml:"id"`
	Title   string       `xml:"title"`
	Updated string       `xml:"updated"`
	Links   []atomLinkT  `xml:"link"`
	Author  string       `xml:"author>name"`
	Entries []atomEntryT `xml:"entry"`
}

type atomEntryT struct {
	ID         string      `xml:"id"`
	Title      atomTextT   `xml:"title"`
	Updated    string      `xml:"updated"`
	Published  string      `xml:"published"`
	Links      []atomLinkT `xml:"link"`
	Categories []struct {
		Term string `xml:"term,attr"`
	} `xml:"category"`
	Summary atomTextT `xml:"summary"`
	Content atomTextT `xml:"content"`
}

type atomTextT struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomLinkT struct {
	Rel  string `xml:"rel,attr"`
	Href string `xml:"href,attr"`
}

// link returns the href of the first link with rel, "" when none.
func link(links []atomLinkT, rel string) string {
	for _, l := range links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

// feedGet fetches a feed from base, checks what every feed must be
// (status, headers, well-formed Atom without raw markup from the archive,
// a self link to where it was fetched) and returns it parsed.
func feedGet(t *testing.T, base, path string) (*atomFeedT, *http.Response) {
	t.Helper()
	return feedGetAs(t, base, base, path)
}

// feedGetAs is feedGet for a server whose public address (BaseURL) is
// linkBase rather than the address it is fetched from.
func feedGetAs(t *testing.T, base, linkBase, path string) (*atomFeedT, *http.Response) {
	t.Helper()
	resp, body := rawGet(t, base+path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d: %s", path, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/atom+xml; charset=utf-8" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=300") {
		t.Errorf("GET %s: Cache-Control %q", path, cc)
	}
	if resp.Header.Get("ETag") == "" {
		t.Errorf("GET %s: no ETag", path)
	}
	if strings.Contains(strings.ToLower(string(body)), "<script") {
		t.Errorf("GET %s: raw feed holds a script tag", path)
	}
	if strings.Contains(string(body), `type="xhtml"`) {
		t.Errorf("GET %s: xhtml content would embed archived markup", path)
	}
	// The strict decoder rejects what is not well-formed XML 1.0, control
	// characters included.
	dec := xml.NewDecoder(strings.NewReader(string(body)))
	for {
		_, err := dec.Token()
		if err != nil {
			if err != io.EOF {
				t.Fatalf("GET %s: not well-formed XML: %v", path, err)
			}
			break
		}
	}
	var feed atomFeedT
	if err := xml.Unmarshal(body, &feed); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if !strings.HasPrefix(feed.ID, "tag:policywatch,2026:") || feed.Title == "" || feed.Author != "policywatch" {
		t.Errorf("GET %s: feed head id %q title %q author %q", path, feed.ID, feed.Title, feed.Author)
	}
	if _, err := time.Parse(time.RFC3339, feed.Updated); err != nil {
		t.Errorf("GET %s: updated %q: %v", path, feed.Updated, err)
	}
	if self := link(feed.Links, "self"); self != linkBase+path {
		t.Errorf("GET %s: self link %q, want %q", path, self, linkBase+path)
	}
	if link(feed.Links, "alternate") == "" {
		t.Errorf("GET %s: no alternate link", path)
	}
	for i, e := range feed.Entries {
		if !strings.HasPrefix(e.ID, "tag:policywatch,2026:change:") || e.Title.Text == "" || e.Title.Type != "text" ||
			e.Content.Type != "html" || e.Summary.Type != "text" || e.Updated != e.Published {
			t.Errorf("GET %s entry %d: %+v", path, i, e)
		}
		if _, err := time.Parse(time.RFC3339, e.Updated); err != nil {
			t.Errorf("GET %s entry %d: updated %q: %v", path, i, e.Updated, err)
		}
		if i > 0 && e.Updated > feed.Entries[i-1].Updated {
			t.Errorf("GET %s: entry %d (%s) is newer than entry %d (%s): want newest first", path, i, e.Updated, i-1, feed.Entries[i-1].Updated)
		}
	}
	if len(feed.Entries) > 0 && feed.Updated != feed.Entries[0].Updated {
		t.Errorf("GET %s: feed updated %s, want the newest entry's %s", path, feed.Updated, feed.Entries[0].Updated)
	}
	return &feed, resp
}

func entryIDs(feed *atomFeedT) []string {
	out := []string{}
	for _, e := range feed.Entries {
		out = append(out, e.ID)
	}
	return out
}

func changeTag(id int64) string { return "tag:policywatch,2026:change:" + apiID(id) }

func TestFeedWellFormed(t *testing.T) {
	f := newFixture(t)
	dated, silent, evil := changeTag(f.AcmeChanges[0].ID), changeTag(f.AcmeChanges[1].ID), changeTag(f.EvilChanges[0].ID)
	for _, tc := range []struct {
		path, id string
		entries  []string
	}{
		{"/feeds/changes.atom", "tag:policywatch,2026:changes", []string{silent, dated, evil}},
		{"/feeds/changes.atom?min_severity=medium", "tag:policywatch,2026:changes?min_severity=medium", []string{dated, evil}},
		{"/feeds/vendors/Acme%20Cloud.atom", "tag:policywatch,2026:vendor:acme%20cloud", []string{silent, dated}},
		{"/feeds/vendors/acme%20cloud.atom", "tag:policywatch,2026:vendor:acme%20cloud", []string{silent, dated}},
		{"/feeds/vendors/" + url.PathEscape(evilName) + ".atom", "tag:policywatch,2026:vendor:" + url.PathEscape(strings.ToLower(evilName)), []string{evil}},
		{"/feeds/vendors/Initech.atom", "tag:policywatch,2026:vendor:initech", []string{}},
		{"/feeds/severity/high.atom", "tag:policywatch,2026:severity:high", []string{dated}},
		{"/feeds/severity/medium.atom", "tag:policywatch,2026:severity:medium", []string{dated, evil}},
		{"/feeds/severity/low.atom", "tag:policywatch,2026:severity:low", []string{silent, dated, evil}},
		{"/feeds/severity/none.atom", "tag:policywatch,2026:severity:none", []string{silent, dated, evil}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			feed, _ := feedGet(t, f.URL, tc.path)
			if feed.ID != tc.id {
				t.Errorf("id = %q, want %q", feed.ID, tc.id)
			}
			if got := entryIDs(feed); strings.Join(got, " ") != strings.Join(tc.entries, " ") {
				t.Errorf("entries = %v, want %v", got, tc.entries)
			}
			again, _ := feedGet(t, f.URL, tc.path)
			if again.ID != feed.ID || strings.Join(entryIDs(again), " ") != strings.Join(entryIDs(feed), " ") {
				t.Errorf("ids changed between two requests: %v then %v", entryIDs(feed), entryIDs(again))
			}
			if len(tc.entries) == 0 && feed.Updated != seedNow.Format(time.RFC3339) {
				t.Errorf("empty feed updated %s, want the clock's %s", feed.Updated, seedNow.Format(time.RFC3339))
			}
		})
	}
}

func TestFeedEntries(t *testing.T) {
	f := newFixture(t)
	feed, _ := feedGet(t, f.URL, "/feeds/changes.atom")
	if len(feed.Entries) != 3 {
		t.Fatalf("%d entries, want 3", len(feed.Entries))
	}
	silent, dated, evil := feed.Entries[0], feed.Entries[1], feed.Entries[2]
	for _, tc := range []struct {
		name       string
		e          atomEntryT
		title      string
		updated    string
		categories string
		content    []string // pieces of the decoded HTML content
	}{
		{"silent", silent, "Acme Cloud: SILENT CHANGE (severity " + f.AcmeChanges[1].SeverityLevel + ")", "2023-02-01T00:00:00Z",
			"silent severity:" + f.AcmeChanges[1].SeverityLevel,
			[]string{"SILENT CHANGE", "unchanged (2022-06-14)", `href="https://web.archive.org/web/20220915064010id_/` + acmeURL + `"`, "<ins>, our affiliates and law enforcement agencies</ins>"}},
		{"dated", dated, "Acme Cloud: DATED CHANGE (severity high)", "2022-07-01T12:05:05Z", "dated severity:high",
			[]string{"2021-03-01 → 2022-06-14", "<del>30</del><ins>90</ins>", "<strong>Added</strong>"}},
		{"hostile", evil, evilName + ": SILENT CHANGE (severity " + f.EvilChanges[0].SeverityLevel + ")", "2022-01-05T00:00:00Z",
			"silent severity:" + f.EvilChanges[0].SeverityLevel,
			[]string{html.EscapeString("We share data with partners <script>alert('share')</script>.")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.e
			if e.Title.Text != tc.title {
				t.Errorf("title = %q, want %q", e.Title.Text, tc.title)
			}
			if e.Updated != tc.updated {
				t.Errorf("updated = %s, want %s", e.Updated, tc.updated)
			}
			var cats []string
			for _, c := range e.Categories {
				cats = append(cats, c.Term)
			}
			if strings.Join(cats, " ") != tc.categories {
				t.Errorf("categories = %v, want %s", cats, tc.categories)
			}
			for _, want := range tc.content {
				if !strings.Contains(e.Content.Text, want) {
					t.Errorf("content lacks %q:\n%s", want, e.Content.Text)
				}
			}
			if !strings.Contains(e.Summary.Text, "Stated date") || !strings.Contains(e.Summary.Text, "UTC") {
				t.Errorf("summary = %q", e.Summary.Text)
			}
		})
	}
	t.Run("hostile text is text", func(t *testing.T) {
		// Decoded once (XML), the content is HTML in which the archived
		// markup is escaped; decoded twice, it is the archived text exactly.
		if strings.Contains(strings.ToLower(evil.Content.Text), "<script") || strings.Contains(evil.Content.Text, "<img") {
			t.Errorf("the entry's HTML holds archived markup:\n%s", evil.Content.Text)
		}
		if !strings.Contains(html.UnescapeString(evil.Content.Text), "We share data with partners <script>alert('share')</script>.") {
			t.Errorf("the archived text did not survive:\n%s", evil.Content.Text)
		}
		if strings.ContainsRune(evil.Content.Text, '\x1b') || !strings.Contains(evil.Content.Text, "[31m.") {
			t.Errorf("the escape character must go and the rest of the text stay:\n%s", evil.Content.Text)
		}
	})
}

func TestFeedLinks(t *testing.T) {
	f := newFixture(t)
	host := strings.TrimPrefix(f.URL, "http://")
	feed, _ := feedGet(t, f.URL, "/feeds/changes.atom")
	if alt := link(feed.Links, "alternate"); alt != f.URL+"/" {
		t.Errorf("alternate = %q, want %q", alt, f.URL+"/")
	}
	want := map[string]string{
		changeTag(f.AcmeChanges[0].ID): "/vendors/Acme%20Cloud/changes/" + apiID(f.AcmeChanges[0].ID),
		changeTag(f.AcmeChanges[1].ID): "/vendors/Acme%20Cloud/changes/" + apiID(f.AcmeChanges[1].ID),
		changeTag(f.EvilChanges[0].ID): "/vendors/" + url.PathEscape(evilName) + "/changes/" + apiID(f.EvilChanges[0].ID),
	}
	for _, e := range feed.Entries {
		t.Run(e.ID, func(t *testing.T) {
			href := link(e.Links, "alternate")
			u, err := url.Parse(href)
			if err != nil {
				t.Fatalf("alternate %q: %v", href, err)
			}
			if u.Scheme != "http" || u.Host != host || u.EscapedPath() != want[e.ID] {
				t.Errorf("alternate = %q, want http://%s%s", href, host, want[e.ID])
			}
			if !strings.Contains(e.Content.Text, `href="`+html.EscapeString(href)+`"`) {
				t.Errorf("content does not link the page %q", href)
			}
			// The dashboard's pages are written alongside the feeds; until
			// they are, the route answers 501. Either way the path exists.
			resp, _ := rawGet(t, href)
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotImplemented {
				t.Errorf("GET %s = %d", href, resp.StatusCode)
			}
		})
	}
	t.Run("vendor feed alternate", func(t *testing.T) {
		feed, _ := feedGet(t, f.URL, "/feeds/vendors/"+url.PathEscape(evilName)+".atom")
		if alt := link(feed.Links, "alternate"); alt != f.URL+"/vendors/"+url.PathEscape(evilName) {
			t.Errorf("alternate = %q", alt)
		}
		if !strings.HasPrefix(feed.Title, "policywatch: "+evilName) {
			t.Errorf("title = %q, want the vendor's name as it is", feed.Title)
		}
	})
}

func TestFeedBaseURL(t *testing.T) {
	const base = "https://policies.example.com/pw"
	f := newFixture(t, func(o *web.Options) { o.BaseURL = base + "/" })
	feed, _ := feedGetAs(t, f.URL, base, "/feeds/severity/high.atom")
	if alt := link(feed.Links, "alternate"); alt != base+"/" {
		t.Errorf("alternate = %q", alt)
	}
	if len(feed.Entries) != 1 {
		t.Fatalf("%d entries, want 1", len(feed.Entries))
	}
	if href, want := link(feed.Entries[0].Links, "alternate"), base+"/vendors/Acme%20Cloud/changes/"+apiID(f.AcmeChanges[0].ID); href != want {
		t.Errorf("entry link = %q, want %q", href, want)
	}
}

func TestFeedTLSScheme(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewTLSServer(web.New(f.DB, slog.New(slog.DiscardHandler), web.Options{}).Handler())
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL + "/feeds/changes.atom")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var feed atomFeedT
	if err := xml.NewDecoder(resp.Body).Decode(&feed); err != nil {
		t.Fatal(err)
	}
	if self := link(feed.Links, "self"); self != srv.URL+"/feeds/changes.atom" || !strings.HasPrefix(self, "https://") {
		t.Errorf("self = %q, want %s/feeds/changes.atom", self, srv.URL)
	}
}

func TestFeedConditional(t *testing.T) {
	f := newFixture(t)
	_, resp := feedGet(t, f.URL, "/feeds/changes.atom")
	req, err := http.NewRequest(http.MethodGet, f.URL+"/feeds/changes.atom", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	again, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the feed's ETag = %d, want 304", again.StatusCode)
	}
	other, _ := feedGet(t, f.URL, "/feeds/severity/high.atom")
	if other.ID == "" {
		t.Fatal("no feed")
	}
}

func TestFeedErrors(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/feeds/severity/critical.atom", 404, "high.atom, medium.atom, low.atom and none.atom"},
		{"/feeds/severity/high", 404, "high.atom"},
		{"/feeds/severity/high.rss", 404, "high.atom"},
		{"/feeds/vendors/Acme%20Cloud", 404, ".atom"},
		{"/feeds/vendors/.atom", 404, ".atom"},
		{"/feeds/vendors/Globex.atom", 404, `"Globex"`},
		{"/feeds/changes.atom?min_severity=critical", 400, "min_severity"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := rawGet(t, f.URL+tc.path)
			if resp.StatusCode != tc.status {
				t.Errorf("GET %s = %d, want %d", tc.path, resp.StatusCode, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q, want text", ct)
			}
			if !strings.Contains(string(body), tc.want) {
				t.Errorf("message %q does not mention %q", body, tc.want)
			}
		})
	}
}
