package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/monitor"
	"github.com/policywatch/policywatch/notify"
	"github.com/policywatch/policywatch/snapshot"
)

// Config is policywatch.yaml. Unknown keys are rejected (with their line) so a
// typo never silently turns a setting off.
type Config struct {
	// Database is the SQLite file. A relative path is relative to the config
	// file's directory, so cron jobs work from any working directory.
	Database string         `yaml:"database"`
	Wayback  WaybackConfig  `yaml:"wayback"`
	Vendors  []VendorConfig `yaml:"vendors"`
	// KeyTerms add topics to the severity scoring, or replace a default
	// topic of the same name (see `policywatch diff` and docs/changes.md).
	KeyTerms []diffing.Term `yaml:"key_terms"`
	// Alerts are the delivery channels and routing of change alerts
	// (docs/alerts.md).
	Alerts notify.Config `yaml:"alerts"`

	// Daemon settings, used by `policywatch daemon` only (see docs/daemon.md).
	// Schedule is every vendor's default cron spec: five fields or a
	// descriptor such as @hourly, optionally prefixed with CRON_TZ=.
	Schedule string `yaml:"schedule"`
	// Listen is the address of the dashboard, API and feeds (`serve`, and
	// the daemon) and of the daemon's /healthz, /readyz and /metrics; port 0
	// picks a free port (logged at start).
	Listen string `yaml:"listen"`
	// Web is the dashboard's access control (docs/web.md).
	Web WebConfig `yaml:"web"`
	// Timezone is the zone of specs without CRON_TZ=. UTC by default,
	// because local daylight-saving jumps skip or repeat hours.
	Timezone string `yaml:"timezone"`
	// Jitter is the largest random delay before each pass, so that many
	// vendors on one schedule do not hit the archive in the same second.
	Jitter time.Duration `yaml:"jitter"`
	// MaxConcurrent bounds the vendors in flight at once; the archive's rate
	// limits are shared by all of them anyway.
	MaxConcurrent int `yaml:"max_concurrent"`

	path string // where the config was read from
}

// WaybackConfig is the archive endpoint and how politely we use it.
type WaybackConfig struct {
	URL          string  `yaml:"url"`
	CDXRate      float64 `yaml:"cdx_rate"`      // CDX requests per second (all workers)
	PlaybackRate float64 `yaml:"playback_rate"` // playback requests per second (all workers)
	UserAgent    string  `yaml:"user_agent"`
	MaxBodySize  int64   `yaml:"max_body_size"` // bytes
	MaxAttempts  int     `yaml:"max_attempts"`
	// RetryBackoff is the first retry delay; it doubles on each retry.
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// PauseOn429 is how long every request of an endpoint class waits after a
	// 429 that carries no Retry-After; it doubles while 429s continue.
	PauseOn429 time.Duration `yaml:"pause_on_429"`
}

// WebConfig guards the dashboard, JSON API and feeds. They are open on a
// loopback address; anywhere else a token or a user and password is
// required, because policy history may be confidential to the company
// watching it, and the daemon's address may be reachable by others.
type WebConfig struct {
	// Enabled serves the dashboard on listen: (default true). The daemon's
	// probes and metrics are served either way.
	Enabled *bool `yaml:"enabled"`
	// Token is accepted as a bearer token, or as the password of HTTP basic
	// auth with any user name (so a browser or feed reader can use it).
	Token string `yaml:"token"`
	// User and Password are HTTP basic-auth credentials.
	User     string `yaml:"user"`
	Password string `yaml:"password"`
	// BaseURL is the dashboard's public address (https://policies.example.com)
	// for absolute links in feeds, when it sits behind a proxy; by default
	// links are made from the request's host.
	BaseURL string `yaml:"base_url"`
}

// On reports whether the dashboard is served.
func (w WebConfig) On() bool { return w.Enabled == nil || *w.Enabled }

// hasAuth reports whether any credential is configured.
func (w WebConfig) hasAuth() bool { return w.Token != "" || w.User != "" }

// checkWebAuth refuses to serve the dashboard without credentials on an
// address other machines can reach.
func checkWebAuth(listen string, w WebConfig) error {
	if !w.On() || w.hasAuth() || isLoopback(listen) {
		return nil
	}
	return fmt.Errorf("listen: %s can be reached from other machines, so the dashboard needs credentials: set web.token (or web.user and web.password), for example token: ${POLICYWATCH_WEB_TOKEN}; or listen on 127.0.0.1; or set web.enabled: false to serve only /healthz, /readyz and /metrics", listen)
}

