package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
)

// BenchmarkPages measures what a reader waits for on each kind of page,
// API response and feed, served from the seeded store through the whole
// handler (auth off, security headers on), without the network.
//
//	go test -run XXX -bench Pages -benchmem ./web
func BenchmarkPages(b *testing.B) {
	f := newFixture(b)
	h := f.Srv.Config.Handler
	acme := "/vendors/" + url.PathEscape(acmeName)
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	for _, bm := range []struct{ name, path string }{
		{"vendor-list", "/"},
		{"timeline", acme},
		{"change-inline", acme + "/changes/" + id(f.AcmeChanges[0].ID)},
		{"change-side", acme + "/changes/" + id(f.AcmeChanges[0].ID) + "?view=side"},
		{"version", acme + "/versions/" + id(f.AcmeVersions[2].ID)},
		{"api-vendors", "/api/v1/vendors"},
		{"api-changes", "/api/v1/changes"},
		{"feed-changes", "/feeds/changes.atom"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, bm.path, nil))
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s = %d", bm.path, w.Code)
				}
				io.Copy(io.Discard, w.Body)
			}
		})
	}
}
