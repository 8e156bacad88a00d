package web_test

// End-to-end tests of the dashboard in headless Chromium: a user's walk
// through the pages, a phone's viewport, the keyboard and the structure
// assistive technology reads, and archived text written to run script.
//
// They skip when no Chromium is installed (apt-get install chromium, or
// POLICYWATCH_CHROMIUM), except in CI (CI set), where .ci/run installs it,
// so that they cannot silently skip there. Screenshots of every page visited
// go to $POLICYWATCH_TEST_OUTPUT/browser, or test-output/browser at the
// repository root.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/policywatch/policywatch/store"
)

// browserTimeout bounds one test function's browser: its start, every page
// and its shutdown.
const browserTimeout = 60 * time.Second

// chromiumNames are the commands looked for on PATH when
// POLICYWATCH_CHROMIUM is not set.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome"}

// findChromium returns the browser to run: $POLICYWATCH_CHROMIUM (a path or
// a command name) when set, else the first of chromiumNames on PATH.
func findChromium(getenv func(string) string, lookPath func(string) (string, error)) (string, error) {
	if p := getenv("POLICYWATCH_CHROMIUM"); p != "" {
		path, err := lookPath(p)
		if err != nil {
			return "", fmt.Errorf("POLICYWATCH_CHROMIUM=%s is not an executable: %v", p, err)
		}
		return path, nil
	}
	for _, name := range chromiumNames {
		if path, err := lookPath(name); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("none of %s is on PATH and POLICYWATCH_CHROMIUM is not set", strings.Join(chromiumNames, ", "))
}

// chromiumMissing says what a browser test does when findChromium failed
// with err: in CI (ci non-empty) it fails, since .ci/run installs Chromium;
// elsewhere it skips.
func chromiumMissing(ci string, err error) (fail bool, msg string) {
	if ci != "" {
		return true, fmt.Sprintf("headless Chromium not found (%v), and CI=%s: .ci/run should have installed Debian's chromium package before the tests; the browser tests must not skip in CI", err, ci)
	}
	return false, fmt.Sprintf("headless Chromium not found (%v): install Debian's chromium package (apt-get install chromium) or set POLICYWATCH_CHROMIUM; CI runs these tests", err)
}

// requireChromium returns the browser's path, or ends the test as
// chromiumMissing says.
func requireChromium(t *testing.T) string {
	t.Helper()
	path, err := findChromium(os.Getenv, exec.LookPath)
	if err != nil {
		if fail, msg := chromiumMissing(os.Getenv("CI"), err); fail {
			t.Fatal(msg)
		} else {
			t.Skip(msg)
		}
	}
	return path
}

func TestBrowserFindChromium(t *testing.T) {
	installed := map[string]string{"chromium-browser": "/usr/bin/chromium-browser", "/opt/chrome/chrome": "/opt/chrome/chrome"}
	lookPath := func(name string) (string, error) {
		if p, ok := installed[name]; ok {
			return p, nil
		}
		return "", exec.ErrNotFound
	}
	for _, tc := range []struct {
		name, env, want, wantErr string
	}{
		{name: "on PATH", want: "/usr/bin/chromium-browser"},
		{name: "env path", env: "/opt/chrome/chrome", want: "/opt/chrome/chrome"},
		{name: "env missing", env: "/nowhere/chromium", wantErr: "POLICYWATCH_CHROMIUM=/nowhere/chromium is not an executable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "POLICYWATCH_CHROMIUM" {
					return tc.env
				}
				return ""
			}
			got, err := findChromium(getenv, lookPath)
			if got != tc.want || (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("findChromium = %q, %v; want %q, error containing %q", got, err, tc.want, tc.wantErr)
			}
		})
	}
	_, err := findChromium(func(string) string { return "" }, func(string) (string, error) { return "", exec.ErrNotFound })
	if err == nil || !strings.Contains(err.Error(), "chromium, chromium-browser, google-chrome") {
		t.Errorf("nothing installed: error %v, want one naming the commands looked for", err)
	}
	for _, tc := range []struct {
		ci       string
		wantFail bool
		want     string
	}{
		{"", false, "install Debian's chromium package (apt-get install chromium) or set POLICYWATCH_CHROMIUM; CI runs these tests"},
		{"true", true, ".ci/run should have installed"},
	} {
		fail, msg := chromiumMissing(tc.ci, err)
		if fail != tc.wantFail || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "headless Chromium not found") {
			t.Errorf("chromiumMissing(CI=%q) = %v, %q; want %v and a message containing %q", tc.ci, fail, msg, tc.wantFail, tc.want)
		}
	}
}

// screenshotDir is where screenshots go: $POLICYWATCH_TEST_OUTPUT/browser,
// or test-output/browser at the repository root.
func screenshotDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("POLICYWATCH_TEST_OUTPUT")
	if root == "" {
		root = filepath.Join("..", "test-output")
	}
	dir, err := filepath.Abs(filepath.Join(root, "browser"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// browser is one headless Chromium with one tab, for one test function. It
// records every JavaScript dialog (and dismisses it, so nothing hangs) and
// everything the page writes to the console, in the order the browser sends
// them: an event that arrives before the reply to a command is recorded
// before that command returns.
type browser struct {
	t     *testing.T
	ctx   context.Context // the tab
	base  string          // the dashboard's address
	shots string          // the screenshot folder

	mu       sync.Mutex
	dialogs  []string
	problems []string
	notes    []string        // reported once, at the end, not failures
	output   strings.Builder // Chromium's stdout and stderr, chromedp's errors
}

// newBrowser starts Chromium at a desktop size for the dashboard at base.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	exe := requireChromium(t)
	b := &browser{t: t, base: base, shots: screenshotDir(t)}
	profile := t.TempDir() // removed after the browser has exited: cleanups run last first
	ctx, cancelTimeout := context.WithTimeout(context.Background(), browserTimeout)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// The machines' network is closed: without these Chromium's own
		// connections are refused, many at a time.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Back and forward reload the page, so that NavigateBack sees a load
		// event (a page restored from the back-forward cache fires none).
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,BackForwardCache"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(writerFunc(b.log)),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx,
		chromedp.WithListener(b.listen),
		chromedp.WithErrorf(func(format string, args ...any) { b.log([]byte("chromedp: " + fmt.Sprintf(format, args...) + "\n")) }),
	)
	b.mu.Lock()
	b.ctx = tab
	b.mu.Unlock()
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for Chromium to exit
		cancelTimeout()
		b.mu.Lock()
		for _, n := range slices.Compact(b.notes) {
			t.Logf("note: %s", n)
		}
		b.mu.Unlock()
		if t.Failed() {
			b.mu.Lock()
			t.Logf("Chromium's output:\n%s", b.output.String())
			b.mu.Unlock()
		}
	})
	start := time.Now()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 900)); err != nil {
		b.mu.Lock()
		out := b.output.String()
		b.mu.Unlock()
		t.Fatalf("start %s: %v\n%s", exe, err, out)
	}
	t.Logf("%s started in %v", exe, time.Since(start).Round(time.Millisecond))
	return b
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

