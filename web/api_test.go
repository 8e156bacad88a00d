package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/monitor"
	"github.com/policywatch/policywatch/store"
)

// The API's documents as a script would declare them (docs/api.md).
// Nullable fields are pointers, so a test can tell null from "".

type apiVendorsResp struct {
	SchemaVersion int          `json:"schema_version"`
	Vendors       []apiVendorT `json:"vendors"`
}

type apiVendorResp struct {
	SchemaVersion int        `json:"schema_version"`
	Vendor        apiVendorT `json:"vendor"`
}

type apiVendorT struct {
	Name          string `json:"name"`
	URL           string `json:"url"`
	Configured    bool   `json:"configured"`
	Versions      int    `json:"versions"`
	Changes       int    `json:"changes"`
	LatestVersion *struct {
		ID              int64   `json:"id"`
		FirstTimestamp  string  `json:"first_timestamp"`
		FirstWaybackURL string  `json:"first_wayback_url"`
		StatedDate      *string `json:"stated_date"`
		Title           string  `json:"title"`
		URL             string  `json:"url"`
		Page            string  `json:"page"`
	} `json:"latest_version"`
	LastChange *struct {
		ID           int64       `json:"id"`
		Kinds        []string    `json:"kinds"`
		Severity     apiSeverity `json:"severity"`
		NewTimestamp string      `json:"new_timestamp"`
		URL          string      `json:"url"`
		Page         string      `json:"page"`
	} `json:"last_change"`
	NextPassAt *string `json:"next_pass_at"`
	Health     struct {
		Status     string  `json:"status"`
		LastPassAt *string `json:"last_pass_at"`
		LastOKAt   *string `json:"last_ok_at"`
		Error      *string `json:"error"`
	} `json:"health"`
	Links struct {
		Self     string `json:"self"`
		Versions string `json:"versions"`
		Feed     string `json:"feed"`
		Page     string `json:"page"`
	} `json:"links"`
}

type apiSeverity struct {
	Level string `json:"level"`
	Score int    `json:"score"`
}

type apiCaptureT struct {
	Timestamp  string  `json:"timestamp"`
	CapturedAt *string `json:"captured_at"`
	WaybackURL string  `json:"wayback_url"`
	URL        string  `json:"url"`
}

type apiVersionsResp struct {
	SchemaVersion int           `json:"schema_version"`
	Vendor        string        `json:"vendor"`
	Versions      []apiVersionT `json:"versions"`
}

type apiVersionResp struct {
	SchemaVersion int         `json:"schema_version"`
	Vendor        string      `json:"vendor"`
	Version       apiVersionT `json:"version"`
}

type apiVersionT struct {
	ID             int64       `json:"id"`
	SHA256         string      `json:"sha256"`
	Title          string      `json:"title"`
	StatedDate     *string     `json:"stated_date"`
	StatedDateText *string     `json:"stated_date_text"`
	FirstCapture   apiCaptureT `json:"first_capture"`
	LastCapture    apiCaptureT `json:"last_capture"`
	Captures       int         `json:"captures"`
	Extractor      string      `json:"extractor"`
	Markdown       *string     `json:"markdown"`
	Links          struct {
		Self string `json:"self"`
		Page string `json:"page"`
	} `json:"links"`
}

type apiChangesResp struct {
	SchemaVersion int          `json:"schema_version"`
	Changes       []apiChangeT `json:"changes"`
	Next          *string      `json:"next"`
}

type apiChangeResp struct {
	SchemaVersion int        `json:"schema_version"`
	Change        apiChangeT `json:"change"`
}

type apiChangeT struct {
	ID            int64       `json:"id"`
	Vendor        string      `json:"vendor"`
	Cause         string      `json:"cause"`
	Kinds         []string    `json:"kinds"`
	Severity      apiSeverity `json:"severity"`
	TextChanged   bool        `json:"text_changed"`
	DateChanged   bool        `json:"date_changed"`
	LinesAdded    int         `json:"lines_added"`
	LinesRemoved  int         `json:"lines_removed"`
	OldStatedDate *string     `json:"old_stated_date"`
	NewStatedDate *string     `json:"new_stated_date"`
	Window        struct {
		LastOld  apiCaptureT `json:"last_old"`
		FirstNew apiCaptureT `json:"first_new"`
	} `json:"window"`
	FromVersion int64   `json:"from_version"`
	ToVersion   int64   `json:"to_version"`
	DetectedAt  *string `json:"detected_at"`
	Links       struct {
		Self   string `json:"self"`
		Page   string `json:"page"`
		Diff   string `json:"diff"`
		Vendor string `json:"vendor"`
	} `json:"links"`
	Report *diffing.Report `json:"report"`
}

