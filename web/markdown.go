package web

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// linkRel is set on every link that comes from archived text: the dashboard
// vouches for none of them, must not give the opened page a handle on the
// dashboard's window, and must not tell it who reads the policy.
const linkRel = "nofollow noopener noreferrer"

// renderPolicy renders a version's Markdown body as HTML for the version
// page. The text is archived from a site policywatch does not control, so
// it is treated as hostile: raw HTML is shown as text (a reader sees what
// the page said, and no tag reaches the browser), only http, https and
// mailto links survive, images are never loaded but shown as a link to
// their address, and headings are renumbered to sit under the page's own
// h1. The result is the only HTML the pages take from outside their
// templates, which is why it is built this narrowly.
func renderPolicy(body string) (template.HTML, error) {
	md := goldmark.New(
		goldmark.WithExtensions(
			// Tables and strikethrough carry meaning in policies and produce
			// no attribute from the text; alignment is an attribute, not an
			// inline style, which the Content-Security-Policy would block.
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
			extension.Strikethrough,
		),
		goldmark.WithParserOptions(
			parser.WithASTTransformers(util.Prioritized(policyTransformer{}, 100)),
		),
		goldmark.WithRendererOptions(
			renderer.WithNodeRenderers(util.Prioritized(rawHTMLAsText{}, 100)),
		),
	)
	var b bytes.Buffer
	if err := md.Convert([]byte(stripControls(body)), &b); err != nil {
		return "", fmt.Errorf("render policy markdown: %w", err)
	}
	// The renderer's output: raw HTML escaped, attributes escaped and
	// filtered by goldmark, link targets checked by policyTransformer.
	return template.HTML(b.String()), nil
}

// stripControls drops the control characters a browser would not show but
// a copy-paste would carry (terminal escapes, bidirectional overrides that
// make text read in another order than it is stored). Newlines and tabs
// stay: they are Markdown's structure. Invalid UTF-8 becomes U+FFFD.
func stripControls(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r < 0x20 || (r >= 0x7f && r <= 0x9f):
			return -1
		case (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			return -1
		}
		return r
	}, s)
}

// allowedHref reports whether a link target from archived text may become
// an href: an absolute http(s) URL with a host, or a mailto address.
// Everything else (javascript:, data:, vbscript:, file:, relative paths that
// would point into the dashboard, protocol-relative //host) is dropped.
func allowedHref(dest string) bool {
	if dest == "" || strings.ContainsAny(dest, "\x00\t\n\r \"'<>`\\") {
		return false
	}
	u, err := url.Parse(dest)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != "" && u.Opaque == ""
	case "mailto":
		return u.Opaque != ""
	}
	return false
}

// policyTransformer enforces the link and image rules on the parsed
// document and renumbers its headings. goldmark already blanks a few
// dangerous schemes; an allowlist is the rule here, so that a scheme
// goldmark does not know cannot slip through.
type policyTransformer struct{}

func (policyTransformer) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	source := reader.Source()
	var (
		headings []*ast.Heading
		links    []*ast.Link
		autos    []*ast.AutoLink
		images   []*ast.Image
	)
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			headings = append(headings, n)
		case *ast.Link:
			links = append(links, n)
		case *ast.AutoLink:
			autos = append(autos, n)
		case *ast.Image:
			images = append(images, n)
		}
		return ast.WalkContinue, nil
	})
	// Images first: one inside a link becomes plain text, and the link is
	// then checked like any other.
	for _, img := range images {
		label := "[image: " + plainText(img, source) + "]"
		var repl ast.Node = ast.NewString([]byte(label))
		if dest := string(img.Destination); allowedHref(dest) && !strings.HasPrefix(strings.ToLower(dest), "mailto:") && !insideLink(img) {
			l := ast.NewLink()
			l.Destination = img.Destination
			l.AppendChild(l, repl)
			l.SetAttributeString("rel", []byte(linkRel))
			l.SetAttributeString("class", []byte("image-link"))
			repl = l
		}
		img.Parent().ReplaceChild(img.Parent(), img, repl)
	}
	for _, l := range links {
		if !allowedHref(string(l.Destination)) {
			unwrap(l)
			continue
		}
		l.SetAttributeString("rel", []byte(linkRel))
	}
	for _, a := range autos {
		dest := string(a.URL(source))
		if a.AutoLinkType == ast.AutoLinkEmail && !strings.HasPrefix(strings.ToLower(dest), "mailto:") {
			dest = "mailto:" + dest
		}
		if !allowedHref(dest) {
			a.Parent().ReplaceChild(a.Parent(), a, ast.NewString(a.Label(source)))
			continue
		}
		a.SetAttributeString("rel", []byte(linkRel))
	}
	renumberHeadings(headings)
}

