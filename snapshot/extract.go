package snapshot

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxTreeDepth bounds the element nesting we walk. Real pages rarely nest deeper
// than 60; deeper subtrees are flattened to their text so that no recursive walk
// (ours, cascadia's) can exhaust the stack on hostile input.
const maxTreeDepth = 256

// Extract decodes raw and extracts the policy as a Document. It fails only when
// src cannot locate the capture (bad timestamp or URL): every property of the
// bytes themselves, however broken, is reported in Document.Quality instead, so
// that the caller can store the capture and move on.
func Extract(raw []byte, src Source) (*Document, error) {
	return ExtractWith(raw, src, Options{})
}

// ExtractWith is Extract with per-document options: selectors that say where
// the policy is on the page, for pages where automatic selection goes wrong.
func ExtractWith(raw []byte, src Source, opts Options) (*Document, error) {
	if err := src.validate(); err != nil {
		return nil, fmt.Errorf("extract: %w", err)
	}
	doc := &Document{}
	if q, bad := unsupportedContent(raw, src.ContentType); bad {
		doc.Quality = q
		return doc, nil
	}
	var notes []string
	if len(raw) > MaxInputBytes {
		raw = raw[:MaxInputBytes]
		notes = append(notes, fmt.Sprintf("input cut at %d MiB", MaxInputBytes>>20))
	}
	dec, err := decode(raw, src.ContentType)
	if err != nil {
		doc.Quality = Quality{VerdictUnsupported, err.Error()}
		return doc, nil
	}
	text := dec.text
	doc.Charset = dec.charset
	if dec.note != "" {
		notes = append(notes, dec.note)
	}

	var pageText string // all visible text, for the quality verdict and date fallback
	if isPlainText(src.ContentType, text) {
		doc.Title, doc.Body = extractPlain(text, src)
		pageText = doc.Body
	} else {
		var note string
		pageText, note = extractHTML(doc, text, src, opts)
		if note != "" {
			notes = append(notes, note)
		}
	}

	hint := hintFor(src)
	doc.StatedDate, doc.StatedDateText, doc.DateHistory = findStatedDates(plainOfMarkdown(doc.Body), hint)
	if doc.StatedDate == "" { // the date can sit in a header or footer that selection dropped
		if d, p, h := findStatedDates(pageText, hint); d != "" {
			doc.StatedDate, doc.StatedDateText, doc.DateHistory = d, p, h
		}
	}
	if q, ok := wallOrParked(raw, src.ContentType, pageText); ok {
		doc.Quality = q
	} else {
		doc.Quality = judge(doc, pageText)
	}
	if len(notes) > 0 {
		if doc.Quality.Reason != "" {
			notes = append([]string{doc.Quality.Reason}, notes...)
		}
		doc.Quality.Reason = strings.Join(notes, "; ")
	}
	return doc, nil
}

// isPlainText reports whether the capture is text/plain. Servers mislabel HTML
// as text/plain often enough that a body starting with markup is still HTML.
func isPlainText(contentType, text string) bool {
	ct := strings.ToLower(contentType)
	if !strings.HasPrefix(strings.TrimSpace(ct), "text/plain") {
		return false
	}
	head := strings.ToLower(strings.TrimSpace(text))
	if len(head) > 512 {
		head = head[:512]
	}
	return !strings.HasPrefix(head, "<!doctype") && !strings.HasPrefix(head, "<html") &&
		!strings.Contains(head, "<body") && !strings.Contains(head, "<head")
}

// extractPlain keeps a text/plain policy as it is: its first line is the title.
func extractPlain(text string, src Source) (title, body string) {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	body = strings.TrimSpace(strings.Join(lines, "\n"))
	for _, l := range lines {
		if t := collapseSpace(l); t != "" {
			title = t
			break
		}
	}
	if utf8.RuneCountInString(title) > 200 || title == "" {
		title = src.URL
	}
	if body != "" {
		body += "\n"
	}
	return title, body
}

