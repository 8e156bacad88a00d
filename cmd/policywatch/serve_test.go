package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Secrets of the serve tests: none may appear in any page, API response,
// feed or log line.
const (
	testWebToken     = "web-token-7f3a9c1e5b2d4086"
	testSMTPPassword = "smtp-pass-a1b2c3d4e5f6"
	serveHookSecret  = "hook-secret-0a9b8c7d6e5f"
)

func serveEnv(name string) string {
	return map[string]string{"WEB_TOKEN": testWebToken, "SMTP_PASSWORD": testSMTPPassword, "HOOK_SECRET": serveHookSecret}[name]
}

// serveConfig is a config with credentials for the dashboard and secrets
// for the alert channels.
func serveConfig(archiveURL, extra string) string {
	return daemonConfig(archiveURL, acmeVendor) + `web:
  token: "${WEB_TOKEN}"
alerts:
  webhooks:
    - url: https://hooks.example/policywatch
      secret: "${HOOK_SECRET}"
  email:
    smtp: {host: 127.0.0.1, port: 1, username: pw, password: "${SMTP_PASSWORD}", tls: none}
    from: policywatch@example.com
    to: [privacy-team@example.com]
` + extra
}

// startServe runs `policywatch serve` in-process and returns its base URL
// and a function that stops it and returns Run's error and the log.
func startServe(t *testing.T, cfgPath string, args ...string) (string, func() (error, string)) {
	t.Helper()
	return startServing(t, append([]string{"serve", "--config", cfgPath, "--log-level", "debug"}, args...))
}

// startServing runs a command that ends by serving the dashboard (serve,
// demo --serve) and waits for the address it prints.
func startServing(t *testing.T, args []string) (string, func() (error, string)) {
	t.Helper()
	out, logs := &logLines{}, &logLines{}
	m := &Main{Stdout: out, Stderr: logs, Getenv: serveEnv}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, args) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, u, ok := strings.Cut(out.String(), "Serving the dashboard on "); ok {
			base := strings.TrimSuffix(strings.Fields(u)[0], "/")
			return base, func() (error, string) {
				cancel()
				select {
				case err := <-done:
					return err, logs.String()
				case <-time.After(10 * time.Second):
					t.Fatal("serve did not stop within 10s of cancellation")
					return nil, ""
				}
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited early: %v\nstderr:\n%s", err, logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("serve printed no address within 10s; stdout %q stderr %q", out.String(), logs.String())
	return "", nil
}

// TestServeDashboard runs fetch against the fake archive, then serves the
// database: credentials are required and work in each accepted form, the
// pages, API and feeds answer with the fetched vendor, no secret appears in
// any response or log line, and cancelling (Ctrl-C) stops serve cleanly.
func TestServeDashboard(t *testing.T) {
	archive := daemonArchive(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "policywatch.yaml")
	writeConfig(t, cfgPath, serveConfig(archive.URL, ""))
	fetch := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: serveEnv}
	if err := fetch.Run(t.Context(), []string{"fetch", "--config", cfgPath}); err != nil {
		t.Fatalf("fetch: %v", err)
	}

	base, stop := startServe(t, cfgPath)
	client := &http.Client{Timeout: 5 * time.Second}
	do := func(path string, auth func(*http.Request)) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != nil {
			auth(req)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	basic := func(user, pass string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(user, pass) }
	}

	t.Run("credentials", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			auth func(*http.Request)
			want int
		}{
			{"none", nil, http.StatusUnauthorized},
			{"wrong bearer", bearer(testWebToken + "x"), http.StatusUnauthorized},
			{"bearer", bearer(testWebToken), http.StatusOK},
			{"basic with the token as password", basic("anyone", testWebToken), http.StatusOK},
			{"basic with a wrong password", basic("anyone", "nope"), http.StatusUnauthorized},
		} {
			t.Run(tt.name, func(t *testing.T) {
				code, h, body := do("/api/v1/vendors", tt.auth)
				if code != tt.want {
					t.Fatalf("GET /api/v1/vendors = %d, want %d: %s", code, tt.want, body)
				}
				if code == http.StatusUnauthorized && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("401 without a Basic challenge: %q", h.Get("WWW-Authenticate"))
				}
			})
		}
	})

	var bodies []string
	for _, tt := range []struct{ path, want, ctype string }{
		{"/", "Acme Cloud", "text/html"},
		{"/vendors/Acme%20Cloud", "Acme Cloud", "text/html"},
		{"/api/v1/vendors", `"Acme Cloud"`, "application/json"},
		{"/api/v1/changes", `"changes"`, "application/json"},
		{"/feeds/changes.atom", "<feed", "application/atom+xml"},
		{"/feeds/vendors/Acme%20Cloud.atom", "<feed", "application/atom+xml"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			code, h, body := do(tt.path, bearer(testWebToken))
			bodies = append(bodies, body)
			if code != http.StatusOK || !strings.Contains(body, tt.want) || !strings.HasPrefix(h.Get("Content-Type"), tt.ctype) {
				t.Fatalf("GET %s = %d %s, want 200 %s containing %q; body:\n%s", tt.path, code, h.Get("Content-Type"), tt.ctype, tt.want, body)
			}
			if h.Get("Content-Security-Policy") == "" {
				t.Errorf("GET %s has no Content-Security-Policy", tt.path)
			}
		})
	}

	err, logs := stop()
	if err != nil {
		t.Fatalf("serve returned %v after cancellation, want nil", err)
	}
	if !strings.Contains(logs, "http request") {
		t.Errorf("debug log has no request lines:\n%s", logs)
	}
	for _, secret := range []string{testWebToken, testSMTPPassword, serveHookSecret} {
		for i, b := range bodies {
			if strings.Contains(b, secret) {
				t.Errorf("response %d contains the secret %q", i, secret)
			}
		}
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains the secret %q", secret)
		}
	}
}

