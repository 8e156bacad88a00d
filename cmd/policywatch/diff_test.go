package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/diffing"
)

// retentionChange is the demo's retention edit as a word diff in its clause.
var retentionChange = regexp.MustCompile(`Server logs are kept for \[-30[^\]]*-\]\{\+90[^}]*\+\}`)

// acmeHistory fetches the demo's Acme Cloud history from a fake archive:
// a baseline (last updated 2021-03-03), the same text again on 2022-01-05,
// and the new text (last updated 2022-06-14) first on 2022-07-01.
func acmeHistory(t *testing.T) *env {
	t.Helper()
	archive := waybacktest.New()
	t.Cleanup(archive.Close)
	archive.Add(acme("20210310081502", "acme-2021.html"), acme("20210922174411", "acme-2021.html"))
	e := newEnv(t, archive.URL)
	e.mustRun("fetch")
	archive.Add(acme("20220105093000", "acme-2021.html"), acme("20220701120505", "acme-2022.html"), acme("20220915064010", "acme-2022.html"))
	e.mustRun("fetch")
	return e
}

func wb(ts string) string { return "https://web.archive.org/web/" + ts + "id_/" + acmeURL }

func (e *env) report(args ...string) diffing.Report {
	e.t.Helper()
	out := e.mustRun(append([]string{"diff", "--vendor", "Acme Cloud", "--format", "json"}, args...)...)
	var r diffing.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		e.t.Fatalf("diff --format json is not a Report: %v\n%s", err, out)
	}
	return r
}

