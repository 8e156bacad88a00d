package snapshot

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchPage is one corpus page, read into memory before the timer starts so
// that the benchmarks measure extraction, not the disk.
type benchPage struct {
	raw []byte
	src Source
}

// loadOTAPages reads every page of the OTA corpus with the Source the corpus
// test uses. It skips the benchmark when the corpus is absent.
func loadOTAPages(tb testing.TB) []benchPage {
	tb.Helper()
	dir := filepath.Join(corpusDir(tb), "ota")
	entries := readManifest[otaEntry](tb, filepath.Join(dir, "manifest.jsonl"))
	var pages []benchPage
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.HTML))
		if err != nil {
			tb.Fatalf("%s: %v", e.ID, err)
		}
		pages = append(pages, benchPage{raw, otaSource(e)})
	}
	return pages
}

// loadCITPPages reads every page of the citp corpus, without the dataset's
// header comment.
func loadCITPPages(tb testing.TB) []benchPage {
	tb.Helper()
	dir := filepath.Join(corpusDir(tb), "citp")
	entries := readManifest[citpEntry](tb, filepath.Join(dir, "manifest.jsonl"))
	var pages []benchPage
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.HTML))
		if err != nil {
			tb.Fatalf("%s: %v", e.Domain, err)
		}
		pages = append(pages, benchPage{citpHeaderRe.ReplaceAll(raw, nil), citpSource(tb, e)})
	}
	return pages
}

// benchPages extracts every page once per iteration. One iteration is one
// pass over the whole set, so b.SetBytes makes "MB/s" the HTML throughput and
// the pages/s metric is the figure the targets are written in.
func benchPages(b *testing.B, pages []benchPage) {
	total := 0
	for _, p := range pages {
		total += len(p.raw)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, p := range pages {
			if _, err := Extract(p.raw, p.src); err != nil {
				b.Fatal(err)
			}
		}
	}
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N*len(pages))/s, "pages/s")
	}
}

func BenchmarkExtractOTA(b *testing.B)  { benchPages(b, loadOTAPages(b)) }
func BenchmarkExtractCITP(b *testing.B) { benchPages(b, loadCITPPages(b)) }

// largePolicy generates a policy page of at least size bytes with the shapes
// that made big pages slow: long runs of sibling sections, nested lists,
// tables, links and inline emphasis, <br>-separated text, plus page chrome
// around the content. It is deterministic so that runs compare.
func largePolicy(size int) []byte {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>Privacy Policy - Example</title></head><body>`)
	b.WriteString(`<header class="site-header"><nav class="menu"><ul>`)
	for i := range 40 {
		fmt.Fprintf(&b, `<li><a href="/section/%d">Menu entry %d</a></li>`, i, i)
	}
	b.WriteString(`</ul></nav></header><div class="cookie-banner">We use cookies. <button>OK</button></div>`)
	b.WriteString(`<main><article class="policy-content"><h1>Privacy Policy</h1><p>Last updated: March 3, 2021</p>`)
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `<section class="section" id="s%d"><h2>%d. Section about data category %d</h2>`, i, i+1, i)
		fmt.Fprintf(&b, `<p>We collect <strong>information</strong> that you give us, such as your name, e-mail address and `+
			`<a href="/privacy#s%d">postal address</a>, when you create an account, buy something or contact support. `+
			`We use it to provide the service, to bill you, and to tell you about changes, as described below.</p>`, i)
		b.WriteString(`<div class="clause">`)
		for j := range 3 {
			fmt.Fprintf(&b, `<p>Clause %d.%d: <em>retention</em> periods depend on the purpose; we keep records for as long as `+
				`the law requires, and delete or anonymise them afterwards.<br>Contact <a href="mailto:privacy@example.com">privacy@example.com</a> `+
				`for details.<br><br>See also <a href="https://example.com/terms">our terms</a>.</p>`, i+1, j+1)
		}
		b.WriteString(`<ol><li>Account data, including your login name;<ul><li>stored in the EU,</li><li>encrypted at rest;</li></ul></li>` +
			`<li>Payment data, handled by our processor;</li><li>Usage data, such as pages visited and the time spent on them.</li></ol>`)
		if i%5 == 0 {
			b.WriteString(`<table><thead><tr><th>Cookie</th><th>Purpose</th><th>Duration</th></tr></thead><tbody>`)
			for k := range 6 {
				fmt.Fprintf(&b, `<tr><td>cookie_%d</td><td>Keeps you signed in, and remembers your choices</td><td>%d days</td></tr>`, k, k*30)
			}
			b.WriteString(`</tbody></table>`)
		}
		b.WriteString(`</div></section>`)
	}
	b.WriteString(`</article></main><aside class="sidebar"><h3>Related</h3><ul><li><a href="/terms">Terms</a></li></ul></aside>`)
	b.WriteString(`<footer class="site-footer"><p>© 2021 Example Inc. All rights reserved.</p></footer></body></html>`)
	return []byte(b.String())
}

// BenchmarkExtractLarge extracts a generated 5 MB policy page: it needs no
// corpus and catches work that grows faster than the page.
func BenchmarkExtractLarge(b *testing.B) {
	raw := largePolicy(5 << 20)
	src := Source{Site: "example.com", URL: "https://example.com/privacy", Timestamp: "20210405060708", ContentType: "text/html; charset=utf-8"}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Extract(raw, src); err != nil {
			b.Fatal(err)
		}
	}
}

// otaSource is the Source a crawler would pass for an OTA pair: OTA records
// fetch times, not Wayback timestamps, so the fetch time stands in for one.
func otaSource(e otaEntry) Source {
	ts := "20200101000000"
	if at, err := time.Parse(time.RFC3339, e.FetchedAt); err == nil {
		ts = at.UTC().Format("20060102150405")
	}
	return Source{Site: e.ID, URL: e.URL, Timestamp: ts, ContentType: "text/html"}
}
