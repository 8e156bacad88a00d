package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	_ "time/tzdata" // timezone: and CRON_TZ= must work on hosts without a zoneinfo database (containers)

	"github.com/prometheus/client_golang/prometheus"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/monitor"
	"github.com/policywatch/policywatch/notify"
	"github.com/policywatch/policywatch/snapshot"
	"github.com/policywatch/policywatch/store"
)

// Log keys of the daemon, snake_case.
const (
	logKeyVendor   = "vendor"
	logKeyPassID   = "pass_id"
	logKeyErr      = "error"
	logKeyAddr     = "addr"
	logKeyConfig   = "config"
	logKeyDuration = "duration"
)

func (m *Main) runDaemon(ctx context.Context, args []string) error {
	fs, common := m.newFlagSet("daemon", "[--grace DURATION] [--log-format json|text]",
		`Runs until stopped: one pass per vendor on the config's cron schedule
(schedule:, or a vendor's own schedule:), all vendors sharing the archive's
rate limits, with the dashboard, API and feeds (docs/web.md) and /healthz, /readyz and
/metrics on listen:.
SIGHUP reloads the config (a bad file is rejected and the old one keeps
running); SIGTERM or SIGINT lets passes in flight finish within --grace,
cancels the rest, and exits 0. See docs/daemon.md.
`)
	grace := fs.Duration("grace", 30*time.Second, "how long passes in flight may take to finish at shutdown")
	format := fs.String("log-format", "json", "log `format`: json or text")
	if err := parse(fs, args); err != nil {
		return err
	}
	logger, err := m.daemonLogger(common.logLevel, *format)
	if err != nil {
		return err
	}
	d, err := newDaemon(ctx, common.config, m.Getenv, logger)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	return d.Run(ctx, hup, *grace)
}

// daemonLogger is JSON by default, for log collectors, and adds the vendor
// and pass id a context carries to every record logged with it, so the
// crawler's retry and 429 lines say which pass they belong to.
func (m *Main) daemonLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler
	switch format {
	case "json":
		h = slog.NewJSONHandler(m.Stderr, opts)
	case "text":
		h = slog.NewTextHandler(m.Stderr, opts)
	default:
		return nil, fmt.Errorf("--log-format %q: want json or text", format)
	}
	return slog.New(ctxHandler{h}), nil
}

type ctxAttrsKey struct{}

// withLogAttrs returns a context whose log records get attrs.
func withLogAttrs(ctx context.Context, attrs ...slog.Attr) context.Context {
	return context.WithValue(ctx, ctxAttrsKey{}, attrs)
}

// ctxHandler adds the attributes of withLogAttrs to records logged with a
// context. The crawler's client is shared by every pass, so its logger cannot
// carry a pass id; the context it logs with can.
type ctxHandler struct{ slog.Handler }

func (h ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	if attrs, ok := ctx.Value(ctxAttrsKey{}).([]slog.Attr); ok {
		r.AddAttrs(attrs...)
	}
	return h.Handler.Handle(ctx, r)
}

func (h ctxHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return ctxHandler{h.Handler.WithAttrs(attrs)}
}

func (h ctxHandler) WithGroup(name string) slog.Handler {
	return ctxHandler{h.Handler.WithGroup(name)}
}

// daemon is `policywatch daemon`: one database, one archive client (so the
// rate limits and 429 pauses hold across all vendors), one scheduler, one
// HTTP listener, and the config currently in force.
type daemon struct {
	path    string
	getenv  func(string) string
	logger  *slog.Logger
	metrics *metrics
	db      *store.DB
	archive *crawler.Client
	sender  *notify.Sender
	sched   *crawler.Scheduler
	ln      net.Listener
	srv     *http.Server

	passSeq  atomic.Uint64
	draining atomic.Bool

	mu  sync.Mutex // serialises reloads
	cfg *Config
}

// newDaemon reads the config, opens the database, builds the client and the
// scheduler with the config's jobs, and binds the listener, so that every
// configuration mistake stops the start before anything runs. Call Run.
func newDaemon(ctx context.Context, path string, getenv func(string) string, logger *slog.Logger) (_ *daemon, err error) {
	cfg, err := ReadConfig(path, getenv)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil { // Validate checked it; a zone can still vanish in between.
		return nil, fmt.Errorf("config %s: timezone: %w", path, err)
	}
	d := &daemon{path: path, getenv: getenv, logger: logger, metrics: newMetrics(), cfg: cfg}
	cc := cfg.CrawlerConfig()
	cc.WrapTransport = d.metrics.wrapArchive
	d.archive, err = crawler.New(cc, logger, nil)
	if err != nil {
		return nil, fmt.Errorf("wayback client: %w", err)
	}
	d.db, err = store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.db.Close()
		}
	}()
	if d.sender, err = notify.New(cfg.Alerts, d.db, logger, nil, time.Now); err != nil {
		return nil, fmt.Errorf("config %s: alerts: %w", path, err)
	}
	d.registerAlertMetrics()
	d.sched = crawler.NewScheduler(loc, cfg.Jitter, cfg.MaxConcurrent, logger, nil)
	if err := d.sched.Set(d.jobs(cfg)); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	d.metrics.vendors.Set(float64(len(cfg.Vendors)))
	d.ln, err = net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (config listen:): %w", cfg.Listen, err)
	}
	d.srv = &http.Server{
		Handler:           d.handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return d, nil
}

