package crawler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/time/rate"
)

// class is one endpoint class (CDX or playback): its rate limiter and its
// 429 pause, shared by every goroutine of a Client. IA blocks the whole IP
// at its firewall after about a minute of ignored 429s, so one worker's 429
// must stop all the others too (wayback-api.md §7.2).
type class struct {
	name     string
	limiter  *rate.Limiter
	pause429 time.Duration
	max429   int

	mu          sync.Mutex
	pausedUntil time.Time
	epoch       int // number of pauses so far; a request remembers the epoch it was sent in
	consecutive int // 429 answers in a row
}

func newClass(name string, rps float64, pause429 time.Duration, max429 int) *class {
	return &class{name: name, limiter: newLimiter(rps), pause429: pause429, max429: max429}
}

// wait blocks until the class is not paused and the limiter grants a
// request. It returns the epoch the request is sent in.
func (c *class) wait(ctx context.Context) (int, error) {
	for {
		c.mu.Lock()
		d := time.Until(c.pausedUntil)
		c.mu.Unlock()
		if d > 0 {
			if err := sleep(ctx, d); err != nil {
				return 0, err
			}
			continue
		}
		if err := c.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			return 0, fmt.Errorf("wait for the %s rate limiter: %w", c.name, err)
		}
		c.mu.Lock()
		if time.Now().Before(c.pausedUntil) {
			// Someone got a 429 while we waited for a token.
			c.mu.Unlock()
			continue
		}
		epoch := c.epoch
		c.mu.Unlock()
		return epoch, nil
	}
}

// on429 records a 429 from the archive for a request sent in epoch. A 429
// for a request sent before the current pause began belongs to the same
// episode and neither counts again nor extends the pause. It returns the
// pause in force, the number of consecutive 429s, and whether to give up.
func (c *class) on429(epoch int, retryAfter time.Duration) (time.Duration, int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if epoch < c.epoch {
		return max(c.pausedUntil.Sub(now), 0), c.consecutive, false
	}
	c.consecutive++
	c.epoch++
	pause := retryAfter
	if pause <= 0 {
		pause = c.pause429 << min(c.consecutive-1, 16)
	}
	c.pausedUntil = now.Add(pause)
	return pause, c.consecutive, c.consecutive > c.max429
}

// onAnswer resets the 429 count after any other answer to a request sent
// since the latest pause.
func (c *class) onAnswer(epoch int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if epoch == c.epoch {
		c.consecutive = 0
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff is BackoffBase doubled per failure, plus up to half again of
// jitter so that workers that failed together do not retry together.
func (c *Client) backoff(failures int) time.Duration {
	d := c.cfg.BackoffBase << min(failures-1, 16)
	if half := int64(d / 2); half > 0 {
		d += time.Duration(rand.Int64N(half + 1))
	}
	return d
}

// exchange is one HTTP answer: status, headers and the body as read.
type exchange struct {
	status int
	header http.Header
	body   []byte // at most MaxBodySize+1 bytes
}

// errTruncatedBody marks a body that ended before its announced length.
var errTruncatedBody = errors.New("response body cut short")

// attemptFunc performs one HTTP exchange.
type attemptFunc func(ctx context.Context) (*exchange, error)

// hasMemento reports whether the answer carries Memento-Datetime, which
// means its status belongs to the captured site, not to the archive.
func hasMemento(h http.Header) bool {
	for name := range h {
		if len(name) == len("Memento-Datetime") && http.CanonicalHeaderKey(name) == "Memento-Datetime" {
			return true
		}
	}
	return false
}

// do runs attempt under the class's politeness rules: rate limit, 429 pause
// of the whole class, and retries with backoff for 5xx answers, connection
// errors, timeouts and truncated bodies. Answers with Memento-Datetime are
// never retried whatever their status. target names the URL in logs and
// errors.
func (c *Client) do(ctx context.Context, cl *class, target string, attempt attemptFunc) (*exchange, error) {
	failures, dialFailures := 0, 0
	var lastErr error
	for {
		epoch, err := cl.wait(ctx)
		if err != nil {
			return nil, err
		}
		ex, err := attempt(ctx)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err == nil && ex.status == http.StatusTooManyRequests && !hasMemento(ex.header) {
			pause, n, giveUp := cl.on429(epoch, retryAfter(ex.header))
			if giveUp {
				return nil, fmt.Errorf("%w: the archive answered 429 %d times in a row; retry after %s, and lower the %s rate",
					ErrRateLimited, n, pause.Round(time.Millisecond), cl.name)
			}
			c.logger.LogAttrs(ctx, slog.LevelWarn, "archive rate limit: pausing every request of the class",
				slog.String(logKeyClass, cl.name), slog.String(logKeyURL, target),
				slog.Duration(logKeyPause, pause), slog.Int(logKeyRepeats, n))
			continue
		}
		if err == nil {
			cl.onAnswer(epoch)
		}

		switch {
		case err != nil:
			if !retryable(err) {
				return nil, err
			}
			if isDialError(err) {
				dialFailures++
			}
		case ex.status >= 500 && !hasMemento(ex.header):
			err = fmt.Errorf("archive answered %d %s", ex.status, http.StatusText(ex.status))
		default:
			return ex, nil
		}
		failures++
		lastErr = err
		if failures >= c.cfg.MaxAttempts {
			if dialFailures == failures {
				return nil, fmt.Errorf("%w: %d connection attempts to %s failed, last: %w; check the network or BaseURL, "+
					"and if it was reachable before, the archive may be blocking this IP after ignored 429s: wait an hour",
					ErrUnreachable, failures, c.cfg.BaseURL, lastErr)
			}
			return nil, fmt.Errorf("%w: gave up after %d attempts, last: %w; the archive is struggling, retry later",
				ErrUnavailable, failures, lastErr)
		}
		delay := c.backoff(failures)
		c.logger.LogAttrs(ctx, slog.LevelInfo, "archive request failed, retrying",
			slog.String(logKeyClass, cl.name), slog.String(logKeyURL, target), slog.Int(logKeyAttempt, failures),
			slog.Duration(logKeyDelay, delay), slog.String(logKeyError, err.Error()))
		if err := sleep(ctx, delay); err != nil {
			return nil, err
		}
	}
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date; 0
// when absent or unreadable.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// retryable reports whether a transport error may pass on a second try.
func retryable(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	switch {
	case errors.Is(err, errTruncatedBody), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &opErr), errors.As(err, &netErr):
		return true
	}
	return false
}

// isDialError reports a failure to connect at all (refused, connect
// timeout, DNS), the sign of an unreachable archive or an IP block.
func isDialError(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}
