package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/store"
	"github.com/policywatch/policywatch/web"
)

func (m *Main) runServe(ctx context.Context, args []string) error {
	fs, common := m.newFlagSet("serve", "[--listen ADDR]",
		`Serves the web dashboard, the JSON API (/api/v1/) and the Atom feeds
(/feeds/changes.atom, /feeds/vendors/NAME.atom, /feeds/severity/LEVEL.atom)
from the database, until stopped. It only reads: run fetch from cron, or
the daemon (which serves the same pages itself) to keep the data current.

It listens on the config's listen: (127.0.0.1:8080 by default). On any
address other than loopback it requires web.token or web.user/web.password
in the config. See docs/web.md and docs/api.md.
`)
	listen := fs.String("listen", "", "`address` to listen on, host:port (default: the config's listen:)")
	if err := parse(fs, args); err != nil {
		return err
	}
	logger, err := m.logger(common.logLevel)
	if err != nil {
		return err
	}
	cfg, err := ReadConfig(common.config, m.Getenv)
	if err != nil {
		return err
	}
	addr := cfg.Listen
	if *listen != "" {
		if _, _, err := net.SplitHostPort(*listen); err != nil {
			return fmt.Errorf("--listen %q: want host:port, e.g. 127.0.0.1:8080 or :8080: %w", *listen, err)
		}
		addr = *listen
	}
	if !cfg.Web.On() {
		return fmt.Errorf("config %s: web.enabled is false: nothing to serve", common.config)
	}
	if err := checkWebAuth(addr, cfg.Web); err != nil {
		return fmt.Errorf("--listen %s: %w", addr, err)
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return fmt.Errorf("config %s: timezone: %w", common.config, err)
	}
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           webHandler(db, logger, func() *Config { return cfg }, scheduleNext(cfg, loc, time.Now)),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(m.Stdout, "Serving the dashboard on %s (Ctrl-C to stop)\n", serveURL(ln.Addr()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("serve: shut down: %w", err)
	}
	// Stopping is what Ctrl-C asks for: not an error.
	return nil
}

// serveURL is the address to open in a browser: the wildcard addresses are
// reachable as localhost.
func serveURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String() + "/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}

// webHandler builds the dashboard from the config in force: cfg is called
// on every request, so the daemon's reloaded vendors show at once.
// Credentials and the base URL are read once, since they go with the
// listener, which only a restart changes. Nothing from the alerts section
// reaches the web package, so no SMTP password or webhook secret can.
func webHandler(db *store.DB, logger *slog.Logger, cfg func() *Config, next func(name string) time.Time) http.Handler {
	c := cfg()
	srv := web.New(db, logger, web.Options{
		Vendors: func() []web.Vendor {
			vs := cfg().Vendors
			out := make([]web.Vendor, len(vs))
			for i, v := range vs {
				out[i] = web.Vendor{Name: v.Name, URL: v.URL}
			}
			return out
		},
		NextPass: next,
		Terms:    func() []diffing.Term { return cfg().Terms(diffing.DefaultTerms) },
		Auth:     web.Auth{Token: c.Web.Token, User: c.Web.User, Password: c.Web.Password},
		BaseURL:  c.Web.BaseURL,
	})
	return logRequests(logger, srv.Handler())
}

// scheduleNext tells when the config's schedule next runs a vendor, for
// `serve`, which has no scheduler of its own: the daemon that reads the
// same config runs passes then (plus its jitter).
func scheduleNext(cfg *Config, loc *time.Location, now func() time.Time) func(string) time.Time {
	return func(name string) time.Time {
		for _, v := range cfg.Vendors {
			if !strings.EqualFold(v.Name, name) {
				continue
			}
			s, err := crawler.ParseSpec(cfg.VendorSchedule(v))
			if err != nil { // validated at load; an error here shows as unscheduled
				return time.Time{}
			}
			return s.Next(now().In(loc))
		}
		return time.Time{}
	}
}

// logRequests logs each request at debug level, and failures at warn. Only
// the method and path are logged: never the query, never a header, so no
// credential can reach the log.
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		level := slog.LevelDebug
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		logger.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path,
			"status", sw.status, logKeyDuration, time.Since(start).Round(time.Microsecond).String())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
