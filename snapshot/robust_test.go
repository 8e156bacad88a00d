package snapshot

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

type testPDFOptions struct {
	compress bool   // FlateDecode content streams
	encrypt  bool   // add an /Encrypt dictionary with a user password
	cyclic   bool   // a page tree whose /Kids points back at itself
	info     string // /Title in the information dictionary ("" = the default)
}

// testPDF writes a small two-page policy PDF with correct cross-references:
// a title in 18 pt, the stated date, paragraphs of two lines, a 14 pt
// heading, bullets, and a paragraph that runs on to the second page.
func testPDF(t testing.TB, o testPDFOptions) []byte {
	t.Helper()
	type line struct {
		size float64
		y    float64
		text string
	}
	page1 := []line{
		{18, 760, "Privacy Policy"},
		{10, 730, "Last updated: January 15, 2020"},
		{10, 700, "PDF Co. (\"we\") publishes this policy to explain which personal data we process when you use"},
		{10, 688, "our document services, and why. We keep this text short and readable."},
		{14, 655, "1. Information we collect"},
		{10, 630, "\x95 Your name and e-mail address, when you create an account."},
		{10, 616, "\x95 The documents you upload, only for as long as you keep them."},
		{10, 590, "We never sell personal data. We share it only with the processors that host our service, under"},
		{10, 578, "contracts that protect it as this policy does, and"},
	}
	page2 := []line{
		{10, 760, "with authorities when the law requires it."},
		{14, 725, "2. Contact"},
		{10, 700, "Write to privacy@pdfco.example with any question about this policy or your data."},
	}
	stream := func(ls []line) string {
		var b strings.Builder
		for _, l := range ls {
			esc := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(l.text)
			fmt.Fprintf(&b, "BT /F1 %g Tf 72 %g Td (%s) Tj ET\n", l.size, l.y, esc)
		}
		return b.String()
	}
	var objs []string
	add := func(s string) int { objs = append(objs, s); return len(objs) }
	streamObj := func(data string) string {
		if !o.compress {
			return fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(data), data)
		}
		var z bytes.Buffer
		w := zlib.NewWriter(&z)
		w.Write([]byte(data))
		w.Close()
		return fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), z.String())
	}
	catalog := add("<< /Type /Catalog /Pages 2 0 R >>")
	kids := "[4 0 R 6 0 R]"
	if o.cyclic {
		kids = "[2 0 R 4 0 R 2 0 R]"
	}
	add("<< /Type /Pages /Kids " + kids + " /Count 2 >>")
	add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	add("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>")
	add(streamObj(stream(page1)))
	add("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents 7 0 R >>")
	add(streamObj(stream(page2)))
	title := o.info
	if title == "" {
		title = "PDF Co. Privacy Policy"
	}
	info := add("<< /Title (" + title + ") /Producer (policywatch test) >>")
	trailerExtra := ""
	if o.encrypt {
		enc := add("<< /Filter /Standard /V 2 /R 3 /Length 128 /P -3904 /O <" + strings.Repeat("ab", 32) + "> /U <" + strings.Repeat("cd", 32) + "> >>")
		trailerExtra = fmt.Sprintf(" /Encrypt %d 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]", enc)
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs))
	for i, s := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, s)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, catalog, info, trailerExtra, xref)
	return b.Bytes()
}

