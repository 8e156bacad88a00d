package monitor

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/policywatch/policywatch/crawler/waybacktest"
	"github.com/policywatch/policywatch/snapshot"
	"github.com/policywatch/policywatch/store"
)

// tipPage is a policy page with a "tip of the day" inside the main content:
// automatic extraction keeps it, so every capture looks like a new text.
func tipPage(tip, retention string) []byte {
	return []byte(strings.Replace(string(page("January 1, 2020", retention)), "<h2>Data we collect</h2>",
		fmt.Sprintf(`<div class="daily-tip"><p>Tip of the day: %s</p></div><h2>Data we collect</h2>`, tip), 1))
}

// A vendor whose texts were made without selectors gets a remove: selector;
// re-extraction drops the false changes and keeps the real one, and a pass
// with the new selectors re-extracts by itself before comparing anything.
func TestReextractWithSelectorRemovesNoise(t *testing.T) {
	f := newFixture(t)
	html := http.Header{"Content-Type": {"text/html"}}
	f.archive.Add(waybacktest.Capture{Timestamp: "20200101000000", URL: policyURL, Header: html, Body: tipPage("drink water", "Logs are kept for 30 days.")})
	plain := Vendor{Name: "Example", URL: policyURL}
	if _, err := f.mon.Pass(t.Context(), plain); err != nil {
		t.Fatal(err)
	}
	f.archive.Add(
		waybacktest.Capture{Timestamp: "20200201000000", URL: policyURL, Header: html, Body: tipPage("stretch", "Logs are kept for 30 days.")},
		waybacktest.Capture{Timestamp: "20200301000000", URL: policyURL, Header: html, Body: tipPage("sleep well", "Logs are kept for 90 days.")},
	)
	res, err := f.mon.Pass(t.Context(), plain)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 2 {
		t.Fatalf("without selectors: %d changes, want 2 (one of them the tip)", len(res.Changes))
	}

	tidy := Vendor{Name: "Example", URL: policyURL, Options: snapshot.Options{Remove: []snapshot.Selector{{CSS: ".daily-tip"}}}}
	rep, err := f.mon.Reextract(t.Context(), tidy)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Captures != 3 || rep.VersionsBefore != 3 || rep.VersionsAfter != 2 || rep.ChangesAfter != 1 || len(rep.Removed) != 1 ||
		rep.Removed[0].NewTimestamp != "20200201000000" || rep.ExtractorChange == nil {
		t.Fatalf("report = %+v", rep)
	}
	v, _ := f.db.VendorByName(t.Context(), "Example")
	changes, _ := f.db.Changes(t.Context(), v.ID, store.CauseArchive)
	if len(changes) != 1 || changes[0].NewCapture.Timestamp != "20200301000000" || changes[0].LinesAdded != 1 || changes[0].LinesRemoved != 1 {
		t.Fatalf("archive changes = %+v", changes)
	}

	// Back to no selectors: the next pass notices and re-extracts first.
	f.archive.Add(waybacktest.Capture{Timestamp: "20200401000000", URL: policyURL, Header: html, Body: tipPage("walk", "Logs are kept for 90 days.")})
	res, err = f.mon.Pass(t.Context(), plain)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reextracted == nil || res.Reextracted.Extractor != plain.Fingerprint() {
		t.Fatalf("the pass did not re-extract first: %+v", res.Reextracted)
	}
	if len(res.Changes) != 1 || res.Changes[0].NewTimestamp != "20200401000000" {
		t.Fatalf("pass changes = %+v: the tip changes, and only it", res.Changes)
	}
}

func TestFingerprint(t *testing.T) {
	a := Vendor{Name: "A", URL: policyURL}
	b := Vendor{Name: "A", URL: policyURL, Options: snapshot.Options{Select: []snapshot.Selector{{CSS: "main"}}}}
	c := Vendor{Name: "A", URL: policyURL, Options: snapshot.Options{Select: []snapshot.Selector{{CSS: "article"}}}}
	if a.Fingerprint() != snapshot.ExtractorVersion || b.Fingerprint() == a.Fingerprint() || b.Fingerprint() == c.Fingerprint() {
		t.Fatalf("fingerprints %q %q %q", a.Fingerprint(), b.Fingerprint(), c.Fingerprint())
	}
}
