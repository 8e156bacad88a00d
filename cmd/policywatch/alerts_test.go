package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

const (
	testHookSecret = "whsec-CMDSECRET-42"
	testSMTPPass   = "smtp-CMDSECRET-pw"
)

// alertsEnv runs policywatch with a config whose secrets come from the
// environment, as users are told to write it.
func alertsRun(t *testing.T, config string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{"HOOK_SECRET": testHookSecret, "SMTP_PASSWORD": testSMTPPass}
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }}
	err := m.Run(t.Context(), append(args, "--config", config, "--log-level", "debug"))
	return out.String(), errOut.String(), err
}

// The alerts commands end to end: a test alert to a receiver that refuses
// it (400) is dead-lettered and listed with its reason; retry revives it
// with the same delivery id and send delivers it. No output shows a secret,
// at debug log level, in text or JSON.
func TestAlertsCommands(t *testing.T) {
	var refuse atomic.Bool
	refuse.Store(true)
	var ids []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ids = append(ids, r.Header.Get("X-Policywatch-Delivery"))
		if refuse.Load() {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hook.Close()
	dir := t.TempDir()
	config := filepath.Join(dir, "policywatch.yaml")
	cfg := fmt.Sprintf(`database: data.db
vendors:
  - name: Acme
    url: https://example.com/privacy
alerts:
  max_attempts: 3
  webhooks:
    - url: %s/hook
      secret: "${HOOK_SECRET}"
      format: json
  email:
    smtp: {host: 127.0.0.1, port: 1, username: pw, password: "${SMTP_PASSWORD}", tls: none}
    from: policywatch@example.com
    to: [privacy-team@example.com]
  routes:
    - channels: [webhook:0]
      min_severity: medium
`, hook.URL)
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	run := func(args ...string) (string, error) {
		out, errOut, err := alertsRun(t, config, args...)
		all.WriteString(out + errOut)
		if err != nil {
			all.WriteString(err.Error())
		}
		return out, err
	}

	out, err := run("alerts", "test", "--channel", "webhook:0")
	if err == nil || !strings.Contains(out, "webhook:0: FAILED") || !strings.Contains(out, "HTTP 400") {
		t.Fatalf("alerts test = %q, %v", out, err)
	}
	out, err = run("alerts", "list", "--state", "dead", "--json")
	var listed []alertJSON
	if err != nil || json.Unmarshal([]byte(out), &listed) != nil || len(listed) != 1 || listed[0].Channel != "webhook:0" ||
		!strings.Contains(listed[0].LastError, "HTTP 400") || listed[0].Vendor != "Example Vendor (test)" {
		t.Fatalf("alerts list --json = %s, %v", out, err)
	}
	if out, err = run("alerts", "list"); err != nil || !strings.Contains(out, "0 pending, 0 delivered, 1 dead") {
		t.Fatalf("alerts list = %s, %v", out, err)
	}
	refuse.Store(false)
	if out, err = run("alerts", "retry", fmt.Sprint(listed[0].ID)); err != nil || !strings.Contains(out, "1 alert(s) due now") {
		t.Fatalf("alerts retry = %s, %v", out, err)
	}
	if out, err = run("alerts", "send"); err != nil || out != "1 delivered, 0 failed\n" {
		t.Fatalf("alerts send = %q, %v", out, err)
	}
	if len(ids) != 2 || ids[0] != ids[1] || ids[0] != listed[0].DeliveryID {
		t.Errorf("delivery ids = %v, want the same one twice", ids)
	}
	// The email channel points at a closed port: the test fails, and says
	// why without the password.
	if out, err = run("alerts", "test", "--channel", "email"); err == nil || !strings.Contains(out, "email: FAILED") {
		t.Fatalf("alerts test email = %q, %v", out, err)
	}
	if _, err = run("alerts", "retry", "--all-dead"); err != nil {
		t.Fatal(err)
	}
	run("alerts", "list", "--json")
	run("alerts", "list")
	if _, err := run("alerts", "test", "--channel", "webhook:9"); err == nil {
		t.Error("an unknown channel is accepted")
	}
	if strings.Contains(all.String(), "CMDSECRET") {
		t.Errorf("a secret leaked in the output:\n%s", all.String())
	}
}

// Config problems in alerts: are reported with their key.
func TestAlertsConfigErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"bad tls", "alerts:\n  email: {smtp: {host: h, tls: ssl}, from: a@b.c, to: [d@e.f]}\n", "alerts.email.smtp.tls"},
		{"unknown key", "alerts:\n  webhook: []\n", "field webhook not found"},
		{"unknown channel", "alerts:\n  routes: [{channels: [email]}]\n", "alerts.routes[0].channels"},
		{"missing env", "alerts:\n  webhooks: [{url: 'https://h.example', secret: '${NOPE}'}]\n", "NOPE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(tt.yaml), func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseConfig = %v, want %q", err, tt.want)
			}
		})
	}
}