type apiErrorResp struct {
	Error     string   `json:"error"`
	Endpoints []string `json:"endpoints"`
}

// apiGet fetches an API path, checks what every API response must be (the
// status, JSON with the right headers, no raw markup), decodes it into
// into and returns the raw body.
func apiGet(t *testing.T, f *fixture, path string, wantStatus int, into any) string {
	t.Helper()
	resp, body := rawGet(t, f.URL+path)
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s = %d, want %d: %s", path, resp.StatusCode, wantStatus, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("GET %s: Content-Type %q", path, ct)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("GET %s: X-Content-Type-Options %q", path, got)
	}
	if strings.Contains(strings.ToLower(string(body)), "<script") || strings.ContainsAny(string(body), "<>") {
		t.Errorf("GET %s: raw JSON holds < or >: encoding/json's HTML escaping must stay on", path)
	}
	if !strings.HasPrefix(string(body), "{\n  \"") {
		t.Errorf("GET %s: want an indented JSON object, got %.40q", path, body)
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Fatalf("GET %s: decode: %v\n%s", path, err, body)
	}
	return string(body)
}

// apiError fetches a path that must fail and returns its JSON message.
func apiError(t *testing.T, f *fixture, path string, wantStatus int) string {
	t.Helper()
	var e apiErrorResp
	apiGet(t, f, path, wantStatus, &e)
	if e.Error == "" {
		t.Errorf("GET %s: empty error message", path)
	}
	return e.Error
}

func apiID(n int64) string { return strconv.FormatInt(n, 10) }

func apiStr(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

func TestAPIVendors(t *testing.T) {
	f := newFixture(t)
	var got apiVendorsResp
	apiGet(t, f, "/api/v1/vendors", http.StatusOK, &got)
	if got.SchemaVersion != 1 {
		t.Errorf("schema_version = %d, want 1", got.SchemaVersion)
	}
	if len(got.Vendors) != 3 || got.Vendors[0].Name != acmeName || got.Vendors[1].Name != evilName || got.Vendors[2].Name != initechName {
		t.Fatalf("vendors = %+v, want Acme, Evil, Initech in config order", got.Vendors)
	}
	acme, evil, initech := got.Vendors[0], got.Vendors[1], got.Vendors[2]

	t.Run("acme", func(t *testing.T) {
		if acme.URL != acmeURL || !acme.Configured || acme.Versions != 3 || acme.Changes != 2 {
			t.Errorf("acme = %+v", acme)
		}
		lv := acme.LatestVersion
		if lv == nil || apiStr(lv.StatedDate) != "2022-06-14" || lv.ID != f.AcmeVersions[2].ID || lv.FirstTimestamp != "20230201000000" ||
			lv.FirstWaybackURL != "https://web.archive.org/web/20230201000000id_/"+acmeURL || lv.Title == "" {
			t.Errorf("latest_version = %+v", lv)
		}
		lc := acme.LastChange
		silent := f.AcmeChanges[1]
		if lc == nil || lc.ID != silent.ID || len(lc.Kinds) != 1 || lc.Kinds[0] != "silent" || lc.NewTimestamp != "20230201000000" ||
			lc.Severity.Level != silent.SeverityLevel || lc.Severity.Score != silent.Severity {
			t.Errorf("last_change = %+v", lc)
		}
		if lc != nil && (lc.URL != "/api/v1/changes/"+apiID(silent.ID) || lc.Page != "/vendors/Acme%20Cloud/changes/"+apiID(silent.ID)) {
			t.Errorf("last_change links = %q, %q", lc.URL, lc.Page)
		}
		if want := acmeNext.Format(time.RFC3339); apiStr(acme.NextPassAt) != want {
			t.Errorf("next_pass_at = %s, want %s", apiStr(acme.NextPassAt), want)
		}
		h := acme.Health
		if want := seedNow.Add(-13 * time.Minute).Format(time.RFC3339); h.Status != "ok" || apiStr(h.LastPassAt) != want || apiStr(h.LastOKAt) != want || h.Error != nil {
			t.Errorf("health = %+v", h)
		}
		l := acme.Links
		if l.Self != "/api/v1/vendors/Acme%20Cloud" || l.Versions != "/api/v1/vendors/Acme%20Cloud/versions" ||
			l.Feed != "/feeds/vendors/Acme%20Cloud.atom" || l.Page != "/vendors/Acme%20Cloud" {
			t.Errorf("links = %+v", l)
		}
	})
	t.Run("evil", func(t *testing.T) {
		h := evil.Health
		if h.Status != "failing" || apiStr(h.Error) != evilError || h.LastOKAt != nil || h.LastPassAt == nil {
			t.Errorf("health = %+v", h)
		}
		if evil.NextPassAt != nil {
			t.Errorf("next_pass_at = %s, want null", apiStr(evil.NextPassAt))
		}
		if want := "/api/v1/vendors/" + url.PathEscape(evilName); evil.Links.Self != want {
			t.Errorf("self = %q, want %q", evil.Links.Self, want)
		}
	})
	t.Run("initech never fetched", func(t *testing.T) {
		if initech.LatestVersion != nil || initech.LastChange != nil || initech.Versions != 0 || initech.Health.Status != "never" ||
			initech.Health.LastPassAt != nil || initech.Health.Error != nil {
			t.Errorf("initech = %+v", initech)
		}
	})
	t.Run("links resolve", func(t *testing.T) {
		for _, v := range got.Vendors[:2] {
			var one apiVendorResp
			apiGet(t, f, v.Links.Self, http.StatusOK, &one)
			if one.Vendor.Name != v.Name {
				t.Errorf("GET %s: name %q, want %q", v.Links.Self, one.Vendor.Name, v.Name)
			}
			var vs apiVersionsResp
			apiGet(t, f, v.Links.Versions, http.StatusOK, &vs)
			if len(vs.Versions) != v.Versions {
				t.Errorf("GET %s: %d versions, want %d", v.Links.Versions, len(vs.Versions), v.Versions)
			}
		}
	})
}

func TestAPIVendor(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		path     string
		status   int
		wantName string // or a piece of the error
	}{
		{"/api/v1/vendors/Acme%20Cloud", 200, acmeName},
		{"/api/v1/vendors/acme%20cloud", 200, acmeName},
		{"/api/v1/vendors/" + url.PathEscape(evilName), 200, evilName},
		{"/api/v1/vendors/Initech", 200, initechName},
		{"/api/v1/vendors/Globex", 404, `"Globex"`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			if tc.status != http.StatusOK {
				if msg := apiError(t, f, tc.path, tc.status); !strings.Contains(msg, tc.wantName) {
					t.Errorf("error %q does not name %s", msg, tc.wantName)
				}
				return
			}
			var got apiVendorResp
			apiGet(t, f, tc.path, tc.status, &got)
			if got.SchemaVersion != 1 || got.Vendor.Name != tc.wantName {
				t.Errorf("got %+v, want vendor %q", got, tc.wantName)
			}
		})
	}
}

