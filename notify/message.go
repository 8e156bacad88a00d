package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/store"
)

// Event types (the X-Policywatch-Event header and the envelope's "event").
const (
	EventPolicyChanged = "policy.changed"
	EventTest          = "test" // sent by `policywatch alerts test`
)

// EnvelopeVersion is the version of the webhook envelope (docs/alerts.md).
// Like the Report's, it changes only when a field is renamed, removed or
// changes meaning.
const EnvelopeVersion = 1

// Envelope is the JSON body of a "json" webhook: a diffing.Report (the
// contract of docs/changes.md) with what a receiver needs to de-duplicate
// and to tell a test from a real change. The body is the same on every
// retry of one alert, so its signature is too.
type Envelope struct {
	Version    int             `json:"envelope_version"`
	Event      string          `json:"event"`       // EventPolicyChanged or EventTest
	DeliveryID string          `json:"delivery_id"` // stable across retries: de-duplicate on it
	Channel    string          `json:"channel"`     // "webhook:0", …
	CreatedAt  string          `json:"created_at"`  // when the alert was enqueued, RFC 3339 UTC
	Summary    string          `json:"summary"`     // the email subject without its prefix
	Report     json.RawMessage `json:"report"`      // the diffing.Report, as stored
}

// alert is an outbox row with its payload decoded.
type alert struct {
	item   *store.OutboxItem
	report diffing.Report
	raw    json.RawMessage // the payload, compacted
}

func (a alert) event() string {
	if a.item.ChangeID == 0 {
		return EventTest
	}
	return EventPolicyChanged
}

