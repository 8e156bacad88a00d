package snapshot

import (
	"bytes"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// The budget of one document. Extract never fails, panics or hangs on the
// bytes it is given, and its time and memory are bounded by the document's
// budget rather than by what the bytes ask for:
//
//   - input: at most MaxInputBytes are decoded; the rest is cut, with a note
//     in Quality.Reason.
//   - DOM: a page that would build more than MaxNodes nodes is not parsed as
//     HTML; its plain text is extracted instead (a title and paragraphs), with
//     a note in Quality.Reason. The count is estimated in one streaming pass
//     before parsing, and it includes the nodes that the HTML parser would
//     clone for unclosed formatting elements, which from a few KiB of markup
//     can otherwise grow a tree of millions of nodes.
//   - depth: element nesting deeper than 256 is flattened to text.
//   - PDF: at most 2000 pages, 512 KiB of decompressed content per page and
//     16 MiB in all, 4 MiB of text (see pdf.go); any panic of the PDF reader is
//     recovered into a VerdictUnsupported reason.
//
// Within the budget a 16 MiB page is processed in seconds, not minutes.

// MaxInputBytes caps how much of a capture is decoded and parsed. Policies are a
// few hundred KiB at most; anything beyond this is a dump or an attack, and
// cutting it keeps memory and time bounded. Cut documents say so in their Reason.
const MaxInputBytes = 16 << 20

// MaxNodes caps the DOM nodes of one page. The largest real policies in the
// corpora build tens of thousands.
const MaxNodes = 500_000

// metaPrescanBytes is how far into the page we look for a <meta> charset. The
// HTML spec (and x/net) stop at 1024 bytes, but 2000s-era pages often put long
// scripts and styles before the meta tag, and browsers of the time found it anyway.
const metaPrescanBytes = 8192

var (
	metaCharsetRe = regexp.MustCompile(`(?is)<meta\s[^>]*?charset\s*=\s*["']?\s*([a-z0-9_.:\-]+)`)
	utf16LEBOM    = []byte{0xFF, 0xFE}
	utf16BEBOM    = []byte{0xFE, 0xFF}
	utf8BOM       = []byte{0xEF, 0xBB, 0xBF}
)

// Decode converts raw bytes to UTF-8. The byte-order mark wins (as in browsers:
// a BOM is proof, a header can be stale), then the Content-Type charset, then a
// <meta charset> or <meta http-equiv> in the first 8 KiB, and finally utf-8 when
// the bytes are valid UTF-8, else windows-1252 (the web's legacy default).
// iso-8859-1 and us-ascii are decoded as windows-1252, as browsers do, so the
// curly quotes and euro signs that such pages really contain come out right;
// gb2312 and gbk are decoded as gb18030 for the same reason. A utf-16 header
// without a BOM is checked against the bytes for its byte order.
// Invalid sequences become U+FFFD; the result is always valid UTF-8.
//
// Two kinds of capture come out as a small HTML document instead of their
// own text (see the budget below): a PDF, as its title and text (charset
// "pdf"; an unreadable or encrypted PDF is an error), and a page over the
// node budget, as its plain text.
func Decode(raw []byte, contentType string) (text, charsetName string, err error) {
	d, err := decode(raw, contentType)
	return d.text, d.charset, err
}

// decoded is Decode's result with the note extraction passes on to
// Quality.Reason: why a page was reduced to its text, or what of a PDF could
// not be read.
type decoded struct {
	text, charset, note string
}

func decode(raw []byte, contentType string) (decoded, error) {
	if isPDF(raw) {
		doc, note, err := pdfToHTML(raw)
		if err != nil {
			return decoded{charset: pdfCharset}, fmt.Errorf("decode pdf: %w", err)
		}
		return decoded{doc, pdfCharset, note}, nil
	}
	text, charsetName, err := decodeText(raw, contentType)
	if err != nil {
		return decoded{charset: charsetName}, err
	}
	d := decoded{text: text, charset: charsetName}
	if n := estimateNodes(text); n > MaxNodes {
		d.text = textOnlyHTML(text)
		d.note = fmt.Sprintf("page reduced to its plain text: about %d DOM nodes, over the budget of %d", n, MaxNodes)
	}
	return d, nil
}

func decodeText(raw []byte, contentType string) (text, charsetName string, err error) {
	enc, name, fromMeta := determineEncoding(raw, contentType)
	if fromMeta && name != "utf-8" && isLegacySingleByte(name) && hasMultibyteUTF8(raw) {
		// A page that says windows-1252 in its <meta> but is valid UTF-8 with
		// multi-byte sequences was re-saved by a UTF-8 tool and never updated its
		// meta. Mis-decoding it would turn every curly quote into mojibake.
		enc, name = encoding.Nop, "utf-8"
	}
	if fromMeta && strings.HasPrefix(name, "utf-16") {
		// The spec's rule: a meta tag readable as ASCII cannot be UTF-16.
		enc, name = encoding.Nop, "utf-8"
	}
	if fromMeta && name == "utf-8" && !utf8.Valid(raw) {
		// The reverse mistake: a meta that claims utf-8 on legacy bytes.
		enc, name = charmapWindows1252(), "windows-1252"
	}
	if name == "utf-8" {
		b := bytes.TrimPrefix(raw, utf8BOM)
		return strings.ToValidUTF8(string(b), "\uFFFD"), name, nil
	}
	if name == "gbk" {
		// WHATWG: the gbk decoder is the gb18030 decoder (its four-byte
		// sequences appear on pages labelled gb2312 and gbk).
		enc = simplifiedchinese.GB18030
	}
	out, err := enc.NewDecoder().Bytes(raw)
	if err != nil {
		return "", name, fmt.Errorf("decode %s: %w", name, err)
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), name, nil
}

// determineEncoding picks the encoding and reports whether it came only from a
// <meta> tag (which is wrong often enough to deserve a sanity check).
func determineEncoding(raw []byte, contentType string) (encoding.Encoding, string, bool) {
	switch {
	case bytes.HasPrefix(raw, utf8BOM):
		return encoding.Nop, "utf-8", false
	case bytes.HasPrefix(raw, utf16LEBOM):
		return unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), "utf-16le", false
	case bytes.HasPrefix(raw, utf16BEBOM):
		return unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), "utf-16be", false
	}
	if _, params, err := mime.ParseMediaType(contentType); err == nil {
		if e, name := lookupCharset(params["charset"]); e != nil {
			if strings.HasPrefix(name, "utf-16") {
				return utf16ByteOrder(raw, name)
			}
			return e, name, false
		}
	}
	head := raw
	if len(head) > metaPrescanBytes {
		head = head[:metaPrescanBytes]
	}
	// x/net's prescan follows the spec exactly (first 1024 bytes, comments
	// skipped, http-equiv handled); try it first, then a looser search further in.
	if e, name, _ := charset.DetermineEncoding(head, ""); isFromMeta(head, name) {
		if e2, n2 := lookupCharset(name); e2 != nil {
			return e2, n2, true
		}
		return e, name, true
	}
	if m := metaCharsetRe.FindSubmatch(head); m != nil {
		if e, name := lookupCharset(string(m[1])); e != nil {
			return e, name, true
		}
	}
	if utf8.Valid(raw) {
		return encoding.Nop, "utf-8", false
	}
	return charmapWindows1252(), "windows-1252", false
}

