package web_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/policywatch/policywatch/store"
	"github.com/policywatch/policywatch/web"
)

// pgPage is a fetched dashboard page.
type pgPage struct {
	Path   string
	Code   int
	Header http.Header
	Body   string
	Doc    *goquery.Document
}

// pgFetch fetches path and parses it as HTML.
func pgFetch(t *testing.T, f *fixture, path string) *pgPage {
	t.Helper()
	resp, b := rawGet(t, f.URL+path)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("GET %s: parse: %v", path, err)
	}
	return &pgPage{Path: path, Code: resp.StatusCode, Header: resp.Header, Body: string(b), Doc: doc}
}

// pgOK fetches a page that must answer 200.
func pgOK(t *testing.T, f *fixture, path string) *pgPage {
	t.Helper()
	p := pgFetch(t, f, path)
	if p.Code != http.StatusOK {
		t.Fatalf("GET %s: status %d, want 200; body:\n%s", path, p.Code, p.Body)
	}
	return p
}

// text is the trimmed, space-normalised text of a selection.
func pgText(s *goquery.Selection) string {
	return strings.Join(strings.Fields(s.Text()), " ")
}

func pgVendorPath(name string) string { return "/vendors/" + url.PathEscape(name) }

func pgVersionPath(name string, id int64) string {
	return pgVendorPath(name) + "/versions/" + strconv.FormatInt(id, 10)
}

func pgChangePath(name string, id int64) string {
	return pgVendorPath(name) + "/changes/" + strconv.FormatInt(id, 10)
}

// pgAllPaths lists every page of the fixture, of every kind.
func pgAllPaths(f *fixture) []string {
	paths := []string{"/", pgVendorPath(acmeName), pgVendorPath(evilName), pgVendorPath(initechName)}
	for _, v := range f.AcmeVersions {
		paths = append(paths, pgVersionPath(acmeName, v.ID))
	}
	for _, v := range f.EvilVersions {
		paths = append(paths, pgVersionPath(evilName, v.ID))
	}
	for _, c := range f.AcmeChanges {
		paths = append(paths, pgChangePath(acmeName, c.ID), pgChangePath(acmeName, c.ID)+"?view=side")
	}
	for _, c := range f.EvilChanges {
		paths = append(paths, pgChangePath(evilName, c.ID), pgChangePath(evilName, c.ID)+"?view=side")
	}
	paths = append(paths,
		fmt.Sprintf("%s/compare?from=%d&to=%d", pgVendorPath(acmeName), f.AcmeVersions[0].ID, f.AcmeVersions[2].ID),
		fmt.Sprintf("%s/compare?from=%d&to=%d&view=side", pgVendorPath(evilName), f.EvilVersions[0].ID, f.EvilVersions[1].ID),
	)
	return paths
}

// TestPagesCommon checks what every page shares: the layout, its
// accessibility landmarks and the feed links.
func TestPagesCommon(t *testing.T) {
	f := newFixture(t)
	for _, path := range pgAllPaths(f) {
		t.Run(path, func(t *testing.T) {
			p := pgOK(t, f, path)
			if ct := p.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if lang, _ := p.Doc.Find("html").Attr("lang"); lang != "en" {
				t.Errorf("html lang %q, want en", lang)
			}
			if n := p.Doc.Find("h1").Length(); n != 1 {
				t.Errorf("%d h1 elements, want 1", n)
			}
			if title := pgText(p.Doc.Find("head title")); !strings.HasSuffix(title, " · policywatch") {
				t.Errorf("title %q does not end with \" · policywatch\"", title)
			}
			skip := p.Doc.Find("body a").First()
			href, _ := skip.Attr("href")
			if pgText(skip) != "Skip to content" || !strings.HasPrefix(href, "#") || p.Doc.Find(href).Length() != 1 {
				t.Errorf("first link %q → %q: want a \"Skip to content\" link to an element of the page", pgText(skip), href)
			}
			if css, _ := p.Doc.Find(`head link[rel="stylesheet"]`).Attr("href"); !strings.HasPrefix(css, "/static/style.css") {
				t.Errorf("stylesheet %q", css)
			}
			if p.Doc.Find(`head link[rel="alternate"][type="application/atom+xml"][href="/feeds/changes.atom"]`).Length() != 1 {
				t.Error("no <link rel=alternate> to /feeds/changes.atom")
			}
			nav := p.Doc.Find("header nav")
			if nav.Find(`a[href="/"]`).Length() == 0 || nav.Find(`a[href="/feeds/changes.atom"]`).Length() == 0 {
				t.Error("header nav does not link / and /feeds/changes.atom")
			}
			pgHeadingOrder(t, p.Doc)
			p.Doc.Find("time").Each(func(_ int, s *goquery.Selection) {
				if d, ok := s.Attr("datetime"); !ok || d == "" {
					t.Errorf("<time>%s</time> without datetime", s.Text())
				}
			})
			p.Doc.Find("table").Each(func(_ int, s *goquery.Selection) {
				if _, ok := s.Attr("aria-label"); !ok && s.Find("caption").Length() == 0 {
					t.Error("table without caption or aria-label")
				}
			})
			p.Doc.Find("th").Each(func(_ int, s *goquery.Selection) {
				if s.Closest("article").Length() > 0 {
					return // archived tables carry what the policy had
				}
				if _, ok := s.Attr("scope"); !ok {
					t.Errorf("<th>%s</th> without scope", s.Text())
				}
			})
			p.Doc.Find("select").Each(func(_ int, s *goquery.Selection) {
				id, _ := s.Attr("id")
				if id == "" || p.Doc.Find(`label[for="`+id+`"]`).Length() != 1 {
					t.Errorf("select %q has no label", id)
				}
			})
			if strings.Contains(strings.ToLower(p.Body), "<script") {
				t.Error("page contains a script element")
			}
		})
	}
}

