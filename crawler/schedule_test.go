package crawler

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/robfig/cron/v3"
)

// These tests run in synctest bubbles: the clock is fake and jumps when every
// goroutine is blocked, so an hour of schedule takes microseconds, and the
// bubble fails the test if any goroutine is left behind after Stop.

var quiet = slog.New(slog.DiscardHandler)

// recorder counts runs per key and the peak number in flight.
type recorder struct {
	mu       sync.Mutex
	runs     map[string]int
	inFlight map[string]int
	total    int
	peak     int
	overlap  bool
	starts   []time.Time
}

func newRecorder() *recorder {
	return &recorder{runs: map[string]int{}, inFlight: map[string]int{}}
}

// job returns a Run that takes d of (fake) time.
func (r *recorder) job(key string, d time.Duration) func(context.Context) {
	return func(ctx context.Context) {
		r.mu.Lock()
		r.runs[key]++
		r.inFlight[key]++
		if r.inFlight[key] > 1 {
			r.overlap = true
		}
		r.total++
		r.peak = max(r.peak, r.total)
		r.starts = append(r.starts, time.Now())
		r.mu.Unlock()
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
		r.mu.Lock()
		r.inFlight[key]--
		r.total--
		r.mu.Unlock()
	}
}

func (r *recorder) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[key]
}

func stop(t *testing.T, s *Scheduler) {
	t.Helper()
	if err := s.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func TestSchedulerLimits(t *testing.T) {
	tests := []struct {
		name          string
		keys          []string
		spec          string
		runFor        time.Duration
		maxConcurrent int
		wantPeak      int
		minRunsPerKey int
	}{
		// A run longer than the interval: later ticks are skipped, never overlapped.
		{"no overlap of one key", []string{"a"}, "* * * * *", 150 * time.Second, 4, 1, 3},
		// Five keys on one schedule, two slots: never more than two at once, all run.
		{"bounded across keys", []string{"a", "b", "c", "d", "e"}, "*/5 * * * *", 30 * time.Second, 2, 2, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := newRecorder()
				s := NewScheduler(time.UTC, 0, tt.maxConcurrent, quiet, nil)
				jobs := map[string]Job{}
				for _, k := range tt.keys {
					jobs[k] = Job{Spec: tt.spec, Run: rec.job(k, tt.runFor)}
				}
				if err := s.Set(jobs); err != nil {
					t.Fatal(err)
				}
				s.Start()
				time.Sleep(31 * time.Minute)
				stop(t, s)
				if rec.overlap {
					t.Error("one key ran twice at once")
				}
				if rec.peak > tt.wantPeak {
					t.Errorf("peak in flight = %d, want at most %d", rec.peak, tt.wantPeak)
				}
				for _, k := range tt.keys {
					if n := rec.count(k); n < tt.minRunsPerKey {
						t.Errorf("%s ran %d times in 31 minutes, want at least %d", k, n, tt.minRunsPerKey)
					}
				}
			})
		})
	}
}

// TestSchedulerJitter checks each run waits the jitter rand picks, and that
// the jitter is drawn from [0, jitter].
func TestSchedulerJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		var asked atomic.Int64
		s := NewScheduler(time.UTC, 20*time.Second, 1, quiet, func(n int64) int64 { asked.Store(n); return n - 1 })
		if err := s.Set(map[string]Job{"a": {Spec: "* * * * *", Run: rec.job("a", time.Second)}}); err != nil {
			t.Fatal(err)
		}
		s.Start()
		time.Sleep(3 * time.Minute)
		stop(t, s)
		if len(rec.starts) < 2 {
			t.Fatalf("%d runs in 3 minutes", len(rec.starts))
		}
		for _, st := range rec.starts {
			if off := st.Sub(st.Truncate(time.Minute)); off != 20*time.Second {
				t.Errorf("run started %s after the minute, want the 20s jitter", off)
			}
		}
		if got := asked.Load(); got != int64(20*time.Second)+1 {
			t.Errorf("rand asked for n = %d, want jitter+1", got)
		}
	})
}

