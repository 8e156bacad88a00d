package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/policywatch/policywatch/snapshot"
)

const evalUsage = `Usage: policywatch eval <subcommand> [flags]

Measures policywatch against reference data, so that every change to the
extractor can be judged by numbers rather than by eye.

Subcommands:
  extract   score text extraction on a corpus of (archived page, expected text)
  dates     score stated-date finding against labelled pages (testdata/dates/labels.jsonl)
  changes   run the change detector over consecutive recorded versions (OTA corpus)
            pairs: the Princeton-Leuven dataset (citp) and Open Terms Archive (ota)

Run "policywatch eval extract --help" for its flags.
`

func (m *Main) runEval(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, evalUsage)
		return errors.New("eval: no subcommand given")
	}
	switch args[0] {
	case "extract":
		return m.runEvalExtract(ctx, args[1:])
	case "changes":
		return m.runEvalChanges(ctx, args[1:])
	case "dates":
		return m.runEvalDates(ctx, args[1:])
	case "help", "-h", "--help", "-help":
		fmt.Fprint(m.Stdout, evalUsage)
		return nil
	default:
		fmt.Fprint(m.Stderr, evalUsage)
		return fmt.Errorf("eval: unknown subcommand %q", args[0])
	}
}

const evalExtractHelp = `Extracts every HTML page of a corpus and compares the result with the text
the corpus expects. DIR is a corpus root holding citp/ and/or ota/ (each with
a manifest.jsonl), or one of those directories; the kind of each corpus is
read from its manifest's fields.

Per document and as means over each corpus it prints:
  P, R, F1   token precision, recall and F1: lower-cased words, Markdown
             syntax and URLs ignored, compared as multisets
  headings   expected headings kept as headings (kept/expected)
  items      expected list items kept as list items (kept/expected)
  verdict    the capture-quality verdict extraction gave the page
Documents are sorted best first, so the worst come last; "!" flags an F1
under 0.90, a verdict other than ok, or a failure.

citp pages lose the dataset's leading <!--...--> header and the expected text
its "> *The following text...*" provenance line; the Source comes from the
manifest's id_ URL and timestamp. OTA pages use the manifest's url and
fetched_at. With --selectors, OTA pages are cut with their declaration's
select/remove (CSS or range selectors) instead of automatic selection, as
the OTA engine does; custom filters are JavaScript we do not have and are
only named in the notes.

Exit status 0 when the evaluation ran, whatever the scores.
`

// evalFlagThreshold is the F1 under which a document is flagged as bad in
// the human output: below it the page loses or gains whole paragraphs.
const evalFlagThreshold = 0.90

type evalOptions struct {
	selectors bool
	set       string
	sample    int
}

func (m *Main) runEvalExtract(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("eval extract", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: policywatch eval extract --corpus DIR [--json] [--selectors] [--set citp|ota] [--sample N]\n\n%s\nFlags:\n", evalExtractHelp)
		fs.PrintDefaults()
	}
	dir := fs.String("corpus", m.Getenv("POLICYWATCH_CORPUS"), "corpus `DIR` (env POLICYWATCH_CORPUS)")
	asJSON := fs.Bool("json", false, "print a JSON document instead of tables")
	var opt evalOptions
	fs.BoolVar(&opt.selectors, "selectors", false, "OTA: apply each page's declaration select/remove instead of automatic selection")
	fs.StringVar(&opt.set, "set", "", "only this corpus `kind`: citp or ota")
	fs.IntVar(&opt.sample, "sample", 1, "evaluate every `N`th pair of each manifest only (quick runs; means are then of the sample)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		fs.Usage()
		return errors.New("eval extract: --corpus DIR is required")
	}
	if opt.sample < 1 {
		return fmt.Errorf("eval extract: --sample %d: want 1 or more", opt.sample)
	}
	if opt.set != "" && opt.set != corpusCITP && opt.set != corpusOTA {
		return fmt.Errorf("eval extract: --set %q: want citp or ota", opt.set)
	}
	corpora, err := findCorpora(*dir)
	if err != nil {
		return fmt.Errorf("eval extract: %w", err)
	}
	corpora = slices.DeleteFunc(corpora, func(c evalCorpus) bool { return opt.set != "" && c.kind != opt.set })
	if len(corpora) == 0 {
		return fmt.Errorf("eval extract: no %s corpus in %s", opt.set, *dir)
	}
	if opt.selectors && !slices.ContainsFunc(corpora, func(c evalCorpus) bool { return c.kind == corpusOTA }) {
		return fmt.Errorf("eval extract: --selectors needs an OTA corpus (its manifest holds the declarations); %s has none", *dir)
	}

	var out []*evalSummary
	for _, c := range corpora {
		s, err := evaluate(ctx, c, opt)
		if err != nil {
			return fmt.Errorf("eval extract: %w", err)
		}
		out = append(out, s)
	}
	if *asJSON {
		return writeJSON(m.Stdout, evalReport{Corpora: out})
	}
	for i, s := range out {
		if i > 0 {
			fmt.Fprintln(m.Stdout)
		}
		printEval(m.Stdout, s)
	}
	if len(out) > 1 {
		fmt.Fprintln(m.Stdout)
		printMeans(m.Stdout, out)
	}
	return nil
}