func (b *browser) log(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.output.Len() < 1<<20 {
		b.output.Write(p)
	}
	return len(p), nil
}

// listen runs in the tab's event loop: it must return fast and run no
// command, so a dialog is dismissed from another goroutine.
func (b *browser) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *page.EventJavascriptDialogOpening:
		b.dialogs = append(b.dialogs, fmt.Sprintf("%s(%q) on %s", ev.Type, ev.Message, ev.URL))
		tab := b.ctx
		go chromedp.Call(tab, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false}) //nolint:errcheck // the tab may be gone
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		b.problems = append(b.problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, text))
	case *runtime.EventConsoleAPICalled:
		var args []string
		for _, a := range ev.Args {
			switch {
			case len(a.Value) > 0:
				var str string
				if json.Unmarshal(a.Value, &str) == nil {
					args = append(args, str)
				} else {
					args = append(args, string(a.Value))
				}
			case a.Description != "":
				args = append(args, a.Description)
			default:
				args = append(args, string(a.Type))
			}
		}
		b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		if e.Source == cdplog.EntrySourceNetwork && strings.HasSuffix(e.URL, "/favicon.ico") {
			// The browser asks for /favicon.ico by itself; the page did not.
			b.notes = append(b.notes, fmt.Sprintf("%s: %s", e.URL, e.Text))
			return
		}
		b.problems = append(b.problems, fmt.Sprintf("browser log (%s, %s) %s: %s", e.Level, e.Source, e.URL, e.Text))
	}
}

// take returns and forgets the dialogs and console messages recorded so far.
// It first makes a round trip to the tab, so that every event sent before
// now has been recorded.
func (b *browser) take() (dialogs, problems []string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`1`)); err != nil {
		b.t.Fatalf("round trip to the tab: %v", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	dialogs, problems = b.dialogs, b.problems
	b.dialogs, b.problems = nil, nil
	return dialogs, problems
}

// quiet fails the test for every dialog that opened and everything written
// to the console since the last check. The dashboard runs no script and its
// CSP forbids all, so there should be nothing at all, not even a CSP report.
func (b *browser) quiet(where string) {
	b.t.Helper()
	dialogs, problems := b.take()
	for _, d := range dialogs {
		b.t.Errorf("%s: a JavaScript dialog opened: %s", where, d)
	}
	for _, p := range problems {
		b.t.Errorf("%s: %s", where, p)
	}
}

// open loads path and returns the HTTP status of the document.
func (b *browser) open(path string) int64 {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("load %s: %v", path, err)
	}
	return resp.Status
}

// load loads path and fails the test unless it answers 200.
func (b *browser) load(path string) {
	b.t.Helper()
	if status := b.open(path); status != http.StatusOK {
		b.t.Fatalf("GET %s: status %d, want 200%s", path, status, notYetHint(status))
	}
}

func notYetHint(status int64) string {
	if status == http.StatusNotImplemented {
		return " (the page handlers are still stubs: web/stubs_pages.go)"
	}
	return ""
}

// follow clicks the element sel selects (a CSS selector for chromedp.CSS,
// an XPath for chromedp.Search), waits for the page that loads and fails the
// test unless it answers 200.
func follow[S chromedp.Selectable](b *browser, sel S) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(sel))
	if err != nil {
		b.t.Fatalf("click %v: %v", sel, err)
	}
	if resp.Status != http.StatusOK {
		b.t.Fatalf("click %v: loaded %s with status %d, want 200", sel, resp.URL, resp.Status)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("evaluate %.60q…: %v", js, err)
	}
	return v
}

// where is the page's path and query, as the address bar shows them.
func (b *browser) where() string {
	b.t.Helper()
	return eval[string](b, `location.pathname + location.search`)
}

// text is the visible text of the elements sel selects, joined by newlines,
// as document.body.innerText renders it ("" when none match).
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, `Array.from(document.querySelectorAll(`+jsString(sel)+`), e => e.innerText).join("\n")`)
}

// count is how many elements sel selects.
func (b *browser) count(sel string) int {
	b.t.Helper()
	return eval[int](b, `document.querySelectorAll(`+jsString(sel)+`).length`)
}

// hrefs are the href attributes of the elements sel selects, as written.
func (b *browser) hrefs(sel string) []string {
	b.t.Helper()
	return eval[[]string](b, `Array.from(document.querySelectorAll(`+jsString(sel)+`), e => e.getAttribute("href"))`)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "<", `\x3c`)
	return `"` + r.Replace(s) + `"`
}

// shot saves a full-page PNG screenshot as name in the screenshot folder.
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// inspect saves a screenshot of the page (when shot is not empty) and runs
// the checks every page must pass: nothing on the console, no dialog, the
// structure accessibility needs, and no active content.
func (b *browser) inspect(where, shot string) {
	b.t.Helper()
	if shot != "" {
		b.shot(shot)
	}
	b.quiet(where)
	for _, p := range eval[[]string](b, accessibilityJS) {
		b.t.Errorf("%s: accessibility: %s", where, p)
	}
	for _, p := range eval[[]string](b, inertJS) {
		b.t.Errorf("%s: active content: %s", where, p)
	}
}