// isFromMeta reports whether x/net found name in a meta tag rather than guessing
// from the bytes: its guesses are only ever utf-8 or windows-1252, so for those
// we confirm that a meta tag in the first KiB really names a charset.
func isFromMeta(head []byte, name string) bool {
	if name != "utf-8" && name != "windows-1252" {
		return true
	}
	h := head
	if len(h) > 1024 {
		h = h[:1024]
	}
	return metaCharsetRe.Match(h)
}

// lookupCharset maps a charset label to an encoding and its canonical name,
// returning nil for labels no browser knows.
func lookupCharset(label string) (encoding.Encoding, string) {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	if label == "" {
		return nil, ""
	}
	e, err := htmlindex.Get(label)
	if err != nil {
		return nil, ""
	}
	name, err := htmlindex.Name(e)
	if err != nil {
		return nil, ""
	}
	if name == "utf-8" {
		return encoding.Nop, name
	}
	return e, name
}

func charmapWindows1252() encoding.Encoding {
	e, _ := htmlindex.Get("windows-1252")
	return e
}

func isLegacySingleByte(name string) bool {
	return name == "windows-1252" || strings.HasPrefix(name, "iso-8859-") || strings.HasPrefix(name, "windows-125")
}

// hasMultibyteUTF8 reports whether raw is valid UTF-8 and uses it, i.e. holds at
// least one multi-byte sequence. Legacy text almost never forms valid UTF-8 by chance.
func hasMultibyteUTF8(raw []byte) bool {
	if !utf8.Valid(raw) {
		return false
	}
	for _, b := range raw {
		if b >= 0x80 {
			return true
		}
	}
	return false
}

