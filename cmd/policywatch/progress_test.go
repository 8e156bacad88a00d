package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/policywatch/policywatch/monitor"
)

// progressClock is a fake clock that tests move by hand; it is locked
// because the concurrency test reads it from several goroutines.
type progressClock struct {
	mu sync.Mutex
	t  time.Time
}

func newProgressClock() *progressClock {
	return &progressClock{t: time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *progressClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *progressClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTTYProgress returns a bar reporter drawing into a buffer width columns
// wide, at one playback request a second.
func newTTYProgress(width int) (*progressReporter, *bytes.Buffer, *progressClock) {
	var buf bytes.Buffer
	clock := newProgressClock()
	p := newProgress(&buf, true, slog.New(slog.DiscardHandler), 1, 10*time.Second, clock.Now)
	p.width = width
	return p, &buf, clock
}

// progressFrames splits bar output into what each write put on the line:
// every write starts with \r and ends with the clear-to-end-of-line sequence,
// and a clearing write is empty.
func progressFrames(t *testing.T, out string) []string {
	t.Helper()
	if out == "" {
		return nil
	}
	if !strings.HasPrefix(out, "\r") {
		t.Fatalf("bar output does not start with \\r: %q", out)
	}
	var frames []string
	for _, f := range strings.Split(out, "\r")[1:] {
		line, ok := strings.CutSuffix(f, "\x1b[K")
		if !ok {
			t.Fatalf("frame %q does not end with a clear-line sequence", f)
		}
		frames = append(frames, line)
	}
	return frames
}

// progressSample is a run half-way through bisecting: 40 of about 165
// playback requests made, 125 left at one a second.
func progressSample() monitor.HistoryProgress {
	return monitor.HistoryProgress{
		Vendor: "acme", Phase: "bisecting", Listed: 1234, Pages: 3, Distinct: 310,
		Fetched: 40, Reused: 12, Remaining: 125, Versions: 7, Changes: 6,
	}
}

func TestProgressETA(t *testing.T) {
	tests := []struct {
		name      string
		phase     string
		remaining int
		rate      float64
		want      string
	}{
		{"minutes with padded seconds", "bisecting", 125, 1, "2m05s"},
		{"seconds rounded up", "bisecting", 10, 3, "4s"},
		{"slower than one a second", "bisecting", 30, 0.5, "1m00s"},
		{"hours drop the seconds", "bisecting", 7265, 1, "2h01m"},
		{"remaining unknown", "listing", 0, 1, "?"},
		{"rate unknown", "bisecting", 125, 0, "?"},
		{"done", "done", 0, 1, "0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := formatETA(monitor.HistoryProgress{Phase: tt.phase, Remaining: tt.remaining}, tt.rate)
			if got != tt.want {
				t.Errorf("formatETA(remaining %d, rate %g) = %q, want %q", tt.remaining, tt.rate, got, tt.want)
			}
		})
	}
}

// A wide terminal gets the whole line: gauge, counters in words, ETA.
func TestProgressBarLine(t *testing.T) {
	p, buf, _ := newTTYProgress(200)
	p.Update(progressSample())
	out := buf.String()
	if !strings.HasPrefix(out, "\r") || !strings.HasSuffix(out, "\x1b[K") {
		t.Fatalf("bar not drawn in place: %q", out)
	}
	// 40 of 165 requests made: 24%, 4 of 20 gauge cells.
	for _, want := range []string{
		"acme", "bisecting", "[####................] 24%",
		"listed 1234 captures (310 distinct)", "fetched 40 (+12 reused)",
		"7 versions, 6 changes", "ETA 2m05s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("bar %q lacks %q", out, want)
		}
	}
}

func TestProgressGauge(t *testing.T) {
	tests := []struct {
		name string
		pr   monitor.HistoryProgress
		want string // "" when the line must have no gauge
	}{
		{"listing: total unknown", monitor.HistoryProgress{Vendor: "a", Phase: "listing", Listed: 500}, ""},
		{"half way", monitor.HistoryProgress{Vendor: "a", Phase: "bisecting", Fetched: 5, Remaining: 5}, "[##########..........] 50%"},
		{"done", monitor.HistoryProgress{Vendor: "a", Phase: "done", Fetched: 9}, "[####################] 100%"},
		{"done without a request", monitor.HistoryProgress{Vendor: "a", Phase: "done", Reused: 9}, "[####################] 100%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := renderProgressLine(tt.pr, formatETA(tt.pr, 1), 199)
			if tt.want == "" {
				if strings.ContainsAny(line, "[%") {
					t.Errorf("line %q has a gauge though the total is unknown", line)
				}
				if !strings.Contains(line, "ETA ?") {
					t.Errorf("line %q: want ETA ?", line)
				}
				return
			}
			if !strings.Contains(line, tt.want) {
				t.Errorf("line %q lacks %q", line, tt.want)
			}
		})
	}
}