func TestAPIVersions(t *testing.T) {
	f := newFixture(t)
	t.Run("archive order without bodies", func(t *testing.T) {
		var got apiVersionsResp
		apiGet(t, f, "/api/v1/vendors/Acme%20Cloud/versions", http.StatusOK, &got)
		if got.Vendor != acmeName || len(got.Versions) != 3 {
			t.Fatalf("got vendor %q with %d versions, want Acme Cloud with 3", got.Vendor, len(got.Versions))
		}
		wantFirst := []string{"20210310081502", "20220701120505", "20230201000000"}
		wantLast := []string{"20210922174411", "20220915064010", "20230601000000"}
		wantDates := []string{"2021-03-01", "2022-06-14", "2022-06-14"}
		for i, v := range got.Versions {
			sv := f.AcmeVersions[i]
			if v.ID != sv.ID || v.SHA256 != sv.SHA256 || v.Title != sv.Title || v.Captures != 2 || v.Extractor == "" {
				t.Errorf("version %d = %+v, want the store's %+v", i, v, sv)
			}
			if v.FirstCapture.Timestamp != wantFirst[i] || v.LastCapture.Timestamp != wantLast[i] || apiStr(v.StatedDate) != wantDates[i] {
				t.Errorf("version %d: first %s last %s stated %s", i, v.FirstCapture.Timestamp, v.LastCapture.Timestamp, apiStr(v.StatedDate))
			}
			if v.FirstCapture.URL != acmeURL || v.FirstCapture.WaybackURL != "https://web.archive.org/web/"+wantFirst[i]+"id_/"+acmeURL {
				t.Errorf("version %d first capture = %+v", i, v.FirstCapture)
			}
			if at, _ := time.Parse("20060102150405", wantFirst[i]); apiStr(v.FirstCapture.CapturedAt) != at.Format(time.RFC3339) {
				t.Errorf("version %d captured_at = %s", i, apiStr(v.FirstCapture.CapturedAt))
			}
			if v.StatedDateText == nil || !strings.Contains(*v.StatedDateText, "Last updated") {
				t.Errorf("version %d stated_date_text = %s", i, apiStr(v.StatedDateText))
			}
			if v.Markdown != nil {
				t.Errorf("version %d carries markdown without include=body", i)
			}
			if want := "/api/v1/vendors/Acme%20Cloud/versions/" + apiID(sv.ID); v.Links.Self != want || v.Links.Page != "/vendors/Acme%20Cloud/versions/"+apiID(sv.ID) {
				t.Errorf("version %d links = %+v", i, v.Links)
			}
		}
	})
	t.Run("include=body", func(t *testing.T) {
		var got apiVersionsResp
		apiGet(t, f, "/api/v1/vendors/Acme%20Cloud/versions?include=body", http.StatusOK, &got)
		for i, v := range got.Versions {
			if want := f.AcmeVersions[i].Document().Markdown(); apiStr(v.Markdown) != want {
				t.Errorf("version %d markdown = %.80q…, want %.80q…", i, apiStr(v.Markdown), want)
			}
		}
	})
	for _, tc := range []struct {
		name, path string
		status     int
		want       string
	}{
		{"never fetched", "/api/v1/vendors/Initech/versions", 404, "fetch"},
		{"unknown vendor", "/api/v1/vendors/Globex/versions", 404, "Globex"},
		{"bad include", "/api/v1/vendors/Acme%20Cloud/versions?include=bodies", 400, "include"},
		{"unknown parameter", "/api/v1/vendors/Acme%20Cloud/versions?limit=2", 400, `"limit"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := apiError(t, f, tc.path, tc.status); !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not mention %q", msg, tc.want)
			}
		})
	}
}

func TestAPIVersion(t *testing.T) {
	f := newFixture(t)
	for i, sv := range f.AcmeVersions {
		t.Run("acme "+apiID(sv.ID), func(t *testing.T) {
			var got apiVersionResp
			apiGet(t, f, "/api/v1/vendors/Acme%20Cloud/versions/"+apiID(sv.ID), http.StatusOK, &got)
			if got.Vendor != acmeName || got.Version.ID != sv.ID || got.Version.SHA256 != sv.SHA256 {
				t.Errorf("version %d = %+v", i, got.Version)
			}
			if want := sv.Document().Markdown(); apiStr(got.Version.Markdown) != want {
				t.Errorf("markdown = %.80q…, want %.80q…", apiStr(got.Version.Markdown), want)
			}
		})
	}
	t.Run("hostile text comes back exactly", func(t *testing.T) {
		sv := f.EvilVersions[1]
		var got apiVersionResp
		apiGet(t, f, "/api/v1/vendors/"+url.PathEscape(evilName)+"/versions/"+apiID(sv.ID), http.StatusOK, &got)
		if got.Vendor != evilName || got.Version.Title != sv.Title || apiStr(got.Version.Markdown) != sv.Document().Markdown() {
			t.Errorf("got vendor %q title %q", got.Vendor, got.Version.Title)
		}
		if !strings.Contains(apiStr(got.Version.Markdown), "<script>alert('h1')</script>") {
			t.Errorf("markdown lost the hostile text: %.200q", apiStr(got.Version.Markdown))
		}
	})
	for _, tc := range []struct {
		name, path string
		status     int
		want       string
	}{
		{"another vendor's version", "/api/v1/vendors/Acme%20Cloud/versions/" + apiID(f.EvilVersions[0].ID), 404, "no version"},
		{"no such version", "/api/v1/vendors/Acme%20Cloud/versions/999999", 404, "999999"},
		{"not a number", "/api/v1/vendors/Acme%20Cloud/versions/latest", 400, `"latest"`},
		{"unknown vendor", "/api/v1/vendors/Globex/versions/1", 404, "Globex"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := apiError(t, f, tc.path, tc.status); !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not mention %q", msg, tc.want)
			}
		})
	}
}

func TestAPIDiff(t *testing.T) {
	f := newFixture(t)
	v := f.AcmeVersions
	base := "/api/v1/vendors/Acme%20Cloud/diff?"
	for _, tc := range []struct {
		name, query      string
		oldTS, newTS     string
		window           bool // a recorded change links the two
		kind, severity   string
		textChanged      bool
		lastOld, firstNw string
	}{
		{"ids of the dated change", "from=" + apiID(v[0].ID) + "&to=" + apiID(v[1].ID), "20210310081502", "20220701120505", true, "dated", "high", true, "20210922174411", "20220701120505"},
		{"ids of the silent change", "from=" + apiID(v[1].ID) + "&to=" + apiID(v[2].ID), "20220701120505", "20230201000000", true, "silent", "", true, "20220915064010", "20230201000000"},
		{"ids across both", "from=" + apiID(v[0].ID) + "&to=" + apiID(v[2].ID), "20210310081502", "20230201000000", false, "dated", "high", true, "", ""},
		{"timestamps", "from_at=2021&to_at=2023", "20210310081502", "20230201000000", false, "dated", "high", true, "", ""},
		{"full timestamps", "from_at=20220915064010&to_at=20230201000000", "20220701120505", "20230201000000", true, "silent", "", true, "20220915064010", "20230201000000"},
		{"id and timestamp", "from=" + apiID(v[0].ID) + "&to_at=20220801", "20210310081502", "20220701120505", true, "dated", "high", true, "20210922174411", "20220701120505"},
		{"same version", "from=" + apiID(v[1].ID) + "&to_at=2022", "20220701120505", "20220701120505", false, "", "", false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got diffing.Report
			apiGet(t, f, base+tc.query, http.StatusOK, &got)
			if got.SchemaVersion != diffing.ReportSchemaVersion || got.Vendor != acmeName || got.URL != acmeURL {
				t.Errorf("report head = %d %q %q", got.SchemaVersion, got.Vendor, got.URL)
			}
			if got.Old.Timestamp != tc.oldTS || got.New.Timestamp != tc.newTS {
				t.Errorf("sides = %s → %s, want %s → %s", got.Old.Timestamp, got.New.Timestamp, tc.oldTS, tc.newTS)
			}
			if (got.Window != nil) != tc.window {
				t.Fatalf("window = %+v, want present %v", got.Window, tc.window)
			}
			if got.Window != nil && (got.Window.LastOld.Timestamp != tc.lastOld || got.Window.FirstNew.Timestamp != tc.firstNw) {
				t.Errorf("window = %+v", got.Window)
			}
			if got.Change.TextChanged != tc.textChanged {
				t.Errorf("text_changed = %v", got.Change.TextChanged)
			}
			if tc.kind != "" && (len(got.Change.Kinds) == 0 || got.Change.Kinds[0] != tc.kind) {
				t.Errorf("kinds = %v, want %s", got.Change.Kinds, tc.kind)
			}
			if tc.severity != "" && got.Change.Severity.Level != tc.severity {
				t.Errorf("severity = %+v, want %s", got.Change.Severity, tc.severity)
			}
			if got.Change.Kinds == nil || got.Change.Clauses == nil || got.Change.Severity.Reasons == nil {
				t.Errorf("lists must be [] rather than null: %+v", got.Change)
			}
		})
	}
	for _, tc := range []struct {
		name, path string
		status     int
		want       string
	}{
		{"missing from", base + "to=" + apiID(v[1].ID), 400, "missing from"},
		{"missing to", base + "from=" + apiID(v[1].ID), 400, "missing to"},
		{"from not a number", base + "from=first&to=" + apiID(v[1].ID), 400, `from "first"`},
		{"to_at not digits", base + "from=" + apiID(v[0].ID) + "&to_at=2021-06", 400, `to_at "2021-06"`},
		{"from_at too long", base + "from_at=202101010000000&to=" + apiID(v[1].ID), 400, "from_at"},
		{"both from and from_at", base + "from=" + apiID(v[0].ID) + "&from_at=2021&to=" + apiID(v[1].ID), 400, "from and from_at"},
		{"unknown parameter", base + "from=" + apiID(v[0].ID) + "&to=" + apiID(v[1].ID) + "&format=html", 400, `"format"`},
		{"bad request before unknown vendor", "/api/v1/vendors/Globex/diff?from=x", 400, "from"},
		{"before the history", base + "from_at=2019&to=" + apiID(v[1].ID), 404, "from_at 2019"},
		{"another vendor's version", base + "from=" + apiID(f.EvilVersions[0].ID) + "&to=" + apiID(v[1].ID), 404, "no version"},
		{"unknown vendor", "/api/v1/vendors/Globex/diff?from=1&to=2", 404, "Globex"},
		{"never fetched", "/api/v1/vendors/Initech/diff?from_at=2021&to_at=2022", 404, "fetch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := apiError(t, f, tc.path, tc.status); !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not mention %q", msg, tc.want)
			}
		})
	}
}

func TestAPIChanges(t *testing.T) {
	f := newFixture(t)
	dated, silent, evil := f.AcmeChanges[0], f.AcmeChanges[1], f.EvilChanges[0]

	t.Run("all, newest first", func(t *testing.T) {
		var got apiChangesResp
		apiGet(t, f, "/api/v1/changes", http.StatusOK, &got)
		if got.SchemaVersion != 1 || got.Next != nil {
			t.Errorf("schema_version %d, next %s", got.SchemaVersion, apiStr(got.Next))
		}
		if len(got.Changes) != 3 || got.Changes[0].ID != silent.ID || got.Changes[1].ID != dated.ID || got.Changes[2].ID != evil.ID {
			t.Fatalf("changes = %v, want the silent, dated and evil changes", changeIDs(got.Changes))
		}
		s, d := got.Changes[0], got.Changes[1]
		if s.Vendor != acmeName || s.Cause != "archive" || len(s.Kinds) != 1 || s.Kinds[0] != "silent" || !s.TextChanged || s.DateChanged ||
			apiStr(s.OldStatedDate) != "2022-06-14" || apiStr(s.NewStatedDate) != "2022-06-14" || s.FromVersion != f.AcmeVersions[1].ID || s.ToVersion != f.AcmeVersions[2].ID {
			t.Errorf("silent change = %+v", s)
		}
		if s.Window.LastOld.Timestamp != "20220915064010" || s.Window.FirstNew.Timestamp != "20230201000000" ||
			s.Window.FirstNew.WaybackURL != "https://web.archive.org/web/20230201000000id_/"+acmeURL || apiStr(s.Window.FirstNew.CapturedAt) != "2023-02-01T00:00:00Z" {
			t.Errorf("silent window = %+v", s.Window)
		}
		if d.Severity.Level != "high" || d.Severity.Score != dated.Severity || len(d.Kinds) != 1 || d.Kinds[0] != "dated" || !d.DateChanged ||
			apiStr(d.OldStatedDate) != "2021-03-01" || apiStr(d.NewStatedDate) != "2022-06-14" || d.LinesAdded != dated.LinesAdded || d.LinesRemoved != dated.LinesRemoved {
			t.Errorf("dated change = %+v", d)
		}
		if got.Changes[2].Vendor != evilName {
			t.Errorf("evil vendor = %q, want %q", got.Changes[2].Vendor, evilName)
		}
		l := s.Links
		if l.Self != "/api/v1/changes/"+apiID(silent.ID) || l.Page != "/vendors/Acme%20Cloud/changes/"+apiID(silent.ID) ||
			l.Diff != "/api/v1/vendors/Acme%20Cloud/diff?from="+apiID(silent.FromVersionID)+"&to="+apiID(silent.ToVersionID) || l.Vendor != "/api/v1/vendors/Acme%20Cloud" {
			t.Errorf("links = %+v", l)
		}
		if s.Report != nil {
			t.Error("the list carries reports; only /api/v1/changes/{id} should")
		}
		// Every link of every change answers.
		for _, c := range got.Changes {
			var one apiChangeResp
			apiGet(t, f, c.Links.Self, http.StatusOK, &one)
			var rep diffing.Report
			apiGet(t, f, c.Links.Diff, http.StatusOK, &rep)
			if rep.Window == nil || rep.Window.FirstNew.Timestamp != c.Window.FirstNew.Timestamp {
				t.Errorf("GET %s: window %+v, want the change's", c.Links.Diff, rep.Window)
			}
		}
	})

	for _, tc := range []struct {
		name, query string
		want        []int64
	}{
		{"vendor", "vendor=Acme%20Cloud", []int64{silent.ID, dated.ID}},
		{"vendor case-insensitive", "vendor=acme%20cloud", []int64{silent.ID, dated.ID}},
		{"hostile vendor", "vendor=" + url.QueryEscape(evilName), []int64{evil.ID}},
		{"vendor never fetched", "vendor=Initech", nil},
		{"min_severity high", "min_severity=high", []int64{dated.ID}},
		{"min_severity medium", "min_severity=medium", []int64{dated.ID, evil.ID}},
		{"min_severity none", "min_severity=none", []int64{silent.ID, dated.ID, evil.ID}},
		{"kind silent", "kind=silent", []int64{silent.ID, evil.ID}},
		{"kind dated", "kind=dated", []int64{dated.ID}},
		{"kind date-only", "kind=date-only", nil},
		{"kind and vendor", "kind=silent&vendor=Acme%20Cloud", []int64{silent.ID}},
		{"before", "before=20220701120505", []int64{evil.ID}},
		{"before a year", "before=2023", []int64{dated.ID, evil.ID}},
		{"limit", "limit=2", []int64{silent.ID, dated.ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got apiChangesResp
			raw := apiGet(t, f, "/api/v1/changes?"+tc.query, http.StatusOK, &got)
			if ids := changeIDs(got.Changes); fmt.Sprint(ids) != fmt.Sprint(nonNilIDs(tc.want)) {
				t.Errorf("ids = %v, want %v", ids, tc.want)
			}
			if len(tc.want) == 0 && !strings.Contains(raw, `"changes": []`) {
				t.Errorf("an empty list must be [], not null:\n%s", raw)
			}
		})
	}

	for _, tc := range []struct {
		name, query string
		status      int
		want        string
	}{
		{"unknown vendor", "vendor=Globex", 404, `"Globex"`},
		{"bad severity", "min_severity=critical", 400, "min_severity"},
		{"bad kind", "kind=loud", 400, "kind"},
		{"limit zero", "limit=0", 400, "limit"},
		{"limit too big", "limit=501", 400, "limit"},
		{"limit not a number", "limit=all", 400, "limit"},
		{"before not a timestamp", "before=2022-07-01", 400, "before"},
		{"misspelt filter", "min_severty=high", 400, `"min_severty"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := apiError(t, f, "/api/v1/changes?"+tc.query, tc.status); !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not mention %q", msg, tc.want)
			}
		})
	}
}