const (
	corpusCITP = "citp"
	corpusOTA  = "ota"
)

// evalCorpus is one corpus directory and the kind its manifest revealed.
type evalCorpus struct {
	kind string
	dir  string
}

// findCorpora accepts a corpus root or a corpus directory, so that the same
// command works on ../shared/corpus, on ../shared/corpus/ota, and on a copy.
func findCorpora(dir string) ([]evalCorpus, error) {
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("corpus: %s is not a directory", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.jsonl")); err == nil {
		kind, err := manifestKind(filepath.Join(dir, "manifest.jsonl"))
		if err != nil {
			return nil, err
		}
		return []evalCorpus{{kind, dir}}, nil
	}
	var out []evalCorpus
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name(), "manifest.jsonl")
		if !e.IsDir() {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			continue
		}
		kind, err := manifestKind(path)
		if err != nil {
			return nil, err
		}
		out = append(out, evalCorpus{kind, filepath.Join(dir, e.Name())})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s is not a corpus: no manifest.jsonl in it or in a subdirectory (want the corpus root holding citp/ and ota/, or one of them)", dir)
	}
	slices.SortFunc(out, func(a, b evalCorpus) int { return strings.Compare(a.kind, b.kind) })
	return out, nil
}

// manifestKind tells the corpora apart by the fields of their first record:
// directory names are whatever the user copied them to.
func manifestKind(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(line, &fields); err != nil {
			return "", fmt.Errorf("manifest %s: first record: %w", path, err)
		}
		has := func(keys ...string) bool {
			for _, k := range keys {
				if _, ok := fields[k]; !ok {
					return false
				}
			}
			return true
		}
		switch {
		case has("domain", "timestamp", "wayback_url", "html", "md"):
			return corpusCITP, nil
		case has("url", "fetched_at", "declaration", "html", "md"):
			return corpusOTA, nil
		}
		return "", fmt.Errorf("manifest %s: neither a citp record (domain, timestamp, wayback_url) nor an OTA one (url, fetched_at, declaration)", path)
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("manifest %s: %w", path, err)
	}
	return "", fmt.Errorf("manifest %s is empty", path)
}

// manifestEntry holds the fields of both manifests that evaluation uses.
type manifestEntry struct {
	HTML string `json:"html"`
	MD   string `json:"md"`
	// citp
	Domain     string `json:"domain"`
	Timestamp  string `json:"timestamp"`
	WaybackURL string `json:"wayback_url"`
	// ota
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	FetchedAt   string   `json:"fetched_at"`
	Fetcher     string   `json:"fetcher"`
	Service     string   `json:"service"`
	DocType     string   `json:"doc_type"`
	PrevPairID  string   `json:"prev_pair_id"`
	Flags       []string `json:"flags"`
	Declaration struct {
		Select json.RawMessage `json:"select"`
		Remove json.RawMessage `json:"remove"`
		Filter []string        `json:"filter"`
	} `json:"declaration"`
}

func readManifest(path string) ([]manifestEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	var out []manifestEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e manifestEntry
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, fmt.Errorf("manifest %s:%d: %w", path, n, err)
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	return out, nil
}