// Every width gets a line that fits (one column is kept free so that the
// cursor never wraps). Down to 80 columns the phase, the percentage, what was
// fetched, what was found and the ETA survive, the vendor name being cut
// first; narrower, the counters that move in the phase and the ETA do.
func TestProgressWidth(t *testing.T) {
	long := "Extraordinarily Long Vendor Name Incorporated International"
	big := progressSample()
	big.Listed, big.Distinct, big.Fetched, big.Reused, big.Remaining = 123456, 54321, 9876, 5432, 12345
	listing := monitor.HistoryProgress{Vendor: long, Phase: "listing", Listed: 123456, Pages: 40, Distinct: 54321}
	core := []string{"bisecting", "24%", "fetched 40 (+12", "7 ver", "6 ch", "ETA 2m05s"}
	tests := []struct {
		name  string
		pr    monitor.HistoryProgress
		width int
		want  []string // all on the line
	}{
		{"wide", progressSample(), 200, []string{
			"acme  bisecting  [####................] 24%  listed 1234 captures (310 distinct)  fetched 40 (+12 reused)  7 versions, 6 changes  ETA 2m05s",
		}},
		{"classic", progressSample(), 80, append([]string{"acme ", "listed 1234"}, core...)},
		{"classic, long vendor", withVendor(progressSample(), long), 80, append([]string{"Extraordinarily…"}, core...)},
		{"classic, big counters, long vendor", withVendor(big, long), 80, []string{
			"Extraordina…", "44%", "fetched 9876 (+5432)", "7 versions, 6 changes", "ETA 3h25m",
		}},
		{"classic, listing", listing, 80, []string{"Extraordina… listing listed 123456 captures (54321 distinct)", "ETA ?"}},
		{"tiny, listing", listing, 40, []string{"Extraordin… listing listed 123456 ETA ?"}},
		{"wide, listing", listing, 200, []string{long + "  listing  listed 123456 captures (54321 distinct)", "ETA ?"}},
		{"narrow", progressSample(), 60, []string{"acme bisecting 24% fetched 40 (+12) 7 ver, 6 chg ETA 2m05s"}},
		{"narrow, long vendor", withVendor(progressSample(), long), 60, []string{"Extraordinarily L… bisecting 24% fetched 40 (+12) ETA 2m05s"}},
		{"tiny", withVendor(progressSample(), long), 30, []string{"Extr… bisecting 24% ETA 2m05s"}},
		{"tinier", withVendor(progressSample(), long), 20, []string{"E… bisecting 24% E…"}},
		{"multibyte vendor", withVendor(progressSample(), strings.Repeat("é", 90)), 80, append([]string{"é…"}, core...)},
		{"control characters", withVendor(progressSample(), "ac\x1b[2Jme\n"), 80, append([]string{"ac?[2Jme? "}, core...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, buf, _ := newTTYProgress(tt.width)
			p.Update(tt.pr)
			frames := progressFrames(t, buf.String())
			if len(frames) != 1 {
				t.Fatalf("got %d frames, want 1: %q", len(frames), buf.String())
			}
			line := frames[0]
			if n := utf8.RuneCountInString(line); n > tt.width-1 {
				t.Errorf("line is %d runes wide on a %d-column terminal: %q", n, tt.width, line)
			}
			if strings.ContainsAny(line, "\n\x1b") {
				t.Errorf("line %q holds a control character", line)
			}
			for _, want := range tt.want {
				if !strings.Contains(line, want) {
					t.Errorf("line %q lacks %q", line, want)
				}
			}
		})
	}
	t.Run("one column", func(t *testing.T) {
		p, buf, _ := newTTYProgress(1)
		p.Update(progressSample())
		p.Done()
		if buf.Len() != 0 {
			t.Errorf("drew %q on a terminal with no room", buf.String())
		}
	})
}

func withVendor(pr monitor.HistoryProgress, vendor string) monitor.HistoryProgress {
	pr.Vendor = vendor
	return pr
}

