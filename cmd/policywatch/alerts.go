package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/notify"
	"github.com/policywatch/policywatch/store"
)

const alertsUsage = `Usage: policywatch alerts <subcommand> [flags]

Subcommands:
  list   [--state pending|delivered|dead] [--json] [--limit N]   show the outbox
  retry  ID | --all-dead                                         make a dead (or pending) alert due now
  test   [--channel NAME]                                        enqueue a sample alert and deliver it now
  send                                                           deliver every due alert now

Channels, routing and retries are configured under alerts: (docs/alerts.md).
`

// runAlerts dispatches the alerts subcommands.
func (m *Main) runAlerts(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, alertsUsage)
		return errors.New("alerts: no subcommand given")
	}
	switch args[0] {
	case "list":
		return m.runAlertsList(ctx, args[1:])
	case "retry":
		return m.runAlertsRetry(ctx, args[1:])
	case "test":
		return m.runAlertsTest(ctx, args[1:])
	case "send":
		return m.runAlertsSend(ctx, args[1:])
	case "help", "-h", "--help", "-help":
		fmt.Fprint(m.Stdout, alertsUsage)
		return nil
	}
	fmt.Fprint(m.Stderr, alertsUsage)
	return fmt.Errorf("alerts: unknown subcommand %q", args[0])
}

// alertsEnv is what every alerts subcommand needs.
type alertsEnv struct {
	cfg    *Config
	db     *store.DB
	sender *notify.Sender
}

func (m *Main) openAlerts(ctx context.Context, common *commonFlags) (*alertsEnv, error) {
	logger, err := m.logger(common.logLevel)
	if err != nil {
		return nil, err
	}
	cfg, err := ReadConfig(common.config, m.Getenv)
	if err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return nil, err
	}
	sender, err := notify.New(cfg.Alerts, db, logger, &http.Client{}, time.Now)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &alertsEnv{cfg: cfg, db: db, sender: sender}, nil
}

// alertJSON is one element of `alerts list --json`. Scripts may rely on
// these names.
type alertJSON struct {
	ID            int64   `json:"id"`
	ChangeID      int64   `json:"change_id"` // 0 for a test alert
	Channel       string  `json:"channel"`
	DeliveryID    string  `json:"delivery_id"`
	State         string  `json:"state"`
	Attempts      int     `json:"attempts"`
	NextAttemptAt *string `json:"next_attempt_at"` // pending only
	DeliveredAt   *string `json:"delivered_at"`
	CreatedAt     string  `json:"created_at"`
	LastError     string  `json:"last_error"`
	Vendor        string  `json:"vendor"`
	Summary       string  `json:"summary"`
}