// TestSchedulerSet replaces the job set the way a config reload does.
func TestSchedulerSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder()
		s := NewScheduler(time.UTC, 0, 4, quiet, nil)
		if err := s.Set(map[string]Job{
			"keep":   {Spec: "@every 10m", Run: rec.job("keep-old", time.Second)},
			"remove": {Spec: "@every 1m", Run: rec.job("remove", time.Second)},
			"change": {Spec: "@every 1h", Run: rec.job("change", time.Second)},
		}); err != nil {
			t.Fatal(err)
		}
		s.Start()
		// Half a minute off the ticks: at exactly 5m the "remove" job's
		// fifth tick and the reading of its count race.
		time.Sleep(5*time.Minute + 30*time.Second)
		keepNext := s.Next("keep")

		// A bad spec anywhere leaves everything as it was.
		err := s.Set(map[string]Job{"keep": {Spec: "@every 10m", Run: rec.job("x", 0)}, "bad": {Spec: "61 * * * *", Run: rec.job("x", 0)}})
		if err == nil {
			t.Fatal("Set accepted minute 61")
		}
		if s.Next("remove").IsZero() {
			t.Fatal("a rejected Set removed a job")
		}

		if err := s.Set(map[string]Job{
			"keep":   {Spec: "@every 10m", Run: rec.job("keep-new", time.Second)},
			"change": {Spec: "@every 1m", Run: rec.job("change", time.Second)},
			"add":    {Spec: "@every 1m", Run: rec.job("add", time.Second)},
		}); err != nil {
			t.Fatal(err)
		}
		if got := s.Next("keep"); !got.Equal(keepNext) {
			t.Errorf("unchanged job's next run moved from %s to %s", keepNext, got)
		}
		removedRuns := rec.count("remove")
		time.Sleep(10 * time.Minute)
		stop(t, s)

		for _, c := range []struct {
			key  string
			want func(int) bool
			what string
		}{
			{"keep-old", func(n int) bool { return n == 0 }, "never (its first tick came after the swap)"},
			{"keep-new", func(n int) bool { return n == 1 }, "once, on the kept schedule"},
			{"change", func(n int) bool { return n >= 9 }, "every minute after the reschedule"},
			{"add", func(n int) bool { return n >= 9 }, "every minute"},
			{"remove", func(n int) bool { return n == removedRuns }, "no more after removal"},
		} {
			if n := rec.count(c.key); !c.want(n) {
				t.Errorf("%s ran %d times, want %s", c.key, n, c.what)
			}
		}
		if err := s.Set(nil); !errors.Is(err, ErrSchedulerStopped) {
			t.Errorf("Set after Stop = %v, want ErrSchedulerStopped", err)
		}
	})
}

// TestSchedulerChainOrder shows why the chain is SkipIfStillRunning then
// Recover: in the other order robfig/cron v3.0.1 never runs a job again after
// it panicked once. The Scheduler keeps running its panicking job.
func TestSchedulerChainOrder(t *testing.T) {
	cl := cronLogger{quiet}
	tests := []struct {
		name    string
		chain   []cron.JobWrapper
		wantMin int
		wantMax int
	}{
		{"Recover outside SkipIfStillRunning wedges", []cron.JobWrapper{cron.Recover(cl), cron.SkipIfStillRunning(cl)}, 1, 1},
		{"SkipIfStillRunning outside Recover keeps running", []cron.JobWrapper{cron.SkipIfStillRunning(cl), cron.Recover(cl)}, 5, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var n atomic.Int32
				c := cron.New(cron.WithLogger(cl), cron.WithChain(tt.chain...))
				if _, err := c.AddFunc("* * * * *", func() { n.Add(1); panic("boom") }); err != nil {
					t.Fatal(err)
				}
				c.Start()
				time.Sleep(5*time.Minute + time.Second)
				<-c.Stop().Done()
				if got := int(n.Load()); got < tt.wantMin || got > tt.wantMax {
					t.Errorf("ran %d times in 5 minutes, want %d..%d", got, tt.wantMin, tt.wantMax)
				}
			})
		})
	}
	t.Run("Scheduler", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var n atomic.Int32
			s := NewScheduler(time.UTC, 0, 1, quiet, nil)
			if err := s.Set(map[string]Job{"p": {Spec: "* * * * *", Run: func(context.Context) { n.Add(1); panic("boom") }}}); err != nil {
				t.Fatal(err)
			}
			s.Start()
			time.Sleep(5*time.Minute + time.Second)
			stop(t, s)
			if got := n.Load(); got != 5 {
				t.Errorf("panicking job ran %d times in 5 minutes, want 5", got)
			}
		})
	})
}

