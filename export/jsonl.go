package export

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/policywatch/policywatch/store"
)

// Record is one line of the jsonl export: one version of one vendor's
// policy. Researchers' scripts depend on these names; keep them stable and
// documented in docs/export.md.
type Record struct {
	Vendor          string  `json:"vendor"`
	URL             string  `json:"url"`  // the original URL of the version's first capture
	Site            string  `json:"site"` // the vendor URL's host without "www."
	SHA256          string  `json:"sha256"`
	FirstSeen       string  `json:"first_seen"` // 14-digit Wayback timestamp, UTC
	LastSeen        string  `json:"last_seen"`  // 14-digit Wayback timestamp, UTC
	FirstWaybackURL string  `json:"first_wayback_url"`
	Captures        int     `json:"captures"`
	LastUpdated     *string `json:"last_updated"` // "YYYY-MM-DD" the policy states, or null
	LastUpdatedText *string `json:"last_updated_text"`
	Title           string  `json:"title"`
	Markdown        string  `json:"markdown"` // the citp file at the version's first capture, provenance line included
	Extractor       string  `json:"extractor"`
	// Periods are the stretches of the archive during which this was the
	// policy's text, oldest first: more than one when the text came back
	// (A → B → A gives A two periods). Each is a commit of the citp export.
	Periods []Period `json:"periods"`
}

// Period is one stretch of the archive with one text: from the first
// capture showing it to the last capture before the text changed (so far,
// for the current text). Both are 14-digit Wayback timestamps, UTC.
type Period struct {
	From string `json:"from"`
	To   string `json:"to"`
}

func newRecord(v *store.Vendor, site string, ver *store.Version, periods []*period) Record {
	ps := []Period{}
	for _, p := range periods {
		if p.ver.ID == ver.ID {
			ps = append(ps, Period{From: p.start.Timestamp, To: p.to})
		}
	}
	return Record{
		Vendor:          v.Name,
		URL:             ver.First.Original,
		Site:            site,
		SHA256:          ver.SHA256,
		FirstSeen:       ver.First.Timestamp,
		LastSeen:        ver.Last.Timestamp,
		FirstWaybackURL: ver.First.WaybackURL(),
		Captures:        ver.Captures,
		LastUpdated:     optional(ver.StatedDate),
		LastUpdatedText: optional(ver.StatedDateText),
		Title:           ver.Title,
		Markdown:        render(site, ver, ver.First),
		Extractor:       ver.Extractor,
		Periods:         ps,
	}
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// JSONL writes one Record per version of the vendors to w, vendor after
// vendor in the order given, each vendor's versions oldest first, each with
// its text periods (see Record.Periods). It loads
// one vendor at a time, so memory stays bounded by the largest vendor's
// history. It returns how many records it wrote.
func (e *Exporter) JSONL(ctx context.Context, w io.Writer, vendors []*store.Vendor) (int, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // policy text is full of "<", ">" and "&"; keep it readable
	n := 0
	for _, v := range vendors {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("export jsonl: %w", err)
		}
		site, err := Site(v.URL)
		if err != nil {
			return n, fmt.Errorf("export jsonl: vendor %q: %w", v.Name, err)
		}
		versions, err := e.DB.Versions(ctx, v.ID)
		if err != nil {
			return n, fmt.Errorf("export jsonl: %w", err)
		}
		periods, err := e.periods(ctx, v, versions)
		if err != nil {
			return n, fmt.Errorf("export jsonl: %w", err)
		}
		for _, ver := range versions {
			if err := enc.Encode(newRecord(v, site, ver, periods)); err != nil {
				return n, fmt.Errorf("export jsonl: %w", err)
			}
			n++
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("export jsonl: %w", err)
	}
	return n, nil
}

// ErrNotJSONLExport is returned when the jsonl export would replace a file
// that is not an earlier jsonl export.
var ErrNotJSONLExport = errors.New("not a policywatch jsonl export")

// JSONLFile writes the jsonl export to the file at path. The file is
// written beside its destination and renamed over it at the end, so an
// interrupted export leaves the previous file whole. An existing file is
// replaced only when it is empty or an earlier jsonl export (its first line
// is a Record), since anything else is someone's data.
func (e *Exporter) JSONLFile(ctx context.Context, path string, vendors []*store.Vendor) (int, error) {
	if err := checkReplaceable(path); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("export jsonl: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	n, err := e.JSONL(ctx, tmp, vendors)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return 0, fmt.Errorf("export jsonl to %s: %w", path, err)
	}
	return n, nil
}

// checkReplaceable refuses a path the jsonl export must not overwrite.
func checkReplaceable(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("export jsonl: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("export jsonl: %w", err)
	}
	if st.IsDir() {
		return fmt.Errorf("export jsonl: %s is a directory; --format jsonl writes one file (use --format citp for a directory)", path)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("export jsonl: %s is not a regular file; give a new file name or - for stdout", path)
	}
	if st.Size() == 0 {
		return nil
	}
	var first map[string]json.RawMessage
	if err := json.NewDecoder(bufio.NewReader(f)).Decode(&first); err == nil {
		_, hasVendor := first["vendor"]
		_, hasSHA := first["sha256"]
		_, hasMarkdown := first["markdown"]
		if hasVendor && hasSHA && hasMarkdown {
			return nil
		}
	}
	return fmt.Errorf("export jsonl: %s already exists and is %w; give a new file name, or move it away first", path, ErrNotJSONLExport)
}
