package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// extractorFile records which golden outputs ExtractorVersion stands for.
var extractorFile = filepath.Join("..", "testdata", "snapshot", "EXTRACTOR")

// goldenDigest is the SHA-256 of every golden output, in file-name order.
func goldenDigest(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "testdata", "snapshot", "*.golden.md"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestExtractorVersionTracksGoldens fails when the golden outputs changed but
// ExtractorVersion did not: stored versions made by the old extractor would
// then be compared with new text, and policywatch would report its own
// change as the vendor's. Bump ExtractorVersion, then run with -update.
func TestExtractorVersionTracksGoldens(t *testing.T) {
	digest := goldenDigest(t)
	want := ExtractorVersion + " " + digest + "\n"
	b, err := os.ReadFile(extractorFile)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	recVersion, recDigest, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	switch {
	case string(b) == want:
		return
	case recVersion == ExtractorVersion && recDigest != digest && b != nil:
		t.Fatalf("the golden outputs changed but ExtractorVersion is still %q: bump it in snapshot.go, then run `go test ./snapshot -update`", ExtractorVersion)
	case !*update:
		t.Fatalf("%s says %q; run `go test ./snapshot -update` to record ExtractorVersion %q with the current goldens", extractorFile, strings.TrimSpace(string(b)), ExtractorVersion)
	}
	if err := os.WriteFile(extractorFile, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
}
