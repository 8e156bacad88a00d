package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/store"
)

// apiSchemaVersion is the version of the JSON API's contract (docs/api.md).
// Scripts outside the project parse these documents, so it is raised only
// when a field is renamed or removed or changes meaning; new fields are
// added without a bump.
const apiSchemaVersion = 1

// apiWaybackLayout is how the archive writes a 14-digit timestamp, always UTC.
const apiWaybackLayout = "20060102150405"

// Limits of GET /api/v1/changes: a page big enough for a script's daily
// poll, bounded so that one request cannot make the server decode every
// stored report.
const (
	apiDefaultLimit = 50
	apiMaxLimit     = 500
)

// apiEndpoints is what an unknown /api/v1/ path is told, so that a caller
// with a typo learns the right path from the error itself.
var apiEndpoints = []string{
	"GET /api/v1/vendors",
	"GET /api/v1/vendors/{name}",
	"GET /api/v1/vendors/{name}/versions[?include=body]",
	"GET /api/v1/vendors/{name}/versions/{id}",
	"GET /api/v1/vendors/{name}/diff?from=ID|from_at=TIMESTAMP&to=ID|to_at=TIMESTAMP",
	"GET /api/v1/changes[?vendor=NAME&min_severity=LEVEL&kind=KIND&before=TIMESTAMP&limit=N]",
	"GET /api/v1/changes/{id}",
}

// apiKinds are the kinds a change can have, for the kind filter.
var apiKinds = []string{diffing.KindSilent, diffing.KindDated, diffing.KindDateOnly, diffing.KindCosmetic, diffing.KindFlipBack}

// The documents of the API. Field names are the contract of docs/api.md:
// keep them stable. Optional values are pointers so that they encode as
// null rather than as an empty string a script could take for a value, and
// lists are made non-nil so that they encode as [].

type apiVendorsDoc struct {
	SchemaVersion int             `json:"schema_version"`
	Vendors       []apiVendorJSON `json:"vendors"`
}

type apiVendorDoc struct {
	SchemaVersion int           `json:"schema_version"`
	Vendor        apiVendorJSON `json:"vendor"`
}

type apiVendorJSON struct {
	Name          string         `json:"name"`
	URL           string         `json:"url"`
	Configured    bool           `json:"configured"`
	Versions      int            `json:"versions"`
	Changes       int            `json:"changes"`
	LatestVersion *apiVersionRef `json:"latest_version"`
	LastChange    *apiChangeRef  `json:"last_change"`
	NextPassAt    *string        `json:"next_pass_at"`
	Health        apiHealth      `json:"health"`
	Links         apiVendorLinks `json:"links"`
}

type apiVersionRef struct {
	ID              int64   `json:"id"`
	FirstTimestamp  string  `json:"first_timestamp"`
	FirstWaybackURL string  `json:"first_wayback_url"`
	StatedDate      *string `json:"stated_date"`
	Title           string  `json:"title"`
	URL             string  `json:"url"`
	Page            string  `json:"page"`
}

type apiChangeRef struct {
	ID           int64       `json:"id"`
	Kinds        []string    `json:"kinds"`
	Severity     apiSeverity `json:"severity"`
	NewTimestamp string      `json:"new_timestamp"`
	URL          string      `json:"url"`
	Page         string      `json:"page"`
}

type apiSeverity struct {
	Level string `json:"level"`
	Score int    `json:"score"`
}

type apiHealth struct {
	Status     string  `json:"status"`
	LastPassAt *string `json:"last_pass_at"`
	LastOKAt   *string `json:"last_ok_at"`
	Error      *string `json:"error"`
}

type apiVendorLinks struct {
	Self     string `json:"self"`
	Versions string `json:"versions"`
	Feed     string `json:"feed"`
	Page     string `json:"page"`
}

type apiVersionsDoc struct {
	SchemaVersion int              `json:"schema_version"`
	Vendor        string           `json:"vendor"`
	Versions      []apiVersionJSON `json:"versions"`
}

type apiVersionDoc struct {
	SchemaVersion int            `json:"schema_version"`
	Vendor        string         `json:"vendor"`
	Version       apiVersionJSON `json:"version"`
}

