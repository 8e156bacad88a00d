package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/policywatch/policywatch/diffing"
)

func TestParseConfig(t *testing.T) {
	env := map[string]string{"UA": "policywatch-test/1 (+mailto:ops@example.com)"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name string
		yaml string
		want string // substring of the error; "" means valid
	}{
		{"minimal", "vendors:\n  - name: A\n    url: https://a.example/privacy\n", ""},
		{"env", "wayback:\n  user_agent: ${UA}\n", ""},
		{"unknown key names its line", "database: x.db\nwayback:\n  urll: https://x\n", "line 3: field urll not found"},
		{"missing env", "wayback:\n  user_agent: ${NOPE}\n", "NOPE"},
		{"bad wayback url", "wayback:\n  url: web.archive.org\n", "wayback.url"},
		{"zero rate", "wayback:\n  cdx_rate: 0\n", "wayback.cdx_rate"},
		{"bad duration", "wayback:\n  retry_backoff: soon\n", "line 2: cannot unmarshal !!str `soon` into time.Duration"},
		{"env in a comment is left alone", "# set ${NOT_SET} here\ndatabase: x.db\n", ""},
		{"env value with yaml syntax stays a value", "wayback:\n  user_agent: \"${UA}\"\n", ""},
		{"vendor without url", "vendors:\n  - name: A\n", "vendors[0] (A): url"},
		{"duplicate vendor", "vendors:\n  - {name: A, url: 'https://a.example/'}\n  - {name: a, url: 'https://b.example/'}\n", "used twice"},
		{"selectors", "vendors:\n  - name: A\n    url: https://a.example/\n    select: main .policy\n    remove:\n      - .cookie\n      - {start_before: '#faq', end_before: footer}\n", ""},
		{"half a range", "vendors:\n  - name: A\n    url: https://a.example/\n    select:\n      - {start_before: h1}\n", "line 5: a range selector needs exactly one of end_before / end_after"},
		{"invalid css", "vendors:\n  - name: A\n    url: https://a.example/\n    select: 'div[class'\n", "vendors[0] (A): select[0]"},
		{"key terms", "key_terms:\n  - {topic: retention, phrases: [retain, retention, deleted after], weight: 5}\n  - {topic: vendor lock-in, phrases: [exclusive], weight: 2}\n", ""},
		{"key term without phrases", "key_terms:\n  - {topic: retention, weight: 5}\n", "key_terms[0] (retention): phrases"},
		{"every problem at once", "wayback:\n  cdx_rate: -1\n  playback_rate: 0\n", "playback_rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ParseConfig(strings.NewReader(tt.yaml), getenv)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tt.name == "selectors" {
					vs, _ := cfg.MonitorVendors(nil)
					o := vs[0].Options
					if len(o.Select) != 1 || o.Select[0].CSS != "main .policy" || len(o.Remove) != 2 || o.Remove[1].StartBefore != "#faq" || o.Remove[1].EndBefore != "footer" {
						t.Fatalf("options = %+v", o)
					}
				}
				if tt.name == "env" && cfg.Wayback.UserAgent != env["UA"] {
					t.Fatalf("user_agent = %q, want it expanded from the environment", cfg.Wayback.UserAgent)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader(""), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Wayback
	if cfg.Database != "policywatch.db" || w.URL != "https://web.archive.org" || w.CDXRate != 0.4 || w.PlaybackRate != 1 ||
		w.RetryBackoff != 2*time.Second || w.PauseOn429 != time.Minute || w.MaxBodySize != 20<<20 {
		t.Fatalf("defaults = %+v", cfg)
	}
}

// The database path is relative to the config file, so cron jobs work from
// any directory.
func TestReadConfigResolvesDatabasePath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pw.yaml")
	os.WriteFile(path, []byte("database: data/pw.db\n"), 0o644)
	cfg, err := ReadConfig(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database != filepath.Join(dir, "data", "pw.db") {
		t.Fatalf("database = %q", cfg.Database)
	}
	if _, err := ReadConfig(filepath.Join(dir, "missing.yaml"), func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Fatalf("missing config error = %v, want a hint about --config", err)
	}
}

// The shipped example config must stay valid.
func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := ReadConfig(filepath.Join("..", "..", "policywatch.example.yaml"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Vendors) < 4 {
		t.Fatalf("example config has %d vendors, want at least the four seed vendors", len(cfg.Vendors))
	}
}

func TestConfigTermsMergeWithDefaults(t *testing.T) {
	cfg, err := ParseConfig(strings.NewReader("key_terms:\n  - {topic: Retention, phrases: [keep], weight: 9}\n  - {topic: lock-in, phrases: [exclusive], weight: 2}\n"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	defaults := []diffing.Term{{Topic: "retention", Phrases: []string{"retain"}, Weight: 3}, {Topic: "children", Phrases: []string{"child"}, Weight: 4}}
	got := cfg.Terms(defaults)
	if len(got) != 3 || got[0].Weight != 9 || got[0].Phrases[0] != "keep" || got[1].Topic != "children" || got[2].Topic != "lock-in" {
		t.Fatalf("Terms = %+v", got)
	}
	if defaults[0].Weight != 3 {
		t.Fatal("Terms changed the defaults it was given")
	}
}