// TestPDF covers the PDF paths: text, title, paragraphs and lists, and the
// clean non-OK verdicts of PDFs that cannot be read.
func TestPDF(t *testing.T) {
	src := Source{Site: "pdfco.example", URL: "https://pdfco.example/privacy.pdf", Timestamp: "20200201000000", ContentType: "application/pdf"}
	good := testPDF(t, testPDFOptions{})
	t.Run("uncompressed", func(t *testing.T) {
		doc, err := Extract(good, src)
		if err != nil {
			t.Fatal(err)
		}
		if !doc.Quality.OK() || doc.Title != "PDF Co. Privacy Policy" || doc.StatedDate != "2020-01-15" {
			t.Fatalf("verdict %v title %q date %q", doc.Quality, doc.Title, doc.StatedDate)
		}
		for _, want := range []string{
			"## 1\\. Information we collect",
			"  * Your name and e-mail address, when you create an account.",
			"under contracts that protect it as this policy does, and with authorities when the law requires it.",
		} {
			if !strings.Contains(doc.Body, want) {
				t.Errorf("body lacks %q:\n%s", want, doc.Body)
			}
		}
	})
	t.Run("served as octet-stream", func(t *testing.T) {
		s := src
		s.ContentType = "application/octet-stream"
		doc, err := Extract(good, s)
		if err != nil || !doc.Quality.OK() || doc.Charset != pdfCharset {
			t.Fatalf("err %v verdict %v charset %q", err, doc.Quality, doc.Charset)
		}
	})
	t.Run("file-name title falls back to first line", func(t *testing.T) {
		doc, err := Extract(testPDF(t, testPDFOptions{info: "Microsoft Word - privacy_v3.docx"}), src)
		if err != nil || doc.Title != "Privacy Policy" {
			t.Fatalf("err %v title %q", err, doc.Title)
		}
	})
	t.Run("cyclic page tree", func(t *testing.T) {
		done := make(chan *Document, 1)
		go func() {
			doc, _ := Extract(testPDF(t, testPDFOptions{cyclic: true}), src)
			done <- doc
		}()
		select {
		case doc := <-done:
			if doc == nil || doc.Quality.Reason == "" && !doc.Quality.OK() {
				t.Fatalf("doc %+v", doc)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("cyclic page tree hangs")
		}
	})
	bad := map[string][]byte{
		"encrypted":  testPDF(t, testPDFOptions{encrypt: true}),
		"truncated":  good[:len(good)/2],
		"header只":    []byte("%PDF-1.7\n"),
		"bad xref":   bytes.Replace(good, []byte("xref\n0 "), []byte("xref\n9 "), 1),
		"no objects": []byte("%PDF-1.4\ntrailer\n<< /Root 1 0 R >>\nstartxref\n9\n%%EOF\n"),
		"garbage":    append([]byte("%PDF-1.5\n"), bytes.Repeat([]byte{0x00, 0xff, '(', '<', '['}, 2000)...),
	}
	for name, raw := range bad {
		t.Run(name, func(t *testing.T) {
			doc, err := Extract(raw, src)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Quality.OK() || doc.Quality.Reason == "" {
				t.Fatalf("verdict %v, want a non-ok verdict with a reason", doc.Quality)
			}
			if doc.Quality.Verdict == VerdictUnsupported && !strings.Contains(doc.Quality.Reason, "pdf") {
				t.Errorf("reason %q does not say it is about the pdf", doc.Quality.Reason)
			}
			t.Logf("%s: %s", doc.Quality.Verdict, doc.Quality.Reason)
		})
	}
	t.Run("encrypted says encrypted", func(t *testing.T) {
		doc, _ := Extract(bad["encrypted"], src)
		if doc.Quality.Verdict != VerdictUnsupported || !strings.Contains(doc.Quality.Reason, "encrypted") {
			t.Errorf("verdict %v", doc.Quality)
		}
	})
}

// TestNotAPolicy: captures that are pages but not the policy get a non-OK
// verdict of the right kind; real policies that mention the same words in
// passing stay OK.
func TestNotAPolicy(t *testing.T) {
	src := Source{Site: "x.example", URL: "https://x.example/privacy", Timestamp: "20200101000000", ContentType: "text/html"}
	policy := strings.Repeat("We collect your e-mail address to send you receipts, and we keep it for as long as your account is open. ", 12)
	page := func(title, body string) string {
		return "<!DOCTYPE html><html><head><title>" + title + "</title></head><body>" + body + "</body></html>"
	}
	tests := []struct {
		name string
		raw  string
		want Verdict
	}{
		{"cloudflare just a moment", page("Just a moment...", `<div class="main-wrapper"><h1>www.x.example</h1><h2>Checking if the site connection is secure</h2><noscript>Enable JavaScript and cookies to continue</noscript></div><script>window._cf_chl_opt={cvId:'3'}</script>`), VerdictBlocked},
		{"cloudflare attention required", page("Attention Required! | Cloudflare", `<h1>Sorry, you have been blocked</h1><h2>You are unable to access x.example</h2><p>This website is using a security service to protect itself from online attacks.</p><p>Cloudflare Ray ID: 7a1b2c3d4e5f • Performance &amp; security by Cloudflare</p>`), VerdictBlocked},
		{"akamai access denied", page("Access Denied", `<h1>Access Denied</h1>You don't have permission to access "http://x.example/privacy" on this server.<p>Reference #18.6f3c2217.1650000000.1a2b3c</p>`), VerdictBlocked},
		{"incapsula", `<html><head><meta name="robots" content="noindex,nofollow"><script src="/_Incapsula_Resource?SWJIYLWA=5074a744"></script></head><body><iframe id="main-iframe" src="/_Incapsula_Resource?CWUDNSAI=9"></iframe></body></html>`, VerdictBlocked},
		{"incapsula text", page("", `<p>Request unsuccessful. Incapsula incident ID: 1234000560123456-789</p>`), VerdictBlocked},
		{"datadome", `<html><head><title>x.example</title></head><body><script>var dd={'cid':'AHrlqAAA','hsh':'1','t':'fe','host':'geo.captcha-delivery.com'}</script><script src="https://ct.captcha-delivery.com/c.js"></script></body></html>`, VerdictBlocked},
		{"recaptcha wall", page("Security check", `<h1>Please verify you are a human</h1><form><div class="g-recaptcha" data-sitekey="6Lc"></div></form>`), VerdictBlocked},
		{"parked sedo", page("x.example", `<div><h1>x.example</h1><p>This domain may be for sale!</p><a href="https://sedo.com/search/details/?domain=x.example">Buy this domain</a><p>Related Searches: Privacy Policy, Insurance</p></div>`), VerdictParked},
		{"parked godaddy", page("x.example - Parked Free, Courtesy of GoDaddy.com", `<script>window.park = "eyJ1dWlkIjoiN"</script><div id="root"></div>`), VerdictParked},
		{"parked bodis", `<html><head><title>x.example</title><script src="https://www.bodis.com/js/parking.js"></script></head><body><div id="target"></div></body></html>`, VerdictParked},
		{"soft 404 english", page("Example", `<h1>This page doesn't exist</h1><p><a href="/">Back to the home page</a></p>`), VerdictErrorPage},
		{"soft 404 french", page("Mektoube – Site de rencontre", `<div class="cookie">`+strings.Repeat("Nous utilisons des cookies pour mesurer l'audience et personnaliser les publicités. ", 60)+`</div><div class="shell"><h3 class="title">Cette page n'existe pas</h3><a>Revenir</a></div>`), VerdictErrorPage},
		{"soft 404 title", page("404 - Page not found", `<p>Sorry, we could not find what you asked for.</p>`), VerdictErrorPage},
		{"loading french", page("Politique de confidentialité", `<div id="app"><p>Chargement en cours…</p></div>`), VerdictEmpty},
		{"loading react", page("App", `<noscript>You need to enable JavaScript to run this app.</noscript><div id="root">Loading...</div>`), VerdictEmpty},
		{"near empty", page("Privacy", `<p>Privacy policy</p>`), VerdictEmpty},
		// Real policies that say the same words in passing.
		{"policy mentions 404", page("Privacy Policy", `<h1>Privacy Policy</h1><p>`+policy+`</p><p>Our servers log errors such as 404 (page not found) responses, and access denied events, with your IP address.</p>`), VerdictOK},
		{"policy mentions javascript", page("Privacy Policy", `<p>`+policy+`</p><p>You need to enable JavaScript for the cookie settings; Cloudflare protects this site and may show a CAPTCHA ("Just a moment...").</p>`), VerdictOK},
		{"policy mentions domain for sale", page("Privacy Policy", `<p>`+policy+`</p><p>If our business or this domain is for sale, your data may be transferred to the buyer.</p>`), VerdictOK},
		{"policy quoting a pdf header", `<p>Files we accept start with %PDF-1.4.</p><p>` + policy + `</p>`, VerdictOK},
		{"policy with recaptcha contact form", page("Privacy Policy", `<p>`+policy+`</p><form><div class="g-recaptcha"></div></form><script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script>`), VerdictOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Extract([]byte(tc.raw), src)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Quality.Verdict != tc.want {
				t.Errorf("verdict %s (%s), want %s", doc.Quality.Verdict, doc.Quality.Reason, tc.want)
			}
			if !doc.Quality.OK() && doc.Quality.Reason == "" {
				t.Error("non-ok verdict without a reason")
			}
		})
	}
}