// isLoopback reports whether a host:port address is reachable only from this
// machine: a loopback IP or "localhost". An empty host means every address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// VendorConfig is one watched document.
type VendorConfig struct {
	Name string `yaml:"name"`
	URL  string `yaml:"url"`
	// Select and Remove say where the policy is on the page, as Open Terms
	// Archive declarations do: CSS selectors, or ranges between two elements.
	Select SelectorList `yaml:"select"`
	Remove SelectorList `yaml:"remove"`
	// Schedule overrides the config's schedule for this vendor (daemon only).
	Schedule string `yaml:"schedule"`
}

// SelectorList is a list of selectors; each item is a CSS selector string or
// a range {start_before|start_after: CSS, end_before|end_after: CSS}. A single
// string is accepted for a one-item list.
type SelectorList []snapshot.Selector

// UnmarshalYAML accepts a string, a range mapping, or a list of either.
func (l *SelectorList) UnmarshalYAML(n *yaml.Node) error {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for _, it := range items {
		switch it.Kind {
		case yaml.ScalarNode:
			*l = append(*l, snapshot.Selector{CSS: it.Value})
		case yaml.MappingNode:
			var r struct {
				CSS         string `yaml:"css"`
				StartBefore string `yaml:"start_before"`
				StartAfter  string `yaml:"start_after"`
				EndBefore   string `yaml:"end_before"`
				EndAfter    string `yaml:"end_after"`
			}
			dec := it.Decode
			if err := dec(&r); err != nil {
				return err
			}
			if r.CSS == "" && (r.StartBefore == "") == (r.StartAfter == "") {
				return fmt.Errorf("line %d: a range selector needs exactly one of start_before / start_after", it.Line)
			}
			if r.CSS == "" && (r.EndBefore == "") == (r.EndAfter == "") {
				return fmt.Errorf("line %d: a range selector needs exactly one of end_before / end_after", it.Line)
			}
			*l = append(*l, snapshot.Selector(r))
		default:
			return fmt.Errorf("line %d: a selector is a CSS string or a {start_before, end_before} range", it.Line)
		}
	}
	return nil
}

// DefaultConfig returns the settings used where the file says nothing. The
// rates are the archive's published limits (see docs/wayback-api.md).
func DefaultConfig() Config {
	return Config{
		Database: "policywatch.db",
		Wayback: WaybackConfig{
			URL:          "https://web.archive.org",
			CDXRate:      0.4,
			PlaybackRate: 1,
			UserAgent:    crawler.DefaultUserAgent,
			MaxBodySize:  20 << 20,
			MaxAttempts:  6,
			RetryBackoff: 2 * time.Second,
			PauseOn429:   60 * time.Second,
		},
		// Daemon defaults.
		Schedule:      "@hourly",
		Listen:        "127.0.0.1:8080",
		Timezone:      "UTC",
		Jitter:        5 * time.Minute,
		MaxConcurrent: 4,
	}
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// ReadConfig reads and validates the config file at path.
func ReadConfig(path string, getenv func(string) string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("config %s: file not found; pass --config FILE or set POLICYWATCH_CONFIG (see policywatch.example.yaml)", path)
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	defer f.Close()
	cfg, err := ParseConfig(f, getenv)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	cfg.path = path
	if !filepath.IsAbs(cfg.Database) {
		cfg.Database = filepath.Join(filepath.Dir(path), cfg.Database)
	}
	return cfg, nil
}

// ParseConfig parses YAML over DefaultConfig, expanding ${VAR} in values from
// getenv, and validates the result. Expansion happens on the parsed values,
// never on the raw text, so comments are left alone and a secret containing
// YAML syntax cannot change the file's structure.
func ParseConfig(r io.Reader, getenv func(string) string) (*Config, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	cfg := DefaultConfig()
	if len(bytes.TrimSpace(raw)) == 0 {
		return &cfg, cfg.Validate()
	}
	// Unknown keys first, on the file as written, so their line numbers are
	// exact. Type errors are left for the real decode below, after expansion.
	strict := yaml.NewDecoder(bytes.NewReader(raw))
	strict.KnownFields(true)
	var shape Config
	if err := strict.Decode(&shape); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, err
		}
		var unknown []string
		for _, msg := range te.Errors {
			if strings.Contains(msg, "not found in type") {
				unknown = append(unknown, msg)
			}
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("unknown keys (the config reference is in README.md):\n  %s", strings.Join(unknown, "\n  "))
		}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, err
	}
	var missing []string
	expandNode(&root, getenv, &missing)
	if len(missing) > 0 {
		return nil, fmt.Errorf("environment variables referenced but not set: %s", strings.Join(missing, ", "))
	}
	if err := root.Decode(&cfg); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// expandNode replaces ${VAR} in every scalar value below n.
