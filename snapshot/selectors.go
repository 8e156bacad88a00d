package snapshot

import (
	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// Options tune the extraction of one document. The zero value means automatic
// main-content selection.
type Options struct {
	// Select names the parts of the page that hold the policy, in order; when
	// set, automatic content selection is skipped. This is the same idea as an
	// Open Terms Archive declaration's "select".
	Select []Selector
	// Remove names parts of the page to delete first (OTA's "remove").
	Remove []Selector
}

// Selector is a CSS selector, or a range: the content between two elements,
// each given by a CSS selector (OTA's startBefore/startAfter/endBefore/endAfter).
type Selector struct {
	CSS         string `json:"css,omitempty" yaml:"css,omitempty"`
	StartBefore string `json:"startBefore,omitempty" yaml:"start_before,omitempty"`
	StartAfter  string `json:"startAfter,omitempty" yaml:"start_after,omitempty"`
	EndBefore   string `json:"endBefore,omitempty" yaml:"end_before,omitempty"`
	EndAfter    string `json:"endAfter,omitempty" yaml:"end_after,omitempty"`
}

func (o Options) empty() bool { return len(o.Select) == 0 && len(o.Remove) == 0 }

// applyOptions deletes the Remove parts and returns the Select parts (the
// whole body when Select is empty), in document order.
func applyOptions(gq *goquery.Document, opts Options) []*html.Node {
	return gq.Find("body").Nodes // placeholder until selectors are implemented
}