type apiVersionJSON struct {
	ID             int64           `json:"id"`
	SHA256         string          `json:"sha256"`
	Title          string          `json:"title"`
	StatedDate     *string         `json:"stated_date"`
	StatedDateText *string         `json:"stated_date_text"`
	FirstCapture   apiCapture      `json:"first_capture"`
	LastCapture    apiCapture      `json:"last_capture"`
	Captures       int             `json:"captures"`
	Extractor      string          `json:"extractor"`
	Markdown       *string         `json:"markdown,omitempty"`
	Links          apiVersionLinks `json:"links"`
}

type apiVersionLinks struct {
	Self string `json:"self"`
	Page string `json:"page"`
}

// apiCapture names one Wayback capture. timestamp, wayback_url and url are
// the names `policywatch versions --json` uses for the same things.
type apiCapture struct {
	Timestamp  string  `json:"timestamp"`
	CapturedAt *string `json:"captured_at"`
	WaybackURL string  `json:"wayback_url"`
	URL        string  `json:"url"`
}

type apiChangesDoc struct {
	SchemaVersion int             `json:"schema_version"`
	Changes       []apiChangeJSON `json:"changes"`
	Next          *string         `json:"next"`
}

type apiChangeDoc struct {
	SchemaVersion int           `json:"schema_version"`
	Change        apiChangeJSON `json:"change"`
}

type apiChangeJSON struct {
	ID            int64          `json:"id"`
	Vendor        string         `json:"vendor"`
	Cause         string         `json:"cause"`
	Kinds         []string       `json:"kinds"`
	Severity      apiSeverity    `json:"severity"`
	TextChanged   bool           `json:"text_changed"`
	DateChanged   bool           `json:"date_changed"`
	LinesAdded    int            `json:"lines_added"`
	LinesRemoved  int            `json:"lines_removed"`
	OldStatedDate *string        `json:"old_stated_date"`
	NewStatedDate *string        `json:"new_stated_date"`
	Window        apiWindow      `json:"window"`
	FromVersion   int64          `json:"from_version"`
	ToVersion     int64          `json:"to_version"`
	DetectedAt    *string        `json:"detected_at"`
	Links         apiChangeLinks `json:"links"`
	// Report is the diffing.Report of the change, as RenderJSON writes it;
	// only GET /api/v1/changes/{id} carries it.
	Report json.RawMessage `json:"report,omitempty"`
}

type apiWindow struct {
	LastOld  apiCapture `json:"last_old"`
	FirstNew apiCapture `json:"first_new"`
}

type apiChangeLinks struct {
	Self   string `json:"self"`
	Page   string `json:"page"`
	Diff   string `json:"diff"`
	Vendor string `json:"vendor"`
}

type apiErrorDoc struct {
	Error string `json:"error"`
	// Endpoints lists the API's paths, on the 404 of an unknown one.
	Endpoints []string `json:"endpoints,omitempty"`
}

// apiVendors lists every vendor: the configured ones in config order, then
// those only the store still knows.
func (s *Server) apiVendors(w http.ResponseWriter, r *http.Request) {
	if err := apiOnlyParams(r); err != nil {
		s.apiFail(w, r, err)
		return
	}
	sums, err := s.summaries(r.Context())
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	doc := apiVendorsDoc{SchemaVersion: apiSchemaVersion, Vendors: make([]apiVendorJSON, 0, len(sums))}
	for _, sum := range sums {
		doc.Vendors = append(doc.Vendors, apiVendorOf(sum))
	}
	s.apiWrite(w, r, http.StatusOK, doc)
}

