package main

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/policywatch/policywatch/monitor"
)

// progressRedrawEvery is the shortest time between two redraws of the bar.
// History reports after every recorded capture, which comes in bursts of
// hundreds a second when stored bodies are reused; redrawing that often makes
// the line flicker and costs more than the run itself.
const progressRedrawEvery = 100 * time.Millisecond

// defaultProgressWidth is the width assumed when $COLUMNS does not say: the
// classic terminal, which every layout below is made to fit.
const defaultProgressWidth = 80

// Log keys of the plain progress lines. They are the JSON names of
// monitor.HistoryProgress so that a log line and `history --json` read alike;
// the vendor key is the daemon's logKeyVendor.
const (
	progressKeyPhase     = "phase"
	progressKeyListed    = "captures_listed"
	progressKeyDistinct  = "distinct_digests"
	progressKeyFetched   = "fetched"
	progressKeyReused    = "reused"
	progressKeyVersions  = "versions"
	progressKeyChanges   = "changes"
	progressKeyRemaining = "remaining_estimate"
	progressKeyETA       = "eta"
)

// progressReporter shows a history run's progress: a one-line bar redrawn in
// place on a terminal, or throttled log lines otherwise, so that a run under
// cron or with its stderr in a file leaves a readable record rather than a
// megabyte of carriage returns.
type progressReporter struct {
	w            io.Writer
	tty          bool
	logger       *slog.Logger
	playbackRate float64
	every        time.Duration
	now          func() time.Time

	// width is the terminal's width in columns. newProgress takes it from
	// $COLUMNS; a caller that holds an injected environment (Main.Getenv)
	// may set it with progressWidth before the first Update.
	width int

	mu      sync.Mutex
	shown   bool      // something was drawn or logged
	shownAt time.Time // when it last was
	phase   string    // the phase last shown: a new one is shown at once
	line    string    // the bar on the screen, "" when the line is clear
	done    bool
}

// newProgress returns a reporter writing to w. When tty is true it draws a
// one-line bar redrawn in place (at most every progressRedrawEvery, within the
// width given by $COLUMNS or 80 columns); otherwise it writes "history
// progress" lines through logger at most every `every` (every update when
// every <= 0) and at every phase change. playbackRate, the configured playback
// requests per second, turns the estimate of requests remaining into the ETA.
// now is the clock, injected so that tests control the throttling.
//
// The bar uses no colour, so NO_COLOR needs nothing here; whether to draw a
// bar at all (a terminal, and not TERM=dumb) is progressBarWanted's call.
func newProgress(w io.Writer, tty bool, logger *slog.Logger, playbackRate float64, every time.Duration, now func() time.Time) *progressReporter {
	if logger == nil {
		logger = slog.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &progressReporter{
		w:            w,
		tty:          tty,
		logger:       logger,
		playbackRate: playbackRate,
		every:        every,
		now:          now,
		// The constructor's signature is the history command's contract and
		// has no getenv; the process environment is the right default for a
		// terminal the process itself draws on.
		width: progressWidth(os.Getenv),
	}
}

// progressWidth returns the terminal width from $COLUMNS, or 80 when it is
// unset or not a positive number. Most shells set COLUMNS without exporting
// it, so 80 is the common answer and the bar is laid out to be useful there.
func progressWidth(getenv func(string) string) int {
	n, err := strconv.Atoi(strings.TrimSpace(getenv("COLUMNS")))
	if err != nil || n <= 0 {
		return defaultProgressWidth
	}
	return n
}

// progressBarWanted reports whether a history run should draw a bar on w
// rather than log lines: w must be a terminal, and not a dumb one, which
// cannot clear a line. NO_COLOR does not matter because the bar has no colour.
func progressBarWanted(w io.Writer, getenv func(string) string) bool {
	return getenv("TERM") != "dumb" && isTerminal(w)
}

// Update is passed as HistoryOptions.Progress. Safe for concurrent use.
// Updates after Done are ignored, so a late report cannot draw over the
// summary.
//
// Without a timer, the last updates of a burst are shown with the next update
// or phase change rather than when the burst ends; History reports after every
// archive request, so the bar is at most one request behind.
func (p *progressReporter) Update(pr monitor.HistoryProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	now := p.now()
	interval := p.every
	if p.tty {
		interval = progressRedrawEvery
	}
	phaseChanged := !p.shown || pr.Phase != p.phase
	if !phaseChanged && interval > 0 && now.Sub(p.shownAt) < interval {
		return
	}
	eta := formatETA(pr, p.playbackRate)
	if p.tty {
		line := renderProgressLine(pr, eta, p.width-1)
		if line == p.line {
			return
		}
		// Progress is best-effort: a failed write to the terminal must not
		// stop the run, and the next redraw tries again.
		_, _ = io.WriteString(p.w, "\r"+line+"\x1b[K")
		p.line = line
	} else {
		p.logger.Info("history progress",
			logKeyVendor, pr.Vendor,
			progressKeyPhase, pr.Phase,
			progressKeyListed, pr.Listed,
			progressKeyDistinct, pr.Distinct,
			progressKeyFetched, pr.Fetched,
			progressKeyReused, pr.Reused,
			progressKeyVersions, pr.Versions,
			progressKeyChanges, pr.Changes,
			progressKeyRemaining, pr.Remaining,
			progressKeyETA, eta,
		)
	}
	p.shown = true
	p.shownAt = now
	p.phase = pr.Phase
}

// Done clears the bar line (tty) so the final summary prints on a clean line;
// idempotent, so both a deferred call and an explicit one before the summary
// are fine.
func (p *progressReporter) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	if p.tty && p.line != "" {
		_, _ = io.WriteString(p.w, "\r\x1b[K")
		p.line = ""
	}
}