// pgHeadingOrder fails when the outline skips a level going down.
func pgHeadingOrder(t *testing.T, doc *goquery.Document) {
	t.Helper()
	prev := 0
	doc.Find("h1, h2, h3, h4, h5, h6").Each(func(_ int, s *goquery.Selection) {
		level := int(goquery.NodeName(s)[1] - '0')
		if prev == 0 && level != 1 {
			t.Errorf("first heading is h%d %q, want h1", level, pgText(s))
		}
		if prev != 0 && level > prev+1 {
			t.Errorf("h%d %q follows h%d: headings skip a level", level, pgText(s), prev)
		}
		prev = level
	})
}

func TestVendorsPage(t *testing.T) {
	f := newFixture(t)
	p := pgOK(t, f, "/")
	if got := pgText(p.Doc.Find("h1")); got != "Watched policies" {
		t.Errorf("h1 %q", got)
	}
	var heads []string
	p.Doc.Find("#vendors thead th").Each(func(_ int, s *goquery.Selection) {
		if scope, _ := s.Attr("scope"); scope != "col" {
			t.Errorf("th %q scope %q, want col", pgText(s), scope)
		}
		heads = append(heads, pgText(s))
	})
	if got, want := strings.Join(heads, "|"), "Vendor|Document|Latest version|Stated date|Last change|Next pass|Health"; got != want {
		t.Errorf("headers %s, want %s", got, want)
	}
	rows := p.Doc.Find("#vendors tbody tr")
	if rows.Length() != 3 {
		t.Fatalf("%d rows, want 3", rows.Length())
	}
	cell := func(row, col int) *goquery.Selection { return rows.Eq(row).Find("td").Eq(col) }
	for i, name := range []string{acmeName, evilName, initechName} {
		a := cell(i, 0).Find("a").First()
		if href, _ := a.Attr("href"); href != pgVendorPath(name) || pgText(a) != name {
			t.Errorf("row %d: first cell links %q as %q, want %q as %q", i, href, pgText(a), pgVendorPath(name), name)
		}
	}
	acmeLatest := f.AcmeVersions[2]
	acmeLast := f.AcmeChanges[1]
	tests := []struct {
		name     string
		row, col int
		want     []string // substrings of the cell's text
		link     string   // a link the cell must hold
		sel      string   // an element the cell must hold
	}{
		{"acme document", 0, 1, []string{acmeURL}, acmeURL, `a[rel="noopener noreferrer nofollow"]`},
		{"acme latest", 0, 2, []string{"2023-02-01 00:00 UTC", "2 captures"}, pgVersionPath(acmeName, acmeLatest.ID), "time[datetime]"},
		{"acme stated", 0, 3, []string{"2022-06-14"}, "", `time[datetime="2022-06-14"]`},
		{"acme last change", 0, 4, []string{"SILENT CHANGE", "low", "2023-02-01 00:00 UTC"}, pgChangePath(acmeName, acmeLast.ID), ".kind-silent"},
		{"acme next pass", 0, 5, []string{"2026-11-22 12:47 UTC"}, "", `time[datetime="2026-11-22T12:47:00Z"]`},
		{"acme health", 0, 6, []string{"ok", "2026-11-22 11:47 UTC"}, "", ""},
		{"evil latest", 1, 2, []string{"2022-01-05 00:00 UTC", "1 capture"}, pgVersionPath(evilName, f.EvilVersions[1].ID), ""},
		{"evil last change", 1, 4, []string{"SILENT CHANGE", "medium"}, pgChangePath(evilName, f.EvilChanges[0].ID), ".kind-silent"},
		{"evil next pass", 1, 5, []string{"not scheduled (no daemon)"}, "", ""},
		{"evil health", 1, 6, []string{"failing", evilError}, "", "details"},
		{"initech latest", 2, 2, []string{"none stored"}, "", ""},
		{"initech stated", 2, 3, []string{"none stated"}, "", ""},
		{"initech last change", 2, 4, []string{"none yet"}, "", ""},
		{"initech next pass", 2, 5, []string{"not scheduled"}, "", ""},
		{"initech health", 2, 6, []string{"never run"}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := cell(tc.row, tc.col)
			got := pgText(c)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("cell %q lacks %q", got, w)
				}
			}
			if tc.link != "" && c.Find(`a[href="`+tc.link+`"]`).Length() == 0 {
				t.Errorf("cell %q does not link %s", got, tc.link)
			}
			if tc.sel != "" && c.Find(tc.sel).Length() == 0 {
				t.Errorf("cell %q has no %s", got, tc.sel)
			}
		})
	}
	if !rows.Eq(1).HasClass("health-failing") || rows.Eq(0).HasClass("health-failing") || rows.Eq(2).HasClass("health-failing") {
		t.Error("only the failing vendor's row should have class health-failing")
	}
	// The error text is escaped, never markup.
	if strings.Contains(p.Body, `<b>"boom"</b>`) || !strings.Contains(p.Body, `&lt;b&gt;`) {
		t.Error("the pass error is not escaped")
	}
}