// TestSchedulerStop checks the grace period: runs that finish in time are
// waited for; runs that do not are cancelled and reported.
func TestSchedulerStop(t *testing.T) {
	tests := []struct {
		name      string
		runFor    time.Duration
		grace     time.Duration
		wantErr   bool
		wantCause bool // the run saw its context cancelled
	}{
		{"finishes within grace", 10 * time.Second, time.Minute, false, false},
		{"abandoned after grace", time.Hour, time.Minute, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var cancelled, finished atomic.Bool
				started := make(chan struct{})
				s := NewScheduler(time.UTC, 0, 1, quiet, nil)
				run := func(ctx context.Context) {
					close(started)
					select {
					case <-time.After(tt.runFor):
						finished.Store(true)
					case <-ctx.Done():
						cancelled.Store(true)
					}
				}
				if err := s.Set(map[string]Job{"a": {Spec: "@hourly", Run: run}}); err != nil {
					t.Fatal(err)
				}
				s.Start()
				<-started
				ctx, cancel := context.WithTimeout(t.Context(), tt.grace)
				defer cancel()
				t0 := time.Now()
				err := s.Stop(ctx)
				if (err != nil) != tt.wantErr {
					t.Fatalf("Stop = %v, want error %v", err, tt.wantErr)
				}
				if cancelled.Load() != tt.wantCause || finished.Load() == tt.wantCause {
					t.Errorf("cancelled=%v finished=%v", cancelled.Load(), finished.Load())
				}
				if took := time.Since(t0); took > tt.grace {
					t.Errorf("Stop took %s, grace %s", took, tt.grace)
				}
				if s.Alive() {
					t.Error("Alive after Stop")
				}
			})
		})
	}
}

func TestParseSpec(t *testing.T) {
	tests := []struct {
		spec string
		ok   bool
	}{
		{"@hourly", true},
		{"@daily", true},
		{"@every 90m", true},
		{"17 3 * * 1-5", true},
		{"CRON_TZ=Europe/Paris 0 9 * * *", true},
		{"0 0 9 * * *", false}, // six fields: seconds are not part of the dialect
		{"61 * * * *", false},
		{"CRON_TZ=Mars/Olympus 0 9 * * *", false},
		{"", false},
		{"@fortnightly", false},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			_, err := ParseSpec(tt.spec)
			if (err == nil) != tt.ok {
				t.Errorf("ParseSpec(%q) = %v, want ok %v", tt.spec, err, tt.ok)
			}
		})
	}
}

// Stop lets runs already going finish, but a run still waiting for a
// concurrency slot (or its jitter) is not started during the grace period:
// the soak run saw passes start after SIGTERM.
func TestSchedulerStopStartsNothingNew(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ran atomic.Int32
		release := make(chan struct{})
		started := make(chan struct{}, 2)
		run := func(ctx context.Context) {
			ran.Add(1)
			started <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		s := NewScheduler(time.UTC, 0, 1, quiet, nil) // one slot: the second key waits for it
		if err := s.Set(map[string]Job{"a": {Spec: "@hourly", Run: run}, "b": {Spec: "@hourly", Run: run}}); err != nil {
			t.Fatal(err)
		}
		s.Start()
		<-started // one run holds the slot, the other waits for it
		synctest.Wait()
		stopped := make(chan error, 1)
		go func() { stopped <- s.Stop(t.Context()) }()
		synctest.Wait()
		close(release) // the running pass finishes within the grace period
		if err := <-stopped; err != nil {
			t.Fatalf("Stop = %v", err)
		}
		if n := ran.Load(); n != 1 {
			t.Fatalf("%d runs started; the waiting one must not start once Stop was called", n)
		}
	})
}