// Addr is the address the HTTP listener is bound to, useful with port 0.
func (d *daemon) Addr() net.Addr { return d.ln.Addr() }

// Run serves until ctx is cancelled, reloading the config on every value
// from hup, then shuts down in the architecture's order: stop the scheduler
// (passes in flight get grace to finish, then their context is cancelled),
// stop the HTTP listener, close the store. A cancelled ctx is the normal way
// to stop, so Run returns nil then.
func (d *daemon) Run(ctx context.Context, hup <-chan os.Signal, grace time.Duration) error {
	serveErr := make(chan error, 1)
	go func() { serveErr <- d.srv.Serve(d.ln) }()
	sendCtx, stopSending := context.WithCancel(context.Background())
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		_ = d.sender.Run(sendCtx, alertInterval) // it logs its own failures; the outbox keeps what is not sent
	}()
	d.sched.Start()
	d.logger.Info("daemon started", logKeyAddr, d.Addr().String(), logKeyConfig, d.path,
		"vendors", len(d.cfg.Vendors), "schedule", d.cfg.Schedule, "timezone", d.cfg.Timezone,
		"jitter", d.cfg.Jitter.String(), "max_concurrent", d.cfg.MaxConcurrent)
	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			d.logger.Info("stop requested; letting passes in flight finish", "grace", grace.String())
			break loop
		case <-hup:
			_ = d.Reload() // Reload logs the outcome; the daemon keeps going either way.
		case err := <-serveErr:
			runErr = fmt.Errorf("http listener: %w", err)
			d.logger.Error("http listener failed; stopping", logKeyErr, err)
			break loop
		}
	}
	d.shutdown(grace, stopSending, sent)
	return runErr
}

// alertInterval is how often the daemon drains the alert outbox.
const alertInterval = 10 * time.Second

// registerAlertMetrics exposes alert deliveries and the outbox on /metrics.
func (d *daemon) registerAlertMetrics() {
	outcomes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "policywatch_alerts_total", Help: "Alert delivery attempts by channel and outcome (delivered, retry, dead).",
	}, []string{"channel", "outcome"})
	state := func(st string) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "policywatch_alerts_" + st, Help: "Alerts in the outbox in state " + st + ".",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			counts, err := d.db.AlertCounts(ctx)
			if err != nil {
				return -1
			}
			return float64(counts[st])
		})
	}
	d.metrics.Registry.MustRegister(outcomes, state(store.AlertPending), state(store.AlertDead))
	d.sender.Observe(func(channel, outcome string) { outcomes.WithLabelValues(channel, outcome).Inc() })
}

// shutdown stops everything; each step waits for the one before, since a
// pass still running needs the database, and the outbox of alerts (added
// later) must be flushed before the store is closed.
func (d *daemon) shutdown(grace time.Duration, stopSending context.CancelFunc, sent <-chan struct{}) {
	d.draining.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := d.sched.Stop(ctx); err != nil {
		d.logger.Warn("passes in flight were cancelled; what they stored is kept and the next run continues from there", logKeyErr, err)
	}
	// The last passes may have queued alerts: one more drain within what is
	// left of the grace period. What is not delivered stays in the outbox
	// for the next start.
	stopSending()
	<-sent
	if n, failed, err := d.sender.DrainOnce(ctx); err != nil || failed > 0 {
		d.logger.Warn("alerts left in the outbox for the next start", "sent", n, "failed", failed, logKeyErr, err)
	}
	hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer hcancel()
	if err := d.srv.Shutdown(hctx); err != nil {
		d.logger.Warn("http listener did not close cleanly", logKeyErr, err)
	}
	d.archive.CloseIdleConnections()
	if err := d.db.Close(); err != nil {
		d.logger.Error("close database", logKeyErr, err)
	}
	d.logger.Info("daemon stopped")
}

// Reload re-reads the config file and applies its vendors, schedules and
// key terms without a restart: unchanged vendors keep their next run, removed
// ones stop being scheduled (a pass in flight finishes), new ones start. A
// file that does not parse or validate is rejected and the running config
// stays in force. Settings bound at start (database, wayback, listen,
// timezone, jitter, max_concurrent, alerts, web) need a restart; a change is
// logged.
func (d *daemon) Reload() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	cfg, err := ReadConfig(d.path, d.getenv)
	if err == nil {
		err = d.sched.Set(d.jobs(cfg))
	}
	if err != nil {
		d.metrics.reloads.WithLabelValues("rejected").Inc()
		d.logger.Error("config reload rejected; the previous config keeps running", logKeyConfig, d.path, logKeyErr, err)
		return fmt.Errorf("reload: %w", err)
	}
	old := d.cfg
	d.cfg = cfg
	added, removed, changed := vendorDiff(old, cfg)
	for _, name := range removed {
		d.metrics.lastSuccess.DeleteLabelValues(name)
	}
	d.metrics.vendors.Set(float64(len(cfg.Vendors)))
	d.metrics.reloads.WithLabelValues("ok").Inc()
	d.logger.Info("config reloaded", logKeyConfig, d.path, "added", added, "removed", removed, "changed", changed)
	for _, s := range restartOnly(old, cfg) {
		d.logger.Warn("config setting changed but applies only after a restart", "setting", s)
	}
	return nil
}

