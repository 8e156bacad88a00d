package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Webhook headers.
const (
	HeaderEvent     = "X-Policywatch-Event"
	HeaderDelivery  = "X-Policywatch-Delivery"
	HeaderSignature = "X-Policywatch-Signature-256"
)

// Sign returns the X-Policywatch-Signature-256 value of body: "sha256="
// and the hex HMAC-SHA256 of the body with the secret, as GitHub signs its
// webhooks, so receivers can reuse their verification code.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is body's signature with secret, in
// constant time. Receivers written in Go can use it.
func Verify(secret, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}

// deliveryError is a failed attempt, with what the retry policy needs.
type deliveryError struct {
	reason     string        // safe to store and print: no secret, no full webhook URL
	permanent  bool          // retrying cannot help: dead-letter now
	retryAfter time.Duration // the receiver's Retry-After, 0 when none
}

func (e *deliveryError) Error() string { return e.reason }

func permanent(format string, args ...any) error {
	return &deliveryError{reason: fmt.Sprintf(format, args...), permanent: true}
}

func temporary(format string, args ...any) error {
	return &deliveryError{reason: fmt.Sprintf(format, args...)}
}

// redactURL names a webhook by scheme and host only: the path and query of
// many webhook URLs (Slack's, Discord's) are the credential.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "webhook"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// postWebhook delivers one alert to one webhook and classifies the result:
// 2xx is delivered; 408, 429, 5xx, timeouts and connection errors are
// retried (honouring Retry-After); any other status is permanent.
func (s *Sender) postWebhook(ctx context.Context, w WebhookConfig, a alert) error {
	var body []byte
	var err error
	if w.Format == FormatSlack {
		body, err = slackJSON(a)
	} else {
		body, err = envelopeJSON(a)
	}
	if err != nil {
		return permanent("encode body: %v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return permanent("POST %s: bad URL", redactURL(w.URL))
	}
	for k, v := range w.Headers {
		req.Header.Set(k, v.Reveal())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "policywatch-alerts/1")
	req.Header.Set(HeaderEvent, a.event())
	req.Header.Set(HeaderDelivery, a.item.DeliveryID)
	if w.Secret != "" {
		req.Header.Set(HeaderSignature, Sign([]byte(w.Secret.Reveal()), body))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// *url.Error repeats the full URL: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return temporary("POST %s: no response within %v", redactURL(w.URL), s.cfg.Timeout)
		}
		return temporary("POST %s: %v", redactURL(w.URL), err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	reason := fmt.Sprintf("POST %s: HTTP %d", redactURL(w.URL), code)
	if t := oneLine(string(snippet), 200); t != "" {
		reason += ": " + t
	}
	if code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500 {
		return &deliveryError{reason: reason, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), s.now())}
	}
	return &deliveryError{reason: reason, permanent: true}
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