// TestDecodeCharsets covers the declarations the goldens do not.
func TestDecodeCharsets(t *testing.T) {
	le := []byte{'<', 0, 'p', 0, '>', 0, 0xe9, 0}
	be := []byte{0, '<', 0, 'p', 0, '>', 0, 0xe9}
	tests := []struct {
		name, ct    string
		raw         []byte
		want, wantC string
	}{
		{"utf-16le header, no bom", "text/html; charset=utf-16le", le, "<p>é", "utf-16le"},
		{"utf-16 header, be bytes", "text/html; charset=utf-16", be, "<p>é", "utf-16be"},
		{"utf-16 header, le bytes", "text/html; charset=UTF-16", le, "<p>é", "utf-16le"},
		{"big5 meta", "", []byte("<meta charset=big5>\xa4\xa4\xa4\xe5"), "<meta charset=big5>中文", "big5"},
		{"gb2312 header decodes gb18030 four-byte", "text/html; charset=gb2312", []byte("\x81\x30\x81\x30"), "\u0080", "gbk"},
		{"meta lies utf-8", "", []byte(`<meta charset="utf-8"><p>caf` + "\xe9 \x80"), `<meta charset="utf-8"><p>café €`, "windows-1252"},
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

// TestNodeBudget: pages whose DOM would exceed MaxNodes are reduced to text,
// with a note, in bounded time.
func TestNodeBudget(t *testing.T) {
	src := Source{Site: "x", URL: "https://x.example/", Timestamp: "20200101000000", ContentType: "text/html"}
	// Unclosed formatting elements re-opened in every paragraph: 45 KB that
	// html.Parse would turn into 2.5 million nodes.
	var clone strings.Builder
	clone.WriteString("<title>Privacy Policy</title><p>")
	for i := range 500 {
		fmt.Fprintf(&clone, "<b id=a%d>", i)
	}
	clone.WriteString("</p>")
	for range 5000 {
		clone.WriteString("<p>We keep your data safe.</p>")
	}
	many := "<title>Privacy Policy</title>" + strings.Repeat("<p>We keep your data <i>safe</i>.</p>", 200_000)
	normal, err := os.ReadFile(filepath.Join(testdataDir, "modern.html"))
	if err != nil {
		t.Fatal(err)
	}
	if n := estimateNodes(string(normal)); n > 2000 {
		t.Errorf("estimate for a normal page %d", n)
	}
	for name, raw := range map[string]string{"cloned formatting": clone.String(), "many nodes": many} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			doc, err := Extract([]byte(raw), src)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(doc.Quality.Reason, "plain text") || doc.Title != "Privacy Policy" {
				t.Errorf("verdict %v title %q: want the budget note and the title", doc.Quality, doc.Title)
			}
			if !strings.Contains(doc.Body, "We keep your data safe.") {
				t.Errorf("text lost: %.200q", doc.Body)
			}
			t.Logf("%d bytes in %v: %s (%s)", len(raw), time.Since(start), doc.Quality.Verdict, doc.Quality.Reason)
		})
	}
}

