// Package diffing compares two extracted versions of a policy. It is pure: it
// takes snapshot Documents and returns a Change, with no I/O, so the same
// comparison serves the fetch pass, the diff command and, later, alerts.
package diffing

import (
	"strings"

	"github.com/aymanbagabas/go-udiff"

	"github.com/policywatch/policywatch/snapshot"
)

// Change is what differs between an old and a new version.
type Change struct {
	TextChanged  bool   // the normalised Markdown differs
	DateChanged  bool   // the stated "last updated" date differs
	OldDate      string // stated date of the old version, "YYYY-MM-DD" or ""
	NewDate      string // stated date of the new version
	LinesAdded   int
	LinesRemoved int
	Unified      string // unified line diff of the two Markdown texts ("" when equal)
}

// Compare returns the change from old to new. A nil old (no earlier version)
// is treated as an empty text, so everything counts as added. Line counts
// leave out blank lines.
func Compare(old, new *snapshot.Document) Change {
	a, b := "", ""
	var ch Change
	if old != nil {
		a = Normalise(old.Markdown())
		ch.OldDate = old.StatedDate
	}
	if new != nil {
		b = Normalise(new.Markdown())
		ch.NewDate = new.StatedDate
	}
	ch.DateChanged = ch.OldDate != ch.NewDate
	ch.TextChanged = old == nil || new == nil || snapshot.Hash(old.Markdown()) != snapshot.Hash(new.Markdown())
	if !ch.TextChanged {
		return ch
	}
	ch.Unified = Unified("old", "new", a, b)
	for _, line := range strings.Split(ch.Unified, "\n") {
		switch {
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"),
			strings.TrimSpace(line) == "+", strings.TrimSpace(line) == "-":
			// headers, and blank lines moved by the change, are not text
		case strings.HasPrefix(line, "+"):
			ch.LinesAdded++
		case strings.HasPrefix(line, "-"):
			ch.LinesRemoved++
		}
	}
	return ch
}

// Unified returns a unified diff with three lines of context. Both texts are
// compared line by line; a missing final newline is not reported as a change.
func Unified(oldLabel, newLabel, old, new string) string {
	if !strings.HasSuffix(old, "\n") {
		old += "\n"
	}
	if !strings.HasSuffix(new, "\n") {
		new += "\n"
	}
	return udiff.Unified(oldLabel, newLabel, old, new)
}

// Normalise returns the text a diff is computed on: the same normal form that
// decides version identity (snapshot.Normalize), ending in a newline.
func Normalise(md string) string {
	return snapshot.Normalize(md) + "\n"
}
