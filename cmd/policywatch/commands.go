package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/monitor"
	"github.com/policywatch/policywatch/notify"
	"github.com/policywatch/policywatch/snapshot"
	"github.com/policywatch/policywatch/store"
)

func (m *Main) runFetch(ctx context.Context, args []string) error {
	fs, common := m.newFlagSet("fetch", "[--vendor NAME]... [--json]",
		`Does one incremental pass per vendor: lists the vendor URL's captures in the
Wayback Machine, fetches the raw bytes of each capture not processed yet,
extracts the policy text and records every distinct version and change.
The first pass of a vendor records the newest capture as its baseline; later
passes process every newer capture, oldest first. Safe to interrupt and rerun.
Exit status 0 when the pass ran, whether or not anything changed.
`)
	var vendors stringList
	fs.Var(&vendors, "vendor", "only this vendor `name` (repeatable)")
	asJSON := fs.Bool("json", false, "print a JSON document instead of a summary")
	if err := parse(fs, args); err != nil {
		return err
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
	alerts := env.cfg.Alerts
	mon.Route = func(vendor string, ch diffing.Change) []string { return notify.Route(alerts, vendor, ch) }
	results, runErr := mon.Run(ctx, env.vendors)
	// Deliver what this pass (and any earlier, interrupted one) queued; what
	// fails stays in the outbox for the next run or `policywatch alerts send`.
	if env.cfg.Alerts.Enabled() && ctx.Err() == nil {
		sender, err := notify.New(env.cfg.Alerts, env.db, env.logger, nil, time.Now)
		if err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
		if sent, failed, err := sender.DrainOnce(ctx); err != nil || failed > 0 {
			env.logger.Warn("some alerts are not delivered yet; they stay in the outbox", "sent", sent, "failed", failed, "err", err)
		}
	}
	if *asJSON {
		if err := writeJSON(m.Stdout, map[string]any{"vendors": results}); err != nil {
			return err
		}
	} else {
		printResults(m.Stdout, results)
	}
	if runErr != nil {
		return fmt.Errorf("fetch: %w%s", runErr, hint(runErr))
	}
	return nil
}

// hint tells the user what to do about the archive errors they can act on.
func hint(err error) string {
	switch {
	case errors.Is(err, crawler.ErrUnreachable):
		return "\nthe archive could not be reached: check the network and wayback.url, then run fetch again; nothing already stored was lost"
	case errors.Is(err, crawler.ErrRateLimited):
		return "\nthe archive keeps answering 429 Too Many Requests: wait an hour before the next run, and consider lowering wayback.cdx_rate / wayback.playback_rate"
	case errors.Is(err, crawler.ErrBlocked):
		return "\nthe archive refuses to serve this URL (excluded or blocked); check the vendor url"
	}
	return ""
}

func printResults(w io.Writer, results []*monitor.PassResult) {
	for _, r := range results {
		fmt.Fprintf(w, "%s (%s)\n", r.Vendor, r.URL)
		switch {
		case r.Error != "":
			fmt.Fprintf(w, "  FAILED: %s\n", r.Error)
		case r.FirstRun && r.NewVersions > 0:
			fmt.Fprintf(w, "  baseline recorded from the newest capture (%d listed)\n", r.Listed)
		case r.FirstRun:
			fmt.Fprintf(w, "  no capture with a policy text yet (%d listed)\n", r.Listed)
		case r.New == 0:
			fmt.Fprintf(w, "  no new captures since %s\n", r.LatestTimestamp)
		default:
			fmt.Fprintf(w, "  %d new captures: %d fetched, %d reused by digest, %d not a policy text\n",
				r.New, r.Fetched, r.Reused, r.NotVersions)
		}
		for _, c := range r.Changes {
			kinds := strings.Join(c.Kinds, ", ")
			if kinds == "" {
				kinds = "text changed"
			}
			fmt.Fprintf(w, "  CHANGED between %s and %s: %s, severity %s, %d clauses (+%d −%d lines), last updated %s → %s\n",
				c.OldTimestamp, c.NewTimestamp, kinds, orDashLevel(c.Severity), c.Clauses, c.LinesAdded, c.LinesRemoved,
				orNone(c.OldStatedDate), orNone(c.NewStatedDate))
		}
	}
}

func orNone(s *string) string {
	if s == nil {
		return "(none stated)"
	}
	return *s
}

// configured is what commands that work on the configured vendors need.
type configured struct {
	cfg     *Config
	vendors []monitor.Vendor
	db      *store.DB
	logger  *slog.Logger
}

// openConfigured reads the config, picks the vendors named (all when none
// is), opens the database and makes the logger. The caller closes db.
func (m *Main) openConfigured(ctx context.Context, common *commonFlags, names []string) (*configured, error) {
	logger, err := m.logger(common.logLevel)
	if err != nil {
		return nil, err
	}
	cfg, err := ReadConfig(common.config, m.Getenv)
	if err != nil {
		return nil, err
	}
	vendors, err := cfg.MonitorVendors(names)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	return &configured{cfg: cfg, vendors: vendors, db: db, logger: logger}, nil
}

// openForVendor reads the config, opens the database and finds the vendor
// that read-only commands work on.
func (m *Main) openForVendor(ctx context.Context, common *commonFlags, name string) (*Config, *store.DB, *store.Vendor, error) {
	if name == "" {
		return nil, nil, nil, errors.New("--vendor NAME is required")
	}
	cfg, err := ReadConfig(common.config, m.Getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, nil, nil, err
	}
	v, err := db.VendorByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		db.Close()
		return nil, nil, nil, fmt.Errorf("vendor %q has no data in %s yet: is the name right, and has `policywatch fetch` run?", name, cfg.Database)
	}
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return cfg, db, v, nil
}