func TestVendorsPageNotInConfig(t *testing.T) {
	f := newFixture(t)
	f.Vendors = f.Vendors[2:] // only Initech stays configured
	p := pgOK(t, f, "/")
	rows := p.Doc.Find("#vendors tbody tr")
	var names []string
	rows.Each(func(_ int, s *goquery.Selection) { names = append(names, pgText(s.Find("td a").First())) })
	if got, want := strings.Join(names, "|"), initechName+"|"+acmeName+"|"+evilName; got != want {
		t.Fatalf("rows %s, want %s (configured first, then the store's by name)", got, want)
	}
	if got := pgText(rows.Eq(1).Find("td").First()); !strings.Contains(got, "not in config") {
		t.Errorf("store-only row %q is not marked", got)
	}
}

func TestVendorsPageEmpty(t *testing.T) {
	// A store with vendors always lists them, so an empty list needs an
	// empty store: a server on a fresh database and an empty config.
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "empty.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := httptest.NewServer(web.New(db, slog.New(slog.DiscardHandler), web.Options{}).Handler())
	t.Cleanup(srv.Close)
	p := pgOK(t, &fixture{URL: srv.URL}, "/")
	if p.Doc.Find("#vendors").Length() != 0 {
		t.Error("an empty list still shows the table")
	}
	if got := pgText(p.Doc.Find("main")); !strings.Contains(got, "vendors:") || !strings.Contains(got, "policywatch history") {
		t.Errorf("empty list %q does not say how to add a vendor", got)
	}
}

