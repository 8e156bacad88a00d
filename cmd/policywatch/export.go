package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/policywatch/policywatch/export"
	"github.com/policywatch/policywatch/store"
)

const exportHelp = `Writes the stored versions of the vendors' policies out for research.

--format citp (the default) makes DIR a git repository laid out like the
Princeton-Leuven privacy policy dataset (github.com/citp/privacy-policy-historical):
one Markdown file per site at <a>/<ab>/<abc>/<domain>.md, where <domain> is
the vendor URL's host without "www." and a, ab, abc are its first 1, 2 and 3
characters, e.g. a/ac/acm/acme-cloud.example.md. Each file is in the
dataset's format: its provenance line linking the Wayback capture, "# <title>",
then the text, as "policywatch show" prints it. There is one commit per text
period: a vendor's first text, then one per change found in the archive,
reverts included (A, then B, then A again is three commits and the file
ends at A). Commits go oldest first across all vendors, each authored and
committed at the period's first capture (UTC), so a policy's history is

    git -C DIR log -p -- a/ac/acm/acme-cloud.example.md

and "git -C DIR log" is a timeline of all of them. Commit trailers name the
vendor, the version's SHA-256 (Policywatch-Version), the period's first
capture (Policywatch-Since), the Wayback URL, the change window and a return
to an earlier text (Policywatch-Flip-Back). Vendors that share a domain get
separate files: the first one exported keeps <domain>.md, the others get
<domain>--<vendor-slug>.md.

Run export again into the same DIR to add only the periods it does not hold
yet. DIR must be new, empty, or an earlier export: anything else is refused,
and nothing in DIR is ever deleted. Needs git (Debian: apt-get install git).

--format jsonl writes one JSON object per version (each vendor's oldest
first, with the periods it was the policy's text) to FILE, or to stdout when FILE is -. An existing FILE is replaced
only when it is an earlier jsonl export. Fields: docs/export.md.

Vendors come from the database, so a vendor since removed from the config is
exported too; --vendor picks some.
`

func (m *Main) runExport(ctx context.Context, args []string) error {
	fs, common := m.newFlagSet("export", "[--format citp|jsonl] [--vendor NAME]... DIR|FILE", exportHelp)
	var vendors stringList
	fs.Var(&vendors, "vendor", "only this vendor `name` (repeatable; default every vendor in the database)")
	format := fs.String("format", "citp", "output `format`: citp (a git repository in DIR) or jsonl (JSON lines in FILE, - for stdout)")
	out, err := parseOperand(fs, args)
	if err != nil {
		return err
	}
	if *format != "citp" && *format != "jsonl" {
		return fmt.Errorf("export: --format %q: want citp or jsonl", *format)
	}
	logger, err := m.logger(common.logLevel)
	if err != nil {
		return err
	}
	cfg, err := ReadConfig(common.config, m.Getenv)
	if err != nil {
		return err
	}
	// store.Open would create an empty database; exporting one helps nobody
	// and a wrong path deserves to be said.
	if _, err := os.Stat(cfg.Database); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("export: there is no database at %s yet: check `database:` in %s, or run `policywatch fetch` first", cfg.Database, common.config)
	}
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	ex := export.New(db, logger)
	vs, err := ex.Vendors(ctx, vendors)
	if errors.Is(err, export.ErrNoVendor) {
		return fmt.Errorf("%w (%s): is the name right, and has `policywatch fetch` run?", err, cfg.Database)
	}
	if err != nil {
		return err
	}

	if *format == "jsonl" {
		if out == "-" {
			_, err := ex.JSONL(ctx, m.Stdout, vs)
			return err
		}
		n, err := ex.JSONLFile(ctx, out, vs)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "wrote %d versions of %d vendors to %s\n", n, len(vs), out)
		return nil
	}

	res, err := ex.CITP(ctx, out, vs)
	if res != nil && (err == nil || res.Commits > 0) {
		m.printCITP(res)
	}
	return err
}

// printCITP says what the citp export did, and how to read it.
func (m *Main) printCITP(res *export.Result) {
	if res.Commits == 0 {
		fmt.Fprintf(m.Stdout, "%s is up to date: no change to add\n", res.Dir)
	} else {
		plural := "s"
		if res.Commits == 1 {
			plural = ""
		}
		fmt.Fprintf(m.Stdout, "exported to %s: %d new commit%s\n", res.Dir, res.Commits, plural)
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	example := ""
	for _, v := range res.Vendors {
		if v.Path == "" {
			fmt.Fprintf(tw, "  %s\t(no versions stored yet)\t\n", v.Vendor)
			continue
		}
		if example == "" {
			example = v.Path
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d new, %d already exported\n", v.Vendor, v.Path, v.New, v.Existing)
	}
	tw.Flush()
	if example != "" {
		fmt.Fprintf(m.Stdout, "history of a policy: git -C %s log -p -- %s\n", res.Dir, example)
	}
}

// parseOperand parses flags given before or after the one operand, as in
// "export DIR --vendor X" (the flag package stops at the first operand),
// and returns the operand. After "--" everything is an operand.
func parseOperand(fs *flag.FlagSet, args []string) (string, error) {
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			operands = append(operands, rest...)
			break
		}
		operands = append(operands, rest[0])
		args = rest[1:]
	}
	switch len(operands) {
	case 1:
		return operands[0], nil
	case 0:
		fs.Usage()
		return "", errors.New("export: name the output: a directory for --format citp, a file (or - for stdout) for --format jsonl")
	}
	fs.Usage()
	return "", fmt.Errorf("export: one output only, got %q", operands)
}