// A burst of updates is drawn once per 100ms; a phase change is drawn at once.
func TestProgressThrottle(t *testing.T) {
	p, buf, clock := newTTYProgress(200)
	pr := progressSample()
	for i := range 50 {
		pr.Reused = i
		p.Update(pr)
		clock.Add(time.Millisecond)
	}
	frames := progressFrames(t, buf.String())
	if len(frames) != 1 || !strings.Contains(frames[0], "(+0 reused)") {
		t.Fatalf("50 updates in 50ms: got frames %q, want the first one only", frames)
	}

	clock.Add(50 * time.Millisecond) // 100ms after the first draw
	pr.Reused = 50
	p.Update(pr)
	frames = progressFrames(t, buf.String())
	if len(frames) != 2 || !strings.Contains(frames[1], "(+50 reused)") {
		t.Fatalf("update 100ms later: got frames %q, want a second one with +50", frames)
	}

	clock.Add(time.Millisecond)
	pr.Phase = "done"
	p.Update(pr)
	frames = progressFrames(t, buf.String())
	if len(frames) != 3 || !strings.Contains(frames[2], "done") {
		t.Fatalf("phase change 1ms later: got frames %q, want it drawn at once", frames)
	}

	clock.Add(time.Second)
	p.Update(pr)
	if got := len(progressFrames(t, buf.String())); got != 3 {
		t.Errorf("an unchanged line was redrawn: %d frames, want 3", got)
	}
}

func TestProgressDone(t *testing.T) {
	t.Run("clears the bar once", func(t *testing.T) {
		p, buf, clock := newTTYProgress(80)
		p.Update(progressSample())
		drawn := buf.Len()
		p.Done()
		if got := buf.String()[drawn:]; got != "\r\x1b[K" {
			t.Errorf("Done wrote %q, want \\r and clear-line", got)
		}
		p.Done()
		clock.Add(time.Second)
		p.Update(withVendor(progressSample(), "late"))
		if got := buf.String()[drawn:]; got != "\r\x1b[K" {
			t.Errorf("after a second Done and a late Update the output gained %q", got)
		}
	})
	t.Run("nothing drawn", func(t *testing.T) {
		p, buf, _ := newTTYProgress(80)
		p.Done()
		p.Done()
		if buf.Len() != 0 {
			t.Errorf("Done without a bar wrote %q", buf.String())
		}
	})
	t.Run("plain mode writes nothing", func(t *testing.T) {
		var out, logs bytes.Buffer
		p := newProgress(&out, false, slog.New(slog.NewJSONHandler(&logs, nil)), 1, time.Second, newProgressClock().Now)
		p.Update(progressSample())
		n := logs.Len()
		p.Done()
		p.Done()
		p.Update(progressSample())
		if out.Len() != 0 || logs.Len() != n {
			t.Errorf("plain Done or a late Update wrote: out %q, logs %q", out.String(), logs.String()[n:])
		}
	})
}

// Off a terminal, progress is slog lines: at most one per interval, plus one
// at every phase change, with the counters under snake_case keys.
func TestProgressPlain(t *testing.T) {
	var out, logs bytes.Buffer
	clock := newProgressClock()
	start := clock.Now()
	p := newProgress(&out, false, slog.New(slog.NewJSONHandler(&logs, nil)), 1, 10*time.Second, clock.Now)

	steps := []struct {
		at    time.Duration
		phase string
	}{
		{0, "listing"},                     // first: logged
		{time.Second, "listing"},           // within 10s: not
		{9 * time.Second, "listing"},       // not
		{10 * time.Second, "listing"},      // 10s after the first: logged
		{11 * time.Second, "bisecting"},    // phase change: logged
		{12 * time.Second, "bisecting"},    // not
		{20 * time.Second, "bisecting"},    // 9s after the last: not
		{21 * time.Second, "bisecting"},    // logged
		{21500 * time.Millisecond, "done"}, // phase change: logged
	}
	pr := progressSample()
	for i, s := range steps {
		clock.Add(start.Add(s.at).Sub(clock.Now()))
		pr.Phase, pr.Fetched = s.phase, i
		p.Update(pr)
	}
	if out.Len() != 0 {
		t.Errorf("plain mode wrote to the bar writer: %q", out.String())
	}

	type line struct {
		Msg       string `json:"msg"`
		Level     string `json:"level"`
		Vendor    string `json:"vendor"`
		Phase     string `json:"phase"`
		Listed    *int   `json:"captures_listed"`
		Distinct  *int   `json:"distinct_digests"`
		Fetched   *int   `json:"fetched"`
		Reused    *int   `json:"reused"`
		Versions  *int   `json:"versions"`
		Changes   *int   `json:"changes"`
		Remaining *int   `json:"remaining_estimate"`
		ETA       string `json:"eta"`
	}
	var got []line
	sc := bufio.NewScanner(&logs)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		if l.Listed == nil || l.Distinct == nil || l.Fetched == nil || l.Reused == nil ||
			l.Versions == nil || l.Changes == nil || l.Remaining == nil || l.ETA == "" {
			t.Errorf("log line lacks a key: %s", sc.Text())
			continue
		}
		got = append(got, l)
	}
	wantFetched := []int{0, 3, 4, 7, 8}
	if len(got) != len(wantFetched) {
		t.Fatalf("got %d log lines, want %d:\n%s", len(got), len(wantFetched), logs.String())
	}
	for i, l := range got {
		if *l.Fetched != wantFetched[i] {
			t.Errorf("line %d is from update %d, want %d", i, *l.Fetched, wantFetched[i])
		}
		if l.Msg != "history progress" || l.Level != "INFO" || l.Vendor != "acme" {
			t.Errorf("line %d: msg %q level %s vendor %q", i, l.Msg, l.Level, l.Vendor)
		}
	}
	if l := got[1]; *l.Listed != 1234 || *l.Distinct != 310 || *l.Reused != 12 || *l.Versions != 7 ||
		*l.Changes != 6 || *l.Remaining != 125 || l.ETA != "2m05s" || l.Phase != "listing" {
		t.Errorf("counters logged wrong: %+v", l)
	}
	if got[4].Phase != "done" || got[4].ETA != "0s" {
		t.Errorf("last line: phase %q eta %q, want done, 0s", got[4].Phase, got[4].ETA)
	}
}

