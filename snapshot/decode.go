package snapshot

import (
	"bytes"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
)

// MaxInputBytes caps how much of a capture is decoded and parsed. Policies are a
// few hundred KiB at most; anything beyond this is a dump or an attack, and
// cutting it keeps memory and time bounded. Cut documents say so in their Reason.
const MaxInputBytes = 16 << 20

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
// curly quotes and euro signs that such pages really contain come out right.
// Invalid sequences become U+FFFD; the result is always valid UTF-8.
func Decode(raw []byte, contentType string) (text, charsetName string, err error) {
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
