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

// Verdicts added for captures that are pages, but not the policy. Like every
// verdict but VerdictOK, they are stored and never become versions.
const (
	VerdictBlocked Verdict = "blocked" // bot wall, CAPTCHA or access-denied page served instead of the policy
	VerdictParked  Verdict = "parked"  // parked or for-sale domain
)

// shortBodyChars is the extracted text below which phrases on the page are
// allowed to decide the verdict. Real policies are longer; error pages, bot
// walls, parking pages and script shells are shorter. A policy that mentions
// "404", "access denied" or "enable JavaScript" in passing is never judged by
// that phrase, because its body is long.
const shortBodyChars = softErrorMaxChars

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
	// strongErrorRe are whole sentences that only error pages say. They decide
	// wherever they sit on a page whose extracted body is short (a cookie
	// dialog can make the page text long while the page itself is a 404).
	strongErrorRe = regexp.MustCompile(`(?i)(?:` +
		`this page (?:does not|doesn't|doesn’t) exist|the page you (?:are|were|’re|'re) looking for (?:could not|can't|can’t|cannot) be found|` +
		`the page you (?:are|were|’re|'re) looking for (?:does not|doesn't|doesn’t) exist|` +
		`(?:we|i) (?:can't|can’t|cannot|could not|couldn't|couldn’t) find (?:the|this|that) page|` +
		`the requested (?:url|page) was not found|error 404|404 (?:error|not found)|` +
		`cette page n['’]existe pas|page (?:introuvable|non trouvée)|la page (?:que vous|demandée)[^.]{0,40}(?:n['’]existe pas|introuvable)|` +
		`seite (?:wurde )?nicht gefunden|diese seite existiert nicht|` +
		`página no encontrada|esta página no existe|pagina non trovata|pagina niet gevonden|` +
		`ページが見つかりません|页面不存在|找不到页面)`)
	loadingShellRe = regexp.MustCompile(`(?i)\b(?:loading|please wait|enable javascript|javascript (?:is )?(?:required|disabled)|` +
		`turn on javascript|requires javascript|browser (?:is )?not supported|chargement(?: en cours)?|` +
		`veuillez activer javascript|activez javascript|bitte aktivieren sie javascript|wird geladen|cargando)\b`)
	// botWallRe are the texts of bot walls and CAPTCHA pages.
	botWallRe = regexp.MustCompile(`(?i)(?:` +
		`just a moment\.\.\.|attention required!? \| cloudflare|checking (?:if the site connection is secure|your browser before accessing)|` +
		`enable javascript and cookies to continue|ddos protection by cloudflare|performance (?:&|and) security by cloudflare|` +
		`verify(?:ing)? (?:that )?you are (?:a )?human|are you a (?:human|robot)\?|please complete the security check|` +
		`request unsuccessful\. incapsula incident id|incapsula incident id|pardon our interruption|` +
		`you don't have permission to access .{0,200} on this server|reference #\d+\.[0-9a-f]+\.\d+|` +
		`access (?:to this page has been )?denied|you have been blocked|sorry, you have been blocked|` +
		`unusual traffic from your computer network|please verify you are a human|captcha-delivery\.com|` +
		`our systems have detected unusual traffic|why do i have to complete a captcha)`)
	// parkedRe are the texts of parked and for-sale domains.
	parkedRe = regexp.MustCompile(`(?i)(?:` +
		`(?:this|the) domain(?: name)?(?: [a-z0-9.-]+)? (?:is|may be) for sale|buy this domain|domain (?:name )?(?:is )?for sale|` +
		`domain parking|parked (?:free|domain|by)|this domain (?:has been|is) parked|` +
		`courtesy of godaddy|sedo domain parking|sedoparking|parkingcrew|bodis\.com|` +
		`(?:this|the) domain (?:has )?expired|inquire about this domain|make an offer on this domain|` +
		`related (?:searches|links)\b.{0,200}\bprivacy policy)`)
	markupTextRe = regexp.MustCompile(`(?is)<(script|style|noscript|template|svg)\b.*?</(?:script|style|noscript|template|svg)\s*>|<!--.*?-->|<[^>]*>`)
)

// botWallMarkers and parkedMarkers find bot walls and parking pages by their
// scripts and classes, which carry no visible text (lower case, matched as
// substrings). They only count on a page with almost no text: Cloudflare
// injects its challenge-platform script into ordinary pages too.
var (
	botWallMarkers = []string{"cf-browser-verification", "cf_chl_opt", "cf-challenge", "challenges.cloudflare.com/turnstile",
		"_incapsula_resource", "geo.captcha-delivery.com", "ct.captcha-delivery.com", "px-captcha", "_pxcaptcha",
		"perimeterx", "g-recaptcha", "www.google.com/recaptcha/api.js", "hcaptcha.com/1/api.js",
		"errors.edgesuite.net", "akamai-bm-telemetry"}
	parkedMarkers = []string{"sedoparking.com", "parkingcrew.net", "bodis.com", "parking.godaddy", "window.park",
		"/lander", "dan.com/buy-domain", "afternic.com", "parklogic", "above.com/marketplace"}
)