// extractHTML fills Title and Body from an HTML page and returns the whole
// page's visible text.
//
// The tree is walked a fixed number of times whatever the page's size: one
// pass prepares it (depth limit, scripts out, title, <base>, page text), one
// drops boilerplate, one measures every node (stats) and one renders. Earlier
// versions asked goquery for the text of each candidate subtree and ran
// regular expressions per text node, which made big pages take seconds.
// The note says where selectors fell back or matched nothing.
func extractHTML(doc *Document, text string, src Source, opts Options) (pageText, note string) {
	root, err := html.Parse(strings.NewReader(text))
	if err != nil { // html.Parse only fails on reader errors; keep the text anyway
		doc.Body = text
		return text, ""
	}
	limitDepth(root, maxTreeDepth)
	p := prepare(root)
	doc.Title = p.title
	base, _ := parseAbsURL(src.URL)
	if p.baseHref != "" {
		if b, err := base.Parse(strings.TrimSpace(p.baseHref)); err == nil && b.IsAbs() {
			base = b
		}
	}
	body := p.body
	if body == nil {
		body = root
	}
	pageText = p.pageText

	var content []*html.Node
	var st *stats
	if opts.empty() {
		st = removeBoilerplate(body)
		content = selectContent(body, st)
	} else {
		var rep SelectorReport
		content, rep = selectParts(goquery.NewDocumentFromNode(root), opts)
		note = rep.Reason()
		st = newStats(root)
	}

	if doc.Title == "" {
		for _, n := range content {
			if h := findFirst(n, atom.H1); h != nil {
				doc.Title = collapseSpace(flatText(h))
				break
			}
		}
	}
	r := newRenderer(base, src.Timestamp, st)
	r.skipH1 = doc.Title
	doc.Body = r.render(content)
	return pageText, note
}

// prepared is what the first walk over a parsed page finds.
type prepared struct {
	title    string     // text of the first <title> in <head>, else of any <title> outside <svg>
	baseHref string     // href of the first <base href>
	body     *html.Node // the first <body>
	pageText string     // the body's text, whitespace collapsed, as a browser's innerText roughly
}

// prepare removes what never renders (scripts, styles, templates, metadata)
// and collects the title, <base href>, <body> and the page text in one walk.
func prepare(root *html.Node) prepared {
	var p prepared
	var headTitle, anyTitle *html.Node
	var text spaceWriter
	var walk func(n *html.Node, inHead, inSVG, inBody bool)
	walk = func(n *html.Node, inHead, inSVG, inBody bool) {
		for c := n.FirstChild; c != nil; {
			next := c.NextSibling
			switch c.Type {
			case html.TextNode:
				if inBody {
					text.write(c.Data)
				}
			case html.ElementNode:
				switch c.DataAtom {
				case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Link, atom.Meta:
					n.RemoveChild(c)
					c = next
					continue
				case atom.Title:
					if inHead && headTitle == nil {
						headTitle = c
					}
					if !inSVG && anyTitle == nil {
						anyTitle = c
					}
				case atom.Base:
					if p.baseHref == "" && hasAttr(c, "href") {
						p.baseHref = attr(c, "href")
					}
				case atom.Body:
					if p.body == nil {
						p.body = c
					}
				}
				walk(c, inHead || c.DataAtom == atom.Head, inSVG || c.DataAtom == atom.Svg,
					inBody || c == p.body)
			case html.DocumentNode:
				walk(c, inHead, inSVG, inBody)
			}
			c = next
		}
	}
	walk(root, false, false, false)
	if p.body == nil { // no <body> (a fragment): the whole document is the page
		text = spaceWriter{}
		text.write(flatText(root))
	}
	if headTitle != nil {
		p.title = collapseSpace(flatText(headTitle))
	}
	if p.title == "" && anyTitle != nil {
		p.title = collapseSpace(flatText(anyTitle))
	}
	p.pageText = text.String()
	return p
}

// findFirst returns the first element with tag a under n (n included), in
// document order.
func findFirst(n *html.Node, a atom.Atom) *html.Node {
	if n.Type == html.ElementNode && n.DataAtom == a {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := findFirst(c, a); f != nil {
			return f
		}
	}
	return nil
}

// limitDepth replaces every subtree deeper than max with its text, iteratively,
// so that later recursive walks are bounded.
func limitDepth(root *html.Node, max int) {
	type item struct {
		n *html.Node
		d int
	}
	stack := []item{{root, 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.d >= max && it.n.FirstChild != nil {
			t := flatText(it.n)
			for c := it.n.FirstChild; c != nil; {
				next := c.NextSibling
				it.n.RemoveChild(c)
				c = next
			}
			it.n.AppendChild(&html.Node{Type: html.TextNode, Data: t})
			continue
		}
		for c := it.n.FirstChild; c != nil; c = c.NextSibling {
			stack = append(stack, item{c, it.d + 1})
		}
	}
}

// flatText collects the text under n without recursion.
func flatText(n *html.Node) string {
	var b strings.Builder
	stack := []*html.Node{n}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
			b.WriteByte(' ')
		}
		if c.Type == html.ElementNode && (c.DataAtom == atom.Script || c.DataAtom == atom.Style) {
			continue
		}
		// Push children in reverse so they pop in document order.
		for k := c.LastChild; k != nil; k = k.PrevSibling {
			stack = append(stack, k)
		}
	}
	return b.String()
}

func parseAbsURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("parse url: %w", err)
	}
	if !u.IsAbs() || u.Host == "" {
		return nil, fmt.Errorf("url %q is not absolute", s)
	}
	return u, nil
}

var (
	// boilerStrongWords names parts of a page that are never the policy, even when
	// the class also says "content" ("footer-content", "sidebar-main").
	boilerStrongWords = wordSet("footer", "nav", "navbar", "navigation", "menu", "menubar", "submenu", "megamenu",
		"sidebar", "breadcrumb", "breadcrumbs", "cookie", "cookiebanner", "cookienotice", "consent", "gdpr",
		"testimonial", "testimonials", "reviews", "newsletter", "popup", "modal", "share", "sharing", "sharethis",
		"social", "comment", "comments", "disqus", "respond", "advert", "advertisement", "ads", "adsense",
		"signup", "subscribe", "skip", "skiplink", "lightbox", "offcanvas")
	// overlayWords name banners and dialogs laid over the page.
	overlayWords = wordSet("cookie", "cookiebanner", "cookienotice", "consent", "gdpr", "popup", "modal", "lightbox")
	// boilerWeakWords are boilerplate unless the same class/id also says content.
	boilerWeakWords = wordSet("header", "banner", "related", "review", "ad", "widget", "promo",
		"masthead", "toolbar", "topbar", "sponsor", "sponsored", "login", "search", "share", "tags")
	okMaybeWords = wordSet("content", "main", "article", "body", "policy", "privacy", "terms", "legal",
		"entry", "post", "text", "story", "page")
)

func wordSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// classWords calls f with each lower-case word of n's class and id
// ("f-footer__item", "cookieBanner" → f footer item cookie banner) so that
// "preview" is not "review". It allocates nothing: it runs on every element.
func classWords(n *html.Node, f func(w []byte)) {
	var buf [64]byte
	for _, a := range n.Attr {
		if a.Key != "class" && a.Key != "id" {
			continue
		}
		w := buf[:0]
		prevLower := false
		for i := 0; i < len(a.Val); i++ {
			c := a.Val[i]
			upper := c >= 'A' && c <= 'Z'
			if upper && prevLower && len(w) > 0 { // camelCase boundary
				f(w)
				w = w[:0]
			}
			prevLower = c >= 'a' && c <= 'z'
			if upper {
				c += 'a' - 'A'
			}
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
				w = append(w, c)
				continue
			}
			if len(w) > 0 {
				f(w)
				w = w[:0]
			}
		}
		if len(w) > 0 {
			f(w)
		}
	}
}

// removeBoilerplate drops what is never policy text under body: page chrome,
// form controls, hidden elements and widgets named as such in class or id.
// It returns the stats of what is left, ready for selectContent.
func removeBoilerplate(body *html.Node) *stats {
	dropChrome(body, false)
	st := newStats(body)
	total := st.get(body).text
	var drop []*html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			if named := boilerplateByName(c, st); named == overlayNamed || named == chromeNamed && !st.looksLikeContent(c, total) {
				drop = append(drop, c)
				continue // what is inside goes with it
			}
			walk(c)
		}
	}
	walk(body)
	if len(drop) == 0 {
		return st
	}
	for _, n := range drop {
		n.Parent.RemoveChild(n)
	}
	return newStats(body)
}

// dropChrome removes elements that are chrome by their tag, role or
// attributes: navigation, form controls, embedded media, hidden elements, and
// <header>s outside the article.
func dropChrome(n *html.Node, inArticle bool) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode {
			if isChrome(c, inArticle) {
				n.RemoveChild(c)
			} else {
				dropChrome(c, inArticle || c.DataAtom == atom.Article || c.DataAtom == atom.Main || attr(c, "role") == "main")
			}
		}
		c = next
	}
}

func isChrome(n *html.Node, inArticle bool) bool {
	switch n.DataAtom {
	case atom.Svg, atom.Iframe, atom.Object, atom.Embed, atom.Canvas, atom.Video, atom.Audio, atom.Map,
		atom.Input, atom.Select, atom.Button, atom.Textarea, atom.Option, atom.Label, atom.Nav, atom.Aside,
		atom.Footer, atom.Dialog:
		return true
	case atom.Header:
		if !inArticle {
			return true
		}
	}
	// A hidden tab panel is not chrome: pages that cut a policy into tabs
	// hide every tab but the first until a reader clicks, and the text of
	// the others is as much the policy as the first's.
	panel := attr(n, "role") == "tabpanel"
	for _, a := range n.Attr {
		switch a.Key {
		case "hidden":
			if !panel {
				return true
			}
		case "aria-modal":
			if a.Val == "true" {
				return true
			}
		case "style":
			if !panel && styleHides(a.Val) {
				return true
			}
		case "class":
			if !panel && hiddenByClass(a.Val) {
				return true
			}
		case "role":
			switch a.Val {
			case "navigation", "banner", "contentinfo", "complementary", "search":
				return true
			}
		}
	}
	return false
}

