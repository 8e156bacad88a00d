package diffing

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/render and the example in docs/changes.md")

var renderDir = filepath.Join("..", "testdata", "render")

const (
	acmeURL = "https://www.acme-cloud.example/legal/privacy"
	wayback = "https://web.archive.org/web/"
)

func capture(ts, url string) CaptureRef {
	return CaptureRef{Timestamp: ts, WaybackURL: wayback + ts + "id_/" + url}
}

func side(ts, url, stated string) Side {
	c := capture(ts, url)
	return Side{Timestamp: c.Timestamp, WaybackURL: c.WaybackURL, StatedDate: stated}
}

// realisticReport is the change the demo's Acme Cloud policy went through,
// with a clause analysis as Classify will produce it: a longer retention, a
// new AI-training purpose, a promise removed (and the item after it
// renumbered), and two cosmetic edits.
func realisticReport() Report {
	return Report{
		Vendor: "Acme Cloud",
		URL:    acmeURL,
		Old:    side("20210922174411", acmeURL, "2021-03-03"),
		New:    side("20220701120505", acmeURL, "2022-06-14"),
		Window: &Window{LastOld: capture("20220105093000", acmeURL), FirstNew: capture("20220701120505", acmeURL)},
		Change: Change{
			TextChanged: true, DateChanged: true, OldDate: "2021-03-03", NewDate: "2022-06-14",
			Kinds: []string{KindDated},
			Severity: Severity{Score: 9, Level: "high", Reasons: []string{
				"ai-training: added in 2 How we use information › 2.4",
				"sale: removed from 3 Sharing › 3.2",
				"retention: modified in 4 Data storage › 4.1",
			}},
			Stats: Stats{Identical: 14, Modified: 3, Added: 1, Removed: 1, Renumbered: 1},
			Clauses: []ClauseChange{
				{Op: OpModified, Path: "", Cosmetic: true,
					Old:   `This Privacy Policy explains how Acme Cloud Inc. ("Acme", "we", "us") collects, uses and shares personal data.`,
					New:   `This Privacy Policy explains how Acme Cloud Inc. (“Acme”, “we”, “us”) collects, uses and shares personal data.`,
					Words: []WordOp{{"=", "This Privacy Policy explains how Acme Cloud Inc. ("}, {"-", `"Acme", "we", "us"`}, {"+", "“Acme”, “we”, “us”"}, {"=", ") collects, uses and shares personal data."}}},
				{Op: OpAdded, Path: "2 How we use information › 2.4", Label: "2.4", Terms: []string{"ai-training"},
					New: "To train and evaluate the machine-learning models that power the Service’s suggestions, using de-identified content."},
				{Op: OpRemoved, OldPath: "3 Sharing › 3.2", Label: "3.2", Terms: []string{"sale"},
					Old: "We do not sell personal data."},
				{Op: OpRenumbered, Path: "3 Sharing › 3.2", OldPath: "3 Sharing › 3.3", Label: "3.2", OldLabel: "3.3",
					Old: "We disclose personal data when the law requires it, for example in response to a court order.",
					New: "We disclose personal data when the law requires it, for example in response to a court order."},
				{Op: OpModified, Path: "4 Data storage › 4.1", Label: "4.1", Terms: []string{"retention"},
					Old:   "Server logs are kept for 30 days and then deleted.",
					New:   "Server logs are kept for 90 days and then deleted.",
					Words: []WordOp{{"=", "Server logs are kept for "}, {"-", "30"}, {"+", "90"}, {"=", " days and then deleted."}}},
				{Op: OpModified, Path: "5 Your rights", Cosmetic: true,
					Old:   "See also our [Cookie Policy](https://www.acme-cloud.example/legal/cookies).",
					New:   "See also our [Cookie Policy](https://www.acme-cloud.example/cookies).",
					Words: []WordOp{{"=", "See also our [Cookie Policy]("}, {"-", "https://www.acme-cloud.example/legal/cookies"}, {"+", "https://www.acme-cloud.example/cookies"}, {"=", ")."}}},
			},
			LinesAdded: 6, LinesRemoved: 6,
			Unified: "--- 20210922174411\n+++ 20220701120505\n@@ -1,5 +1,5 @@\n # Privacy Policy | Acme Cloud\n \n-_Last updated: March 3, 2021_\n+_Last updated: June 14, 2022_\n \n-This Privacy Policy explains how Acme Cloud Inc. (\"Acme\", \"we\", \"us\") collects, uses and shares personal data.\n+This Privacy Policy explains how Acme Cloud Inc. (“Acme”, “we”, “us”) collects, uses and shares personal data.\n" +
				"@@ -14,7 +14,7 @@\n     3. To analyse aggregated usage and improve the Service.\n+    4. To train and evaluate the machine-learning models that power the Service’s suggestions, using de-identified content.\n 3. **Sharing**\n     1. We share personal data with service providers that host, support and bill for the Service.\n-    2. We do not sell personal data.\n-    3. We disclose personal data when the law requires it, for example in response to a court order.\n+    2. We disclose personal data when the law requires it, for example in response to a court order.\n 4. **Data storage**\n-    1. Server logs are kept for 30 days and then deleted.\n+    1. Server logs are kept for 90 days and then deleted.\n" +
				"@@ -28,1 +28,1 @@\n-See also our [Cookie Policy](https://www.acme-cloud.example/legal/cookies).\n+See also our [Cookie Policy](https://www.acme-cloud.example/cookies).\n",
		},
	}
}

