package snapshot

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
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
	text, cs, err := Decode(raw, src.ContentType)
	if err != nil {
		doc.Quality = Quality{VerdictUnsupported, err.Error()}
		return doc, nil
	}
	doc.Charset = cs

	var pageText string // all visible text, for the quality verdict and date fallback
	if isPlainText(src.ContentType, text) {
		doc.Title, doc.Body = extractPlain(text, src)
		pageText = doc.Body
	} else {
		pageText = extractHTML(doc, text, src, opts)
	}

	doc.StatedDate, doc.StatedDateText = FindStatedDate(plainOfMarkdown(doc.Body))
	if doc.StatedDate == "" {
		doc.StatedDate, doc.StatedDateText = FindStatedDate(pageText)
	}
	doc.Quality = judge(doc, pageText)
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
func extractHTML(doc *Document, text string, src Source, opts Options) string {
	root, err := html.Parse(strings.NewReader(text))
	if err != nil { // html.Parse only fails on reader errors; keep the text anyway
		doc.Body = text
		return text
	}
	limitDepth(root, maxTreeDepth)
	gq := goquery.NewDocumentFromNode(root)

	doc.Title = collapseSpace(gq.Find("head title").First().Text())
	if doc.Title == "" {
		doc.Title = collapseSpace(gq.Find("title").Not("svg title").First().Text())
	}
	base, _ := parseAbsURL(src.URL)
	if href, ok := gq.Find("base[href]").First().Attr("href"); ok {
		if b, err := base.Parse(strings.TrimSpace(href)); err == nil && b.IsAbs() {
			base = b
		}
	}

	gq.Find("script, style, noscript, template, link, meta").Remove()
	body := gq.Find("body").First()
	if body.Length() == 0 {
		body = gq.Selection
	}
	pageText := collapseSpace(body.Text())

	var content []*html.Node
	var st *stats
	if opts.empty() {
		removeBoilerplate(gq)
		st = newStats(root)
		content = selectContent(body.Nodes[0], st)
	} else {
		content = applyOptions(gq, opts)
		st = newStats(root)
	}

	if doc.Title == "" {
		for _, n := range content {
			if h := goquery.NewDocumentFromNode(n).Find("h1").First(); h.Length() > 0 {
				doc.Title = collapseSpace(h.Text())
				break
			}
		}
	}
	r := newRenderer(base, src.Timestamp, st)
	r.skipH1 = doc.Title
	doc.Body = r.render(content)
	return pageText
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
		"testimonial", "testimonials", "newsletter", "popup", "modal", "share", "sharing", "sharethis",
		"social", "comment", "comments", "disqus", "respond", "advert", "advertisement", "ads", "adsense",
		"signup", "subscribe", "skip", "skiplink", "lightbox", "offcanvas",
		// CSS utility classes that hide an element (Bootstrap's "hide", "hidden",
		// "invisible"): promotional bars and closed pop-ups that no reader sees.
		"hide", "hidden", "invisible")
	// boilerWeakWords are boilerplate unless the same class/id also says content.
	boilerWeakWords = wordSet("header", "banner", "related", "review", "reviews", "ad", "widget", "promo",
		"masthead", "toolbar", "topbar", "sponsor", "sponsored", "login", "search", "share", "tags")
	okMaybeWords = wordSet("content", "main", "article", "body", "policy", "privacy", "terms", "legal",
		"entry", "post", "text", "story", "page")

	displayNoneRe = regexp.MustCompile(`(?i)display\s*:\s*none|visibility\s*:\s*hidden`)
	camelRe       = regexp.MustCompile(`([a-z])([A-Z])`)
	splitWordsRe  = regexp.MustCompile(`[^a-z0-9]+`)
)

func wordSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// classWords splits class and id into lower-case words ("f-footer__item",
// "cookieBanner" → f footer item cookie banner) so that "preview" is not "review".
func classWords(n *html.Node) []string {
	var s string
	for _, a := range n.Attr {
		if a.Key == "class" || a.Key == "id" {
			s += " " + camelRe.ReplaceAllString(a.Val, "$1 $2")
		}
	}
	return splitWordsRe.Split(strings.ToLower(s), -1)
}