// History calls Update from its own goroutine, but the command may also call
// Done from a signal path; run under -race.
func TestProgressConcurrent(t *testing.T) {
	for _, tty := range []bool{true, false} {
		t.Run(map[bool]string{true: "bar", false: "plain"}[tty], func(t *testing.T) {
			var out lockedBuffer
			var logs lockedBuffer
			clock := newProgressClock()
			p := newProgress(&out, tty, slog.New(slog.NewTextHandler(&logs, nil)), 2, time.Second, clock.Now)
			p.width = 80
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					pr := withVendor(progressSample(), "vendor")
					for i := range 200 {
						pr.Fetched = g*1000 + i
						if i%50 == 0 {
							pr.Phase = []string{"listing", "following", "bisecting"}[i/50%3]
						}
						p.Update(pr)
						clock.Add(7 * time.Millisecond)
					}
				})
			}
			wg.Wait()
			p.Done()
			if !tty {
				if out.Len() != 0 || !strings.Contains(logs.String(), "msg=\"history progress\"") {
					t.Errorf("plain: out %q, logs %q", out.String(), logs.String())
				}
				return
			}
			frames := progressFrames(t, out.String())
			if len(frames) < 2 || frames[len(frames)-1] != "" {
				t.Fatalf("want bars then a clearing frame, got %d frames ending %q", len(frames), frames[len(frames)-1])
			}
			for _, f := range frames[:len(frames)-1] {
				if !strings.HasPrefix(f, "vendor ") || !strings.Contains(f, "ETA ") {
					t.Errorf("garbled frame %q", f)
				}
			}
		})
	}
}

// lockedBuffer lets the test read what concurrent writers wrote.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

func TestProgressColumns(t *testing.T) {
	tests := []struct {
		columns string
		want    int
	}{
		{"", 80},
		{"132", 132},
		{" 40 ", 40},
		{"0", 80},
		{"-5", 80},
		{"wide", 80},
	}
	for _, tt := range tests {
		t.Run("COLUMNS="+tt.columns, func(t *testing.T) {
			got := progressWidth(func(k string) string {
				if k == "COLUMNS" {
					return tt.columns
				}
				return ""
			})
			if got != tt.want {
				t.Errorf("progressWidth = %d, want %d", got, tt.want)
			}
		})
	}
	t.Run("newProgress reads $COLUMNS", func(t *testing.T) {
		t.Setenv("COLUMNS", "100")
		if p := newProgress(&bytes.Buffer{}, true, nil, 1, time.Second, nil); p.width != 100 {
			t.Errorf("width %d, want 100", p.width)
		}
	})
}

func TestProgressIsTerminal(t *testing.T) {
	regular, err := os.Create(filepath.Join(t.TempDir(), "progress.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	tests := []struct {
		name string
		w    interface{ Write([]byte) (int, error) }
	}{
		{"bytes.Buffer", &bytes.Buffer{}},
		{"regular file", regular},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if isTerminal(tt.w) {
				t.Error("isTerminal = true, want false")
			}
			if progressBarWanted(tt.w, func(string) string { return "" }) {
				t.Error("progressBarWanted = true, want false")
			}
		})
	}

	// A dumb terminal cannot clear a line: plain lines, whatever the device.
	// NO_COLOR does not matter, since the bar has no colour.
	dev, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer dev.Close()
	env := map[string]string{"TERM": "dumb"}
	if progressBarWanted(dev, func(k string) string { return env[k] }) {
		t.Error("progressBarWanted with TERM=dumb = true, want false")
	}
	env = map[string]string{"TERM": "xterm", "NO_COLOR": "1"}
	if got, want := progressBarWanted(dev, func(k string) string { return env[k] }), isTerminal(dev); got != want {
		t.Errorf("progressBarWanted with NO_COLOR = %v, want %v as without it", got, want)
	}
}