// versionJSON is one element of `versions --json`. Scripts depend on these
// names: keep them stable.
type versionJSON struct {
	Timestamp       string  `json:"timestamp"`
	WaybackURL      string  `json:"wayback_url"`
	SHA256          string  `json:"sha256"`
	LastUpdated     *string `json:"last_updated"`
	LastUpdatedText *string `json:"last_updated_text"`
	Title           string  `json:"title"`
	LastSeen        string  `json:"last_seen"`
	Captures        int     `json:"captures"`
	// URL is where the first capture with this text was made: the policy
	// moves (history follows redirects and discovered links).
	URL string `json:"url"`
}

func (m *Main) runVersions(ctx context.Context, args []string) error {
	fs, common := m.newFlagSet("versions", "--vendor NAME [--json]",
		`Lists the distinct versions of a vendor's policy, oldest first: when each
text was first and last seen in the archive and the date the policy states.
`)
	name := fs.String("vendor", "", "vendor `name` as in the config")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, db, v, err := m.openForVendor(ctx, common, *name)
	if err != nil {
		return err
	}
	defer db.Close()
	versions, err := db.Versions(ctx, v.ID)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]versionJSON, 0, len(versions))
		for _, ver := range versions {
			out = append(out, versionJSON{
				Timestamp:       ver.First.Timestamp,
				WaybackURL:      ver.First.WaybackURL(),
				SHA256:          ver.SHA256,
				LastUpdated:     optional(ver.StatedDate),
				LastUpdatedText: optional(ver.StatedDateText),
				Title:           ver.Title,
				LastSeen:        ver.Last.Timestamp,
				Captures:        ver.Captures,
				URL:             ver.First.Original,
			})
		}
		return writeJSON(m.Stdout, out)
	}
	if len(versions) == 0 {
		fmt.Fprintf(m.Stdout, "%s: no versions recorded yet\n", v.Name)
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIRST SEEN\tLAST SEEN\tCAPTURES\tLAST UPDATED\tSHA256\tTITLE")
	moved := false
	for _, ver := range versions {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", ver.First.Timestamp, ver.Last.Timestamp, ver.Captures,
			orDash(ver.StatedDate), ver.SHA256[:12], ver.Title)
		moved = moved || docURLDiffers(ver.First.Original, v.URL)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if moved {
		// Only when the policy was read from other URLs than the configured one.
		fmt.Fprintln(m.Stdout, "\nURLs the versions were first captured at:")
		for _, ver := range versions {
			fmt.Fprintf(m.Stdout, "  %s  %s\n", ver.First.Timestamp, ver.First.Original)
		}
	}
	return nil
}

func (m *Main) runShow(ctx context.Context, args []string) error {
	fs, common := m.newFlagSet("show", "--vendor NAME [--at TIMESTAMP]",
		`Prints one version of a vendor's policy as Markdown, exactly as stored, in the
format of the Princeton-Leuven privacy policy dataset: a provenance line with
the Wayback link, the page title, then the text.
`)
	name := fs.String("vendor", "", "vendor `name` as in the config")
	at := fs.String("at", "", "the version in effect at this Wayback `timestamp` (1-14 digits, e.g. 20190523 or 20190523091427); default the latest")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, db, v, err := m.openForVendor(ctx, common, *name)
	if err != nil {
		return err
	}
	defer db.Close()
	ver, err := versionAt(ctx, db, v, *at)
	if err != nil {
		return err
	}
	_, err = io.WriteString(m.Stdout, render(v, ver))
	return err
}

// render returns a version's Markdown with the provenance of its first capture.
func render(v *store.Vendor, ver *store.Version) string {
	src := snapshot.Source{Site: siteName(v.URL), URL: ver.First.Original, Timestamp: ver.First.Timestamp}
	return ver.Document().Render(src)
}

func siteName(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	if i := strings.IndexAny(u, "/:?#"); i >= 0 {
		u = u[:i]
	}
	return strings.TrimPrefix(strings.ToLower(u), "www.")
}

