package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthTimeout bounds the database check of /healthz, so a wedged database
// makes the probe fail rather than hang.
const healthTimeout = 2 * time.Second

// handler serves the daemon's operational endpoints and, unless web.enabled
// is false, the dashboard, API and feeds. The operational endpoints are for
// probes and scrapers, so they carry no authentication and no data about
// the policies themselves; everything else is behind web's credentials.
func (d *daemon) handler() http.Handler {
	mux := http.NewServeMux()
	if d.cfg.Web.On() {
		mux.Handle("/", webHandler(d.db, d.logger, d.config, func(name string) time.Time {
			return d.sched.Next(strings.ToLower(name))
		}))
	}
	mux.HandleFunc("GET /healthz", d.healthz)
	mux.HandleFunc("GET /readyz", d.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.metrics.Registry, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(d.logger.Handler(), slog.LevelError),
		Registry: d.metrics.Registry, // counts promhttp's own errors
	}))
	return mux
}

// healthz is liveness: the scheduler is running and the database answers. A
// failing pass does not make the daemon unhealthy (the archive's troubles
// are not ours, and a restart would not help); /metrics shows those.
func (d *daemon) healthz(w http.ResponseWriter, r *http.Request) {
	if !d.sched.Alive() {
		http.Error(w, "scheduler not running", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	// store has no Ping; listing vendors is the cheapest query it offers
	// and proves the file is open and readable.
	if _, err := d.db.Vendors(ctx); err != nil {
		d.logger.Warn("health check: database does not answer", logKeyErr, err)
		http.Error(w, "database does not answer: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// readyz is readiness: started, config loaded, and not shutting down, so a
// supervisor or load balancer stops routing probes to a draining daemon.
func (d *daemon) readyz(w http.ResponseWriter, r *http.Request) {
	switch {
	case d.draining.Load():
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
	case !d.sched.Alive():
		http.Error(w, "starting", http.StatusServiceUnavailable)
	default:
		fmt.Fprintln(w, "ready")
	}
}

// config returns the config in force, which a reload replaces.
func (d *daemon) config() *Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}
