package main

import (
	"context"
	"embed"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/policywatch/policywatch/crawler/waybacktest"
)

// demoPages are archived-style pages written for the demo: fictional vendors
// modelled on real policy pages (a modern div layout with navigation, cookie
// banner and testimonials; a 2006 table layout in windows-1252; a JavaScript
// shell that holds no policy text).
//
//go:embed testdata/demo/*.html
var demoPages embed.FS

func demoPage(name string) []byte {
	b, err := demoPages.ReadFile("testdata/demo/" + name)
	if err != nil {
		panic("demo page missing from the binary: " + name) // a build defect, not a user error
	}
	return b
}

// demoVendors are the vendors of the demo config.
var demoVendors = []struct{ name, url string }{
	{"Acme Cloud", "https://www.acme-cloud.example/legal/privacy"},
	{"Globex Analytics", "http://www.globex.example/privacy.html"},
	{"Initech", "https://initech.example/privacy"},
}

// demoRound returns the captures the replay archive holds before the first
// and before the second fetch.
func demoRound(round int) []waybacktest.Capture {
	html := http.Header{"Content-Type": {"text/html"}}
	utf8 := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	acme21 := demoPage("acme-2021.html")
	// The same text with another cache-busting token: a new digest, same policy.
	acme21b := []byte(strings.Replace(string(acme21), "CSRF_TOKEN", "a81f03", 1))
	if round == 1 {
		return []waybacktest.Capture{
			{Timestamp: "20210310081502", URL: "https://www.acme-cloud.example/legal/privacy", Header: utf8, Body: acme21},
			{Timestamp: "20210922174411", URL: "https://acme-cloud.example/legal/privacy", Header: utf8, Body: acme21b},
			{Timestamp: "20060713102233", URL: "http://www.globex.example:80/privacy.html", Header: html, Body: demoPage("globex-2006.html")},
			{Timestamp: "20070105000000", URL: "http://globex.example/privacy.html", Header: html, Body: demoPage("globex-2006.html")},
			{Timestamp: "20200301120000", URL: "https://initech.example/privacy", Header: utf8, Body: demoPage("initech-2020.html")},
		}
	}
	return []waybacktest.Capture{
		{Timestamp: "20220105093000", URL: "https://www.acme-cloud.example/legal/privacy", Header: utf8, Body: acme21},
		{Timestamp: "20220701120505", URL: "https://www.acme-cloud.example/legal/privacy", Header: utf8, Body: demoPage("acme-2022.html")},
		{Timestamp: "20220915064010", URL: "https://www.acme-cloud.example/legal/privacy", Header: utf8, Body: demoPage("acme-2022.html")},
		{Timestamp: "20080211153000", URL: "http://www.globex.example/privacy.html", Header: html, Body: demoPage("globex-2006.html")},
		{Timestamp: "20210601000000", URL: "https://initech.example/privacy", Header: utf8, Body: demoPage("initech-shell.html")},
		{Timestamp: "20210901000000", URL: "https://initech.example/privacy", Status: http.StatusMovedPermanently,
			RedirectTo: "https://initech.example/legal/privacy-notice", Header: http.Header{"Location": {"https://initech.example/legal/privacy-notice"}}},
	}
}

func (m *Main) runDemo(ctx context.Context, args []string) error {
	fs, _ := m.newFlagSet("demo", "[--dir DIR] [--serve [--listen ADDR]]",
		`Runs the whole pipeline offline: serves a built-in replay of archived
captures of three fictional vendors on 127.0.0.1, runs fetch twice against it
(new captures appear in between, one of which changes the policy text and its
"last updated" date), and prints the versions and the diff a user would see.
With --serve it then serves the web dashboard over the demo's database until
Ctrl-C. Nothing leaves this machine.
`)
	dir := fs.String("dir", "", "keep the demo's config and database in this `directory` (default: a temporary one, removed afterwards)")
	serve := fs.Bool("serve", false, "then serve the dashboard (policywatch serve) until Ctrl-C")
	listen := fs.String("listen", "127.0.0.1:8080", "with --serve: the loopback `address` to serve on")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "policywatch-demo-")
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	} else if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	archive := waybacktest.New()
	defer archive.Close()
	archive.Add(demoRound(1)...)

	cfgPath := filepath.Join(*dir, "policywatch.yaml")
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "# Written by `policywatch demo`: points at the demo's replay archive.\n")
	fmt.Fprintf(&cfg, "database: policywatch.db\nwayback:\n  url: %s\n  cdx_rate: 50\n  playback_rate: 50\n  retry_backoff: 50ms\n  pause_on_429: 1s\nvendors:\n", archive.URL)
	for _, v := range demoVendors {
		fmt.Fprintf(&cfg, "  - name: %s\n    url: %s\n", v.name, v.url)
	}
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	step := func(title string, args ...string) error {
		fmt.Fprintf(m.Stdout, "\n### %s\n$ policywatch %s\n", title, strings.Join(quoteArgs(args), " "))
		return m.Run(ctx, append(args, "--config", cfgPath, "--log-level", "warn"))
	}
	fmt.Fprintf(m.Stdout, "Replay archive on %s with %d captures; working directory %s\n", archive.URL, len(demoRound(1)), *dir)
	if err := step("First pass: each vendor's newest capture becomes its baseline", "fetch"); err != nil {
		return err
	}
	archive.Add(demoRound(2)...)
	fmt.Fprintf(m.Stdout, "\n(the archive now holds %d more captures)\n", len(demoRound(2)))
	if err := step("Second pass: every newer capture, oldest first", "fetch"); err != nil {
		return err
	}
	if err := step("The distinct versions of Acme Cloud's policy", "versions", "--vendor", "Acme Cloud"); err != nil {
		return err
	}
	if err := step("What changed", "diff", "--vendor", "Acme Cloud"); err != nil {
		return err
	}
	if *serve {
		fmt.Fprintf(m.Stdout, "\n### The dashboard\n$ policywatch serve --listen %s\n", *listen)
		return m.Run(ctx, []string{"serve", "--config", cfgPath, "--listen", *listen, "--log-level", "warn"})
	}
	fmt.Fprintf(m.Stdout, "\nSee a whole version with:\n  policywatch show --vendor \"Acme Cloud\" --config %s\n(run the demo with --dir to keep its files, or with --serve to browse them)\n", cfgPath)
	return nil
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t") {
			a = `"` + a + `"`
		}
		out[i] = a
	}
	return out
}