// formatETA returns the time the remaining playback requests take at the
// configured rate, like "2m05s", or "?" when either is unknown. It ignores
// the CDX listing, which is a few requests against hundreds of playbacks.
func formatETA(pr monitor.HistoryProgress, rate float64) string {
	if pr.Phase == "done" {
		return "0s"
	}
	if pr.Remaining <= 0 || rate <= 0 || math.IsInf(rate, 0) || math.IsNaN(rate) {
		return "?"
	}
	secs := int64(math.Ceil(float64(pr.Remaining) / rate))
	switch {
	case secs < 60:
		return fmt.Sprintf("%ds", secs)
	case secs < 3600:
		return fmt.Sprintf("%dm%02ds", secs/60, secs%60)
	default:
		// Seconds are noise at this scale, and dropping them keeps the
		// ETA short enough for an 80-column line.
		return fmt.Sprintf("%dh%02dm", secs/3600, secs%3600/60)
	}
}

// progressPart is a part of the bar line that can be shortened or left out
// when the terminal is too narrow for all of it.
type progressPart int

const (
	partGauge    progressPart = iota // "[####......] 40%", "[##...] 40%", "40%"
	partListed                       // "listed N captures (D distinct)", "listed N (D distinct)", "listed N"
	partFetched                      // "fetched F (+R reused)", "fetched F (+R)"
	partVersions                     // "V versions, C changes", "V ver, C chg"
	partSep                          // "  ", " " between the parts
	numParts
)

// progressShrinkOrder lists, for a phase, the parts to shorten one step each
// in turn until the line fits. The parts that move in the phase go last:
// while listing, the listing counter is the news; afterwards it stands still
// and the gauge, what was fetched and what was found matter. The phase and
// the ETA are never left out.
func progressShrinkOrder(phase string) []progressPart {
	if phase == "listing" {
		return []progressPart{
			partFetched, partVersions, partGauge, partSep, partFetched, partVersions,
			partListed, partGauge, partListed, partGauge,
		}
	}
	return []progressPart{
		partGauge, partListed, partFetched, partListed, partGauge, partSep,
		partListed, partVersions, partVersions, partFetched, partGauge,
	}
}

// progressMinVendor is how short the vendor name may be cut before a part of
// the line is shortened instead: enough to recognise the vendor, whom the
// user named on the command line anyway.
const progressMinVendor = 8

// renderProgressLine returns the bar line for pr in at most limit runes
// (East Asian wide characters in vendor names are counted as one column).
// It starts from the richest line and shortens a part at a time, so a wide
// terminal gets words and a gauge and an 80-column one every number that
// moves in the current phase, and the ETA.
func renderProgressLine(pr monitor.HistoryProgress, eta string, limit int) string {
	variants := progressVariants(pr)
	var step [numParts]int
	vendor := sanitizeProgressText(pr.Vendor)
	vendorLen := utf8.RuneCountInString(vendor)
	compose := func() string {
		sep := variants[partSep][step[partSep]]
		line := sep + sanitizeProgressText(pr.Phase)
		for _, part := range []progressPart{partGauge, partListed, partFetched, partVersions} {
			if v := variants[part][step[part]]; v != "" {
				line += sep + v
			}
		}
		return line + sep + "ETA " + eta
	}
	order := progressShrinkOrder(pr.Phase)
	var rest string
	var room int
	for i := 0; ; i++ {
		rest = compose()
		room = limit - utf8.RuneCountInString(rest)
		if vendorLen <= room {
			return vendor + rest
		}
		if room >= progressMinVendor {
			return truncateRunes(vendor, room) + rest
		}
		if i == len(order) {
			break
		}
		if part := order[i]; step[part] < len(variants[part])-1 {
			step[part]++
		}
	}
	// Even the leanest line is too wide: cut the vendor name shorter still,
	// and past that cut the line.
	if room >= 2 {
		return truncateRunes(vendor, room) + rest
	}
	return truncateRunes(truncateRunes(vendor, 2)+rest, limit)
}

// progressVariants returns each part's forms, longest first; an empty form
// leaves the part out.
func progressVariants(pr monitor.HistoryProgress) [numParts][]string {
	var v [numParts][]string
	v[partGauge] = []string{"", "", "", ""}
	if pr.Remaining > 0 || pr.Phase == "done" {
		total := pr.Fetched + pr.Remaining
		frac := 1.0
		if total > 0 {
			frac = float64(pr.Fetched) / float64(total)
		}
		pct := strconv.Itoa(int(frac*100)) + "%"
		gauge := func(width int) string {
			n := int(frac * float64(width))
			return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "] " + pct
		}
		v[partGauge] = []string{gauge(20), gauge(10), pct, pct}
	}
	v[partListed] = []string{
		fmt.Sprintf("listed %d captures (%d distinct)", pr.Listed, pr.Distinct),
		fmt.Sprintf("listed %d (%d distinct)", pr.Listed, pr.Distinct),
		fmt.Sprintf("listed %d", pr.Listed),
		"",
	}
	v[partFetched] = []string{
		fmt.Sprintf("fetched %d (+%d reused)", pr.Fetched, pr.Reused),
		fmt.Sprintf("fetched %d (+%d)", pr.Fetched, pr.Reused),
		"",
	}
	v[partVersions] = []string{
		fmt.Sprintf("%d versions, %d changes", pr.Versions, pr.Changes),
		fmt.Sprintf("%d ver, %d chg", pr.Versions, pr.Changes),
		"",
	}
	v[partSep] = []string{"  ", " "}
	return v
}

// truncateRunes shortens s to at most n runes, marking the cut with "…".
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// sanitizeProgressText replaces control characters, which a vendor name from
// the config could hold and which would break the redraw-in-place line.
func sanitizeProgressText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}