// removeBoilerplate drops what is never policy text: page chrome, form
// controls, hidden elements and widgets named as such in class or id.
func removeBoilerplate(gq *goquery.Document) {
	gq.Find("svg, iframe, object, embed, canvas, video, audio, map, input, select, button, textarea, " +
		"option, label, nav, aside, footer, dialog, [hidden], [aria-modal=true]").Remove()
	gq.Find("header").Each(func(_ int, s *goquery.Selection) {
		if s.Closest("article, main, [role=main]").Length() == 0 {
			s.Remove()
		}
	})
	gq.Find("[style]").Each(func(_ int, s *goquery.Selection) {
		if st, _ := s.Attr("style"); displayNoneRe.MatchString(st) {
			s.Remove()
		}
	})
	gq.Find("[role=navigation], [role=banner], [role=contentinfo], [role=complementary], [role=search]").Remove()

	body := gq.Find("body").First()
	total := len(collapseSpace(body.Text()))
	var drop []*html.Node
	body.Find("*").Each(func(_ int, s *goquery.Selection) {
		n := s.Nodes[0]
		switch n.DataAtom {
		case atom.Html, atom.Body, atom.Main, atom.Article:
			return
		}
		strong, weak, ok := false, false, false
		for _, w := range classWords(n) {
			strong = strong || boilerStrongWords[w]
			weak = weak || boilerWeakWords[w]
			ok = ok || okMaybeWords[w]
		}
		if !strong && !(weak && !ok) {
			return
		}
		if looksLikeContent(s, total) {
			return
		}
		drop = append(drop, n)
	})
	for _, n := range drop {
		if n.Parent != nil {
			n.Parent.RemoveChild(n)
		}
	}
}

// looksLikeContent guards the class/id rule: a wrapper named "has-sidebar" or
// "page-header-offset" that holds most of the page's prose is the page, not chrome.
func looksLikeContent(s *goquery.Selection, total int) bool {
	t := collapseSpace(s.Text())
	if total == 0 || len(t)*2 < total {
		return false
	}
	links := 0
	s.Find("a").Each(func(_ int, a *goquery.Selection) { links += len(collapseSpace(a.Text())) })
	if float64(links) > 0.3*float64(len(t)) {
		return false
	}
	prose := 0
	s.Find("p, li, td, div").Each(func(_ int, p *goquery.Selection) {
		if len(collapseSpace(p.Text())) > 80 {
			prose++
		}
	})
	return prose >= 3
}

// stats holds per-node text and link-text lengths, computed once.
type stats struct {
	text  map[*html.Node]int // characters of collapsed text under the node
	links map[*html.Node]int // of which inside <a href>
	block map[*html.Node]bool
	score map[*html.Node]float64
	prose map[*html.Node]int // characters of prose paragraphs under the node
}

func newStats(root *html.Node) *stats {
	st := &stats{text: map[*html.Node]int{}, links: map[*html.Node]int{}, block: map[*html.Node]bool{}, score: map[*html.Node]float64{}, prose: map[*html.Node]int{}}
	st.walk(root, false)
	return st
}

func (st *stats) walk(n *html.Node, inLink bool) (text, links int, block bool) {
	switch n.Type {
	case html.TextNode:
		l := len(collapseSpace(n.Data))
		if l > 0 && (strings.HasPrefix(n.Data, " ") || strings.HasSuffix(n.Data, " ")) {
			l++
		}
		if inLink {
			return l, l, false
		}
		return l, 0, false
	case html.ElementNode, html.DocumentNode:
	default:
		return 0, 0, false
	}
	if n.Type == html.ElementNode && isBlockTag(n.DataAtom) {
		block = true
	}
	if n.DataAtom == atom.A && hasAttr(n, "href") {
		inLink = true
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		t, l, b := st.walk(c, inLink)
		text += t
		links += l
		block = block || b
	}
	st.text[n], st.links[n] = text, links
	if block {
		st.block[n] = true
	}
	return text, links, block
}

