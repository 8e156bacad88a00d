package web

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/store"
)

// The dashboard's pages are html/template files compiled into the binary,
// so that a deployed server never depends on files next to it and every
// archived string is escaped for the context it lands in.
//
//go:embed templates/*.html
var templateFiles embed.FS

// staticFiles holds the stylesheet: the only resource a page loads, and the
// only one the Content-Security-Policy allows.
//
//go:embed static/style.css
var staticFiles embed.FS

// pageTemplates are parsed once: a template that does not parse is a bug
// that the first test run shows, not something to recover from.
var pageTemplates = mustParsePages()

func mustParsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		"vendorPath":   vendorPath,
		"versionPath":  versionPath,
		"changePath":   changePath,
		"comparePath":  comparePath,
		"feedPath":     feedPath,
		"httpURL":      httpURL,
		"wbTime":       wbTime,
		"wbISO":        wbISO,
		"timeText":     timeText,
		"timeISO":      timeISO,
		"levelClass":   levelClass,
		"plural":       plural,
		"styleVersion": styleVersion,
	}
	// Each page is templates/NAME.html, defining "content", on top of the
	// shared layout and partials.
	out := map[string]*template.Template{}
	for _, name := range []string{"vendors", "vendor", "change", "version", "error"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFiles,
			"templates/layout.html", "templates/partials.html", "templates/"+name+".html")
		if err != nil {
			panic(fmt.Sprintf("parse page template %s: %v", name, err))
		}
		out[name] = t
	}
	return out
}

// vendorPath is the dashboard path of a vendor's page. Names are escaped as
// one path segment: a vendor may be called anything, "/" and "?" included.
func vendorPath(name string) string { return "/vendors/" + url.PathEscape(name) }

func versionPath(name string, id int64) string {
	return vendorPath(name) + "/versions/" + strconv.FormatInt(id, 10)
}

func changePath(name string, id int64) string {
	return vendorPath(name) + "/changes/" + strconv.FormatInt(id, 10)
}

func comparePath(name string) string { return vendorPath(name) + "/compare" }

// feedPath is the Atom feed of one vendor's changes (feeds.go).
func feedPath(name string) string { return "/feeds/vendors/" + url.PathEscape(name) + ".atom" }

