package notify

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/policywatch/policywatch/diffing"
)

// Defaults used where the alerts section says nothing. They are applied by
// Config.WithDefaults rather than by the config loader, so that a config
// without an alerts section still gets sensible retries.
const (
	DefaultMaxAttempts  = 8
	DefaultRetryBackoff = 30 * time.Second
	DefaultMaxBackoff   = 6 * time.Hour
	DefaultTimeout      = 30 * time.Second
)

// Webhook formats.
const (
	FormatJSON  = "json"  // the documented envelope around a diffing.Report
	FormatSlack = "slack" // Slack's incoming-webhook payload: {"text", "blocks"}
)

// SMTP transport security modes (SMTPConfig.TLS).
const (
	TLSStartTLS = "starttls" // plain connect, then STARTTLS, which is mandatory
	TLSImplicit = "implicit" // TLS from the first byte (SMTPS, port 465)
	TLSNone     = "none"     // no encryption: only for a relay on localhost or a test server
)

// ChannelEmail is the name of the email channel; webhooks are "webhook:N",
// N being the webhook's index in the config, so names stay stable as long
// as the list's order does.
const ChannelEmail = "email"

// WebhookChannel returns the channel name of the i-th configured webhook.
func WebhookChannel(i int) string { return fmt.Sprintf("webhook:%d", i) }

// Config is the `alerts:` section of policywatch.yaml.
type Config struct {
	Webhooks []WebhookConfig `yaml:"webhooks"`
	// Email is nil when no email channel is configured.
	Email *EmailConfig `yaml:"email"`
	// Routes decide which changes go to which channels (see Route). Without
	// routes every channel gets every change of the default kinds.
	Routes []RouteConfig `yaml:"routes"`
	// MaxAttempts is how many deliveries of one alert are tried before it
	// is dead-lettered (default 8).
	MaxAttempts int `yaml:"max_attempts"`
	// RetryBackoff is the delay before the second attempt; it doubles with
	// every further attempt, with jitter, up to MaxBackoff (default 30s).
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// MaxBackoff caps the delay between two attempts (default 6h).
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// Timeout bounds one delivery attempt: a webhook request or an SMTP
	// session (default 30s). A timed-out attempt is retried.
	Timeout time.Duration `yaml:"timeout"`
}

// WebhookConfig is one webhook channel.
type WebhookConfig struct {
	URL string `yaml:"url"`
	// Secret signs each body (X-Policywatch-Signature-256); empty sends
	// unsigned requests.
	Secret Secret `yaml:"secret"`
	// Format is "json" (default) or "slack".
	Format string `yaml:"format"`
	// Headers are added to every request, e.g. an Authorization header for
	// a receiver that wants one. They cannot replace policywatch's own.
	Headers map[string]Secret `yaml:"headers"`
}

// EmailConfig is the email channel.
type EmailConfig struct {
	SMTP SMTPConfig `yaml:"smtp"`
	From string     `yaml:"from"`
	To   []string   `yaml:"to"`
	// Digest sends one email per drain with every pending email alert,
	// instead of one email per change.
	Digest bool `yaml:"digest"`
}

// SMTPConfig says how to reach the mail server.
type SMTPConfig struct {
	Host string `yaml:"host"`
	// Port defaults by TLS mode: 587 for starttls, 465 for implicit, 25 for none.
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	// TLS is "starttls" (default), "implicit" or "none".
	TLS string `yaml:"tls"`
	// TLSSkipVerify accepts any server certificate. It exists for tests and
	// for relays with self-signed certificates; never set it by default.
	TLSSkipVerify bool `yaml:"tls_skip_verify"`
}

// RouteConfig sends the changes of some vendors to some channels. A change
// goes to the union of the channels of every route that accepts it.
type RouteConfig struct {
	// Vendors are vendor names as in the config (case-insensitive); empty
	// means every vendor.
	Vendors []string `yaml:"vendors"`
	// Channels are channel names ("email", "webhook:0", …); empty means
	// every configured channel.
	Channels []string `yaml:"channels"`
	// MinSeverity is the lowest severity level routed: none (default),
	// low, medium or high.
	MinSeverity string `yaml:"min_severity"`
	// Kinds are the change kinds routed; a change matches when it has any
	// of them. Empty means DefaultKinds.
	Kinds []string `yaml:"kinds"`
}

// DefaultKinds are routed when a route names no kinds: everything except
// cosmetic and date-only changes. A flip-back always comes with one of
// these kinds, so flip-backs of material changes are included.
var DefaultKinds = []string{diffing.KindSilent, diffing.KindDated}

var allKinds = []string{diffing.KindSilent, diffing.KindDated, diffing.KindDateOnly, diffing.KindCosmetic, diffing.KindFlipBack}

var levels = []string{diffing.LevelNone, diffing.LevelLow, diffing.LevelMedium, diffing.LevelHigh}

// Secret is a configured credential. Its String, GoString, LogValue-free
// formatting and JSON form are redacted, so printing a Config, logging it or
// putting it in an error can never leak the value; Reveal returns it.
type Secret string

