// Package snapshot turns the raw bytes of one archived capture into a Document:
// decoded text, the policy's main content as Markdown in the Princeton-Leuven
// (citp) format, the date the policy states for itself, and a verdict on whether
// the capture is a policy at all. It is the leaf of the import graph and does no I/O.
package snapshot

import (
	"errors"
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
	Title          string  // page title (HTML <title>, else first <h1>)
	Body           string  // Markdown body, without provenance and title lines
	StatedDate     string  // "YYYY-MM-DD" the policy states for itself, or ""
	StatedDateText string  // the phrase the date was read from, e.g. "Last updated May 25, 2018"
	Charset        string  // charset the bytes were decoded from, e.g. "windows-1252"
	Quality        Quality // whether this is a policy text at all
}

// ErrNotImplemented is returned by the stubs until the package is implemented.
var ErrNotImplemented = errors.New("snapshot: not implemented")

// Extract decodes raw and extracts the policy as a Document.
func Extract(raw []byte, src Source) (*Document, error) { return nil, ErrNotImplemented }

// Markdown returns "# <Title>\n\n<Body>": the text whose hash identifies a version.
func (d *Document) Markdown() string { return "# " + d.Title + "\n\n" + d.Body }

// Render returns the full citp-format file: provenance line, blank line, Markdown().
func (d *Document) Render(src Source) string { return "" }

// Hash returns the hex SHA-256 of the normalised Markdown.
func Hash(markdown string) string { return "" }

// Decode converts raw bytes to UTF-8 using header charset, BOM, <meta>, then a fallback.
func Decode(raw []byte, contentType string) (text, charset string, err error) {
	return "", "", ErrNotImplemented
}

// FindStatedDate finds the date a policy text states for itself.
func FindStatedDate(text string) (date, phrase string) { return "", "" }
