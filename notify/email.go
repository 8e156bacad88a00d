package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/policywatch/policywatch/diffing"
)

// buildEmail makes the message for one alert or, in digest mode, for
// several: a text part (diffing.RenderText without colour) and an HTML
// alternative (diffing.RenderHTML). go-mail writes the MIME structure and
// encodes every header; the subject is flattened to one line first anyway,
// so archived text cannot add a header.
func (s *Sender) buildEmail(alerts []alert) (*gomail.Msg, error) {
	e := s.cfg.Email
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(e.From); err != nil {
		return nil, fmt.Errorf("email from: %w", err)
	}
	if err := m.To(e.To...); err != nil {
		return nil, fmt.Errorf("email to: %w", err)
	}
	ids := make([]string, len(alerts))
	for i, a := range alerts {
		ids[i] = a.item.DeliveryID
	}
	var subject, msgID string
	if len(alerts) == 1 {
		subject = Subject(alerts[0].report, alerts[0].event() == EventTest)
		// The delivery id makes the Message-ID stable across retries, so a
		// mail client shows a message delivered twice only once.
		msgID = ids[0]
	} else {
		var names []string
		for _, a := range alerts {
			if n := oneLine(a.report.Vendor, 60); !contains(names, n) {
				names = append(names, n)
			}
		}
		subject = oneLine(fmt.Sprintf("[policywatch] %d policy changes: %s", len(alerts), strings.Join(names, ", ")), 200)
		sum := sha256.Sum256([]byte(strings.Join(ids, ",")))
		msgID = "digest-" + hex.EncodeToString(sum[:12])
	}
	m.Subject(subject)
	m.SetMessageIDWithValue(msgID + "@" + mailDomain(e.From))
	m.SetDateWithValue(s.now())
	m.SetGenHeader(gomail.Header(HeaderDelivery), strings.Join(ids, " "))
	m.SetGenHeader(gomail.Header(HeaderEvent), alerts[0].event())
	m.SetGenHeader(gomail.HeaderXMailer, "policywatch")

	var text, html bytes.Buffer
	for i, a := range alerts {
		if i > 0 {
			text.WriteString("\n" + strings.Repeat("=", 72) + "\n\n")
		}
		if a.event() == EventTest {
			text.WriteString("This is a test alert sent by `policywatch alerts test` with a sample report.\nIt shows what a real alert looks like.\n\n")
		}
		if err := diffing.RenderText(&text, a.report, false); err != nil {
			return nil, fmt.Errorf("render text: %w", err)
		}
		fmt.Fprintf(&text, "\ndelivery id: %s\n", a.item.DeliveryID)
		var one bytes.Buffer
		if err := diffing.RenderHTML(&one, a.report); err != nil {
			return nil, fmt.Errorf("render html: %w", err)
		}
		if len(alerts) == 1 {
			html = one
			break
		}
		// A digest is one HTML document: the first report's head, then the
		// body of every report. The split points are the renderer's own
		// markup; archived text inside is escaped by html/template, so it
		// cannot contain a literal <body> or </body>.
		doc := one.String()
		open := strings.Index(doc, "<body>")
		end := strings.LastIndex(doc, "</body>")
		if open < 0 || end < open {
			return nil, errors.New("render html: no body element")
		}
		if i == 0 {
			html.WriteString(doc[:open+len("<body>")])
		} else {
			html.WriteString("\n<hr>\n")
		}
		html.WriteString(doc[open+len("<body>") : end])
		if i == len(alerts)-1 {
			html.WriteString(doc[end:])
		}
	}
	m.SetBodyString(gomail.TypeTextPlain, text.String())
	m.AddAlternativeString(gomail.TypeTextHTML, html.String())
	return m, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// mailDomain is the right-hand side for Message-IDs: the sender's domain,
// which is ours to make unique ids in.
func mailDomain(from string) string {
	if a, err := mail.ParseAddress(from); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok && d != "" {
			return d
		}
	}
	return "policywatch.invalid"
}

// smtpClient makes a go-mail client from the config. Auth is used only when
// a username is set; TLS verification is on unless tls_skip_verify says so.
func (s *Sender) smtpClient() (*gomail.Client, error) {
	c := s.cfg.Email.SMTP
	opts := []gomail.Option{
		gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.TLSSkipVerify}),
	}
	switch c.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(c.Username), gomail.WithPassword(c.Password.Reveal()))
	}
	opts = append(opts, gomail.WithPort(c.Port))
	cl, err := gomail.NewClient(c.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	return cl, nil
}

// sendEmail sends one message for the alerts. SMTP rejections with a
// permanent (5xx) code are permanent; everything else — connection errors,
// timeouts, 4xx replies — is retried.
func (s *Sender) sendEmail(ctx context.Context, alerts []alert) error {
	m, err := s.buildEmail(alerts)
	if err != nil {
		return permanent("%v", err)
	}
	cl, err := s.smtpClient()
	if err != nil {
		return permanent("%v", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	addr := fmt.Sprintf("%s:%d", s.cfg.Email.SMTP.Host, s.cfg.Email.SMTP.Port)
	if err := cl.DialAndSendWithContext(ctx, m); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
			return permanent("smtp %s: %v", addr, err)
		}
		return temporary("smtp %s: %v", addr, err)
	}
	return nil
}