func (st *stats) linkDensity(n *html.Node) float64 {
	if st.text[n] == 0 {
		return 0
	}
	return float64(st.links[n]) / float64(st.text[n])
}

// hasBlockInside reports whether n or anything under it is a block element.
func (st *stats) hasBlockInside(n *html.Node) bool { return st.block[n] }

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
	positiveHintRe = regexp.MustCompile(`(?i)article|body|content|entry|hentry|h-entry|main|page|post|text|blog|story|policy|privacy|terms|legal|tos\b`)
	negativeHintRe = regexp.MustCompile(`(?i)hidden|banner|combx|comment|com-|contact|foot|footer|footnote|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|tool|widget|menu|nav`)
)

// classWeight is Readability's hint from class and id names.
func classWeight(n *html.Node) float64 {
	w := 0.0
	for _, key := range []string{"class", "id"} {
		v := attr(n, key)
		if v == "" {
			continue
		}
		if negativeHintRe.MatchString(v) {
			w -= 25
		}
		if positiveHintRe.MatchString(v) {
			w += 25
		}
	}
	if n.DataAtom == atom.Main || n.DataAtom == atom.Article || attr(n, "role") == "main" {
		w += 25
	}
	return w
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

// directInlineText is the text of n's own inline children.
func (st *stats) directInlineText(n *html.Node) int {
	l := 0
	for _, r := range st.inlineRuns(n) {
		l += r.chars
	}
	return l
}

type inlineRun struct{ chars, commas, links int }

// inlineRuns splits n's own inline content into the "virtual paragraphs" that
// Readability makes of a <td> or <div> holding text between <br>s instead of
// <p>s, as the table-layout pages of the 2000s do: a run ends at a block child
// or at two <br>s in a row.
func (st *stats) inlineRuns(n *html.Node) []inlineRun {
	var runs []inlineRun
	var cur inlineRun
	brs := 0
	end := func() {
		if cur.chars > 0 {
			runs = append(runs, cur)
		}
		cur = inlineRun{}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		switch {
		case c.Type == html.TextNode:
			t := collapseSpace(c.Data)
			if t == "" {
				continue
			}
			brs = 0
			cur.chars += len(t)
			cur.commas += strings.Count(t, ",")
		case c.Type != html.ElementNode:
		case c.DataAtom == atom.Br:
			brs++
			if brs >= 2 {
				end()
			}
		case isInlineTag(c.DataAtom) && !st.block[c]:
			if st.text[c] > 0 {
				brs = 0
			}
			cur.chars += st.text[c]
			cur.links += st.links[c]
			cur.commas += strings.Count(flatText(c), ",")
		default:
			end()
		}
	}
	end()
	return runs
}

// selectContent picks the main content with Readability's algorithm: score
// paragraphs, credit their ancestors, take the best ancestor after a
// link-density penalty, then add the siblings that belong with it.
func selectContent(body *html.Node, st *stats) []*html.Node {
	var candidates []*html.Node
	seen := map[*html.Node]bool{}
	credit := func(n *html.Node, s float64) {
		if n == nil || n.Type != html.ElementNode {
			return
		}
		if !seen[n] {
			seen[n] = true
			st.score[n] = tagWeight(n) + classWeight(n)
			candidates = append(candidates, n)
		}
		st.score[n] += s
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
			st.prose[n] += chars
		}
	}
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			switch c.DataAtom {
			case atom.P, atom.Pre, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
				creditAncestors(c.Parent, paragraphScore(st.text[c], strings.Count(flatText(c), ",")))
				addProse(c, st.text[c], st.links[c])
			case atom.H1:
				addProse(c, st.text[c], st.links[c])
			case atom.Li, atom.Dd:
				if !st.block[c] {
					creditAncestors(c.Parent, paragraphScore(st.text[c], strings.Count(flatText(c), ",")))
					addProse(c, st.text[c], st.links[c])
					break
				}
				for _, run := range st.inlineRuns(c) {
					creditAncestors(c.Parent, paragraphScore(run.chars, run.commas))
					addProse(c, run.chars, run.links)
				}
			case atom.Div, atom.Td, atom.Th, atom.Section, atom.Article, atom.Main, atom.Center, atom.Form,
				atom.Blockquote, atom.Body:
				for _, run := range st.inlineRuns(c) {
					creditAncestors(c, paragraphScore(run.chars, run.commas))
					addProse(c, run.chars, run.links)
				}
			}
			visit(c)
		}
	}
	visit(body)

	var top *html.Node
	best := 0.0
	for _, c := range candidates {
		s := st.score[c] * (1 - st.linkDensity(c))
		st.score[c] = s
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
	return siblingsOf(top, st)
}

