package snapshot

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
)

// PDF policies are read with github.com/ledongthuc/pdf (BSD-3-Clause, pure Go,
// no dependencies; a maintained fork of rsc.io/pdf). Decode turns a PDF into
// a minimal HTML document, its title and its text as headings, paragraphs and
// bullet lists, so that one pipeline renders the Markdown, finds the stated
// date and judges the quality of every capture. Documents decoded from a PDF
// report the charset "pdf".
//
// The library panics on malformed files and trusts the file's structure, so
// the reader here recovers every panic, walks the page tree itself with a
// visit budget (a cyclic /Kids cannot loop), and measures each page's
// decompressed content before interpreting it (a deflate bomb cannot exhaust
// memory). Text inside Form XObjects (some Google Docs exports) and fonts
// without a Unicode mapping are not read: such PDFs come out empty and are
// judged VerdictEmpty with a reason that says so.

// pdfCharset is Document.Charset for a capture decoded from a PDF.
const pdfCharset = "pdf"

const (
	maxPDFPages       = 2000      // pages read; the rest are dropped with a note
	maxPDFTreeVisits  = 20000     // page-tree nodes visited, cycles included
	maxPDFPageContent = 512 << 10 // decompressed content-stream bytes of one page
	maxPDFContent     = 16 << 20  // decompressed content-stream bytes in all
	maxPDFTextBytes   = 4 << 20   // extracted text
)

// isPDF reports whether raw is a PDF: "%PDF-" and a version digit in the
// first KiB, as readers accept, with no markup before it (an HTML page about
// PDFs may quote the header).
func isPDF(raw []byte) bool {
	h := head(raw, 1024)
	i := bytes.Index(h, []byte("%PDF-"))
	return i >= 0 && i+5 < len(h) && h[i+5] >= '1' && h[i+5] <= '9' && bytes.IndexByte(h[:i], '<') < 0
}

// errPDF wraps every failure to read a PDF; its text is the verdict's reason.
var errPDF = errors.New("unsupported pdf")

// pdfToHTML extracts a PDF's title and text as a minimal HTML document, and
// a note when only part of it could be read.
func pdfToHTML(raw []byte) (doc, note string, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, note, err = "", "", fmt.Errorf("%w: malformed file: %v", errPDF, r)
		}
	}()
	if i := bytes.Index(raw, []byte("%PDF-")); i > 0 {
		raw = raw[i:] // junk before the header: offsets count from it
	}
	r, err := pdf.NewReader(bytes.NewReader(raw), int64(len(raw)))
	switch {
	case errors.Is(err, pdf.ErrInvalidPassword):
		return "", "", fmt.Errorf("%w: encrypted, a password is needed to read it", errPDF)
	case err != nil && bytes.Contains(raw, []byte("/Encrypt")):
		return "", "", fmt.Errorf("%w: encrypted (%v)", errPDF, err)
	case err != nil:
		return "", "", fmt.Errorf("%w: %v", errPDF, err)
	}

	pages, treeNote := pdfPages(r)
	if len(pages) == 0 {
		return "", "", fmt.Errorf("%w: no pages found%s", errPDF, treeNote)
	}
	var lines []pdfLine
	var notes []string
	if treeNote != "" {
		notes = append(notes, treeNote)
	}
	budget, text := maxPDFContent, 0
	var failed []string
	for i, p := range pages {
		ls, used, err := pdfPageLines(p, i, min(budget, maxPDFPageContent))
		budget -= used
		if err != nil {
			failed = append(failed, fmt.Sprintf("page %d: %v", i+1, err))
			if budget <= 0 {
				notes = append(notes, fmt.Sprintf("content budget of %d MiB spent at page %d", maxPDFContent>>20, i+1))
				break
			}
			continue
		}
		for _, l := range ls {
			text += len(l.text)
		}
		lines = append(lines, ls...)
		if text > maxPDFTextBytes {
			notes = append(notes, fmt.Sprintf("text cut at %d MiB, page %d of %d", maxPDFTextBytes>>20, i+1, len(pages)))
			break
		}
	}
	if len(failed) == len(pages) {
		return "", "", fmt.Errorf("%w: no page could be read (%s)", errPDF, failed[0])
	}
	if len(failed) > 0 {
		notes = append(notes, fmt.Sprintf("%d of %d pages unreadable (%s)", len(failed), len(pages), failed[0]))
	}
	title := pdfInfoTitle(r)
	if len(notes) > 0 {
		note = "pdf: " + strings.Join(notes, "; ")
	}
	return pdfHTML(title, lines), note, nil
}