// TestServeRefusesAnOpenAddressWithoutCredentials checks that the
// dashboard is never served where other machines can reach it unless
// credentials are set, whether the address comes from the config or
// --listen, and that the error says what to do.
func TestServeRefusesAnOpenAddressWithoutCredentials(t *testing.T) {
	archive := daemonArchive(t)
	for _, tt := range []struct {
		name   string
		config string
		args   []string
		want   string
	}{
		{"config listen on all addresses", strings.Replace(daemonConfig(archive.URL, acmeVendor), "listen: 127.0.0.1:0", "listen: 0.0.0.0:0", 1), nil, "web.token"},
		{"--listen on all addresses", daemonConfig(archive.URL, acmeVendor), []string{"--listen", ":0"}, "web.token"},
		{"--listen on an IPv6 wildcard", daemonConfig(archive.URL, acmeVendor), []string{"--listen", "[::]:0"}, "web.token"},
		{"--listen without a port", daemonConfig(archive.URL, acmeVendor), []string{"--listen", "127.0.0.1"}, "--listen"},
		{"web disabled", daemonConfig(archive.URL, acmeVendor) + "web:\n  enabled: false\n", nil, "web.enabled is false"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "policywatch.yaml")
			writeConfig(t, cfgPath, tt.config)
			m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: serveEnv}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			err := m.Run(ctx, append([]string{"serve", "--config", cfgPath}, tt.args...))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve = %v, want an error mentioning %q", err, tt.want)
			}
			if _, statErr := os.Stat(filepath.Join(dir, "data.db")); statErr == nil {
				t.Errorf("serve created the database before refusing")
			}
		})
	}
}