// TestDiffFormats runs `policywatch diff` on the latest change in each
// format, as a user would.
func TestDiffFormats(t *testing.T) {
	e := acmeHistory(t)
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, out string)
	}{
		{"json", []string{"--format", "json"}, func(t *testing.T, out string) {
			var r diffing.Report
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			want := diffing.Report{
				SchemaVersion: diffing.ReportSchemaVersion,
				Vendor:        "Acme Cloud",
				URL:           acmeURL,
				Old:           diffing.Side{Timestamp: "20210922174411", WaybackURL: wb("20210922174411"), StatedDate: "2021-03-03"},
				New:           diffing.Side{Timestamp: "20220701120505", WaybackURL: wb("20220701120505"), StatedDate: "2022-06-14"},
			}
			if r.SchemaVersion != want.SchemaVersion || r.Vendor != want.Vendor || r.URL != want.URL || r.Old != want.Old || r.New != want.New {
				t.Errorf("report = %+v %+v %+v, want %+v %+v %+v", r.Vendor, r.Old, r.New, want.Vendor, want.Old, want.New)
			}
			if r.Window == nil || r.Window.LastOld != (diffing.CaptureRef{Timestamp: "20220105093000", WaybackURL: wb("20220105093000")}) ||
				r.Window.FirstNew != (diffing.CaptureRef{Timestamp: "20220701120505", WaybackURL: wb("20220701120505")}) {
				t.Errorf("window = %+v, want 20220105093000 … 20220701120505", r.Window)
			}
			c := r.Change
			if !c.TextChanged || !c.DateChanged || c.OldDate != "2021-03-03" || c.NewDate != "2022-06-14" || !strings.Contains(c.Unified, "90 days") {
				t.Errorf("change = %+v", c)
			}
			if c.Kinds == nil || c.Clauses == nil || c.Severity.Reasons == nil {
				t.Errorf("a list is null in the JSON:\n%s", out)
			}
		}},
		{"html", []string{"--format", "html"}, func(t *testing.T, out string) {
			doc, err := html.Parse(strings.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			hrefs := map[string]bool{}
			var walk func(*html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.TextNode {
					text.WriteString(n.Data)
				}
				for _, a := range n.Attr {
					if a.Key == "href" {
						hrefs[a.Val] = true
					}
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
			if !strings.Contains(text.String(), "Acme Cloud") || !strings.Contains(text.String(), "2021-03-03 → 2022-06-14") {
				t.Errorf("the page lacks the vendor or the dates:\n%s", out)
			}
			for _, ts := range []string{"20210922174411", "20220701120505", "20220105093000"} {
				if !hrefs[wb(ts)] {
					t.Errorf("no link to %s; links: %v", wb(ts), hrefs)
				}
			}
		}},
		{"markdown", []string{"--format", "markdown"}, func(t *testing.T, out string) {
			if !strings.HasPrefix(out, "# Acme Cloud: policy change\n\n<"+acmeURL+">\n") ||
				!strings.Contains(out, "- **Stated date:** 2021-03-03 → 2022-06-14") ||
				!strings.Contains(out, "[2022-01-05 09:30:00 UTC](<"+wb("20220105093000")+">)") {
				t.Errorf("markdown:\n%s", out)
			}
		}},
		{"terminal, no colour", []string{"--color", "never"}, func(t *testing.T, out string) {
			if strings.Contains(out, "\x1b") {
				t.Errorf("ANSI codes with --color never:\n%q", out)
			}
			if !strings.HasPrefix(out, "Acme Cloud — "+acmeURL+"\n") || !strings.Contains(out, "stated date: 2021-03-03 → 2022-06-14") {
				t.Errorf("terminal output:\n%s", out)
			}
		}},
		{"terminal, colour", []string{"--color", "always"}, func(t *testing.T, out string) {
			if !strings.Contains(out, "\x1b[1mAcme Cloud\x1b[0m") {
				t.Errorf("no ANSI codes with --color always:\n%q", out)
			}
		}},
		{"terminal, auto into a pipe", nil, func(t *testing.T, out string) {
			if strings.Contains(out, "\x1b") {
				t.Errorf("colour when stdout is not a terminal:\n%q", out)
			}
		}},
		{"show cosmetic", []string{"--show-cosmetic"}, func(t *testing.T, out string) {
			if strings.Contains(out, "not shown") {
				t.Errorf("--show-cosmetic still hides changes:\n%s", out)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.check(t, e.mustRun(append([]string{"diff", "--vendor", "Acme Cloud"}, tt.args...)...))
		})
	}
}

// TestDiffFromTo: hand-picked sides get the window of the recorded change
// between them when there is one, and none otherwise.
func TestDiffFromTo(t *testing.T) {
	e := acmeHistory(t)
	tests := []struct {
		name           string
		from, to       string
		oldTS, newTS   string
		window         bool
		text, sameText bool
	}{
		{"years", "2021", "2022", "20210922174411", "20220701120505", true, true, false},
		{"to defaults to the latest", "20211231", "", "20210922174411", "20220701120505", true, true, false},
		{"same version", "20210922174411", "20220105093000", "20210922174411", "20210922174411", false, false, true},
		{"backwards", "2022", "2021", "20220701120505", "20210922174411", false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"--from", tt.from}
			if tt.to != "" {
				args = append(args, "--to", tt.to)
			}
			r := e.report(args...)
			if r.Old.Timestamp != tt.oldTS || r.New.Timestamp != tt.newTS {
				t.Errorf("sides %s → %s, want %s → %s", r.Old.Timestamp, r.New.Timestamp, tt.oldTS, tt.newTS)
			}
			if (r.Window != nil) != tt.window {
				t.Errorf("window = %+v, want present: %v", r.Window, tt.window)
			}
			if r.Window != nil && (r.Window.LastOld.Timestamp != "20220105093000" || r.Window.FirstNew.Timestamp != "20220701120505") {
				t.Errorf("window = %+v", r.Window)
			}
			if r.Change.TextChanged != tt.text {
				t.Errorf("text_changed = %v, want %v", r.Change.TextChanged, tt.text)
			}
			if tt.sameText {
				out := e.mustRun("diff", "--vendor", "Acme Cloud", "--from", tt.from, "--to", tt.to)
				if !strings.Contains(out, "No difference") || !strings.Contains(out, "change window: unknown") {
					t.Errorf("same version:\n%s", out)
				}
			}
		})
	}
}

func TestDiffErrors(t *testing.T) {
	archive := waybacktest.New()
	defer archive.Close()
	e := newEnv(t, archive.URL)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"diff", "--vendor", "Acme Cloud", "--format", "pdf"}, `--format "pdf": want one of terminal, markdown, html, json`},
		{[]string{"diff", "--vendor", "Acme Cloud", "--color", "sometimes"}, `--color "sometimes": want auto, always or never`},
		{[]string{"diff", "--vendor", "Acme Cloud", "--to", "2022"}, "--to needs --from"},
		{[]string{"diff"}, "--vendor NAME is required"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			_, _, err := e.run(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestColorWanted: auto colours a terminal unless NO_COLOR or TERM=dumb says
// otherwise. /dev/null stands in for the terminal: it is a character device.
func TestColorWanted(t *testing.T) {
	tty, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer tty.Close()
	pipe := &strings.Builder{}
	tests := []struct {
		mode string
		env  map[string]string
		w    io.Writer
		want bool
	}{
		{"auto", nil, tty, true},
		{"auto", map[string]string{"NO_COLOR": "1"}, tty, false},
		{"auto", map[string]string{"NO_COLOR": ""}, tty, true},
		{"auto", map[string]string{"TERM": "dumb"}, tty, false},
		{"auto", nil, pipe, false},
		{"always", map[string]string{"NO_COLOR": "1"}, pipe, true},
		{"never", nil, tty, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v %T", tt.mode, tt.env, tt.w), func(t *testing.T) {
			got, err := colorWanted(tt.mode, func(k string) string { return tt.env[k] }, tt.w)
			if err != nil || got != tt.want {
				t.Errorf("colorWanted = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}