func TestVendorPage(t *testing.T) {
	f := newFixture(t)
	p := pgOK(t, f, pgVendorPath(acmeName))
	if got := pgText(p.Doc.Find("h1")); got != acmeName {
		t.Errorf("h1 %q", got)
	}
	if p.Doc.Find(`a[href="/feeds/vendors/Acme%20Cloud.atom"]`).Length() == 0 ||
		p.Doc.Find(`head link[rel="alternate"][href="/feeds/vendors/Acme%20Cloud.atom"]`).Length() != 1 {
		t.Error("no per-vendor feed link")
	}
	summary := map[string]string{}
	p.Doc.Find("#summary dt").Each(func(_ int, dt *goquery.Selection) {
		summary[pgText(dt)] = pgText(dt.Next())
	})
	for term, want := range map[string]string{"Document": acmeURL, "Versions": "3", "Changes": "2", "Next pass": "2026-11-22 12:47 UTC", "Health": "ok"} {
		if !strings.HasPrefix(summary[term], want) {
			t.Errorf("summary %s = %q, want %q", term, summary[term], want)
		}
	}

	items := p.Doc.Find("#timeline > li")
	v, c := f.AcmeVersions, f.AcmeChanges
	want := []struct {
		class string
		link  string
		text  []string
	}{
		{"version", pgVersionPath(acmeName, v[2].ID), []string{"2023-02-01 00:00 UTC", "2023-06-01 00:00 UTC", "2 captures", "2022-06-14", "Privacy Policy | Acme Cloud"}},
		{"change", pgChangePath(acmeName, c[1].ID), []string{"Silent change", "SILENT CHANGE", "low", "unchanged", "2022-09-15 06:40 UTC", "2023-02-01 00:00 UTC"}},
		{"version", pgVersionPath(acmeName, v[1].ID), []string{"2022-07-01 12:05 UTC", "2022-09-15 06:40 UTC"}},
		{"change", pgChangePath(acmeName, c[0].ID), []string{"DATED CHANGE", "high", "2021-03-01", "2022-06-14", "2021-09-22 17:44 UTC", "2022-07-01 12:05 UTC"}},
		{"version", pgVersionPath(acmeName, v[0].ID), []string{"2021-03-10 08:15 UTC", "2021-09-22 17:44 UTC", "2021-03-01"}},
	}
	if items.Length() != len(want) {
		t.Fatalf("%d timeline items, want %d", items.Length(), len(want))
	}
	for i, w := range want {
		t.Run(strconv.Itoa(i)+"-"+w.class, func(t *testing.T) {
			li := items.Eq(i)
			if !li.HasClass(w.class) {
				cls, _ := li.Attr("class")
				t.Errorf("class %q, want %s", cls, w.class)
			}
			a := li.Find(`a[href="` + w.link + `"]`)
			linkText := map[string]string{"version": "Read this version", "change": "See what changed"}[w.class]
			if a.Length() != 1 || !strings.HasPrefix(pgText(a), linkText) {
				t.Errorf("no link %q starting %q", w.link, linkText)
			}
			got := pgText(li)
			for _, s := range w.text {
				if !strings.Contains(got, s) {
					t.Errorf("item %q lacks %q", got, s)
				}
			}
		})
	}
	silent := items.Eq(1)
	if !silent.HasClass("change-silent") || !silent.HasClass("kind-silent") || silent.Find(".badge.kind-silent").Length() != 1 {
		t.Error("the silent change does not stand out (change-silent, kind-silent, red badge)")
	}
	if items.Eq(3).HasClass("change-silent") || !items.Eq(3).HasClass("kind-dated") {
		t.Error("the dated change is marked as silent or not as dated")
	}

	form := p.Doc.Find("form")
	if action, _ := form.Attr("action"); action != pgVendorPath(acmeName)+"/compare" {
		t.Errorf("compare form action %q", action)
	}
	if method, _ := form.Attr("method"); !strings.EqualFold(method, "get") {
		t.Errorf("compare form method %q", method)
	}
	for _, name := range []string{"from", "to"} {
		sel := form.Find(`select[name="` + name + `"]`)
		id, _ := sel.Attr("id")
		if sel.Length() != 1 || form.Find(`label[for="`+id+`"]`).Length() != 1 {
			t.Errorf("select %s missing or unlabelled", name)
		}
		if n := sel.Find("option").Length(); n != 3 {
			t.Errorf("select %s has %d options, want 3", name, n)
		}
	}
	if got := pgText(form.Find("button")); got != "Compare" {
		t.Errorf("button %q", got)
	}
}

func TestVendorPageNoHistory(t *testing.T) {
	f := newFixture(t)
	p := pgOK(t, f, pgVendorPath(initechName))
	if got := pgText(p.Doc.Find("h1")); got != initechName {
		t.Errorf("h1 %q", got)
	}
	if got := pgText(p.Doc.Find("main")); !strings.Contains(got, "No history stored yet: run policywatch fetch or policywatch history") {
		t.Errorf("page %q does not say there is no history", got)
	}
	if got := pgText(p.Doc.Find("dl").First()); !strings.Contains(got, initechURL) || !strings.Contains(got, "never run") {
		t.Errorf("summary %q", got)
	}
	if p.Doc.Find("#timeline, form").Length() != 0 {
		t.Error("a vendor without history shows a timeline or a compare form")
	}
}

