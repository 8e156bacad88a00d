package snapshot

// Discovery of a vendor's privacy policy from its home page.
//
// policywatch is configured with a vendor's site, but the policy's address
// moves over the years (/privacy.html in 2004, /legal/privacy-policy in 2019),
// so the monitor looks for it on the archived home page of each period. This
// file turns the bytes of such a page into ranked candidate links. Like the
// rest of the package it does no I/O; following the links is the crawler's job.

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/publicsuffix"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// PolicyLink is a candidate link to a privacy policy found on a page.
type PolicyLink struct {
	URL   string // absolute original URL (NOT a web.archive.org URL): archive prefixes like /web/20190101000000/https://x/… or https://web.archive.org/web/2019…id_/… are stripped
	Text  string // the link text (or title/aria-label) as shown
	Score int    // higher is more certain
}

// Score bands of a PolicyLink. A policy phrase as the whole link text on the
// vendor's own site scores well above minStrongScore; a generic "Privacy"
// scores a little less; guesses from the href alone, cookie policies and
// other sites' policies stay under it, so that a caller may decide to follow
// only strong links without knowing how the score is made up.
const (
	// minStrongScore is the score from which a link is very probably the
	// policy: a policy-like text (or rel="privacy-policy") on the vendor's site.
	minStrongScore = 80
	// minPolicyLinkScore is the least score a link needs to be returned at
	// all: below it is noise such as an off-site link whose only hint is its
	// path.
	minPolicyLinkScore = 10
	// maxLabelRunes bounds the link texts that are searched for a policy
	// phrase: a longer text is a card or a paragraph wrapped in <a>, whose
	// words say nothing about where the link goes.
	maxLabelRunes = 120
	// maxTextRunes bounds PolicyLink.Text.
	maxTextRunes = 200
)

// Parts of a link's score. They are additive so that every signal can tip a
// tie but only the text can carry a link on its own.
const (
	scoreAgree       = 10  // text (or label) and href both point at a policy
	scoreRelPolicy   = 110 // rel="privacy-policy" (RFC 6903): the page says so itself
	scoreSameSite    = 15  // the link stays on the vendor's registrable domain
	scoreOffSite     = -40 // another site: a partner's, a widget's, a parent company's
	scorePlatform    = -40 // and a well-known platform's own policy (Google, Facebook…)
	scorePolicyHost  = 30  // a policy-hosting service gives back most of the off-site cost
	scoreInFooter    = 5   // footers are where policy links live
	scoreDemoted     = -40 // a side notice: California, children, job applicants…
	scoreCookieOnly  = 15  // a cookie policy: related, but not the privacy policy
	scoreContainsCut = 25  // a phrase inside a longer text counts this much less
)

// FindPolicyLinks returns the privacy-policy links of a page, best first (empty when none).
//
// The page is decoded like a capture for Extract (Decode's charset rules and
// budget), parsed, and every <a href>, <area href> and <link
// rel="privacy-policy"> is scored: by its text, title, aria-label or image
// alt against policy phrases in many languages (case, accents and spacing
// ignored), by hints in its path (/privacy, /datenschutz…), and by where it
// points (the vendor's own site wins over other sites). Links that are
// clearly something else (cookie settings, "Do not sell my personal
// information", Privacy Shield, mailto:, javascript:, in-page anchors) are
// dropped. Relative hrefs are resolved against <base href> or src.URL, the
// Wayback Machine's rewriting (/web/2019…/https://x/…) is undone, fragments
// are dropped and links to the same URL are merged, keeping the best score.
//
// The package's budget applies: input beyond MaxInputBytes is ignored, and a
// page over MaxNodes or nested too deep to parse is read token by token
// instead of as a tree. FindPolicyLinks never panics: binary input (images,
// PDFs, NUL bytes) and text without links give nil.
func FindPolicyLinks(raw []byte, src Source) (links []PolicyLink) {
	defer func() {
		// The parsers below are not ours and the input is whatever the archive
		// kept. A discovery that fails must cost the caller one home page, not
		// the daemon's whole pass.
		if recover() != nil {
			links = nil
		}
	}()
	if len(raw) == 0 {
		return nil
	}
	if len(raw) > MaxInputBytes {
		raw = raw[:MaxInputBytes]
	}
	if isPDF(raw) {
		return nil // a PDF home page has no links we can read
	}
	if _, bad := unsupportedContent(raw, src.ContentType); bad {
		return nil
	}
	text, _, err := decodeText(raw, src.ContentType)
	if err != nil || isPlainText(src.ContentType, text) {
		return nil
	}
	f := newLinkFinder(src)
	if estimateNodes(text) <= MaxNodes {
		if root, err := html.Parse(strings.NewReader(text)); err == nil {
			limitDepth(root, maxTreeDepth)
			f.walk(root)
			return f.result()
		}
	}
	// Over the node budget, or nested deeper than the parser accepts (it
	// refuses 512 levels): Extract reduces such a page to its text, but its
	// links are still there for a tokenizer, whose cost is linear and whose
	// memory stays flat.
	f.scan(text)
	return f.result()
}

// linkFinder collects and scores the links of one page.
type linkFinder struct {
	page    *url.URL // the page's original URL, nil when src.URL is unusable
	base    *url.URL // where relative links resolve: <base href>, else page
	site    string   // the page's registrable domain, "" when unknown
	pageKey string   // urlKey of the page itself: links back to it are no policy

	byKey map[string]int // urlKey → index in links
	links []PolicyLink

	// Scores already computed on this page, by label and by path: menus
	// repeat the same links in the header, the footer and a mobile copy.
	labelMemo, pathMemo map[string]linkVerdict
}

