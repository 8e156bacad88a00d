// Package notify delivers alerts from the store's outbox: SMTP email (text
// and HTML) and signed JSON or Slack webhooks, with retries, exponential
// backoff and dead letters. It never decides what changed: the monitor
// writes one outbox row per routed channel (see Route) in the transaction
// that records the change, and everything the Sender knows about an alert
// is in that row, so deliveries survive restarts.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/policywatch/policywatch/store"
)

// Log keys.
const (
	logChannel  = "channel"
	logAlertID  = "alert_id"
	logDelivery = "delivery_id"
	logAttempt  = "attempt"
	logNext     = "next_attempt_at"
	logReason   = "reason"
	logCount    = "count"
)

// Outcomes of one delivery attempt, as reported to an Observer.
const (
	OutcomeDelivered = "delivered" // the channel accepted the alert
	OutcomeRetry     = "retry"     // the attempt failed; the alert is tried again later
	OutcomeDead      = "dead"      // the alert was dead-lettered
)

// Observer is told the outcome of every delivery attempt. It lets the daemon
// count sent, failed and dead alerts (for /metrics) without notify
// depending on a metrics library. It must not block.
type Observer func(channel, outcome string)

// batchSize is how many due alerts one query fetches.
const batchSize = 100

// Sender drains the outbox. All its state is in the database, so a new
// Sender over the same file continues where an old one stopped.
type Sender struct {
	cfg      Config
	db       *store.DB
	logger   *slog.Logger
	client   *http.Client
	now      func() time.Time
	secrets  []string
	mu       sync.Mutex // one drain at a time, so one Sender never sends a row twice concurrently
	observer Observer
}

// New returns a Sender for cfg (defaults applied). logger, client and now
// may be nil: slog.Default(), an http.Client without a global timeout (each
// attempt has cfg.Timeout) and time.Now are used then.
func New(cfg Config, db *store.DB, logger *slog.Logger, client *http.Client, now func() time.Time) (*Sender, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	if client == nil {
		client = &http.Client{}
	}
	if now == nil {
		now = time.Now
	}
	s := &Sender{cfg: cfg, db: db, logger: logger, client: client, now: now}
	// Every value that must never be shown, longest first so that a secret
	// containing another is replaced whole.
	add := func(v string) {
		if len(v) >= 4 {
			s.secrets = append(s.secrets, v)
		}
	}
	if cfg.Email != nil {
		add(cfg.Email.SMTP.Password.Reveal())
	}
	for _, w := range cfg.Webhooks {
		add(w.Secret.Reveal())
		for _, v := range w.Headers {
			add(v.Reveal())
		}
		add(w.URL) // the whole URL: its path may be the credential
	}
	return s, nil
}

// Observe sets the observer of delivery outcomes; call it before Run.
func (s *Sender) Observe(o Observer) { s.observer = o }

// Config returns the Sender's configuration, defaults applied.
func (s *Sender) Config() Config { return s.cfg }

// Redact removes configured secrets from a message that will be stored,
// logged or printed. Errors are built without secrets in the first place;
// this is the second line, for text a server or library echoed back.
func (s *Sender) Redact(msg string) string {
	for _, v := range s.secrets {
		msg = strings.ReplaceAll(msg, v, "[redacted]")
	}
	return msg
}

