package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/policywatch/policywatch/crawler"
	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/monitor"
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
	results, runErr := monitor.New(env.db, client, env.logger).Run(ctx, env.vendors)
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
			what := "text changed"
			if !c.TextChanged {
				what = "no text change"
			}
			fmt.Fprintf(w, "  CHANGED between %s and %s: %s (+%d −%d lines), last updated %s → %s\n",
				c.OldTimestamp, c.NewTimestamp, what, c.LinesAdded, c.LinesRemoved,
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
func (m *Main) openForVendor(ctx context.Context, common *commonFlags, name string) (*store.DB, *store.Vendor, error) {
	if name == "" {
		return nil, nil, errors.New("--vendor NAME is required")
	}
	cfg, err := ReadConfig(common.config, m.Getenv)
	if err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, nil, err
	}
	v, err := db.VendorByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		db.Close()
		return nil, nil, fmt.Errorf("vendor %q has no data in %s yet: is the name right, and has `policywatch fetch` run?", name, cfg.Database)
	}
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, v, nil
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
	db, v, err := m.openForVendor(ctx, common, *name)
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
	for _, ver := range versions {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", ver.First.Timestamp, ver.Last.Timestamp, ver.Captures,
			orDash(ver.StatedDate), ver.SHA256[:12], ver.Title)
	}
	return tw.Flush()
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
	db, v, err := m.openForVendor(ctx, common, *name)
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
	fs, common := m.newFlagSet("diff", "--vendor NAME [--from TIMESTAMP] [--to TIMESTAMP]",
		`Shows what changed between two versions of a vendor's policy: the stated
"last updated" dates before and after, the change window (the last capture
with the old text and the first with the new), and a unified diff of the text.
Without --from/--to it shows the latest change.
`)
	name := fs.String("vendor", "", "vendor `name` as in the config")
	from := fs.String("from", "", "the old side: the version in effect at this `timestamp`")
	to := fs.String("to", "", "the new side: the version in effect at this `timestamp` (default the latest)")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, v, err := m.openForVendor(ctx, common, *name)
	if err != nil {
		return err
	}
	defer db.Close()

	var oldV, newV *store.Version
	var window *store.Change
	if *from == "" && *to == "" {
		changes, err := db.Changes(ctx, v.ID, store.CauseArchive)
		if err != nil {
			return err
		}
		if len(changes) == 0 {
			fmt.Fprintf(m.Stdout, "%s: no changes recorded yet\n", v.Name)
			return nil
		}
		window = changes[len(changes)-1]
		if oldV, err = db.VersionByID(ctx, window.FromVersionID); err != nil {
			return err
		}
		if newV, err = db.VersionByID(ctx, window.ToVersionID); err != nil {
			return err
		}
	} else {
		if *from == "" {
			return errors.New("--to needs --from: name the old side too")
		}
		if oldV, err = versionAt(ctx, db, v, *from); err != nil {
			return err
		}
		if newV, err = versionAt(ctx, db, v, *to); err != nil {
			return err
		}
	}
	return writeDiff(m.Stdout, v, oldV, newV, window)
}

func writeDiff(w io.Writer, v *store.Vendor, oldV, newV *store.Version, window *store.Change) error {
	fmt.Fprintf(w, "%s — %s\n", v.Name, v.URL)
	fmt.Fprintf(w, "old: %s  %s  (last updated %s)\n", oldV.First.Timestamp, oldV.First.WaybackURL(), orDash(oldV.StatedDate))
	fmt.Fprintf(w, "new: %s  %s  (last updated %s)\n", newV.First.Timestamp, newV.First.WaybackURL(), orDash(newV.StatedDate))
	if window != nil {
		fmt.Fprintf(w, "changed between %s (last capture with the old text) and %s (first capture with the new)\n",
			humanTS(window.OldCapture.Timestamp), humanTS(window.NewCapture.Timestamp))
	}
	if oldV.ID == newV.ID {
		fmt.Fprintln(w, "no difference: both timestamps have the same version")
		return nil
	}
	switch {
	case oldV.StatedDate == newV.StatedDate:
		fmt.Fprintf(w, "stated date: unchanged (%s)\n", orDash(oldV.StatedDate))
	default:
		fmt.Fprintf(w, "stated date: %s → %s\n", orDash(oldV.StatedDate), orDash(newV.StatedDate))
	}
	ch := diffing.Compare(oldV.Document(), newV.Document())
	fmt.Fprintf(w, "text: +%d −%d lines\n\n", ch.LinesAdded, ch.LinesRemoved)
	_, err := io.WriteString(w, diffing.Unified(oldV.First.Timestamp, newV.First.Timestamp, oldV.Document(), newV.Document()))
	return err
}

func humanTS(ts string) string {
	t, err := time.Parse("20060102150405", ts)
	if err != nil {
		return ts
	}
	return t.Format("2006-01-02 15:04:05 UTC")
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
