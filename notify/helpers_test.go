package notify

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/store"
)

// clock is a settable time source, so backoff is tested without sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2024, 3, 12, 15, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

func openDB(t *testing.T, path string, c *clock) *store.DB {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "pw.db")
	}
	db, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = c.Now
	t.Cleanup(func() { db.Close() })
	return db
}

// logBuffer captures log output, to prove no secret reaches it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.buf.String() }

func newSender(t *testing.T, cfg Config, db *store.DB, c *clock, logs io.Writer) *Sender {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	s, err := New(cfg, db, slog.New(slog.NewTextHandler(logs, nil)), nil, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func enqueue(t *testing.T, db *store.DB, channel string, r diffing.Report) *store.OutboxItem {
	t.Helper()
	p, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	it, err := db.EnqueueAlert(t.Context(), 0, store.Alert{Channel: channel, Payload: p})
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func alertState(t *testing.T, db *store.DB, id int64) *store.OutboxItem {
	t.Helper()
	it, err := db.Alert(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// smtpServer is a real SMTP server (go-smtp) on 127.0.0.1 that keeps every
// message it receives, with its envelope.
type smtpServer struct {
	mu       sync.Mutex
	msgs     []receivedMail
	user     string
	password string
	authed   []string // usernames that authenticated
	port     int
	tls      bool // whether the session was encrypted
}

type receivedMail struct {
	From string
	To   []string
	Data []byte
	TLS  bool
}

type smtpSession struct {
	srv  *smtpServer
	conn *smtp.Conn
	cur  receivedMail
}

func (s *smtpSession) AuthMechanisms() []string {
	if s.srv.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.srv.user || password != s.srv.password {
			return errors.New("invalid credentials")
		}
		s.srv.mu.Lock()
		s.srv.authed = append(s.srv.authed, username)
		s.srv.mu.Unlock()
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.From = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	_, s.cur.TLS = s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.msgs = append(s.srv.msgs, s.cur)
	s.srv.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset()        { s.cur = receivedMail{} }
func (s *smtpSession) Logout() error { return nil }

// startSMTP runs the server; with withTLS it offers STARTTLS with a
// self-signed certificate (httptest's), and then requires TLS for AUTH.
func startSMTP(t *testing.T, withTLS bool, user, password string) *smtpServer {
	t.Helper()
	srv := &smtpServer{user: user, password: password}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{srv: srv, conn: c}, nil
	}))
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.AllowInsecureAuth = !withTLS
	if withTLS {
		hs := httptest.NewUnstartedServer(nil)
		hs.StartTLS()
		s.TLSConfig = &tls.Config{Certificates: hs.TLS.Certificates}
		hs.Close()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.port = ln.Addr().(*net.TCPAddr).Port
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return srv
}

func (s *smtpServer) messages() []receivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedMail(nil), s.msgs...)
}

func sprintf(format string, v any) string { return fmt.Sprintf(format, v) }