// Run drains the outbox every interval until ctx is done. A failed drain
// (the database was busy, say) is logged and tried again next time, so the
// daemon keeps delivering.
func (s *Sender) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, _, err := s.DrainOnce(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("alert drain failed", logReason, s.Redact(err.Error()))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// DrainOnce tries every alert that is due now once, and returns how many
// were delivered and how many attempts failed (retried or dead-lettered).
// err is set only when the outbox itself could not be read or updated.
func (s *Sender) DrainOnce(ctx context.Context) (sent, failed int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tried := map[int64]bool{}
	for {
		items, err := s.db.DueAlerts(ctx, s.now(), batchSize)
		if err != nil {
			return sent, failed, fmt.Errorf("drain outbox: %w", err)
		}
		var fresh []*store.OutboxItem
		for _, it := range items {
			if !tried[it.ID] {
				tried[it.ID] = true
				fresh = append(fresh, it)
			}
		}
		if len(fresh) == 0 {
			return sent, failed, nil
		}
		n, f, err := s.deliverBatch(ctx, fresh)
		sent, failed = sent+n, failed+f
		if err != nil {
			return sent, failed, err
		}
		if ctx.Err() != nil {
			return sent, failed, fmt.Errorf("drain outbox: %w", ctx.Err())
		}
	}
}

// DeliverNow tries one outbox row right away, whatever its next attempt
// time, records the outcome like a drain would, and returns the delivery
// error (nil when delivered). `policywatch alerts test` uses it.
func (s *Sender) DeliverNow(ctx context.Context, id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, err := s.db.Alert(ctx, id)
	if err != nil {
		return fmt.Errorf("deliver alert: %w", err)
	}
	if it.State == store.AlertDelivered {
		return nil
	}
	results := map[int64]error{}
	s.attempt(ctx, []*store.OutboxItem{it}, results)
	if err := s.record(context.WithoutCancel(ctx), it, results[it.ID]); err != nil {
		return err
	}
	if e := results[it.ID]; e != nil {
		return errors.New(s.Redact(e.Error()))
	}
	return nil
}

// deliverBatch attempts the items and records each outcome as soon as it
// is known: an alert delivered but not yet marked would be sent again after
// a crash, so the window between a delivery and its record is one alert
// wide. Digest emails, one message for many alerts, are recorded together.
func (s *Sender) deliverBatch(ctx context.Context, items []*store.OutboxItem) (sent, failed int, err error) {
	var digest, single []*store.OutboxItem
	for _, it := range items {
		if it.Channel == ChannelEmail && s.cfg.Email != nil && s.cfg.Email.Digest {
			digest = append(digest, it)
		} else {
			single = append(single, it)
		}
	}
	groups := make([][]*store.OutboxItem, 0, len(single)+1)
	for _, it := range single {
		groups = append(groups, []*store.OutboxItem{it})
	}
	if len(digest) > 0 {
		groups = append(groups, digest)
	}
	// Outcomes are recorded even when ctx was cancelled meanwhile: an alert
	// delivered but not marked would be sent again.
	rctx := context.WithoutCancel(ctx)
	for _, group := range groups {
		results := map[int64]error{}
		s.attempt(ctx, group, results)
		for _, it := range group {
			if ctx.Err() != nil && results[it.ID] != nil {
				// Interrupted: the attempt says nothing about the receiver, so
				// it is not counted against the alert.
				continue
			}
			if err := s.record(rctx, it, results[it.ID]); err != nil {
				return sent, failed, err
			}
			if results[it.ID] == nil {
				sent++
			} else {
				failed++
			}
		}
	}
	return sent, failed, nil
}

// attempt delivers items and puts each one's error (nil: delivered) in results.
func (s *Sender) attempt(ctx context.Context, items []*store.OutboxItem, results map[int64]error) {
	var digest []alert
	for _, it := range items {
		if ctx.Err() != nil {
			results[it.ID] = temporary("interrupted")
			continue
		}
		a, err := decodeAlert(it)
		if err != nil {
			results[it.ID] = permanent("%v", err)
			continue
		}
		switch {
		case it.Channel == ChannelEmail && s.cfg.Email != nil:
			if s.cfg.Email.Digest {
				digest = append(digest, a)
				continue
			}
			results[it.ID] = s.sendEmail(ctx, []alert{a})
		case strings.HasPrefix(it.Channel, "webhook:"):
			i, err := strconv.Atoi(strings.TrimPrefix(it.Channel, "webhook:"))
			if err != nil || i < 0 || i >= len(s.cfg.Webhooks) {
				results[it.ID] = permanent("channel %s is not configured (any more); fix alerts: and run `policywatch alerts retry`", it.Channel)
				continue
			}
			results[it.ID] = s.postWebhook(ctx, s.cfg.Webhooks[i], a)
		default:
			results[it.ID] = permanent("channel %s is not configured (any more); fix alerts: and run `policywatch alerts retry`", it.Channel)
		}
	}
	if len(digest) > 0 {
		err := s.sendEmail(ctx, digest)
		for _, a := range digest {
			results[a.item.ID] = err
		}
	}
}

// record writes one attempt's outcome to the outbox, logs it and tells the
// observer.
func (s *Sender) record(ctx context.Context, it *store.OutboxItem, derr error) error {
	log := s.logger.With(logChannel, it.Channel, logAlertID, it.ID, logDelivery, it.DeliveryID, logAttempt, it.Attempts+1)
	if derr == nil {
		if err := s.db.MarkDelivered(ctx, it.ID); err != nil {
			return fmt.Errorf("record delivery: %w", err)
		}
		log.Info("alert delivered")
		s.observe(it.Channel, OutcomeDelivered)
		return nil
	}
	reason := s.Redact(derr.Error())
	var de *deliveryError
	errors.As(derr, &de)
	dead := (de != nil && de.permanent) || it.Attempts+1 >= s.cfg.MaxAttempts
	var retryAfter time.Duration
	if de != nil {
		retryAfter = de.retryAfter
	}
	next := s.now().Add(max(s.backoff(it.Attempts+1), retryAfter))
	if err := s.db.MarkFailed(ctx, it.ID, reason, next, dead); err != nil {
		return fmt.Errorf("record failure: %w", err)
	}
	if dead {
		log.Warn("alert dead-lettered", logReason, reason)
		s.observe(it.Channel, OutcomeDead)
	} else {
		log.Info("alert delivery failed; will retry", logReason, reason, logNext, next.UTC().Format(time.RFC3339))
		s.observe(it.Channel, OutcomeRetry)
	}
	return nil
}

func (s *Sender) observe(channel, outcome string) {
	if s.observer != nil {
		s.observer(channel, outcome)
	}
}

// backoff is the delay after the n-th failed attempt: RetryBackoff doubled
// n-1 times, capped at MaxBackoff, with "equal jitter" (half fixed, half
// random) so that alerts failing together do not retry in lockstep.
func (s *Sender) backoff(n int) time.Duration {
	d := s.cfg.RetryBackoff
	for i := 1; i < n && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.cfg.MaxBackoff)
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}
