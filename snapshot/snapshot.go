// Package snapshot turns the raw bytes of one archived capture into a Document:
// decoded text, the policy's main content as Markdown in the Princeton-Leuven
// (citp) format, the date the policy states for itself, and a verdict on whether
// the capture is a policy at all. It is the leaf of the import graph and does no I/O.
//
// Every document has a budget, so that no capture can crash or stall a pass:
// input is cut at MaxInputBytes, a page whose markup would build more than
// MaxNodes DOM nodes is reduced to its plain text, nesting deeper than 256
// levels is flattened, and a PDF is read within per-page and total content
// limits (decode.go, pdf.go). Each cut is named in Quality.Reason.
package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// WaybackBase is the public archive used in provenance lines and resolved links.
// Documents always point readers at the real archive, even when a capture was
// fetched from a mirror or a test server.
const WaybackBase = "https://web.archive.org"

// Source says where a capture came from. Extraction needs it to resolve relative
// links against the capture's id_ URL and to write the provenance line.
type Source struct {
	Site        string // the site tracked, e.g. "seranking.com" (host without "www.")
	URL         string // the original URL that was captured
	Timestamp   string // 14-digit Wayback timestamp, UTC
	ContentType string // Content-Type of the playback response, "" when unknown
}

// WaybackURL returns the raw (id_) playback URL of the capture on the public archive.
func (s Source) WaybackURL() string {
	return WaybackBase + "/web/" + s.Timestamp + "id_/" + s.URL
}

// Verdict classifies a capture: only VerdictOK captures become versions.
type Verdict string

// Verdicts. Anything but VerdictOK is stored but never becomes a version or an alert.
const (
	VerdictOK          Verdict = "ok"
	VerdictEmpty       Verdict = "empty"       // no meaningful text
	VerdictErrorPage   Verdict = "error-page"  // Wayback/server error page, soft 404
	VerdictUnsupported Verdict = "unsupported" // not HTML or text (PDF, image, binary)
)

// Quality is the verdict with a human-readable reason.
type Quality struct {
	Verdict Verdict
	Reason  string
}

// OK reports whether the capture holds a policy text worth versioning.
func (q Quality) OK() bool { return q.Verdict == VerdictOK }

// Document is what policywatch keeps of one capture's text.
type Document struct {
	Title          string // page title (HTML <title>, else first <h1>)
	Body           string // Markdown body, without provenance and title lines
	StatedDate     string // "YYYY-MM-DD" the policy states for itself, or ""
	StatedDateText string // the phrase the date was read from, e.g. "Last updated May 25, 2018"
	// DateHistory holds the other dates the policy states about itself
	// (earlier versions in a history table, "previous version of …"), as
	// "YYYY-MM-DD", newest first; StatedDate is the one for this version.
	DateHistory []string
	Charset     string  // charset the bytes were decoded from, e.g. "windows-1252"
	Quality     Quality // whether this is a policy text at all
}

// ErrBadSource is returned by Extract when the Source cannot locate a capture:
// without a valid timestamp and an absolute URL neither links nor the provenance
// line can be written, and that is the caller's bug, not the page's.
var ErrBadSource = errors.New("snapshot: bad source")

var timestampRe = regexp.MustCompile(`^[0-9]{14}$`)

// validate checks the fields Extract relies on.
func (s Source) validate() error {
	if !timestampRe.MatchString(s.Timestamp) {
		return fmt.Errorf("%w: timestamp %q is not 14 digits", ErrBadSource, s.Timestamp)
	}
	if _, err := parseAbsURL(s.URL); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSource, err)
	}
	return nil
}

// archivedDate returns the capture day as YYYY-MM-DD.
func (s Source) archivedDate() string {
	if len(s.Timestamp) < 8 {
		return s.Timestamp
	}
	return s.Timestamp[0:4] + "-" + s.Timestamp[4:6] + "-" + s.Timestamp[6:8]
}

// Markdown returns "# <Title>\n\n<Body>": the text whose hash identifies a version.
func (d *Document) Markdown() string { return "# " + d.Title + "\n\n" + d.Body }

// Render returns the full citp-format file: provenance line, blank line, Markdown().
// The provenance line is the dataset's, word for word, so that our files and the
// Princeton-Leuven corpus can be compared and mixed.
func (d *Document) Render(src Source) string {
	return "> *The following text is extracted and transformed from the " + src.Site +
		" privacy policy that was archived on " + src.archivedDate() +
		". Please check the [original snapshot on the Wayback Machine](" + src.WaybackURL() +
		") for the most accurate reproduction.*\n\n" + d.Markdown()
}

var blankRunRe = regexp.MustCompile(`\n{3,}`)

// archiveLinkRe matches the capture prefix that relative links get when they
// are resolved against the capture's id_ URL. It differs in every capture.
var archiveLinkRe = regexp.MustCompile(`https://web\.archive\.org/web/[0-9]{1,14}(?:[a-z]{2}_)?/`)

// urlVariantRe matches the parts of a URL by which the archive's own
// canonicalisation (SURT) does not tell pages apart: scheme and "www.".
var urlVariantRe = regexp.MustCompile(`(?i)\bhttps?://(?:www[0-9]*\.)?`)

// Normalize is the text identity of a version: non-breaking spaces become spaces,
// line endings become \n, trailing whitespace on each line goes, runs of blank
// lines become one and the whole is trimmed. These differences come from markup
// reshuffles (an extra <br>, a &nbsp;) that readers cannot see, so two captures
// differing only in them must count as the same version. Links into the
// archive lose their capture prefix for the same reason: a relative link
// resolved against each capture's id_ URL names a new timestamp every time,
// though the page links to the same place. And since a page captured as
// http://www.x.com and as https://x.com is one page to the archive, links
// that differ only in scheme or "www." are the same text too.
func Normalize(markdown string) string {
	s := archiveLinkRe.ReplaceAllString(markdown, "")
	s = urlVariantRe.ReplaceAllString(s, "//")
	s = strings.ReplaceAll(s, "\u00a0", " ")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\f\v")
	}
	s = strings.Join(lines, "\n")
	s = blankRunRe.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s)
}

// Hash returns the hex SHA-256 of the normalised Markdown (see Normalize).
func Hash(markdown string) string {
	sum := sha256.Sum256([]byte(Normalize(markdown)))
	return hex.EncodeToString(sum[:])
}

// ExtractorVersion names the extraction logic. Bump it whenever the same
// bytes can come out as different text (a change to content selection,
// rendering, normalisation or the date finder): stored versions made by an
// older extractor are then re-extracted before new captures are compared
// with them, so that policywatch never reports its own change as the vendor's.
const ExtractorVersion = "2026.11.3"
