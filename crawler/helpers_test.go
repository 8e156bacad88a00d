package crawler_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/crawler/waybacktest"
)

// fastConfig keeps every test quick: high rates and tiny delays.
func fastConfig(base string) crawler.Config {
	return crawler.Config{
		BaseURL:      base,
		CDXRate:      1000,
		PlaybackRate: 1000,
		MaxAttempts:  4,
		BackoffBase:  time.Millisecond,
		Pause429:     5 * time.Millisecond,
		Max429Pauses: 3,
		CDXPageSize:  2,
		MaxConns:     4,
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newClient(t *testing.T, cfg crawler.Config, logger *slog.Logger) *crawler.Client {
	t.Helper()
	if logger == nil {
		logger = discard()
	}
	c, err := crawler.New(cfg, logger, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func newFake(t *testing.T) *waybacktest.Server {
	t.Helper()
	s := waybacktest.New()
	t.Cleanup(s.Close)
	return s
}

// serve starts a plain handler for the cases the fake archive deliberately
// cannot produce (endless resume keys, redirect loops, replayed fixtures).
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// signalHandler is a slog.Handler that reports records with a given
// message, so a test can tell when the client has started a 429 pause.
type signalHandler struct {
	msg  string
	once sync.Once
	ch   chan struct{}
}

func newSignal(msg string) *signalHandler {
	return &signalHandler{msg: msg, ch: make(chan struct{})}
}

func (h *signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *signalHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() { close(h.ch) })
	}
	return nil
}
func (h *signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *signalHandler) WithGroup(string) slog.Handler      { return h }

const pauseMessage = "archive rate limit: pausing every request of the class"