// silentReport changed its text without touching the stated date: the case
// readers most want to hear about. One of its changes was moved.
func silentReport() Report {
	const u = "https://initech.example/privacy"
	return Report{
		Vendor: "Initech",
		URL:    u,
		Old:    side("20200301000000", u, "2020-01-15"),
		New:    side("20210601000000", u, "2020-01-15"),
		Window: &Window{LastOld: capture("20210401120000", u), FirstNew: capture("20210601000000", u)},
		Change: Change{
			TextChanged: true, OldDate: "2020-01-15", NewDate: "2020-01-15",
			Kinds:    []string{KindSilent},
			Severity: Severity{Score: 5, Level: "medium", Reasons: []string{"sharing: added in Sharing", "retention: modified in Backups"}},
			Stats:    Stats{Identical: 8, Modified: 1, Added: 1, Moved: 1},
			Clauses: []ClauseChange{
				{Op: OpModified, Path: "Backups › 2.", Label: "2.", OldLabel: "1.", Terms: []string{"retention"},
					Old: "We keep backups for 12 months.", New: "We keep encrypted backups for 36 months.",
					Words: []WordOp{{"=", "We keep "}, {"+", "encrypted "}, {"=", "backups for "}, {"-", "12"}, {"+", "36"}, {"=", " months."}}},
				{Op: OpAdded, Path: "Sharing", Terms: []string{"sharing"},
					New: "We share device identifiers with advertising partners so that they can measure the reach of their campaigns.\nYou can opt out in your account settings."},
				{Op: OpMoved, Path: "Contact", OldPath: "Sharing",
					Old: "Questions about this policy can be sent to our data protection officer at the address below.",
					New: "Questions about this policy can be sent to our data protection officer at the address below."},
			},
			LinesAdded: 3, LinesRemoved: 2,
		},
	}
}