// httpURL returns u when it may be an href: an absolute http(s) URL with a
// host and nothing that could end an attribute. Anything else (a policy URL
// mistyped in the config, a hostile capture URL) is shown as text, which
// says more than html/template's "#ZgotmplZ" would.
func httpURL(u string) string {
	if strings.ContainsAny(u, "\x00\t\n\r \"'<>`\\") {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return u
}

// waybackLayout is the form of Wayback Machine timestamps.
const waybackLayout = "20060102150405"

// wbTime shows a 14-digit Wayback timestamp as "2022-07-01 12:05 UTC", or
// as it is when it does not parse.
func wbTime(ts string) string {
	t, err := time.Parse(waybackLayout, ts)
	if err != nil {
		return ts
	}
	return timeText(t)
}

// wbISO is a Wayback timestamp in RFC 3339, for <time datetime>; "" when it
// does not parse, so that no invalid datetime is written.
func wbISO(ts string) string {
	t, err := time.Parse(waybackLayout, ts)
	if err != nil {
		return ""
	}
	return t.Format(time.RFC3339)
}

func timeText(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func timeISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// levelClass keeps class attributes to the levels the stylesheet knows.
func levelClass(level string) string {
	if slices.Contains(severityLevels, level) {
		return level
	}
	return "other"
}

// plural says "1 capture" or "3 captures".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// styleVersion is a short hash of the stylesheet. Pages link it as
// /static/style.css?v=HASH, so a browser may cache the file for a year
// and still fetch a new one as soon as a release changes it.
func styleVersion() string {
	b, err := staticFiles.ReadFile("static/style.css")
	if err != nil {
		return "0"
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

// chrome is what the shared layout needs from every page.
type chrome struct {
	Title string // <title>, before " · policywatch"
	// FeedVendor names the vendor whose Atom feed the page advertises next
	// to the feed of all changes; "" on pages about no one vendor.
	FeedVendor string
	Home       bool // the page is the vendor list, for aria-current
}

// servePage runs a page builder and renders what it returns, or the error
// page for its error.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, build func(*http.Request) (string, any, error)) {
	name, data, err := build(r)
	if err != nil {
		s.errorPage(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, name, data)
}

type errorData struct {
	chrome
	Heading string
	Message string
}

// errorPage answers with the page for err: its status and message come from
// publicMessage, so a 500's detail stays in the log.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := s.publicMessage(r, err)
	heading := "Something went wrong"
	switch code {
	case http.StatusNotFound:
		heading = "Not found"
	case http.StatusBadRequest:
		heading = "Bad request"
	}
	s.render(w, r, code, "error", errorData{chrome: chrome{Title: heading}, Heading: heading, Message: msg})
}

// render executes a page into a buffer before writing anything, so that a
// template error never leaves the reader with half a page and a 200.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, data any) {
	var b bytes.Buffer
	if err := pageTemplates[name].ExecuteTemplate(&b, "layout", data); err != nil {
		s.logger.Error("render page", "page", name, "path", r.URL.Path, "err", err)
		b.Reset()
		code = http.StatusInternalServerError
		heading := "Something went wrong"
		fallback := errorData{chrome: chrome{Title: heading}, Heading: heading, Message: "internal error: the server log has the details"}
		if name == "error" || pageTemplates["error"].ExecuteTemplate(&b, "layout", fallback) != nil {
			http.Error(w, fallback.Message, code)
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages change with every pass: a browser must ask again, and may use
	// what it has only when the server says nothing changed.
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

// static serves the embedded stylesheet. Its URL carries the file's hash
// (styleVersion), so it can be cached for a year.
func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	var body []byte
	var err error
	if fs.ValidPath(name) && !strings.Contains(name, "/") {
		body, err = staticFiles.ReadFile("static/" + name)
	}
	if body == nil || err != nil {
		s.errorPage(w, r, notFoundf("static file %q", name))
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	sum := sha256.Sum256(body)
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// ---------------------------------------------------------------- vendor list

type vendorsData struct {
	chrome
	Rows []vendorRow
}

type vendorRow struct {
	*VendorSummary
	// LastKinds labels the last change's kinds, silent first.
	LastKinds []diffing.KindView
}

func (s *Server) vendorsPage(w http.ResponseWriter, r *http.Request) {
	s.servePage(w, r, func(r *http.Request) (string, any, error) {
		sums, err := s.summaries(r.Context())
		if err != nil {
			return "", nil, err
		}
		d := vendorsData{chrome: chrome{Title: "Watched policies", Home: true}}
		for _, sum := range sums {
			row := vendorRow{VendorSummary: sum}
			if sum.LastChange != nil {
				row.LastKinds = kindViews(sum.LastChange.Kinds)
			}
			d.Rows = append(d.Rows, row)
		}
		return "vendors", d, nil
	})
}

// kindViews labels a stored change's kinds as the reports do, the silent
// kind first: it is what a reader scanning the list must not miss.
func kindViews(kinds []string) []diffing.KindView {
	out := make([]diffing.KindView, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, diffing.KindLabel(k))
	}
	slices.SortStableFunc(out, func(a, b diffing.KindView) int {
		return cmp.Compare(boolRank(a.Kind != diffing.KindSilent), boolRank(b.Kind != diffing.KindSilent))
	})
	return out
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ---------------------------------------------------------------- vendor page

type vendorData struct {
	chrome
	Sum *VendorSummary
	// Timeline is newest first: versions, and between them the changes that
	// led from one to the next.
	Timeline []timelineEntry
	Options  []versionOption
}

// timelineEntry is a version or a change; exactly one is set.
type timelineEntry struct {
	Version *numberedVersion
	Change  *changeEntry
}

// numberedVersion is a version with its place in archive order (1 is the
// oldest): ids are not in that order, so pages name versions by number.
type numberedVersion struct {
	Version *store.Version
	Number  int
}

type changeEntry struct {
	Change               *store.Change
	Kinds                []diffing.KindView
	Silent               bool
	Classes              string // "change kind-silent change-silent"
	FromNumber, ToNumber int
}

type versionOption struct {
	ID       int64
	Label    string
	From, To bool // selected in the from / to list
}

func (s *Server) vendorPage(w http.ResponseWriter, r *http.Request) {
	s.servePage(w, r, func(r *http.Request) (string, any, error) {
		ctx := r.Context()
		sum, err := s.vendorSummary(ctx, r.PathValue("name"))
		if err != nil {
			return "", nil, err
		}
		d := vendorData{chrome: chrome{Title: sum.Name, FeedVendor: sum.Name}, Sum: sum}
		if sum.Stored == nil {
			return "vendor", d, nil
		}
		versions, changes, err := s.history(ctx, sum.Stored)
		if err != nil {
			return "", nil, err
		}
		d.Timeline = timeline(versions, changes)
		if len(versions) >= 2 {
			last := len(versions) - 1
			for i := last; i >= 0; i-- {
				v := versions[i]
				label := fmt.Sprintf("Version %d · %s · stated %s", i+1, wbTime(v.First.Timestamp), cmp.Or(v.StatedDate, "none"))
				d.Options = append(d.Options, versionOption{ID: v.ID, Label: label, From: i == last-1, To: i == last})
			}
		}
		return "vendor", d, nil
	})
}

// history loads a vendor's versions in archive order and its archive
// changes.
func (s *Server) history(ctx context.Context, v *store.Vendor) ([]*store.Version, []*store.Change, error) {
	versions, err := s.db.Versions(ctx, v.ID)
	if err != nil {
		return nil, nil, err
	}
	changes, err := s.db.Changes(ctx, v.ID, store.CauseArchive)
	if err != nil {
		return nil, nil, err
	}
	return versions, changes, nil
}

// timeline merges versions (at their first capture) and changes (at their
// first capture with the new text) and returns them newest first. A change
// sorts before the version it introduces, so that newest first reads
// "version 3, the change to it, version 2, …". A flip-back to an older text
// sits where it happened, though its version is listed at its first
// appearance.
func timeline(versions []*store.Version, changes []*store.Change) []timelineEntry {
	number := map[int64]int{}
	for i, v := range versions {
		number[v.ID] = i + 1
	}
	type keyed struct {
		ts    string
		order int // a change (0) before a version (1) at the same capture
		e     timelineEntry
	}
	var all []keyed
	for i, v := range versions {
		all = append(all, keyed{v.First.Timestamp, 1, timelineEntry{Version: &numberedVersion{Version: v, Number: i + 1}}})
	}
	for _, ch := range changes {
		all = append(all, keyed{ch.NewCapture.Timestamp, 0, timelineEntry{Change: newChangeEntry(ch, number)}})
	}
	slices.SortStableFunc(all, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(a.ts, b.ts), cmp.Compare(a.order, b.order))
	})
	out := make([]timelineEntry, 0, len(all))
	for i := len(all) - 1; i >= 0; i-- {
		out = append(out, all[i].e)
	}
	return out
}

func newChangeEntry(ch *store.Change, number map[int64]int) *changeEntry {
	e := &changeEntry{Change: ch, Kinds: kindViews(ch.Kinds), FromNumber: number[ch.FromVersionID], ToNumber: number[ch.ToVersionID]}
	classes := []string{"change"}
	for _, k := range e.Kinds {
		classes = append(classes, "kind-"+k.Kind)
		if k.Kind == diffing.KindSilent {
			e.Silent = true
		}
	}
	if e.Silent {
		classes = append(classes, "change-silent")
	}
	e.Classes = strings.Join(classes, " ")
	return e
}

// ---------------------------------------------------------------- change and compare

// Layouts of a change page (?view=).
const (
	layoutInline = "inline"
	layoutSide   = "side"
)

type changeData struct {
	chrome
	VendorName string
	Heading    string
	Crumb      string
	View       diffing.View
	Layout     string // layoutInline or layoutSide
	Side       []sideGroup
	Cosmetic   bool // cosmetic clause changes are listed
	OldVersion *store.Version
	NewVersion *store.Version
	OldNumber  int
	NewNumber  int
	// Query strings of the links to the other layouts and to the other
	// cosmetic setting, keeping the page's other parameters.
	InlineHref, SideHref, CosmeticHref string
}

// sideGroup is one section of the side-by-side layout.
type sideGroup struct {
	Section string
	Rows    []sideRow
}

// sideRow is one clause change in two columns: Old holds kept and removed
// words, New kept and added ones, so that <del> only ever appears on the
// left and <ins> on the right.
type sideRow struct {
	Item     diffing.ItemView
	Old, New []diffing.WordOp
}

func (s *Server) changePage(w http.ResponseWriter, r *http.Request) {
	s.servePage(w, r, func(r *http.Request) (string, any, error) {
		ctx := r.Context()
		layout, cosmetic, err := diffParams(r.URL.Query())
		if err != nil {
			return "", nil, err
		}
		v, err := s.storedVendor(ctx, r.PathValue("name"))
		if err != nil {
			return "", nil, err
		}
		ch, err := s.change(ctx, v, r.PathValue("id"))
		if err != nil {
			return "", nil, err
		}
		report, err := s.changeReport(ctx, v, ch)
		if err != nil {
			return "", nil, err
		}
		oldV, newV, numbers, err := s.versionPair(ctx, v, ch.FromVersionID, ch.ToVersionID)
		if err != nil {
			return "", nil, err
		}
		d := newChangeData(v, report, layout, cosmetic, url.Values{})
		d.OldVersion, d.NewVersion = oldV, newV
		d.OldNumber, d.NewNumber = numbers[0], numbers[1]
		d.Heading = v.Name + ": policy change"
		d.Crumb = "Change " + strconv.FormatInt(ch.ID, 10)
		d.Title = d.Heading + " of " + wbTime(ch.NewCapture.Timestamp)
		return "change", d, nil
	})
}

func (s *Server) comparePage(w http.ResponseWriter, r *http.Request) {
	s.servePage(w, r, func(r *http.Request) (string, any, error) {
		ctx := r.Context()
		q := r.URL.Query()
		layout, cosmetic, err := diffParams(q)
		if err != nil {
			return "", nil, err
		}
		fromID, err := versionParam(q, "from")
		if err != nil {
			return "", nil, err
		}
		toID, err := versionParam(q, "to")
		if err != nil {
			return "", nil, err
		}
		v, err := s.storedVendor(ctx, r.PathValue("name"))
		if err != nil {
			return "", nil, err
		}
		oldV, err := s.version(ctx, v, fromID)
		if err != nil {
			return "", nil, err
		}
		newV, err := s.version(ctx, v, toID)
		if err != nil {
			return "", nil, err
		}
		report, err := s.compareReport(ctx, v, oldV, newV)
		if err != nil {
			return "", nil, err
		}
		_, _, numbers, err := s.versionPair(ctx, v, oldV.ID, newV.ID)
		if err != nil {
			return "", nil, err
		}
		d := newChangeData(v, report, layout, cosmetic, url.Values{"from": {fromID}, "to": {toID}})
		d.OldVersion, d.NewVersion = oldV, newV
		d.OldNumber, d.NewNumber = numbers[0], numbers[1]
		d.Heading = fmt.Sprintf("%s: version %d compared with version %d", v.Name, d.OldNumber, d.NewNumber)
		d.Crumb = fmt.Sprintf("Compare versions %d and %d", d.OldNumber, d.NewNumber)
		d.Title = d.Heading
		return "change", d, nil
	})
}

// diffParams reads the parameters every diff page takes: view (inline or
// side) and cosmetic (1 lists cosmetic clause changes).
func diffParams(q url.Values) (layout string, cosmetic bool, err error) {
	switch layout = q.Get("view"); layout {
	case "":
		layout = layoutInline
	case layoutInline, layoutSide:
	default:
		return "", false, badRequestf("view %q: want %s (the default) or %s", layout, layoutInline, layoutSide)
	}
	switch c := q.Get("cosmetic"); c {
	case "", "0":
	case "1":
		cosmetic = true
	default:
		return "", false, badRequestf("cosmetic %q: want 1 to list cosmetic clause changes, or 0", c)
	}
	return layout, cosmetic, nil
}

// versionParam reads a version id parameter of the compare page. It is
// only checked for form here; s.version says whether the vendor has it.
func versionParam(q url.Values, name string) (string, error) {
	id := q.Get(name)
	if id == "" {
		return "", badRequestf("%s: missing; want the number of one of the vendor's versions, as its page lists them", name)
	}
	if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
		return "", badRequestf("%s %q: want the number of one of the vendor's versions, as its page lists them", name, id)
	}
	return id, nil
}

// versionPair loads two of a vendor's versions and their numbers in archive
// order (0 for one no capture carries any more).
func (s *Server) versionPair(ctx context.Context, v *store.Vendor, oldID, newID int64) (*store.Version, *store.Version, [2]int, error) {
	var numbers [2]int
	versions, err := s.db.Versions(ctx, v.ID)
	if err != nil {
		return nil, nil, numbers, err
	}
	var pair [2]*store.Version
	for i, id := range []int64{oldID, newID} {
		if j := slices.IndexFunc(versions, func(x *store.Version) bool { return x.ID == id }); j >= 0 {
			pair[i], numbers[i] = versions[j], j+1
			continue
		}
		if pair[i], err = s.db.VersionByID(ctx, id); err != nil {
			return nil, nil, numbers, err
		}
	}
	return pair[0], pair[1], numbers, nil
}

// newChangeData works out what the change layout shows of a report. base
// holds the parameters the layout links must keep (from and to).
func newChangeData(v *store.Vendor, report diffing.Report, layout string, cosmetic bool, base url.Values) changeData {
	view := diffing.NewView(report, diffing.RenderOptions{ShowCosmetic: cosmetic})
	d := changeData{
		chrome:     chrome{FeedVendor: v.Name},
		VendorName: v.Name,
		View:       view,
		Layout:     layout,
		Cosmetic:   cosmetic,
	}
	link := func(layout string, cosmetic bool) string {
		q := url.Values{}
		for k, vs := range base {
			q[k] = vs
		}
		q.Set("view", layout)
		if cosmetic {
			q.Set("cosmetic", "1")
		}
		return "?" + q.Encode()
	}
	d.InlineHref = link(layoutInline, cosmetic)
	d.SideHref = link(layoutSide, cosmetic)
	d.CosmeticHref = link(layout, !cosmetic)
	if layout == layoutSide {
		d.Side = sideBySide(view.Groups)
	}
	return d
}

// sideBySide splits each clause change into its old and new text.
func sideBySide(groups []diffing.GroupView) []sideGroup {
	out := make([]sideGroup, 0, len(groups))
	for _, g := range groups {
		sg := sideGroup{Section: g.Section}
		for _, it := range g.Items {
			row := sideRow{Item: it}
			switch {
			case it.Op == diffing.OpModified && len(it.Words) > 0:
				for _, w := range it.Words {
					switch w.Op {
					case diffing.WordAdded:
						row.New = append(row.New, w)
					case diffing.WordRemoved:
						row.Old = append(row.Old, w)
					default:
						row.Old = append(row.Old, w)
						row.New = append(row.New, w)
					}
				}
			case it.Op == diffing.OpMoved || it.Op == diffing.OpRenumbered:
				// The same text in another place: nothing is removed or added.
				if t := cmp.Or(it.Old, it.Excerpt); t != "" {
					row.Old = []diffing.WordOp{{Op: diffing.WordKept, Text: t}}
				}
				if t := cmp.Or(it.New, it.Excerpt); t != "" {
					row.New = []diffing.WordOp{{Op: diffing.WordKept, Text: t}}
				}
			default:
				if it.Old != "" {
					row.Old = []diffing.WordOp{{Op: diffing.WordRemoved, Text: it.Old}}
				}
				if it.New != "" {
					row.New = []diffing.WordOp{{Op: diffing.WordAdded, Text: it.New}}
				}
			}
			sg.Rows = append(sg.Rows, row)
		}
		out = append(out, sg)
	}
	return out
}

// ---------------------------------------------------------------- version page

type versionData struct {
	chrome
	VendorName    string
	Heading       string
	Version       *store.Version
	Number, Total int
	Prev, Next    *numberedVersion
	// Produced lists the recorded changes whose new text is this version
	// (more than one when the text came back after a flip).
	Produced []*changeEntry
	Body     template.HTML
}

func (s *Server) versionPage(w http.ResponseWriter, r *http.Request) {
	s.servePage(w, r, func(r *http.Request) (string, any, error) {
		ctx := r.Context()
		v, err := s.storedVendor(ctx, r.PathValue("name"))
		if err != nil {
			return "", nil, err
		}
		ver, err := s.version(ctx, v, r.PathValue("id"))
		if err != nil {
			return "", nil, err
		}
		versions, changes, err := s.history(ctx, v)
		if err != nil {
			return "", nil, err
		}
		body, err := renderPolicy(ver.Body)
		if err != nil {
			return "", nil, err
		}
		d := versionData{
			VendorName: v.Name,
			Heading:    cmp.Or(strings.TrimSpace(ver.Title), v.Name),
			Version:    ver,
			Total:      len(versions),
			Body:       body,
		}
		number := map[int64]int{}
		for i, x := range versions {
			number[x.ID] = i + 1
			if x.ID != ver.ID {
				continue
			}
			d.Number = i + 1
			if i > 0 {
				d.Prev = &numberedVersion{Version: versions[i-1], Number: i}
			}
			if i+1 < len(versions) {
				d.Next = &numberedVersion{Version: versions[i+1], Number: i + 2}
			}
		}
		for _, ch := range changes {
			if ch.ToVersionID == ver.ID {
				d.Produced = append(d.Produced, newChangeEntry(ch, number))
			}
		}
		d.chrome = chrome{Title: fmt.Sprintf("%s, version %d of %s", v.Name, d.Number, wbTime(ver.First.Timestamp)), FeedVendor: v.Name}
		return "version", d, nil
	})
}