// linkVerdict is what scoreLabel and scorePath say about a text or a path.
type linkVerdict struct {
	score           int
	reject, demoted bool
}

func (f *linkFinder) scoreLabel(label string) (int, bool, bool) {
	v, ok := f.labelMemo[label]
	if !ok {
		v.score, v.reject, v.demoted = scoreLabel(label)
		f.labelMemo[label] = v
	}
	return v.score, v.reject, v.demoted
}

func (f *linkFinder) scorePath(u *url.URL) (int, bool, bool) {
	k := u.EscapedPath() + "?" + u.RawQuery
	v, ok := f.pathMemo[k]
	if !ok {
		v.score, v.reject, v.demoted = scorePath(u)
		f.pathMemo[k] = v
	}
	return v.score, v.reject, v.demoted
}

func newLinkFinder(src Source) *linkFinder {
	f := &linkFinder{byKey: map[string]int{}, labelMemo: map[string]linkVerdict{}, pathMemo: map[string]linkVerdict{}}
	if u, ok := resolveLink(src.URL, nil); ok {
		f.page, f.base = u, u
		f.site = registrableDomain(u.Hostname())
		f.pageKey = urlKey(u)
	}
	return f
}

// walkItem is a node to visit with what its ancestors say about it.
type walkItem struct {
	n        *html.Node
	inFooter bool
}

// walk visits the tree with an explicit stack, like the package's other
// walks, carrying down whether a node sits in a footer. The <base href> is
// taken from wherever it appears first, as browsers do, before any link is
// resolved.
func (f *linkFinder) walk(root *html.Node) {
	if b := findFirst(root, atom.Base); b != nil {
		if u, ok := resolveLink(attr(b, "href"), f.page); ok {
			f.base = u
		}
	}
	stack := []walkItem{{root, false}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := it.n
		if n.Type == html.ElementNode {
			switch n.DataAtom {
			case atom.Script, atom.Style, atom.Template, atom.Noscript, atom.Svg, atom.Math:
				// Never links a reader sees (an <svg> inside a link is handled
				// by linkText, which reads the link's own subtree).
				continue
			case atom.A, atom.Area, atom.Link:
				f.consider(elemOf(n, it.inFooter))
				if n.DataAtom != atom.A {
					continue
				}
			}
			if strings.HasPrefix(attr(n, "id"), "wm-ipp") {
				// The Wayback toolbar of a capture played back in view mode:
				// the archive's links, not the vendor's.
				continue
			}
			if n.DataAtom == atom.Footer || hasFooterClass(n) {
				it.inFooter = true
			}
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, walkItem{c, it.inFooter})
		}
	}
}

// hasFooterClass reports an element whose id or class names a footer, the
// way most pages before HTML5's <footer> marked theirs.
func hasFooterClass(n *html.Node) bool {
	found := false
	classWords(n, func(w []byte) {
		if string(w) == "footer" { // "pageFooter", "site-footer" split into words
			found = true
		}
	})
	return found
}

// scan is walk for pages that cannot be parsed into a tree: it reads the
// tokens once and keeps what walk would see, less the tree's repairs of
// misnested markup. A new <a> or the end of the text closes an open one, as
// the parser does; a <footer> counts until its end tag; and the Wayback
// toolbar is known by the comments that the archive puts around it.
func (f *linkFinder) scan(text string) {
	z := html.NewTokenizer(strings.NewReader(text))
	var cur *linkElem
	var label strings.Builder // text of cur
	var alts []string         // alt texts of cur's images
	footers, skip := 0, 0     // open <footer>s; open elements whose text is no label
	toolbar, sawBase := false, false
	finish := func() {
		if cur == nil {
			return
		}
		cur.text = cleanText(label.String())
		if cur.text == "" {
			cur.text = cleanText(strings.Join(alts, " "))
		}
		if !toolbar {
			f.consider(*cur)
		}
		cur, alts = nil, nil
		label.Reset()
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			finish()
			return
		case html.CommentToken:
			c := string(z.Text())
			switch {
			case strings.Contains(c, "BEGIN WAYBACK TOOLBAR INSERT"):
				toolbar = true
			case strings.Contains(c, "END WAYBACK TOOLBAR INSERT"):
				toolbar = false
			}
		case html.TextToken:
			if cur != nil && skip == 0 && label.Len() < 4*maxTextRunes {
				label.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if tt == html.EndTagToken {
				switch {
				case a == atom.A:
					finish()
				case a == atom.Footer && footers > 0:
					footers--
				case (a == atom.Script || a == atom.Style || a == atom.Svg) && skip > 0:
					skip--
				case cur != nil && !isInline(a):
					label.WriteByte(' ')
				}
				continue
			}
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if _, ok := attrs[string(k)]; !ok { // the first of repeated attributes counts
					attrs[string(k)] = string(v)
				}
			}
			switch a {
			case atom.A:
				finish()
				cur = &linkElem{tag: a, href: attrs["href"], rel: attrs["rel"], title: attrs["title"],
					aria: attrs["aria-label"], inFooter: footers > 0}
			case atom.Area, atom.Link:
				if !toolbar {
					f.consider(linkElem{tag: a, href: attrs["href"], rel: attrs["rel"], text: cleanText(attrs["alt"]),
						title: attrs["title"], aria: attrs["aria-label"], inFooter: footers > 0})
				}
			case atom.Base:
				if h, ok := attrs["href"]; ok && !sawBase {
					sawBase = true
					if u, ok := resolveLink(h, f.page); ok {
						f.base = u
					}
				}
			case atom.Footer:
				if tt == html.StartTagToken {
					footers++
				}
			case atom.Script, atom.Style, atom.Svg:
				if tt == html.StartTagToken {
					skip++
				}
			case atom.Img:
				if cur != nil {
					alts = append(alts, attrs["alt"])
				}
			default:
				if cur != nil && !isInline(a) {
					label.WriteByte(' ')
				}
			}
		}
	}
}

