package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/store"
)

const globexURL = "http://www.globex.example/privacy.html"

// daemonArchive is a fake archive holding a policy for Acme and Globex.
func daemonArchive(t *testing.T) *waybacktest.Server {
	t.Helper()
	archive := waybacktest.New()
	t.Cleanup(archive.Close)
	archive.Add(acme("20210310081502", "acme-2021.html"), acme("20220701120505", "acme-2022.html"),
		waybacktest.Capture{Timestamp: "20060713102233", URL: globexURL,
			Header: http.Header{"Content-Type": {"text/html"}}, Body: demoPage("globex-2006.html")})
	return archive
}

// daemonConfig is a config with a schedule fast enough for tests: cron's
// @every has a one-second floor, and no jitter.
func daemonConfig(archiveURL string, vendors ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `database: data.db
schedule: "@every 1s"
listen: 127.0.0.1:0
jitter: 0s
max_concurrent: 2
wayback:
  url: %s
  cdx_rate: 200
  playback_rate: 200
  retry_backoff: 1ms
  pause_on_429: 5ms
vendors:
`, archiveURL)
	for _, v := range vendors {
		b.WriteString(v)
	}
	return b.String()
}

const (
	acmeVendor   = "  - name: Acme Cloud\n    url: " + acmeURL + "\n"
	globexVendor = "  - name: Globex\n    url: " + globexURL + "\n"
)

func writeConfig(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// logLines collects JSON log lines written by the daemon, from any goroutine.
type logLines struct {
	mu      sync.Mutex
	partial []byte
	lines   []map[string]any
	raw     []string
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		l.raw = append(l.raw, line)
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			l.lines = append(l.lines, m)
		}
	}
	return len(p), nil
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.raw, "\n")
}

// waitFor returns the first log record with msg (and the given fields).
func (l *logLines) waitFor(t *testing.T, msg string, fields map[string]string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		l.mu.Lock()
	lines:
		for _, m := range l.lines {
			if m["msg"] != msg {
				continue
			}
			for k, v := range fields {
				if !strings.Contains(fmt.Sprint(m[k]), v) {
					continue lines
				}
			}
			l.mu.Unlock()
			return m
		}
		l.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line %q %v within 20s; log:\n%s", msg, fields, l.String())
	return nil
}

