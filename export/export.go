// Package export writes the stored versions of vendors' policies out for
// researchers, in two forms:
//
//   - citp: a git repository laid out like the Princeton-Leuven privacy
//     policy dataset (github.com/citp/privacy-policy-historical), one
//     Markdown file per site at <a>/<ab>/<abc>/<domain>.md and one commit
//     per text period (a vendor's first text, then each recorded archive
//     change, reverts included) dated by the period's first capture, so
//     that `git log -p` is the policy's history and the files can be
//     mixed with the dataset's own;
//   - jsonl: one JSON object per version, with the periods it was the
//     policy's text, for loading into analysis tools.
//
// The package reads the store only through its exported API and renders
// every file with snapshot's Document.Render, so an exported file is byte
// for byte what `policywatch show` prints for the same version.
package export

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/snapshot"
	"github.com/policywatch/policywatch/store"
)

// ErrNoVendor is returned when a vendor named for export has no data in the
// database.
var ErrNoVendor = errors.New("no such vendor in the database")

// Exporter writes a database's versions out. It only reads the database.
type Exporter struct {
	DB     *store.DB
	Logger *slog.Logger

	// Git is the git executable; "" looks "git" up in PATH. Tests point it
	// at a missing file to check the error a user without git gets.
	Git string

	// AuthorName and AuthorEmail sign the commits of the citp export; ""
	// means "policywatch" and "policywatch@localhost". They are fixed rather
	// than taken from the user's git config so that two exports of the same
	// versions are the same commits.
	AuthorName  string
	AuthorEmail string
}

// New returns an Exporter reading db; a nil logger discards.
func New(db *store.DB, logger *slog.Logger) *Exporter {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Exporter{DB: db, Logger: logger}
}

func (e *Exporter) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// Vendors returns the vendors called names, in the order given, or every
// vendor in the database (by name) when names is empty. The database, not
// the config, decides: a vendor dropped from the config keeps its history,
// and researchers still want it.
func (e *Exporter) Vendors(ctx context.Context, names []string) ([]*store.Vendor, error) {
	if len(names) == 0 {
		vs, err := e.DB.Vendors(ctx)
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		return vs, nil
	}
	out := make([]*store.Vendor, 0, len(names))
	seen := map[int64]bool{}
	for _, name := range names {
		v, err := e.DB.VendorByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("export: vendor %q: %w", name, ErrNoVendor)
		}
		if err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
		if !seen[v.ID] {
			seen[v.ID] = true
			out = append(out, v)
		}
	}
	return out, nil
}

// Site returns the site a vendor URL belongs to, as the dataset names it:
// the lower-cased host without port and without a leading "www.". It is the
// <domain> of the file path and the site named in the provenance line.
func Site(rawURL string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return "", fmt.Errorf("site of %q: %w", rawURL, err)
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	if !safeName(host) {
		return "", fmt.Errorf("site of %q: host %q cannot name a file", rawURL, host)
	}
	return host, nil
}

// safeName reports whether s can be used as one path element on every
// system the export is read on: no separators, no control characters, and
// not "." or "..", so that no vendor URL can make the export write outside
// its directory.
func safeName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`/\:*?"<>|`, r) {
			return false
		}
	}
	return true
}

// DomainPath returns the dataset's path of a domain's file, slash-separated:
// <a>/<ab>/<abc>/<domain>.md, where a, ab and abc are the domain's first 1,
// 2 and 3 characters, dots included ("x.co" is at x/x./x.c/x.co.md in the
// dataset). A domain shorter than 3 characters uses what it has.
func DomainPath(domain string) string {
	return dirOf(domain) + "/" + domain + ".md"
}

func dirOf(domain string) string {
	r := []rune(domain)
	prefix := func(n int) string { return string(r[:min(n, len(r))]) }
	return prefix(1) + "/" + prefix(2) + "/" + prefix(3)
}

// Slug returns the vendor name as a file-name fragment: lower case, runs of
// anything but letters and digits replaced by one "-". It tells apart the
// files of vendors that share a domain (a site's privacy policy and its
// terms).
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}

// vendorLabel is the vendor's name as it appears in a commit trailer: one
// line, so that the trailer can be read back. Names are compared in this
// form on both sides.
func vendorLabel(name string) string {
	return strings.Join(strings.FieldsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }), " ")
}

// render returns a version's file in the citp format as it was archived at
// one capture: the dataset's provenance line naming the site and linking
// that capture, then the title and the text. Rendered at the version's
// first capture, it is what `policywatch show` prints.
func render(site string, ver *store.Version, at *store.Capture) string {
	src := snapshot.Source{Site: site, URL: at.Original, Timestamp: at.Timestamp}
	return ver.Document().Render(src)
}

