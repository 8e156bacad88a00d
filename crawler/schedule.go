package crawler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
)

// ErrSchedulerStopped is returned by Scheduler.Set after Stop: a stopped
// scheduler never starts runs again, so accepting jobs would hide a bug.
var ErrSchedulerStopped = errors.New("scheduler stopped")

// specParser is the one cron dialect policywatch accepts: the standard five
// fields (minute hour day-of-month month day-of-week), the @hourly/@daily
// descriptors, @every DURATION and a CRON_TZ= prefix. Config validation and
// the scheduler share it so a spec that validates is a spec that runs.
var specParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSpec parses a schedule the way the Scheduler will, so configuration
// can reject a bad spec (and say where it is) before anything runs.
func ParseSpec(spec string) (cron.Schedule, error) {
	s, err := specParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("parse schedule %q: %w", spec, err)
	}
	return s, nil
}

// Job is one recurring task of a Scheduler: what to run and when. Run gets a
// context that is cancelled when the scheduler gives up waiting for it at
// shutdown, so it must return soon after; it reports its own errors, since a
// scheduler has nobody to return them to.
type Job struct {
	Spec string
	Run  func(ctx context.Context)
}

// Scheduler runs keyed jobs on cron schedules, with the guarantees the daemon
// needs and robfig/cron lacks on its own: a key never runs twice at once,
// even across a schedule change; at most maxConcurrent runs proceed at a
// time across all keys; each run first waits a random jitter so that many
// jobs on one schedule do not hit the archive in the same second; and the job
// set can be replaced while running. It is safe for concurrent use.
type Scheduler struct {
	cron   *cron.Cron
	parser cron.Parser
	logger *slog.Logger
	jitter time.Duration
	rand   func(n int64) int64
	sem    chan struct{}

	// AbandonWait is how long Stop waits for cancelled runs to return
	// once its own context has ended, so a run that ignores cancellation
	// cannot hold the process forever.
	AbandonWait time.Duration

	runCtx    context.Context
	cancelRun context.CancelFunc
	// stopping is closed by Stop: runs still waiting for their jitter or a
	// concurrency slot give up then, so that only runs already going use
	// the grace period.
	stopping chan struct{}

	mu      sync.Mutex
	entries map[string]*entry
	running map[string]bool
	started bool
	stopped bool
	active  sync.WaitGroup // runs in progress, jitter wait included
}

// entry is one key's cron entry. The function is swapped in place when Set
// keeps the key's spec, so an unchanged schedule keeps its next tick while
// the job still picks up new settings.
type entry struct {
	id   cron.EntryID
	spec string
	run  atomic.Pointer[func(context.Context)]
}

// NewScheduler returns a stopped Scheduler; call Set and Start. loc is the
// zone of specs without CRON_TZ= (nil means UTC, since daylight-saving jumps
// skip or repeat local hours). jitter is the largest random delay before each
// run; maxConcurrent below 1 means 1. rand returns a number in [0, n) and may
// be nil (math/rand/v2); tests pass a fixed one. A nil logger means
// slog.Default().
func NewScheduler(loc *time.Location, jitter time.Duration, maxConcurrent int, logger *slog.Logger, rand func(n int64) int64) *Scheduler {
	if loc == nil {
		loc = time.UTC
	}
	if logger == nil {
		logger = slog.Default()
	}
	if rand == nil {
		rand = randInt64N
	}
	maxConcurrent = max(maxConcurrent, 1)
	cl := cronLogger{logger}
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{
		// SkipIfStillRunning must come before Recover: v3.0.1's
		// SkipIfStillRunning returns its token without defer, so with
		// Recover outside it one panic would wedge the job forever.
		cron: cron.New(
			cron.WithLocation(loc),
			cron.WithParser(specParser),
			cron.WithLogger(cl),
			cron.WithChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)),
		),
		parser:      specParser,
		logger:      logger,
		jitter:      max(jitter, 0),
		rand:        rand,
		sem:         make(chan struct{}, maxConcurrent),
		AbandonWait: 5 * time.Second,
		runCtx:      ctx,
		cancelRun:   cancel,
		stopping:    make(chan struct{}),
		entries:     map[string]*entry{},
		running:     map[string]bool{},
	}
}

func randInt64N(n int64) int64 { return rand.Int64N(n) }

