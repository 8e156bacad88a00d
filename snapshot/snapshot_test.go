package snapshot

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden .golden.md files in testdata/snapshot")

var testdataDir = filepath.Join("..", "testdata", "snapshot")

// goldenCases are the synthetic pages in testdata/snapshot, each with the
// Source a crawler would pass.
var goldenCases = []struct {
	name        string
	src         Source
	wantCharset string
	wantDate    string
}{
	{"modern", Source{Site: "acme.example", URL: "https://www.acme.example/privacy", Timestamp: "20210405060708", ContentType: "text/html"}, "utf-8", "2021-03-03"},
	{"table2005", Source{Site: "widgetworks.example", URL: "http://www.widgetworks.example/privacy.html", Timestamp: "20051230120000", ContentType: "text/html"}, "windows-1252", "2005-12-01"},
	{"latin1", Source{Site: "exemple.example", URL: "http://www.exemple.example/privacy.php", Timestamp: "20091001000000", ContentType: "text/html; charset=ISO-8859-1"}, "windows-1252", "2009-07-01"},
	{"utf16", Source{Site: "utf16.example", URL: "https://utf16.example/policy", Timestamp: "20150701000000", ContentType: "text/html"}, "utf-16le", "2015-06-05"},
	{"links", Source{Site: "example.com", URL: "http://www.example.com/privacy/index.html", Timestamp: "20180102030405", ContentType: "text/html; charset=utf-8"}, "utf-8", ""},
	{"structures", Source{Site: "structures.example", URL: "https://structures.example/privacy", Timestamp: "20200202020202", ContentType: "text/html"}, "utf-8", ""},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(testdataDir, tc.name+".html"))
			if err != nil {
				t.Fatal(err)
			}
			doc, err := Extract(raw, tc.src)
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if !doc.Quality.OK() {
				t.Errorf("verdict %s (%s), want ok", doc.Quality.Verdict, doc.Quality.Reason)
			}
			if doc.Charset != tc.wantCharset {
				t.Errorf("charset %q, want %q", doc.Charset, tc.wantCharset)
			}
			if doc.StatedDate != tc.wantDate {
				t.Errorf("stated date %q (%q), want %q", doc.StatedDate, doc.StatedDateText, tc.wantDate)
			}
			got := doc.Render(tc.src)
			golden := filepath.Join(testdataDir, tc.name+".golden.md")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if got != string(want) {
				t.Errorf("Render mismatch for %s\n--- got ---\n%s\n--- want ---\n%s", tc.name, got, want)
			}
		})
	}
}

func TestExtractContent(t *testing.T) {
	read := func(name string) string {
		raw, err := os.ReadFile(filepath.Join(testdataDir, name+".html"))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := Extract(raw, goldenCases[0].src)
		if err != nil {
			t.Fatal(err)
		}
		return doc.Markdown()
	}
	md := read("modern")
	for _, bad := range []string{"We use cookies", "Features", "What our customers say", "migration painless", "newsletter", "All rights reserved"} {
		if strings.Contains(md, bad) {
			t.Errorf("modern: boilerplate %q kept", bad)
		}
	}
	for _, good := range []string{"This policy explains", "Last updated: March 3, 2021", "    1. Account data", "## Contact us"} {
		if !strings.Contains(md, good) {
			t.Errorf("modern: %q missing", good)
		}
	}
	md = read("table2005")
	for _, good := range []string{"\u201cno surprises\u201d", "café", "€19"} {
		if !strings.Contains(md, good) {
			t.Errorf("table2005: %q missing", good)
		}
	}
	if strings.Contains(md, "Download") {
		t.Errorf("table2005: left navigation kept")
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, ct    string
		raw         []byte
		want, wantC string
	}{
		{"utf8 header", "text/html; charset=utf-8", []byte("caf\xc3\xa9"), "café", "utf-8"},
		{"latin1 header is windows-1252", "text/html; charset=iso-8859-1", []byte("\x93caf\xe9\x94 \x80"), "\u201ccafé\u201d €", "windows-1252"},
		{"meta http-equiv", "", []byte(`<meta http-equiv="Content-Type" content="text/html; charset=windows-1252"><p>caf` + "\xe9"), `<meta http-equiv="Content-Type" content="text/html; charset=windows-1252"><p>café`, "windows-1252"},
		{"meta charset", "text/html", []byte(`<meta charset="koi8-r">` + "\xc1"), `<meta charset="koi8-r">а`, "koi8-r"},
		{"no declaration, invalid utf8", "", []byte("caf\xe9"), "café", "windows-1252"},
		{"no declaration, valid utf8", "", []byte("caf\xc3\xa9"), "café", "utf-8"},
		{"utf8 bom beats header", "text/html; charset=iso-8859-1", []byte("\xef\xbb\xbfcaf\xc3\xa9"), "café", "utf-8"},
		{"utf16le bom", "", []byte("\xff\xfec\x00a\x00f\x00\xe9\x00"), "café", "utf-16le"},
		{"utf16be bom", "", []byte("\xfe\xff\x00c\x00a\x00f\x00\xe9"), "café", "utf-16be"},
		{"meta lies: utf-8 bytes", "", []byte(`<meta charset="iso-8859-1">caf` + "\xc3\xa9"), `<meta charset="iso-8859-1">café`, "utf-8"},
		{"invalid utf8 declared", "text/html; charset=utf-8", []byte("a\xffb"), "a\uFFFDb", "utf-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, cs, err := Decode(tc.raw, tc.ct)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || cs != tc.wantC {
				t.Errorf("Decode = %q, %q; want %q, %q", got, cs, tc.want, tc.wantC)
			}
		})
	}
}

