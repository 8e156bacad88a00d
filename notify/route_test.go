package notify

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/policywatch/policywatch/diffing"
)

func change(level string, kinds ...string) diffing.Change {
	return diffing.Change{Kinds: kinds, Severity: diffing.Severity{Level: level}}
}

// Routing decides who hears about what, so every rule is pinned here:
// default kinds, minimum severity, per-vendor channels and their union.
func TestRoute(t *testing.T) {
	two := Config{
		Webhooks: []WebhookConfig{{URL: "https://a.example/h"}, {URL: "https://b.example/h"}},
		Email:    &EmailConfig{SMTP: SMTPConfig{Host: "smtp.example.com"}, From: "pw@example.com", To: []string{"t@example.com"}},
	}
	routed := two
	routed.Routes = []RouteConfig{
		{Vendors: []string{"SE Ranking"}, Channels: []string{"email"}, MinSeverity: "medium"},
		{Vendors: []string{"Acme"}, Channels: []string{"webhook:1"}, Kinds: []string{"date-only", "cosmetic"}},
		{Channels: []string{"webhook:0"}},
	}
	tests := []struct {
		name   string
		cfg    Config
		vendor string
		ch     diffing.Change
		want   []string
	}{
		{"no routes: silent goes everywhere", two, "X", change("low", "silent"), []string{"webhook:0", "webhook:1", "email"}},
		{"no routes: dated goes everywhere", two, "X", change("none", "dated"), []string{"webhook:0", "webhook:1", "email"}},
		{"default kinds skip cosmetic", two, "X", change("none", "cosmetic"), nil},
		{"default kinds skip date-only", two, "X", change("none", "date-only"), nil},
		{"default kinds skip cosmetic flip-back", two, "X", change("none", "cosmetic", "flip-back"), nil},
		{"silent flip-back is routed", two, "X", change("none", "silent", "flip-back"), []string{"webhook:0", "webhook:1", "email"}},
		{"no kind, no alert", two, "X", change("high"), nil},
		{"no channels configured", Config{}, "X", change("high", "silent"), nil},
		{"vendor route below min severity", routed, "SE Ranking", change("low", "silent"), []string{"webhook:0"}},
		{"vendor route at min severity", routed, "se ranking", change("medium", "silent"), []string{"webhook:0", "email"}},
		{"vendor route above min severity", routed, "SE Ranking", change("high", "dated"), []string{"webhook:0", "email"}},
		{"route kinds replace the default", routed, "Acme", change("none", "date-only"), []string{"webhook:1"}},
		{"route kinds exclude silent", routed, "Acme", change("high", "silent"), []string{"webhook:0"}},
		{"other vendor: catch-all only", routed, "Globex", change("high", "silent"), []string{"webhook:0"}},
		{"other vendor cosmetic: nothing", routed, "Globex", change("none", "cosmetic"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Route(tt.cfg, tt.vendor, tt.ch)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Route = %v, want %v", got, tt.want)
			}
		})
	}
}

// Validation names the key at fault, and never echoes a secret or a webhook
// URL (whose path may be one).
func TestValidate(t *testing.T) {
	okEmail := &EmailConfig{SMTP: SMTPConfig{Host: "smtp.example.com"}, From: "pw@example.com", To: []string{"t@example.com"}}
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" for valid
	}{
		{"empty is valid", Config{}, ""},
		{"full is valid", Config{Webhooks: []WebhookConfig{{URL: "https://h.example/x", Format: "slack", Secret: "s3cr3t-value"}}, Email: okEmail,
			Routes: []RouteConfig{{Channels: []string{"email", "webhook:0"}, MinSeverity: "high", Kinds: []string{"silent"}}}}, ""},
		{"bad webhook url hides it", Config{Webhooks: []WebhookConfig{{URL: "ftp://hooks.example/T0/SECRETPATH"}}}, "alerts.webhooks[0].url"},
		{"bad format", Config{Webhooks: []WebhookConfig{{URL: "https://h.example", Format: "xml"}}}, "alerts.webhooks[0].format"},
		{"reserved header", Config{Webhooks: []WebhookConfig{{URL: "https://h.example", Headers: map[string]Secret{"X-Policywatch-Delivery": "x"}}}}, "cannot be replaced"},
		{"header value with newline", Config{Webhooks: []WebhookConfig{{URL: "https://h.example", Headers: map[string]Secret{"Authorization": "a\r\nX: y"}}}}, "line break"},
		{"smtp tls", Config{Email: &EmailConfig{SMTP: SMTPConfig{Host: "h", TLS: "ssl"}, From: "a@b.c", To: []string{"d@e.f"}}}, "alerts.email.smtp.tls"},
		{"smtp host", Config{Email: &EmailConfig{From: "a@b.c", To: []string{"d@e.f"}}}, "alerts.email.smtp.host"},
		{"no recipients", Config{Email: &EmailConfig{SMTP: SMTPConfig{Host: "h"}, From: "a@b.c"}}, "alerts.email.to"},
		{"bad recipient", Config{Email: &EmailConfig{SMTP: SMTPConfig{Host: "h"}, From: "a@b.c", To: []string{"nobody"}}}, "alerts.email.to[0]"},
		{"password without user", Config{Email: &EmailConfig{SMTP: SMTPConfig{Host: "h", Password: "hunter2-secret"}, From: "a@b.c", To: []string{"d@e.f"}}}, "username"},
		{"unknown channel", Config{Routes: []RouteConfig{{Channels: []string{"email"}}}}, "alerts.routes[0].channels"},
		{"bad severity", Config{Routes: []RouteConfig{{MinSeverity: "severe"}}}, "alerts.routes[0].min_severity"},
		{"bad kind", Config{Routes: []RouteConfig{{Kinds: []string{"loud"}}}}, "alerts.routes[0].kinds"},
		{"attempts", Config{MaxAttempts: -1}, "alerts.max_attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want it to mention %q", err, tt.want)
			}
			for _, secret := range []string{"SECRETPATH", "hunter2-secret", "s3cr3t-value"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
		})
	}
}

// A Secret prints as [redacted] however a config holding it is printed or
// encoded. (fmt skips String methods under a verb that does not fit the
// type, such as %s on a struct, so only fitting verbs are checked there.)
func TestSecretRedacted(t *testing.T) {
	cfg := Config{Email: &EmailConfig{SMTP: SMTPConfig{Password: "hunter2-secret"}}, Webhooks: []WebhookConfig{{Secret: "s3cr3t-value"}}}
	checks := []struct {
		format string
		v      any
	}{{"%s", cfg.Email.SMTP.Password}, {"%q", cfg.Webhooks[0].Secret}, {"%x", cfg.Webhooks[0].Secret}}
	for _, format := range []string{"%v", "%+v", "%#v"} {
		for _, v := range []any{cfg, *cfg.Email, cfg.Webhooks[0], cfg.Email.SMTP.Password} {
			checks = append(checks, struct {
				format string
				v      any
			}{format, v})
		}
	}
	js, _ := json.Marshal(cfg)
	if strings.Contains(string(js), "hunter2") || strings.Contains(string(js), "s3cr3t") {
		t.Errorf("JSON shows a secret: %s", js)
	}
	for _, c := range checks {
		format, v := c.format, c.v
		{
			if s := sprintf(format, v); strings.Contains(s, "hunter2") || strings.Contains(s, "s3cr3t") {
				t.Errorf("%s shows a secret: %s", format, s)
			}
		}
	}
}
