package store

import (
	"context"
	"strings"

	"github.com/policywatch/policywatch/diffing"
)

// ChangeBetween returns the archive change that took vendorID's text from
// oldV to newV with its first new capture after the period from and no later
// than the period to ("" for no bound), or nil when there is none (the
// versions are the same, or the text went through others in between): only
// a recorded change has a window. Periods are 1-14 digit timestamps; a
// shorter one stands for its last second.
func (db *DB) ChangeBetween(ctx context.Context, vendorID int64, oldV, newV *Version, from, to string) (*Change, error) {
	if oldV.ID == newV.ID {
		return nil, nil
	}
	changes, err := db.Changes(ctx, vendorID, CauseArchive)
	if err != nil {
		return nil, err
	}
	upper := func(ts string) string { return ts + strings.Repeat("9", max(0, 14-len(ts))) }
	var found *Change
	for _, c := range changes {
		first := c.NewCapture.Timestamp
		if c.FromVersionID == oldV.ID && c.ToVersionID == newV.ID && (from == "" || first > upper(from)) && (to == "" || first <= upper(to)) {
			found = c // the latest such change, as changes come in archive order
		}
	}
	return found, nil
}

// BuildReport returns the Report of a comparison between two of v's versions,
// each named by its first capture, and, for a recorded change, its window.
// The CLI's diff, the web pages and the API all describe a change with it,
// so they always say the same thing.
func BuildReport(v *Vendor, oldV, newV *Version, recorded *Change, terms []diffing.Term) diffing.Report {
	side := func(ver *Version) diffing.Side {
		return diffing.Side{Timestamp: ver.First.Timestamp, WaybackURL: ver.First.WaybackURL(), StatedDate: ver.StatedDate}
	}
	r := diffing.Report{Vendor: v.Name, URL: v.URL, Old: side(oldV), New: side(newV)}
	if recorded != nil {
		r.Window = &diffing.Window{
			LastOld:  diffing.CaptureRef{Timestamp: recorded.OldCapture.Timestamp, WaybackURL: recorded.OldCapture.WaybackURL()},
			FirstNew: diffing.CaptureRef{Timestamp: recorded.NewCapture.Timestamp, WaybackURL: recorded.NewCapture.WaybackURL()},
		}
	}
	r.Change = changeBetween(oldV, newV, recorded, terms)
	return r
}

// changeBetween returns the analysis of the change from oldV to newV. A
// recorded change between exactly these versions brings the analysis made
// when it was detected (kinds such as flip-back, severity as alerted), so a
// diff says what the alert said; only its line diff is recomputed. Other
// pairs are compared afresh with the configured key terms.
func changeBetween(oldV, newV *Version, recorded *Change, terms []diffing.Term) diffing.Change {
	if oldV.ID == newV.ID {
		return diffing.Change{OldDate: oldV.StatedDate, NewDate: newV.StatedDate}
	}
	if recorded != nil && recorded.Report != nil && recorded.FromVersionID == oldV.ID && recorded.ToVersionID == newV.ID {
		c := *recorded.Report
		c.Unified = diffing.Unified("old", "new", oldV.Document(), newV.Document())
		return c
	}
	// The new text equals one seen before the old one: only the store
	// knows, so it is said here. For hand-picked sides the order is the
	// user's and a flip-back means nothing.
	flipBack := recorded != nil && newV.First.Timestamp < recorded.OldCapture.Timestamp
	return diffing.CompareWith(oldV.Document(), newV.Document(), diffing.Options{FlipBack: flipBack, Terms: terms})
}