// evalRow is one document's result. The JSON names are stable: scripts
// compare runs with them.
type evalRow struct {
	ID                 string   `json:"id"`
	HTML               string   `json:"html"`
	Precision          float64  `json:"precision"`
	Recall             float64  `json:"recall"`
	F1                 float64  `json:"f1"`
	HeadingsWant       int      `json:"headings_want"`
	HeadingsKept       int      `json:"headings_kept"`
	ItemsWant          int      `json:"items_want"`
	ItemsKept          int      `json:"items_kept"`
	Verdict            string   `json:"verdict"`
	Reason             string   `json:"reason,omitempty"`
	Fetcher            string   `json:"fetcher,omitempty"`
	Flags              []string `json:"flags,omitempty"`
	Filters            []string `json:"filters,omitempty"`
	SelectorFallback   bool     `json:"selector_fallback,omitempty"`
	UnmatchedSelectors []string `json:"unmatched_selectors,omitempty"`
	Error              string   `json:"error,omitempty"`
}

// evalSummary is one corpus's result: means over the documents that could
// be scored (token scores are per-document means, so a long page counts as
// much as a short one; structure counts are totals over all documents).
type evalSummary struct {
	Corpus       string    `json:"corpus"`
	Selectors    bool      `json:"selectors"`
	Dir          string    `json:"dir"`
	Sample       int       `json:"sample"` // every Nth pair was evaluated; 1 = all
	Documents    int       `json:"documents"`
	Errors       int       `json:"errors"`
	Precision    float64   `json:"precision"`
	Recall       float64   `json:"recall"`
	F1           float64   `json:"f1"`
	HeadingsWant int       `json:"headings_want"`
	HeadingsKept int       `json:"headings_kept"`
	ItemsWant    int       `json:"items_want"`
	ItemsKept    int       `json:"items_kept"`
	VerdictOK    int       `json:"verdict_ok"`
	Rows         []evalRow `json:"rows"`
}

type evalReport struct {
	Corpora []*evalSummary `json:"corpora"`
}

// label names the run in tables: "ota+selectors" is a different measurement
// from "ota", not a variant of the same one.
func (s *evalSummary) label() string {
	if s.Selectors {
		return s.Corpus + "+selectors"
	}
	return s.Corpus
}

var (
	citpHeaderRe     = regexp.MustCompile(`(?s)^\s*<!--.*?-->\s*`)
	citpProvenanceRe = regexp.MustCompile(`^> \*The following text is extracted[^\n]*\n\n?`)
)

// evaluate scores every document of one corpus. Extraction is CPU-bound and
// documents are independent, so they run on all cores; rows keep manifest
// order until printing sorts them.
func evaluate(ctx context.Context, c evalCorpus, opt evalOptions) (*evalSummary, error) {
	entries, err := readManifest(filepath.Join(c.dir, "manifest.jsonl"))
	if err != nil {
		return nil, err
	}
	if opt.sample > 1 {
		var sample []manifestEntry
		for i := 0; i < len(entries); i += opt.sample {
			sample = append(sample, entries[i])
		}
		entries = sample
	}
	sum := &evalSummary{Corpus: c.kind, Selectors: opt.selectors && c.kind == corpusOTA, Dir: c.dir, Sample: opt.sample}
	sum.Rows = make([]evalRow, len(entries))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(entries)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				sum.Rows[i] = evalOne(c, entries[i], sum.Selectors)
			}
		}()
	}
feed:
	for i := range entries {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", c.dir, err)
	}

	for _, r := range sum.Rows {
		if r.Error != "" {
			sum.Errors++
			continue
		}
		sum.Documents++
		sum.Precision += r.Precision
		sum.Recall += r.Recall
		sum.F1 += r.F1
		sum.HeadingsWant += r.HeadingsWant
		sum.HeadingsKept += r.HeadingsKept
		sum.ItemsWant += r.ItemsWant
		sum.ItemsKept += r.ItemsKept
		if r.Verdict == string(snapshot.VerdictOK) {
			sum.VerdictOK++
		}
	}
	if sum.Documents > 0 {
		n := float64(sum.Documents)
		sum.Precision /= n
		sum.Recall /= n
		sum.F1 /= n
	}
	return sum, nil
}