func TestFindStatedDate(t *testing.T) {
	tests := []struct{ text, want string }{
		{"Privacy Policy\nLast updated May 25, 2018\nWe respect your privacy.", "2018-05-25"},
		{"Last Updated: 25 May 2018", "2018-05-25"},
		{"The most recent version has been updated on March 20, 2018.", "2018-03-20"},
		{"Effective date: 2019-01-01", "2019-01-01"},
		{"Effective as of January 1, 2019.", "2019-01-01"},
		{"Last modified: Monday, 3rd of June 2019", "2019-06-03"},
		{"Revised 05/25/2018", "2018-05-25"},
		{"Updated on Sept. 9, 2016", "2016-09-09"},
		{"This policy was last changed on 2 February 2020.", "2020-02-02"},
		{"Date of last revision: 25/05/2018", "2018-05-25"},
		{"Last updated 2018-05-25. Text... We updated our app on June 1, 2017.", "2018-05-25"},
		// Negative cases: no self-dating phrase, or no full date after it.
		{"© 2019 Example Inc. All rights reserved.", ""},
		{"Example was founded in 2010 and is based in Berlin.", ""},
		{"On May 5, 2017 we acquired a competitor and merged our user bases.", ""},
		{"We updated our app on June 1, 2017 to add features.", ""},
		{"Last updated: May 2018", ""},
		{"Last updated: February 30, 2018", ""},
		{"Effective date: 13/13/2018", ""},
		{"This version is effective immediately.", ""},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got, phrase := FindStatedDate(tc.text)
			if got != tc.want {
				t.Errorf("FindStatedDate = %q (phrase %q), want %q", got, phrase, tc.want)
			}
			if got != "" && phrase == "" {
				t.Errorf("date without phrase")
			}
		})
	}
}

func TestQuality(t *testing.T) {
	src := Source{Site: "x.example", URL: "https://x.example/privacy", Timestamp: "20200101000000", ContentType: "text/html"}
	long := strings.Repeat("We collect your e-mail address to send you the receipts for your orders. ", 10)
	tests := []struct {
		name, ct string
		raw      string
		want     Verdict
	}{
		{"policy", "text/html", "<html><head><title>Privacy</title></head><body><p>" + long + "</p></body></html>", VerdictOK},
		{"wayback not archived", "text/html", "<html><body><h2>Hrm. The Wayback Machine has not archived that URL.</h2><p>" + long + "</p></body></html>", VerdictErrorPage},
		{"wayback excluded", "text/html", "<html><body><p>Sorry. This URL has been excluded from the Wayback Machine.</p></body></html>", VerdictErrorPage},
		{"wayback redirect", "text/html", "<html><body><p>Got an HTTP 302 response at crawl time</p><p>Redirecting to...</p></body></html>", VerdictErrorPage},
		{"soft 404", "text/html", "<html><head><title>Page Not Found - Example</title></head><body><h1>Oops!</h1><p>The page you are looking for might have been removed. Try the search box or go back to the home page to continue browsing our site.</p></body></html>", VerdictErrorPage},
		{"server error", "text/html", "<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1><p>The server encountered an internal error.</p></body></html>", VerdictErrorPage},
		{"empty", "text/html", "<html><body><p>Privacy</p></body></html>", VerdictEmpty},
		{"js shell", "text/html", `<html><body><div id="root">Loading…</div><noscript>You need to enable JavaScript to run this app.</noscript></body></html>`, VerdictEmpty},
		{"pdf magic", "text/html", "%PDF-1.4\n%\xe2\xe3", VerdictUnsupported},
		{"pdf type", "application/pdf", "whatever", VerdictUnsupported},
		{"png", "", "\x89PNG\r\n\x1a\n\x00\x00", VerdictUnsupported},
		{"image type", "image/gif", "GIF89a", VerdictUnsupported},
		{"binary", "", "abc\x00\x01\x02def", VerdictUnsupported},
		{"plain text", "text/plain; charset=utf-8", "Privacy Policy\n\n" + long, VerdictOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := src
			s.ContentType = tc.ct
			doc, err := Extract([]byte(tc.raw), s)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Quality.Verdict != tc.want {
				t.Errorf("verdict %s (%s), want %s", doc.Quality.Verdict, doc.Quality.Reason, tc.want)
			}
			if !doc.Quality.OK() && doc.Quality.Reason == "" {
				t.Errorf("non-ok verdict without reason")
			}
		})
	}
}