func TestAPIChangesPaging(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, first string
		want        []int64
	}{
		{"limit 1", "/api/v1/changes?limit=1", []int64{f.AcmeChanges[1].ID, f.AcmeChanges[0].ID, f.EvilChanges[0].ID}},
		{"limit 2", "/api/v1/changes?limit=2", []int64{f.AcmeChanges[1].ID, f.AcmeChanges[0].ID, f.EvilChanges[0].ID}},
		{"filtered by kind", "/api/v1/changes?kind=silent&limit=1", []int64{f.AcmeChanges[1].ID, f.EvilChanges[0].ID}},
		{"filtered by vendor", "/api/v1/changes?vendor=Acme%20Cloud&limit=1", []int64{f.AcmeChanges[1].ID, f.AcmeChanges[0].ID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ids := followPages(t, f, tc.first)
			if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
				t.Errorf("pages gave %v, want %v", ids, tc.want)
			}
		})
	}
}

// TestAPIChangesPagingSameSecond pages through changes of several vendors
// whose new text was first captured in the same second: the timestamp
// cursor must neither skip nor repeat any of them.
func TestAPIChangesPagingSameSecond(t *testing.T) {
	f := newFixture(t)
	addSameSecondVendors(t, f.DB)
	var all apiChangesResp
	apiGet(t, f, "/api/v1/changes?limit=500", http.StatusOK, &all)
	want := changeIDs(all.Changes)
	if len(want) != 7 {
		t.Fatalf("%d changes, want the fixture's 3 and 4 more", len(want))
	}
	for limit := 1; limit <= 8; limit++ {
		t.Run("limit "+strconv.Itoa(limit), func(t *testing.T) {
			got := followPages(t, f, "/api/v1/changes?limit="+strconv.Itoa(limit))
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("pages gave %v, want %v", got, want)
			}
		})
	}
}