func expandNode(n *yaml.Node, getenv func(string) string, missing *[]string) {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
			name := envRef.FindStringSubmatch(m)[1]
			v := getenv(name)
			if v == "" {
				*missing = append(*missing, fmt.Sprintf("%s (line %d)", name, n.Line))
			}
			return v
		})
	}
	for _, c := range n.Content {
		expandNode(c, getenv, missing)
	}
}

// Validate reports every problem at once, so a user fixes the file in one go.
func (c *Config) Validate() error {
	var errs []error
	if c.Database == "" {
		errs = append(errs, errors.New("database: must not be empty"))
	}
	if u, err := url.Parse(c.Wayback.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("wayback.url: %q is not an absolute http(s) URL", c.Wayback.URL))
	}
	if c.Wayback.CDXRate <= 0 {
		errs = append(errs, fmt.Errorf("wayback.cdx_rate: %v must be above 0 (requests per second; the archive allows 0.5)", c.Wayback.CDXRate))
	}
	if c.Wayback.PlaybackRate <= 0 {
		errs = append(errs, fmt.Errorf("wayback.playback_rate: %v must be above 0 (requests per second)", c.Wayback.PlaybackRate))
	}
	if c.Wayback.MaxBodySize < 1024 {
		errs = append(errs, fmt.Errorf("wayback.max_body_size: %d bytes is too small", c.Wayback.MaxBodySize))
	}
	if c.Wayback.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("wayback.max_attempts: %d must be at least 1", c.Wayback.MaxAttempts))
	}
	if c.Wayback.RetryBackoff <= 0 {
		errs = append(errs, fmt.Errorf("wayback.retry_backoff: %v must be above 0 (e.g. 2s)", c.Wayback.RetryBackoff))
	}
	if c.Wayback.PauseOn429 <= 0 {
		errs = append(errs, fmt.Errorf("wayback.pause_on_429: %v must be above 0 (e.g. 60s)", c.Wayback.PauseOn429))
	}
	if err := c.Alerts.Validate(); err != nil {
		errs = append(errs, err)
	}
	for i, t := range c.KeyTerms {
		switch {
		case strings.TrimSpace(t.Topic) == "":
			errs = append(errs, fmt.Errorf("key_terms[%d]: topic is required", i))
		case len(t.Phrases) == 0:
			errs = append(errs, fmt.Errorf("key_terms[%d] (%s): phrases must list at least one word or phrase", i, t.Topic))
		case t.Weight < 0:
			errs = append(errs, fmt.Errorf("key_terms[%d] (%s): weight %d must not be negative (0 turns the topic off)", i, t.Topic, t.Weight))
		}
	}
	seen := map[string]bool{}
	for i, v := range c.Vendors {
		where := fmt.Sprintf("vendors[%d]", i)
		if v.Name == "" {
			errs = append(errs, fmt.Errorf("%s: name is required", where))
		} else {
			where = fmt.Sprintf("vendors[%d] (%s)", i, v.Name)
		}
		key := strings.ToLower(v.Name)
		if v.Name != "" && seen[key] {
			errs = append(errs, fmt.Errorf("%s: the name is used twice", where))
		}
		seen[key] = true
		if u, err := url.Parse(v.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: url %q is not an absolute http(s) URL", where, v.URL))
		}
		if err := (snapshot.Options{Select: v.Select, Remove: v.Remove}).Validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
	}
	errs = append(errs, c.validateDaemon()...)
	return errors.Join(errs...)
}