// apiVendor describes one vendor, as the list does.
func (s *Server) apiVendor(w http.ResponseWriter, r *http.Request) {
	if err := apiOnlyParams(r); err != nil {
		s.apiFail(w, r, err)
		return
	}
	sum, err := s.vendorSummary(r.Context(), r.PathValue("name"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.apiWrite(w, r, http.StatusOK, apiVendorDoc{SchemaVersion: apiSchemaVersion, Vendor: apiVendorOf(sum)})
}

// apiVersions lists a vendor's versions in archive order. Bodies are left
// out unless asked for: a long history's texts run to megabytes, and most
// callers only want to know what changed when.
func (s *Server) apiVersions(w http.ResponseWriter, r *http.Request) {
	if err := apiOnlyParams(r, "include"); err != nil {
		s.apiFail(w, r, err)
		return
	}
	withBody := false
	switch inc := r.URL.Query().Get("include"); inc {
	case "":
	case "body":
		withBody = true
	default:
		s.apiFail(w, r, badRequestf("include %q: the only value is body (adds each version's markdown)", inc))
		return
	}
	ctx := r.Context()
	v, err := s.storedVendor(ctx, r.PathValue("name"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	versions, err := s.db.Versions(ctx, v.ID)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	doc := apiVersionsDoc{SchemaVersion: apiSchemaVersion, Vendor: v.Name, Versions: make([]apiVersionJSON, 0, len(versions))}
	for _, ver := range versions {
		doc.Versions = append(doc.Versions, apiVersionOf(v.Name, ver, withBody))
	}
	s.apiWrite(w, r, http.StatusOK, doc)
}

// apiVersion returns one version with its text.
func (s *Server) apiVersion(w http.ResponseWriter, r *http.Request) {
	if err := apiOnlyParams(r); err != nil {
		s.apiFail(w, r, err)
		return
	}
	ctx := r.Context()
	v, err := s.storedVendor(ctx, r.PathValue("name"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	ver, err := s.version(ctx, v, r.PathValue("id"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.apiWrite(w, r, http.StatusOK, apiVersionDoc{SchemaVersion: apiSchemaVersion, Vendor: v.Name, Version: apiVersionOf(v.Name, ver, true)})
}

// apiDiff compares any two of a vendor's versions and answers the Report of
// docs/changes.md as it is, so that a script reads the API's diff and
// `policywatch diff --format json` with the same code.
func (s *Server) apiDiff(w http.ResponseWriter, r *http.Request) {
	if err := apiOnlyParams(r, "from", "from_at", "to", "to_at"); err != nil {
		s.apiFail(w, r, err)
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	// The parameters are checked before the vendor is looked up, so that a
	// malformed request is told so whatever vendor it names.
	for _, side := range []string{"from", "to"} {
		if err := apiCheckSide(q, side); err != nil {
			s.apiFail(w, r, err)
			return
		}
	}
	v, err := s.storedVendor(ctx, r.PathValue("name"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	oldV, err := s.apiDiffSide(ctx, v, q, "from")
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	newV, err := s.apiDiffSide(ctx, v, q, "to")
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	rep, err := s.compareReport(ctx, v, oldV, newV)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := diffing.RenderJSON(&buf, rep); err != nil {
		s.apiFail(w, r, fmt.Errorf("render diff of vendor %q: %w", v.Name, err))
		return
	}
	apiSend(w, http.StatusOK, buf.Bytes())
}

// apiCheckSide checks one side of a diff without touching the store: a
// version id or a timestamp, not both, not neither.
func apiCheckSide(q url.Values, side string) error {
	id, at := q.Get(side), q.Get(side+"_at")
	switch {
	case id != "" && at != "":
		return badRequestf("%s and %s_at: give one of them, not both", side, side)
	case id != "":
		if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
			return badRequestf("%s %q: want a version id (a number, as listed by /api/v1/vendors/{name}/versions); for the version in effect at a time use %s_at=TIMESTAMP", side, id, side)
		}
	case at != "":
		if !apiValidTimestamp(at) {
			return badRequestf("%s_at %q: want a Wayback timestamp of 1 to 14 digits (YYYYMMDDhhmmss, e.g. 2021 or 20210310081502)", side, at)
		}
	default:
		return badRequestf("missing %s: give %s=VERSION_ID or %s_at=TIMESTAMP (1 to 14 digits)", side, side, side)
	}
	return nil
}

// apiDiffSide returns the version one side of a diff names, once
// apiCheckSide has accepted it.
func (s *Server) apiDiffSide(ctx context.Context, v *store.Vendor, q url.Values, side string) (*store.Version, error) {
	if id := q.Get(side); id != "" {
		return s.version(ctx, v, id)
	}
	at := q.Get(side + "_at")
	ver, _, err := s.db.VersionAt(ctx, v.ID, at)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundf("%s_at %s: vendor %q has no version in effect then (its history starts later)", side, at, v.Name)
	}
	return ver, err
}

// apiChanges lists archive changes across vendors, newest first, a page at
// a time. The cursor is the first-capture timestamp of the page's last
// change, which is what store.RecentChanges pages on.
func (s *Server) apiChanges(w http.ResponseWriter, r *http.Request) {
	if err := apiOnlyParams(r, "vendor", "min_severity", "kind", "before", "limit"); err != nil {
		s.apiFail(w, r, err)
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	filter := store.ChangeFilter{Cause: store.CauseArchive, MinLevel: q.Get("min_severity")}
	if err := checkLevel("min_severity", filter.MinLevel); err != nil {
		s.apiFail(w, r, err)
		return
	}
	kind := q.Get("kind")
	if kind != "" && !slices.Contains(apiKinds, kind) {
		s.apiFail(w, r, badRequestf("kind %q: want one of %s", kind, strings.Join(apiKinds, ", ")))
		return
	}
	if before := q.Get("before"); before != "" {
		if !apiValidTimestamp(before) {
			s.apiFail(w, r, badRequestf("before %q: want a Wayback timestamp of 1 to 14 digits (YYYYMMDDhhmmss), as in the next link of the previous page", before))
			return
		}
		// A shorter timestamp stands for the start of its period, so
		// before=2022 means before 2022-01-01.
		filter.Before = before + "00000101000000"[len(before):]
	}
	limit := apiDefaultLimit
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > apiMaxLimit {
			s.apiFail(w, r, badRequestf("limit %q: want a number from 1 to %d (default %d)", l, apiMaxLimit, apiDefaultLimit))
			return
		}
		limit = n
	}
	vendors, err := s.db.Vendors(ctx)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	doc := apiChangesDoc{SchemaVersion: apiSchemaVersion, Changes: []apiChangeJSON{}}
	if name := q.Get("vendor"); name != "" {
		id, err := s.apiFilterVendor(ctx, name)
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		if id == 0 { // configured, never fetched: no changes yet
			s.apiWrite(w, r, http.StatusOK, doc)
			return
		}
		filter.VendorID = id
	}
	var keep func(*store.Change) bool
	if kind != "" {
		keep = func(ch *store.Change) bool { return slices.Contains(ch.Kinds, kind) }
	}
	page, cursor, err := s.apiRecentPage(ctx, filter, limit, keep)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	names := apiVendorNames(vendors)
	for _, ch := range page {
		doc.Changes = append(doc.Changes, apiChangeOf(names[ch.VendorID], ch))
	}
	if cursor != "" {
		next := url.Values{"before": {cursor}}
		for _, p := range []string{"vendor", "min_severity", "kind", "limit"} {
			if v := q.Get(p); v != "" {
				next.Set(p, v)
			}
		}
		link := "/api/v1/changes?" + next.Encode()
		doc.Next = &link
	}
	s.apiWrite(w, r, http.StatusOK, doc)
}

// apiFilterVendor returns the stored id of the vendor a filter names, 0 for
// a configured vendor that has no stored history yet (it has no changes,
// which is an answer, not an error), or not found.
func (s *Server) apiFilterVendor(ctx context.Context, name string) (int64, error) {
	v, err := s.db.VendorByName(ctx, name)
	if err == nil {
		return v.ID, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	for _, c := range s.opts.Vendors() {
		if strings.EqualFold(c.Name, name) {
			return 0, nil
		}
	}
	return 0, notFoundf("vendor %q is neither configured nor stored (GET /api/v1/vendors lists them)", name)
}

// apiRecentPage returns up to limit changes matching filter and keep (nil
// keeps all), newest first, and the cursor of the next page, "" when there
// is none.
//
// The store pages on the first-capture timestamp alone ("older than
// before"), so a page must never end inside a run of changes that share one
// timestamp (several vendors captured in the same second): the rest of the
// run would be skipped by the next page. Batches and pages are therefore
// cut at timestamp boundaries; a run longer than limit makes one longer
// page rather than losing changes.
func (s *Server) apiRecentPage(ctx context.Context, filter store.ChangeFilter, limit int, keep func(*store.Change) bool) ([]*store.Change, string, error) {
	batch := max(limit+1, apiDefaultLimit)
	var found []*store.Change
	exhausted := false
	for !exhausted && len(found) <= limit {
		filter.Limit = batch
		got, err := s.db.RecentChanges(ctx, filter)
		if err != nil {
			return nil, "", err
		}
		if len(got) < batch {
			exhausted = true
		} else {
			// The last run may go on past this batch: leave it to the next.
			i := len(got)
			for i > 0 && apiTS(got[i-1]) == apiTS(got[len(got)-1]) {
				i--
			}
			if i == 0 { // the whole batch is one run: ask for a bigger one
				batch *= 2
				continue
			}
			got = got[:i]
			filter.Before = apiTS(got[i-1])
		}
		for _, ch := range got {
			if keep == nil || keep(ch) {
				found = append(found, ch)
			}
		}
	}
	if len(found) <= limit {
		return found, "", nil // the loop only stops short of limit when the store has no more
	}
	// found holds whole runs only. Cut the page before the run that
	// straddles the limit, or, when that run starts the page, take it whole.
	end := limit
	if apiTS(found[end]) == apiTS(found[end-1]) {
		for end > 0 && apiTS(found[end-1]) == apiTS(found[limit]) {
			end--
		}
		if end == 0 {
			for end < len(found) && apiTS(found[end]) == apiTS(found[0]) {
				end++
			}
		}
	}
	if end == len(found) && exhausted {
		return found, "", nil
	}
	return found[:end], apiTS(found[end-1]), nil
}

// apiTS is the timestamp a change is sorted and paged by: its first capture
// with the new text.
func apiTS(ch *store.Change) string { return ch.NewCapture.Timestamp }

// apiChange returns one change with its full report.
func (s *Server) apiChange(w http.ResponseWriter, r *http.Request) {
	if err := apiOnlyParams(r); err != nil {
		s.apiFail(w, r, err)
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		s.apiFail(w, r, badRequestf("change %q: want the number of a change, as listed by /api/v1/changes", id))
		return
	}
	ch, err := s.db.ChangeByID(ctx, n)
	if errors.Is(err, store.ErrNotFound) {
		err = notFoundf("change %d does not exist (GET /api/v1/changes lists them)", n)
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	v, err := s.apiVendorByID(ctx, ch.VendorID)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	rep, err := s.changeReport(ctx, v, ch)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := diffing.RenderJSON(&buf, rep); err != nil {
		s.apiFail(w, r, fmt.Errorf("render change %d: %w", ch.ID, err))
		return
	}
	c := apiChangeOf(v.Name, ch)
	c.Report = json.RawMessage(buf.Bytes())
	s.apiWrite(w, r, http.StatusOK, apiChangeDoc{SchemaVersion: apiSchemaVersion, Change: c})
}

// apiVendorByID returns the stored vendor with this id. The store looks
// vendors up by name only; the list is short, so it is searched here.
func (s *Server) apiVendorByID(ctx context.Context, id int64) (*store.Vendor, error) {
	vendors, err := s.db.Vendors(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range vendors {
		if v.ID == id {
			return v, nil
		}
	}
	return nil, fmt.Errorf("vendor %d: %w", id, store.ErrNotFound)
}

// apiVendorNames maps stored vendor ids to names, for lists that span vendors.
func apiVendorNames(vendors []*store.Vendor) map[int64]string {
	m := make(map[int64]string, len(vendors))
	for _, v := range vendors {
		m[v.ID] = v.Name
	}
	return m
}

// apiNotFound answers every other path under /api/v1/ with a JSON 404 that
// lists the endpoints, rather than the dashboard's HTML or plain text a
// script could not parse.
func (s *Server) apiNotFound(w http.ResponseWriter, r *http.Request) {
	s.apiWrite(w, r, http.StatusNotFound, apiErrorDoc{
		Error:     fmt.Sprintf("no API endpoint at %s; the endpoints are: %s (docs/api.md)", r.URL.Path, strings.Join(apiEndpoints, "; ")),
		Endpoints: apiEndpoints,
	})
}

// apiOnlyParams refuses query parameters an endpoint does not know: a
// misspelt filter (min_severty=high) would otherwise silently return
// everything, which a script would take for the filtered answer.
func apiOnlyParams(r *http.Request, known ...string) error {
	var unknown []string
	for p := range r.URL.Query() {
		if !slices.Contains(known, p) {
			unknown = append(unknown, p)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	accepted := "none"
	if len(known) > 0 {
		accepted = strings.Join(known, ", ")
	}
	return badRequestf("unknown parameter %s: this endpoint accepts %s", strings.Join(apiQuoteAll(unknown), ", "), accepted)
}

func apiQuoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strconv.Quote(s)
	}
	return out
}

// apiValidTimestamp reports whether ts is a Wayback timestamp or a prefix
// of one: 1 to 14 digits.
func apiValidTimestamp(ts string) bool {
	return ts != "" && len(ts) <= 14 && strings.Trim(ts, "0123456789") == ""
}

// apiFail answers err as a JSON error document with the status
// publicMessage gives it.
func (s *Server) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := s.publicMessage(r, err)
	s.apiWrite(w, r, code, apiErrorDoc{Error: msg})
}

// apiWrite encodes doc as indented JSON. encoding/json's default escaping
// of <, > and & is kept on purpose: archived text then never appears as
// markup in the bytes, so a response that some client sniffs as HTML still
// cannot run anything.
func (s *Server) apiWrite(w http.ResponseWriter, r *http.Request, code int, doc any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		s.logger.Error("encode API response", "path", r.URL.Path, "err", err)
		buf.Reset()
		code = http.StatusInternalServerError
		buf.WriteString("{\n  \"error\": \"internal error: the server log has the details\"\n}\n")
	}
	apiSend(w, code, buf.Bytes())
}

func apiSend(w http.ResponseWriter, code int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}

// apiVendorOf is a vendor summary as the API shows it.
func apiVendorOf(sum *VendorSummary) apiVendorJSON {
	out := apiVendorJSON{
		Name:       sum.Name,
		URL:        sum.URL,
		Configured: sum.Configured,
		Versions:   sum.Versions,
		Changes:    sum.Changes,
		NextPassAt: apiTime(sum.NextPass),
		Health:     apiHealth{Status: sum.Health()},
		Links: apiVendorLinks{
			Self:     apiLinkVendor(sum.Name),
			Versions: apiLinkVendor(sum.Name) + "/versions",
			Feed:     apiLinkVendorFeed(sum.Name),
			Page:     apiLinkVendorPage(sum.Name),
		},
	}
	if st := sum.Stored; st != nil {
		out.Health.LastPassAt = apiTime(st.LastPassAt)
		out.Health.LastOKAt = apiTime(st.LastOKAt)
		out.Health.Error = apiOptional(st.LastPassError)
	}
	if ver := sum.Latest; ver != nil {
		out.LatestVersion = &apiVersionRef{
			ID:              ver.ID,
			FirstTimestamp:  ver.First.Timestamp,
			FirstWaybackURL: ver.First.WaybackURL(),
			StatedDate:      apiOptional(ver.StatedDate),
			Title:           ver.Title,
			URL:             apiLinkVersion(sum.Name, ver.ID),
			Page:            apiLinkVersionPage(sum.Name, ver.ID),
		}
	}
	if ch := sum.LastChange; ch != nil {
		out.LastChange = &apiChangeRef{
			ID:           ch.ID,
			Kinds:        apiStrings(ch.Kinds),
			Severity:     apiSeverity{Level: ch.SeverityLevel, Score: ch.Severity},
			NewTimestamp: ch.NewCapture.Timestamp,
			URL:          apiLinkChange(ch.ID),
			Page:         apiLinkChangePage(sum.Name, ch.ID),
		}
	}
	return out
}

// apiVersionOf is a version as the API shows it, with its text when
// withBody is set.
func apiVersionOf(vendor string, ver *store.Version, withBody bool) apiVersionJSON {
	out := apiVersionJSON{
		ID:             ver.ID,
		SHA256:         ver.SHA256,
		Title:          ver.Title,
		StatedDate:     apiOptional(ver.StatedDate),
		StatedDateText: apiOptional(ver.StatedDateText),
		FirstCapture:   apiCaptureOf(ver.First),
		LastCapture:    apiCaptureOf(ver.Last),
		Captures:       ver.Captures,
		Extractor:      ver.Extractor,
		Links:          apiVersionLinks{Self: apiLinkVersion(vendor, ver.ID), Page: apiLinkVersionPage(vendor, ver.ID)},
	}
	if withBody {
		md := ver.Document().Markdown()
		out.Markdown = &md
	}
	return out
}

func apiCaptureOf(c *store.Capture) apiCapture {
	if c == nil {
		return apiCapture{}
	}
	return apiCapture{Timestamp: c.Timestamp, CapturedAt: apiWaybackTime(c.Timestamp), WaybackURL: c.WaybackURL(), URL: c.Original}
}

// apiChangeOf is a change as lists show it, without its report.
func apiChangeOf(vendor string, ch *store.Change) apiChangeJSON {
	return apiChangeJSON{
		ID:            ch.ID,
		Vendor:        vendor,
		Cause:         ch.Cause,
		Kinds:         apiStrings(ch.Kinds),
		Severity:      apiSeverity{Level: ch.SeverityLevel, Score: ch.Severity},
		TextChanged:   ch.TextChanged,
		DateChanged:   ch.DateChanged,
		LinesAdded:    ch.LinesAdded,
		LinesRemoved:  ch.LinesRemoved,
		OldStatedDate: apiOptional(ch.OldStatedDate),
		NewStatedDate: apiOptional(ch.NewStatedDate),
		Window:        apiWindow{LastOld: apiCaptureOf(ch.OldCapture), FirstNew: apiCaptureOf(ch.NewCapture)},
		FromVersion:   ch.FromVersionID,
		ToVersion:     ch.ToVersionID,
		DetectedAt:    apiTime(ch.CreatedAt),
		Links: apiChangeLinks{
			Self:   apiLinkChange(ch.ID),
			Page:   apiLinkChangePage(vendor, ch.ID),
			Diff:   apiLinkVendor(vendor) + "/diff?" + url.Values{"from": {strconv.FormatInt(ch.FromVersionID, 10)}, "to": {strconv.FormatInt(ch.ToVersionID, 10)}}.Encode(),
			Vendor: apiLinkVendor(vendor),
		},
	}
}

// Paths of the server's resources, root-relative, so that they stay right
// whatever host or proxy the client reached the server through. Vendor
// names are escaped as one path segment: a name may hold spaces, slashes
// or anything else.

func apiLinkVendor(name string) string { return "/api/v1/vendors/" + url.PathEscape(name) }

func apiLinkVersion(name string, id int64) string {
	return apiLinkVendor(name) + "/versions/" + strconv.FormatInt(id, 10)
}

func apiLinkChange(id int64) string { return "/api/v1/changes/" + strconv.FormatInt(id, 10) }

func apiLinkVendorPage(name string) string { return "/vendors/" + url.PathEscape(name) }

func apiLinkVersionPage(name string, id int64) string {
	return apiLinkVendorPage(name) + "/versions/" + strconv.FormatInt(id, 10)
}

func apiLinkChangePage(name string, id int64) string {
	return apiLinkVendorPage(name) + "/changes/" + strconv.FormatInt(id, 10)
}

func apiLinkVendorFeed(name string) string { return "/feeds/vendors/" + url.PathEscape(name) + ".atom" }

// apiOptional is s, or nil (JSON null) when it is empty.
func apiOptional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// apiTime is t in UTC as RFC 3339, or nil for the zero time.
func apiTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

// apiWaybackTime is a 14-digit Wayback timestamp as RFC 3339, or nil when it
// does not parse.
func apiWaybackTime(ts string) *string {
	t, err := time.Parse(apiWaybackLayout, ts)
	if err != nil {
		return nil
	}
	return apiTime(t)
}

func apiStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