// hiddenByClass reports whether a class list hides the element on every
// screen: a utility class "hide", "hidden" or "invisible" (Bootstrap,
// Tailwind) on its own, as promotional bars and closed pop-ups have. Classes
// that hide at one breakpoint only ("hidden-xs", Framer's "hidden-12dqmju",
// Tailwind's "hidden md:block") do not count: page builders render the
// policy once per breakpoint that way, and each copy is shown on some screen.
func hiddenByClass(class string) bool {
	hidden := false
	for _, c := range strings.Fields(class) {
		switch {
		case c == "hide" || c == "hidden" || c == "invisible":
			hidden = true
		case strings.Contains(c, ":"): // a responsive variant that shows it again
			return false
		}
	}
	return hidden
}

// styleHides reports whether an inline style says display:none or
// visibility:hidden, in any case and spacing.
func styleHides(style string) bool {
	s := strings.ToLower(style)
	return declares(s, "display", "none") || declares(s, "visibility", "hidden")
}

// declares reports whether the lower-case CSS text s holds "prop : value".
func declares(s, prop, value string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], prop)
		if j < 0 {
			return false
		}
		rest := strings.TrimLeft(s[i+j+len(prop):], " \t\n\r\f")
		if strings.HasPrefix(rest, ":") && strings.HasPrefix(strings.TrimLeft(rest[1:], " \t\n\r\f"), value) {
			return true
		}
		i += j + len(prop)
	}
}

// nameVerdict is what an element's class and id say about it.
type nameVerdict int

const (
	notNamed     nameVerdict = iota
	chromeNamed              // page chrome, unless it holds most of the page's prose
	overlayNamed             // a cookie or consent banner, a pop-up: never the policy
)

// boilerplateByName applies the class/id word rule: a strong word, or a weak
// word without a content word beside it.
//
// Overlay words (cookie banners, consent dialogs, pop-ups) without a content
// word beside them decide alone. On a short page (a soft 404, a stub) the
// consent dialog holds most of the text and would pass looksLikeContent;
// "cookie-policy" still says policy and is kept.
//
// A weak word on a short element without links is not enough: inside the
// policy, "header" names the title of a section, a card or an accordion panel
// ("accordion__header", "header-3"), and such a title is policy text. The
// page's own header is link-heavy (menus, logo links) or long (a banner), and
// <header>, <nav> and role=banner have gone already.
func boilerplateByName(n *html.Node, st *stats) nameVerdict {
	switch n.DataAtom {
	case atom.Html, atom.Body, atom.Main, atom.Article:
		return notNamed
	}
	strong, weak, overlay, ok := false, false, false, false
	classWords(n, func(w []byte) {
		strong = strong || boilerStrongWords[string(w)]
		weak = weak || boilerWeakWords[string(w)]
		overlay = overlay || overlayWords[string(w)]
		ok = ok || okMaybeWords[string(w)]
	})
	switch {
	case overlay && !ok:
		return overlayNamed
	case strong:
		return chromeNamed
	case !weak || ok:
		return notNamed
	}
	if s := st.get(n); s.links*10 > s.text {
		return chromeNamed
	}
	return notNamed
}

// shortTitleChars is the most text a section title has.
const shortTitleChars = 150

// looksLikeContent guards the class/id rule: a wrapper named "has-sidebar" or
// "page-header-offset" that holds most of the page's prose is the page, not chrome.
func (st *stats) looksLikeContent(n *html.Node, total int) bool {
	s := st.get(n)
	if total == 0 || s.text*2 < total {
		return false
	}
	if float64(s.links) > 0.3*float64(s.text) {
		return false
	}
	return s.long >= 3
}

// nodeStats is what extraction knows about one element (or the document).
type nodeStats struct {
	text   int  // characters of collapsed text under the node
	links  int  // of which inside <a href>
	commas int  // commas in that text
	long   int  // p, li, td and div elements strictly under the node with over 80 characters of text
	block  bool // the node or something under it is a block element
	scored bool // the node is a Readability candidate
	score  float64
	prose  int // characters of prose paragraphs under the node
}