// pdfPages lists the leaves of the page tree in order, iteratively and with
// a visit budget, and reports a note when the tree was cut.
func pdfPages(r *pdf.Reader) ([]pdf.Page, string) {
	root := r.Trailer().Key("Root").Key("Pages")
	var pages []pdf.Page
	stack := []pdf.Value{root}
	visits := 0
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if visits++; visits > maxPDFTreeVisits {
			return pages, "; page tree cut after too many nodes (cyclic?)"
		}
		kids := v.Key("Kids")
		if v.Key("Type").Name() == "Pages" || kids.Kind() == pdf.Array {
			for i := kids.Len() - 1; i >= 0; i-- {
				stack = append(stack, kids.Index(i))
			}
			continue
		}
		if v.Kind() != pdf.Dict {
			continue
		}
		pages = append(pages, pdf.Page{V: v})
		if len(pages) >= maxPDFPages {
			return pages, fmt.Sprintf("; only the first %d pages read", maxPDFPages)
		}
	}
	return pages, ""
}

// pdfLine is one line of text as laid out on its page.
type pdfLine struct {
	text string
	x, y float64 // start of the line, in points; y grows upwards
	size float64 // font size
	page int
}

// pdfPageLines measures a page's content against limit, then reads its glyphs
// into lines. It returns how many content bytes it used.
func pdfPageLines(p pdf.Page, page, limit int) (lines []pdfLine, used int, err error) {
	defer func() {
		if r := recover(); r != nil {
			lines, err = nil, fmt.Errorf("%v", r)
		}
	}()
	contents := p.V.Key("Contents")
	var streams []pdf.Value
	if contents.Kind() == pdf.Array {
		for i := 0; i < contents.Len() && i < 1000; i++ {
			streams = append(streams, contents.Index(i))
		}
	} else if contents.Kind() == pdf.Stream {
		streams = append(streams, contents)
	}
	for _, s := range streams {
		rd := s.Reader()
		n, cerr := io.Copy(io.Discard, io.LimitReader(rd, int64(limit-used)+1))
		rd.Close()
		used += int(n)
		if cerr != nil {
			return nil, used, cerr
		}
		if used > limit {
			return nil, used, fmt.Errorf("content over %d KiB", limit>>10)
		}
	}
	if len(streams) == 0 {
		return nil, 0, nil
	}
	return glyphLines(p.Content().Text, page), used, nil
}

// glyphLines joins glyphs, in the order the page draws them, into lines: a
// glyph starts a new line when its baseline moves by more than half the font
// size, and a gap wider than a fifth of the font size is a space.
func glyphLines(glyphs []pdf.Text, page int) []pdfLine {
	var lines []pdfLine
	var b strings.Builder
	var cur pdfLine
	var endX float64
	open := false
	flush := func() {
		if t := collapseSpace(b.String()); t != "" {
			cur.text = t
			lines = append(lines, cur)
		}
		b.Reset()
		open = false
	}
	for _, g := range glyphs {
		if g.S == "" || !utf8.ValidString(g.S) {
			continue
		}
		size := math.Abs(g.FontSize)
		if size < 1 {
			size = 1
		}
		if open && (math.Abs(g.Y-cur.y) > 0.5*math.Max(size, cur.size) || g.X < endX-3*size) {
			flush()
		}
		if !open {
			cur = pdfLine{x: g.X, y: g.Y, size: size, page: page}
			open = true
		} else if g.X-endX > 0.2*size {
			b.WriteByte(' ')
		}
		b.WriteString(g.S)
		cur.size = math.Max(cur.size, size)
		endX = g.X + g.W
	}
	flush()
	return lines
}