// linkElem is one <a>, <area> or <link> as the reader meets it, whichever
// way the page was read (tree or tokens).
type linkElem struct {
	tag         atom.Atom
	href, rel   string
	text        string // text as shown (<a>) or alt (<area>), cleaned
	title, aria string
	inFooter    bool
}

// elemOf reads a link element of the parsed tree.
func elemOf(n *html.Node, inFooter bool) linkElem {
	e := linkElem{tag: n.DataAtom, href: attr(n, "href"), rel: attr(n, "rel"),
		title: attr(n, "title"), aria: attr(n, "aria-label"), inFooter: inFooter}
	switch n.DataAtom {
	case atom.A:
		e.text = linkText(n)
	case atom.Area:
		e.text = cleanText(attr(n, "alt"))
	}
	return e
}

// consider scores one link element and keeps it when it may be the policy.
func (f *linkFinder) consider(e linkElem) {
	relPolicy := false
	for _, r := range strings.Fields(strings.ToLower(e.rel)) {
		if r == "privacy-policy" {
			relPolicy = true
		}
	}
	if e.tag == atom.Link && !relPolicy {
		return // stylesheets, icons, alternates
	}
	u, ok := resolveLink(e.href, f.base)
	if !ok {
		return
	}
	key := urlKey(u)
	if key == f.pageKey {
		return // the page itself ("/#privacy", a modal opener): no policy page
	}
	title, aria := cleanText(e.title), cleanText(e.aria)
	best, neg, demoted := f.scoreLabel(e.text)
	shown := e.text
	for _, label := range []string{aria, title} {
		s, lneg, ldem := f.scoreLabel(label)
		neg = neg || lneg
		if s-5 > best { // a label the reader does not see counts a little less
			best = s - 5
			demoted = ldem
			if shown == "" {
				shown = label
			}
		}
	}
	hs, hneg, hdem := f.scorePath(u)
	if neg || hneg {
		return
	}
	demoted = demoted || hdem
	score := best
	switch {
	case best > 0 && hs > 0:
		score += scoreAgree
	case best == 0:
		score = hs
	}
	if relPolicy {
		score = max(score, 0) + scoreRelPolicy
	}
	if score <= 0 {
		return
	}
	if demoted {
		score += scoreDemoted
	}
	score += f.siteScore(u)
	if e.inFooter {
		score += scoreInFooter
	}
	if score < minPolicyLinkScore {
		return
	}
	if shown == "" {
		shown = firstNonEmpty(aria, title)
	}
	f.add(key, PolicyLink{URL: u.String(), Text: truncateRunes(shown, maxTextRunes), Score: score})
}

// add keeps the best-scored link per URL; on a tie the first one on the page.
func (f *linkFinder) add(key string, l PolicyLink) {
	if i, ok := f.byKey[key]; ok {
		if l.Score > f.links[i].Score {
			f.links[i] = l
		}
		return
	}
	f.byKey[key] = len(f.links)
	f.links = append(f.links, l)
}

// result orders the links best first; the stable sort keeps page order
// among equals, since the first of two equal links is the one a reader meets.
func (f *linkFinder) result() []PolicyLink {
	if len(f.links) == 0 {
		return nil
	}
	slices.SortStableFunc(f.links, func(a, b PolicyLink) int { return b.Score - a.Score })
	return f.links
}

// siteScore rewards links that stay on the vendor's registrable domain and
// penalises the rest. A home page links to other sites' policies all the
// time (reCAPTCHA's notice names Google's, share buttons Facebook's), but a
// vendor's policy sits on its own site, or on a subdomain of it
// (legal.example.com); policy-hosting services are the exception that gets
// most of the penalty back.
func (f *linkFinder) siteScore(u *url.URL) int {
	host := strings.ToLower(u.Hostname())
	reg := registrableDomain(host)
	if f.site != "" && reg == f.site {
		return scoreSameSite
	}
	s := 0
	if f.site != "" { // without the page's own site, "off-site" means nothing
		s += scoreOffSite
		if policyHosts[reg] {
			s += scorePolicyHost
		}
	}
	if thirdPartyPlatforms[reg] {
		s += scorePlatform
	}
	return s
}

// registrableDomain is the host's domain under its public suffix ("bbc.co.uk"
// for "www.bbc.co.uk"), so that a vendor's subdomains count as its site and
// a lookalike ("example.com.evil.net") does not. Hosts the public suffix list
// cannot place (IP addresses, "localhost", test servers) stand for themselves,
// without "www.".
func registrableDomain(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" {
		return ""
	}
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return strings.TrimPrefix(host, "www.")
}

