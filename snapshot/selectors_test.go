package snapshot

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// selectorPage is a small policy page with chrome around it and content
// spread over siblings and nested wrappers, so that ranges cross element
// boundaries.
const selectorPage = `<!doctype html><html><head><title>Acme privacy</title></head><body>
<nav>Home Products Login</nav>
<div id="intro"><p>Alpha intro paragraph.</p></div>
<main>
  <h2 id="s1">Section one</h2>
  <p>Bravo first text.</p>
  <div class="promo">Buy now promo.</div>
  <section id="deep">
    <p>Charlie nested text.</p>
    <ul id="list"><li>Delta item.</li><li id="cut">Echo item.</li><li>Foxtrot item.</li></ul>
  </section>
  <h2 id="s2">Section two</h2>
  <p>Golf second text.</p>
</main>
<div id="outro"><p>Hotel outro paragraph.</p></div>
<footer id="foot">India footer links.</footer>
</body></html>`

var selectorWordRe = regexp.MustCompile(`\b(Alpha|Bravo|Charlie|Delta|Echo|Foxtrot|Golf|Hotel|India|Home|Buy|Section one|Section two)\b`)

// words returns the marker words of selectorPage in the order they appear in md.
func words(md string) string {
	return strings.Join(selectorWordRe.FindAllString(md, -1), " ")
}

var selectorSrc = Source{Site: "acme.example", URL: "https://acme.example/privacy", Timestamp: "20240102030405", ContentType: "text/html; charset=utf-8"}

func TestExtractWithSelectors(t *testing.T) {
	css := func(s ...string) []Selector {
		var out []Selector
		for _, x := range s {
			out = append(out, Selector{CSS: x})
		}
		return out
	}
	tests := []struct {
		name string
		opts Options
		want string // marker words of the body, in order
	}{
		{"css select", Options{Select: css("#deep")}, "Charlie Delta Echo Foxtrot"},
		{"selects come out in document order", Options{Select: css("#outro", "#intro", "#s2")}, "Alpha Section two Hotel"},
		{"a selector matching several elements", Options{Select: css("main > p")}, "Bravo Golf"},
		{"nested matches are kept once", Options{Select: css("main", "#deep", "li")}, "Section one Bravo Buy Charlie Delta Echo Foxtrot Section two Golf"},
		{"remove inside select", Options{Select: css("main"), Remove: css(".promo", "#cut")}, "Section one Bravo Charlie Delta Foxtrot Section two Golf"},
		{"range startBefore endBefore", Options{Select: []Selector{{StartBefore: "#s1", EndBefore: "#s2"}}}, "Section one Bravo Buy Charlie Delta Echo Foxtrot"},
		{"range startAfter endAfter", Options{Select: []Selector{{StartAfter: "#s1", EndAfter: "#s2"}}}, "Bravo Buy Charlie Delta Echo Foxtrot Section two"},
		{"range ending inside a nested list", Options{Select: []Selector{{StartBefore: "#s1", EndBefore: "#cut"}}}, "Section one Bravo Buy Charlie Delta"},
		{"range starting inside a nested list", Options{Select: []Selector{{StartAfter: "#cut", EndBefore: "#foot"}}}, "Foxtrot Section two Golf Hotel"},
		{"range across top-level wrappers", Options{Select: []Selector{{StartBefore: "#intro p", EndAfter: "#deep p"}}}, "Alpha Section one Bravo Buy Charlie"},
		{"range and css in document order", Options{Select: []Selector{{CSS: "#outro"}, {StartBefore: "#s2", EndBefore: "#outro"}}}, "Section two Golf Hotel"},
		{"remove range", Options{Select: css("main"), Remove: []Selector{{StartAfter: "#s1", EndBefore: "#s2"}}}, "Section one Section two Golf"},
		{"remove range cutting a list", Options{Select: css("main"), Remove: []Selector{{StartBefore: ".promo", EndAfter: "#cut"}}}, "Section one Bravo Foxtrot Section two Golf"},
		{"end before start selects nothing: fallback", Options{Select: []Selector{{StartBefore: "#s2", EndBefore: "#s1"}}}, "Home Alpha Section one Bravo Buy Charlie Delta Echo Foxtrot Section two Golf Hotel India"},
		{"no match falls back to the whole body", Options{Select: css("#missing")}, "Home Alpha Section one Bravo Buy Charlie Delta Echo Foxtrot Section two Golf Hotel India"},
		{"range with a missing end falls back", Options{Select: []Selector{{StartBefore: "#s1", EndBefore: "#missing"}}}, "Home Alpha Section one Bravo Buy Charlie Delta Echo Foxtrot Section two Golf Hotel India"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.opts.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			doc, err := ExtractWith([]byte(selectorPage), selectorSrc, tc.opts)
			if err != nil {
				t.Fatalf("ExtractWith: %v", err)
			}
			if got := words(doc.Body); got != tc.want {
				t.Errorf("body words\n got %q\nwant %q\nbody:\n%s", got, tc.want, doc.Body)
			}
		})
	}
}