// markupCheckBytes bounds the pages the markers are looked for in: bot walls
// and parking pages are small, and a policy that is larger has text.
const markupCheckBytes = 256 << 10

func findMarker(lower []byte, markers []string) string {
	for _, m := range markers {
		if bytes.Contains(lower, []byte(m)) {
			return m
		}
	}
	return ""
}

// markupVerdict recognises bot walls and parking pages by their markup, for
// the ones that show no text a reader could judge them by.
func markupVerdict(raw []byte) (Quality, bool) {
	if len(raw) > markupCheckBytes {
		return Quality{}, false
	}
	lower := bytes.ToLower(raw)
	wall := findMarker(lower, botWallMarkers)
	park := findMarker(lower, parkedMarkers)
	if wall == "" && park == "" {
		return Quality{}, false
	}
	text := markupTextRe.ReplaceAll(raw, []byte(" "))
	if n := utf8.RuneCount(bytes.Join(bytes.Fields(text), []byte(" "))); n > minPolicyChars*2 {
		return Quality{}, false // text to judge it by: leave it to judge
	}
	if wall != "" {
		return Quality{VerdictBlocked, "bot wall: " + wall}, true
	}
	return Quality{VerdictParked, "parked domain: " + park}, true
}

// unsupportedContent reports captures that are not worth parsing: content
// that is not text (images, archives, binary). Bot walls and parking pages,
// which only their markup gives away, are recognised after extraction
// (wallOrParked). A PDF is not among them: Decode
// extracts its text (see pdf.go); only a capture typed application/pdf whose
// bytes are no PDF is refused here.
func unsupportedContent(raw []byte, contentType string) (Quality, bool) {
	mt, _, _ := mime.ParseMediaType(contentType)
	mt = strings.ToLower(mt)
	switch {
	case isPDF(raw):
		return Quality{}, false
	case mt == "application/pdf":
		return Quality{VerdictUnsupported, "unsupported: content type application/pdf but no PDF header (not a PDF, or cut)"}, true
	case strings.HasPrefix(mt, "image/") || strings.HasPrefix(mt, "audio/") || strings.HasPrefix(mt, "video/"):
		return Quality{VerdictUnsupported, "content type " + mt}, true
	case isImageMagic(raw):
		return Quality{VerdictUnsupported, "image data"}, true
	case mt == "application/zip" || mt == "application/octet-stream" && !utf8.Valid(head(raw, 4096)):
		return Quality{VerdictUnsupported, "binary content type " + mt}, true
	}
	utf16 := bytes.HasPrefix(raw, utf16LEBOM) || bytes.HasPrefix(raw, utf16BEBOM) ||
		strings.Contains(strings.ToLower(contentType), "utf-16")
	if !utf16 && bytes.IndexByte(head(raw, 8192), 0) >= 0 {
		return Quality{VerdictUnsupported, "binary data (NUL bytes)"}, true
	}
	return Quality{}, false
}