// thirdPartyPlatforms are registrable domains whose privacy pages home pages
// link to for reasons other than their own policy: embedded widgets,
// captchas, social buttons, consent tools and ad-industry opt-outs. (The
// archive's own pages never get this far: resolveLink drops them.) When the
// vendor is one of them, its links are on-site and this list does not apply.
var thirdPartyPlatforms = map[string]bool{
	"google.com": true, "youtube.com": true, "gstatic.com": true, "recaptcha.net": true, "doubleclick.net": true,
	"googletagmanager.com": true, "google-analytics.com": true, "facebook.com": true, "fb.com": true,
	"instagram.com": true, "twitter.com": true, "x.com": true, "linkedin.com": true, "pinterest.com": true,
	"tiktok.com": true, "apple.com": true, "microsoft.com": true, "hcaptcha.com": true, "cloudflare.com": true,
	"paypal.com": true, "stripe.com": true, "shopify.com": true, "wix.com": true, "squarespace.com": true,
	"wordpress.com": true, "wordpress.org": true, "automattic.com": true, "hubspot.com": true, "mailchimp.com": true,
	"intuit.com": true, "onetrust.com": true, "cookielaw.org": true, "cookiebot.com": true, "trustarc.com": true,
	"truste.com": true, "privacyshield.gov": true, "networkadvertising.org": true, "aboutads.info": true,
	"youronlinechoices.com": true, "youronlinechoices.eu": true, "allaboutcookies.org": true, "addthis.com": true,
	"sharethis.com": true, "disqus.com": true, "vimeo.com": true, "yahoo.com": true, "bing.com": true,
}

// policyHosts are services that host other companies' privacy policies at
// their own addresses: a link there is very probably the vendor's policy.
var policyHosts = map[string]bool{
	"iubenda.com": true, "termly.io": true, "termsfeed.com": true, "freeprivacypolicy.com": true,
	"privacypolicies.com": true, "privacypolicygenerator.info": true, "websitepolicies.com": true,
}