// followPages reads a list and every page its next links lead to, and
// returns the change ids in order.
func followPages(t *testing.T, f *fixture, path string) []int64 {
	t.Helper()
	var ids []int64
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatalf("more than 20 pages: the next links loop (at %s)", path)
		}
		var page apiChangesResp
		apiGet(t, f, path, http.StatusOK, &page)
		ids = append(ids, changeIDs(page.Changes)...)
		if page.Next == nil {
			return ids
		}
		if !strings.HasPrefix(*page.Next, "/api/v1/changes?") || !strings.Contains(*page.Next, "before=") {
			t.Fatalf("next = %q", *page.Next)
		}
		if len(page.Changes) == 0 {
			t.Errorf("GET %s: an empty page with a next link", path)
		}
		path = *page.Next
	}
}

// addSameSecondVendors records four more vendors: three whose text changed
// between the same two captures (first new text at 20240301000000), and
// one that changed later.
func addSameSecondVendors(t *testing.T, db *store.DB) {
	t.Helper()
	archive := waybacktest.New()
	t.Cleanup(archive.Close)
	page := func(who, what string) []byte {
		return []byte(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>` + who + ` privacy</title></head><body><main>
<h1>` + who + ` Privacy Policy</h1>
<p>We collect your email address to run the service and to send you receipts for your purchases.</p>
<p>` + what + `</p>
<p>Write to privacy@example.com to exercise your rights of access, correction and deletion.</p>
</main></body></html>`)
	}
	html := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	var vendors []monitor.Vendor
	for i, name := range []string{"Same A", "Same B", "Same C", "Later D"} {
		u := fmt.Sprintf("https://same%d.example/privacy", i)
		second := "20240301000000"
		if name == "Later D" {
			second = "20240401000000"
		}
		archive.Add(
			waybacktest.Capture{Timestamp: "20240101000000", URL: u, Header: html, Body: page(name, "We keep logs for 30 days.")},
			waybacktest.Capture{Timestamp: second, URL: u, Header: html, Body: page(name, "We keep logs for 90 days and share them with advertisers.")},
		)
		vendors = append(vendors, monitor.Vendor{Name: name, URL: u})
	}
	recordHistories(t, db, archive.URL, vendors)
}

func TestAPIChange(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name     string
		ch       *store.Change
		vendor   string
		kind     string
		severity string
	}{
		{"dated", f.AcmeChanges[0], acmeName, "dated", "high"},
		{"silent", f.AcmeChanges[1], acmeName, "silent", f.AcmeChanges[1].SeverityLevel},
		{"hostile", f.EvilChanges[0], evilName, "silent", f.EvilChanges[0].SeverityLevel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got apiChangeResp
			apiGet(t, f, "/api/v1/changes/"+apiID(tc.ch.ID), http.StatusOK, &got)
			c := got.Change
			if got.SchemaVersion != 1 || c.ID != tc.ch.ID || c.Vendor != tc.vendor || c.Severity.Level != tc.severity || len(c.Kinds) == 0 || c.Kinds[0] != tc.kind {
				t.Errorf("change = %+v", c)
			}
			r := c.Report
			if r == nil {
				t.Fatal("no report")
			}
			if r.SchemaVersion != diffing.ReportSchemaVersion || r.Vendor != tc.vendor || r.Window == nil ||
				r.Window.FirstNew.Timestamp != tc.ch.NewCapture.Timestamp || r.Window.LastOld.Timestamp != tc.ch.OldCapture.Timestamp {
				t.Errorf("report head = %+v", r)
			}
			if r.Change.Severity.Level != tc.severity || len(r.Change.Clauses) == 0 || r.Change.Unified == "" || r.Change.Severity.Reasons == nil {
				t.Errorf("report change = %+v", r.Change)
			}
		})
	}
	t.Run("hostile clause text comes back exactly", func(t *testing.T) {
		var got apiChangeResp
		apiGet(t, f, "/api/v1/changes/"+apiID(f.EvilChanges[0].ID), http.StatusOK, &got)
		found := false
		for _, cc := range got.Change.Report.Change.Clauses {
			found = found || cc.Old == "We share data with partners <script>alert('share')</script>."
		}
		if !found {
			t.Errorf("no clause holds the hostile text as it was: %+v", got.Change.Report.Change.Clauses)
		}
	})
	for _, tc := range []struct {
		name, path string
		status     int
		want       string
	}{
		{"no such change", "/api/v1/changes/999999", 404, "999999"},
		{"not a number", "/api/v1/changes/latest", 400, `"latest"`},
		{"zero", "/api/v1/changes/0", 400, `"0"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if msg := apiError(t, f, tc.path, tc.status); !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not mention %q", msg, tc.want)
			}
		})
	}
}