// Reveal returns the secret's value, for the one place that must use it.
func (s Secret) Reveal() string { return string(s) }

// String redacts the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString redacts the value under %#v too.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalJSON redacts the value, so a config dumped as JSON is safe to share.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Channels returns the names of the configured channels: the webhooks in
// order, then email.
func (c Config) Channels() []string {
	var out []string
	for i := range c.Webhooks {
		out = append(out, WebhookChannel(i))
	}
	if c.Email != nil {
		out = append(out, ChannelEmail)
	}
	return out
}

// Enabled reports whether any channel is configured.
func (c Config) Enabled() bool { return len(c.Channels()) > 0 }

// WithDefaults returns c with zero settings replaced by their defaults.
func (c Config) WithDefaults() Config {
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.RetryBackoff == 0 {
		c.RetryBackoff = DefaultRetryBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Email != nil {
		e := *c.Email
		if e.SMTP.TLS == "" {
			e.SMTP.TLS = TLSStartTLS
		}
		if e.SMTP.Port == 0 {
			switch e.SMTP.TLS {
			case TLSImplicit:
				e.SMTP.Port = 465
			case TLSNone:
				e.SMTP.Port = 25
			default:
				e.SMTP.Port = 587
			}
		}
		c.Email = &e
	}
	ws := slices.Clone(c.Webhooks)
	for i := range ws {
		if ws[i].Format == "" {
			ws[i].Format = FormatJSON
		}
	}
	c.Webhooks = ws
	return c
}

// Validate reports every problem of the alerts section at once, each
// prefixed with its key. Messages never contain a secret's value.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("alerts."+format, args...)) }
	if c.MaxAttempts < 1 {
		bad("max_attempts: %d must be at least 1", c.MaxAttempts)
	}
	if c.RetryBackoff < 0 {
		bad("retry_backoff: %v must be above 0 (e.g. 30s)", c.RetryBackoff)
	}
	if c.MaxBackoff < c.RetryBackoff {
		bad("max_backoff: %v must not be below retry_backoff (%v)", c.MaxBackoff, c.RetryBackoff)
	}
	if c.Timeout < 0 {
		bad("timeout: %v must be above 0 (e.g. 30s)", c.Timeout)
	}
	for i, w := range c.Webhooks {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The URL itself is not shown: Slack-style webhook URLs are secrets.
			bad("webhooks[%d].url: not an absolute http(s) URL", i)
		}
		if w.Format != FormatJSON && w.Format != FormatSlack {
			bad("webhooks[%d].format: %q is not json or slack", i, w.Format)
		}
		for k := range w.Headers {
			if !validHeaderName(k) {
				bad("webhooks[%d].headers: %q is not a valid header name", i, k)
			} else if isReservedHeader(k) {
				bad("webhooks[%d].headers: %s is set by policywatch and cannot be replaced", i, k)
			}
			if strings.ContainsAny(w.Headers[k].Reveal(), "\r\n") {
				bad("webhooks[%d].headers.%s: the value must not contain a line break", i, k)
			}
		}
	}
	if e := c.Email; e != nil {
		if e.SMTP.Host == "" {
			bad("email.smtp.host: is required")
		}
		if e.SMTP.Port < 1 || e.SMTP.Port > 65535 {
			bad("email.smtp.port: %d is not a port", e.SMTP.Port)
		}
		switch e.SMTP.TLS {
		case TLSStartTLS, TLSImplicit, TLSNone:
		default:
			bad("email.smtp.tls: %q is not starttls, implicit or none", e.SMTP.TLS)
		}
		if e.SMTP.Password != "" && e.SMTP.Username == "" {
			bad("email.smtp.username: is required when a password is set")
		}
		if _, err := mail.ParseAddress(e.From); err != nil {
			bad("email.from: %q is not an email address", e.From)
		}
		if len(e.To) == 0 {
			bad("email.to: list at least one recipient")
		}
		for i, to := range e.To {
			if _, err := mail.ParseAddress(to); err != nil {
				bad("email.to[%d]: %q is not an email address", i, to)
			}
		}
	}
	channels := c.Channels()
	for i, r := range c.Routes {
		for _, ch := range r.Channels {
			if !slices.Contains(channels, ch) {
				bad("routes[%d].channels: %q is not a configured channel (configured: %s)", i, ch, orNone(strings.Join(channels, ", ")))
			}
		}
		if r.MinSeverity != "" && !slices.Contains(levels, r.MinSeverity) {
			bad("routes[%d].min_severity: %q is not none, low, medium or high", i, r.MinSeverity)
		}
		for _, k := range r.Kinds {
			if !slices.Contains(allKinds, k) {
				bad("routes[%d].kinds: %q is not one of %s", i, k, strings.Join(allKinds, ", "))
			}
		}
	}
	return errors.Join(errs...)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

var reservedHeaders = []string{"content-type", "content-length", "host", "user-agent",
	"x-policywatch-event", "x-policywatch-delivery", "x-policywatch-signature-256"}

func isReservedHeader(k string) bool { return slices.Contains(reservedHeaders, strings.ToLower(k)) }