// decodeAlert parses an outbox row's payload. A payload that is not a
// Report can never be delivered, so the caller dead-letters it.
func decodeAlert(it *store.OutboxItem) (alert, error) {
	a := alert{item: it}
	if err := json.Unmarshal(it.Payload, &a.report); err != nil {
		return a, fmt.Errorf("payload is not a report: %w", err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, it.Payload); err != nil {
		return a, fmt.Errorf("payload is not a report: %w", err)
	}
	a.raw = buf.Bytes()
	return a, nil
}

// Summary is one line saying what changed, e.g. "SE Ranking privacy policy
// changed — 3 clauses, silent change". It is built from archived text (the
// vendor name), so control characters, line breaks included, are replaced
// by spaces: it goes into mail headers and chat messages.
func Summary(r diffing.Report) string {
	var facts []string
	n := 0
	for _, c := range r.Change.Clauses {
		if !c.Cosmetic && !c.DateOnly {
			n++
		}
	}
	switch {
	case n == 1:
		facts = append(facts, "1 clause")
	case n > 1:
		facts = append(facts, fmt.Sprintf("%d clauses", n))
	}
	for _, k := range r.Change.Kinds {
		switch k {
		case diffing.KindSilent:
			facts = append(facts, "silent change")
		case diffing.KindDated:
			facts = append(facts, "stated date "+orNone(r.Change.NewDate))
		case diffing.KindDateOnly:
			facts = append(facts, "date-only change")
		case diffing.KindCosmetic:
			facts = append(facts, "cosmetic change")
		case diffing.KindFlipBack:
			facts = append(facts, "back to an earlier text")
		}
	}
	if l := r.Change.Severity.Level; l == diffing.LevelMedium || l == diffing.LevelHigh {
		facts = append(facts, l+" severity")
	}
	s := fmt.Sprintf("%s %s changed", r.Vendor, documentKind(r.URL))
	if len(facts) > 0 {
		s += " — " + strings.Join(facts, ", ")
	}
	return oneLine(s, 180)
}

// Subject is the email subject of one alert.
func Subject(r diffing.Report, test bool) string {
	if test {
		return "[policywatch] test alert: " + Summary(r)
	}
	return "[policywatch] " + Summary(r)
}

// documentKind guesses what the watched document is from its URL, for a
// subject a person can triage without opening the mail.
func documentKind(u string) string {
	l := strings.ToLower(u)
	switch {
	case strings.Contains(l, "cookie"):
		return "cookie policy"
	case strings.Contains(l, "privacy"), strings.Contains(l, "datenschutz"), strings.Contains(l, "confidentialite"):
		return "privacy policy"
	case strings.Contains(l, "terms"), strings.Contains(l, "tos"), strings.Contains(l, "conditions"), strings.Contains(l, "agb"):
		return "terms"
	}
	return "policy"
}

// oneLine replaces control and bidi-control characters with spaces,
// collapses runs of spaces and cuts s to at most limit runes, so archived
// text cannot start a new header line or reorder what a reader sees.
func oneLine(s string, limit int) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || unicode.IsSpace(r) {
			if !space && b.Len() > 0 {
				b.WriteByte(' ')
				n++
			}
			space = true
			continue
		}
		if n >= limit {
			return strings.TrimSpace(b.String()) + "…"
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// envelopeJSON is the body of a "json" webhook.
func envelopeJSON(a alert) ([]byte, error) {
	return json.Marshal(Envelope{
		Version:    EnvelopeVersion,
		Event:      a.event(),
		DeliveryID: a.item.DeliveryID,
		Channel:    a.item.Channel,
		CreatedAt:  a.item.CreatedAt.UTC().Format("2006-01-02T15:04:05Z07:00"),
		Summary:    Summary(a.report),
		Report:     a.raw,
	})
}

// slackEscape escapes the three characters Slack's mrkdwn treats as markup
// (https://api.slack.com/reference/surfaces/formatting#escaping), and
// flattens control characters.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(oneLine(s, 2900))
}

// slackLink is a mrkdwn link, or the escaped text alone when the URL is not
// a plain http(s) URL that Slack's <url|text> syntax can carry.
func slackLink(u, text string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || strings.ContainsAny(u, "<>| \t\r\n") {
		return slackEscape(text)
	}
	return "<" + strings.ReplaceAll(u, "&", "&amp;") + "|" + slackEscape(text) + ">"
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

// maxSlackClauses bounds the clause list: Slack rejects messages with more
// than 50 blocks, and a chat message is a pointer to the full report anyway.
const maxSlackClauses = 10

// slackJSON is the body of a "slack" webhook.
func slackJSON(a alert) ([]byte, error) {
	r := a.report
	summary := Summary(r)
	if a.event() == EventTest {
		summary = "Test alert from policywatch: " + summary
	}
	section := func(s string) slackBlock {
		return slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: s}}
	}
	blocks := []slackBlock{section("*" + slackLink(r.URL, oneLine(r.Vendor, 200)) + "* — " + slackEscape(strings.TrimPrefix(summary, r.Vendor+" ")))}
	facts := []string{fmt.Sprintf("*Stated date:* %s → %s", slackEscape(orNone(r.Old.StatedDate)), slackEscape(orNone(r.New.StatedDate))),
		fmt.Sprintf("*Versions:* %s → %s", slackLink(r.Old.WaybackURL, orNone(r.Old.Timestamp)), slackLink(r.New.WaybackURL, orNone(r.New.Timestamp)))}
	if r.Change.Severity.Level != "" {
		facts = append(facts, "*Severity:* "+slackEscape(r.Change.Severity.Level))
		for _, reason := range r.Change.Severity.Reasons {
			facts = append(facts, "• "+slackEscape(reason))
		}
	}
	blocks = append(blocks, section(strings.Join(facts, "\n")))
	shown := 0
	for _, c := range r.Change.Clauses {
		if c.Cosmetic {
			continue
		}
		if shown == maxSlackClauses {
			blocks = append(blocks, section(fmt.Sprintf("_…and more clauses: see the full report_")))
			break
		}
		shown++
		path := c.Path
		if path == "" {
			path = c.OldPath
		}
		text := c.New
		if text == "" {
			text = c.Old
		}
		blocks = append(blocks, section(fmt.Sprintf("*%s* %s\n>%s", slackEscape(c.Op), slackEscape(orNone(path)), slackEscape(excerpt(text, 280)))))
	}
	blocks = append(blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: "delivery " + slackEscape(a.item.DeliveryID)}}})
	return json.Marshal(struct {
		Text   string       `json:"text"`
		Blocks []slackBlock `json:"blocks"`
	}{Text: slackEscape(summary), Blocks: blocks})
}

func excerpt(s string, limit int) string {
	s = oneLine(s, limit)
	return s
}
