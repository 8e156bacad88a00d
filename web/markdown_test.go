package web

import (
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// mdSafeRef is what an href may be in rendered archived text.
var mdSafeRef = regexp.MustCompile(`^(?:https?://[^/]|mailto:.)`)

// mdCheckSafe fails when rendered Markdown holds anything that could run or
// load: an element other than plain text markup, an event handler or style
// attribute, or a link that is not http(s) or mailto.
func mdCheckSafe(t *testing.T, out string) *goquery.Document {
	t.Helper()
	lower := strings.ToLower(out)
	for _, bad := range []string{"<script", "<iframe", "<style", "<svg", "<img", "<object", "<embed", "<form", "<input", "<base", "<meta", "<link", "<math", "<textarea", "<!--"} {
		if strings.Contains(lower, bad) {
			t.Errorf("output contains %q:\n%s", bad, out)
		}
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{
		"html": true, "head": true, "body": true,
		"p": true, "a": true, "em": true, "strong": true, "del": true, "code": true, "pre": true, "br": true, "hr": true,
		"h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "ul": true, "ol": true, "li": true, "blockquote": true,
		"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
	}
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		name := goquery.NodeName(s)
		if !allowed[name] {
			t.Errorf("element <%s> in output:\n%s", name, out)
		}
		for _, a := range s.Nodes[0].Attr {
			key := strings.ToLower(a.Key)
			switch key {
			case "href":
				if !mdSafeRef.MatchString(a.Val) {
					t.Errorf("<%s href=%q>: not http(s) or mailto", name, a.Val)
				}
			case "rel", "title", "align", "start", "class":
			default:
				t.Errorf("<%s %s=%q>: attribute not expected", name, a.Key, a.Val)
			}
		}
		if name == "a" {
			if rel, _ := s.Attr("rel"); rel != linkRel {
				t.Errorf("link %q has rel %q, want %q", s.Text(), rel, linkRel)
			}
		}
	})
	return doc
}

func TestRenderPolicyHostile(t *testing.T) {
	tests := []struct {
		name string
		md   string
		// text that must be visible, as text
		visible []string
		// hrefs that must be there
		hrefs []string
	}{
		{"script block", "<script>alert(1)</script>\n\nafter", []string{"<script>alert(1)</script>", "after"}, nil},
		{"inline script", "before <script>alert(1)</script> after", []string{"before <script>alert(1)</script> after"}, nil},
		{"img onerror", `<img src=x onerror=alert(1)>`, []string{"<img src=x onerror=alert(1)>"}, nil},
		{"svg onload", `text <svg onload=alert(1)></svg>`, []string{"<svg onload=alert(1)>"}, nil},
		{"iframe block", "<iframe src=\"javascript:alert(1)\"></iframe>", []string{`<iframe src="javascript:alert(1)">`}, nil},
		{"style", "<style>body{display:none}</style>", []string{"body{display:none}"}, nil},
		{"div onclick block", "<div onclick=\"alert(1)\">\nclick\n</div>", []string{"<div onclick=\"alert(1)\">"}, nil},
		{"comment", "a <!-- hidden --> b", []string{"<!-- hidden -->"}, nil},
		{"cdata", "a <![CDATA[ x ]]> b", []string{"<![CDATA[ x ]]>"}, nil},
		{"raw link", `<a href="javascript:alert(1)">raw</a>`, []string{`<a href="javascript:alert(1)">raw</a>`}, nil},
		{"javascript link", "[click](javascript:alert(1))", []string{"click"}, nil},
		{"JAVASCRIPT link", "[click](JAVASCRIPT:alert(1))", []string{"click"}, nil},
		{"entity javascript link", "[click](&#106;avascript:alert(1))", []string{"click"}, nil},
		{"tab javascript link", "[click](<java\tscript:alert(1)>)", []string{"click"}, nil},
		{"data link", "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", []string{"click"}, nil},
		{"vbscript link", "[click](vbscript:msgbox(1))", []string{"click"}, nil},
		{"file link", "[click](file:///etc/passwd)", []string{"click"}, nil},
		{"relative link", "[home](/vendors) [up](../x) [proto](//evil.example/x) [frag](#top)", []string{"home up proto frag"}, nil},
		{"reference link", "[click][1]\n\n[1]: javascript:alert(1)", []string{"click"}, nil},
		{"autolink javascript", "<javascript:alert(1)>", []string{"javascript:alert(1)"}, nil},
		{"autolink quote", `<https://evil.example/"onclick="alert(1)>`, []string{`https://evil.example/"onclick="alert(1)`}, nil},
		{"attribute in url", `[page](https://ok.example/" onmouseover="alert(1))`, []string{"page"}, nil},
		{"escaped attribute in url", `[page](https://ok.example/%22%20onmouseover=%22alert%28%29)`, []string{"page"}, []string{"https://ok.example/%22%20onmouseover=%22alert%28%29"}},
		{"title injection", `[page](https://ok.example/ "a\" onmouseover=\"alert(1)")`, []string{"page"}, []string{"https://ok.example/"}},
		{"http link", "[terms](https://ok.example/terms)", []string{"terms"}, []string{"https://ok.example/terms"}},
		{"mailto link", "[write](mailto:privacy@ok.example) <privacy@ok.example>", []string{"write", "privacy@ok.example"}, []string{"mailto:privacy@ok.example"}},
		{"image http", `![pixel](https://tracker.example/p.gif)`, []string{"[image: pixel]"}, []string{"https://tracker.example/p.gif"}},
		{"image javascript", `![x](javascript:alert(1))`, []string{"[image: x]"}, nil},
		{"image data", `![x](data:image/svg+xml,<svg onload=alert(1)>)`, []string{"<svg onload=alert(1)>"}, nil},
		{"image data plain", `![x](data:image/png;base64,AAAA)`, []string{"[image: x]"}, nil},
		{"image alt injection", `![a" onerror="alert(1)](https://t.example/p.gif)`, []string{`[image: a" onerror="alert(1)]`}, []string{"https://t.example/p.gif"}},
		{"image in link", `[![logo](https://t.example/l.png)](https://ok.example/)`, []string{"[image: logo]"}, []string{"https://ok.example/"}},
		{"entities", "&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; &#60;b&#62;", []string{"<script>alert(1)</script> &amp; <b>"}, nil},
		{"template delimiters", "{{.Secret}} {{template \"x\"}}", []string{"{{.Secret}}"}, nil},
		{"fenced code info", "```js\" onload=\"alert(1)\n<script>alert(1)</script>\n```", []string{"<script>alert(1)</script>"}, nil},
		{"code span", "`<script>alert(1)</script>`", []string{"<script>alert(1)</script>"}, nil},
		{"heading attributes", "# Title {#x onclick=alert(1)}\n\n## Next {.y}", []string{"Title {#x onclick=alert(1)}"}, nil},
		{"table", "| a | b |\n|:--|--:|\n| <script>x</script> | [l](javascript:x) |", []string{"<script>x</script>", "l"}, nil},
		{"terminal escape", "red \x1b[31mtext\x1b[0m and \u202eevil", []string{"red [31mtext[0m and evil"}, nil},
		{"invalid utf-8", "bad \xff byte", []string{"bad \uFFFD byte"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := renderPolicy(tc.md)
			if err != nil {
				t.Fatal(err)
			}
			doc := mdCheckSafe(t, string(out))
			got := strings.Join(strings.Fields(doc.Text()), " ")
			for _, v := range tc.visible {
				if !strings.Contains(got, strings.Join(strings.Fields(v), " ")) {
					t.Errorf("text %q lacks %q\n%s", got, v, out)
				}
			}
			var hrefs []string
			doc.Find("a").Each(func(_ int, s *goquery.Selection) {
				h, _ := s.Attr("href")
				hrefs = append(hrefs, h)
			})
			for _, h := range tc.hrefs {
				found := false
				for _, got := range hrefs {
					found = found || got == h
				}
				if !found {
					t.Errorf("links %q lack %q", hrefs, h)
				}
			}
			if len(tc.hrefs) == 0 && len(hrefs) > 0 {
				t.Errorf("unexpected links %q", hrefs)
			}
		})
	}
}

