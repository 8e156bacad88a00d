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
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/policywatch/policywatch/snapshot"
)

const evalDatesHelp = `Extracts every labelled page of a corpus as the pipeline does and compares
the stated date ("last updated") policywatch finds with the date a reader
labelled. DIR is the corpus root (holding citp/ and ota/); each label names
a page by its path under DIR, with the expected date or null when the page
states none (testdata/dates/labels.jsonl).

Per document it prints the expected date, the date found and the phrase it
was read from; "!" flags a wrong date, "-" a missed one. Overall:
  precision  correct dates / dates returned (a wrong date is the costly error)
  recall     correct dates / labelled documents that state a date

Exit status 0 when the evaluation ran, whatever the scores.
`

// dateLabel is one line of the labels file.
type dateLabel struct {
	Path   string  `json:"path"`
	Date   *string `json:"date"`
	Phrase *string `json:"phrase"`
	Lang   string  `json:"lang"`
	Note   string  `json:"note"`
}

// dateRow is one document's result; the JSON names are stable for scripts.
type dateRow struct {
	Path     string   `json:"path"`
	Lang     string   `json:"lang,omitempty"`
	Expected *string  `json:"expected"`
	Got      *string  `json:"got"`
	Phrase   string   `json:"phrase,omitempty"`
	History  []string `json:"history,omitempty"`
	Result   string   `json:"result"` // correct, wrong, missed, none (both empty)
	Note     string   `json:"note,omitempty"`
	Error    string   `json:"error,omitempty"`
}

type dateReport struct {
	Documents int       `json:"documents"`
	Stated    int       `json:"stated"`
	Returned  int       `json:"returned"`
	Correct   int       `json:"correct"`
	Precision float64   `json:"precision"`
	Recall    float64   `json:"recall"`
	Rows      []dateRow `json:"rows"`
}

func (m *Main) runEvalDates(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("eval dates", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: policywatch eval dates --corpus DIR --labels FILE [--json]\n\n%s\nFlags:\n", evalDatesHelp)
		fs.PrintDefaults()
	}
	dir := fs.String("corpus", m.Getenv("POLICYWATCH_CORPUS"), "corpus root `DIR` (env POLICYWATCH_CORPUS)")
	labelsPath := fs.String("labels", filepath.Join("testdata", "dates", "labels.jsonl"), "labels `FILE` (JSON lines)")
	asJSON := fs.Bool("json", false, "print a JSON document instead of a table")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		fs.Usage()
		return errors.New("eval dates: --corpus DIR is required")
	}
	labels, err := readDateLabels(*labelsPath)
	if err != nil {
		return fmt.Errorf("eval dates: %w", err)
	}
	rep, err := evaluateDates(ctx, *dir, labels)
	if err != nil {
		return fmt.Errorf("eval dates: %w", err)
	}
	if *asJSON {
		return writeJSON(m.Stdout, rep)
	}
	printDates(m.Stdout, rep)
	return nil
}

// readDateLabels reads the labels file, checking every date, so that a typo
// in a label fails loudly instead of counting as a miss.
func readDateLabels(path string) ([]dateLabel, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	defer f.Close()
	var out []dateLabel
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var l dateLabel
		if err := json.Unmarshal(line, &l); err != nil {
			return nil, fmt.Errorf("labels %s:%d: %w", path, n, err)
		}
		if l.Path == "" {
			return nil, fmt.Errorf("labels %s:%d: no path", path, n)
		}
		if l.Date != nil {
			if _, err := time.Parse("2006-01-02", *l.Date); err != nil {
				return nil, fmt.Errorf("labels %s:%d: date: %w", path, n, err)
			}
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("labels %s: %w", path, err)
	}
	return out, nil
}

// evaluateDates finds each labelled page in the corpus manifests (for its
// Source) and extracts it as `eval extract` does.
func evaluateDates(ctx context.Context, dir string, labels []dateLabel) (*dateReport, error) {
	corpora, err := findCorpora(dir)
	if err != nil {
		return nil, err
	}
	type page struct {
		kind, dir string
		entry     manifestEntry
	}
	pages := map[string]page{}
	for _, c := range corpora {
		entries, err := readManifest(filepath.Join(c.dir, "manifest.jsonl"))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			pages[c.kind+"/"+e.HTML] = page{c.kind, c.dir, e}
		}
	}
	rep := &dateReport{Documents: len(labels)}
	for _, l := range labels {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		row := dateRow{Path: l.Path, Lang: l.Lang, Expected: l.Date, Note: l.Note}
		if l.Date != nil {
			rep.Stated++
		}
		doc, err := func() (*snapshot.Document, error) {
			p, ok := pages[l.Path]
			if !ok {
				return nil, fmt.Errorf("%s is in no manifest under %s", l.Path, dir)
			}
			raw, err := os.ReadFile(filepath.Join(p.dir, filepath.FromSlash(p.entry.HTML)))
			if err != nil {
				return nil, fmt.Errorf("read page: %w", err)
			}
			var src snapshot.Source
			if p.kind == corpusCITP {
				raw = citpHeaderRe.ReplaceAll(raw, nil)
				src, err = citpSource(p.entry)
			} else {
				src, err = otaSource(p.entry)
			}
			if err != nil {
				return nil, err
			}
			return snapshot.Extract(raw, src)
		}()
		if err != nil {
			row.Error = err.Error()
		}
		want := ""
		if l.Date != nil {
			want = *l.Date
		}
		got := ""
		if doc != nil && doc.StatedDate != "" {
			got = doc.StatedDate
			row.Got, row.Phrase, row.History = &got, doc.StatedDateText, doc.DateHistory
			rep.Returned++
		}
		switch {
		case got != "" && got == want:
			row.Result = "correct"
			rep.Correct++
		case got != "":
			row.Result = "wrong"
		case want != "":
			row.Result = "missed"
		default:
			row.Result = "none"
		}
		rep.Rows = append(rep.Rows, row)
	}
	rep.Precision, rep.Recall = share(rep.Correct, rep.Returned), share(rep.Correct, rep.Stated)
	return rep, nil
}

// share is a/b, and 1 when there is nothing to divide: no dates returned
// means none was wrong.
func share(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func printDates(w io.Writer, rep *dateReport) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tdocument\texpected\tgot\tphrase")
	for _, r := range rep.Rows {
		mark := ""
		switch r.Result {
		case "wrong":
			mark = "!"
		case "missed":
			mark = "-"
		}
		phrase := r.Phrase
		if r.Error != "" {
			phrase = "error: " + r.Error
		}
		if len(phrase) > 70 {
			phrase = phrase[:70] + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", mark, r.Path, orNullDate(r.Expected), orNullDate(r.Got), strings.ReplaceAll(phrase, "\t", " "))
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d documents, %d state a date; %d dates returned, %d correct\nprecision %.4f  recall %.4f\n",
		rep.Documents, rep.Stated, rep.Returned, rep.Correct, rep.Precision, rep.Recall)
}

func orNullDate(s *string) string {
	if s == nil || *s == "" {
		return "null"
	}
	return *s
}