// stats holds per-node measures, computed in one bottom-up walk. The records
// live in slabs so that a page of a hundred thousand elements costs a few
// allocations and one map.
type stats struct {
	m    map[*html.Node]*nodeStats
	slab []nodeStats
	none nodeStats // returned for nodes that were not measured
}

func newStats(root *html.Node) *stats {
	st := &stats{m: make(map[*html.Node]*nodeStats, 256)}
	st.walk(root, false)
	return st
}

// get returns the stats of n; nodes outside the measured tree get zeros.
func (st *stats) get(n *html.Node) *nodeStats {
	if s, ok := st.m[n]; ok {
		return s
	}
	st.none = nodeStats{}
	return &st.none
}

func (st *stats) alloc(n *html.Node) *nodeStats {
	if len(st.slab) == cap(st.slab) {
		st.slab = make([]nodeStats, 0, max(256, len(st.m)/2))
	}
	st.slab = st.slab[:len(st.slab)+1]
	s := &st.slab[len(st.slab)-1]
	st.m[n] = s
	return s
}

func (st *stats) walk(n *html.Node, inLink bool) *nodeStats {
	s := st.alloc(n)
	if n.Type == html.ElementNode && isBlockTag(n.DataAtom) {
		s.block = true
	}
	if n.DataAtom == atom.A && n.Type == html.ElementNode && hasAttr(n, "href") {
		inLink = true
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch c.Type {
		case html.TextNode:
			l := textLen(c.Data)
			s.text += l
			if inLink {
				s.links += l
			}

			s.commas += strings.Count(c.Data, ",")
		case html.ElementNode, html.DocumentNode:
			cs := st.walk(c, inLink)
			s.text += cs.text
			s.links += cs.links

			s.commas += cs.commas
			s.long += cs.long
			s.block = s.block || cs.block
			switch c.DataAtom {
			case atom.P, atom.Li, atom.Td, atom.Div:
				if cs.text > 80 {
					s.long++
				}
			}
		}
	}
	return s
}

// textLen is the length a text node adds to its element's text: its collapsed
// length, plus one for a space that separates it from its neighbours.
func textLen(s string) int {
	l, space, started := 0, false, false
	for i := 0; i < len(s); i++ {
		if isHTMLSpace(s[i]) {
			space = true
			continue
		}
		if space && started {
			l++
		}
		space, started = false, true
		l++
	}
	if l > 0 && (s[0] == ' ' || s[len(s)-1] == ' ') {
		l++
	}
	return l
}

func (st *stats) linkDensity(n *html.Node) float64 {
	s := st.get(n)
	if s.text == 0 {
		return 0
	}
	return float64(s.links) / float64(s.text)
}

func isBlockTag(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Section, atom.Article, atom.Main, atom.Ul, atom.Ol, atom.Li, atom.Dl, atom.Dt, atom.Dd,
		atom.Table, atom.Tr, atom.Td, atom.Th, atom.Tbody, atom.Thead, atom.Tfoot, atom.Caption,
		atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Blockquote, atom.Pre, atom.Hr,
		atom.Form, atom.Fieldset, atom.Address, atom.Center, atom.Figure, atom.Figcaption, atom.Header,
		atom.Footer, atom.Nav, atom.Aside, atom.Body, atom.Html, atom.Details, atom.Summary, atom.Menu:
		return true
	}
	return false
}

