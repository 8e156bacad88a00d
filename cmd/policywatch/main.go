// Command policywatch keeps the history of vendors' privacy policies and terms
// pages from the Wayback Machine and reports when they change.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	err := m.Run(ctx, os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "policywatch: interrupted; everything recorded so far is kept, and the next run continues from there")
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "policywatch: "+err.Error())
		os.Exit(1)
	}
}

// Main is the program: its streams and environment are fields so that tests
// run it in-process exactly as a user would from a shell.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
}

// NewMain returns a Main wired to the process's streams and environment.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
}

const usage = `policywatch keeps the history of vendors' privacy policies and terms pages
from the Wayback Machine and tells you when they change.

Usage:
  policywatch <command> [flags]

Commands:
  fetch      one incremental pass over every vendor in the config
  history    build a vendor's version history from the archive's whole record
  versions   list the distinct versions of a vendor's policy
  show       print one version as Markdown
  diff       show what changed between two versions
  export     write the stored versions for research: citp git repository or JSON lines
  reextract  re-run the current extractor over the stored captures
  alerts     list, retry, test and send change alerts (email, webhooks)
  eval       measure extraction against a corpus of archived pages and expected texts
  demo       run the whole pipeline offline against a built-in replay archive
  serve      serve the web dashboard, JSON API and Atom feeds from the database
  daemon     run passes on the config's cron schedule, serving the dashboard,
             /healthz and /metrics
  version    print the program version

Every command takes --config FILE (default $POLICYWATCH_CONFIG or
policywatch.yaml). Run "policywatch <command> --help" for its flags.
`

// Version is the program version, set at build time with -ldflags.
var Version = "dev"

// Run runs the subcommand named by args[0].
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "fetch":
		return m.runFetch(ctx, rest)
	case "history":
		return m.runHistory(ctx, rest)
	case "versions":
		return m.runVersions(ctx, rest)
	case "show":
		return m.runShow(ctx, rest)
	case "diff":
		return m.runDiff(ctx, rest)
	case "export":
		return m.runExport(ctx, rest)
	case "eval":
		return m.runEval(ctx, rest)
	case "demo":
		return m.runDemo(ctx, rest)
	case "alerts":
		return m.runAlerts(ctx, rest)
	case "reextract":
		return m.runReextract(ctx, rest)
	case "daemon":
		return m.runDaemon(ctx, rest)
	case "serve":
		return m.runServe(ctx, rest)
	case "version":
		fmt.Fprintln(m.Stdout, "policywatch", Version)
		return nil
	case "help", "-h", "--help", "-help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	default:
		fmt.Fprint(m.Stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// commonFlags are the flags every command that reads the config takes.
type commonFlags struct {
	config   string
	logLevel string
}

func (m *Main) newFlagSet(name, synopsis, help string) (*flag.FlagSet, *commonFlags) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	c := &commonFlags{}
	def := m.Getenv("POLICYWATCH_CONFIG")
	if def == "" {
		def = "policywatch.yaml"
	}
	fs.StringVar(&c.config, "config", def, "config `file` (env POLICYWATCH_CONFIG)")
	fs.StringVar(&c.logLevel, "log-level", "info", "log `level`: debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: policywatch %s %s\n\n%s\nFlags:\n", name, synopsis, help)
		fs.PrintDefaults()
	}
	return fs, c
}

// parse parses flags and rejects stray arguments, which are almost always a
// forgotten flag name.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func (m *Main) logger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