// evalOne extracts and scores one pair. Problems with one document (a
// missing file, a bad URL) are reported in its row so that the rest of the
// corpus is still measured.
func evalOne(c evalCorpus, e manifestEntry, selectors bool) evalRow {
	row := evalRow{ID: e.ID, HTML: e.HTML, Fetcher: e.Fetcher, Flags: e.Flags, Filters: e.Declaration.Filter}
	if row.ID == "" {
		row.ID = strings.TrimSuffix(e.HTML, filepath.Ext(e.HTML))
	}
	fail := func(err error) evalRow {
		row.Error = err.Error()
		return row
	}
	page, err := os.ReadFile(filepath.Join(c.dir, filepath.FromSlash(e.HTML)))
	if err != nil {
		return fail(fmt.Errorf("read page: %w", err))
	}
	wantRaw, err := os.ReadFile(filepath.Join(c.dir, filepath.FromSlash(e.MD)))
	if err != nil {
		return fail(fmt.Errorf("read expected text: %w", err))
	}
	want := string(wantRaw)

	var src snapshot.Source
	var opts snapshot.Options
	switch c.kind {
	case corpusCITP:
		page = citpHeaderRe.ReplaceAll(page, nil)
		want = citpProvenanceRe.ReplaceAllString(want, "")
		if src, err = citpSource(e); err != nil {
			return fail(err)
		}
	case corpusOTA:
		if src, err = otaSource(e); err != nil {
			return fail(err)
		}
		if selectors {
			if opts, err = declarationOptions(e); err != nil {
				return fail(err)
			}
			if err := opts.Validate(); err != nil {
				row.Reason = "declaration: " + err.Error()
			}
		}
	}

	doc, err := snapshot.ExtractWith(page, src, opts)
	if err != nil {
		return fail(err)
	}
	// citp's expected text starts with "# <title>", as Markdown() does; OTA's
	// is the selected content alone, as Body is.
	got := doc.Markdown()
	if c.kind == corpusOTA {
		got = doc.Body
	}
	row.Precision, row.Recall, row.F1 = snapshot.TokenScore(got, want)
	st := snapshot.StructureScore(got, want)
	row.HeadingsWant, row.HeadingsKept, row.ItemsWant, row.ItemsKept = st.HeadingsWant, st.HeadingsKept, st.ItemsWant, st.ItemsKept
	row.Verdict = string(doc.Quality.Verdict)
	row.Reason = joinNotes(row.Reason, doc.Quality.Reason)
	if selectors && (len(opts.Select) > 0 || len(opts.Remove) > 0) {
		rep, err := snapshot.CheckSelectors(page, src.ContentType, opts)
		if err != nil {
			return fail(err)
		}
		row.SelectorFallback, row.UnmatchedSelectors = rep.Fallback, rep.Unmatched
	}
	return row
}

