package monitor

import (
	"context"
	"fmt"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/snapshot"
	"github.com/policywatch/policywatch/store"
)

// ReextractReport says what re-running the extractor over a vendor's stored
// captures moved. Its JSON form is printed by `policywatch reextract --json`.
type ReextractReport struct {
	Vendor          string          `json:"vendor"`
	Extractor       string          `json:"extractor"`
	Captures        int             `json:"captures_reextracted"`
	VerdictsChanged int             `json:"captures_changed"`
	VersionsBefore  int             `json:"versions_before"`
	VersionsAfter   int             `json:"versions_after"`
	ChangesBefore   int             `json:"changes_before"`
	ChangesAfter    int             `json:"changes_after"`
	Removed         []ChangeSummary `json:"changes_removed"`
	Added           []ChangeSummary `json:"changes_added"`
	Updated         int             `json:"changes_reextracted"`
	// ExtractorChange is the difference between the latest text before and
	// after: made by policywatch, not by the vendor, so it never alerts.
	ExtractorChange *ChangeSummary `json:"extractor_change"`
}

// Reextract runs the current extractor (with the vendor's selectors) over
// every stored capture of the vendor that has a complete 2xx body, and
// rebuilds its versions and changes from the result in one transaction.
// Nothing is fetched: the raw bytes were kept for exactly this.
func (m *Monitor) Reextract(ctx context.Context, v Vendor) (*ReextractReport, error) {
	site, err := siteOf(v.URL)
	if err != nil {
		return nil, err
	}
	vendor, err := m.db.VendorByName(ctx, v.Name)
	if err != nil {
		return nil, fmt.Errorf("re-extract %q: %w", v.Name, err)
	}
	caps, err := m.db.Captures(ctx, vendor.ID)
	if err != nil {
		return nil, err
	}
	before, _, err := m.db.VersionAt(ctx, vendor.ID, "99991231235959")
	if err != nil && !isNotFound(err) {
		return nil, err
	}

	in := store.ReplaceInput{VendorID: vendor.ID, Extractor: v.Fingerprint()}
	var prev, latest *snapshot.Document
	seen := map[string]bool{} // texts already met, oldest first: a return to one is a flip-back
	for _, c := range caps {
		in.LastCaptureID = max(in.LastCaptureID, c.ID)
		if c.BodySHA256 == "" || c.Truncated || c.HTTPStatus < 200 || c.HTTPStatus > 299 || c.Verdict == store.VerdictHomePage {
			continue // its verdict does not depend on the extractor
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		body, err := m.db.Body(ctx, c.BodySHA256)
		if err != nil {
			return nil, err
		}
		src := snapshot.Source{Site: site, URL: c.Original, Timestamp: c.Timestamp, ContentType: c.ContentType}
		r := store.Reextracted{CaptureID: c.ID}
		doc, err := snapshot.ExtractWith(body, src, v.Options)
		if err != nil {
			r.Verdict, r.VerdictReason = string(snapshot.VerdictUnsupported), err.Error()
			in.Captures = append(in.Captures, r)
			continue
		}
		r.Verdict, r.VerdictReason, r.Charset = string(doc.Quality.Verdict), doc.Quality.Reason, doc.Charset
		if doc.Quality.OK() {
			r.Document = doc
			hash := snapshot.Hash(doc.Markdown())
			if prev != nil && snapshot.Hash(prev.Markdown()) != hash {
				ch := diffing.CompareWith(prev, doc, diffing.Options{Terms: m.Terms, FlipBack: seen[hash]})
				r.Change = &ch
			}
			seen[hash] = true
			prev, latest = doc, doc
		}
		in.Captures = append(in.Captures, r)
	}
	if before != nil && latest != nil && before.SHA256 != snapshot.Hash(latest.Markdown()) {
		ch := diffing.CompareWith(before.Document(), latest, diffing.Options{Terms: m.Terms})
		in.ExtractorChange = &ch
	}
	res, err := m.db.ReplaceExtraction(ctx, in)
	if err != nil {
		return nil, err
	}
	rep := &ReextractReport{
		Vendor: v.Name, Extractor: in.Extractor, Captures: res.Captures, VerdictsChanged: res.VerdictsChanged,
		VersionsBefore: res.VersionsBefore, VersionsAfter: res.VersionsAfter,
		ChangesBefore: res.ChangesBefore, ChangesAfter: res.ChangesAfter,
		Removed: []ChangeSummary{}, Added: []ChangeSummary{}, Updated: res.Updated,
	}
	for _, ch := range res.Removed {
		rep.Removed = append(rep.Removed, summarise(ch))
	}
	for _, ch := range res.Added {
		rep.Added = append(rep.Added, summarise(ch))
	}
	if res.ExtractorChange != nil {
		s := summarise(res.ExtractorChange)
		rep.ExtractorChange = &s
	}
	return rep, nil
}
