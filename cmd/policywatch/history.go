package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/monitor"
)

func (m *Main) runHistory(ctx context.Context, args []string) error {
	fs, common := m.newFlagSet("history", "(--vendor NAME... | --all) [--from DATE] [--to DATE] [--max-gap DAYS] [--discover] [--json]",
		`Builds a vendor's version history from the Wayback Machine's whole record
(or the --from/--to range) and stores it exactly as fetch does; fetch later
continues from where history ended.

It fetches only the captures that tell something. Captures with the same
payload digest are fetched once. The first and last capture of the range are
fetched, and between two fetched captures whose texts differ it bisects until
the change is pinned between two neighbouring captures: that is the change's
window. Between two fetched captures with the same text it assumes the text
did not change (the captures between are recorded as "inferred", with that
reason) — but never across more than --max-gap days, so that a change and
its revert between two equal ends is not missed.

Where the configured URL has no capture for longer than --max-gap and its
captures are redirects, the redirect is followed (hop limit, loop detection)
and the target URL's captures are used for that stretch; with --discover, a
stretch without any capture is looked up on the archived home page, whose
privacy-policy link is used instead. Each version records its URL.

A run can be interrupted at any point (Ctrl-C, a crash, an archive outage, a
429 block): progress is stored as it is made, and the next run resumes the
CDX listing from its resume key and fetches nothing twice. On a terminal a
progress bar shows captures listed, fetched, versions found and the time
left at the configured playback rate; otherwise progress is logged.

Dates are Wayback timestamps of 1 to 14 digits: 2015, 201506, 20150601.
`)
	var vendors stringList
	fs.Var(&vendors, "vendor", "vendor `name` as in the config (repeatable)")
	all := fs.Bool("all", false, "every vendor in the config")
	from := fs.String("from", "", "first `date` to consider (default: the oldest capture)")
	to := fs.String("to", "", "last `date` to consider (default: now)")
	maxGap := fs.Int("max-gap", int(monitor.DefaultMaxGap.Hours()/24), "longest stretch in `days` between two fetched captures")
	discover := fs.Bool("discover", false, "find the policy link on the archived home page where the URL has no captures")
	asJSON := fs.Bool("json", false, "print a JSON document instead of a summary")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *all && len(vendors) > 0:
		return errors.New("history: give --vendor NAME or --all, not both")
	case !*all && len(vendors) == 0:
		fs.Usage()
		return errors.New("history: say which vendor (--vendor NAME) or --all; a full history can take many archive requests")
	case *maxGap < 1:
		return fmt.Errorf("history: --max-gap %d: want at least 1 day", *maxGap)
	}
	for name, v := range map[string]string{"from": *from, "to": *to} {
		if v != "" && !monitor.ValidTimestamp(v) {
			return fmt.Errorf("history: --%s %q: want a date as 1 to 14 digits (YYYY, YYYYMM, YYYYMMDD, … YYYYMMDDhhmmss)", name, v)
		}
	}
	if *from != "" && *to != "" && *from > *to && !strings.HasPrefix(*from, *to) {
		return fmt.Errorf("history: --from %s is after --to %s", *from, *to)
	}

	env, err := m.openConfigured(ctx, common, vendors)
	if err != nil {
		return err
	}
	defer env.db.Close()
	client, err := crawler.New(env.cfg.CrawlerConfig(), env.logger, nil)
	if err != nil {
		return fmt.Errorf("wayback client: %w", err)
	}
	mon := monitor.New(env.db, client, env.logger)
	mon.Terms = env.cfg.Terms(diffing.DefaultTerms)

	opts := monitor.HistoryOptions{From: *from, To: *to, MaxGap: time.Duration(*maxGap) * 24 * time.Hour, Discover: *discover}
	bar := !*asJSON && progressBarWanted(m.Stderr, m.Getenv)

	var results []*monitor.HistoryResult
	var runErr error
	for _, v := range env.vendors {
		progress := newProgress(m.Stderr, bar, env.logger, env.cfg.CrawlerConfig().PlaybackRate, 10*time.Second, time.Now)
		progress.width = progressWidth(m.Getenv)
		opts.Progress = progress.Update
		res, err := mon.History(ctx, v, opts)
		progress.Done()
		results = append(results, res)
		if !*asJSON {
			printHistory(m.Stdout, res)
		}
		if err != nil {
			runErr = err
			break // the archive is in trouble or we were interrupted: stop, keep what is stored
		}
	}
	if *asJSON {
		if err := writeJSON(m.Stdout, map[string]any{"vendors": results}); err != nil {
			return err
		}
	}
	if runErr != nil {
		return fmt.Errorf("%w%s", runErr, historyHint(runErr, time.Now()))
	}
	return nil
}

