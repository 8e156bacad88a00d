package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/snapshot"
)

const evalChangesHelp = `Runs the change detector over every pair of consecutive recorded versions
in an Open Terms Archive corpus (manifest.jsonl: prev_pair_id links a version
to the one recorded just before it). Each such pair is a real, recorded text
change, so every one must be detected. Prints per pair the kinds, severity
and clause counts, then the detection recall, the kinds distribution and how
many were judged cosmetic. With --reports DIR it also writes one Markdown
report per pair there, for reading.
`

// changeRow is one consecutive pair's result.
type changeRow struct {
	ID           string         `json:"id"`
	PrevID       string         `json:"prev_id"`
	SameBytes    bool           `json:"same_bytes"` // the two recorded texts are byte-identical
	TextChanged  bool           `json:"text_changed"`
	Kinds        []string       `json:"kinds"`
	OldDate      string         `json:"old_date"`
	NewDate      string         `json:"new_date"`
	Severity     string         `json:"severity"`
	Score        int            `json:"score"`
	Stats        diffing.Stats  `json:"stats"`
	FlipBack     bool           `json:"flip_back"`
	Millis       float64        `json:"millis"`
	change       diffing.Change // for --reports
	oldTS, newTS string
}

// changeSummary is the corpus-level result.
type changeSummary struct {
	Pairs          int            `json:"pairs"`
	RealChanges    int            `json:"real_changes"` // pairs whose recorded texts differ
	Detected       int            `json:"detected"`     // real changes with TextChanged
	Recall         float64        `json:"recall"`
	Kinds          map[string]int `json:"kinds"`
	Cosmetic       int            `json:"cosmetic"`
	Severity       map[string]int `json:"severity"`
	MedianMillis   float64        `json:"median_millis"`
	MaxMillis      float64        `json:"max_millis"`
	FalseIdentical []string       `json:"missed"` // real changes reported as no text change
}

func (m *Main) runEvalChanges(ctx context.Context, args []string) error {
	fs, _ := m.newFlagSet("eval changes", "--corpus DIR [--json] [--reports DIR]", evalChangesHelp)
	dir := fs.String("corpus", "", "corpus `directory`: the corpus root or its ota/ folder")
	asJSON := fs.Bool("json", false, "print a JSON document")
	reports := fs.String("reports", "", "write one Markdown report per pair into this `directory`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		fs.Usage()
		return fmt.Errorf("eval changes: --corpus DIR is required")
	}
	corpora, err := findCorpora(*dir)
	if err != nil {
		return fmt.Errorf("eval changes: %w", err)
	}
	var ota string
	for _, c := range corpora {
		if c.kind == corpusOTA {
			ota = c.dir
		}
	}
	if ota == "" {
		return fmt.Errorf("eval changes: %s holds no Open Terms Archive corpus (an ota/manifest.jsonl with prev_pair_id)", *dir)
	}
	entries, err := readManifest(filepath.Join(ota, "manifest.jsonl"))
	if err != nil {
		return fmt.Errorf("eval changes: %w", err)
	}
	rows, sum, err := evalChanges(ctx, ota, entries)
	if err != nil {
		return fmt.Errorf("eval changes: %w", err)
	}
	if *reports != "" {
		if err := writeChangeReports(*reports, rows); err != nil {
			return fmt.Errorf("eval changes: %w", err)
		}
	}
	if *asJSON {
		return writeJSON(m.Stdout, map[string]any{"corpus": ota, "summary": sum, "pairs": rows})
	}
	printChanges(m.Stdout, rows, sum)
	return nil
}

// docFromMarkdown makes a Document of a recorded text, reading its stated
// date the way extraction does.
func docFromMarkdown(md string) *snapshot.Document {
	d := &snapshot.Document{Body: md, Quality: snapshot.Quality{Verdict: snapshot.VerdictOK}}
	d.StatedDate, d.StatedDateText = snapshot.FindStatedDate(md)
	return d
}