// dateOnlyReport bumped the stated date and fixed a typo: nothing to read.
// Its sides were picked by hand, so there is no window.
func dateOnlyReport() Report {
	const u = "http://www.globex.example/privacy.html"
	return Report{
		Vendor: "Globex Analytics",
		URL:    u,
		Old:    side("20060115000000", u, "2005-12-01"),
		New:    side("20070220000000", u, "2007-01-01"),
		Change: Change{
			TextChanged: true, DateChanged: true, OldDate: "2005-12-01", NewDate: "2007-01-01",
			Kinds:    []string{KindDateOnly},
			Severity: Severity{Level: "none"},
			Stats:    Stats{Identical: 10, Modified: 2},
			Clauses: []ClauseChange{
				{Op: OpModified, DateOnly: true, Old: "Last updated: December 1, 2005", New: "Last updated: January 1, 2007",
					Words: []WordOp{{"=", "Last updated: "}, {"-", "December"}, {"+", "January"}, {"=", " 1, "}, {"-", "2005"}, {"+", "2007"}}},
				{Op: OpModified, Path: "Cookies", Cosmetic: true,
					Old: "We use cookies , as most sites do.", New: "We use cookies, as most sites do.",
					Words: []WordOp{{"=", "We use cookies"}, {"-", " "}, {"=", ", as most sites do."}}}},
			LinesAdded: 2, LinesRemoved: 2,
		},
	}
}

// hostileText is archived text written to attack each output: HTML and
// script injection, javascript: and data: links in Markdown and HTML syntax,
// Markdown images, raw HTML blocks, entities, terminal escapes (colour,
// screen clear, title change, OSC 8 hyperlink, 8-bit CSI), bidi overrides
// and invalid UTF-8.
const hostileText = "Click [here](javascript:alert(1)) or ![x](https://evil.example/t.png) <script>alert('x')</script> " +
	"<img src=x onerror=alert(2)> <a href=\"javascript:alert(3)\">link</a> &lt;b&gt; *bold* _it_ `code` ~~gone~~ " +
	"www.evil.example evil@evil.example https://evil.example/phish " +
	"\x1b[5;97;41mBLINK\x1b[0m\x1b[2J\x1b]0;pwned\x07\x1b]8;;https://evil.example\x1b\\hyper\x1b]8;;\x1b\\ \u009b31m " +
	"\u202eevil\u202c \xff\n# not a heading\n<div onclick=\"x()\">block</div>\n| a | b |"

func hostileReport() Report {
	u := "javascript:alert(document.cookie)"
	return Report{
		Vendor: "Evil <b>Corp</b> \x1b[31m[x](javascript:alert(1))",
		URL:    u,
		Old:    Side{Timestamp: "20200101000000", WaybackURL: "javascript:alert(4)", StatedDate: "2020-01-01<script>"},
		New:    Side{Timestamp: "20200201000000", WaybackURL: wayback + "20200201000000id_/https://evil.example/\"><script>alert(5)</script>", StatedDate: "2020-01-01"},
		Window: &Window{LastOld: CaptureRef{Timestamp: "2020\x1b[2J", WaybackURL: "data:text/html,<script>alert(6)</script>"}, FirstNew: capture("20200201000000", "https://evil.example/")},
		Change: Change{
			TextChanged: true, DateChanged: true, OldDate: "2020-01-01<script>", NewDate: "2020-01-01",
			Kinds:    []string{KindSilent, "<script>alert(7)</script>"},
			Severity: Severity{Score: 3, Level: "high\"><script>", Reasons: []string{"[reason](javascript:alert(8)) <script>"}},
			Stats:    Stats{Modified: 1, Added: 1, Removed: 1, Moved: 1},
			Clauses: []ClauseChange{
				{Op: OpModified, Path: "<h1>Sec</h1> › [x](javascript:y)", Terms: []string{"<b>t</b>"},
					Old: "Safe text.", New: hostileText,
					Words: []WordOp{{"=", "Safe "}, {"-", "text."}, {"+", hostileText}}},
				{Op: OpAdded, Path: "](javascript:alert(9))", New: hostileText},
				{Op: OpRemoved, OldPath: "\x1b[2J<script>", Old: hostileText},
				{Op: OpMoved, Path: "<b>", OldPath: "[a](javascript:b)", New: hostileText},
				{Op: "<script>op</script>", Path: "x", Old: hostileText, New: hostileText},
			},
			Unified: hostileText,
		},
	}
}