// get fetches an endpoint of the daemon.
func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric returns the value of one series in a Prometheus text exposition,
// or -1 when it is absent.
func metric(body, series string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// waitMetric polls /metrics until series reaches at least want.
func waitMetric(t *testing.T, c *http.Client, base, series string, want float64) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var body string
	for time.Now().Before(deadline) {
		_, body = get(t, c, base+"/metrics")
		if metric(body, series) >= want {
			return body
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s did not reach %v within 20s; /metrics:\n%s", series, want, body)
	return ""
}

func versionCount(t *testing.T, dbPath, vendor string) int {
	t.Helper()
	db, err := store.Open(t.Context(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := db.VendorByName(t.Context(), vendor)
	if err != nil {
		return 0
	}
	vs, err := db.Versions(t.Context(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	return len(vs)
}

// TestDaemonInProcess runs `policywatch daemon` as a user would, through
// Main.Run, and checks the endpoints, that passes run and store data, that
// cancelling (what SIGTERM does in main) exits cleanly within the grace
// period, and that no goroutine is left behind.
func TestDaemonInProcess(t *testing.T) {
	archive := daemonArchive(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "policywatch.yaml")
	writeConfig(t, cfgPath, daemonConfig(archive.URL, acmeVendor))
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()

	baseline := runtime.NumGoroutine()
	logs := &logLines{}
	m := &Main{Stdout: io.Discard, Stderr: logs, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"daemon", "--config", cfgPath, "--grace", "5s"}) }()

	started := logs.waitFor(t, "daemon started", nil)
	base := "http://" + started["addr"].(string)
	for _, ep := range []struct{ path, want string }{{"/healthz", "ok"}, {"/readyz", "ready"}} {
		t.Run(ep.path, func(t *testing.T) {
			code, body := get(t, client, base+ep.path)
			if code != http.StatusOK || strings.TrimSpace(body) != ep.want {
				t.Errorf("GET %s = %d %q, want 200 %q", ep.path, code, body, ep.want)
			}
		})
	}
	body := waitMetric(t, client, base, `policywatch_passes_total{result="ok"}`, 2)
	for _, series := range []string{
		`policywatch_archive_requests_total{class="cdx",status="200"}`,
		`policywatch_archive_requests_total{class="playback",status="200"}`,
		`policywatch_captures_fetched_total`,
		`policywatch_versions_new_total`,
		`policywatch_archive_429_total{class="cdx"}`,
		`policywatch_vendors`,
		`go_goroutines`,
	} {
		if metric(body, series) < 0 {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	if n := metric(body, "policywatch_versions_new_total"); n != 1 {
		t.Errorf("versions_new_total = %v, want 1 (the baseline)", n)
	}
	if n := versionCount(t, filepath.Join(dir, "data.db"), "Acme Cloud"); n != 1 {
		t.Errorf("database holds %d versions of Acme Cloud, want 1", n)
	}
	pass := logs.waitFor(t, "pass finished", map[string]string{"vendor": "Acme Cloud"})
	if pass["pass_id"] == nil {
		t.Errorf("pass log line has no pass_id: %v", pass)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemon returned %v after cancellation, want nil (exit 0)", err)
		}
	case <-time.After(5*time.Second + 3*time.Second):
		t.Fatal("daemon did not stop within its grace period")
	}
	logs.waitFor(t, "daemon stopped", nil)

	client.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after stop, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
}

// TestDaemonReload delivers SIGHUP-equivalents on the daemon's reload
// channel: a new vendor starts being passed; a broken file is rejected,
// naming the bad vendor, while the old schedule keeps running.
func TestDaemonReload(t *testing.T) {
	archive := daemonArchive(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "policywatch.yaml")
	writeConfig(t, cfgPath, daemonConfig(archive.URL, acmeVendor))
	client := &http.Client{Timeout: 5 * time.Second}

	logs := &logLines{}
	m := &Main{Stderr: logs}
	logger, err := m.daemonLogger("info", "json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := newDaemon(t.Context(), cfgPath, func(string) string { return "" }, logger)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	hup := make(chan os.Signal)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, hup, 5*time.Second) }()
	base := "http://" + d.Addr().String()

	waitMetric(t, client, base, `policywatch_passes_total{result="ok"}`, 1)

	writeConfig(t, cfgPath, daemonConfig(archive.URL, acmeVendor, globexVendor))
	hup <- syscall.SIGHUP
	logs.waitFor(t, "config reloaded", map[string]string{"added": "Globex"})
	logs.waitFor(t, "pass finished", map[string]string{"vendor": "Globex"})
	if n := versionCount(t, filepath.Join(dir, "data.db"), "Globex"); n != 1 {
		t.Errorf("after the reload the database holds %d versions of Globex, want 1", n)
	}

	tests := []struct {
		name, config, wantInError string
	}{
		{"bad vendor schedule", daemonConfig(archive.URL, acmeVendor, globexVendor+"    schedule: \"61 * * * *\"\n"), "vendors[1] (Globex): schedule"},
		{"not YAML", "vendors: [", "yaml: line 1"},
		{"unknown key", daemonConfig(archive.URL, acmeVendor) + "shedule: \"@daily\"\n", "shedule"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeConfig(t, cfgPath, tt.config)
			hup <- syscall.SIGHUP
			logs.waitFor(t, "config reload rejected; the previous config keeps running", map[string]string{"error": tt.wantInError})
			_, body := get(t, client, base+"/metrics")
			if n := metric(body, `policywatch_config_reloads_total{result="rejected"}`); n != float64(i+1) {
				t.Errorf("rejected reloads = %v, want %d", n, i+1)
			}
			// The old schedule still runs both vendors.
			before := metric(body, `policywatch_passes_total{result="ok"}`)
			waitMetric(t, client, base, `policywatch_passes_total{result="ok"}`, before+2)
			if got := metric(body, "policywatch_vendors"); got != 2 {
				t.Errorf("policywatch_vendors = %v after a rejected reload, want 2", got)
			}
		})
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}

// TestDaemonGrace stops the daemon while a pass waits on a slow archive: the
// pass is cancelled at the end of the grace period and the daemon still
// exits cleanly, soon after.
func TestDaemonGrace(t *testing.T) {
	archive := daemonArchive(t)
	archive.Set(func(k *waybacktest.Knobs) { k.Latency = 3 * time.Second })
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "policywatch.yaml")
	writeConfig(t, cfgPath, daemonConfig(archive.URL, acmeVendor))
	logs := &logLines{}
	m := &Main{Stdout: io.Discard, Stderr: logs, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"daemon", "--config", cfgPath, "--grace", "200ms"}) }()
	logs.waitFor(t, "pass started", map[string]string{"vendor": "Acme Cloud"})
	t0 := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemon returned %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("daemon did not stop")
	}
	if took := time.Since(t0); took > 2*time.Second {
		t.Errorf("stop took %s with a 200ms grace", took)
	}
	logs.waitFor(t, "pass cancelled at shutdown; the next run continues from the last capture stored", nil)
}

// childEnv switches the test binary into running the daemon, so real
// signals can be sent to a real process.
const childEnv = "POLICYWATCH_TEST_DAEMON_CONFIG"

// TestMain lets the test binary act as `policywatch daemon` in a child
// process, wired to signals exactly as main() is.
func TestMain(m *testing.M) {
	if cfg := os.Getenv(childEnv); cfg != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := NewMain().Run(ctx, []string{"daemon", "--config", cfg, "--grace", "5s"})
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "policywatch:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestDaemonSignals sends real SIGHUP and SIGTERM to a daemon process.
func TestDaemonSignals(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGHUP on Windows")
	}
	archive := daemonArchive(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "policywatch.yaml")
	writeConfig(t, cfgPath, daemonConfig(archive.URL, acmeVendor))

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+cfgPath)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	logs := &logLines{}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.Write(append(sc.Bytes(), '\n'))
		}
	}()

	logs.waitFor(t, "pass finished", map[string]string{"vendor": "Acme Cloud"})
	writeConfig(t, cfgPath, daemonConfig(archive.URL, acmeVendor, globexVendor))
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	logs.waitFor(t, "config reloaded", map[string]string{"added": "Globex"})
	logs.waitFor(t, "pass finished", map[string]string{"vendor": "Globex"})

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { <-copied; exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("daemon exited with %v after SIGTERM, want status 0; log:\n%s", err, logs.String())
		}
	case <-time.After(8 * time.Second):
		t.Fatalf("daemon did not exit within its 5s grace after SIGTERM; log:\n%s", logs.String())
	}
	logs.waitFor(t, "daemon stopped", nil)
}