func joinNotes(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// citpSource rebuilds a citp pair's Source from its id_ URL, whose original
// URL is path-escaped ("http%3A//host/x"). The dataset stored every page as
// UTF-8, legacy pages already decoded, so the charset is known.
func citpSource(e manifestEntry) (snapshot.Source, error) {
	_, orig, ok := strings.Cut(e.WaybackURL, "id_/")
	if !ok {
		return snapshot.Source{}, fmt.Errorf("citp source: no id_ in %q", e.WaybackURL)
	}
	u, err := url.PathUnescape(orig)
	if err != nil {
		return snapshot.Source{}, fmt.Errorf("citp source: %w", err)
	}
	return snapshot.Source{Site: e.Domain, URL: u, Timestamp: e.Timestamp, ContentType: "text/html; charset=utf-8"}, nil
}

// otaSource builds an OTA pair's Source from the fetched URL and time; OTA
// fetched live pages, so the Wayback timestamp is the fetch time.
func otaSource(e manifestEntry) (snapshot.Source, error) {
	at, err := time.Parse(time.RFC3339, e.FetchedAt)
	if err != nil {
		return snapshot.Source{}, fmt.Errorf("ota source: fetched_at: %w", err)
	}
	u, err := url.Parse(e.URL)
	if err != nil {
		return snapshot.Source{}, fmt.Errorf("ota source: url: %w", err)
	}
	return snapshot.Source{
		Site:        strings.TrimPrefix(u.Hostname(), "www."),
		URL:         e.URL,
		Timestamp:   at.UTC().Format("20060102150405"),
		ContentType: "text/html",
	}, nil
}

// declarationOptions turns an OTA declaration's select and remove (a string,
// a range object, or an array of either) into Options.
func declarationOptions(e manifestEntry) (snapshot.Options, error) {
	sel, err := snapshot.ParseSelectors(e.Declaration.Select)
	if err != nil {
		return snapshot.Options{}, fmt.Errorf("declaration select: %w", err)
	}
	rem, err := snapshot.ParseSelectors(e.Declaration.Remove)
	if err != nil {
		return snapshot.Options{}, fmt.Errorf("declaration remove: %w", err)
	}
	return snapshot.Options{Select: sel, Remove: rem}, nil
}

func (r evalRow) flagged() bool {
	return r.Error != "" || r.F1 < evalFlagThreshold || r.Verdict != string(snapshot.VerdictOK)
}

// notes is the human-readable tail of a row: why it may be off.
func (r evalRow) notes() string {
	var n []string
	if r.Error != "" {
		n = append(n, "ERROR: "+r.Error)
	}
	if r.Reason != "" {
		n = append(n, r.Reason)
	}
	if r.SelectorFallback {
		n = append(n, "select matched nothing: whole page")
	} else if len(r.UnmatchedSelectors) > 0 {
		n = append(n, "no match: "+strings.Join(r.UnmatchedSelectors, ", "))
	}
	if len(r.Filters) > 0 {
		n = append(n, "filters not run: "+strings.Join(r.Filters, ","))
	}
	if r.Fetcher == "fullDom" {
		n = append(n, "fullDom")
	}
	if len(r.Flags) > 0 {
		n = append(n, strings.Join(r.Flags, ","))
	}
	return strings.Join(n, "; ")
}

func ratio(kept, want int) string { return fmt.Sprintf("%d/%d", kept, want) }

// printEval prints one corpus as an aligned table, best documents first so
// that the worst are the last thing on the screen, then its means.
func printEval(w io.Writer, s *evalSummary) {
	rows := slices.Clone(s.Rows)
	slices.SortStableFunc(rows, func(a, b evalRow) int {
		switch {
		case (a.Error != "") != (b.Error != ""):
			if a.Error != "" {
				return 1
			}
			return -1
		case a.F1 > b.F1:
			return -1
		case a.F1 < b.F1:
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	fmt.Fprintf(w, "%s: %d documents in %s", s.label(), len(s.Rows), s.Dir)
	if s.Sample > 1 {
		fmt.Fprintf(w, " (every %dth pair only)", s.Sample)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tDOCUMENT\tP\tR\tF1\tHEADINGS\tITEMS\tVERDICT\tNOTES")
	for _, r := range rows {
		mark := ""
		if r.flagged() {
			mark = "!"
		}
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t%s\n", mark, r.ID, r.notes())
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%.3f\t%.3f\t%.3f\t%s\t%s\t%s\t%s\n", mark, r.ID, r.Precision, r.Recall, r.F1,
			ratio(r.HeadingsKept, r.HeadingsWant), ratio(r.ItemsKept, r.ItemsWant), r.Verdict, r.notes())
	}
	tw.Flush()
	fmt.Fprintln(w)
	printMeans(w, []*evalSummary{s})
}

// printMeans prints one line of means per corpus: the numbers that
// docs/extraction.md records.
func printMeans(w io.Writer, list []*evalSummary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEANS\tDOCS\tERRORS\tP\tR\tF1\tHEADINGS KEPT\tITEMS KEPT\tVERDICT OK")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.4f\t%.4f\t%.4f\t%s\t%s\t%d/%d\n", s.label(), s.Documents, s.Errors,
			s.Precision, s.Recall, s.F1, pct(s.HeadingsKept, s.HeadingsWant), pct(s.ItemsKept, s.ItemsWant),
			s.VerdictOK, s.Documents)
	}
	tw.Flush()
}

func pct(kept, want int) string {
	if want == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d (%.1f%%)", kept, want, 100*float64(kept)/float64(want))
}