// accessibilityJS lists what a page lacks for keyboard and screen-reader
// users: one h1, a language, alt text, labelled form controls, unique ids,
// link text.
const accessibilityJS = `(() => {
	const p = [];
	const h1 = document.querySelectorAll("h1");
	if (h1.length !== 1) p.push(h1.length + " h1 elements, want exactly one");
	const lang = document.documentElement.getAttribute("lang");
	if (!lang || !lang.trim()) p.push("<html> has no lang attribute");
	if (!document.title.trim()) p.push("the page has no <title>");
	for (const img of document.querySelectorAll("img")) {
		if (!img.hasAttribute("alt")) p.push("<img src=" + JSON.stringify(img.getAttribute("src")) + "> has no alt attribute");
	}
	const controls = document.querySelectorAll("input:not([type=hidden]):not([type=submit]):not([type=button]):not([type=reset]):not([type=image]), select, textarea");
	for (const c of controls) {
		const byFor = c.id && document.querySelector("label[for=" + JSON.stringify(c.id) + "]");
		if (!byFor && !c.closest("label")) p.push("<" + c.localName + " name=" + JSON.stringify(c.name) + " id=" + JSON.stringify(c.id) + "> has no label (no label[for] names its id and no label holds it)");
	}
	for (const l of document.querySelectorAll("label[for]")) {
		const target = document.getElementById(l.htmlFor);
		if (!target) p.push("<label for=" + JSON.stringify(l.htmlFor) + "> names no element");
		else if (!target.matches("input, select, textarea, button, meter, output, progress")) p.push("<label for=" + JSON.stringify(l.htmlFor) + "> names a <" + target.localName + ">, not a form control");
	}
	const ids = new Map();
	for (const e of document.querySelectorAll("[id]")) ids.set(e.id, (ids.get(e.id) || 0) + 1);
	for (const [id, n] of ids) if (n > 1) p.push("id " + JSON.stringify(id) + " is used " + n + " times");
	for (const a of document.querySelectorAll("a[href]")) {
		if (!a.innerText.trim() && !a.getAttribute("aria-label") && !a.querySelector("img[alt]:not([alt=''])")) p.push("<a href=" + JSON.stringify(a.getAttribute("href")) + "> has no text");
	}
	return p;
})()`

// inertJS lists everything on the page that could run script or load from
// elsewhere: script elements, event-handler attributes, links and sources
// with a scheme other than http, https or mailto, frames, embedded objects,
// a base element, a meta refresh, and style elements in the body (archived
// CSS could hide or fake the page).
const inertJS = `(() => {
	const p = [];
	const show = e => "<" + e.localName + (e.id ? "#" + e.id : "") + ">";
	if (document.scripts.length) p.push(document.scripts.length + " script elements, e.g. " + document.scripts[0].outerHTML.slice(0, 120));
	for (const e of document.querySelectorAll("*")) {
		for (const a of e.attributes) {
			if (a.name.toLowerCase().startsWith("on")) p.push(show(e) + " has the event-handler attribute " + a.name + "=" + JSON.stringify(a.value));
		}
	}
	const allowed = ["http:", "https:", "mailto:"];
	const check = (e, attr) => {
		const raw = e.getAttribute(attr);
		const m = /^[\s\u0000-\u001f]*([a-zA-Z][a-zA-Z0-9+.\-]*):/.exec(raw);
		if (m && !allowed.includes(m[1].toLowerCase() + ":")) { p.push(show(e) + " " + attr + "=" + JSON.stringify(raw) + " uses the scheme " + m[1]); return; }
		let scheme;
		try { scheme = new URL(raw, document.baseURI).protocol; } catch (err) { scheme = "invalid"; }
		if (!allowed.includes(scheme)) p.push(show(e) + " " + attr + "=" + JSON.stringify(raw) + " resolves to the scheme " + scheme);
	};
	for (const e of document.querySelectorAll("[href]")) if (e.localName !== "link") check(e, "href");
	for (const e of document.querySelectorAll("link[href]")) check(e, "href");
	for (const e of document.querySelectorAll("[src]")) check(e, "src");
	for (const e of document.querySelectorAll("[action]")) check(e, "action");
	for (const e of document.querySelectorAll("[formaction]")) check(e, "formaction");
	for (const e of document.querySelectorAll("[srcdoc], [xlink\\:href]")) p.push(show(e) + " has srcdoc or xlink:href");
	for (const e of document.querySelectorAll("iframe, frame, object, embed, base, applet, portal")) p.push("a " + show(e) + " element");
	for (const e of document.querySelectorAll("meta[http-equiv]")) if (e.httpEquiv.toLowerCase() === "refresh") p.push("a meta refresh");
	for (const e of document.querySelectorAll("body style")) p.push("a <style> element in the body: " + JSON.stringify(e.textContent.slice(0, 80)));
	if (getComputedStyle(document.body).display === "none" || getComputedStyle(document.body).visibility === "hidden") p.push("the body is hidden");
	return p;
})()`

// provokeJS fires, on every element, the events an injected handler would
// wait for (hover, focus, load and error), so that a handler that got into
// the page would run now.
const provokeJS = `(() => {
	let n = 0;
	for (const e of document.querySelectorAll("body *")) {
		for (const type of ["mouseover", "mouseenter", "mousemove", "pointerover", "pointerenter"]) e.dispatchEvent(new MouseEvent(type, {bubbles: true}));
		for (const type of ["focus", "focusin", "load", "error", "animationstart", "transitionend", "toggle"]) e.dispatchEvent(new Event(type, {bubbles: true}));
		if (typeof e.focus === "function") e.focus();
		n++;
	}
	if (document.activeElement) document.activeElement.blur();
	return n;
})()`

// overflow is what overflowJS measures of the document's width.
type overflow struct {
	Viewport    bool     `json:"viewport"` // a meta viewport sets width=device-width
	DeviceWidth int      `json:"deviceWidth"`
	InnerWidth  int      `json:"innerWidth"`
	ScrollWidth int      `json:"scrollWidth"`
	Offenders   []string `json:"offenders"`
}

// overflowJS measures the document against the screen's width (on a phone,
// Chromium widens the layout viewport, innerWidth, to fit content that
// overflows, and zooms out) and, when it is wider, names the elements that
// stick out furthest.
const overflowJS = `(() => {
	const w = screen.width, sw = document.documentElement.scrollWidth;
	const meta = document.querySelector("meta[name=viewport]");
	const viewport = !!meta && /width\s*=\s*device-width/.test(meta.content);
	const offenders = [];
	if (sw > w + 1) {
		const all = Array.from(document.querySelectorAll("body *")).map(e => [e, e.getBoundingClientRect().right + window.scrollX]).filter(x => x[1] > w + 1);
		all.sort((a, b) => b[1] - a[1]);
		for (const [e, right] of all.slice(0, 5)) {
			const cls = e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "";
			offenders.push("<" + e.localName + (e.id ? "#" + e.id : "") + cls + "> reaches " + Math.round(right) + "px: " + JSON.stringify((e.innerText || "").slice(0, 60)));
		}
	}
	return {viewport: viewport, deviceWidth: w, innerWidth: window.innerWidth, scrollWidth: sw, offenders: offenders};
})()`