// window is the change window of the archive change that began a period:
// the last capture with the text before it and the first with it.
type window struct {
	lastOld, firstNew string // 14-digit timestamps
}

// period is a stretch of a vendor's archive history with one text: from
// the first capture showing it to the last capture before the text
// changed. A policy that goes A → B → A has three periods and two
// versions; the citp export commits once per period, so that a file's git
// history follows the archive, reverts included.
type period struct {
	ver   *store.Version
	start *store.Capture // the period's first capture: it dates the commit and is the provenance line's link
	to    string         // 14-digit timestamp of the period's last capture with this text, so far

	// change is the recorded archive change that began the period. It is
	// nil for a vendor's first text, and for a version whose first capture
	// no archive change leads to (which should not happen: a store edited
	// by hand, or one left inconsistent); that period starts at the
	// version's first capture.
	change *store.Change
	// flipBack says the period returns to a text archived before: the
	// change's kinds say so, or an earlier period has the same version.
	flipBack bool
}

func (p *period) window() *window {
	if p.change == nil {
		return nil
	}
	return &window{lastOld: p.change.OldCapture.Timestamp, firstNew: p.change.NewCapture.Timestamp}
}

// periods splits the vendor's history into text periods, oldest first: one
// for each recorded archive change (store.DB.Changes with CauseArchive),
// starting at its new capture, and one at each version's first capture
// that no archive change starts (the vendor's first text, and versions
// whose arrival was not recorded as a change). versions are the vendor's,
// as store.DB.Versions returns them; changes to a version not among them
// (one no capture points at any more since a re-extraction) are skipped.
func (e *Exporter) periods(ctx context.Context, vendor *store.Vendor, versions []*store.Version) ([]*period, error) {
	if len(versions) == 0 {
		return nil, nil
	}
	changes, err := e.DB.Changes(ctx, vendor.ID, store.CauseArchive)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*store.Version, len(versions))
	for _, v := range versions {
		byID[v.ID] = v
	}
	started := map[int64]bool{} // capture ID → a period starts there
	var out []*period
	for _, c := range changes {
		v := byID[c.ToVersionID]
		if v == nil || c.OldCapture == nil || c.NewCapture == nil || started[c.NewCapture.ID] {
			continue
		}
		started[c.NewCapture.ID] = true
		out = append(out, &period{ver: v, start: c.NewCapture, change: c})
	}
	for i, v := range versions {
		if started[v.First.ID] {
			continue
		}
		if i > 0 {
			e.logger().Warn("no archive change leads to this version; its period starts at its first capture",
				"vendor", vendor.Name, "sha256", v.SHA256, "first_seen", v.First.Timestamp)
		}
		started[v.First.ID] = true
		out = append(out, &period{ver: v, start: v.First})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].start, out[j].start
		if a.Timestamp != b.Timestamp {
			return a.Timestamp < b.Timestamp
		}
		return a.ID < b.ID
	})
	seen := map[int64]bool{} // version ID → an earlier period has it
	for i, p := range out {
		p.flipBack = p.change != nil && (slices.Contains(p.change.Kinds, diffing.KindFlipBack) || seen[p.ver.ID])
		seen[p.ver.ID] = true
		if p.to, err = e.periodEnd(ctx, vendor.ID, p, out[i+1:]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// periodEnd returns the timestamp of the last capture of p: the old
// capture of the change that ends it, the version's last capture when no
// period follows, and otherwise (no change ends it) the store's last
// capture with this version before the next period.
func (e *Exporter) periodEnd(ctx context.Context, vendorID int64, p *period, later []*period) (string, error) {
	if len(later) == 0 {
		// max: a capture recorded by a fetch running while we read can be
		// newer than the version's last capture as read.
		return max(p.ver.Last.Timestamp, p.start.Timestamp), nil
	}
	next := later[0]
	if next.change != nil && next.change.FromVersionID == p.ver.ID {
		return next.change.OldCapture.Timestamp, nil
	}
	_, c, err := e.DB.VersionBefore(ctx, vendorID, next.start.Timestamp)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if c != nil && c.VersionID == p.ver.ID && c.Timestamp >= p.start.Timestamp {
		return c.Timestamp, nil
	}
	return p.start.Timestamp, nil
}

// parseTimestamp reads a 14-digit Wayback timestamp, which is UTC.
func parseTimestamp(ts string) (time.Time, error) {
	t, err := time.ParseInLocation("20060102150405", ts, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q: %w", ts, err)
	}
	return t, nil
}

// isoTime formats a Wayback timestamp as RFC 3339 UTC, or returns it as it
// is when it is not one.
func isoTime(ts string) string {
	t, err := parseTimestamp(ts)
	if err != nil {
		return ts
	}
	return t.Format(time.RFC3339)
}