func evalChanges(ctx context.Context, dir string, entries []manifestEntry) ([]*changeRow, changeSummary, error) {
	byID := make(map[string]manifestEntry, len(entries))
	for _, e := range entries {
		byID[e.ID] = e
	}
	texts := map[string]string{}
	read := func(e manifestEntry) (string, error) {
		if t, ok := texts[e.ID]; ok {
			return t, nil
		}
		b, err := os.ReadFile(filepath.Join(dir, e.MD))
		if err != nil {
			return "", err
		}
		texts[e.ID] = string(b)
		return string(b), nil
	}
	// Every recorded text of each document, to tell a flip-back: a new text
	// equal to one recorded before the previous one.
	history := map[string][]manifestEntry{}
	for _, e := range entries {
		key := e.Service + "/" + e.DocType
		history[key] = append(history[key], e)
	}

	sum := changeSummary{Kinds: map[string]int{}, Severity: map[string]int{}}
	var rows []*changeRow
	var times []float64
	for _, e := range entries {
		if e.PrevPairID == "" {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, sum, err
		}
		prev, ok := byID[e.PrevPairID]
		if !ok {
			return nil, sum, fmt.Errorf("%s: prev_pair_id %s is not in the manifest", e.ID, e.PrevPairID)
		}
		oldMD, err := read(prev)
		if err != nil {
			return nil, sum, err
		}
		newMD, err := read(e)
		if err != nil {
			return nil, sum, err
		}
		flip := false
		newHash := snapshot.Hash(newMD)
		for _, h := range history[e.Service+"/"+e.DocType] {
			if h.FetchedAt >= prev.FetchedAt {
				continue
			}
			t, err := read(h)
			if err != nil {
				return nil, sum, err
			}
			if snapshot.Hash(t) == newHash {
				flip = true
			}
		}
		start := time.Now()
		ch := diffing.CompareWith(docFromMarkdown(oldMD), docFromMarkdown(newMD), diffing.Options{FlipBack: flip})
		ms := float64(time.Since(start).Microseconds()) / 1000
		times = append(times, ms)
		r := &changeRow{ID: e.ID, PrevID: prev.ID, SameBytes: oldMD == newMD, TextChanged: ch.TextChanged,
			Kinds: ch.Kinds, OldDate: ch.OldDate, NewDate: ch.NewDate, Severity: ch.Severity.Level, Score: ch.Severity.Score,
			Stats: ch.Stats, FlipBack: flip, Millis: ms, change: ch, oldTS: prev.FetchedAt, newTS: e.FetchedAt}
		if r.Kinds == nil {
			r.Kinds = []string{}
		}
		rows = append(rows, r)
		sum.Pairs++
		if !r.SameBytes {
			sum.RealChanges++
			if r.TextChanged {
				sum.Detected++
			} else {
				sum.FalseIdentical = append(sum.FalseIdentical, r.ID)
			}
		}
		for _, k := range r.Kinds {
			sum.Kinds[k]++
			if k == diffing.KindCosmetic {
				sum.Cosmetic++
			}
		}
		if r.Severity != "" {
			sum.Severity[r.Severity]++
		}
	}
	if sum.RealChanges > 0 {
		sum.Recall = float64(sum.Detected) / float64(sum.RealChanges)
	}
	if len(times) > 0 {
		sort.Float64s(times)
		sum.MedianMillis = times[len(times)/2]
		sum.MaxMillis = times[len(times)-1]
	}
	if sum.FalseIdentical == nil {
		sum.FalseIdentical = []string{}
	}
	return rows, sum, nil
}

func printChanges(w io.Writer, rows []*changeRow, sum changeSummary) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PAIR\tKINDS\tSEVERITY\tDATES\tMOD\tADD\tREM\tMOVED\tRENUM")
	for _, r := range rows {
		flag := " "
		if !r.SameBytes && !r.TextChanged {
			flag = "!"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s %d\t%s → %s\t%d\t%d\t%d\t%d\t%d\n", flag, r.ID, strings.Join(r.Kinds, ","),
			orDashLevel(r.Severity), r.Score, orDash(r.OldDate), orDash(r.NewDate),
			r.Stats.Modified, r.Stats.Added, r.Stats.Removed, r.Stats.Moved, r.Stats.Renumbered)
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d consecutive pairs, %d real text changes, %d detected (recall %.3f)", sum.Pairs, sum.RealChanges, sum.Detected, sum.Recall)
	if len(sum.FalseIdentical) > 0 {
		fmt.Fprintf(w, "; MISSED: %s", strings.Join(sum.FalseIdentical, ", "))
	}
	fmt.Fprintf(w, "\nkinds: %s\ncosmetic: %d\nseverity: %s\ncompare time: median %.2f ms, max %.2f ms\n",
		countList(sum.Kinds), sum.Cosmetic, countList(sum.Severity), sum.MedianMillis, sum.MaxMillis)
}

func orDashLevel(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func countList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// writeChangeReports writes each pair's change as the Markdown report a user
// would read (diffing.RenderMarkdown), for reading a sample by hand.
func writeChangeReports(dir string, rows []*changeRow) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, r := range rows {
		rep := diffing.Report{
			Vendor: r.ID,
			Old:    diffing.Side{Timestamp: r.oldTS, StatedDate: r.OldDate},
			New:    diffing.Side{Timestamp: r.newTS, StatedDate: r.NewDate},
			Change: r.change,
		}
		var b strings.Builder
		if err := diffing.RenderMarkdown(&b, rep); err != nil {
			return fmt.Errorf("report %s: %w", r.ID, err)
		}
		name := strings.ReplaceAll(r.ID, "/", "__") + ".md"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