// focused describes the element that has the keyboard focus.
type focused struct {
	Tag    string `json:"tag"`
	Text   string `json:"text"`
	Href   string `json:"href"`
	Target bool   `json:"target"` // the href's #fragment names an element
}

const focusedJS = `(() => {
	const e = document.activeElement;
	const href = e.getAttribute("href") || "";
	const target = href.startsWith("#") && href.length > 1 && document.getElementById(decodeURIComponent(href.slice(1))) !== null;
	return {tag: e.localName, text: (e.innerText || e.textContent || "").trim(), href: href, target: target};
})()`

// TestBrowserHarness proves that the checks the other browser tests rely on
// see what they look for: on a page with no CSP that runs script, a dialog
// is recorded and dismissed (the page does not hang), console errors and
// exceptions are recorded, the active-content check names the script, the
// handler and the javascript: link, the contrast check names faint text,
// hovering runs an injected handler, and the phone check sees the overflow.
func TestBrowserHarness(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html lang="en"><head><title>harness</title></head><body>
<h1>Harness</h1><div style="width:2000px">wide</div><p style="color: #bbb">faint text</p>
<p><a id="hover" href="javascript:void(0)" onmouseover="alert('hover')">hover me</a></p>
<script>console.error("boom-console"); alert("boom-alert");</script>
<script>throw new Error("boom-exception")</script>
</body></html>`)
	}))
	t.Cleanup(srv.Close)
	b := newBrowser(t, srv.URL)
	start := time.Now()

	b.load("/")
	dialogs, problems := b.take()
	if len(dialogs) != 1 || !strings.Contains(dialogs[0], "boom-alert") {
		t.Errorf("dialogs = %q, want the one alert", dialogs)
	}
	all := strings.Join(problems, "\n")
	for _, want := range []string{"console.error: boom-console", "exception", "boom-exception"} {
		if !strings.Contains(all, want) {
			t.Errorf("console messages %q lack %q", problems, want)
		}
	}
	inert := strings.Join(eval[[]string](b, inertJS), "\n")
	for _, want := range []string{"script elements", "onmouseover", "scheme javascript"} {
		if !strings.Contains(inert, want) {
			t.Errorf("active-content check said %q, want it to name %q", inert, want)
		}
	}
	if got := strings.Join(eval[[]string](b, contrastJS), "\n"); !strings.Contains(got, "faint text") || strings.Contains(got, "Harness") {
		t.Errorf("contrast check said %q, want the faint text named and not the h1", got)
	}
	eval[int](b, provokeJS)
	if dialogs, _ := b.take(); len(dialogs) != 1 || !strings.Contains(dialogs[0], "hover") {
		t.Errorf("after the hover: dialogs = %q, want the hover alert", dialogs)
	}
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		t.Fatal(err)
	}
	b.load("/")
	b.take()
	if o := eval[overflow](b, overflowJS); o.ScrollWidth <= o.DeviceWidth+1 || len(o.Offenders) == 0 || o.Viewport {
		t.Errorf("overflow check = %+v, want the 2000px div named and no meta viewport", o)
	}
	t.Logf("harness checks took %v", time.Since(start).Round(time.Millisecond))
}

// tab presses Tab once and returns the element that got the focus.
func (b *browser) tab() focused {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
		b.t.Fatalf("press Tab: %v", err)
	}
	return eval[focused](b, focusedJS)
}

// vendorPath is the dashboard's address of a vendor's pages.
func vendorPath(name string) string { return "/vendors/" + url.PathEscape(name) }

// hasWord reports whether text holds word as a whole word, ignoring case.
func hasWord(text, word string) bool {
	return regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(word) + `\b`).MatchString(text)
}

// TestBrowserUserJourney walks the dashboard as a user does, at a desktop
// size, clicking links rather than typing addresses: the vendor list, a
// vendor's timeline, its silent change in both views, back, its dated
// change in both views, its latest version, and a comparison through the
// compare form.
func TestBrowserUserJourney(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t, f.URL)
	start := time.Now()
	acme := vendorPath(acmeName)
	dated, silent := f.AcmeChanges[0], f.AcmeChanges[1]
	oldest, latest := f.AcmeVersions[0], f.AcmeVersions[2]
	changePath := func(c *store.Change) string { return fmt.Sprintf("%s/changes/%d", acme, c.ID) }
	versionPath := func(v *store.Version) string { return fmt.Sprintf("%s/versions/%d", acme, v.ID) }

	// The vendor list.
	b.load("/")
	if h1 := b.text("h1"); h1 != "Watched policies" {
		t.Errorf("/: h1 %q, want %q", h1, "Watched policies")
	}
	if n := b.count("table#vendors tbody tr"); n != 3 {
		t.Errorf("/: table#vendors has %d body rows, want one per vendor (3)", n)
	}
	table := b.text("table#vendors")
	for _, name := range []string{acmeName, evilName, initechName} {
		if !strings.Contains(table, name) {
			t.Errorf("/: table#vendors does not list %q:\n%s", name, table)
		}
	}
	acmeRow := `table#vendors tr:has(a[href="` + acme + `"])`
	if b.count(acmeRow) != 1 {
		t.Errorf("/: no single row links to %s", acme)
	}
	if b.count(acmeRow+" .kind-silent") == 0 {
		t.Errorf("/: Acme Cloud's row has no .kind-silent badge for its last change, which is silent: %q", b.text(acmeRow))
	}
	if hrefs := b.hrefs(acmeRow + " a[href]"); !slices.Contains(hrefs, changePath(silent)) {
		t.Errorf("/: Acme Cloud's row links to %q, want its last change %s among them", hrefs, changePath(silent))
	}
	if rows := b.text("table#vendors tr.health-failing"); !strings.Contains(rows, evilName) || strings.Contains(rows, acmeName) {
		t.Errorf("/: the tr.health-failing rows read %q, want the failing vendor %q only", rows, evilName)
	}
	b.inspect("/", "01-vendor-list.png")

	// Acme Cloud's timeline, by its link.
	follow(b, chromedp.CSS(`table#vendors a[href="`+acme+`"]`))
	if got := b.where(); got != acme {
		t.Errorf("the vendor link led to %s, want %s", got, acme)
	}
	if h1 := b.text("h1"); h1 != acmeName {
		t.Errorf("%s: h1 %q, want the vendor's name", acme, h1)
	}
	for sel, want := range map[string]int{"ol#timeline": 1, "ol#timeline li.version": 3, "ol#timeline li.change": 2, "ol#timeline li.change-silent": 1} {
		if n := b.count(sel); n != want {
			t.Errorf("%s: %d %s, want %d", acme, n, sel, want)
		}
	}
	if got, want := b.hrefs(`ol#timeline li.version a[href*="/versions/"]`), []string{versionPath(latest), versionPath(f.AcmeVersions[1]), versionPath(oldest)}; !slices.Equal(got, want) {
		t.Errorf("%s: version links %q, want newest first %q", acme, got, want)
	}
	if got, want := b.hrefs(`ol#timeline li.change a[href*="/changes/"]`), []string{changePath(silent), changePath(dated)}; !slices.Equal(got, want) {
		t.Errorf("%s: change links %q, want newest first %q", acme, got, want)
	}
	if got := b.hrefs(`ol#timeline li.change-silent a[href*="/changes/"]`); !slices.Equal(got, []string{changePath(silent)}) {
		t.Errorf("%s: li.change-silent links to %q, want only the silent change %s", acme, got, changePath(silent))
	}
	b.inspect(acme, "02-timeline-acme.png")

	// The newest change, the silent one, by the first "See what changed".
	follow(b, chromedp.Search(`(//ol[@id="timeline"]//a[starts-with(normalize-space(.), "See what changed")])[1]`))
	checkChange := func(c *store.Change, view string) string {
		t.Helper()
		where := b.where()
		if !strings.HasPrefix(where, changePath(c)) {
			t.Errorf("at %s, want the change %s", where, changePath(c))
		}
		if h1 := b.text("h1"); !strings.Contains(h1, acmeName) {
			t.Errorf("%s: h1 %q does not name the vendor", where, h1)
		}
		if n := b.count(view); n != 1 {
			t.Errorf("%s: %d %s, want 1", where, n, view)
		}
		wayback := b.hrefs(`a[href^="https://web.archive.org/web/"]`)
		if len(wayback) < 2 {
			t.Errorf("%s: %d Wayback links, want both captures: %q", where, len(wayback), wayback)
		}
		for _, ts := range []string{c.OldCapture.Timestamp, c.NewCapture.Timestamp} {
			if !slices.ContainsFunc(wayback, func(h string) bool { return strings.Contains(h, ts) }) {
				t.Errorf("%s: no Wayback link to the capture %s among %q", where, ts, wayback)
			}
		}
		return b.text("body")
	}
	if body := checkChange(silent, "#inline"); !strings.Contains(body, "SILENT CHANGE") {
		t.Errorf("%s: the page does not say SILENT CHANGE:\n%s", changePath(silent), body)
	}
	b.inspect(changePath(silent), "03-change-silent-inline.png")
	follow(b, chromedp.Search(`//a[normalize-space(.)="Side by side"]`))
	if where := b.where(); !strings.Contains(where, "view=side") {
		t.Errorf("the Side by side link led to %s, want ?view=side", where)
	}
	if body := checkChange(silent, "#side-by-side"); !strings.Contains(body, "SILENT CHANGE") {
		t.Errorf("%s?view=side: the page does not say SILENT CHANGE", changePath(silent))
	}
	if b.count("#inline") != 0 {
		t.Errorf("%s?view=side: #inline is shown too", changePath(silent))
	}
	b.inspect(changePath(silent)+"?view=side", "04-change-silent-side-by-side.png")

	// Back to the timeline, then the dated change.
	if err := chromedp.Do(b.ctx, chromedp.NavigateBack(), chromedp.NavigateBack()); err != nil {
		t.Fatalf("back twice: %v", err)
	}
	if where := b.where(); where != acme || b.count("ol#timeline") != 1 {
		t.Fatalf("back twice from the side-by-side view: at %s, want the timeline %s", where, acme)
	}
	b.quiet(acme + " (back)")
	follow(b, chromedp.Search(`//ol[@id="timeline"]/li[contains(concat(" ", normalize-space(@class), " "), " change ") and not(contains(@class, "change-silent"))]//a[starts-with(normalize-space(.), "See what changed")]`))
	checkDated := func(view string) {
		t.Helper()
		body := checkChange(dated, view)
		before, after := strings.Index(body, "2021-03-01"), strings.Index(body, "2022-06-14")
		if before < 0 || after < 0 || before > after {
			t.Errorf("%s (%s): want the stated dates 2021-03-01 before 2022-06-14:\n%s", changePath(dated), view, body)
		}
		if !hasWord(body, "high") {
			t.Errorf("%s (%s): the severity high is not shown:\n%s", changePath(dated), view, body)
		}
		if !strings.Contains(body, "International transfers") {
			t.Errorf("%s (%s): the added section International transfers is not shown", changePath(dated), view)
		}
	}
	checkDated("#inline")
	b.inspect(changePath(dated), "05-change-dated-inline.png")
	follow(b, chromedp.Search(`//a[normalize-space(.)="Side by side"]`))
	checkDated("#side-by-side")
	b.inspect(changePath(dated)+"?view=side", "06-change-dated-side-by-side.png")

	// The latest version, from the timeline.
	if err := chromedp.Do(b.ctx, chromedp.NavigateBack(), chromedp.NavigateBack()); err != nil {
		t.Fatalf("back twice: %v", err)
	}
	b.quiet(acme + " (back)")
	follow(b, chromedp.Search(`(//ol[@id="timeline"]//a[starts-with(normalize-space(.), "Read this version")])[1]`))
	if where := b.where(); where != versionPath(latest) {
		t.Errorf("the first Read this version link led to %s, want the latest version %s", where, versionPath(latest))
	}
	policy := b.text("article#policy")
	for _, want := range []string{"International transfers", "law enforcement agencies", "Acme Cloud Privacy Policy"} {
		if !strings.Contains(policy, want) {
			t.Errorf("%s: article#policy lacks %q:\n%s", versionPath(latest), want, policy)
		}
	}
	if n := b.count("article#policy :is(h2, h3, h4, h5, h6)"); n < 7 {
		t.Errorf("%s: article#policy has %d headings, want the policy's title and six sections rendered as headings (below the page's h1)", versionPath(latest), n)
	}
	b.inspect(versionPath(latest), "07-version-latest.png")

	// The compare form: oldest against latest.
	if err := chromedp.Do(b.ctx, chromedp.NavigateBack()); err != nil {
		t.Fatalf("back: %v", err)
	}
	b.quiet(acme + " (back)")
	if b.count("select[name=from]") != 1 || b.count("select[name=to]") != 1 {
		t.Fatalf("%s: want one compare form with selects from and to", acme)
	}
	if err := chromedp.Do(b.ctx,
		chromedp.SetValue(chromedp.CSS("select[name=from]"), fmt.Sprint(oldest.ID)),
		chromedp.SetValue(chromedp.CSS("select[name=to]"), fmt.Sprint(latest.ID)),
	); err != nil {
		t.Fatalf("choose versions: %v", err)
	}
	if got := eval[[]string](b, `[document.querySelector("select[name=from]").value, document.querySelector("select[name=to]").value]`); !slices.Equal(got, []string{fmt.Sprint(oldest.ID), fmt.Sprint(latest.ID)}) {
		t.Errorf("%s: the compare selects have no options with the version ids %d and %d as values (chose %q)", acme, oldest.ID, latest.ID, got)
	}
	follow(b, chromedp.CSS(`form:has(select[name=from]) button, form:has(select[name=from]) [type=submit]`))
	where := b.where()
	if !strings.HasPrefix(where, acme+"/compare?") || !strings.Contains(where, fmt.Sprintf("from=%d", oldest.ID)) || !strings.Contains(where, fmt.Sprintf("to=%d", latest.ID)) {
		t.Errorf("the compare form led to %s, want %s/compare?from=%d&to=%d", where, acme, oldest.ID, latest.ID)
	}
	if body := b.text("body"); !strings.Contains(body, "International transfers") || !strings.Contains(body, "law enforcement agencies") {
		t.Errorf("%s: the comparison of the oldest and the latest version lacks their differences:\n%s", where, body)
	}
	b.inspect(where, "08-compare-oldest-latest.png")
	t.Logf("the journey took %v after the browser started", time.Since(start).Round(time.Millisecond))
}