func TestRenderPolicyStructure(t *testing.T) {
	tests := []struct {
		name, md string
		want     []string // selectors that must match, in order of the headings
		headings string   // the heading levels, in order
	}{
		{"h1 becomes h2", "# Policy\n\n## One\n\n### One.One\n\n## Two", nil, "h2 h3 h4 h3"},
		{"skipped levels close up", "# Policy\n\n#### Deep\n\n###### Deeper", nil, "h2 h3 h4"},
		{"starts at h3", "### A\n\n### B", nil, "h2 h2"},
		{"lists and emphasis", "- _one_\n- **two**\n\n1. a\n2. b\n\n> quoted\n\n~~gone~~", []string{"ul li em", "ul li strong", "ol li", "blockquote p", "del"}, ""},
		{"table", "| a | b |\n|---|---|\n| 1 | 2 |", []string{"table thead th", "table tbody td"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := renderPolicy(tc.md)
			if err != nil {
				t.Fatal(err)
			}
			doc := mdCheckSafe(t, string(out))
			var levels []string
			doc.Find("h1, h2, h3, h4, h5, h6").Each(func(_ int, s *goquery.Selection) {
				levels = append(levels, goquery.NodeName(s))
				if _, ok := s.Attr("id"); ok {
					t.Errorf("heading %q has an id", s.Text())
				}
			})
			if got := strings.Join(levels, " "); got != tc.headings {
				t.Errorf("headings %q, want %q\n%s", got, tc.headings, out)
			}
			for _, sel := range tc.want {
				if doc.Find(sel).Length() == 0 {
					t.Errorf("no %s in\n%s", sel, out)
				}
			}
		})
	}
}

func TestAllowedHref(t *testing.T) {
	tests := []struct {
		href string
		want bool
	}{
		{"https://ok.example/a?b=c#d", true},
		{"http://ok.example", true},
		{"HTTPS://OK.EXAMPLE/", true},
		{"mailto:a@b.example", true},
		{"mailto:", false},
		{"https://", false},
		{"https:relative", false},
		{"//evil.example", false},
		{"/vendors", false},
		{"javascript:alert(1)", false},
		{" javascript:alert(1)", false},
		{"java\nscript:alert(1)", false},
		{"data:text/html,x", false},
		{"vbscript:x", false},
		{"ftp://ok.example", false},
		{`https://ok.example/"onmouseover="x`, false},
		{"", false},
	}
	for _, tc := range tests {
		if got := allowedHref(tc.href); got != tc.want {
			t.Errorf("allowedHref(%q) = %v, want %v", tc.href, got, tc.want)
		}
	}
}