// fallbackReport has no clause analysis: the renderers show the line diff,
// which here holds backticks that must not end the Markdown fence, and
// markup that must stay text.
func fallbackReport() Report {
	r := realisticReport()
	r.Change.Kinds, r.Change.Severity, r.Change.Stats, r.Change.Clauses = nil, Severity{}, Stats{}, nil
	r.Change.Unified = "--- 20210922174411\n+++ 20220701120505\n@@ -10,4 +10,4 @@\n 4. **Data storage**\n-    1. Server logs are kept for 30 days and then deleted.\n+    1. Server logs are kept for 90 days and then deleted.\n" +
		"-    2. Run ```rm -rf``` <script>alert(1)</script>\n+    2. Run ````x```` [y](javascript:z) \x1b[2J\n"
	return r
}

var fixtures = []struct {
	name   string
	report func() Report
}{
	{"realistic", realisticReport},
	{"silent", silentReport},
	{"date-only", dateOnlyReport},
	{"hostile", hostileReport},
	{"fallback", fallbackReport},
}

// outputs are the golden variants of each fixture.
var outputs = []struct {
	ext    string
	render func(*bytes.Buffer, Report) error
}{
	{"txt", func(b *bytes.Buffer, r Report) error { return RenderText(b, r, false) }},
	{"ansi", func(b *bytes.Buffer, r Report) error { return RenderText(b, r, true) }},
	{"md", func(b *bytes.Buffer, r Report) error { return RenderMarkdown(b, r) }},
	{"html", func(b *bytes.Buffer, r Report) error { return RenderHTML(b, r) }},
	{"json", func(b *bytes.Buffer, r Report) error { return RenderJSON(b, r) }},
}

func TestRenderGolden(t *testing.T) {
	for _, f := range fixtures {
		for _, o := range outputs {
			name := f.name + ".golden." + o.ext
			t.Run(name, func(t *testing.T) {
				var got bytes.Buffer
				if err := o.render(&got, f.report()); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(renderDir, name)
				if *update {
					if err := os.MkdirAll(renderDir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./diffing -update to create it)", err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("%s differs from the golden file (go test ./diffing -update rewrites it; read the diff first):\n%s", name, got.String())
				}
			})
		}
	}
}

// TestRenderJSONRoundTrip: the JSON is the contract, so what it says must
// come back as the same Report, with lists never null.
func TestRenderJSONRoundTrip(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := RenderJSON(&b, f.report()); err != nil {
				t.Fatal(err)
			}
			var back Report
			if err := json.Unmarshal(b.Bytes(), &back); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, b.String())
			}
			want := f.report()
			want.SchemaVersion = ReportSchemaVersion
			got, _ := json.Marshal(back)
			wantJSON, _ := json.Marshal(want)
			// Kinds/clauses/reasons go out as [] where the Go value was nil.
			normal := strings.NewReplacer(`"kinds":[]`, `"kinds":null`, `"clauses":[]`, `"clauses":null`, `"reasons":[]`, `"reasons":null`, `\ufffd`, "\ufffd")
			if normal.Replace(string(got)) != normal.Replace(string(wantJSON)) {
				t.Fatalf("round trip changed the report:\n got %s\nwant %s", got, wantJSON)
			}
			var raw map[string]any
			json.Unmarshal(b.Bytes(), &raw)
			ch := raw["change"].(map[string]any)
			for _, k := range []string{"kinds", "clauses"} {
				if ch[k] == nil {
					t.Errorf("change.%s is null, want an array", k)
				}
			}
			if ch["severity"].(map[string]any)["reasons"] == nil {
				t.Errorf("change.severity.reasons is null, want an array")
			}
			if raw["schema_version"] != float64(ReportSchemaVersion) {
				t.Errorf("schema_version = %v", raw["schema_version"])
			}
		})
	}
}