// TestBrowserAccessibility loads every kind of page and checks what
// keyboard and screen-reader users need: the first Tab reaches a "Skip to
// content" link whose target exists and Enter follows it, the checks of
// inspect (one h1, html[lang], alt text, labelled controls), and the WCAG AA
// contrast of text, in the light and the dark colour scheme.
func TestBrowserAccessibility(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t, f.URL)
	start := time.Now()
	acme := vendorPath(acmeName)
	pages := []struct{ name, path, shot, darkShot string }{
		{"vendor list", "/", "", "12-dark-vendor-list.png"},
		{"timeline", acme, "", "13-dark-timeline-acme.png"},
		{"timeline of a vendor never fetched", vendorPath(initechName), "11-timeline-never-fetched.png", ""},
		{"timeline of the hostile vendor", vendorPath(evilName), "", ""},
		{"change inline", fmt.Sprintf("%s/changes/%d", acme, f.AcmeChanges[0].ID), "", "14-dark-change-dated-inline.png"},
		{"change side by side", fmt.Sprintf("%s/changes/%d?view=side", acme, f.AcmeChanges[0].ID), "", ""},
		{"version", fmt.Sprintf("%s/versions/%d", acme, f.AcmeVersions[2].ID), "", "15-dark-version-latest.png"},
		{"compare", fmt.Sprintf("%s/compare?from=%d&to=%d", acme, f.AcmeVersions[0].ID, f.AcmeVersions[2].ID), "", ""},
	}
	for i, tc := range pages {
		t.Run(tc.name, func(t *testing.T) {
			b.t = t
			b.load(tc.path)
			b.inspect(tc.path, tc.shot)
			for _, p := range eval[[]string](b, contrastJS) {
				t.Errorf("%s: contrast: %s", tc.path, p)
			}
			got := b.tab()
			if got.Tag != "a" || !strings.HasPrefix(got.Text, "Skip to content") || !got.Target {
				t.Errorf("%s: the first Tab focused <%s href=%q> %q, want a \"Skip to content\" link to an element of the page", tc.path, got.Tag, got.Href, got.Text)
			}
			if i == 0 {
				b.shot("10-keyboard-skip-link.png") // the skip link, focused
			}
			if got.Tag == "a" && got.Target {
				if err := chromedp.Do(b.ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
					t.Fatal(err)
				}
				if hash := eval[string](b, `location.hash`); hash != got.Href {
					t.Errorf("%s: Enter on the skip link left location.hash %q, want %q", tc.path, hash, got.Href)
				}
			}
			b.quiet(tc.path + " (keyboard)")
		})
	}
	b.t = t
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range pages {
		t.Run("dark/"+tc.name, func(t *testing.T) {
			b.t = t
			b.load(tc.path)
			if !eval[bool](b, `matchMedia("(prefers-color-scheme: dark)").matches`) {
				t.Fatal("the dark colour scheme is not emulated")
			}
			b.inspect(tc.path+" (dark)", tc.darkShot)
			for _, p := range eval[[]string](b, contrastJS) {
				t.Errorf("%s (dark): contrast: %s", tc.path, p)
			}
		})
	}
	b.t = t
	t.Logf("%v after the browser started", time.Since(start).Round(time.Millisecond))
}