func TestChangePage(t *testing.T) {
	f := newFixture(t)
	dated, silent := f.AcmeChanges[0], f.AcmeChanges[1]
	oldWin := "https://web.archive.org/web/20210922174411id_/" + acmeURL
	newWin := "https://web.archive.org/web/20220701120505id_/" + acmeURL
	const sell = "We may sell aggregated data to advertising partners."
	for _, layout := range []string{"", "inline", "side"} {
		t.Run("dated/"+pgOr(layout, "default"), func(t *testing.T) {
			path := pgChangePath(acmeName, dated.ID)
			if layout != "" {
				path += "?view=" + layout
			}
			p := pgOK(t, f, path)
			h1 := pgText(p.Doc.Find("h1"))
			if !strings.Contains(h1, acmeName) || !strings.Contains(h1, "policy change") {
				t.Errorf("h1 %q", h1)
			}
			main := pgText(p.Doc.Find("main"))
			for _, w := range []string{"DATED CHANGE", "Severity: high", "2021-03-01 → 2022-06-14", "retention"} {
				if !strings.Contains(main, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, href := range []string{oldWin, newWin, pgVersionPath(acmeName, dated.FromVersionID), pgVersionPath(acmeName, dated.ToVersionID)} {
				a := p.Doc.Find(`a[href="` + href + `"]`)
				if a.Length() == 0 {
					t.Errorf("no link to %s", href)
				}
				if strings.HasPrefix(href, "https:") {
					if rel, _ := a.Attr("rel"); rel != "noopener noreferrer nofollow" {
						t.Errorf("link %s rel %q", href, rel)
					}
				}
			}
			nav := p.Doc.Find(`nav[aria-label="Diff layout"]`)
			current := pgText(nav.Find(`a[aria-current="page"]`))
			wantCurrent := map[string]string{"": "Inline", "inline": "Inline", "side": "Side by side"}[layout]
			if current != wantCurrent {
				t.Errorf("current layout %q, want %q", current, wantCurrent)
			}
			if nav.Find(`a[href="?view=inline"]`).Length() != 1 || nav.Find(`a[href="?view=side"]`).Length() != 1 {
				t.Error("layout links are not ?view=inline and ?view=side")
			}
			if layout == "side" {
				sbs := p.Doc.Find("#side-by-side")
				if sbs.Length() != 1 || p.Doc.Find("#inline").Length() != 0 {
					t.Fatal("side layout: want #side-by-side and no #inline")
				}
				if n := sbs.Find(".col.old ins").Length(); n != 0 {
					t.Errorf("%d <ins> in the old column", n)
				}
				if n := sbs.Find(".col.new del").Length(); n != 0 {
					t.Errorf("%d <del> in the new column", n)
				}
				if sbs.Find(".col.old del").Length() == 0 || sbs.Find(".col.new ins").Length() == 0 {
					t.Error("side layout shows no removed or no added words")
				}
				if !strings.Contains(pgText(sbs.Find(".col.new ins")), sell) || strings.Contains(pgText(sbs.Find(".col.old")), sell) {
					t.Errorf("the sale clause is not added on the new side")
				}
				return
			}
			in := p.Doc.Find("#inline")
			if in.Length() != 1 || p.Doc.Find("#side-by-side").Length() != 0 {
				t.Fatal("inline layout: want #inline and no #side-by-side")
			}
			if !strings.Contains(pgText(in.Find("ins")), sell) {
				t.Errorf("inline <ins> %q lacks the sale clause", pgText(in.Find("ins")))
			}
			if !strings.Contains(pgText(in.Find("del")), "30") || !strings.Contains(pgText(in.Find("ins")), "[added: 90]") {
				t.Error("the retention change is not marked, with screen-reader text, as removed and added words")
			}
			if in.Find("h3").Length() == 0 {
				t.Error("clause changes are not grouped by section")
			}
		})
	}
	t.Run("silent", func(t *testing.T) {
		p := pgOK(t, f, pgChangePath(acmeName, silent.ID))
		first := p.Doc.Find(".badge").First()
		if !first.HasClass("kind-silent") || pgText(first) != "SILENT CHANGE" {
			t.Errorf("first badge %q is not the silent kind", pgText(first))
		}
		if got := pgText(p.Doc.Find("main")); !strings.Contains(got, "unchanged (2022-06-14)") || !strings.Contains(got, "law enforcement") {
			t.Errorf("silent change page %q", got)
		}
	})
}

func pgOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestComparePage(t *testing.T) {
	f := newFixture(t)
	v := f.AcmeVersions
	tests := []struct {
		name       string
		from, to   int64
		handPicked bool
		want       []string
	}{
		{"recorded", v[0].ID, v[1].ID, false, []string{"2021-03-01 → 2022-06-14", "2021-09-22 17:44 UTC"}},
		{"by hand", v[0].ID, v[2].ID, true, []string{"picked by hand: no change window", "law enforcement"}},
		{"backwards", v[2].ID, v[0].ID, true, []string{"2022-06-14 → 2021-03-01"}},
		{"same", v[1].ID, v[1].ID, true, []string{"No difference"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := fmt.Sprintf("%s/compare?from=%d&to=%d", pgVendorPath(acmeName), tc.from, tc.to)
			for _, layout := range []string{"inline", "side"} {
				p := pgOK(t, f, path+"&view="+layout)
				main := pgText(p.Doc.Find("main"))
				for _, w := range tc.want {
					if !strings.Contains(main, w) {
						t.Errorf("%s: page lacks %q", layout, w)
					}
				}
				if got := p.Doc.Find("#hand-picked").Length() == 1; got != tc.handPicked {
					t.Errorf("%s: hand-picked note shown %v, want %v", layout, got, tc.handPicked)
				}
				if p.Doc.Find("#"+map[string]string{"inline": "inline", "side": "side-by-side"}[layout]).Length() != 1 {
					t.Errorf("%s: layout element missing", layout)
				}
				side, _ := p.Doc.Find(`nav[aria-label="Diff layout"] a`).Eq(1).Attr("href")
				q, err := url.ParseQuery(strings.TrimPrefix(side, "?"))
				if err != nil || q.Get("from") != strconv.FormatInt(tc.from, 10) || q.Get("to") != strconv.FormatInt(tc.to, 10) || q.Get("view") != "side" {
					t.Errorf("%s: side layout link %q loses the versions", layout, side)
				}
			}
		})
	}
}

func TestVersionPage(t *testing.T) {
	f := newFixture(t)
	v := f.AcmeVersions
	for i, ver := range v {
		t.Run(strconv.Itoa(i+1), func(t *testing.T) {
			p := pgOK(t, f, pgVersionPath(acmeName, ver.ID))
			if got := pgText(p.Doc.Find("h1")); got != ver.Title {
				t.Errorf("h1 %q, want %q", got, ver.Title)
			}
			facts := pgText(p.Doc.Find("dl").First())
			for _, w := range []string{acmeName, ver.StatedDate, ver.StatedDateText, ver.Extractor, pgWB(ver.First.Timestamp), pgWB(ver.Last.Timestamp)} {
				if !strings.Contains(facts, w) {
					t.Errorf("metadata %q lacks %q", facts, w)
				}
			}
			for _, c := range []*store.Capture{ver.First, ver.Last} {
				if p.Doc.Find(`a[href="`+c.WaybackURL()+`"]`).Length() == 0 {
					t.Errorf("no link to capture %s", c.WaybackURL())
				}
			}
			prev := p.Doc.Find(`a[rel="prev"]`)
			next := p.Doc.Find(`a[rel="next"]`)
			if i > 0 {
				if href, _ := prev.Attr("href"); href != pgVersionPath(acmeName, v[i-1].ID) {
					t.Errorf("previous %q", href)
				}
				// The change that produced this version.
				if p.Doc.Find(`a[href="`+pgChangePath(acmeName, f.AcmeChanges[i-1].ID)+`"]`).Length() == 0 {
					t.Error("no link to the change that produced it")
				}
			} else if prev.Length() != 0 {
				t.Error("the first version links a previous one")
			}
			if i+1 < len(v) {
				if href, _ := next.Attr("href"); href != pgVersionPath(acmeName, v[i+1].ID) {
					t.Errorf("next %q", href)
				}
			} else if next.Length() != 0 {
				t.Error("the last version links a next one")
			}
			article := p.Doc.Find("article#policy")
			if article.Length() != 1 {
				t.Fatal("no article#policy")
			}
			if got := pgText(article.Find("h2").First()); got != "Acme Cloud Privacy Policy" {
				t.Errorf("first policy heading %q", got)
			}
			if got := pgText(article.Find("em").First()); got != ver.StatedDateText {
				t.Errorf("emphasis %q, want the stated date line %q", got, ver.StatedDateText)
			}
			if !strings.Contains(pgText(article), "3. Sharing") {
				t.Error("policy text lacks its sections")
			}
		})
	}
}

// pgWB is how pages show a Wayback timestamp.
func pgWB(ts string) string {
	return ts[0:4] + "-" + ts[4:6] + "-" + ts[6:8] + " " + ts[8:10] + ":" + ts[10:12] + " UTC"
}

func TestPageErrors(t *testing.T) {
	f := newFixture(t)
	acme, evil := pgVendorPath(acmeName), pgVendorPath(evilName)
	v := f.AcmeVersions
	tests := []struct {
		path string
		code int
		want []string // in the message
	}{
		{"/vendors/Nobody", 404, []string{"Nobody"}},
		{"/vendors/Nobody/versions/1", 404, []string{"Nobody"}},
		{acme + "/versions/999999", 404, []string{"999999"}},
		{acme + "/versions/" + strconv.FormatInt(f.EvilVersions[0].ID, 10), 404, []string{acmeName}},
		{evil + "/versions/" + strconv.FormatInt(v[0].ID, 10), 404, []string{"Evil <Corp>", "has no version"}},
		{acme + "/versions/abc", 400, []string{"abc"}},
		{acme + "/changes/999999", 404, []string{"999999"}},
		{acme + "/changes/" + strconv.FormatInt(f.EvilChanges[0].ID, 10), 404, []string{acmeName}},
		{pgVendorPath(initechName) + "/changes/1", 404, []string{"no stored history"}},
		{acme + "/changes/" + strconv.FormatInt(f.AcmeChanges[0].ID, 10) + "?view=split", 400, []string{"view", "split", "inline", "side"}},
		{acme + "/changes/" + strconv.FormatInt(f.AcmeChanges[0].ID, 10) + "?cosmetic=yes", 400, []string{"cosmetic"}},
		{acme + "/compare", 400, []string{"from"}},
		{acme + "/compare?from=" + strconv.FormatInt(v[0].ID, 10), 400, []string{"to"}},
		{acme + "/compare?from=x&to=1", 400, []string{"from", `"x"`}},
		{acme + "/compare?from=1&to=-3", 400, []string{"to", `"-3"`}},
		{acme + "/compare?from=1&to=2&view=diff", 400, []string{"view", "inline", "side"}},
		{fmt.Sprintf("%s/compare?from=%d&to=%d", acme, v[0].ID, f.EvilVersions[0].ID), 404, []string{acmeName}},
		{"/static/nothing.css", 404, []string{"nothing.css"}},
		{"/static/..%2Fpages.go", 404, nil},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			p := pgFetch(t, f, tc.path)
			if p.Code != tc.code {
				t.Fatalf("status %d, want %d; body:\n%s", p.Code, tc.code, p.Body)
			}
			if ct := p.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if p.Doc.Find("h1").Length() != 1 || p.Doc.Find(`main a[href="/"]`).Length() == 0 {
				t.Error("error page without its h1 or its link home")
			}
			msg := pgText(p.Doc.Find(".error-message"))
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestStatic(t *testing.T) {
	f := newFixture(t)
	home := pgOK(t, f, "/")
	href, _ := home.Doc.Find(`link[rel="stylesheet"]`).Attr("href")
	resp, err := http.Get(f.URL + href)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", href, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("Cache-Control %q", cc)
	}
	for _, w := range []string{"prefers-color-scheme: dark", ":focus-visible", ".kind-silent", ".skip", "@media (max-width"} {
		if !strings.Contains(string(body), w) {
			t.Errorf("stylesheet lacks %q", w)
		}
	}
	etag := resp.Header.Get("ETag")
	req, _ := http.NewRequest(http.MethodGet, f.URL+href, nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if etag == "" || resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation with ETag %q: %d, want 304", etag, resp.StatusCode)
	}
}

// TestLinksResolve follows every internal link and the compare form from
// the vendor list: none may lead to an error page.
func TestLinksResolve(t *testing.T) {
	f := newFixture(t)
	base, _ := url.Parse(f.URL)
	seen := map[string]bool{}
	queue := []string{"/"}
	from := map[string]string{}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		if seen[path] {
			continue
		}
		seen[path] = true
		resp, err := http.Get(f.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.HasPrefix(path, "/feeds/") && resp.StatusCode == http.StatusNotImplemented {
			t.Logf("%s (linked from %s) is not implemented yet", path, from[path])
			continue
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s (linked from %s): status %d", path, from[path], resp.StatusCode)
			continue
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			continue
		}
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := base.Parse(path)
		add := func(ref string) {
			u, err := page.Parse(ref)
			if err != nil {
				t.Errorf("%s: bad link %q", path, ref)
				return
			}
			if u.Host != base.Host {
				return
			}
			u.Fragment = ""
			next := u.RequestURI()
			if _, ok := from[next]; !ok {
				from[next] = path
			}
			queue = append(queue, next)
		}
		doc.Find("a[href], link[href]").Each(func(_ int, s *goquery.Selection) {
			href, _ := s.Attr("href")
			add(href)
		})
		doc.Find("form").Each(func(_ int, s *goquery.Selection) {
			action, _ := s.Attr("action")
			q := url.Values{}
			s.Find("select").Each(func(_ int, sel *goquery.Selection) {
				name, _ := sel.Attr("name")
				val, _ := sel.Find("option[selected]").Attr("value")
				q.Set(name, val)
			})
			add(action + "?" + q.Encode())
		})
	}
	for _, want := range []string{pgVendorPath(acmeName), pgChangePath(acmeName, f.AcmeChanges[0].ID), pgVersionPath(acmeName, f.AcmeVersions[0].ID), "/static/style.css"} {
		found := false
		for p := range seen {
			if p == want || strings.HasPrefix(p, want+"?") {
				found = true
			}
		}
		if !found {
			t.Errorf("%s was never reached from /", want)
		}
	}
	if len(seen) < 15 {
		t.Errorf("only %d pages reached", len(seen))
	}
}

// pgHostileVisible is archived text that must show, as text, on the hostile
// vendor's pages.
var pgHostileVisible = []struct {
	page string // which page (key of the paths below)
	sel  string
	want string
}{
	{"list", "#vendors tbody tr:nth-child(2) td:first-child a", evilName},
	{"list", "#vendors tbody tr:nth-child(2)", evilError},
	{"vendor", "h1", evilName},
	{"vendor", "#timeline", `Evil </title><script>alert("title")</script>`},
	{"change", "h1", evilName},
	{"change", "#inline", `"><img src=x onerror=alert('share2')> {{.Secret}} ]]> </textarea><svg onload=alert('svg')>`},
	{"side", "#side-by-side .col.old", `<script>alert('share')</script>`},
	{"version", "h1", `Evil </title><script>alert("title")</script>`},
	{"version", "article#policy h2", `<script>alert('h1')</script>`},
	{"version", "article#policy", `<iframe src="javascript:alert('iframe')"></iframe>`},
	{"version", "article#policy", `<img src=x onerror=alert('img')>`},
	{"version", "article#policy", "[image: img]"},
}

var pgSafeRef = regexp.MustCompile(`^(?:/[^/]|/$|\?|#|https?://|mailto:)`)

func TestHostileVendor(t *testing.T) {
	f := newFixture(t)
	ev := f.EvilVersions
	paths := map[string]string{
		"list":     "/",
		"vendor":   pgVendorPath(evilName),
		"change":   pgChangePath(evilName, f.EvilChanges[0].ID),
		"side":     pgChangePath(evilName, f.EvilChanges[0].ID) + "?view=side&cosmetic=1",
		"version":  pgVersionPath(evilName, ev[1].ID),
		"version1": pgVersionPath(evilName, ev[0].ID),
		"compare":  fmt.Sprintf("%s/compare?from=%d&to=%d", pgVendorPath(evilName), ev[1].ID, ev[0].ID),
	}
	pages := map[string]*pgPage{}
	for name, path := range paths {
		t.Run(name, func(t *testing.T) {
			p := pgOK(t, f, path)
			pages[name] = p
			lower := strings.ToLower(p.Body)
			for _, bad := range []string{"<script", "<iframe", "<svg", "<style", "<img", "<object", "<embed", "<textarea", "\x1b"} {
				if strings.Contains(lower, bad) {
					t.Errorf("page contains %q", bad)
				}
			}
			p.Doc.Find("*").Each(func(_ int, s *goquery.Selection) {
				for _, a := range s.Nodes[0].Attr {
					name := strings.ToLower(a.Key)
					if strings.HasPrefix(name, "on") || name == "style" || name == "srcdoc" || name == "formaction" {
						t.Errorf("<%s %s=%q>", goquery.NodeName(s), a.Key, a.Val)
					}
					if (name == "href" || name == "src" || name == "action") && !pgSafeRef.MatchString(a.Val) {
						t.Errorf("<%s %s=%q>: not relative, http(s) or mailto", goquery.NodeName(s), a.Key, a.Val)
					}
				}
			})
		})
	}
	for _, h := range pgHostileVisible {
		t.Run("visible/"+h.page+"/"+h.sel, func(t *testing.T) {
			p := pages[h.page]
			if p == nil {
				t.Skip("page failed")
			}
			sel := p.Doc.Find(h.sel)
			if sel.Length() == 0 {
				t.Fatalf("no %s", h.sel)
			}
			got := sel.Text()
			if !strings.Contains(strings.Join(strings.Fields(got), " "), strings.Join(strings.Fields(h.want), " ")) {
				t.Errorf("%s text %q lacks %q", h.sel, got, h.want)
			}
		})
	}
}
