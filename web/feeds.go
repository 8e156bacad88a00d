package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/store"
)

// Atom feeds (RFC 4287) of archive changes, for feed readers: everything,
// one vendor's, or those of a severity level and above.
//
// Archived text reaches a feed reader twice escaped: the HTML of an
// entry's content escapes every archived piece with html.EscapeString, and
// encoding/xml escapes the whole HTML string again, as type="html" requires.
// Text constructs (titles, summaries) are plain text, escaped once by
// encoding/xml. Nothing archived is ever emitted as markup, and there is no
// type="xhtml" content, whose markup a reader would take as it is.

const (
	// feedEntries is how many changes a feed holds, newest first: readers
	// poll often, and older changes are on the dashboard.
	feedEntries = 50
	// feedClauses bounds the clause changes one entry lists, so that a
	// rewrite of a long policy does not make a feed of megabytes; the full
	// report is one link away.
	feedClauses = 40
	// feedTag starts every feed and entry id: tag URIs (RFC 4151) are
	// stable whatever host or path the server is reached at, which is what
	// readers use to tell a new entry from one already read.
	feedTag = "tag:policywatch,2026:"
	// feedMaxAge is how long a reader or the browser may keep a feed
	// without asking again. Passes run hours apart, so five minutes loses
	// nothing and spares the store a query per reader per minute.
	feedMaxAge = "private, max-age=300"
)

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   atomText    `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Gen     string      `xml:"generator"`
	Entries []atomEntry `xml:"entry"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      atomText       `xml:"title"`
	Updated    string         `xml:"updated"`
	Published  string         `xml:"published"`
	Links      []atomLink     `xml:"link"`
	Categories []atomCategory `xml:"category"`
	Summary    atomText       `xml:"summary"`
	Content    atomText       `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomCategory struct {
	Term  string `xml:"term,attr"`
	Label string `xml:"label,attr,omitempty"`
}

// feedSpec is what differs between the feeds.
type feedSpec struct {
	id, title string
	// alternate is the root-relative path of the dashboard page the feed
	// mirrors.
	alternate string
	filter    store.ChangeFilter
	// empty is set for a vendor that has no stored history: its feed is
	// valid and has no entries.
	empty bool
}

// feedChanges serves every vendor's archive changes, optionally only
// those of a severity level and above.
func (s *Server) feedChanges(w http.ResponseWriter, r *http.Request) {
	level := r.URL.Query().Get("min_severity")
	if err := checkLevel("min_severity", level); err != nil {
		s.feedFail(w, r, err)
		return
	}
	spec := feedSpec{
		id:        feedTag + "changes",
		title:     "policywatch: privacy policy changes",
		alternate: "/",
		filter:    store.ChangeFilter{Cause: store.CauseArchive, MinLevel: level},
	}
	if level != "" {
		spec.id += "?min_severity=" + level
		spec.title += " of severity " + level + " or above"
	}
	s.serveFeed(w, r, spec)
}

// feedVendor serves one vendor's changes; the file is NAME.atom.
func (s *Server) feedVendor(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	name, ok := strings.CutSuffix(file, ".atom")
	if !ok || name == "" {
		s.feedFail(w, r, notFoundf("feed %q: a vendor's feed is /feeds/vendors/NAME.atom, with the name as in the config, URL-escaped", file))
		return
	}
	sum, err := s.vendorSummary(r.Context(), name)
	if err != nil {
		s.feedFail(w, r, err)
		return
	}
	spec := feedSpec{
		// The name is lowered so that the id survives a change of case in
		// the config, which does not make another vendor.
		id:        feedTag + "vendor:" + url.PathEscape(strings.ToLower(sum.Name)),
		title:     "policywatch: " + sum.Name + " privacy policy changes",
		alternate: apiLinkVendorPage(sum.Name),
		filter:    store.ChangeFilter{Cause: store.CauseArchive},
		empty:     sum.Stored == nil,
	}
	if sum.Stored != nil {
		spec.filter.VendorID = sum.Stored.ID
	}
	s.serveFeed(w, r, spec)
}

// feedSeverity serves the changes of a level and above; the file is
// LEVEL.atom.
func (s *Server) feedSeverity(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	level, ok := strings.CutSuffix(file, ".atom")
	if !ok || !slices.Contains(severityLevels, level) {
		s.feedFail(w, r, notFoundf("feed %q: the severity feeds are high.atom, medium.atom, low.atom and none.atom, each with the changes of that level or above", file))
		return
	}
	spec := feedSpec{
		id:        feedTag + "severity:" + level,
		title:     "policywatch: privacy policy changes of severity " + level + " or above",
		alternate: "/",
		filter:    store.ChangeFilter{Cause: store.CauseArchive, MinLevel: level},
	}
	if level == "none" {
		// Every change: also those recorded before severity was assessed,
		// which have no level at all.
		spec.filter.MinLevel = ""
	}
	s.serveFeed(w, r, spec)
}

// serveFeed writes the feed spec describes. The ETag is the hash of the
// bytes, so a reader that polls with If-None-Match gets a 304 until
// something in the feed changes, including an older entry whose window a
// later pass narrowed (which a Last-Modified from the newest entry would
// miss).
func (s *Server) serveFeed(w http.ResponseWriter, r *http.Request, spec feedSpec) {
	ctx := r.Context()
	var changes []*store.Change
	if !spec.empty {
		spec.filter.Limit = feedEntries
		var err error
		if changes, err = s.db.RecentChanges(ctx, spec.filter); err != nil {
			s.feedFail(w, r, err)
			return
		}
	}
	names, err := s.feedVendorNames(ctx)
	if err != nil {
		s.feedFail(w, r, err)
		return
	}
	base := s.feedBase(r)
	self := base + r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		self += "?" + r.URL.RawQuery
	}
	feed := atomFeed{
		ID:     feedXMLText(spec.id),
		Title:  atomText{Type: "text", Text: feedXMLText(spec.title)},
		Author: atomPerson{Name: "policywatch"},
		Gen:    "policywatch",
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: feedXMLText(self)},
			{Rel: "alternate", Type: "text/html", Href: feedXMLText(base + spec.alternate)},
		},
		Entries: make([]atomEntry, 0, len(changes)),
	}
	for _, ch := range changes {
		feed.Entries = append(feed.Entries, feedEntry(base, names[ch.VendorID], ch))
	}
	if len(feed.Entries) > 0 {
		feed.Updated = feed.Entries[0].Updated
	} else {
		feed.Updated = s.opts.Now().UTC().Format(time.RFC3339)
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(feed); err != nil {
		s.feedFail(w, r, fmt.Errorf("encode feed %s: %w", spec.id, err))
		return
	}
	buf.WriteString("\n")
	sum := sha256.Sum256(buf.Bytes())
	h := w.Header()
	h.Set("Content-Type", "application/atom+xml; charset=utf-8")
	h.Set("Cache-Control", feedMaxAge)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:16])+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(buf.Bytes()))
}

// feedVendorNames maps stored vendor ids to names.
func (s *Server) feedVendorNames(ctx context.Context) (map[int64]string, error) {
	vendors, err := s.db.Vendors(ctx)
	if err != nil {
		return nil, err
	}
	return apiVendorNames(vendors), nil
}

// feedBase is the absolute address links are made from: Options.BaseURL,
// or the scheme and host the request came to. X-Forwarded-* headers are not
// trusted (any client can send them); behind a proxy, set web.base_url.
func (s *Server) feedBase(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// feedFail answers a feed error as plain text, which a feed reader shows
// to its user as it is.
func (s *Server) feedFail(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := s.publicMessage(r, err)
	http.Error(w, msg, code)
}

// feedKindLabels are how entries name the kinds of a change, as the
// report's human formats do.
var feedKindLabels = map[string]string{
	diffing.KindSilent:   "SILENT CHANGE",
	diffing.KindDated:    "DATED CHANGE",
	diffing.KindDateOnly: "DATE-ONLY CHANGE",
	diffing.KindCosmetic: "COSMETIC",
	diffing.KindFlipBack: "FLIP-BACK",
}

// feedKinds returns a change's kinds as labels, a silent change first: it
// is what a reader most needs to see.
func feedKinds(kinds []string) []string {
	var out []string
	for _, k := range kinds {
		label, ok := feedKindLabels[k]
		if !ok {
			label = strings.ToUpper(k)
		}
		if k == diffing.KindSilent {
			out = append([]string{label}, out...)
		} else {
			out = append(out, label)
		}
	}
	if len(out) == 0 {
		out = []string{"CHANGE"}
	}
	return out
}

// feedEntry is one change as an Atom entry. Its time is the first capture
// with the new text: when the archive first saw it, which is the newest
// moment the change can have happened.
func feedEntry(base, vendor string, ch *store.Change) atomEntry {
	when := ch.NewCapture.Timestamp
	if t, err := time.Parse(apiWaybackLayout, when); err == nil {
		when = t.UTC().Format(time.RFC3339)
	}
	level := ch.SeverityLevel
	if level == "" {
		level = "not assessed"
	}
	title := vendor + ": " + strings.Join(feedKinds(ch.Kinds), ", ") + " (severity " + level + ")"
	page := base + apiLinkChangePage(vendor, ch.ID)
	e := atomEntry{
		ID:        feedTag + "change:" + strconv.FormatInt(ch.ID, 10),
		Title:     atomText{Type: "text", Text: feedXMLText(title)},
		Updated:   when,
		Published: when,
		Links:     []atomLink{{Rel: "alternate", Type: "text/html", Href: feedXMLText(page)}},
		Summary:   atomText{Type: "text", Text: feedXMLText(feedSummary(ch))},
		Content:   atomText{Type: "html", Text: feedXMLText(feedHTML(page, ch))},
	}
	for _, k := range ch.Kinds {
		e.Categories = append(e.Categories, atomCategory{Term: feedXMLText(k)})
	}
	if ch.SeverityLevel != "" {
		e.Categories = append(e.Categories, atomCategory{Term: feedXMLText("severity:" + ch.SeverityLevel)})
	}
	return e
}

// feedSummary is the plain-text gist of a change: dates, window, counts.
func feedSummary(ch *store.Change) string {
	parts := []string{
		"Stated date: " + feedDateLine(ch) + ".",
		"Changed after " + feedWhen(ch.OldCapture.Timestamp) + " (last capture with the old text) and no later than " +
			feedWhen(ch.NewCapture.Timestamp) + " (first capture with the new text).",
	}
	if ch.Report != nil && ch.Report.Stats != (diffing.Stats{}) {
		parts = append(parts, "Clauses: "+ch.Report.Stats.String()+".")
	}
	parts = append(parts, fmt.Sprintf("Lines: %d added, %d removed.", ch.LinesAdded, ch.LinesRemoved))
	return strings.Join(parts, " ")
}

// feedHTML is the content of an entry: the change as a short HTML
// document. Every piece of archived text goes through html.EscapeString;
// the only links are the Wayback captures (https://web.archive.org/…,
// built here, never taken from the page) and the dashboard.
func feedHTML(page string, ch *store.Change) string {
	esc := html.EscapeString
	var b strings.Builder
	b.WriteString("<p><strong>" + esc(strings.Join(feedKinds(ch.Kinds), ", ")) + "</strong>")
	if ch.SeverityLevel != "" {
		fmt.Fprintf(&b, " · severity %s (score %d)", esc(ch.SeverityLevel), ch.Severity)
	}
	b.WriteString("</p>")
	if ch.Report != nil && len(ch.Report.Severity.Reasons) > 0 {
		b.WriteString("<ul>")
		for _, reason := range ch.Report.Severity.Reasons {
			b.WriteString("<li>" + esc(reason) + "</li>")
		}
		b.WriteString("</ul>")
	}
	b.WriteString("<p>Stated date: " + esc(feedDateLine(ch)) + "</p>")
	fmt.Fprintf(&b, "<p>Changed after <a href=\"%s\">%s</a> (the last capture with the old text) and no later than <a href=\"%s\">%s</a> (the first capture with the new text).</p>",
		esc(ch.OldCapture.WaybackURL()), esc(feedWhen(ch.OldCapture.Timestamp)),
		esc(ch.NewCapture.WaybackURL()), esc(feedWhen(ch.NewCapture.Timestamp)))
	if ch.Report != nil && ch.Report.Stats != (diffing.Stats{}) {
		b.WriteString("<p>Clauses: " + esc(ch.Report.Stats.String()) + ".</p>")
	}
	if ch.Report != nil {
		feedClausesHTML(&b, ch.Report.Clauses)
	}
	b.WriteString("<p><a href=\"" + esc(page) + "\">Read the full report</a></p>")
	return b.String()
}

// feedClausesHTML lists the clause changes, cosmetic ones counted rather
// than shown, as the report's human formats do.
func feedClausesHTML(b *strings.Builder, clauses []diffing.ClauseChange) {
	esc := html.EscapeString
	shown, cosmetic := 0, 0
	var items strings.Builder
	for _, cc := range clauses {
		if cc.Cosmetic {
			cosmetic++
			continue
		}
		shown++
		if shown > feedClauses {
			continue
		}
		where := cc.Path
		if where == "" {
			where = cc.OldPath
		}
		items.WriteString("<li><strong>" + esc(feedOp(cc.Op)) + "</strong>")
		if where != "" {
			items.WriteString(" in <em>" + esc(where) + "</em>")
		}
		items.WriteString(": ")
		switch {
		case cc.Op == diffing.OpModified && len(cc.Words) > 0:
			for _, w := range cc.Words {
				switch w.Op {
				case "-":
					items.WriteString("<del>" + esc(w.Text) + "</del>")
				case "+":
					items.WriteString("<ins>" + esc(w.Text) + "</ins>")
				default:
					items.WriteString(esc(w.Text))
				}
			}
		case cc.Op == diffing.OpRemoved:
			items.WriteString("<del>" + esc(cc.Old) + "</del>")
		case cc.Op == diffing.OpAdded:
			items.WriteString("<ins>" + esc(cc.New) + "</ins>")
		case cc.New != "":
			items.WriteString(esc(cc.New))
		default:
			items.WriteString(esc(cc.Old))
		}
		items.WriteString("</li>")
	}
	if shown > 0 {
		b.WriteString("<ul>" + items.String() + "</ul>")
	}
	if shown > feedClauses {
		fmt.Fprintf(b, "<p>… and %d more clause changes: see the full report.</p>", shown-feedClauses)
	}
	if cosmetic > 0 {
		fmt.Fprintf(b, "<p>%d cosmetic clause changes (whitespace, punctuation, typography or links) not shown.</p>", cosmetic)
	}
}

func feedOp(op string) string {
	switch op {
	case diffing.OpModified:
		return "Modified"
	case diffing.OpAdded:
		return "Added"
	case diffing.OpRemoved:
		return "Removed"
	case diffing.OpMoved:
		return "Moved"
	case diffing.OpRenumbered:
		return "Renumbered"
	}
	return op
}

// feedDateLine is the stated date before and after, in words.
func feedDateLine(ch *store.Change) string {
	orNone := func(d string) string {
		if d == "" {
			return "none stated"
		}
		return d
	}
	if ch.DateChanged {
		return orNone(ch.OldStatedDate) + " → " + orNone(ch.NewStatedDate)
	}
	return "unchanged (" + orNone(ch.NewStatedDate) + ")"
}

// feedWhen is a Wayback timestamp for a reader: "2022-07-01 12:05:05 UTC".
func feedWhen(ts string) string {
	t, err := time.Parse(apiWaybackLayout, ts)
	if err != nil {
		return ts
	}
	return t.Format("2006-01-02 15:04:05 UTC")
}

// feedXMLText makes s fit for XML 1.0, which cannot carry most control
// characters even escaped: a feed with one is not well-formed, and readers
// drop the whole feed. Invalid UTF-8 becomes U+FFFD; control characters
// other than tab, newline and carriage return, and U+FFFE and U+FFFF, are
// removed. Archived pages carry such characters (terminal escapes, stray
// form feeds).
func feedXMLText(s string) string {
	ok := true
	for _, r := range s {
		if !feedXMLChar(r) {
			ok = false
			break
		}
	}
	if ok && utf8.ValidString(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if feedXMLChar(r) {
			return r
		}
		return -1
	}, s)
}

// feedXMLChar reports whether r is a Char of XML 1.0 (section 2.2).
func feedXMLChar(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r':
		return true
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}