// contrastJS lists text whose colour has less contrast with its background
// than WCAG AA asks: 4.5:1, or 3:1 for large text (24px, or 18.66px bold).
// The background is the first opaque one up the tree, with translucent ones
// blended on it; background images are not seen. Colours the browser does
// not report as rgb() are skipped.
const contrastJS = `(() => {
	const parse = s => {
		const m = /^rgba?\(([^)]*)\)$/.exec(s);
		if (!m) return null;
		const v = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
		return {r: v[0], g: v[1], b: v[2], a: v.length > 3 ? v[3] : 1};
	};
	const over = (top, under) => ({r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a), b: top.b * top.a + under.b * (1 - top.a), a: 1});
	const lum = c => {
		const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
		return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
	};
	const dark = matchMedia("(prefers-color-scheme: dark)").matches && /dark/.test(getComputedStyle(document.documentElement).colorScheme);
	const canvas = dark ? {r: 18, g: 18, b: 18, a: 1} : {r: 255, g: 255, b: 255, a: 1};
	const background = e => {
		const layers = [];
		for (let n = e; n; n = n.parentElement) {
			const c = parse(getComputedStyle(n).backgroundColor);
			if (c === null) return null;
			if (c.a > 0) { layers.push(c); if (c.a >= 1) break; }
		}
		let bg = canvas;
		for (const c of layers.reverse()) bg = over(c, bg);
		return bg;
	};
	const out = [];
	const seen = new Set();
	for (const e of document.querySelectorAll("body *")) {
		if (!Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim())) continue;
		const r = e.getBoundingClientRect();
		const st = getComputedStyle(e);
		if (r.width === 0 || r.height === 0 || st.visibility === "hidden" || r.right < 0 || r.bottom < 0) continue;
		let fg = parse(st.color), bg = background(e);
		if (fg === null || bg === null) continue;
		fg = over(fg, bg);
		const l1 = lum(fg), l2 = lum(bg);
		const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
		const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
		const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
		if (ratio < need) {
			const key = e.localName + "." + e.className + st.color + st.backgroundColor;
			if (seen.has(key)) continue;
			seen.add(key);
			out.push("<" + e.localName + (e.className && typeof e.className === "string" ? "." + e.className.trim().split(/\s+/).join(".") : "") + "> " + JSON.stringify(e.textContent.trim().slice(0, 40)) + ": " + ratio.toFixed(2) + ":1, want " + need + ":1 (" + st.color + " on " + "rgb(" + [bg.r, bg.g, bg.b].map(Math.round).join(", ") + ")" + ")");
		}
	}
	return out;
})()`