func FuzzExtract(f *testing.F) {
	for _, tc := range goldenCases {
		raw, err := os.ReadFile(filepath.Join(testdataDir, tc.file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw, tc.src.ContentType)
	}
	f.Add(testPDF(f, testPDFOptions{}), "application/pdf")
	f.Add(testPDF(f, testPDFOptions{encrypt: true}), "")
	f.Add(testPDF(f, testPDFOptions{cyclic: true}), "")
	f.Add([]byte("<ol start=3><li>a<li>b</ol><table><tr><td>x|y</td></tr></table>"), "")
	f.Add([]byte("<p><b id=1><b id=2><b id=3></p><p>x</p><p>y</p>"), "text/html")
	f.Add([]byte("<title>Just a moment...</title><p>Checking your browser</p>"), "text/html")
	src := Source{Site: "x", URL: "https://x.example/a/b.html", Timestamp: "20200101000000"}
	f.Fuzz(func(t *testing.T, raw []byte, ct string) {
		s := src
		s.ContentType = ct
		doc, err := Extract(raw, s)
		if err != nil {
			t.Fatal(err)
		}
		if !doc.Quality.OK() && doc.Quality.Reason == "" {
			t.Fatalf("verdict %s without a reason", doc.Quality.Verdict)
		}
		if !utf8.ValidString(doc.Title) || !utf8.ValidString(doc.Body) {
			t.Fatal("extracted text is not valid UTF-8")
		}
		if doc.Quality.OK() {
			_ = Hash(doc.Render(s))
		}
	})
}
