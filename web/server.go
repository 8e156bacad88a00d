// Package web serves policywatch's dashboard, JSON API and Atom feeds: the
// stored history of every vendor's policy for the people who act on a
// change (privacy, legal, procurement) and for scripts and feed readers.
//
// Everything is read from the store; nothing here fetches from the archive
// or writes. Archived text is hostile input, so every page goes through
// html/template, and the Content-Security-Policy allows no script at all.
package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/store"
)

// Vendor is one vendor of the config, as the dashboard lists it.
type Vendor struct {
	Name string
	URL  string
}

// Auth are the credentials the server requires. With none set, every
// request is served: only do that on a loopback address.
type Auth struct {
	// Token is accepted as "Authorization: Bearer TOKEN", or as the password
	// of HTTP basic auth with any user name, which is what browsers and feed
	// readers can send.
	Token string
	// User and Password are HTTP basic-auth credentials.
	User     string
	Password string
}

// Enabled reports whether any credential is set.
func (a Auth) Enabled() bool { return a.Token != "" || a.User != "" }

// Options are what a Server needs besides the store. Functions are called on
// every request, so the daemon's reloaded config shows without a restart.
type Options struct {
	// Vendors returns the configured vendors in config order. Vendors in the
	// store that the config no longer names are still shown, marked so.
	Vendors func() []Vendor
	// NextPass returns when a vendor's next scheduled pass starts, or the
	// zero time when none is scheduled (policywatch serve without a daemon).
	NextPass func(name string) time.Time
	// Terms returns the key terms used to compare two versions that no
	// recorded change links (nil: diffing.DefaultTerms).
	Terms func() []diffing.Term
	// Auth is checked on every request.
	Auth Auth
	// BaseURL is the public address of the dashboard, for the absolute links
	// of feeds; empty means the request's scheme and host.
	BaseURL string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Server answers the dashboard's pages, the API and the feeds.
type Server struct {
	db     *store.DB
	logger *slog.Logger
	opts   Options
}

// New returns a Server reading from db.
func New(db *store.DB, logger *slog.Logger, opts Options) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	if opts.Vendors == nil {
		opts.Vendors = func() []Vendor { return nil }
	}
	if opts.NextPass == nil {
		opts.NextPass = func(string) time.Time { return time.Time{} }
	}
	if opts.Terms == nil {
		opts.Terms = func() []diffing.Term { return diffing.DefaultTerms }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.BaseURL = strings.TrimSuffix(opts.BaseURL, "/")
	return &Server{db: db, logger: logger, opts: opts}
}

// Handler returns the server's routes behind its security headers and
// access control. The paths under /api/v1/ and /feeds/ are relied on by
// scripts outside the project (docs/api.md): keep them stable.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	// Pages (pages.go).
	mux.HandleFunc("GET /{$}", s.vendorsPage)
	mux.HandleFunc("GET /vendors/{name}", s.vendorPage)
	mux.HandleFunc("GET /vendors/{name}/versions/{id}", s.versionPage)
	mux.HandleFunc("GET /vendors/{name}/changes/{id}", s.changePage)
	mux.HandleFunc("GET /vendors/{name}/compare", s.comparePage)
	mux.HandleFunc("GET /static/{file}", s.static)
	// JSON API (api.go, docs/api.md).
	mux.HandleFunc("GET /api/v1/vendors", s.apiVendors)
	mux.HandleFunc("GET /api/v1/vendors/{name}", s.apiVendor)
	mux.HandleFunc("GET /api/v1/vendors/{name}/versions", s.apiVersions)
	mux.HandleFunc("GET /api/v1/vendors/{name}/versions/{id}", s.apiVersion)
	mux.HandleFunc("GET /api/v1/vendors/{name}/diff", s.apiDiff)
	mux.HandleFunc("GET /api/v1/changes", s.apiChanges)
	mux.HandleFunc("GET /api/v1/changes/{id}", s.apiChange)
	mux.HandleFunc("GET /api/v1/", s.apiNotFound)
	// Atom feeds (feeds.go): {file} is NAME.atom.
	mux.HandleFunc("GET /feeds/changes.atom", s.feedChanges)
	mux.HandleFunc("GET /feeds/vendors/{file}", s.feedVendor)
	mux.HandleFunc("GET /feeds/severity/{file}", s.feedSeverity)
	return s.secure(s.authorize(mux))
}

// contentSecurityPolicy allows the dashboard's own stylesheet and nothing
// else: no script from anywhere, no remote images (an archived page's image
// would tell its host who reads the policy), no frames, no plugins, and
// forms only to this server.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure sets the headers every response carries.
func (s *Server) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// authorize checks the configured credentials. Secrets are compared in
// constant time on their hashes, so neither their content nor their length
// leaks through timing; the Authorization header is never logged.
func (s *Server) authorize(next http.Handler) http.Handler {
	a := s.opts.Auth
	if !a.Enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.allowed(r) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="policywatch", charset="UTF-8"`)
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "authentication required: send the token configured as web.token (Authorization: Bearer TOKEN, or as the basic-auth password), or web.user and web.password", http.StatusUnauthorized)
	})
}

func (s *Server) allowed(r *http.Request) bool {
	a := s.opts.Auth
	if a.Token != "" {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && same(strings.TrimSpace(tok), a.Token) {
			return true
		}
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	if a.Token != "" && same(pass, a.Token) {
		return true
	}
	// Both are compared whatever the first gives, so that timing does not
	// tell a right user name from a wrong one.
	if a.User != "" {
		u, p := same(user, a.User), same(pass, a.Password)
		return u && p
	}
	return false
}

func same(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// errNotFound is what handlers return for a vendor, version or change that
// does not exist, with a message that says what was asked for.
var errNotFound = errors.New("not found")

// notFoundf wraps errNotFound with the missing thing's name.
func notFoundf(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, errNotFound)...)
}

// status maps an error to its HTTP status: a missing row is 404, a bad
// parameter 400, anything else a 500 whose detail stays in the log.
func status(err error) int {
	var bad badRequest
	switch {
	case errors.Is(err, errNotFound), errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound
	case errors.As(err, &bad):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// badRequest is an error in the request's parameters; its message is shown
// to the client and names the parameter and the accepted values.
type badRequest struct{ msg string }

func (b badRequest) Error() string { return b.msg }

func badRequestf(format string, args ...any) error {
	return badRequest{fmt.Sprintf(format, args...)}
}

// publicMessage is what a client is told about err: the message itself for
// a 4xx, a generic line for a 500 (whose detail, a SQL error or a path, is
// logged instead).
func (s *Server) publicMessage(r *http.Request, err error) (int, string) {
	code := status(err)
	if code == http.StatusInternalServerError {
		s.logger.Error("web request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		return code, "internal error: the server log has the details"
	}
	return code, err.Error()
}