func TestAPINotFound(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/api/v1/x", "/api/v1/", "/api/v1/vendors/Acme%20Cloud/nope", "/api/v1/changes/1/report", "/api/v1/vendors/Acme%20Cloud/versions/1/"} {
		t.Run(path, func(t *testing.T) {
			var e apiErrorResp
			apiGet(t, f, path, http.StatusNotFound, &e)
			if !strings.Contains(e.Error, "/api/v1/changes/{id}") || len(e.Endpoints) != 7 {
				t.Errorf("error %q with endpoints %v: want the endpoints listed", e.Error, e.Endpoints)
			}
		})
	}
	t.Run("POST", func(t *testing.T) {
		resp, err := http.Post(f.URL+"/api/v1/vendors", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST = %d, want 405", resp.StatusCode)
		}
	})
}

// TestAPIHostileText reads every API document that carries the hostile
// vendor's text: the raw bytes never hold markup (apiGet checks), and the
// decoded name is the archived one, unchanged.
func TestAPIHostileText(t *testing.T) {
	f := newFixture(t)
	evil := "/api/v1/vendors/" + url.PathEscape(evilName)
	paths := []string{
		"/api/v1/vendors", evil, evil + "/versions", evil + "/versions?include=body",
		evil + "/versions/" + apiID(f.EvilVersions[1].ID),
		evil + "/diff?from=" + apiID(f.EvilVersions[0].ID) + "&to=" + apiID(f.EvilVersions[1].ID),
		"/api/v1/changes", "/api/v1/changes?vendor=" + url.QueryEscape(evilName),
		"/api/v1/changes/" + apiID(f.EvilChanges[0].ID),
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			var doc any
			resp, body := rawGet(t, f.URL+p)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s = %d: %s", p, resp.StatusCode, body)
			}
			if strings.ContainsAny(string(body), "<>") {
				t.Errorf("raw body holds < or >")
			}
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatal(err)
			}
			if !holdsString(doc, evilName) {
				t.Errorf("no string of the document is exactly %q", evilName)
			}
		})
	}
}

// holdsString reports whether a decoded JSON value holds the string s, as
// a whole value.
func holdsString(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return x == s
	case []any:
		for _, e := range x {
			if holdsString(e, s) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if holdsString(e, s) {
				return true
			}
		}
	}
	return false
}

func changeIDs(list []apiChangeT) []int64 {
	out := []int64{}
	for _, c := range list {
		out = append(out, c.ID)
	}
	return out
}

func nonNilIDs(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}