// utf16ByteOrder settles the byte order of a page whose header says utf-16
// but that has no BOM: "utf-16" means little-endian to browsers, yet servers
// send big-endian pages under both labels. ASCII markup in UTF-16 has its NUL
// bytes on one side, which tells the order.
func utf16ByteOrder(raw []byte, label string) (encoding.Encoding, string, bool) {
	var even, odd int
	for i, b := range head(raw, 1024) {
		if b == 0 {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	if even > odd {
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be", false
	}
	if odd > even || label == "utf-16le" {
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le", false
	}
	return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be", false
}

// formattingTags are the elements the HTML parser re-opens ("reconstructs")
// after a block closes them, once for every later paragraph.
var formattingTags = map[atom.Atom]bool{atom.A: true, atom.B: true, atom.Big: true, atom.Code: true, atom.Em: true,
	atom.Font: true, atom.I: true, atom.Nobr: true, atom.S: true, atom.Small: true, atom.Strike: true,
	atom.Strong: true, atom.Tt: true, atom.U: true}

// scopeMarkers start a new list of active formatting elements.
var scopeMarkers = map[atom.Atom]bool{atom.Applet: true, atom.Object: true, atom.Marquee: true,
	atom.Template: true, atom.Td: true, atom.Th: true, atom.Caption: true}

// estimateNodes estimates, in one pass of the tokenizer, how many nodes
// html.Parse would build from text: one per tag, text and comment, plus the
// formatting elements it clones when text follows a block that closed them.
// It errs on the high side (a <font> around many paragraphs counts once per
// paragraph), which the budget leaves ample room for.
func estimateNodes(text string) int {
	z := html.NewTokenizer(strings.NewReader(text))
	nodes := 0
	var afe []string // active formatting elements since the last marker: tag + attributes
	closed := 0      // how many of them a block may have closed
	const marker = ""
	sinceMarker := func() int {
		for i := len(afe) - 1; i >= 0; i-- {
			if afe[i] == marker {
				return len(afe) - 1 - i
			}
		}
		return len(afe)
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return nodes
		case html.TextToken:
			if len(bytes.TrimSpace(z.Raw())) == 0 {
				continue
			}
			nodes += 1 + closed
			closed = 0
		case html.CommentToken, html.DoctypeToken:
			nodes++
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			nodes += 1 + closed
			closed = 0
			switch {
			case formattingTags[a] && tt == html.StartTagToken:
				key := string(name)
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					key += " " + string(k) + "=" + string(v)
				}
				// Noah's Ark: at most three identical entries.
				same, first := 0, -1
				for i := len(afe) - 1; i >= 0 && afe[i] != marker; i-- {
					if afe[i] == key {
						same++
						first = i
					}
				}
				if same >= 3 {
					afe = append(afe[:first], afe[first+1:]...)
				}
				afe = append(afe, key)
			case scopeMarkers[a]:
				afe = append(afe, marker)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch {
			case formattingTags[a]:
				for i := len(afe) - 1; i >= 0 && afe[i] != marker; i-- {
					if afe[i] == string(name) || strings.HasPrefix(afe[i], string(name)+" ") {
						afe = append(afe[:i], afe[i+1:]...)
						break
					}
				}
			case scopeMarkers[a]:
				for i := len(afe) - 1; i >= 0; i-- {
					if afe[i] == marker {
						afe = afe[:i]
						break
					}
				}
			default:
				closed = sinceMarker()
			}
		}
	}
}

// textOnlyHTML is the fallback for a page over the node budget: its title and
// its text as paragraphs (a block tag or <br> ends one), without scripts and
// styles, in a document small enough to parse. note goes to Quality.Reason.
func textOnlyHTML(text string) string {
	const maxParagraphs = 10_000
	z := html.NewTokenizer(strings.NewReader(text))
	var title strings.Builder
	var paras []string
	var cur, rest strings.Builder // rest: the text past maxParagraphs, as one
	skip, inTitle := 0, false
	end := func() {
		if t := collapseSpace(cur.String()); t != "" {
			if len(paras) < maxParagraphs {
				paras = append(paras, t)
			} else {
				rest.WriteString(t)
				rest.WriteByte(' ')
			}
		}
		cur.Reset()
	}
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		switch tt {
		case html.TextToken:
			switch {
			case inTitle:
				title.Write(z.Text())
			case skip == 0:
				cur.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case atom.Title:
				inTitle = tt == html.StartTagToken
			default:
				if !formattingTags[a] && a != atom.Span {
					end()
				}
			}
		}
	}
	end()
	if rest.Len() > 0 {
		paras = append(paras, collapseSpace(rest.String()))
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><title>")
	b.WriteString(html.EscapeString(collapseSpace(title.String())))
	b.WriteString("</title></head>\n<body>\n")
	for _, p := range paras {
		b.WriteString("<p>" + html.EscapeString(p) + "</p>\n")
	}
	b.WriteString("</body></html>\n")
	return b.String()
}