// resolveLink turns an href into the absolute original URL it points at, or
// false for what is no page: empty and fragment-only hrefs, mailto:,
// javascript: and other non-web schemes. The archive's rewriting is undone
// before and after resolution, because a rewritten page carries both
// "/web/2019…/https://x/p" (relative to web.archive.org) and, through a
// rewritten <base href>, relative links that only become archive URLs once
// resolved.
func resolveLink(href string, base *url.URL) (*url.URL, bool) {
	h := strings.TrimSpace(hrefSpaceReplacer.Replace(href))
	if h == "" || strings.HasPrefix(h, "#") || emailHrefRe.MatchString(h) {
		return nil, false // no target, or a bare address used as href
	}
	if orig, ok := stripWayback(h); ok {
		h = orig
	}
	u, err := url.Parse(h)
	if err != nil {
		return nil, false
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	if isArchiveHost(u.Hostname()) {
		orig, ok := stripWayback(u.String())
		if !ok {
			return nil, false // the archive's own pages (calendar, FAQ): never the vendor's
		}
		if u, err = url.Parse(orig); err != nil {
			return nil, false
		}
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return nil, false
	}
	if u.Host == "" {
		return nil, false
	}
	u.Fragment, u.RawFragment = "", ""
	return u, true
}

// waybackPrefixRe matches the capture prefix of a rewritten link:
// "/web/20190101000000/", "/web/20190101000000id_/", "/web/2019*/" and the
// same behind "https://web.archive.org", "http://web.archive.org",
// "//web.archive.org" or "archive.org". Normalize's archiveLinkRe only knows
// the https form and matches anywhere in a text; here the prefix must start
// the href, and every spelling the archive has used in rewritten pages must
// be understood.
var waybackPrefixRe = regexp.MustCompile(`(?i)^(?:(?:https?:)?//(?:web\.|wayback\.)?archive\.org(?::[0-9]+)?)?/web/[0-9]{1,14}(?:[a-z]{2}_|\*)?/`)

// waybackSchemeRe matches the scheme of an archived URL, which the archive
// sometimes writes with one slash ("https:/x.com/").
var waybackSchemeRe = regexp.MustCompile(`(?i)^(https?):/*`)

// stripWayback returns the original URL inside an archive URL, and false when
// h is no archive URL or holds no URL.
func stripWayback(h string) (string, bool) {
	loc := waybackPrefixRe.FindStringIndex(h)
	if loc == nil {
		return "", false
	}
	rest := h[loc[1]:]
	if len(rest) >= 7 && strings.EqualFold(rest[:7], "http%3A") || len(rest) >= 8 && strings.EqualFold(rest[:8], "https%3A") {
		if r, err := url.PathUnescape(rest); err == nil {
			rest = r
		}
	}
	switch {
	case waybackSchemeRe.MatchString(rest):
		return waybackSchemeRe.ReplaceAllString(rest, "$1://"), true
	case strings.HasPrefix(rest, "//"):
		return "http:" + rest, true
	}
	// Scheme-less: "/web/2019…/www.x.com/p". The first segment must look like
	// a host, or this was a path on the vendor's own site that merely starts
	// with /web/.
	host, _, _ := strings.Cut(rest, "/")
	if strings.Contains(host, ".") && !strings.ContainsAny(host, "?#=") {
		return "http://" + rest, true
	}
	return "", false
}

func isArchiveHost(host string) bool {
	host = strings.ToLower(host)
	return host == "archive.org" || strings.HasSuffix(host, ".archive.org")
}

// urlKey identifies a link's target for de-duplication: the archive treats
// http and https, and "www." or not, as one page (see Normalize), and so do
// pages that link to the same policy once as "/privacy" and once as
// "https://www.x.com/privacy/".
func urlKey(u *url.URL) string {
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	if p := u.Port(); p != "" && p != "80" && p != "443" {
		host += ":" + p
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	k := host + path
	if u.RawQuery != "" {
		k += "?" + u.RawQuery
	}
	return k
}

// linkText is the text a reader sees for a link: its text nodes joined as a
// browser lays them out (inline elements add no space, blocks and <br> do),
// else the alt text of its images.
func linkText(a *html.Node) string {
	var b strings.Builder
	var alts []string
	stack := []*html.Node{a}
	for len(stack) > 0 && b.Len() < 4*maxTextRunes {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			continue
		case html.ElementNode:
			switch n.DataAtom {
			case atom.Script, atom.Style, atom.Template:
				continue
			case atom.Img:
				alts = append(alts, attr(n, "alt"))
			case atom.Br:
				b.WriteByte(' ')
			case atom.Svg:
				// An icon: its <title> is often the only label.
				if t := findFirst(n, atom.Title); t != nil {
					alts = append(alts, flatText(t))
				}
				continue
			}
			if n != a && !isInline(n.DataAtom) {
				b.WriteByte(' ')
			}
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
	if t := cleanText(b.String()); t != "" {
		return t
	}
	return cleanText(strings.Join(alts, " "))
}

// isInline reports the elements that do not break a word inside a link
// ("Daten<b>schutz</b>" reads "Datenschutz").
func isInline(a atom.Atom) bool {
	switch a {
	case atom.A, atom.Abbr, atom.B, atom.Bdi, atom.Bdo, atom.Big, atom.Cite, atom.Code, atom.Data, atom.Dfn,
		atom.Em, atom.Font, atom.I, atom.Img, atom.Kbd, atom.Mark, atom.Nobr, atom.Q, atom.S, atom.Samp,
		atom.Small, atom.Span, atom.Strike, atom.Strong, atom.Sub, atom.Sup, atom.Time, atom.Tt, atom.U,
		atom.Var, atom.Wbr:
		return true
	}
	return false
}

// invisibleReplacer drops the characters that typesetting puts into long
// words and that readers never see: soft hyphens ("Datenschutz&shy;erklärung"),
// zero-width spaces and joiners.
var invisibleReplacer = strings.NewReplacer("\u00ad", "", "\u200b", "", "\u200c", "", "\u200d", "", "\u2060", "", "\ufeff", "")

// cleanText is a text as shown: invisible characters out, whitespace
// (non-breaking spaces included) collapsed.
func cleanText(s string) string {
	s = invisibleReplacer.Replace(s)
	s = strings.ReplaceAll(s, "\u00a0", " ")
	return collapseSpace(s)
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n])) + "…"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// Matching works on folded keys: lower case, accents and other combining marks
// removed, compatibility forms unified (full-width letters, half-width
// katakana), and everything but letters and digits dropped. "Politique de
// confidentialité", "POLITIQUE DE CONFIDENTIALITE" and the slug
// "politique-de-confidentialite" all become "politiquedeconfidentialite",
// so one phrase list serves link texts and paths alike, in every script.

// foldReplacer spells out the letters that Unicode does not decompose into a
// base letter and a mark.
var foldReplacer = strings.NewReplacer("ł", "l", "ø", "o", "æ", "ae", "œ", "oe", "ß", "ss", "đ", "d",
	"ð", "d", "þ", "th", "ı", "i", "ς", "σ")

// foldKey returns the matching key of s (see above).
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		s = foldReplacer.Replace(strings.ToLower(s))
		t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)))
		if out, _, err := transform.String(t, s); err == nil {
			s = out
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
				b.WriteRune(r)
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// policyPhrase is a phrase that names a privacy policy, with the score of a
// link whose whole text it is.
type policyPhrase struct {
	text  string
	score int
}

// policyPhrases name privacy policies in the languages of the web. Whole
// policy names score 100; the single words that mean "privacy" or "data
// protection" score less, because a site's "Privacy" menu can lead to a
// product page as well as to the policy, yet where the language uses them as
// the usual footer link (German "Datenschutz") they stay close to a full name.
var policyPhrases = []policyPhrase{
	// English
	{"privacy policy", 100}, {"privacy notice", 100}, {"privacy statement", 100}, {"privacy policies", 100},
	{"online privacy policy", 100}, {"website privacy policy", 100}, {"global privacy policy", 100},
	{"global privacy notice", 100}, {"global privacy statement", 100}, {"data privacy policy", 100},
	{"data privacy notice", 100}, {"data privacy statement", 100}, {"data protection policy", 100},
	{"data protection notice", 100}, {"data protection statement", 100}, {"data protection declaration", 100},
	{"privacy and cookie policy", 100}, {"privacy and cookies policy", 100}, {"privacy & cookie policy", 100},
	{"privacy cookies policy", 100}, {"privacy policy and cookies", 100}, {"privacy and cookie notice", 100},
	{"notice of privacy practices", 95}, {"privacy practices", 85}, {"privacy information", 85},
	{"privacy info", 85}, {"privacy & cookies", 90}, {"privacy and cookies", 90}, {"privacy & cookie", 90},
	{"privacy and cookie", 90}, {"your privacy", 75}, {"your privacy rights", 55}, {"privacy", 75},
	{"data protection", 80}, {"data privacy", 75}, {"protecting your privacy", 80}, {"privacy center", 70},
	{"privacy centre", 70}, {"privacy hub", 70}, {"privacy portal", 60}, {"privacy & security", 65},
	{"privacy and security", 65}, {"privacy & terms", 65}, {"privacy and terms", 65}, {"terms & privacy", 60},
	{"terms and privacy", 60}, {"legal & privacy", 60}, {"legal and privacy", 60}, {"privacy & legal", 60},
	{"privacy and legal", 60}, {"privacy pledge", 80}, {"privacy promise", 80}, {"privacy commitment", 75},
	// German
	{"datenschutzerklärung", 100}, {"datenschutzerklaerung", 100}, {"datenschutzhinweise", 100},
	{"datenschutzhinweis", 100}, {"datenschutzrichtlinie", 100}, {"datenschutzrichtlinien", 100},
	{"datenschutzbestimmungen", 100}, {"datenschutzinformationen", 100}, {"datenschutzinformation", 100},
	{"datenschutzerklärung und cookies", 100}, {"hinweise zum datenschutz", 100},
	{"informationen zum datenschutz", 100}, {"datenschutzerklärung & cookies", 100}, {"datenschutz", 90},
	{"datenschutz & cookies", 90}, {"datenschutz und cookies", 90}, {"privatsphäre", 70},
	// French
	{"politique de confidentialité", 100}, {"politique de protection des données", 100},
	{"politique de protection des données personnelles", 100}, {"politique de vie privée", 100},
	{"politique relative à la vie privée", 100}, {"déclaration de confidentialité", 100},
	{"charte de confidentialité", 100}, {"charte vie privée", 100}, {"charte de protection des données", 100},
	{"charte de protection des données personnelles", 100}, {"politique de confidentialité et cookies", 100},
	{"avis de confidentialité", 100}, {"protection des données personnelles", 90},
	{"protection des données", 85}, {"données personnelles", 85}, {"confidentialité", 85},
	{"vie privée", 85}, {"confidentialité et cookies", 90},
	// Spanish
	{"política de privacidad", 100}, {"aviso de privacidad", 100}, {"aviso de privacidad integral", 100},
	{"política de protección de datos", 100}, {"declaración de privacidad", 100},
	{"política de privacidad y cookies", 100}, {"aviso legal y privacidad", 70}, {"privacidad", 85},
	{"protección de datos", 85}, {"privacidad y cookies", 90},
	// Portuguese
	{"política de privacidade", 100}, {"aviso de privacidade", 100}, {"declaração de privacidade", 100},
	{"política de proteção de dados", 100}, {"política de privacidade e cookies", 100},
	{"privacidade", 85}, {"proteção de dados", 85},
	// Italian
	{"informativa sulla privacy", 100}, {"informativa privacy", 100}, {"informativa sulla riservatezza", 100},
	{"informativa sul trattamento dei dati personali", 100}, {"informativa trattamento dati", 100},
	{"politica sulla privacy", 100}, {"politica della privacy", 100}, {"politica di privacy", 100},
	{"privacy e cookie", 90}, {"privacy e cookie policy", 100}, {"riservatezza", 75},
	{"trattamento dei dati personali", 85},
	// Dutch
	{"privacybeleid", 100}, {"privacyverklaring", 100}, {"privacyreglement", 100}, {"privacy- en cookiebeleid", 100},
	{"privacy en cookies", 90}, {"gegevensbescherming", 80},
	// Nordic
	{"integritetspolicy", 100}, {"integritetsmeddelande", 100}, {"personuppgiftspolicy", 100},
	{"dataskyddspolicy", 100}, {"dataskyddsmeddelande", 100}, {"integritet", 80}, {"personuppgifter", 75},
	{"privatlivspolitik", 100}, {"persondatapolitik", 100}, {"fortrolighedspolitik", 100},
	{"privatlivserklæring", 100}, {"personvernerklæring", 100}, {"personvernpolicy", 100},
	{"retningslinjer for personvern", 100}, {"personvern", 85}, {"privatliv", 80},
	{"tietosuojaseloste", 100}, {"tietosuojakäytäntö", 100}, {"tietosuojailmoitus", 100}, {"tietosuoja", 85},
	// Central and eastern Europe
	{"polityka prywatności", 100}, {"polityka ochrony prywatności", 100}, {"prywatność", 80},
	{"ochrona danych osobowych", 85}, {"zásady ochrany osobních údajů", 100}, {"ochrana osobních údajů", 90},
	{"zásady ochrany soukromí", 100}, {"ochrana súkromia", 85}, {"ochrana osobných údajov", 90},
	{"adatvédelmi nyilatkozat", 100}, {"adatvédelmi tájékoztató", 100}, {"adatkezelési tájékoztató", 100},
	{"adatvédelem", 85}, {"politica de confidențialitate", 100}, {"politica de confidentialitate", 100},
	{"confidențialitate", 85}, {"politika zasebnosti", 100}, {"politika privatnosti", 100},
	{"privatnost", 75}, {"политика конфиденциальности", 100}, {"политика обработки персональных данных", 100},
	{"конфиденциальность", 85}, {"персональные данные", 75}, {"політика конфіденційності", 100},
	{"конфіденційність", 85}, {"политика за поверителност", 100}, {"πολιτική απορρήτου", 100},
	{"πολιτική προστασίας προσωπικών δεδομένων", 100}, {"απόρρητο", 80},
	{"gizlilik politikası", 100}, {"gizlilik bildirimi", 100}, {"gizlilik sözleşmesi", 100},
	{"kişisel verilerin korunması", 90}, {"gizlilik", 85},
	// Asia and the Middle East
	{"プライバシーポリシー", 100}, {"個人情報保護方針", 100}, {"個人情報の取り扱い", 90}, {"個人情報の取扱い", 90},
	{"個人情報の取り扱いについて", 90}, {"個人情報の取扱いについて", 90}, {"個人情報保護について", 95},
	{"プライバシーステートメント", 100}, {"プライバシーに関する方針", 100}, {"プライバシー", 80},
	{"個人情報保護", 85}, {"個人情報", 75}, {"隐私政策", 100}, {"隱私政策", 100}, {"隐私权政策", 100},
	{"隱私權政策", 100}, {"隐私声明", 100}, {"隱私聲明", 100}, {"私隱政策", 100}, {"隐私条款", 100},
	{"隱私條款", 100}, {"隐私保护政策", 100}, {"隱私權保護政策", 100}, {"隐私保护", 85}, {"隐私", 80},
	{"隱私", 80}, {"私隱", 80}, {"개인정보처리방침", 100}, {"개인정보취급방침", 100}, {"개인정보보호정책", 100},
	{"개인정보보호방침", 100}, {"개인정보 보호", 85}, {"개인정보", 75}, {"chính sách bảo mật", 100},
	{"chính sách quyền riêng tư", 100}, {"quyền riêng tư", 80}, {"kebijakan privasi", 100},
	{"dasar privasi", 100}, {"pemberitahuan privasi", 100}, {"privasi", 80}, {"นโยบายความเป็นส่วนตัว", 100},
	{"นโยบายคุ้มครองข้อมูลส่วนบุคคล", 100}, {"ความเป็นส่วนตัว", 80}, {"سياسة الخصوصية", 100},
	{"بيان الخصوصية", 100}, {"الخصوصية", 80}, {"מדיניות פרטיות", 100}, {"מדיניות הפרטיות", 100},
	{"פרטיות", 80}, {"गोपनीयता नीति", 100}, {"गोपनीयता", 80}, {"حریم خصوصی", 80}, {"سیاست حفظ حریم خصوصی", 100},
}

// rejectPhrases are links that mention privacy or cookies but are certainly
// not the policy: consent and settings dialogs, opt-outs under US state laws,
// the EU-US Privacy Shield, data-request forms. A link with one of them in its
// text, label or path is dropped.
var rejectPhrases = []string{
	"cookie settings", "cookies settings", "cookie setting", "cookie preferences", "cookies preferences",
	"cookie preference", "manage cookies", "manage cookie", "cookie consent", "cookie choices",
	"cookie-einstellungen", "cookie einstellungen", "cookies einstellungen", "datenschutzeinstellungen",
	"datenschutz-einstellungen", "privatsphäre-einstellungen", "privatsphäreeinstellungen",
	"einwilligung verwalten", "paramètres des cookies", "paramètres de cookies", "paramètres cookies",
	"paramètres de confidentialité", "gérer les cookies", "gérer mes cookies", "gestion des cookies",
	"préférences cookies", "préférences de cookies", "préférences de confidentialité",
	"configuración de cookies", "configurar cookies", "preferencias de cookies",
	"configuración de privacidad", "configurações de cookies", "definições de cookies",
	"gerenciar cookies", "preferências de cookies", "impostazioni cookie", "impostazioni dei cookie",
	"preferenze cookie", "gestisci cookie", "cookie-instellingen", "cookie instellingen",
	"privacy-instellingen", "privacyinstellingen", "cookieinställningar", "privacy settings",
	"privacy setting", "privacy preferences", "privacy preference", "privacy choices", "privacy options",
	"privacy dashboard", "privacy controls", "privacy shield", "do not sell", "don't sell", "dont sell",
	"do not share", "limit the use", "opt out", "opt-out", "optout", "ad choices", "adchoices",
	"interest-based ads", "consent preferences", "consent settings", "manage consent", "update consent",
	"withdraw consent", "consent manager", "privacy request", "data request", "data subject request",
	"delete my data", "cookie banner", "tracking settings", "tracking preferences", "プライバシー設定",
	"クッキー設定", "cookie设置", "隐私设置",
}

// settingsTopics and settingsActions catch the settings dialogs that
// rejectPhrases do not spell out: a link that names cookies, privacy or
// consent together with a verb or noun of configuration ("Paramétrer les
// cookies", "Manage your privacy", "Cookie-Präferenzen anpassen") opens a
// dialog or an account page, never the policy.
var (
	settingsTopics = []string{"cookie", "privacy", "datenschutz", "privatsphäre", "confidentialité", "privacidad",
		"privacidade", "consent", "einwilligung", "tracking", "クッキー", "プライバシー", "隐私", "개인정보"}
	settingsActions = []string{"settings", "setting", "preferences", "preference", "einstellungen", "präferenzen",
		"paramètres", "paramétrer", "réglages", "configuración", "configurar", "configurações", "definições",
		"preferencias", "impostazioni", "preferenze", "instellingen", "inställningar", "manage", "gérer",
		"personnaliser", "customize", "customise", "verwalten", "anpassen", "gestionar", "gestisci",
		"gerenciar", "beheren", "choices", "options", "dashboard", "controls", "設定", "设置", "설정"}
)

// demotePhrases name side notices that many vendors publish next to their
// policy: a link to one stays a candidate, but the general policy wins.
var demotePhrases = []string{
	"california", "ccpa", "cpra", "nevada", "children", "kids", "employee", "applicant",
	"candidate", "recruitment", "consumer health", "health data", "supplier",
	"archive", "previous version", "prior version", "older version",
}

// cookieWords make a link a cookie-policy candidate when nothing names privacy.
var cookieWords = []string{"cookie", "kekse", "témoins"}

// privacyStems are the word stems by which a path segment that is no whole
// policy name still speaks of privacy ("/legal-privacy.php", "/datenschutz-2018").
var privacyStems = []string{"privacy", "datenschutz", "confidentialit", "privacidad", "privacidade",
	"integritet", "prywatnosc", "personvern", "privatliv", "tietosuoja", "gizlilik", "privasi",
	"riservatezza", "adatvedelem"}

// linkPhraseKind says which list a phrase comes from.
type linkPhraseKind uint8

const (
	lkPolicy linkPhraseKind = iota
	lkReject
	lkTopic
	lkAction
	lkDemote
	lkCookie
	lkStem
)

// phraseEntry is one folded phrase of the lists above.
type phraseEntry struct {
	key   string
	kind  linkPhraseKind
	score int // lkPolicy only
}

// phraseIndex holds every folded phrase under its first two bytes, so that
// one pass over a text finds all the phrases it contains with a map lookup
// per byte, instead of a substring search per phrase (four hundred of
// them, for each of a page's hundreds of links). Every folded phrase is at
// least two bytes long: the shortest are two-letter words, a CJK character
// is three bytes.
var phraseIndex = buildPhraseIndex()

// policyExact maps a folded policy phrase to its score, for whole texts and
// whole path segments.
var policyExact = func() map[string]int {
	m := map[string]int{}
	for _, p := range policyPhrases {
		if k := foldKey(p.text); len(k) >= 2 {
			m[k] = max(m[k], p.score)
		}
	}
	return m
}()

func buildPhraseIndex() map[string][]phraseEntry {
	idx := map[string][]phraseEntry{}
	seen := map[phraseEntry]bool{}
	add := func(text string, kind linkPhraseKind, score int) {
		k := foldKey(text)
		if len(k) < 2 {
			return
		}
		e := phraseEntry{k, kind, score}
		if seen[e] {
			return
		}
		seen[e] = true
		idx[k[:2]] = append(idx[k[:2]], e)
	}
	for _, p := range policyPhrases {
		add(p.text, lkPolicy, p.score)
	}
	for _, lists := range []struct {
		words []string
		kind  linkPhraseKind
	}{
		{rejectPhrases, lkReject}, {settingsTopics, lkTopic}, {settingsActions, lkAction},
		{demotePhrases, lkDemote}, {cookieWords, lkCookie}, {privacyStems, lkStem},
	} {
		for _, w := range lists.words {
			add(w, lists.kind, 0)
		}
	}
	return idx
}

// phraseHits is what scanPhrases finds in a folded text.
type phraseHits struct {
	has [lkStem + 1]bool
	// contained is the best score of a policy phrase inside a longer text:
	// "Read our privacy policy", "Acme Privacy Notice" are still the policy,
	// less surely the longer the rest.
	contained int
}

// rejected reports a text that is certainly no policy link: a reject phrase,
// or a topic with a settings word.
func (h phraseHits) rejected() bool {
	return h.has[lkReject] || h.has[lkTopic] && h.has[lkAction]
}

func scanPhrases(k string) phraseHits {
	var h phraseHits
	klen := -1
	for i := 0; i+1 < len(k); i++ {
		for _, e := range phraseIndex[k[i:i+2]] {
			if !strings.HasPrefix(k[i:], e.key) {
				continue
			}
			h.has[e.kind] = true
			if e.kind == lkPolicy && len(e.key) < len(k) {
				if klen < 0 {
					klen = utf8.RuneCountInString(k)
				}
				extra := (klen - utf8.RuneCountInString(e.key)) / 3
				h.contained = max(h.contained, e.score-scoreContainsCut-min(extra, 25))
			}
		}
	}
	return h
}

// asideRe matches the parenthesised asides that sites append to link texts
// for screen readers: "(opens in a new window)", "(ouvre une nouvelle fenêtre)".
var asideRe = regexp.MustCompile(`\s*[(\[][^()\[\]]*[)\]]`)

// urlTextRe matches a link text that is an address: its words are the
// href's, and the href is scored on its own.
var urlTextRe = regexp.MustCompile(`(?i)^(?:https?://|www\.)\S+$`)

// scoreLabel scores a link text (or title, aria-label, alt): the best policy
// phrase it is, or contains; reject reports a link that is certainly no
// policy, demoted a side notice.
func scoreLabel(label string) (score int, reject, demoted bool) {
	if label == "" || utf8.RuneCountInString(label) > maxLabelRunes || urlTextRe.MatchString(label) {
		return 0, false, false
	}
	k := foldKey(label)
	if k == "" {
		return 0, false, false
	}
	score, reject, demoted = scoreKey(k)
	if reject || !strings.ContainsAny(label, "([") {
		return score, reject, demoted
	}
	if bare := foldKey(asideRe.ReplaceAllString(label, "")); bare != "" && bare != k {
		if s, r, d := scoreKey(bare); !r && s > score {
			score, demoted = s, d
		}
	}
	return score, reject, demoted
}

// scoreKey scores a folded key (see scoreLabel).
func scoreKey(k string) (score int, reject, demoted bool) {
	h := scanPhrases(k)
	if h.rejected() {
		return 0, true, false
	}
	score = max(policyExact[k], h.contained)
	if score == 0 && h.has[lkCookie] {
		score = scoreCookieOnly
	}
	return score, false, score > 0 && h.has[lkDemote]
}

// scorePath scores what the URL's path and query say: a policy name as the
// last segment ("/privacy-policy", "/datenschutz.html") is a fair hint, as a
// directory ("/privacy/en") or inside a longer name ("/legal-privacy.php") a
// weaker one. Slugs are folded like texts, so the phrase lists serve both.
func scorePath(u *url.URL) (score int, reject, demoted bool) {
	segs := strings.Split(u.Path, "/")
	last := -1
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i] != "" {
			last = i
			break
		}
	}
	for i, seg := range segs {
		if seg == "" {
			continue
		}
		if dot := strings.LastIndexByte(seg, '.'); dot > 0 && len(seg)-dot <= 6 {
			seg = seg[:dot] // .html, .php, .aspx, .pdf
		}
		k := foldKey(seg)
		if k == "" {
			continue
		}
		h := scanPhrases(k)
		if h.rejected() {
			return 0, true, false
		}
		if h.has[lkDemote] && h.has[lkStem] {
			demoted = true
		}
		exact := policyExact[k] >= 75
		switch {
		case exact && i == last:
			score = max(score, 45)
		case exact:
			score = max(score, 35)
		case h.has[lkStem]:
			score = max(score, 30)
		}
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			if policyExact[foldKey(v)] >= 75 { // "?page=privacy"
				score = max(score, 30)
			}
		}
	}
	return score, false, demoted
}