func isInlineTag(a atom.Atom) bool {
	switch a {
	case atom.A, atom.B, atom.I, atom.U, atom.Em, atom.Strong, atom.Span, atom.Font, atom.Small, atom.Big,
		atom.Sup, atom.Sub, atom.Code, atom.Br, atom.Abbr, atom.Acronym, atom.Cite, atom.Q, atom.S,
		atom.Strike, atom.Del, atom.Ins, atom.Mark, atom.Tt, atom.Time, atom.Nobr, atom.Label, atom.Img, atom.Wbr:
		return true
	}
	return false
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

var (
	positiveHints = []string{"article", "body", "content", "entry", "hentry", "h-entry", "main", "page", "post",
		"text", "blog", "story", "policy", "privacy", "terms", "legal"}
	negativeHints = []string{"hidden", "banner", "combx", "comment", "com-", "contact", "foot", "footer", "footnote",
		"gdpr", "masthead", "media", "meta", "outbrain", "promo", "related", "scroll", "share", "shoutbox", "sidebar",
		"skyscraper", "sponsor", "shopping", "tags", "tool", "widget", "menu", "nav"}
)

// containsAny reports whether s contains any of the words (as substrings, the
// way Readability's regular expressions match class names).
func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// classWeight is Readability's hint from class and id names.
func classWeight(n *html.Node) float64 {
	w := 0.0
	for _, key := range []string{"class", "id"} {
		v := attr(n, key)
		if v == "" {
			continue
		}
		v = strings.ToLower(v)
		if containsAny(v, negativeHints) {
			w -= 25
		}
		if containsAny(v, positiveHints) || hasWord(v, "tos") {
			w += 25
		}
	}
	if n.DataAtom == atom.Main || n.DataAtom == atom.Article || attr(n, "role") == "main" {
		w += 25
	}
	return w
}

// hasWord reports whether w occurs in s followed by a non-word character or
// the end (Readability's "tos\b").
func hasWord(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		k := i + j + len(w)
		if k == len(s) || !isWordByte(s[k]) {
			return true
		}
		i = k
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func tagWeight(n *html.Node) float64 {
	switch n.DataAtom {
	case atom.Div, atom.Section, atom.Article, atom.Main:
		return 5
	case atom.Pre, atom.Td, atom.Blockquote:
		return 3
	case atom.Address, atom.Ol, atom.Ul, atom.Dl, atom.Dd, atom.Dt, atom.Li, atom.Form:
		return -3
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Th:
		return -5
	}
	return 0
}

// inlineRun is one virtual paragraph: its characters, commas and link
// characters, and the number of lines (<br>-separated) it is written in.
type inlineRun struct{ chars, commas, links, lines int }

// isShortLines reports whether a run is a stack of short lines (a price box,
// an address, a menu written with <br>s) rather than sentences.
func (r inlineRun) isShortLines() bool { return r.lines > 1 && r.chars < shortLineChars*r.lines }

// shortLineChars is the average line length below which <br>-separated lines
// are a list of items, not prose.
const shortLineChars = 40

// inlineRuns splits n's own inline content into the "virtual paragraphs" that
// Readability makes of a <td> or <div> holding text between <br>s instead of
// <p>s, as the table-layout pages of the 2000s do: a run ends at a block child
// or at two <br>s in a row.
func (st *stats) inlineRuns(n *html.Node, f func(inlineRun)) {
	var cur inlineRun
	brs := 0
	line := func() { // text arrives: count a line if it starts one
		if brs > 0 || cur.lines == 0 {
			cur.lines++
		}
		brs = 0
	}
	end := func() {
		if cur.chars > 0 {
			f(cur)
		}
		cur = inlineRun{}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.TextNode:
			l := textLen(c.Data)
			if l == 0 {
				continue
			}
			if c.Data[0] == ' ' || c.Data[len(c.Data)-1] == ' ' {
				l-- // the run counts the text itself, not its separating space
			}
			line()
			cur.chars += l
			cur.commas += strings.Count(c.Data, ",")
		case c.Type != html.ElementNode:
		case c.DataAtom == atom.Br:
			brs++
			if brs >= 2 {
				end()
			}
		case isInlineTag(c.DataAtom) && !st.get(c).block:
			cs := st.get(c)
			if cs.text > 0 {
				line()
			}
			cur.chars += cs.text
			cur.links += cs.links
			cur.commas += cs.commas
		default:
			end()
		}
	}
	end()
}

// selectContent picks the main content with Readability's algorithm: score
// paragraphs, credit their ancestors, take the best ancestor after a
// link-density penalty, then add the siblings that belong with it.
func selectContent(body *html.Node, st *stats) []*html.Node {
	var candidates []*html.Node
	credit := func(n *html.Node, s float64) {
		if n == nil || n.Type != html.ElementNode {
			return
		}
		ns := st.get(n)
		if !ns.scored {
			ns.scored = true
			ns.score = tagWeight(n) + classWeight(n)
			candidates = append(candidates, n)
		}
		ns.score += s
	}
	// creditAncestors gives a paragraph's score to its container, half to the
	// next one up and a third or less further up, as Readability does.
	creditAncestors := func(anc *html.Node, s float64) {
		if s == 0 {
			return
		}
		for level := 0; anc != nil && level < 5; anc, level = anc.Parent, level+1 {
			div := 1.0
			switch {
			case level == 1:
				div = 2
			case level > 1:
				div = float64(level * 3)
			}
			credit(anc, s/div)
			if anc == body {
				break
			}
		}
	}
	// addProse counts a paragraph of real prose (long enough, few links) towards
	// every enclosing element, for the climbing rule below.
	addProse := func(n *html.Node, chars, links int) {
		heading := headingLevel(n) > 0
		if (chars < 25 && !heading) || links*10 >= chars*3 {
			return
		}
		for ; n != nil; n = n.Parent {
			st.get(n).prose += chars
		}
	}
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			cs := st.get(c)
			switch c.DataAtom {
			case atom.P, atom.Pre, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
				creditAncestors(c.Parent, paragraphScore(cs.text, cs.commas))
				addProse(c, cs.text, cs.links)
			case atom.H1:
				addProse(c, cs.text, cs.links)
			case atom.Li, atom.Dd:
				if !cs.block {
					creditAncestors(c.Parent, paragraphScore(cs.text, cs.commas))
					addProse(c, cs.text, cs.links)
					break
				}
				st.inlineRuns(c, func(run inlineRun) {
					creditAncestors(c.Parent, paragraphScore(run.chars, run.commas))
					if !run.isShortLines() {
						addProse(c, run.chars, run.links)
					}
				})
			case atom.Div, atom.Td, atom.Th, atom.Section, atom.Article, atom.Main, atom.Center, atom.Form,
				atom.Blockquote, atom.Body:
				st.inlineRuns(c, func(run inlineRun) {
					creditAncestors(c, paragraphScore(run.chars, run.commas))
					if !run.isShortLines() {
						addProse(c, run.chars, run.links)
					}
				})
			}
			visit(c)
		}
	}
	visit(body)

	var top *html.Node
	best := 0.0
	for _, c := range candidates {
		cs := st.get(c)
		s := cs.score * (1 - st.linkDensity(c))
		cs.score = s
		if top == nil || s > best {
			top, best = c, s
		}
	}
	if top == nil || best < 5 || top == body {
		return []*html.Node{body}
	}

	for top.Parent != nil && top.Parent != body && elementChildren(top.Parent) == 1 {
		top = top.Parent
	}
	top = climb(top, body, st)
	if top.Parent == nil {
		return []*html.Node{top}
	}
	content := siblingsOf(top, st)
	if len(content) == 1 && content[0].Type == html.ElementNode {
		content[0] = descend(content[0], st)
	}
	return content
}