// TestWebConfigValidation checks the web section's errors name the key.
func TestWebConfigValidation(t *testing.T) {
	for _, tt := range []struct{ name, yaml, want string }{
		{"user without password", "web:\n  user: alice\n", "web: user and password go together"},
		{"short token", "web:\n  token: abc\n", "web.token: too short"},
		{"bad base url", "web:\n  base_url: policies.example\n", "web.base_url"},
		{"colon in user", "web:\n  user: 'a:b'\n  password: secretsecret\n", "web.user"},
		{"open address", "listen: 10.0.0.5:8080\n", "web.token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(tt.yaml), func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseConfig = %v, want %q", err, tt.want)
			}
		})
	}
	for _, ok := range []string{
		"listen: 0.0.0.0:8080\nweb:\n  token: 0123456789abcdef0123\n",
		"listen: '[::]:8080'\nweb:\n  user: alice\n  password: s3cret\n",
		"listen: 0.0.0.0:8080\nweb:\n  enabled: false\n",
		"listen: localhost:8080\n",
		"listen: '[::1]:8080'\n",
	} {
		if _, err := ParseConfig(strings.NewReader(ok), func(string) string { return "" }); err != nil {
			t.Errorf("ParseConfig(%q) = %v, want ok", ok, err)
		}
	}
}

// TestDaemonServesTheDashboard checks that the daemon serves the dashboard
// beside its probes, behind credentials, with the next pass taken from its
// own scheduler; and that web.enabled: false leaves only the probes.
func TestDaemonServesTheDashboard(t *testing.T) {
	archive := daemonArchive(t)
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	for _, tt := range []struct {
		name       string
		extra      string
		dashboard  int // status of an authenticated GET /
		anonymous  int // status of an unauthenticated GET /
		wantInPage string
	}{
		{"enabled", "", http.StatusOK, http.StatusUnauthorized, "Acme Cloud"},
		{"disabled", "  enabled: false\n", http.StatusNotFound, http.StatusNotFound, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "policywatch.yaml")
			cfg := serveConfig(archive.URL, "")
			cfg = strings.Replace(cfg, "web:\n  token: \"${WEB_TOKEN}\"\n", "web:\n  token: \"${WEB_TOKEN}\"\n"+tt.extra, 1)
			writeConfig(t, cfgPath, cfg)
			logs := &logLines{}
			m := &Main{Stdout: io.Discard, Stderr: logs, Getenv: serveEnv}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- m.Run(ctx, []string{"daemon", "--config", cfgPath, "--grace", "5s"}) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("daemon: %v", err)
				}
			}()
			base := "http://" + logs.waitFor(t, "daemon started", nil)["addr"].(string)
			logs.waitFor(t, "pass finished", map[string]string{"vendor": "Acme Cloud"})

			if code, body := get(t, client, base+"/healthz"); code != http.StatusOK {
				t.Fatalf("/healthz = %d %s, want 200 without credentials", code, body)
			}
			if code, _ := get(t, client, base+"/"); code != tt.anonymous {
				t.Errorf("anonymous GET / = %d, want %d", code, tt.anonymous)
			}
			req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/vendors/Acme%20Cloud", nil)
			req.Header.Set("Authorization", "Bearer "+testWebToken)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.dashboard || !strings.Contains(string(b), tt.wantInPage) {
				t.Fatalf("GET /api/v1/vendors/Acme%%20Cloud = %d, want %d with %q: %s", resp.StatusCode, tt.dashboard, tt.wantInPage, b)
			}
			if tt.dashboard == http.StatusOK && strings.Contains(string(b), `"next_pass_at": null`) {
				t.Errorf("the daemon's vendor has no next pass: %s", b)
			}
			for _, secret := range []string{testWebToken, testSMTPPassword, serveHookSecret} {
				if strings.Contains(string(b), secret) || strings.Contains(logs.String(), secret) {
					t.Errorf("secret %q leaked into a response or the log", secret)
				}
			}
		})
	}
}

// TestDemoServe is the newcomer's path: the demo, then its dashboard.
func TestDemoServe(t *testing.T) {
	base, stop := startServing(t, []string{"demo", "--dir", t.TempDir(), "--serve", "--listen", "127.0.0.1:0"})
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(base + "/vendors/Acme%20Cloud")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "2022-06-14") {
		t.Fatalf("GET /vendors/Acme%%20Cloud = %d, want 200 with the 2022 stated date:\n%s", resp.StatusCode, b)
	}
	if err, logs := stop(); err != nil {
		t.Fatalf("demo --serve returned %v after Ctrl-C, want nil\n%s", err, logs)
	}
}