// versionAt returns the version in effect at ts, or the latest when ts is "".
func versionAt(ctx context.Context, db *store.DB, v *store.Vendor, ts string) (*store.Version, error) {
	if ts == "" {
		ts = "99991231235959"
	}
	ver, _, err := db.VersionAt(ctx, v.ID, ts)
	if errors.Is(err, store.ErrNotFound) {
		if ts == "99991231235959" {
			return nil, fmt.Errorf("%s has no versions yet: run `policywatch fetch` first", v.Name)
		}
		return nil, fmt.Errorf("%s has no version at or before %s; see `policywatch versions --vendor %q`", v.Name, ts, v.Name)
	}
	return ver, err
}

func (m *Main) runDiff(ctx context.Context, args []string) error {
	fs, common := m.newFlagSet("diff", "--vendor NAME [--from TIMESTAMP] [--to TIMESTAMP] [--format FORMAT] [--color WHEN] [--show-cosmetic]",
		`Shows what changed between two versions of a vendor's policy: the kind of
change (a SILENT CHANGE is a text change without a new "last updated" date),
its severity and why, the stated dates before and after, the change window
(the last capture with the old text and the first with the new, in UTC), and
the clauses that changed, grouped by section, with a word diff of each.
Without --from/--to it shows the latest change the archive recorded.

Formats: terminal (default; colour on a terminal), markdown, html (one
self-contained page), json (the contract described in docs/changes.md, for
scripts). Archived text is treated as hostile: it is escaped in Markdown and
HTML, and stripped of escape sequences on the terminal.
`)
	name := fs.String("vendor", "", "vendor `name` as in the config")
	from := fs.String("from", "", "the old side: the version in effect at this `timestamp` (1-14 digits, e.g. 2021 or 20210922174411)")
	to := fs.String("to", "", "the new side: the version in effect at this `timestamp` (default the latest)")
	format := fs.String("format", diffing.FormatTerminal, "output `format`: "+strings.Join(diffing.Formats, ", "))
	color := fs.String("color", "auto", "colour the terminal format: auto (when stdout is a terminal and NO_COLOR is unset), always or never")
	showCosmetic := fs.Bool("show-cosmetic", false, "list cosmetic clause changes (whitespace, punctuation, typography, link targets) instead of counting them")
	if err := parse(fs, args); err != nil {
		return err
	}
	if !slices.Contains(diffing.Formats, *format) {
		return fmt.Errorf("--format %q: want one of %s", *format, strings.Join(diffing.Formats, ", "))
	}
	useColor, err := colorWanted(*color, m.Getenv, m.Stdout)
	if err != nil {
		return err
	}
	opts := diffing.RenderOptions{ShowCosmetic: *showCosmetic, Color: useColor}
	if *from == "" && *to != "" {
		return errors.New("--to needs --from: name the old side too")
	}
	cfg, db, v, err := m.openForVendor(ctx, common, *name)
	if err != nil {
		return err
	}
	defer db.Close()

	var oldV, newV *store.Version
	var recorded *store.Change
	if *from == "" {
		changes, err := db.Changes(ctx, v.ID, store.CauseArchive)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			fmt.Fprintf(m.Stdout, "%s: no changes recorded yet\n", v.Name)
			return nil
		}
		recorded = changes[len(changes)-1]
		if oldV, err = db.VersionByID(ctx, recorded.FromVersionID); err != nil {
			return err
		}
		if newV, err = db.VersionByID(ctx, recorded.ToVersionID); err != nil {
			return err
		}
	} else {
		if oldV, err = versionAt(ctx, db, v, *from); err != nil {
			return err
		}
		if newV, err = versionAt(ctx, db, v, *to); err != nil {
			return err
		}
		if recorded, err = db.ChangeBetween(ctx, v.ID, oldV, newV, *from, *to); err != nil {
			return err
		}
	}
	return writeDiff(m.Stdout, *format, opts, store.BuildReport(v, oldV, newV, recorded, cfg.Terms(diffing.DefaultTerms)))
}

// writeDiff renders the report in the chosen format.
func writeDiff(w io.Writer, format string, opts diffing.RenderOptions, r diffing.Report) error {
	return diffing.Render(w, format, r, opts)
}

// colorWanted decides --color: always, never, or auto, which colours only
// a terminal and honours NO_COLOR (https://no-color.org: set and not empty)
// and TERM=dumb.
func colorWanted(mode string, getenv func(string) string, w io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		return getenv("NO_COLOR") == "" && getenv("TERM") != "dumb" && isTerminal(w), nil
	}
	return false, fmt.Errorf("--color %q: want auto, always or never", mode)
}

// isTerminal reports whether w is a character device, the condition for
// colour under --color auto. Pipes, files and test buffers are not; /dev/null
// is, which only colours what nobody reads. (golang.org/x/term would ask the
// terminal itself, but it is not a dependency.)
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func orDash(s string) string {
	if s == "" {
		return "none stated"
	}
	return s
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// docURLDiffers reports whether two URLs name different documents, ignoring
// the scheme and "www." as the archive does.
func docURLDiffers(a, b string) bool {
	norm := func(s string) string {
		s = strings.ToLower(s)
		for _, p := range []string{"https://", "http://", "www."} {
			s = strings.TrimPrefix(s, p)
		}
		return strings.TrimSuffix(s, "/")
	}
	return norm(a) != norm(b)
}
