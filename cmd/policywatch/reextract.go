package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/monitor"
	"github.com/policywatch/policywatch/store"
)

func (m *Main) runReextract(ctx context.Context, args []string) error {
	fs, common := m.newFlagSet("reextract", "[--vendor NAME]... [--json]",
		`Re-runs the current extractor (with each vendor's select/remove selectors)
over the raw captures already stored, rebuilds the versions and changes from
the result, and reports what moved: changes that disappear were extraction
noise, changes that appear were hidden by it. A difference in the latest text
is recorded as an "extractor" change, which is never alerted. Nothing is
fetched. fetch does this by itself when the extractor or a vendor's selectors
changed since its texts were made.
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
	mon := monitor.New(env.db, nil, env.logger)
	mon.Terms = env.cfg.Terms(diffing.DefaultTerms)
	var reports []*monitor.ReextractReport
	var errs []error
	for _, v := range env.vendors {
		rep, err := mon.Reextract(ctx, v)
		if errors.Is(err, store.ErrNotFound) {
			env.logger.Info("no data yet; nothing to re-extract", "vendor", v.Name)
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("vendor %q: %w", v.Name, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		reports = append(reports, rep)
	}
	if *asJSON {
		if reports == nil {
			reports = []*monitor.ReextractReport{}
		}
		if err := writeJSON(m.Stdout, map[string]any{"vendors": reports}); err != nil {
			return err
		}
	} else {
		printReextract(m.Stdout, reports)
	}
	return errors.Join(errs...)
}

func printReextract(w io.Writer, reports []*monitor.ReextractReport) {
	if len(reports) == 0 {
		fmt.Fprintln(w, "nothing to re-extract: no vendor has stored captures yet")
	}
	for _, r := range reports {
		fmt.Fprintf(w, "%s: %d captures re-extracted (extractor %s), %d changed verdict or version\n",
			r.Vendor, r.Captures, r.Extractor, r.VerdictsChanged)
		fmt.Fprintf(w, "  versions %d → %d, changes %d → %d\n", r.VersionsBefore, r.VersionsAfter, r.ChangesBefore, r.ChangesAfter)
		for _, c := range r.Removed {
			fmt.Fprintf(w, "  removed change %s → %s: it was extraction noise\n", c.OldTimestamp, c.NewTimestamp)
		}
		for _, c := range r.Added {
			fmt.Fprintf(w, "  new change %s → %s (+%d −%d lines): the old extraction hid it\n", c.OldTimestamp, c.NewTimestamp, c.LinesAdded, c.LinesRemoved)
		}
		if c := r.ExtractorChange; c != nil {
			fmt.Fprintf(w, "  the current text differs (+%d −%d lines): recorded as an extractor change, not alerted\n", c.LinesAdded, c.LinesRemoved)
		} else if len(r.Removed)+len(r.Added) == 0 {
			fmt.Fprintln(w, "  the extracted texts are unchanged")
		}
	}
}