// historyHint says when to try again after the archive stopped a run.
func historyHint(err error, now time.Time) string {
	retry := now.Add(time.Hour).UTC().Format("15:04 UTC")
	switch {
	case errors.Is(err, crawler.ErrRateLimited):
		return "\nthe archive keeps answering 429 Too Many Requests. Everything listed and fetched so far is stored; " +
			"run the same command again after " + retry + " (in an hour: the archive blocks clients that keep asking) and it resumes where it stopped"
	case errors.Is(err, crawler.ErrUnreachable):
		return "\nthe archive refuses connections (an outage, or a block of this network). Everything so far is stored; " +
			"check the network and wayback.url, and run the same command again after " + retry + "; it resumes where it stopped"
	case errors.Is(err, crawler.ErrUnavailable):
		return "\nthe archive kept failing. Everything so far is stored; run the same command again later (after " + retry + ") and it resumes where it stopped"
	}
	return hint(err)
}

func printHistory(w io.Writer, r *monitor.HistoryResult) {
	fmt.Fprintf(w, "%s (%s)\n", r.Vendor, r.URL)
	if r.Error != "" {
		fmt.Fprintf(w, "  STOPPED: %s\n", r.Error)
	}
	saved := ""
	if r.Distinct > 0 {
		saved = fmt.Sprintf(" (%d%% of the naive count)", 100*r.Fetched/r.Distinct)
	}
	fmt.Fprintf(w, "  %d captures listed, %d distinct payloads (naive: %d fetches); fetched %d%s, %d reused by digest, %d inferred, %d not a policy text\n",
		r.Listed, r.Distinct, r.Distinct, r.Fetched, saved, r.Reused, r.Inferred, r.Skipped)
	if r.Resumed {
		fmt.Fprintln(w, "  (continued an earlier run: what it had stored was not fetched again)")
	}
	for _, u := range r.URLs {
		fmt.Fprintf(w, "  URL %s (%s, captures %s to %s)\n", u.URL, u.How, day(u.From), day(u.To))
	}
	if len(r.Versions) == 0 {
		fmt.Fprintln(w, "  no version found in the range")
		return
	}
	fmt.Fprintf(w, "  %d versions:\n", len(r.Versions))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "    FIRST SEEN\tLAST SEEN\tCAPTURES\tLAST UPDATED\tSHA256\tURL")
	for _, v := range r.Versions {
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%s\n", v.First, v.Last, strconv.Itoa(v.Captures), orDashPtr(v.StatedDate), v.SHA256[:12], v.URL)
	}
	tw.Flush()
	for _, c := range r.Changes {
		kinds := strings.Join(c.Kinds, ", ")
		if kinds == "" {
			kinds = "text changed"
		}
		fmt.Fprintf(w, "  CHANGED between %s and %s: %s, severity %s (+%d −%d lines), last updated %s → %s\n",
			c.OldTimestamp, c.NewTimestamp, kinds, orDashLevel(c.Severity), c.LinesAdded, c.LinesRemoved,
			orNone(c.OldStatedDate), orNone(c.NewStatedDate))
	}
}

func orDashPtr(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}

// day renders a timestamp's date.
func day(ts string) string {
	if len(ts) < 8 {
		return ts
	}
	return ts[:4] + "-" + ts[4:6] + "-" + ts[6:8]
}
