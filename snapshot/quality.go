package snapshot

import (
	"bytes"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"
)

// minPolicyChars is the least extracted text a policy can have. The shortest
// real policies in the citp corpus have over a thousand; shells and stubs
// ("Loading…", "Please enable JavaScript") have a few dozen.
const minPolicyChars = 200

// softErrorMaxChars bounds how much text an error page may have: a real policy
// that mentions "page not found" in passing is far longer.
const softErrorMaxChars = 1500

var (
	waybackErrorRe = regexp.MustCompile(`(?i)Hrm\.\s+The Wayback Machine has not archived that URL|` +
		`This URL has been excluded from the Wayback Machine|Got an HTTP 30\d response at crawl time|` +
		`Wayback Machine doesn't have that page archived|The Wayback Machine has not archived that URL|` +
		`This snapshot cannot be displayed due to an internal error|Sorry\.\s+This URL has been excluded`)
	softErrorRe = regexp.MustCompile(`(?i)\b(?:404|page not found|not found|page (?:cannot|can't|could not) be found|` +
		`page (?:does not|doesn't) exist|no longer (?:exists|available)|(?:internal )?server error|` +
		`service (?:temporarily )?unavailable|bad gateway|gateway time-?out|403 forbidden|access denied|` +
		`database error|error establishing a database connection|account (?:has been )?suspended|` +
		`this domain (?:is|may be) for sale|domain (?:has )?expired|under construction)\b`)
	loadingShellRe = regexp.MustCompile(`(?i)\b(?:loading|please wait|enable javascript|javascript (?:is )?(?:required|disabled)|` +
		`turn on javascript|requires javascript|browser (?:is )?not supported)\b`)
)

// unsupportedContent reports captures that are not text at all. They are kept
// as raw bytes but never parsed: a PDF policy needs its own extractor.
func unsupportedContent(raw []byte, contentType string) (Quality, bool) {
	mt, _, _ := mime.ParseMediaType(contentType)
	mt = strings.ToLower(mt)
	switch {
	case mt == "application/pdf" || bytes.HasPrefix(raw, []byte("%PDF-")):
		return Quality{VerdictUnsupported, "pdf document"}, true
	case strings.HasPrefix(mt, "image/") || strings.HasPrefix(mt, "audio/") || strings.HasPrefix(mt, "video/"):
		return Quality{VerdictUnsupported, "content type " + mt}, true
	case isImageMagic(raw):
		return Quality{VerdictUnsupported, "image data"}, true
	case mt == "application/zip" || mt == "application/octet-stream" && !utf8.Valid(head(raw, 4096)):
		return Quality{VerdictUnsupported, "binary content type " + mt}, true
	}
	if !bytes.HasPrefix(raw, utf16LEBOM) && !bytes.HasPrefix(raw, utf16BEBOM) &&
		!strings.Contains(strings.ToLower(contentType), "utf-16") && bytes.IndexByte(head(raw, 8192), 0) >= 0 {
		return Quality{VerdictUnsupported, "binary data (NUL bytes)"}, true
	}
	return Quality{}, false
}

func head(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func isImageMagic(b []byte) bool {
	for _, m := range [][]byte{
		{0x89, 'P', 'N', 'G'}, {0xFF, 0xD8, 0xFF}, []byte("GIF87a"), []byte("GIF89a"),
		[]byte("RIFF"), []byte("BM"), {0x00, 0x00, 0x01, 0x00},
	} {
		if bytes.HasPrefix(b, m) {
			if string(m) == "BM" && len(b) > 2 && b[2] == '<' { // "BM<..." is not a bitmap
				continue
			}
			return true
		}
	}
	return false
}

// judge gives the verdict on an extracted document. Error pages are checked
// before length, because the archive's own error pages are long enough to pass.
func judge(d *Document, pageText string) Quality {
	text := collapseSpace(plainOfMarkdown(d.Body))
	n := utf8.RuneCountInString(text)
	if m := waybackErrorRe.FindString(pageText); m != "" {
		return Quality{VerdictErrorPage, "wayback machine page: " + m}
	}
	if n < softErrorMaxChars && utf8.RuneCountInString(collapseSpace(pageText)) < 3*softErrorMaxChars {
		if m := softErrorRe.FindString(d.Title); m != "" {
			return Quality{VerdictErrorPage, "error page title: " + m}
		}
		if n < 600 {
			if m := softErrorRe.FindString(text); m != "" {
				return Quality{VerdictErrorPage, "error page text: " + m}
			}
		}
	}
	if n < minPolicyChars {
		if m := loadingShellRe.FindString(text + " " + pageText); m != "" && n < 600 {
			return Quality{VerdictEmpty, "script shell: " + m}
		}
		return Quality{VerdictEmpty, "too little text extracted"}
	}
	if n < 600 && loadingShellRe.MatchString(text) && !strings.Contains(strings.ToLower(text), "privacy") {
		return Quality{VerdictEmpty, "script shell"}
	}
	return Quality{Verdict: VerdictOK}
}
