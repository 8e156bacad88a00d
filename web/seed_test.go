package web_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/monitor"
	"github.com/policywatch/policywatch/store"
	"github.com/policywatch/policywatch/web"
)

// The seeded store: what every web test reads. It is built by the real
// pipeline (monitor.History against the fake Wayback Machine), so pages
// show what a user's store would hold.
const (
	acmeName = "Acme Cloud"
	acmeURL  = "https://www.acme-cloud.example/legal/privacy"
	// evilName's vendor serves pages written to break out of every context
	// the dashboard puts archived text in.
	evilName = `Evil <Corp> & "Co"`
	evilURL  = "https://evil.example/privacy"
	// initechName is configured but has never been fetched.
	initechName = "Initech"
	initechURL  = "https://initech.example/privacy"

	// evilError is the failing vendor's last pass error.
	evilError = `list captures of https://evil.example/privacy: archive unreachable <b>"boom"</b>`
)

// seedNow is the fixture's clock.
var seedNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// acmeNext is when Acme Cloud's next pass is scheduled.
var acmeNext = seedNow.Add(47 * time.Minute)

// fixture is a seeded store served by a web.Server on loopback.
type fixture struct {
	DB      *store.DB
	Srv     *httptest.Server
	URL     string // Srv.URL
	Vendors []web.Vendor
	// Acme's versions in archive order (3) and its changes (2: a dated
	// change with a high-severity clause, then a silent change).
	AcmeVersions []*store.Version
	AcmeChanges  []*store.Change
	// Evil's versions (2) and its change (1).
	EvilVersions []*store.Version
	EvilChanges  []*store.Change
}

// newFixture seeds a fresh store in t.TempDir and serves it. opts, when
// given, adjust the server's options (credentials, base URL).
func newFixture(t testing.TB, opts ...func(*web.Options)) *fixture {
	t.Helper()
	f := &fixture{}
	f.DB = seed(t)
	f.Vendors = []web.Vendor{{Name: acmeName, URL: acmeURL}, {Name: evilName, URL: evilURL}, {Name: initechName, URL: initechURL}}
	o := web.Options{
		Vendors: func() []web.Vendor { return f.Vendors },
		NextPass: func(name string) time.Time {
			if name == acmeName {
				return acmeNext
			}
			return time.Time{}
		},
		Now: func() time.Time { return seedNow },
	}
	for _, fn := range opts {
		fn(&o)
	}
	f.Srv = httptest.NewServer(web.New(f.DB, slog.New(slog.DiscardHandler), o).Handler())
	t.Cleanup(f.Srv.Close)
	f.URL = f.Srv.URL
	ctx := t.Context()
	for _, v := range []struct {
		name     string
		versions *[]*store.Version
		changes  *[]*store.Change
	}{{acmeName, &f.AcmeVersions, &f.AcmeChanges}, {evilName, &f.EvilVersions, &f.EvilChanges}} {
		sv, err := f.DB.VendorByName(ctx, v.name)
		if err != nil {
			t.Fatal(err)
		}
		if *v.versions, err = f.DB.Versions(ctx, sv.ID); err != nil {
			t.Fatal(err)
		}
		if *v.changes, err = f.DB.Changes(ctx, sv.ID, store.CauseArchive); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.AcmeVersions) != 3 || len(f.AcmeChanges) != 2 || len(f.EvilVersions) != 2 || len(f.EvilChanges) != 1 {
		t.Fatalf("seed: acme %d versions %d changes, evil %d versions %d changes; want 3/2 and 2/1",
			len(f.AcmeVersions), len(f.AcmeChanges), len(f.EvilVersions), len(f.EvilChanges))
	}
	return f
}

// get fetches path from the fixture's server and returns the status and body.
func (f *fixture) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, body := rawGet(t, f.URL+path)
	return resp.StatusCode, string(body)
}

// rawGet fetches a URL and returns the response with its whole body.
func rawGet(t *testing.T, u string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp, body
}