// descend narrows the choice to the child that holds nine tenths of its prose
// when the rest is sizeable and not prose: a wrapper whose class says "main"
// can win on its name alone and bring the price boxes or feature lists laid
// out beside the policy.
func descend(top *html.Node, st *stats) *html.Node {
	for {
		ts := st.get(top)
		var best *html.Node
		for c := top.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && (best == nil || st.get(c).prose > st.get(best).prose) {
				best = c
			}
		}
		if best == nil {
			return top
		}
		bs := st.get(best)
		if bs.prose*10 < ts.prose*9 || (ts.text-bs.text)*10 < ts.text {
			return top
		}
		top = best
	}
}

// climb widens the choice to enclosing elements whose extra text is prose
// too. Modern CMS pages cut one policy into many sections and columns, each a
// Readability candidate of its own; the sibling rule only reaches one level, so
// we go up as long as what an ancestor adds reads like the policy (mostly
// paragraphs, few links) and stop at the first ancestor that adds chrome.
//
// What an ancestor adds is judged against what we have too: a title, a
// "Download the app" button or a date line beside the policy is a few dozen
// characters that are not prose, and stopping there would lose the other
// sections of a policy cut into several wrappers.
func climb(top, body *html.Node, st *stats) *html.Node {
	for p := top.Parent; p != nil && p != body; p = p.Parent {
		ps, ts := st.get(p), st.get(top)
		extraText := ps.text - ts.text
		extraLinks := ps.links - ts.links
		extraProse := ps.prose - ts.prose
		fewWords := (extraText-extraProse)*climbSlack < ts.text // a title, a button, a date line
		fewLinks := extraLinks*climbSlack*4 < ts.text           // a link or two, not a menu
		if extraText > 0 && (extraProse*2 < extraText && !fewWords || extraLinks*10 >= extraText*3 && !fewLinks) {
			break
		}
		top = p
	}
	return top
}

// climbSlack sets how much non-prose an ancestor may add, as a fraction
// (1/climbSlack) of the text already chosen, and still be climbed to.
const climbSlack = 40

func headingLevel(n *html.Node) int {
	switch n.DataAtom {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		return int(n.Data[1] - '0')
	}
	return 0
}

func elementChildren(n *html.Node) int {
	k := 0
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode {
			k++
		} else if c.Type == html.TextNode && strings.TrimSpace(c.Data) != "" {
			k++
		}
	}
	return k
}