func (m *Main) runAlertsList(ctx context.Context, args []string) error {
	fs, common := m.newFlagSet("alerts list", "[--state pending|delivered|dead] [--json] [--limit N]",
		"Lists the alert outbox, newest first, with each alert's state, attempts and last error.\n")
	state := fs.String("state", "", "only alerts in this `state`: pending, delivered or dead")
	asJSON := fs.Bool("json", false, "print a JSON array")
	limit := fs.Int("limit", 100, "at most `N` alerts")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch *state {
	case "", store.AlertPending, store.AlertDelivered, store.AlertDead:
	default:
		return fmt.Errorf("alerts list: --state %q: want pending, delivered or dead", *state)
	}
	env, err := m.openAlerts(ctx, common)
	if err != nil {
		return err
	}
	defer env.db.Close()
	items, err := env.db.Alerts(ctx, *state, *limit)
	if err != nil {
		return err
	}
	out := make([]alertJSON, 0, len(items))
	for _, it := range items {
		a := alertJSON{ID: it.ID, ChangeID: it.ChangeID, Channel: it.Channel, DeliveryID: it.DeliveryID, State: it.State,
			Attempts: it.Attempts, CreatedAt: it.CreatedAt.UTC().Format(time.RFC3339),
			LastError: env.sender.Redact(it.LastError)}
		if it.State == store.AlertPending {
			a.NextAttemptAt = optional(it.NextAttemptAt.UTC().Format(time.RFC3339))
		}
		if !it.DeliveredAt.IsZero() {
			a.DeliveredAt = optional(it.DeliveredAt.UTC().Format(time.RFC3339))
		}
		var r diffing.Report
		if json.Unmarshal(it.Payload, &r) == nil {
			a.Vendor, a.Summary = r.Vendor, env.sender.Redact(notify.Summary(r))
		}
		out = append(out, a)
	}
	if *asJSON {
		return writeJSON(m.Stdout, out)
	}
	counts, err := env.db.AlertCounts(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "outbox: %d pending, %d delivered, %d dead\n", counts[store.AlertPending], counts[store.AlertDelivered], counts[store.AlertDead])
	if len(out) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tCHANNEL\tATTEMPTS\tWHEN\tSUMMARY\tLAST ERROR")
	for _, a := range out {
		when := a.CreatedAt
		switch {
		case a.NextAttemptAt != nil:
			when = "next " + *a.NextAttemptAt
		case a.DeliveredAt != nil:
			when = "sent " + *a.DeliveredAt
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\n", a.ID, a.State, a.Channel, a.Attempts, when, cut(a.Summary, 70), cut(a.LastError, 80))
	}
	return tw.Flush()
}

// cut shortens a table cell; the full text is in --json.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func (m *Main) runAlertsRetry(ctx context.Context, args []string) error {
	fs, common := m.newFlagSet("alerts retry", "ID | --all-dead",
		"Makes a dead-lettered (or pending) alert due now, keeping its delivery id so receivers\nstill de-duplicate it. Run `policywatch alerts send` (or let the daemon) deliver it.\n")
	allDead := fs.Bool("all-dead", false, "retry every dead alert")
	var ids []int64
	// The ID may come before or after the flags.
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil {
			return fmt.Errorf("alerts retry: %q is not an alert id (see `policywatch alerts list`)", args[0])
		}
		ids, args = append(ids, id), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, a := range fs.Args() {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return fmt.Errorf("alerts retry: %q is not an alert id (see `policywatch alerts list`)", a)
		}
		ids = append(ids, id)
	}
	if (len(ids) == 0) == !*allDead {
		fs.Usage()
		return errors.New("alerts retry: give an alert ID or --all-dead")
	}
	env, err := m.openAlerts(ctx, common)
	if err != nil {
		return err
	}
	defer env.db.Close()
	if *allDead {
		for {
			dead, err := env.db.Alerts(ctx, store.AlertDead, 1000)
			if err != nil {
				return err
			}
			if len(dead) == 0 {
				break
			}
			for _, it := range dead {
				ids = append(ids, it.ID)
				if err := env.db.RetryAlert(ctx, it.ID); err != nil {
					return err
				}
			}
		}
	} else {
		for _, id := range ids {
			if err := env.db.RetryAlert(ctx, id); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("alerts retry: alert %d does not exist or was already delivered", id)
				}
				return err
			}
		}
	}
	fmt.Fprintf(m.Stdout, "%d alert(s) due now; `policywatch alerts send` delivers them\n", len(ids))
	return nil
}

func (m *Main) runAlertsTest(ctx context.Context, args []string) error {
	fs, common := m.newFlagSet("alerts test", "[--channel NAME]...",
		"Enqueues a test alert built from a sample report on each configured channel (or the ones\nnamed: email, webhook:0, …) and delivers it right away, printing the result.\n")
	var channels stringList
	fs.Var(&channels, "channel", "only this `channel` (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	env, err := m.openAlerts(ctx, common)
	if err != nil {
		return err
	}
	defer env.db.Close()
	results, err := env.sender.SendTest(ctx, channels)
	if err != nil {
		return err
	}
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			fmt.Fprintf(m.Stdout, "%s: FAILED (alert %d, delivery %s): %v\n", r.Channel, r.AlertID, r.DeliveryID, r.Err)
		} else {
			fmt.Fprintf(m.Stdout, "%s: delivered (alert %d, delivery %s)\n", r.Channel, r.AlertID, r.DeliveryID)
		}
	}
	if failed > 0 {
		return fmt.Errorf("alerts test: %d of %d channels failed; see `policywatch alerts list`", failed, len(results))
	}
	return nil
}

func (m *Main) runAlertsSend(ctx context.Context, args []string) error {
	fs, common := m.newFlagSet("alerts send", "",
		"Delivers every alert that is due now, once each; failures are retried later with backoff.\n")
	if err := parse(fs, args); err != nil {
		return err
	}
	env, err := m.openAlerts(ctx, common)
	if err != nil {
		return err
	}
	defer env.db.Close()
	sent, failed, err := env.sender.DrainOnce(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%d delivered, %d failed\n", sent, failed)
	return nil
}