// TestRenderContent checks what each human format must say about the
// realistic fixture, so that a golden update cannot quietly drop it.
func TestRenderContent(t *testing.T) {
	wants := map[string][]string{
		"txt": {
			"Acme Cloud — " + acmeURL,
			"DATED CHANGE: the text and the stated date both changed",
			"severity: high (score 9)",
			"  • ai-training: added in 2 How we use information › 2.4",
			"stated date: 2021-03-03 → 2022-06-14",
			"changed between 2022-01-05 09:30:00 UTC (last capture with the old text) and 2022-07-01 12:05:05 UTC (first capture with the new)",
			"clauses: 3 modified, 1 added, 1 removed, 1 renumbered; 14 unchanged",
			"§ 4 Data storage\n  ~ 4.1 modified [retention]\n      Server logs are kept for [-30-]{+90+} days and then deleted.",
			"  + 2.4 added [ai-training]\n      To train and evaluate",
			"  - 3.2 removed [sale]\n      We do not sell personal data.",
			"  # renumbered 3.3 → 3.2: “We disclose personal data when the law requires it, for …”",
			"2 cosmetic changes (punctuation, links) not shown",
		},
		"md": {
			"# Acme Cloud: policy change\n\n<" + acmeURL + ">",
			"**DATED CHANGE**: the text and the stated date both changed",
			"**Severity: high** (score 9)",
			"- **Stated date:** 2021-03-03 → 2022-06-14",
			"- **Changed between** [2022-01-05 09:30:00 UTC](<https://web.archive.org/web/20220105093000id_/" + acmeURL + ">) (last capture with the old text)",
			"### 4 Data storage\n\n- **Modified 4.1** *(retention)*: Server logs are kept for ~~30~~**90** days and then deleted.",
			"- **Renumbered** 3.3 → 3.2: “We disclose",
			"*2 cosmetic changes (punctuation, links) not shown.*",
		},
		"html": {
			"<h1>Acme Cloud</h1>",
			`<p class="kinds"><strong class="kind kind-dated">DATED CHANGE</strong> the text and the stated date both changed</p>`,
			`<del><span class="sr">[removed: </span>30<span class="sr">]</span></del><ins><span class="sr">[added: </span>90<span class="sr">]</span></ins>`,
			`<a href="https://web.archive.org/web/20220105093000id_/` + acmeURL + `" rel="noopener noreferrer"><time datetime="2022-01-05T09:30:00Z">2022-01-05 09:30:00 UTC</time></a>`,
			"2 cosmetic changes (punctuation, links) not shown.",
		},
	}
	for _, o := range outputs {
		want, ok := wants[o.ext]
		if !ok {
			continue
		}
		t.Run(o.ext, func(t *testing.T) {
			var b bytes.Buffer
			if err := o.render(&b, realisticReport()); err != nil {
				t.Fatal(err)
			}
			for _, w := range want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

// TestRenderShowCosmetic: the flag lists the cosmetic changes the count line
// stands for.
func TestRenderShowCosmetic(t *testing.T) {
	var hidden, shown bytes.Buffer
	if err := Render(&hidden, FormatTerminal, realisticReport(), RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := Render(&shown, FormatTerminal, realisticReport(), RenderOptions{ShowCosmetic: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(hidden.String(), "Cookie Policy") || !strings.Contains(hidden.String(), "2 cosmetic changes") {
		t.Errorf("cosmetic changes not collapsed:\n%s", hidden.String())
	}
	if !strings.Contains(shown.String(), "~ modified (cosmetic)\n      See also our [Cookie Policy](https://www.acme-cloud.example/[-legal/cookies-]{+cookies+}).") &&
		!strings.Contains(shown.String(), "[-https://www.acme-cloud.example/legal/cookies-]{+https://www.acme-cloud.example/cookies+}") ||
		strings.Contains(shown.String(), "not shown") {
		t.Errorf("--show-cosmetic output:\n%s", shown.String())
	}
	if err := Render(&bytes.Buffer{}, "pdf", realisticReport(), RenderOptions{}); err == nil || !strings.Contains(err.Error(), "terminal, markdown, html, json") {
		t.Errorf("unknown format: err = %v", err)
	}
}

// TestRenderNoClauses covers the states a Change can be in before or
// without clause analysis.
func TestRenderNoClauses(t *testing.T) {
	tests := []struct {
		name   string
		change Change
		want   string
	}{
		{"same version", Change{OldDate: "2021-03-03", NewDate: "2021-03-03"}, "No difference: the two versions have the same text and stated date."},
		{"date only, no analysis", Change{DateChanged: true, OldDate: "2021-03-03", NewDate: "2021-04-01"}, "stated date: 2021-03-03 → 2021-04-01"},
		{"text, no details", Change{TextChanged: true}, "The text changed, but no details are available."},
		{"unified fallback", Change{TextChanged: true, Unified: "--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n"}, "No clause-level analysis is available for this change; the line diff follows.\n\n--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := realisticReport()
			r.Window = nil
			r.Change = tt.change
			var b bytes.Buffer
			if err := RenderText(&b, r, false); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, b.String())
			}
			if !strings.Contains(b.String(), "change window: unknown") {
				t.Errorf("output does not say the window is unknown:\n%s", b.String())
			}
		})
	}
}

// TestRenderTerminalEscapes: archived text cannot drive the terminal. Without
// colour the output has no control character but newline; with colour every
// escape sequence is one of the renderer's own SGR codes.
func TestRenderTerminalEscapes(t *testing.T) {
	own := regexp.MustCompile(`\x1b\[(0|1|2|31|32|36|31;9|32;4|1;97;41|1;33|1;36|1;35|1;31)m`)
	for _, color := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "color"}[color], func(t *testing.T) {
			for _, f := range fixtures {
				var b bytes.Buffer
				if err := RenderText(&b, f.report(), color); err != nil {
					t.Fatal(err)
				}
				out := b.String()
				if color && f.name != "fallback" && !own.MatchString(out) {
					t.Errorf("%s: no colour with color=true", f.name)
				}
				rest := own.ReplaceAllString(out, "")
				for i, r := range rest {
					if (r < 0x20 && r != '\n') || (r >= 0x7f && r <= 0x9f) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
						t.Errorf("%s: control character %U at byte %d: %q", f.name, r, i, rest[max(0, i-20):min(len(rest), i+20)])
						break
					}
				}
				for _, bad := range []string{"5;97;41", "pwned", "]8;;", "[2J"} {
					if strings.Contains(rest, bad) {
						t.Errorf("%s: escape sequence remnant %q survived", f.name, bad)
					}
				}
				if f.name == "hostile" && (!strings.Contains(rest, "BLINK") || !strings.Contains(rest, "hyper")) {
					t.Errorf("%s: the visible text around escapes was lost:\n%s", f.name, rest)
				}
			}
		})
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text\n\twith tab", "plain text\n\twith tab"},
		{"a\x1b[31mred\x1b[0m b", "ared b"},
		{"\x1b]0;title\x07after", "after"},
		{"\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\", "link"},
		{"\x1b]0;unterminated and visible", "0;unterminated and visible"},
		{"x\u009b2Jy", "xy"},
		{"\x1b(Bz", "z"},
		{"\x1bcreset", "reset"},
		{"cr\r\nlf", "cr\nlf"},
		{"bell\x07 del\x7f nul\x00", "bell del nul"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"\u202egnp.exe\u202c", "gnp.exe"},
		{"αβγ “quotes” 日本語", "αβγ “quotes” 日本語"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := clean(tt.in); got != tt.want {
				t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// unescaped returns the positions in s of the bytes in set that are not
// preceded by an odd number of backslashes, as CommonMark reads them.
func unescaped(s, set string) []int {
	var at []int
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(set, rune(s[i])) {
			continue
		}
		n := 0
		for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			at = append(at, i)
		}
	}
	return at
}

// TestRenderMarkdownEscapes: archived text in the Markdown output reads as
// text. Every link the output makes is one of the renderer's own links to an
// http(s) URL; no '<' opens HTML; no scheme, image, code span or autolink
// comes from the archive; and the line diff's fence cannot be closed from
// inside.
func TestRenderMarkdownEscapes(t *testing.T) {
	for _, name := range []string{"hostile", "fallback", "realistic"} {
		t.Run(name, func(t *testing.T) {
			var r Report
			for _, f := range fixtures {
				if f.name == name {
					r = f.report()
				}
			}
			var b bytes.Buffer
			if err := RenderMarkdown(&b, r); err != nil {
				t.Fatal(err)
			}
			md := b.String()
			body, fenced := md, ""
			if i := strings.Index(md, "````"); i >= 0 {
				body, fenced = md[:i], md[i:]
			}
			ownLink := regexp.MustCompile(`^\]\(<https?://[^<>\s\\]*>\)`)
			for _, i := range unescaped(body, "]") {
				if strings.HasPrefix(body[i:], "](") && !ownLink.MatchString(body[i:]) {
					t.Errorf("a link to something else than an http(s) URL at %d: %q", i, body[max(0, i-30):min(len(body), i+40)])
				}
			}
			for _, i := range unescaped(body, "<") {
				ok := strings.HasPrefix(body[i:], "<https://") || strings.HasPrefix(body[i:], "<http://") ||
					strings.HasPrefix(body[i:], "<del>") || strings.HasPrefix(body[i:], "</del>") ||
					strings.HasPrefix(body[i:], "<ins>") || strings.HasPrefix(body[i:], "</ins>")
				if !ok {
					t.Errorf("raw HTML at %d: %q", i, body[max(0, i-30):min(len(body), i+40)])
				}
			}
			text := regexp.MustCompile(`\[([^\[\]]*)\]\(<https?://[^<>\s\\]*>\)`).ReplaceAllString(body, "$1")
			text = regexp.MustCompile(`(?m)^<https?://[^<>\s\\]*>$`).ReplaceAllString(text, "")
			// Without the renderer's own markup, no character that opens
			// markup may be left unescaped.
			strong := regexp.MustCompile(`\*\*|~~|</?(del|ins)>`)
			own := regexp.MustCompile(`(?m)^#+ |^- |^\*|\*$|\*\(|\)\*|\.\*`)
			rest := own.ReplaceAllString(strong.ReplaceAllString(text, ""), "")
			for _, i := range unescaped(rest, "`&*_~#|@$<>[]") {
				t.Errorf("unescaped %q at %d: %q", rest[i], i, rest[max(0, i-30):min(len(rest), i+40)])
			}
			for _, bad := range []string{"javascript:", "data:", "www.evil", "evil@", "https://evil", "\x1b"} {
				if strings.Contains(text, bad) {
					t.Errorf("Markdown contains %q, which a renderer would turn into a link or an escape", bad)
				}
			}
			// Every line starts with the renderer's own markup or words, so
			// archived text never opens a block.
			lineStart := regexp.MustCompile(`^(|# |## |### |- |\*\*|\*\d|<https?://|Policy URL |Clauses: |No |The |Only )`)
			for _, l := range strings.Split(body, "\n") {
				if !lineStart.MatchString(l) {
					t.Errorf("a line starts with something the renderer did not write: %q", l)
				}
			}
			if name == "fallback" {
				if !strings.HasPrefix(fenced, "`````diff\n") || !strings.HasSuffix(fenced, "\n`````\n") || strings.Count(fenced, "`````") != 2 {
					t.Errorf("the fence is not longer than the backtick runs inside it:\n%s", fenced)
				}
			}
			if name == "hostile" && !strings.Contains(md, `\<script\>alert('x')\</script\>`) || name == "hostile" && !strings.Contains(md, `\[here\](javascript\:alert(1))`) {
				t.Errorf("the hostile text is not shown escaped:\n%s", md)
			}
		})
	}
}

// TestMarkdownWords: the word diff markers are ones CommonMark recognises;
// where it would not, the span becomes <del>/<ins>.
func TestMarkdownWords(t *testing.T) {
	tests := []struct {
		name  string
		words []WordOp
		want  string
	}{
		{"between words", []WordOp{{"=", "kept for "}, {"-", "30"}, {"+", "90"}, {"=", " days"}}, "kept for ~~30~~**90** days"},
		{"spaces stay outside", []WordOp{{"=", "a"}, {"+", " new "}, {"=", "b"}}, "a **new** b"},
		{"punctuation against a letter", []WordOp{{"=", "policy"}, {"+", "."}}, "policy<ins>.</ins>"},
		{"punctuation after a space", []WordOp{{"=", "see "}, {"-", "[this]"}, {"=", " now"}}, `see ~~\[this\]~~ now`},
		{"removed whitespace", []WordOp{{"=", "a"}, {"-", " "}, {"=", ",b"}}, "a,b"},
		{"markup inside", []WordOp{{"+", "[x](javascript:y)"}}, `**\[x\](javascript\:y)**`},
		{"times and prose keep their colons", []WordOp{{"=", "at 09:30: "}, {"+", "Note: x"}}, `at 09:30: **Note: x**`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mdWords(tt.words); got != tt.want {
				t.Errorf("mdWords = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRenderHTMLSafe parses every HTML output: no script element, no event
// handler attribute, no javascript:/data: URL, no external resource; the
// hostile text is there, as text.
func TestRenderHTMLSafe(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := RenderHTML(&b, f.report()); err != nil {
				t.Fatal(err)
			}
			doc, err := html.Parse(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			var walk func(*html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode {
					switch n.Data {
					case "script", "iframe", "object", "embed", "img", "link", "form", "base", "svg", "math":
						t.Errorf("<%s> element in the output", n.Data)
					}
					for _, a := range n.Attr {
						v := strings.ToLower(strings.TrimSpace(a.Val))
						if strings.HasPrefix(strings.ToLower(a.Key), "on") {
							t.Errorf("<%s %s=%q>: event handler attribute", n.Data, a.Key, a.Val)
						}
						if strings.Contains(v, "javascript:") || strings.Contains(v, "data:") || strings.Contains(v, "vbscript:") {
							t.Errorf("<%s %s=%q>: script URL", n.Data, a.Key, a.Val)
						}
						if (a.Key == "href" || a.Key == "src") && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
							t.Errorf("<%s %s=%q>: not an http(s) link", n.Data, a.Key, a.Val)
						}
					}
				}
				if n.Type == html.TextNode {
					text.WriteString(n.Data)
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
			if f.name == "hostile" {
				for _, want := range []string{"<script>alert('x')</script>", "[here](javascript:alert(1))", "Evil <b>Corp</b>"} {
					if !strings.Contains(text.String(), want) {
						t.Errorf("the page's text lacks %q, shown literally", want)
					}
				}
			}
			if !strings.HasPrefix(b.String(), "<!DOCTYPE html>") || !strings.Contains(b.String(), `name="viewport"`) {
				t.Errorf("not a complete mobile-ready document")
			}
		})
	}
}

// TestDocsExample keeps the example in docs/changes.md what RenderJSON makes
// of the realistic fixture; -update rewrites it in place.
func TestDocsExample(t *testing.T) {
	const begin, end = "<!-- example:begin (generated by go test ./diffing -update) -->\n```json\n", "```\n<!-- example:end -->"
	path := filepath.Join("..", "docs", "changes.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(doc, []byte(begin))
	j := bytes.Index(doc, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("%s lacks the example markers %q … %q", path, begin, end)
	}
	var b bytes.Buffer
	if err := RenderJSON(&b, realisticReport()); err != nil {
		t.Fatal(err)
	}
	if *update {
		out := append(append(append([]byte{}, doc[:i+len(begin)]...), b.Bytes()...), doc[j:]...)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := string(doc[i+len(begin) : j]); got != b.String() {
		t.Errorf("the example in %s is stale (go test ./diffing -update rewrites it):\n%s", path, b.String())
	}
}
