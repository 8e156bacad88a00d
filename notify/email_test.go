package notify

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/policywatch/policywatch/store"
)

const smtpPassword = "smtp-TOPSECRET-pw"

func emailConfig(port int, tlsMode string, user string, digest bool) Config {
	return Config{
		Email: &EmailConfig{
			SMTP:   SMTPConfig{Host: "127.0.0.1", Port: port, TLS: tlsMode, Username: user, Password: Secret(map[bool]string{true: smtpPassword}[user != ""]), TLSSkipVerify: tlsMode != TLSNone},
			From:   "policywatch@example.com",
			To:     []string{"privacy-team@example.com", "legal@example.com"},
			Digest: digest,
		},
		MaxAttempts: 3, RetryBackoff: time.Second, Timeout: 5 * time.Second,
	}
}

// parsedMail is a received message split into headers and its two parts.
type parsedMail struct {
	msg        *mail.Message
	text, html string
}

func parseMail(t *testing.T, raw []byte) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	p := parsedMail{msg: m}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part)
		switch ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); ct {
		case "text/plain":
			p.text = string(b)
		case "text/html":
			p.html = string(b)
		}
	}
	if p.text == "" || p.html == "" {
		t.Fatalf("want a text and an HTML part:\n%s", raw)
	}
	return p
}

// An alert email reaches a real SMTP server (go-smtp, in process) with a
// readable subject, both parts, the clause report, the stated dates and both
// Wayback links; archived text with CR/LF cannot add a header, and archived
// markup is escaped in the HTML part. STARTTLS with authentication keeps the
// password out of logs and stored errors.
func TestEmailDelivery(t *testing.T) {
	tests := []struct {
		name    string
		tls     string
		user    string
		wantTLS bool
	}{
		{"plain, no auth", TLSNone, "", false},
		{"starttls with auth, self-signed", TLSStartTLS, "pw-user", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, tt.tls != TLSNone, tt.user, smtpPassword)
			c := newClock()
			db := openDB(t, "", c)
			var logs logBuffer
			s := newSender(t, emailConfig(srv.port, tt.tls, tt.user, false), db, c, &logs)
			r := SampleReport()
			r.Vendor = "SE Ranking\r\nBcc: victim@example.com\r\nX-Injected: yes"
			r.Change.Clauses[1].New = "We share <script>alert(1)</script> data with AI partners."
			it := enqueue(t, db, ChannelEmail, r)
			sent, failed, err := s.DrainOnce(t.Context())
			if err != nil || sent != 1 || failed != 0 {
				t.Fatalf("drain = %d, %d, %v (last error %q)", sent, failed, err, alertState(t, db, it.ID).LastError)
			}
			msgs := srv.messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			got := msgs[0]
			if got.TLS != tt.wantTLS || len(got.To) != 2 || got.From != "policywatch@example.com" {
				t.Errorf("envelope: tls %v from %q to %v", got.TLS, got.From, got.To)
			}
			if tt.user != "" && len(srv.authed) != 1 {
				t.Errorf("authenticated %v", srv.authed)
			}
			p := parseMail(t, got.Data)
			h := p.msg.Header
			subj, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
			if err != nil {
				t.Fatal(err)
			}
			if want := "[policywatch] test alert: SE Ranking Bcc: victim@example.com X-Injected: yes privacy policy changed — 2 clauses, silent change, medium severity"; subj != want {
				t.Errorf("Subject = %q, want %q", subj, want)
			}
			if h.Get("Bcc") != "" || h.Get("X-Injected") != "" {
				t.Errorf("injected header: %v", h)
			}
			if h.Get("From") != "<policywatch@example.com>" || !strings.Contains(h.Get("To"), "privacy-team@example.com") || !strings.Contains(h.Get("To"), "legal@example.com") {
				t.Errorf("From %q To %q", h.Get("From"), h.Get("To"))
			}
			if h.Get("Message-Id") != "<"+it.DeliveryID+"@example.com>" || h.Get(HeaderDelivery) != it.DeliveryID {
				t.Errorf("Message-ID %q, %s %q", h.Get("Message-Id"), HeaderDelivery, h.Get(HeaderDelivery))
			}
			for _, want := range []string{"4 Data storage", "4.1", "5 Sharing", "5.3", "2023-11-02",
				"https://web.archive.org/web/20240110093000id_/https://example.com/privacy",
				"https://web.archive.org/web/20240312141500id_/https://example.com/privacy"} {
				if !strings.Contains(p.text, want) {
					t.Errorf("text part lacks %q", want)
				}
				if !strings.Contains(p.html, want) {
					t.Errorf("HTML part lacks %q", want)
				}
			}
			if strings.Contains(p.html, "<script>") || !strings.Contains(p.html, "&lt;script&gt;") {
				t.Error("archived markup is not escaped in the HTML part")
			}
			if strings.Contains(string(got.Data), smtpPassword) || strings.Contains(logs.String(), smtpPassword) {
				t.Error("the SMTP password leaked")
			}
		})
	}
}

// A wrong password fails the attempt without showing the password, and the
// alert stays pending for a retry.
func TestEmailAuthFailureHidesPassword(t *testing.T) {
	srv := startSMTP(t, true, "pw-user", "another-password")
	c := newClock()
	db := openDB(t, "", c)
	var logs logBuffer
	s := newSender(t, emailConfig(srv.port, TLSStartTLS, "pw-user", false), db, c, &logs)
	it := enqueue(t, db, ChannelEmail, SampleReport())
	if sent, failed, err := s.DrainOnce(t.Context()); err != nil || sent != 0 || failed != 1 {
		t.Fatalf("drain = %d, %d, %v", sent, failed, err)
	}
	got := alertState(t, db, it.ID)
	if got.LastError == "" || got.State == store.AlertDelivered {
		t.Fatalf("alert = %+v", got)
	}
	if strings.Contains(got.LastError, smtpPassword) || strings.Contains(logs.String(), smtpPassword) {
		t.Errorf("the password leaked: %s\n%s", got.LastError, logs.String())
	}
}

// In digest mode one drain sends one email with every pending email alert.
func TestEmailDigest(t *testing.T) {
	srv := startSMTP(t, false, "", "")
	c := newClock()
	db := openDB(t, "", c)
	s := newSender(t, emailConfig(srv.port, TLSNone, "", true), db, c, nil)
	var ids []int64
	for _, v := range []string{"Acme", "Globex", "Initech"} {
		r := SampleReport()
		r.Vendor = v
		ids = append(ids, enqueue(t, db, ChannelEmail, r).ID)
	}
	if sent, _, err := s.DrainOnce(t.Context()); err != nil || sent != 3 {
		t.Fatalf("drain = %d, %v", sent, err)
	}
	msgs := srv.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want one digest", len(msgs))
	}
	p := parseMail(t, msgs[0].Data)
	subj, _ := new(mime.WordDecoder).DecodeHeader(p.msg.Header.Get("Subject"))
	if subj != "[policywatch] 3 policy changes: Acme, Globex, Initech" {
		t.Errorf("Subject = %q", subj)
	}
	for _, v := range []string{"Acme", "Globex", "Initech"} {
		if !strings.Contains(p.text, v) || !strings.Contains(p.html, v) {
			t.Errorf("digest lacks %s", v)
		}
	}
	if strings.Count(p.html, "<html") != 1 || strings.Count(p.html, "</body>") != 1 {
		t.Error("the digest's HTML part is not one document")
	}
	for _, id := range ids {
		if st := alertState(t, db, id).State; st != store.AlertDelivered {
			t.Errorf("alert %d is %s", id, st)
		}
	}
}