// wallOrParked runs markupVerdict for a page whose extracted text is too
// short to judge it by. Only such pages can be bot walls or parking pages,
// so the scan of the raw markup is paid by them alone, not by every policy.
func wallOrParked(raw []byte, contentType, pageText string) (Quality, bool) {
	if utf8.RuneCountInString(pageText) > minPolicyChars*2 {
		return Quality{}, false
	}
	if bytes.HasPrefix(raw, utf16LEBOM) || bytes.HasPrefix(raw, utf16BEBOM) || strings.Contains(strings.ToLower(contentType), "utf-16") {
		return Quality{}, false
	}
	return markupVerdict(raw)
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

// judge gives the verdict on an extracted document. The archive's own error
// pages are recognised first, wherever their banner sits, because they are
// long enough to pass every other test. Every other phrase rule applies only
// to a document whose extracted body is short (shortBodyChars), and looks at
// where the phrase sits: the title and the headings are strong evidence, the
// short body text good evidence, the rest of the page (pageText: navigation,
// dialogs) only for sentences nothing but an error page says. A long body is
// a policy, whatever it mentions in passing.
func judge(d *Document, pageText string) Quality {
	return verdict(d, pageText)
}

func verdict(d *Document, pageText string) Quality {
	text := collapseSpace(plainOfMarkdown(d.Body))
	n := utf8.RuneCountInString(text)
	if m := waybackError(pageText); m != "" {
		return Quality{VerdictErrorPage, "wayback machine page: " + m}
	}
	if d.Charset == pdfCharset {
		if n < minPolicyChars {
			return Quality{VerdictEmpty, "pdf without extractable text (scanned or image-only pages?)"}
		}
		return Quality{Verdict: VerdictOK}
	}
	if n < shortBodyChars {
		if q, ok := shortPageVerdict(d, text, pageText, n); ok {
			return q
		}
	}
	if n < minPolicyChars {
		if m := loadingShellRe.FindString(text + " " + pageText); m != "" {
			return Quality{VerdictEmpty, "script shell: " + m}
		}
		return Quality{VerdictEmpty, "too little text extracted"}
	}
	if n < 600 && loadingShellRe.MatchString(text) && !strings.Contains(strings.ToLower(text), "privacy") {
		return Quality{VerdictEmpty, "script shell"}
	}
	return Quality{Verdict: VerdictOK}
}

// shortPageVerdict judges a document with a short body by its phrases.
func shortPageVerdict(d *Document, text, pageText string, n int) (Quality, bool) {
	pageN := utf8.RuneCountInString(pageText)
	// Title: the strongest evidence a page gives about itself.
	if m := botWallRe.FindString(d.Title); m != "" {
		return Quality{VerdictBlocked, "bot wall title: " + m}, true
	}
	if m := parkedRe.FindString(d.Title); m != "" {
		return Quality{VerdictParked, "parked domain title: " + m}, true
	}
	if m := softErrorRe.FindString(d.Title); m != "" {
		return Quality{VerdictErrorPage, "error page title: " + m}, true
	}
	// Headings of the body that are an error message and nothing more.
	for _, l := range strings.Split(d.Body, "\n") {
		if !strings.HasPrefix(l, "#") {
			continue
		}
		h := collapseSpace(strings.TrimLeft(plainOfMarkdown(l), "# "))
		if utf8.RuneCountInString(h) > 80 {
			continue
		}
		if m := strongErrorRe.FindString(h); m != "" {
			return Quality{VerdictErrorPage, "error page heading: " + m}, true
		}
		if m := softErrorRe.FindString(h); m != "" && n < 600 {
			return Quality{VerdictErrorPage, "error page heading: " + m}, true
		}
	}
	// Sentences that only error pages, bot walls and parking pages say.
	if m := strongErrorRe.FindString(text); m != "" {
		return Quality{VerdictErrorPage, "error page text: " + m}, true
	}
	if m := strongErrorRe.FindString(pageText); m != "" {
		return Quality{VerdictErrorPage, "error page text (outside the extracted body): " + m}, true
	}
	// Bot walls and parking pages say what they are in a block of their own
	// ("Sorry, you have been blocked", "This domain may be for sale!"); a
	// policy says the same words inside longer sentences. The rest of the page
	// only counts when the extraction kept next to nothing.
	if m := inShortBlock(botWallRe, d.Body); m != "" {
		return Quality{VerdictBlocked, "bot wall: " + m}, true
	}
	if m := inShortBlock(parkedRe, d.Body); m != "" {
		return Quality{VerdictParked, "parked domain: " + m}, true
	}
	if tiny := pageN < shortBodyChars; tiny && n < minPolicyChars {
		if m := botWallRe.FindString(pageText); m != "" {
			return Quality{VerdictBlocked, "bot wall: " + m}, true
		}
		if m := parkedRe.FindString(pageText); m != "" {
			return Quality{VerdictParked, "parked domain: " + m}, true
		}
	}
	if n < 600 {
		if m := softErrorRe.FindString(text); m != "" {
			return Quality{VerdictErrorPage, "error page text: " + m}, true
		}
	}
	return Quality{}, false
}

// blockSlack is how much more than the phrase a block (Markdown line) may
// say and still be that message: "Sorry, you have been blocked", "Request
// unsuccessful. Incapsula incident ID: 1234-56", but not a policy's sentence
// "If this domain is for sale, your data may be transferred to the buyer."
const blockSlack = 40

// inShortBlock returns the first match of re that is a block of body by itself.
func inShortBlock(re *regexp.Regexp, body string) string {
	for _, l := range strings.Split(body, "\n") {
		l = collapseSpace(plainOfMarkdown(l))
		if l == "" || len(l) > 400 {
			continue
		}
		if m := re.FindString(l); m != "" && utf8.RuneCountInString(l) <= utf8.RuneCountInString(m)+blockSlack {
			return m
		}
	}
	return ""
}

// waybackError is waybackErrorRe.FindString behind a literal prefilter: every
// alternative names the Wayback Machine, a crawl-time response or a snapshot
// that cannot be displayed, and a case-insensitive regular expression run
// over a whole page's text costs far more than three substring searches.
func waybackError(pageText string) string {
	lower := strings.ToLower(pageText)
	if !strings.Contains(lower, "wayback") && !strings.Contains(lower, "crawl time") && !strings.Contains(lower, "snapshot cannot be displayed") {
		return ""
	}
	return waybackErrorRe.FindString(pageText)
}