// TestDaemonConfigValidation checks the daemon's keys are validated with the
// scheduler's parser and that errors name the key or vendor at fault.
func TestDaemonConfigValidation(t *testing.T) {
	const vendors = "vendors:\n  - name: Acme\n    url: https://acme.example/privacy\n"
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"defaults", vendors, ""},
		{"descriptor and per-vendor five fields", "schedule: \"@daily\"\n" + vendors + "    schedule: \"CRON_TZ=Europe/Paris 30 6 * * 1-5\"\n", ""},
		{"bad global schedule", "schedule: \"every hour\"\n" + vendors, "schedule:"},
		{"seconds field rejected", "schedule: \"0 0 * * * *\"\n" + vendors, "schedule:"},
		{"bad vendor schedule", vendors + "    schedule: \"61 * * * *\"\n", "vendors[0] (Acme): schedule"},
		{"bad listen", "listen: localhost\n" + vendors, "listen:"},
		{"bad timezone", "timezone: Mars/Olympus\n" + vendors, "timezone:"},
		{"negative jitter", "jitter: -1s\n" + vendors, "jitter:"},
		{"zero concurrency", "max_concurrent: 0\n" + vendors, "max_concurrent:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig(strings.NewReader(tt.yaml), func(string) string { return "" })
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseConfig: %v", err)
				}
				if cfg.Schedule == "" || cfg.Listen != "127.0.0.1:8080" || cfg.MaxConcurrent < 1 {
					t.Errorf("defaults not applied: %+v", cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseConfig error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