func TestPlainText(t *testing.T) {
	src := Source{Site: "x.example", URL: "https://x.example/privacy.txt", Timestamp: "20200101000000", ContentType: "text/plain"}
	doc, err := Extract([]byte("  Example Privacy Policy  \r\n\r\nWe keep nothing.\r\n"), src)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Title != "Example Privacy Policy" || !strings.Contains(doc.Body, "We keep nothing.") {
		t.Errorf("plain text: title %q body %q", doc.Title, doc.Body)
	}
}

func TestExtractBadSource(t *testing.T) {
	for _, src := range []Source{
		{URL: "https://x.example/", Timestamp: "2020"},
		{URL: "not a url", Timestamp: "20200101000000"},
	} {
		if _, err := Extract([]byte("<p>x</p>"), src); !errors.Is(err, ErrBadSource) {
			t.Errorf("Extract(%+v) error %v, want ErrBadSource", src, err)
		}
	}
}

func TestHash(t *testing.T) {
	base := "# Title\n\nFirst paragraph.\n\n  * item\n"
	same := []string{
		"# Title  \n\n\n\nFirst paragraph.   \n\n  * item\n\n\n",
		"# Title\r\n\r\nFirst\u00a0paragraph.\r\n\r\n  * item",
		"\n\n# Title\n\nFirst paragraph.\n\n  * item",
	}
	for i, s := range same {
		if Hash(s) != Hash(base) {
			t.Errorf("case %d: hash differs for whitespace-only change: %q", i, Normalize(s))
		}
	}
	// The same relative link resolved against two captures' id_ URLs is the
	// same text; a link to another page is not.
	link := "See our [cookies](https://web.archive.org/web/%sid_/https://a.example/cookies)."
	a, b := fmt.Sprintf(link, "20210310081502"), fmt.Sprintf(link, "20220105093000")
	if Hash(a) != Hash(b) {
		t.Errorf("capture timestamps in archive links change the hash: %q vs %q", Normalize(a), Normalize(b))
	}
	if c := strings.Replace(b, "https://a.example", "http://www.a.example", 1); Hash(a) != Hash(c) {
		t.Errorf("a capture under the www. host changes the hash: %q vs %q", Normalize(a), Normalize(c))
	}
	if Hash(a) == Hash(strings.Replace(a, "cookies)", "terms)", 1)) {
		t.Error("a changed link target did not change the hash")
	}
	for i, s := range same {
		if Hash(s) != Hash(base) {
			t.Errorf("case %d: hash differs for whitespace-only change: %q", i, Normalize(s))
		}
	}
	for i, s := range []string{"# Title\n\nFirst paragraph!\n\n  * item", "# Title\n\nFirst paragraph.\n\n    * item"} {
		if Hash(s) == Hash(base) {
			t.Errorf("case %d: hash equal for a real change", i)
		}
	}
	if h := Hash(base); len(h) != 64 {
		t.Errorf("hash %q is not hex SHA-256", h)
	}
}

func TestRenderProvenance(t *testing.T) {
	src := Source{Site: "seranking.com", URL: "https://seranking.com/privacy-policy.html", Timestamp: "20190523091427"}
	d := &Document{Title: "T", Body: "b\n"}
	want := "> *The following text is extracted and transformed from the seranking.com privacy policy that was archived on 2019-05-23. Please check the [original snapshot on the Wayback Machine](https://web.archive.org/web/20190523091427id_/https://seranking.com/privacy-policy.html) for the most accurate reproduction.*\n\n# T\n\nb\n"
	if got := d.Render(src); got != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
}

func TestTokenScore(t *testing.T) {
	p, r, f := TokenScore("# A b\n\n[c](http://x.example/y) d", "a b c d e")
	if p != 1 || r != 0.8 || f < 0.888 || f > 0.89 {
		t.Errorf("TokenScore = %v %v %v", p, r, f)
	}
}

func TestRobustness(t *testing.T) {
	src := Source{Site: "x", URL: "https://x.example/", Timestamp: "20200101000000", ContentType: "text/html"}
	deep := strings.Repeat("<div><b><ul><li>", 20000) + "text" + strings.Repeat("</li></ul></b></div>", 20000)
	for name, raw := range map[string][]byte{
		"deep":      []byte(deep),
		"malformed": []byte("<table><tr><td><p>a<td></table></tr><b><i>x</b></i><ol start=-99999999999>"),
		"invalid":   bytes.Repeat([]byte{0xff, 0xfe, 0xc3}, 1000),
		"nulls16":   append([]byte{0xff, 0xfe}, bytes.Repeat([]byte{0}, 1001)...),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Extract(raw, src); err != nil {
				t.Fatal(err)
			}
		})
	}
}