// climb widens the choice to enclosing elements whose extra text is prose
// too. Modern CMS pages cut one policy into many sections and columns, each a
// Readability candidate of its own; the sibling rule only reaches one level, so
// we go up as long as what an ancestor adds reads like the policy (mostly
// paragraphs, few links) and stop at the first ancestor that adds chrome.
func climb(top, body *html.Node, st *stats) *html.Node {
	for p := top.Parent; p != nil && p != body; p = p.Parent {
		extraText := st.text[p] - st.text[top]
		extraLinks := st.links[p] - st.links[top]
		extraProse := st.prose[p] - st.prose[top]
		if extraText > 0 && (extraProse*2 < extraText || extraLinks*10 >= extraText*3) {
			break
		}
		top = p
	}
	return top
}

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

var sentenceEndRe = regexp.MustCompile(`[.!?:;)]\s*$`)

// siblingsOf applies Readability's sibling rule, extended with headings: a
// heading block right before included content is its title, and policy pages
// often put each section heading in its own wrapper.
func siblingsOf(top *html.Node, st *stats) []*html.Node {
	topScore := st.score[top]
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
			if s, ok := st.score[c]; ok && s+bonus >= threshold {
				in = true
			} else if isParagraphLike(c, st) {
				l, ld := st.text[c], st.linkDensity(c)
				t := collapseSpace(flatText(c))
				in = (l > 80 && ld < 0.25) || (l > 0 && l <= 80 && ld == 0 && sentenceEndRe.MatchString(t))
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

// isParagraphLike is Readability's "P" test, widened to wrappers that hold only
// inline content, which is how many pages write paragraphs.
func isParagraphLike(n *html.Node, st *stats) bool {
	switch n.DataAtom {
	case atom.P, atom.Blockquote, atom.Pre:
		return true
	case atom.Div, atom.Section, atom.Span, atom.Font, atom.Center:
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && (st.block[c] && c.DataAtom != atom.P) {
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
	if n.Type != html.ElementNode || st.text[n] == 0 || st.linkDensity(n) > 0.5 {
		return false
	}
	switch n.DataAtom {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		return true
	}
	inHeadings := 0
	goquery.NewDocumentFromNode(n).Find("h1, h2, h3, h4, h5, h6").Each(func(_ int, s *goquery.Selection) {
		inHeadings += st.text[s.Nodes[0]]
	})
	return inHeadings > 0 && inHeadings*10 >= st.text[n]*9
}

// paragraphScore is Readability's paragraph score: one point, one per comma,
// one per hundred characters up to three. Short fragments score nothing.
func paragraphScore(chars, commas int) float64 {
	if chars < 25 {
		return 0
	}
	return 1 + float64(commas) + math.Min(float64(chars/100), 3)
}

var spaceRe = regexp.MustCompile(`[ \t\n\r\f]+`)

// collapseSpace collapses HTML whitespace runs to one space and trims; other
// spaces (U+00A0) stay, as they do in a browser.
func collapseSpace(s string) string {
	return strings.TrimSpace(spaceRe.ReplaceAllString(s, " "))
}