// renumberHeadings maps the levels the text uses, in order, to h2, h3, …:
// the page's h1 is the version's title, and an archived page that jumps
// from h1 to h4 should not make the dashboard's outline skip levels.
func renumberHeadings(hs []*ast.Heading) {
	var levels []int
	for _, h := range hs {
		if !slices.Contains(levels, h.Level) {
			levels = append(levels, h.Level)
		}
	}
	slices.Sort(levels)
	for _, h := range hs {
		h.Level = min(6, 2+slices.Index(levels, h.Level))
	}
}

// insideLink reports whether n sits inside a link: a link in a link is not
// valid HTML, so an image there is only named.
func insideLink(n ast.Node) bool {
	for p := n.Parent(); p != nil; p = p.Parent() {
		if _, ok := p.(*ast.Link); ok {
			return true
		}
	}
	return false
}

// unwrap replaces a link by its content, so that its words stay readable.
func unwrap(l *ast.Link) {
	parent := l.Parent()
	for c := l.FirstChild(); c != nil; {
		next := c.NextSibling()
		parent.InsertBefore(parent, l, c)
		c = next
	}
	parent.RemoveChild(parent, l)
}

// plainText returns the text inside n as written in the source (escapes
// and entities are resolved when it is rendered).
func plainText(n ast.Node, source []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(source))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.AutoLink:
			b.Write(c.Label(source))
		case *ast.RawHTML:
			for i := 0; i < c.Segments.Len(); i++ {
				seg := c.Segments.At(i)
				b.Write(seg.Value(source))
			}
		}
		return ast.WalkContinue, nil
	})
	if !utf8.ValidString(b.String()) {
		return strings.ToValidUTF8(b.String(), "\uFFFD")
	}
	return b.String()
}

// rawHTMLAsText renders the HTML an archived text contains as visible text
// instead of omitting it: "<script>…</script>" in a policy is something the
// page said (often an extraction artefact a reader should see), and escaped
// it cannot run.
type rawHTMLAsText struct{}

func (rawHTMLAsText) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindRawHTML, renderRawHTML)
	reg.Register(ast.KindHTMLBlock, renderHTMLBlock)
}

func renderRawHTML(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkSkipChildren, nil
	}
	n := node.(*ast.RawHTML)
	for i := 0; i < n.Segments.Len(); i++ {
		seg := n.Segments.At(i)
		_, _ = w.WriteString(html.EscapeString(string(seg.Value(source))))
	}
	return ast.WalkSkipChildren, nil
}

func renderHTMLBlock(w util.BufWriter, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	n := node.(*ast.HTMLBlock)
	var b strings.Builder
	for i := 0; i < n.Lines().Len(); i++ {
		line := n.Lines().At(i)
		b.Write(line.Value(source))
	}
	if n.HasClosure() {
		b.Write(n.ClosureLine.Value(source))
	}
	_, _ = w.WriteString(`<p class="raw-html">`)
	_, _ = w.WriteString(html.EscapeString(strings.TrimRight(b.String(), "\n")))
	_, _ = w.WriteString("</p>\n")
	return ast.WalkContinue, nil
}

// Compile-time checks that the hooks fit goldmark's interfaces.
var (
	_ parser.ASTTransformer = policyTransformer{}
	_ renderer.NodeRenderer = rawHTMLAsText{}
)