// seed runs the real pipeline over the fixture archive and returns the
// store it filled.
func seed(t testing.TB) *store.DB {
	t.Helper()
	archive := waybacktest.New()
	t.Cleanup(archive.Close)
	archive.Add(seedCaptures()...)
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	recordHistories(t, db, archive.URL, []monitor.Vendor{{Name: acmeName, URL: acmeURL}, {Name: evilName, URL: evilURL}})
	acme, err := db.VendorByName(t.Context(), acmeName)
	if err != nil {
		t.Fatal(err)
	}
	evil, err := db.VendorByName(t.Context(), evilName)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RecordPassOutcome(t.Context(), acme.ID, seedNow.Add(-13*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordPassOutcome(t.Context(), evil.ID, seedNow.Add(-2*time.Hour), fmt.Errorf("%s", evilError)); err != nil {
		t.Fatal(err)
	}
	return db
}

// recordHistories runs monitor.History for each vendor against the archive
// at archiveURL, storing into db as `policywatch history` would.
func recordHistories(t testing.TB, db *store.DB, archiveURL string, vendors []monitor.Vendor) {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	client, err := crawler.New(crawler.Config{
		BaseURL: archiveURL, CDXRate: 1000, PlaybackRate: 1000,
		BackoffBase: time.Millisecond, Pause429: 5 * time.Millisecond, MaxAttempts: 3,
	}, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	mon := monitor.New(db, client, logger)
	mon.Now = func() time.Time { return seedNow }
	for _, v := range vendors {
		// MaxGap of a day fetches every capture: the fixture's windows are exact.
		if _, err := mon.History(t.Context(), v, monitor.HistoryOptions{MaxGap: 24 * time.Hour}); err != nil {
			t.Fatalf("history of %s: %v", v.Name, err)
		}
	}
}

func seedCaptures() []waybacktest.Capture {
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	c := func(ts, url string, body string) waybacktest.Capture {
		return waybacktest.Capture{Timestamp: ts, URL: url, Header: html, Body: []byte(body)}
	}
	return []waybacktest.Capture{
		c("20210310081502", acmeURL, acmePage(1)),
		c("20210922174411", acmeURL, acmePage(1)),
		c("20220701120505", acmeURL, acmePage(2)),
		c("20220915064010", acmeURL, acmePage(2)),
		c("20230201000000", acmeURL, acmePage(3)),
		c("20230601000000", acmeURL, acmePage(3)),
		c("20210105000000", evilURL, evilPage(1)),
		c("20220105000000", evilURL, evilPage(2)),
	}
}

// acmePage is a realistic policy page: navigation, cookie banner and footer
// around the policy. Version 2 adds the sale of data and a new section and
// lengthens retention, with a new stated date (a dated change of high
// severity); version 3 widens sharing without touching the date (a silent
// change).
func acmePage(version int) string {
	date := "March 1, 2021"
	sharing := "We share your information with service providers who process it on our behalf under contract."
	retention := "We keep server logs for 30 days and account data for as long as your account is open."
	extra := ""
	if version >= 2 {
		date = "June 14, 2022"
		sharing += " We may sell aggregated data to advertising partners."
		retention = "We keep server logs for 90 days and account data for as long as your account is open."
		extra = `<h2>5. International transfers</h2>
<p>Your information may be transferred to and processed in the United States under standard contractual clauses.</p>`
	}
	if version >= 3 {
		sharing = strings.Replace(sharing, "service providers", "service providers, our affiliates and law enforcement agencies", 1)
	}
	return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Privacy Policy | Acme Cloud</title></head><body>
<nav><a href="/">Home</a> <a href="/pricing">Pricing</a> <a href="/legal/terms">Terms</a></nav>
<div class="cookie-banner">We use cookies. <button>Accept</button></div>
<main><article>
<h1>Acme Cloud Privacy Policy</h1>
<p><em>Last updated: ` + date + `</em></p>
<p>This policy explains how Acme Cloud, Inc. collects, uses and shares information about you when you use our services.</p>
<h2>1. Information we collect</h2>
<p>We collect the information you give us when you create an account, such as your name, email address and billing details.</p>
<p>We collect usage information automatically, including your IP address, browser type and the pages you visit.</p>
<h2>2. How we use information</h2>
<p>We use information to provide, maintain and improve our services, to process payments and to communicate with you.</p>
<h2>3. Sharing</h2>
<p>` + sharing + `</p>
<h2>4. Retention</h2>
<p>` + retention + `</p>
` + extra + `
<h2>6. Your rights</h2>
<p>You may request access to, correction of or deletion of your personal data by writing to privacy@acme-cloud.example.</p>
</article></main>
<footer>© 2022 Acme Cloud, Inc. · <a href="/legal/privacy">Privacy</a></footer>
</body></html>`
}

// evilPage is archived text written to escape every context the dashboard
// and the API put it in: markup as text, javascript: and data: links,
// attribute injection through hrefs and alt text, Markdown link syntax and
// raw HTML that a Markdown renderer could pass through, template and CDATA
// delimiters, and a terminal escape. Every payload calls alert(), which the
// browser tests watch for.
func evilPage(version int) string {
	sharing := `We share data with partners &lt;script&gt;alert('share')&lt;/script&gt;.`
	if version == 2 {
		sharing = `We share data with partners and brokers &quot;&gt;&lt;img src=x onerror=alert('share2')&gt; {{.Secret}} ]]&gt; &lt;/textarea&gt;&lt;svg onload=alert('svg')&gt; ` + "\x1b[31m" + `.`
	}
	return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Evil &lt;/title&gt;&lt;script&gt;alert("title")&lt;/script&gt;</title></head><body><main>
<h1>Privacy &lt;script&gt;alert('h1')&lt;/script&gt; Policy</h1>
<p>Last updated: January 5, 2021</p>
<h2>Information &lt;img src=x onerror=alert('img')&gt;</h2>
<p>We collect &quot;&gt;&lt;script&gt;alert('attr')&lt;/script&gt; data about you when you visit our site and use our services.</p>
<p>Read <a href="javascript:alert('js-link')">our terms</a>, <a href="https://ok.example/&quot; onmouseover=&quot;alert('href')">this page</a> and <a href="data:text/html,&lt;script&gt;alert('data')&lt;/script&gt;">that page</a>.</p>
<p>A picture: <img src="https://tracker.example/pixel.gif" alt="pixel&quot; onerror=&quot;alert('alt')"></p>
<p>Markdown: [click me](javascript:alert('md')) and ![img](javascript:alert('mdimg')) and &lt;https://evil.example/"onclick="alert('auto')&gt;.</p>
<p>Raw HTML: &lt;iframe src="javascript:alert('iframe')"&gt;&lt;/iframe&gt; &lt;a href="javascript:alert('raw')"&gt;raw&lt;/a&gt; &lt;style&gt;body{display:none}&lt;/style&gt;</p>
<h2>Sharing</h2>
<p>` + sharing + `</p>
<h2>Contact</h2>
<p>Write to privacy@evil.example to exercise your rights of access, correction and deletion of your personal data.</p>
</main></body></html>`
}