// jobs is one scheduler job per vendor, keyed by the lower-cased name (names
// are unique case-insensitively). Each run builds its own Monitor, which is
// cheap, so its log lines carry the pass id.
func (d *daemon) jobs(cfg *Config) map[string]crawler.Job {
	terms := cfg.Terms(diffing.DefaultTerms)
	// Routes follow the sender's channels, fixed at start: routing a change
	// to a channel the sender does not know would dead-letter its alert.
	// An alerts: change is logged on reload and applies after a restart.
	alerts := cfg.Alerts
	if d.sender != nil {
		alerts = d.sender.Config()
	}
	route := func(vendor string, ch diffing.Change) []string { return notify.Route(alerts, vendor, ch) }
	jobs := make(map[string]crawler.Job, len(cfg.Vendors))
	for _, vc := range cfg.Vendors {
		v := monitor.Vendor{Name: vc.Name, URL: vc.URL, Options: snapshot.Options{Select: vc.Select, Remove: vc.Remove}}
		jobs[strings.ToLower(vc.Name)] = crawler.Job{
			Spec: cfg.VendorSchedule(vc),
			Run:  func(ctx context.Context) { d.pass(ctx, v, terms, route) },
		}
	}
	return jobs
}

// pass runs one vendor's pass and records its outcome in logs and metrics.
// A failed pass is logged, never fatal: the next tick tries again.
func (d *daemon) pass(ctx context.Context, v monitor.Vendor, terms []diffing.Term, route func(string, diffing.Change) []string) {
	id := d.passSeq.Add(1)
	ctx = withLogAttrs(ctx, slog.String(logKeyVendor, v.Name), slog.Uint64(logKeyPassID, id))
	logger := d.logger.With(logKeyPassID, id)
	mon := monitor.New(d.db, d.archive, logger)
	mon.Terms = terms
	mon.Route = route

	d.metrics.inFlight.Inc()
	defer d.metrics.inFlight.Dec()
	start := time.Now()
	logger.InfoContext(ctx, "pass started")
	res, err := mon.Pass(ctx, v)
	took := time.Since(start)
	result := passOK
	switch {
	case err != nil && ctx.Err() != nil:
		result = passCancelled
		logger.WarnContext(ctx, "pass cancelled at shutdown; the next run continues from the last capture stored",
			logKeyDuration, took.String())
	case err != nil:
		result = passError
		logger.ErrorContext(ctx, "pass failed; the next scheduled run retries", logKeyErr, err.Error()+hint(err),
			logKeyDuration, took.String())
	default:
		logger.InfoContext(ctx, "pass finished", "first_run", res.FirstRun, "captures_listed", res.Listed,
			"captures_new", res.New, "captures_fetched", res.Fetched, "versions_new", res.NewVersions,
			"changes", len(res.Changes), logKeyDuration, took.String())
	}
	d.metrics.observePass(res, result, took, time.Now())
}

// vendorDiff names the vendors a reload adds, removes and changes.
func vendorDiff(old, cur *Config) (added, removed, changed []string) {
	index := func(c *Config) map[string]VendorConfig {
		m := map[string]VendorConfig{}
		for _, v := range c.Vendors {
			v.Schedule = c.VendorSchedule(v)
			m[strings.ToLower(v.Name)] = v
		}
		return m
	}
	o, n := index(old), index(cur)
	for k, v := range n {
		ov, ok := o[k]
		switch {
		case !ok:
			added = append(added, v.Name)
		case !reflect.DeepEqual(ov, v):
			changed = append(changed, v.Name)
		}
	}
	for k, v := range o {
		if _, ok := n[k]; !ok {
			removed = append(removed, v.Name)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	slices.Sort(changed)
	return added, removed, changed
}

// restartOnly lists the settings a reload changed that are bound at start:
// the database and archive client are shared by passes in flight, and the
// scheduler's zone, jitter and concurrency are fixed when it is built.
func restartOnly(old, cur *Config) []string {
	var out []string
	check := func(name string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			out = append(out, name)
		}
	}
	check("database", old.Database, cur.Database)
	check("wayback", old.Wayback, cur.Wayback)
	check("listen", old.Listen, cur.Listen)
	check("timezone", old.Timezone, cur.Timezone)
	check("jitter", old.Jitter, cur.Jitter)
	check("max_concurrent", old.MaxConcurrent, cur.MaxConcurrent)
	check("alerts", old.Alerts, cur.Alerts)
	check("web", old.Web, cur.Web)
	return out
}
