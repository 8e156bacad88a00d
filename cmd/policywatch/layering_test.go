package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportLayering enforces the architecture's dependency direction
// (docs: ../shared/docs/architecture.md): snapshot is the leaf, diffing is
// pure, crawler and store never import each other, only store speaks SQL and
// only crawler and cmd speak HTTP to the outside.
func TestImportLayering(t *testing.T) {
	const mod = "github.com/policywatch/policywatch/"
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}`, "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string][]string{ // project packages each may import
		"snapshot":            {},
		"diffing":             {"snapshot"},
		"crawler":             {"snapshot"},
		"crawler/waybacktest": {},
		"store":               {"snapshot", "diffing"},
		"monitor":             {"snapshot", "diffing", "crawler", "store"},
		"notify":              {"diffing", "store"},
		"export":              {"snapshot", "diffing", "store"}, // never crawler or monitor: it only reads what is stored
		// web only reads what is stored, and never sees notify's config, so
		// no SMTP password or webhook secret can reach a page.
		"web": {"snapshot", "diffing", "store"},
	}
	forbidden := map[string][]string{ // standard or third-party packages each must not import
		"snapshot": {"net/http", "database/sql", "os"},
		"diffing":  {"net/http", "database/sql", "os"},
		"store":    {"net/http/httptest", "github.com/gocolly/colly/v2"},
		"crawler":  {"database/sql", "modernc.org/sqlite"},
		"monitor":  {"database/sql", "github.com/PuerkitoBio/goquery"},
		"notify":   {"database/sql", "github.com/PuerkitoBio/goquery", "github.com/gocolly/colly/v2"},
		"export":   {"database/sql", "net/http", "modernc.org/sqlite", "github.com/gocolly/colly/v2"},
		"web":      {"database/sql", "modernc.org/sqlite", "github.com/gocolly/colly/v2", "text/template"},
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, "|")
		rel := strings.TrimPrefix(pkg, mod)
		allow, checked := allowed[rel]
		if !checked {
			continue
		}
		seen++
		for _, imp := range strings.Fields(imports) {
			if strings.HasPrefix(imp, mod) {
				dep := strings.TrimPrefix(imp, mod)
				if !contains(allow, dep) {
					t.Errorf("%s imports %s: not allowed by the layering", rel, dep)
				}
			}
			if contains(forbidden[rel], imp) {
				t.Errorf("%s imports %s: that belongs to another layer", rel, imp)
			}
		}
	}
	if seen != len(allowed) {
		t.Fatalf("checked %d packages, want %d: did a package move?", seen, len(allowed))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