// TestRemoveOnly checks that Remove without Select deletes its parts and
// leaves the choice of content to automatic selection, as a config that only
// says "remove: .tip" means.
func TestRemoveOnly(t *testing.T) {
	doc, err := ExtractWith([]byte(selectorPage), selectorSrc, Options{Remove: []Selector{{CSS: ".promo"}, {CSS: "#cut"}}})
	if err != nil {
		t.Fatal(err)
	}
	got := words(doc.Body)
	for _, w := range []string{"Bravo", "Charlie", "Golf"} {
		if !strings.Contains(got, w) {
			t.Errorf("body lacks policy word %q: %q", w, got)
		}
	}
	for _, w := range []string{"Buy", "Echo", "Home", "India"} {
		if strings.Contains(got, w) {
			t.Errorf("body has %q, removed or chrome: %q", w, got)
		}
	}
}

// TestRangeKeepsStructure checks that a range cut through a list still
// renders as a list: the partly covered <ul> is cloned around the covered items.
func TestRangeKeepsStructure(t *testing.T) {
	doc, err := ExtractWith([]byte(selectorPage), selectorSrc, Options{Select: []Selector{{StartBefore: "#deep p", EndAfter: "#cut"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"* Delta item.", "* Echo item."} {
		if !strings.Contains(doc.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, doc.Body)
		}
	}
	if strings.Contains(doc.Body, "Foxtrot") {
		t.Errorf("body has an item after the range end:\n%s", doc.Body)
	}
}

func TestSelectorReport(t *testing.T) {
	tests := []struct {
		name         string
		opts         Options
		wantFallback bool
		wantMisses   []string
	}{
		{"all match", Options{Select: []Selector{{CSS: "main"}}, Remove: []Selector{{CSS: ".promo"}}}, false, nil},
		{"one select misses", Options{Select: []Selector{{CSS: "main"}, {CSS: ".gone"}}}, false, []string{"select .gone"}},
		{"every select misses", Options{Select: []Selector{{CSS: ".gone"}, {StartBefore: "#s1", EndBefore: ".gone"}}}, true,
			[]string{`select .gone`, `select {"startBefore":"#s1","endBefore":".gone"}`}},
		{"remove misses", Options{Remove: []Selector{{CSS: ".gone"}}}, false, []string{"remove .gone"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := CheckSelectors([]byte(selectorPage), "text/html", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Fallback != tc.wantFallback {
				t.Errorf("Fallback = %v, want %v", rep.Fallback, tc.wantFallback)
			}
			if strings.Join(rep.Unmatched, "|") != strings.Join(tc.wantMisses, "|") {
				t.Errorf("Unmatched = %q, want %q", rep.Unmatched, tc.wantMisses)
			}
			if (rep.Reason() != "") != tc.wantFallback {
				t.Errorf("Reason() = %q with Fallback %v", rep.Reason(), rep.Fallback)
			}
		})
	}
}

func TestSelectorValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr []string // substrings of the error; none means valid
	}{
		{"valid css and range", Options{Select: []Selector{{CSS: "main > p:first-child"}, {StartAfter: "h1", EndBefore: "#toc"}}, Remove: []Selector{{CSS: "a[href^='/cdn-cgi/l/email-protection']"}}}, nil},
		{"invalid css names the selector", Options{Select: []Selector{{CSS: "div[class"}}}, []string{"select[0]", `"div[class"`, "not valid CSS"}},
		{"invalid range end", Options{Remove: []Selector{{StartBefore: "h1", EndAfter: "##x"}}}, []string{"remove[0]", "endAfter", `"##x"`}},
		{"empty selector", Options{Select: []Selector{{}}}, []string{"select[0]", "empty selector"}},
		{"range without end", Options{Select: []Selector{{StartBefore: "h1"}}}, []string{"needs endBefore or endAfter"}},
		{"range with two starts", Options{Select: []Selector{{StartBefore: "h1", StartAfter: "h2", EndBefore: "p"}}}, []string{"both startBefore and startAfter"}},
		{"css and range together", Options{Select: []Selector{{CSS: "main", StartBefore: "h1", EndBefore: "p"}}}, []string{"not both"}},
		{"every error is reported", Options{Select: []Selector{{CSS: "::"}, {CSS: "ok"}, {CSS: "a[b"}}}, []string{"select[0]", "select[2]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want an error mentioning %q", tc.wantErr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestInvalidSelectorAtExtraction checks that a selector that slipped past
// Validate matches nothing rather than failing the extraction.
func TestInvalidSelectorAtExtraction(t *testing.T) {
	root, err := html.Parse(strings.NewReader(selectorPage))
	if err != nil {
		t.Fatal(err)
	}
	nodes, rep := selectParts(goquery.NewDocumentFromNode(root), Options{Select: []Selector{{CSS: "div[class"}}})
	if !rep.Fallback || len(nodes) != 1 || nodes[0].Data != "body" {
		t.Errorf("got %d nodes, report %+v; want the body and a fallback", len(nodes), rep)
	}
}

func TestParseSelectors(t *testing.T) {
	tests := []struct {
		in   string
		want []Selector
	}{
		{`null`, nil},
		{`".tab-content"`, []Selector{{CSS: ".tab-content"}}},
		{`[".a", ".b"]`, []Selector{{CSS: ".a"}, {CSS: ".b"}}},
		{`{"startBefore": "h1", "endBefore": "#toc-heading"}`, []Selector{{StartBefore: "h1", EndBefore: "#toc-heading"}}},
		{`[".a", {"startAfter": "#x", "endAfter": "#y"}]`, []Selector{{CSS: ".a"}, {StartAfter: "#x", EndAfter: "#y"}}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSelectors(json.RawMessage(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("[%d] = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
	if _, err := ParseSelectors(json.RawMessage(`42`)); err == nil {
		t.Error("ParseSelectors(42): nil error, want one")
	}
}

// A Select that matches nothing keeps the whole page, and the capture's
// Quality.Reason says so: a silent fallback would store menus as policy.
func TestSelectorFallbackReason(t *testing.T) {
	page := []byte(`<html><head><title>P</title></head><body><nav>Home</nav><main><h1>Privacy</h1>` +
		`<p>` + strings.Repeat("We keep your data safe and never sell it. ", 20) + `</p></main></body></html>`)
	src := Source{Site: "x.example", URL: "https://x.example/privacy", Timestamp: "20200101000000", ContentType: "text/html"}
	doc, err := ExtractWith(page, src, Options{Select: []Selector{{CSS: ".no-such-class"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc.Quality.Reason, "select matched nothing (select .no-such-class): whole page kept") {
		t.Fatalf("Quality = %+v", doc.Quality)
	}
	doc, _ = ExtractWith(page, src, Options{Select: []Selector{{CSS: "main"}}})
	if doc.Quality.Reason != "" || strings.Contains(doc.Body, "Home") {
		t.Fatalf("a matching select: Quality = %+v, body:\n%s", doc.Quality, doc.Body)
	}
}