// siblingsOf applies Readability's sibling rule, extended with headings: a
// heading block right before included content is its title, and policy pages
// often put each section heading in its own wrapper.
func siblingsOf(top *html.Node, st *stats) []*html.Node {
	topScore := st.get(top).score
	threshold := math.Max(10, topScore*0.2)
	topClass := attr(top, "class")
	var sibs []*html.Node
	var keep []bool
	for c := top.Parent.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode && strings.TrimSpace(c.Data) == "" {
			continue
		}
		if c.Type != html.ElementNode && c.Type != html.TextNode {
			continue
		}
		in := c == top
		if !in && c.Type == html.ElementNode {
			bonus := 0.0
			if topClass != "" && attr(c, "class") == topClass {
				bonus = topScore * 0.2
			}
			if cs := st.get(c); cs.scored && cs.score+bonus >= threshold {
				in = true
			} else if isParagraphLike(c, st) {
				l, ld := cs.text, st.linkDensity(c)
				in = (l > 80 && ld < 0.25) || (l > 0 && l <= 80 && ld == 0 && endsSentence(collapseSpace(flatText(c))))
			}
		}
		sibs = append(sibs, c)
		keep = append(keep, in)
	}
	// Headings directly before kept content belong to it.
	for i := len(sibs) - 2; i >= 0; i-- {
		if !keep[i] && keep[i+1] && isHeadingBlock(sibs[i], st) {
			keep[i] = true
		}
	}
	var out []*html.Node
	for i, c := range sibs {
		if keep[i] {
			out = append(out, c)
		}
	}
	return out
}

// endsSentence reports whether collapsed text ends like a sentence or clause.
func endsSentence(t string) bool {
	if t == "" {
		return false
	}
	switch t[len(t)-1] {
	case '.', '!', '?', ':', ';', ')':
		return true
	}
	return false
}

// isParagraphLike is Readability's "P" test, widened to wrappers that hold only
// inline content, which is how many pages write paragraphs.
func isParagraphLike(n *html.Node, st *stats) bool {
	switch n.DataAtom {
	case atom.P, atom.Blockquote, atom.Pre:
		return true
	case atom.Div, atom.Section, atom.Span, atom.Font, atom.Center:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && (st.get(c).block && c.DataAtom != atom.P) {
				return false
			}
		}
		return true
	}
	return false
}

// isHeadingBlock reports whether n is a heading or a wrapper whose text is all in
// headings.
func isHeadingBlock(n *html.Node, st *stats) bool {
	if n.Type != html.ElementNode || st.get(n).text == 0 || st.linkDensity(n) > 0.5 {
		return false
	}
	if headingLevel(n) > 0 {
		return true
	}
	inHeadings := headingText(n, st)
	return inHeadings > 0 && inHeadings*10 >= st.get(n).text*9
}

// headingText sums the text of the headings under n.
func headingText(n *html.Node, st *stats) int {
	t := 0
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		if headingLevel(c) > 0 {
			t += st.get(c).text
			continue
		}
		t += headingText(c, st)
	}
	return t
}

// paragraphScore is Readability's paragraph score: one point, one per comma,
// one per hundred characters up to three. Short fragments score nothing.
func paragraphScore(chars, commas int) float64 {
	if chars < 25 {
		return 0
	}
	return 1 + float64(commas) + math.Min(float64(chars/100), 3)
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// collapseSpace collapses HTML whitespace runs to one space and trims; other
// spaces (U+00A0) stay inside the text, as they do in a browser, but not at
// its edges. Text that is already
// collapsed is returned as it is, without copying.
func collapseSpace(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' ') {
			clean = false
			break
		}
	}
	if clean {
		return strings.TrimSpace(s) // U+00A0 and other Unicode spaces at the edges
	}
	var w spaceWriter
	w.b.Grow(len(s))
	w.write(s)
	return w.String()
}

// spaceWriter builds collapsed text from pieces: whitespace runs, also across
// pieces, become one space, and the result is trimmed.
type spaceWriter struct {
	b     strings.Builder
	space bool // whitespace is pending
}

func (w *spaceWriter) write(s string) {
	start := -1
	for i := 0; i < len(s); i++ {
		if !isHTMLSpace(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			w.word(s[start:i])
			start = -1
		}
		w.space = true
	}
	if start >= 0 {
		w.word(s[start:])
	}
}

func (w *spaceWriter) word(s string) {
	if w.space && w.b.Len() > 0 {
		w.b.WriteByte(' ')
	}
	w.space = false
	w.b.WriteString(s)
}

// String returns the text, also trimmed of Unicode spaces (U+00A0) at its
// edges, as strings.TrimSpace would.
func (w *spaceWriter) String() string { return strings.TrimSpace(w.b.String()) }