// TestBrowserPhone loads the pages at a phone's size, with mobile emulation,
// and checks that the document never scrolls sideways: wide tables and
// diffs must wrap or scroll inside their own box. A tap on a vendor link must
// work too.
func TestBrowserPhone(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t, f.URL)
	start := time.Now()
	if err := chromedp.Do(b.ctx, chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	acme, evil := vendorPath(acmeName), vendorPath(evilName)
	for _, tc := range []struct{ name, path, shot string }{
		{"vendor list", "/", "20-phone-vendor-list.png"},
		{"timeline", acme, "21-phone-timeline-acme.png"},
		{"change inline", fmt.Sprintf("%s/changes/%d", acme, f.AcmeChanges[0].ID), "22-phone-change-dated-inline.png"},
		{"change side by side", fmt.Sprintf("%s/changes/%d?view=side", acme, f.AcmeChanges[0].ID), "23-phone-change-dated-side-by-side.png"},
		{"hostile change inline", fmt.Sprintf("%s/changes/%d", evil, f.EvilChanges[0].ID), "24-phone-change-hostile-inline.png"},
		{"hostile change side by side", fmt.Sprintf("%s/changes/%d?view=side", evil, f.EvilChanges[0].ID), "25-phone-change-hostile-side-by-side.png"},
		{"version", fmt.Sprintf("%s/versions/%d", acme, f.AcmeVersions[2].ID), "26-phone-version-latest.png"},
		{"compare", fmt.Sprintf("%s/compare?from=%d&to=%d", acme, f.AcmeVersions[0].ID, f.AcmeVersions[2].ID), "27-phone-compare.png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.t = t
			b.load(tc.path)
			o := eval[overflow](b, overflowJS)
			if !o.Viewport {
				t.Errorf("%s: no <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">: phones lay the page out 980px wide", tc.path)
			}
			if o.DeviceWidth != 375 {
				t.Fatalf("%s: screen.width %d, want the emulated phone's 375", tc.path, o.DeviceWidth)
			}
			// document.documentElement.scrollWidth <= window.innerWidth + 1,
			// with the phone's width for innerWidth, which Chromium widens to
			// fit an overflowing page.
			if o.ScrollWidth > o.DeviceWidth+1 || o.InnerWidth > o.DeviceWidth+1 {
				t.Errorf("%s: the document is %dpx wide on a %dpx phone (it scrolls sideways; innerWidth %d); elements that stick out furthest:\n%s", tc.path, o.ScrollWidth, o.DeviceWidth, o.InnerWidth, strings.Join(o.Offenders, "\n"))
			}
			b.inspect(tc.path, tc.shot)
		})
	}
	b.t = t
	b.load("/")
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Tap(chromedp.CSS(`table#vendors a[href="`+acme+`"]`)))
	if err != nil {
		t.Fatalf("tap Acme Cloud: %v", err)
	}
	if where := b.where(); resp.Status != http.StatusOK || where != acme {
		t.Errorf("tapping Acme Cloud led to %s (%d), want %s", where, resp.Status, acme)
	}
	b.quiet(acme + " (tapped)")
	t.Logf("%v after the browser started", time.Since(start).Round(time.Millisecond))
}

// hostileText is archived text that must show as text, not run, on the
// hostile vendor's pages, by the kind of page.
var hostileText = map[string][]string{
	"vendor":  {evilName},
	"version": {`<script>alert('h1')</script>`, `<img src=x onerror=alert('img')>`, `"><script>alert('attr')</script>`, `<iframe src="javascript:alert('iframe')"></iframe>`, `<style>body{display:none}</style>`},
	"change":  {evilName, `<img src=x onerror=alert('share2')>`, `<svg onload=alert('svg')>`, `{{.Secret}}`},
}

// pageKind names a dashboard path's kind of page.
func pageKind(path string) string {
	p, _, _ := strings.Cut(path, "?")
	switch {
	case p == "/":
		return "list"
	case strings.Contains(p, "/versions/"):
		return "version"
	case strings.Contains(p, "/changes/"):
		return "change"
	case strings.HasSuffix(p, "/compare"):
		return "compare"
	}
	return "vendor"
}

// discoverJS lists the dashboard's own pages this page leads to: links, and
// GET forms as their default submission, under the path prefix given as the
// argument, and the vendor list.
const discoverJS = `((prefix) => {
	const out = new Set();
	const add = u => {
		if (u.origin !== location.origin) return;
		if (!decodeURIComponent(u.pathname).startsWith(prefix) && u.pathname !== "/") return;
		// view=inline is the default view: the same page as without it.
		if (u.searchParams.get("view") === "inline") u.searchParams.delete("view");
		out.add(u.pathname + u.search);
	};
	for (const a of document.querySelectorAll("a[href]")) { try { add(new URL(a.href)); } catch (e) {} }
	for (const f of document.querySelectorAll("form")) {
		if ((f.method || "get").toLowerCase() !== "get") continue;
		const u = new URL(f.action || location.href);
		u.search = new URLSearchParams(new FormData(f)).toString();
		add(u);
	}
	return Array.from(out);
})`

