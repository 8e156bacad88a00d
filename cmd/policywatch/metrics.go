package main

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/policywatch/policywatch/monitor"
)

// metrics are the daemon's Prometheus series. They live in a registry the
// daemon owns (not the global default one), so tests get fresh counters and
// other parts of the daemon, such as alert delivery, add theirs with
// Registry.MustRegister before the HTTP listener starts.
type metrics struct {
	Registry *prometheus.Registry

	passes         *prometheus.CounterVec
	passDuration   prometheus.Histogram
	inFlight       prometheus.Gauge
	capturesListed prometheus.Counter
	capturesNew    prometheus.Counter
	fetched        prometheus.Counter
	reused         prometheus.Counter
	versions       prometheus.Counter
	changes        *prometheus.CounterVec
	lastSuccess    *prometheus.GaugeVec
	vendors        prometheus.Gauge
	reloads        *prometheus.CounterVec
	archive        *prometheus.CounterVec
	archive429     *prometheus.CounterVec
}

// newMetrics registers the daemon's series, plus the Go runtime and process
// collectors operators expect on any /metrics.
func newMetrics() *metrics {
	r := prometheus.NewRegistry()
	m := &metrics{
		Registry: r,
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "policywatch_passes_total",
			Help: "Vendor passes finished, by result (ok, error, cancelled).",
		}, []string{"result"}),
		passDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "policywatch_pass_duration_seconds",
			Help:    "Duration of vendor passes, jitter and queueing excluded.",
			Buckets: []float64{0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600},
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "policywatch_passes_in_flight",
			Help: "Vendor passes running now.",
		}),
		capturesListed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "policywatch_captures_listed_total",
			Help: "CDX rows listed by passes.",
		}),
		capturesNew: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "policywatch_captures_new_total",
			Help: "Captures not seen before and processed by passes.",
		}),
		fetched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "policywatch_captures_fetched_total",
			Help: "Captures whose bytes were fetched from the archive.",
		}),
		reused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "policywatch_bodies_reused_total",
			Help: "Captures whose body was already stored (same CDX digest), so not fetched.",
		}),
		versions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "policywatch_versions_new_total",
			Help: "Distinct policy versions recorded, baselines included.",
		}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "policywatch_changes_total",
			Help: "Changes found, by kind (a change of several kinds counts once per kind; text when it has none).",
		}, []string{"kind"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "policywatch_vendor_last_success_timestamp_seconds",
			Help: "Unix time of each vendor's last successful pass; alert when it falls far behind its schedule.",
		}, []string{"vendor"}),
		vendors: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "policywatch_vendors",
			Help: "Vendors scheduled by the running config.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "policywatch_config_reloads_total",
			Help: "Config reloads (SIGHUP), by result (ok, rejected).",
		}, []string{"result"}),
		archive: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "policywatch_archive_requests_total",
			Help: "HTTP requests to the archive, retries included, by endpoint class (cdx, playback) and status code (error when no answer came).",
		}, []string{"class", "status"}),
		archive429: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "policywatch_archive_429_total",
			Help: "429 answers from the archive itself (not captured 429 pages), each of which pauses the whole endpoint class.",
		}, []string{"class"}),
	}
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.passes, m.passDuration, m.inFlight, m.capturesListed, m.capturesNew, m.fetched, m.reused,
		m.versions, m.changes, m.lastSuccess, m.vendors, m.reloads, m.archive, m.archive429,
	)
	// Zero series for the results and classes that exist, so dashboards and
	// rate() see them before the first event.
	for _, r := range []string{passOK, passError, passCancelled} {
		m.passes.WithLabelValues(r)
	}
	for _, r := range []string{"ok", "rejected"} {
		m.reloads.WithLabelValues(r)
	}
	for _, c := range []string{classCDX, classPlayback} {
		m.archive429.WithLabelValues(c)
	}
	return m
}

// Pass results, the values of policywatch_passes_total's result label.
const (
	passOK        = "ok"
	passError     = "error"
	passCancelled = "cancelled"
)

// observePass records a finished pass.
func (m *metrics) observePass(res *monitor.PassResult, result string, took time.Duration, now time.Time) {
	m.passes.WithLabelValues(result).Inc()
	m.passDuration.Observe(took.Seconds())
	if res == nil {
		return
	}
	m.capturesListed.Add(float64(res.Listed))
	m.capturesNew.Add(float64(res.New))
	m.fetched.Add(float64(res.Fetched))
	m.reused.Add(float64(res.Reused))
	m.versions.Add(float64(res.NewVersions))
	for _, c := range res.Changes {
		if len(c.Kinds) == 0 {
			m.changes.WithLabelValues("text").Inc()
		}
		for _, k := range c.Kinds {
			m.changes.WithLabelValues(k).Inc()
		}
	}
	if result == passOK {
		m.lastSuccess.WithLabelValues(res.Vendor).Set(float64(now.Unix()))
	}
}

// Endpoint classes, as the crawler names them.
const (
	classCDX      = "cdx"
	classPlayback = "playback"
)

// countingTransport counts the archive's answers per endpoint class for
// /metrics; it wraps the transports the crawler builds (crawler.Config's
// WrapTransport), so the crawler's timeouts and limits stay its own.
type countingTransport struct {
	class string
	next  http.RoundTripper
	m     *metrics
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		t.m.archive.WithLabelValues(t.class, "error").Inc()
		return nil, err
	}
	t.m.archive.WithLabelValues(t.class, strconv.Itoa(resp.StatusCode)).Inc()
	// A 429 with Memento-Datetime is a captured page, not the archive
	// limiting us; the crawler makes the same distinction.
	if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Memento-Datetime") == "" {
		t.m.archive429.WithLabelValues(t.class).Inc()
	}
	return resp, nil
}

// wrapArchive is the daemon's crawler.Config.WrapTransport.
func (m *metrics) wrapArchive(class string, rt http.RoundTripper) http.RoundTripper {
	return &countingTransport{class: class, next: rt, m: m}
}