// pdfInfoTitle is the document information dictionary's Title, unless it is
// a file name that a word processor put there.
func pdfInfoTitle(r *pdf.Reader) string {
	t := collapseSpace(r.Trailer().Key("Info").Key("Title").Text())
	l := strings.ToLower(t)
	if t == "" || strings.HasPrefix(l, "microsoft word - ") || strings.HasSuffix(l, ".doc") ||
		strings.HasSuffix(l, ".docx") || strings.HasSuffix(l, ".pdf") || strings.HasPrefix(l, "untitled") ||
		!strings.ContainsFunc(t, unicode.IsLetter) {
		return ""
	}
	return t
}

var pdfBullets = []string{"•", "◦", "▪", "‣", "●", "○", "■", "–", "-", "*", "·"}

// pdfBullet returns the text of a bulleted line without its bullet.
func pdfBullet(s string) (string, bool) {
	for _, b := range pdfBullets {
		if rest, ok := strings.CutPrefix(s, b); ok && rest != "" && (rest[0] == ' ' || b != "-" && b != "*") {
			return strings.TrimSpace(rest), true
		}
	}
	return s, false
}

// pdfBlock is a paragraph, heading or bullet item made of lines.
type pdfBlock struct {
	text   string
	size   float64
	bullet bool
}

// pdfHTML groups lines into blocks and writes the HTML document. A vertical
// gap of more than 1.5 line heights, a change of font size, a bullet or a
// page break ends a block (a page break only when the sentence ended). Blocks
// in a font clearly larger than the body's are headings.
func pdfHTML(title string, lines []pdfLine) string {
	var blocks []pdfBlock
	var cur *pdfBlock
	var prev pdfLine
	for i, l := range lines {
		text, bullet := pdfBullet(l.text)
		newBlock := cur == nil || bullet
		if !newBlock {
			gap := prev.y - l.y
			sameSize := math.Abs(l.size-prev.size) <= 0.15*prev.size
			switch {
			case l.page != prev.page:
				newBlock = strings.ContainsAny(cur.text[len(cur.text)-1:], ".:;!?") || !sameSize
			case gap <= 0 || gap > 1.5*1.2*math.Max(l.size, prev.size) || !sameSize:
				newBlock = true
			}
		}
		if newBlock {
			blocks = append(blocks, pdfBlock{text: text, size: l.size, bullet: bullet})
			cur = &blocks[len(blocks)-1]
		} else if strings.HasSuffix(cur.text, "-") && len(cur.text) > 1 && unicode.IsLower(rune(cur.text[len(cur.text)-2])) {
			cur.text = cur.text[:len(cur.text)-1] + text // a word hyphenated at the line end
		} else {
			cur.text += " " + text
		}
		prev = lines[i]
	}
	body := pdfBodySize(blocks)
	if title == "" && len(blocks) > 0 && utf8.RuneCountInString(blocks[0].text) <= 200 {
		title = blocks[0].text
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>")
	b.WriteString(html.EscapeString(title))
	b.WriteString("</title></head>\n<body><main>\n")
	inList := false
	for i, bl := range blocks {
		if bl.bullet != inList {
			if inList {
				b.WriteString("</ul>\n")
			} else {
				b.WriteString("<ul>\n")
			}
			inList = bl.bullet
		}
		t := html.EscapeString(bl.text)
		switch {
		case bl.bullet:
			b.WriteString("<li>" + t + "</li>\n")
		case i == 0 && bl.text == title:
			b.WriteString("<h1>" + t + "</h1>\n")
		case bl.size >= 1.15*body && utf8.RuneCountInString(bl.text) <= 150:
			b.WriteString("<h2>" + t + "</h2>\n")
		default:
			b.WriteString("<p>" + t + "</p>\n")
		}
	}
	if inList {
		b.WriteString("</ul>\n")
	}
	b.WriteString("</main></body></html>\n")
	return b.String()
}

// pdfBodySize is the font size that most of the text is set in.
func pdfBodySize(blocks []pdfBlock) float64 {
	chars := map[float64]int{}
	for _, bl := range blocks {
		chars[math.Round(bl.size*2)/2] += len(bl.text)
	}
	sizes := make([]float64, 0, len(chars))
	for s := range chars {
		sizes = append(sizes, s)
	}
	slices.Sort(sizes)
	best, bestN := 0.0, -1
	for _, s := range sizes {
		if chars[s] > bestN {
			best, bestN = s, chars[s]
		}
	}
	return best
}