// Set replaces the job set: keys not in jobs stop being scheduled (a run in
// progress finishes), new keys start, a key whose spec changed is
// rescheduled, and a key whose spec is the same keeps its next tick with the
// new Run. Every spec is parsed first, so a bad one leaves the old set
// running untouched.
func (s *Scheduler) Set(jobs map[string]Job) error {
	schedules := make(map[string]cron.Schedule, len(jobs))
	for key, j := range jobs {
		if j.Run == nil {
			return fmt.Errorf("set jobs: %q has no Run function", key)
		}
		sch, err := s.parser.Parse(j.Spec)
		if err != nil {
			return fmt.Errorf("set jobs: %q: parse schedule %q: %w", key, j.Spec, err)
		}
		schedules[key] = sch
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return fmt.Errorf("set jobs: %w", ErrSchedulerStopped)
	}
	for key, e := range s.entries {
		if _, ok := jobs[key]; !ok {
			s.cron.Remove(e.id)
			delete(s.entries, key)
			s.logger.Info("job removed", logKeyJob, key)
		}
	}
	for key, j := range jobs {
		run := j.Run
		e := s.entries[key]
		if e != nil && e.spec == j.Spec {
			e.run.Store(&run)
			continue
		}
		if e != nil {
			s.cron.Remove(e.id)
		}
		ne := &entry{spec: j.Spec}
		ne.run.Store(&run)
		ne.id = s.cron.Schedule(schedules[key], cron.FuncJob(func() { s.fire(key, ne) }))
		s.entries[key] = ne
		verb := "job added"
		if e != nil {
			verb = "job rescheduled"
		}
		s.logger.Info(verb, logKeyJob, key, logKeySchedule, j.Spec)
	}
	return nil
}

// Start begins running the scheduled jobs. It does nothing after Stop.
func (s *Scheduler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped || s.started {
		return
	}
	s.started = true
	s.cron.Start()
}

// Alive reports whether the scheduler has started and not been stopped: what
// a health check means by "the scheduler runs".
func (s *Scheduler) Alive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started && !s.stopped
}

// Next returns when key runs next (before its jitter), or the zero time when
// key is not scheduled or the scheduler is not running.
func (s *Scheduler) Next(key string) time.Time {
	s.mu.Lock()
	e := s.entries[key]
	s.mu.Unlock()
	if e == nil {
		return time.Time{}
	}
	return s.cron.Entry(e.id).Next
}

// fire is what cron runs for a key: skip if the key is still running (from a
// tick before a reschedule, which cron's own per-entry guard cannot see),
// wait the jitter, wait for a concurrency slot, run. The deferred releases
// also run when the job panics, before cron's Recover logs it.
func (s *Scheduler) fire(key string, e *entry) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	if s.running[key] {
		s.mu.Unlock()
		s.logger.Warn("previous run still going; this tick is skipped", logKeyJob, key)
		return
	}
	s.running[key] = true
	s.active.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.running, key)
		s.mu.Unlock()
		s.active.Done()
	}()

	ctx := s.runCtx
	if s.jitter > 0 {
		d := time.Duration(s.rand(int64(s.jitter) + 1))
		if d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			case <-s.stopping:
				t.Stop()
				return
			}
		}
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return
	case <-s.stopping:
		return
	}
	defer func() { <-s.sem }()
	select {
	case <-s.stopping: // both were ready: stopping wins, nothing new starts
		return
	default:
	}
	(*e.run.Load())(ctx)
}

// Stop stops starting runs and waits for those in progress (jitter waits
// included) until ctx ends. If ctx ends first it cancels the runs' context,
// waits up to AbandonWait for them to return, and reports that they were
// abandoned. Stop may be called more than once; Set fails afterwards.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopped {
		close(s.stopping)
	}
	s.stopped = true
	s.mu.Unlock()
	cronDone := s.cron.Stop()
	done := make(chan struct{})
	go func() {
		<-cronDone.Done()
		s.active.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancelRun()
		return nil
	case <-ctx.Done():
	}
	s.cancelRun()
	t := time.NewTimer(s.AbandonWait)
	defer t.Stop()
	select {
	case <-done:
		return fmt.Errorf("stop scheduler: runs cancelled at the end of the grace period: %w", context.Cause(ctx))
	case <-t.C:
		return fmt.Errorf("stop scheduler: runs still going %s after cancellation; abandoning them: %w", s.AbandonWait, context.Cause(ctx))
	}
}

// Log keys of the scheduler, snake_case like the rest of the crawler's.
const (
	logKeyJob      = "job"
	logKeySchedule = "schedule"
)

// cronLogger adapts slog to cron's two-method logger. cron reports every
// wake-up and run at Info, which is noise in a daemon's log, so those go to
// Debug; a skipped tick and a recovered panic matter and go to Warn/Error.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" {
		c.l.Warn("cron: previous run still going; this tick is skipped", kv...)
		return
	}
	c.l.Debug("cron: "+msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, logKeyError, err)...)
}