// MonitorVendors returns the vendors to pass over; only restricts them when
// names is non-empty, and reports a name that is not configured.
func (c *Config) MonitorVendors(names []string) ([]monitor.Vendor, error) {
	var out []monitor.Vendor
	for _, v := range c.Vendors {
		if len(names) == 0 || containsFold(names, v.Name) {
			out = append(out, monitor.Vendor{Name: v.Name, URL: v.URL,
				Options: snapshot.Options{Select: v.Select, Remove: v.Remove}})
		}
	}
	for _, n := range names {
		if !c.hasVendor(n) {
			return nil, fmt.Errorf("vendor %q is not in %s; configured: %s", n, c.path, strings.Join(c.vendorNames(), ", "))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no vendors configured in %s: add a `vendors:` list of {name, url}", c.path)
	}
	return out, nil
}

func (c *Config) hasVendor(name string) bool {
	for _, v := range c.Vendors {
		if strings.EqualFold(v.Name, name) {
			return true
		}
	}
	return false
}

func (c *Config) vendorNames() []string {
	var names []string
	for _, v := range c.Vendors {
		names = append(names, v.Name)
	}
	return names
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// Terms returns the key terms for severity scoring: the defaults, with each
// configured topic replacing the default topic of the same name (case
// insensitive) or added after them.
func (c *Config) Terms(defaults []diffing.Term) []diffing.Term {
	out := append([]diffing.Term(nil), defaults...)
	for _, t := range c.KeyTerms {
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Topic, t.Topic) {
				out[i], replaced = t, true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

// CrawlerConfig maps the file's wayback section onto the crawler's settings.
func (c *Config) CrawlerConfig() crawler.Config {
	return crawler.Config{
		BaseURL:      c.Wayback.URL,
		CDXRate:      c.Wayback.CDXRate,
		PlaybackRate: c.Wayback.PlaybackRate,
		UserAgent:    c.Wayback.UserAgent,
		MaxBodySize:  c.Wayback.MaxBodySize,
		MaxAttempts:  c.Wayback.MaxAttempts,
		BackoffBase:  c.Wayback.RetryBackoff,
		Pause429:     c.Wayback.PauseOn429,
	}
}

// validateDaemon checks the daemon's settings. Schedules are parsed with the
// scheduler's own parser, so a config that validates is one that runs; a
// vendor's bad schedule is named with the vendor. fetch validates them too,
// so that a typo is found before the daemon is restarted with the file.
func (c *Config) validateDaemon() []error {
	var errs []error
	if _, err := crawler.ParseSpec(c.Schedule); err != nil {
		errs = append(errs, fmt.Errorf("schedule: %w (want five cron fields such as \"17 * * * *\" or a descriptor such as @hourly)", err))
	}
	for i, v := range c.Vendors {
		if v.Schedule == "" {
			continue
		}
		if _, err := crawler.ParseSpec(v.Schedule); err != nil {
			errs = append(errs, fmt.Errorf("vendors[%d] (%s): schedule: %w", i, v.Name, err))
		}
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen: %q is not host:port (e.g. 127.0.0.1:8080): %w", c.Listen, err))
	}
	if err := c.validateWeb(); err != nil {
		errs = append(errs, err)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" {
		errs = append(errs, fmt.Errorf("timezone: %q is not an IANA zone name such as UTC or Europe/Paris", c.Timezone))
	}
	if c.Jitter < 0 {
		errs = append(errs, fmt.Errorf("jitter: %v must not be negative", c.Jitter))
	}
	if c.MaxConcurrent < 1 {
		errs = append(errs, fmt.Errorf("max_concurrent: %d must be at least 1", c.MaxConcurrent))
	}
	return errs
}

// validateWeb checks the web section against listen.
func (c *Config) validateWeb() error {
	w := c.Web
	var errs []error
	if (w.User == "") != (w.Password == "") {
		errs = append(errs, errors.New("web: user and password go together: set both, or neither and use web.token"))
	}
	if strings.Contains(w.User, ":") {
		errs = append(errs, errors.New("web.user: must not contain ':' (HTTP basic auth cannot carry it)"))
	}
	if w.Token != "" && len(w.Token) < 16 {
		errs = append(errs, errors.New("web.token: too short; use at least 16 random characters (for example: openssl rand -hex 24)"))
	}
	if w.BaseURL != "" {
		if u, err := url.Parse(w.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("web.base_url: %q is not an absolute http(s) URL", w.BaseURL))
		}
	}
	if _, _, err := net.SplitHostPort(c.Listen); err == nil {
		if err := checkWebAuth(c.Listen, w); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// VendorSchedule is the cron spec a vendor's passes follow in the daemon.
func (c *Config) VendorSchedule(v VendorConfig) string {
	if v.Schedule != "" {
		return v.Schedule
	}
	return c.Schedule
}