// TestBrowserHostileContent visits every page of the vendor whose archived
// pages are written to run script (every payload calls alert), found by
// following the dashboard's own links from its timeline, and fails if a
// dialog opens, if anything is written to the console, or if the DOM holds
// anything that could run: script elements, event-handler attributes, links
// or sources with another scheme than http, https and mailto. The hostile
// strings must show as text. Each page is visited twice: with the server's
// CSP, and with the CSP bypassed, so that the escaping itself is tested and
// not only the CSP that would stop a script the escaping let through. Every
// element is hovered and focused, and links in the archived text that are
// not plain web links are clicked. The vendor's Atom feed and API answer
// are loaded too: no dialog may open.
func TestBrowserHostileContent(t *testing.T) {
	f := newFixture(t)
	b := newBrowser(t, f.URL)
	start := time.Now()
	evil := vendorPath(evilName)

	// With the CSP: crawl, check and photograph.
	var pages []string
	queue := []string{"/", evil}
	seen := map[string]bool{}
	for len(queue) > 0 && len(pages) < 40 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		pages = append(pages, p)
		b.load(p)
		b.inspect(p, fmt.Sprintf("%02d-hostile-%s.png", 30+len(pages)-1, shotName(p, evil)))
		checkHostileText(b, p)
		if p == "/" {
			if rows := b.text("table#vendors tr.health-failing"); !strings.Contains(rows, evilName) {
				t.Errorf("/: the hostile vendor's row is not tr.health-failing: %q", rows)
			}
		}
		queue = append(queue, eval[[]string](b, discoverJS+"("+jsString("/vendors/"+evilName)+")")...)
	}
	kinds := map[string]int{}
	for _, p := range pages {
		kinds[pageKind(p)]++
		if strings.Contains(p, "view=side") {
			kinds["side-by-side"]++
		}
	}
	t.Logf("visited %d pages: %q", len(pages), pages)
	if kinds["vendor"] < 1 || kinds["version"] < len(f.EvilVersions) || kinds["change"] < 2*len(f.EvilChanges) || kinds["side-by-side"] < len(f.EvilChanges) {
		t.Errorf("the hostile vendor's pages found by following links: %v; want its timeline, its %d versions and its %d change in both views", kinds, len(f.EvilVersions), len(f.EvilChanges))
	}

	t.Logf("with the CSP: %v", time.Since(start).Round(time.Millisecond))

	// Without the CSP: the markup alone must keep the payloads inert.
	if _, err := chromedp.Call(b.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		b.load(p)
		if n := eval[int](b, provokeJS); n == 0 {
			t.Errorf("%s: no elements to hover", p)
		}
		if pageKind(p) == "version" {
			clickSuspiciousLinks(b, p)
			hoverLinks(b, p)
		}
		b.inspect(p+" (CSP bypassed)", "")
	}

	t.Logf("without the CSP: %v", time.Since(start).Round(time.Millisecond))

	// The feed and the API, in the browser, with and without the CSP.
	esc := url.PathEscape(evilName)
	for _, p := range []string{"/feeds/vendors/" + esc + ".atom", "/api/v1/vendors/" + esc} {
		for _, bypass := range []bool{true, false} {
			if _, err := chromedp.Call(b.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: bypass}); err != nil {
				t.Fatal(err)
			}
			resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+p))
			status := "no document (" + fmt.Sprint(err) + ")"
			if err == nil {
				status = fmt.Sprintf("%d, Content-Type %q; shows %.120q", resp.Status, resp.Headers["Content-Type"], eval[string](b, `document.documentElement ? (document.documentElement.innerText || document.documentElement.textContent) : ""`))
			}
			dialogs, console := b.take()
			for _, d := range dialogs {
				t.Errorf("%s: a JavaScript dialog opened: %s", p, d)
			}
			t.Logf("%s (CSP bypassed: %v): %s; console: %q", p, bypass, status, console)
		}
	}
	t.Logf("%v after the browser started", time.Since(start).Round(time.Millisecond))
}

// shotName names a screenshot of the page at path p after its part below
// prefix: "/vendors/X/changes/3?view=side" is "changes-3-view-side".
func shotName(p, prefix string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(p, prefix), "/")
	if p == "/" {
		rest = "vendor-list"
	} else if rest == "" {
		rest = "timeline"
	}
	name := regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(rest), "-")
	return strings.Trim(name, "-")
}

// checkHostileText checks that the hostile strings of the page's kind show
// as text.
func checkHostileText(b *browser, p string) {
	b.t.Helper()
	body := b.text("body")
	for _, want := range hostileText[pageKind(p)] {
		if !strings.Contains(body, want) {
			b.t.Errorf("%s: the archived text %q does not show as text", p, want)
		}
	}
	if kind := pageKind(p); kind == "vendor" || kind == "change" || kind == "version" {
		if h1 := b.text("h1"); !strings.Contains(h1, evilName) && kind != "version" {
			b.t.Errorf("%s: h1 %q does not show the vendor's name %q as text", p, h1, evilName)
		}
	}
}

// clickSuspiciousLinks clicks every link of the archived text
// (article#policy) that is not a plain http or https link to elsewhere —
// there should be none — and reports them.
func clickSuspiciousLinks(b *browser, p string) {
	b.t.Helper()
	sus := eval[[]string](b, `Array.from(document.querySelectorAll("article#policy a[href]")).filter(a => {
		let u; try { u = new URL(a.getAttribute("href"), document.baseURI); } catch (e) { return true; }
		return !["http:", "https:", "mailto:"].includes(u.protocol) || u.origin === location.origin;
	}).map(a => a.getAttribute("href"))`)
	for i, href := range sus {
		b.t.Errorf("%s: the archived text links to %q, which is not a plain link to elsewhere", p, href)
		sel := fmt.Sprintf(`(//article[@id="policy"]//a[@href])[%d]`, i+1)
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.Search(sel))); err != nil {
			b.t.Logf("%s: click %q: %v", p, href, err)
		}
		b.load(p) // whatever the click did, come back
	}
	b.t.Logf("%s: %d links in the archived text that are not plain web links (clicked each)", p, len(sus))
}

// hoverLinks moves the real mouse over every link and focuses it with the
// keyboard's focus, as a reader does.
func hoverLinks(b *browser, p string) {
	b.t.Helper()
	n := b.count("a[href]")
	for i := range n {
		xy := eval[[]float64](b, fmt.Sprintf(`(() => { const a = document.querySelectorAll("a[href]")[%d]; a.scrollIntoView({block: "center"}); a.focus(); const r = a.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`, i))
		if len(xy) != 2 {
			continue
		}
		if err := chromedp.Do(b.ctx, chromedp.MouseEvent(chromedp.MouseMoved, xy[0], xy[1])); err != nil {
			b.t.Fatalf("%s: hover link %d: %v", p, i, err)
		}
	}
}
