package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/snapshot"
	"github.com/policywatch/policywatch/store"
)

const (
	acmeURL  = "https://www.acme-cloud.example/legal/privacy"
	termsURL = "https://acme-cloud.example/terms"
	globeURL = "http://globex.example/privacy.html"
)

// fixture is a database filled the way the monitor fills it: captures
// recorded oldest first, each compared with the version before it.
type fixture struct {
	t       *testing.T
	db      *store.DB
	vendors map[string]*store.Vendor
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "pw.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fixture{t: t, db: db, vendors: map[string]*store.Vendor{}}
}

func (f *fixture) vendor(name, url string) *store.Vendor {
	f.t.Helper()
	v, err := f.db.EnsureVendor(f.t.Context(), name, url)
	if err != nil {
		f.t.Fatal(err)
	}
	f.vendors[name] = v
	return v
}

// capture records one capture of the vendor with the given text. Like the
// monitor and history, it compares the text with the version before the
// capture and, when it is recorded in the middle of the history (a
// backfill), with the version after it, marking a return to a text seen
// earlier as a flip-back.
func (f *fixture) capture(vendor, ts, body, stated string) {
	f.t.Helper()
	ctx := f.t.Context()
	v := f.vendors[vendor]
	doc := &snapshot.Document{Title: vendor + " Privacy Policy", Body: body, StatedDate: stated, Quality: snapshot.Quality{Verdict: snapshot.VerdictOK}}
	if stated != "" {
		doc.StatedDateText = "Last updated " + stated
	}
	in := store.RecordInput{
		Capture:  store.Capture{VendorID: v.ID, Timestamp: ts, Original: v.URL, Digest: "D" + ts + vendor, Fetched: true, HTTPStatus: 200, Verdict: "ok", Extractor: "test-1"},
		Body:     []byte("<html>" + body + "</html>"),
		Document: doc,
	}
	sha := snapshot.Hash(doc.Markdown())
	prev, _, err := f.db.VersionBefore(ctx, v.ID, ts)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		f.t.Fatal(err)
	}
	if prev != nil {
		in.PrevVersionID = prev.ID
		if prev.SHA256 != sha {
			ch := diffing.CompareWith(prev.Document(), doc, diffing.Options{FlipBack: f.seenBefore(v.ID, sha, ts)})
			in.Change = &ch
		}
	}
	next, nextCap, err := f.db.VersionAfter(ctx, v.ID, ts)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		f.t.Fatal(err)
	}
	if next != nil {
		in.NextVersionID = next.ID
		if next.SHA256 != sha {
			seen := f.seenBefore(v.ID, next.SHA256, nextCap.Timestamp)
			ch := diffing.CompareWith(doc, next.Document(), diffing.Options{FlipBack: seen})
			in.NextChange = &ch
		}
	}
	if _, err := f.db.RecordCapture(ctx, in); err != nil {
		f.t.Fatal(err)
	}
}

// seenBefore reports whether a capture of the vendor older than ts has the
// text with this hash.
func (f *fixture) seenBefore(vendorID int64, sha, ts string) bool {
	f.t.Helper()
	caps, err := f.db.Captures(f.t.Context(), vendorID)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, c := range caps {
		if c.Timestamp >= ts || c.VersionID == 0 {
			continue
		}
		ver, err := f.db.VersionByID(f.t.Context(), c.VersionID)
		if err != nil {
			f.t.Fatal(err)
		}
		if ver.SHA256 == sha {
			return true
		}
	}
	return false
}

func (f *fixture) versions(vendor string) []*store.Version {
	f.t.Helper()
	vs, err := f.db.Versions(f.t.Context(), f.vendors[vendor].ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return vs
}

func (f *fixture) all() []*store.Vendor {
	f.t.Helper()
	vs, err := New(f.db, nil).Vendors(f.t.Context(), nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return vs
}

// standard is three vendors, two of which share a domain, with four
// versions between them and a capture that repeats a text.
func standard(t *testing.T) *fixture {
	f := newFixture(t)
	f.vendor("Acme Cloud", acmeURL)
	f.vendor("Acme Cloud Terms", termsURL)
	f.vendor("Globex", globeURL)
	f.capture("Acme Cloud", "20210310081502", "Logs are kept for 30 days.", "2021-03-03")
	f.capture("Acme Cloud", "20210922174411", "Logs are kept for 30 days.", "2021-03-03")
	f.capture("Acme Cloud", "20220701120505", "Logs are kept for 90 days.", "2022-06-14")
	f.capture("Acme Cloud Terms", "20211001000000", "Be nice.", "")
	f.capture("Globex", "20200101101010", "We sell nothing.", "")
	return f
}

func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed; the citp export needs it (Debian/Ubuntu: apt-get install git)")
	}
}

// git runs git in dir for a test's checks, ignoring the machine's git
// configuration as the export does.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = ee.Stderr
		}
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func renderOf(ver *store.Version, site string) string {
	return renderAt(ver, site, ver.First.Timestamp)
}

// renderAt is the version's file as archived at the capture ts: the text
// with a provenance line linking that capture.
func renderAt(ver *store.Version, site, ts string) string {
	return ver.Document().Render(snapshot.Source{Site: site, URL: ver.First.Original, Timestamp: ts})
}

func TestExportNames(t *testing.T) {
	paths := []struct{ domain, want string }{
		{"acme-cloud.example", "a/ac/acm/acme-cloud.example.md"},
		{"seranking.com", "s/se/ser/seranking.com.md"},
		{"x.co", "x/x./x.c/x.co.md"}, // the dataset keeps the dot: x/x./x.c/x.co.md
		{"ab", "a/ab/ab/ab.md"},
		{"bücher.de", "b/bü/büc/bücher.de.md"},
	}
	for _, tt := range paths {
		t.Run("path "+tt.domain, func(t *testing.T) {
			if got := DomainPath(tt.domain); got != tt.want {
				t.Fatalf("DomainPath(%q) = %q, want %q", tt.domain, got, tt.want)
			}
		})
	}
	sites := []struct{ url, want, err string }{
		{"https://www.Acme-Cloud.example/legal/privacy", "acme-cloud.example", ""},
		{"http://seranking.com:8080/privacy-policy.html", "seranking.com", ""},
		{"https://www2.example.org/", "www2.example.org", ""},
		{"https://[::1]/privacy", "", "cannot name a file"},
		{"/relative/only", "", "cannot name a file"},
	}
	for _, tt := range sites {
		t.Run("site "+tt.url, func(t *testing.T) {
			got, err := Site(tt.url)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Site(%q) = %q, %v; want an error with %q", tt.url, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Site(%q) = %q, %v; want %q", tt.url, got, err, tt.want)
			}
		})
	}
	slugs := []struct{ name, want string }{
		{"Acme Cloud Terms", "acme-cloud-terms"},
		{"  SE Ranking (privacy) ", "se-ranking-privacy"},
		{"Société Générale", "société-générale"},
		{"???", ""},
	}
	for _, tt := range slugs {
		t.Run("slug "+tt.name, func(t *testing.T) {
			if got := Slug(tt.name); got != tt.want {
				t.Fatalf("Slug(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

// TestExportCITP exports three vendors, two on one domain, and checks the
// layout, one commit per text period (here: per version, as no text comes
// back) in archive order with the archive dates,
// the file at each commit, the trailers, and that exporting again is
// incremental and reproducible.
func TestExportCITP(t *testing.T) {
	needGit(t)
	f := standard(t)
	dir := filepath.Join(t.TempDir(), "citp") // does not exist yet
	ex := New(f.db, nil)
	res, err := ex.CITP(t.Context(), dir, f.all())
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 4 {
		t.Fatalf("commits = %d, want 4 (one per text period)", res.Commits)
	}
	wantPaths := map[string]string{
		"Acme Cloud":       "a/ac/acm/acme-cloud.example.md",
		"Acme Cloud Terms": "a/ac/acm/acme-cloud.example--acme-cloud-terms.md",
		"Globex":           "g/gl/glo/globex.example.md",
	}
	wantNew := map[string]int{"Acme Cloud": 2, "Acme Cloud Terms": 1, "Globex": 1}
	for _, vr := range res.Vendors {
		if vr.Path != wantPaths[vr.Vendor] || vr.New != wantNew[vr.Vendor] || vr.Existing != 0 {
			t.Errorf("%s: %+v, want path %q and %d new", vr.Vendor, vr, wantPaths[vr.Vendor], wantNew[vr.Vendor])
		}
	}
	if got := lines(git(t, dir, "ls-files")); strings.Join(got, " ") != "a/ac/acm/acme-cloud.example--acme-cloud-terms.md a/ac/acm/acme-cloud.example.md g/gl/glo/globex.example.md" {
		t.Fatalf("files in the export: %q", got)
	}
	if b := strings.TrimSpace(git(t, dir, "symbolic-ref", "--short", "HEAD")); b != "main" {
		t.Errorf("branch %q, want main", b)
	}

	log := lines(git(t, dir, "log", "--reverse", "--format=%H|%aI|%cI|%an <%ae>|%s"))
	acme, terms, globex := f.versions("Acme Cloud"), f.versions("Acme Cloud Terms"), f.versions("Globex")
	want := []struct {
		date, subject, path, site string
		ver                       *store.Version
	}{
		{"2020-01-01T10:10:10+00:00", "globex.example: version first archived 2020-01-01 (no last-updated date stated)", wantPaths["Globex"], "globex.example", globex[0]},
		{"2021-03-10T08:15:02+00:00", "acme-cloud.example: version first archived 2021-03-10 (last updated 2021-03-03)", wantPaths["Acme Cloud"], "acme-cloud.example", acme[0]},
		{"2021-10-01T00:00:00+00:00", "acme-cloud.example--acme-cloud-terms: version first archived 2021-10-01 (no last-updated date stated)", wantPaths["Acme Cloud Terms"], "acme-cloud.example", terms[0]},
		{"2022-07-01T12:05:05+00:00", "acme-cloud.example: changed between 2021-09-22 and 2022-07-01 (last updated 2022-06-14)", wantPaths["Acme Cloud"], "acme-cloud.example", acme[1]},
	}
	if len(log) != len(want) {
		t.Fatalf("git log has %d commits, want %d:\n%s", len(log), len(want), strings.Join(log, "\n"))
	}
	for i, w := range want {
		t.Run(w.date, func(t *testing.T) {
			parts := strings.Split(log[i], "|")
			hash, author, committer, who, subject := parts[0], parts[1], parts[2], parts[3], parts[4]
			if author != w.date || committer != w.date {
				t.Errorf("author/committer date %s/%s, want %s (the first capture, UTC)", author, committer, w.date)
			}
			if who != "policywatch <policywatch@localhost>" {
				t.Errorf("author %q", who)
			}
			if subject != w.subject {
				t.Errorf("subject %q\nwant    %q", subject, w.subject)
			}
			if got := git(t, dir, "show", hash+":"+w.path); got != renderOf(w.ver, w.site) {
				t.Errorf("%s at %s:\n%s\nwant snapshot's Render:\n%s", w.path, hash[:8], got, renderOf(w.ver, w.site))
			}
			if files := lines(git(t, dir, "diff-tree", "--no-commit-id", "--name-only", "-r", "--root", hash)); len(files) != 1 || files[0] != w.path {
				t.Errorf("commit touches %q, want only %s", files, w.path)
			}
			msg := git(t, dir, "log", "-1", "--format=%B", hash)
			for _, tr := range []string{
				"Policywatch-Version: " + w.ver.SHA256,
				"Policywatch-Since: " + w.ver.First.Timestamp,
				"Policywatch-Path: " + w.path,
				"Wayback-URL: " + w.ver.First.WaybackURL(),
			} {
				if !strings.Contains(msg, "\n"+tr+"\n") {
					t.Errorf("message lacks trailer %q:\n%s", tr, msg)
				}
			}
			if strings.Contains(msg, "Policywatch-Flip-Back") {
				t.Errorf("no text comes back, yet:\n%s", msg)
			}
		})
	}
	// The second Acme version came with a recorded change: its window is
	// the last capture with the old text and the first with the new one.
	if got := strings.TrimSpace(git(t, dir, "log", "-1", "--format=%(trailers:key=Change-Window,valueonly)", "--", wantPaths["Acme Cloud"])); got != "2021-09-22T17:44:11Z/2022-07-01T12:05:05Z" {
		t.Errorf("Change-Window = %q", got)
	}
	if st := git(t, dir, "status", "--porcelain"); st != "" {
		t.Errorf("the export left a dirty work tree:\n%s", st)
	}

	// Again: nothing new, nothing committed.
	head := git(t, dir, "rev-parse", "HEAD")
	res, err = ex.CITP(t.Context(), dir, f.all())
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 0 || git(t, dir, "rev-parse", "HEAD") != head {
		t.Fatalf("a second export committed %d versions", res.Commits)
	}
	for _, vr := range res.Vendors {
		if vr.Path != wantPaths[vr.Vendor] || vr.New != 0 || vr.Existing != wantNew[vr.Vendor] {
			t.Errorf("second export %+v", vr)
		}
	}

	// A new version: exactly one more commit, at its date, also when a
	// vendor is named twice.
	f.capture("Acme Cloud", "20230105000000", "Logs are kept for 120 days.", "2023-01-01")
	res, err = ex.CITP(t.Context(), dir, append(f.all(), f.vendors["Acme Cloud"]))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(lines(git(t, dir, "log", "--format=%H"))); res.Commits != 1 || n != 5 {
		t.Fatalf("after a new version: %d committed, %d in the log; want 1 and 5", res.Commits, n)
	}
	if got := git(t, dir, "log", "-1", "--format=%aI"); got != "2023-01-05T00:00:00+00:00\n" {
		t.Errorf("new commit dated %q", got)
	}
	acme = f.versions("Acme Cloud")
	if got, _ := os.ReadFile(filepath.Join(dir, "a/ac/acm/acme-cloud.example.md")); string(got) != renderOf(acme[2], "acme-cloud.example") {
		t.Errorf("the work tree does not hold the newest version:\n%s", got)
	}
	if got := lines(git(t, dir, "log", "--format=%aI", "--", wantPaths["Acme Cloud"])); len(got) != 3 {
		t.Errorf("git log of the Acme file = %q, want its 3 versions", got)
	}

	// The same versions exported afresh are the same commits.
	fresh, err := ex.CITP(t.Context(), t.TempDir(), f.all())
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Commits != 5 || git(t, fresh.Dir, "rev-parse", "HEAD") != git(t, dir, "rev-parse", "HEAD") {
		t.Errorf("a fresh export of the same versions made other commits")
	}
}

// TestExportCITPVendorFilterAndSharedDomain: the vendor exported first on
// a domain keeps <domain>.md, also when another vendor of that domain has
// older versions and joins later.
func TestExportCITPVendorFilterAndSharedDomain(t *testing.T) {
	needGit(t)
	f := standard(t)
	dir := t.TempDir()
	ex := New(f.db, nil)
	terms, err := ex.Vendors(t.Context(), []string{"acme cloud terms"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.CITP(t.Context(), dir, terms); err != nil {
		t.Fatal(err)
	}
	if got := lines(git(t, dir, "ls-files")); len(got) != 1 || got[0] != "a/ac/acm/acme-cloud.example.md" {
		t.Fatalf("files after exporting the terms alone: %q", got)
	}
	res, err := ex.CITP(t.Context(), dir, f.all())
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	for _, vr := range res.Vendors {
		paths[vr.Vendor] = vr.Path
	}
	if paths["Acme Cloud Terms"] != "a/ac/acm/acme-cloud.example.md" || paths["Acme Cloud"] != "a/ac/acm/acme-cloud.example--acme-cloud.md" {
		t.Fatalf("paths %v: a vendor must keep its file", paths)
	}
	if res.Commits != 3 {
		t.Fatalf("committed %d, want the 3 versions not exported yet", res.Commits)
	}
	if _, err := ex.Vendors(t.Context(), []string{"Nobody"}); !errors.Is(err, ErrNoVendor) {
		t.Fatalf("unknown vendor: %v", err)
	}
}

// TestExportCITPRefuses: a directory that is not an earlier export is
// left exactly as it was.
func TestExportCITPRefuses(t *testing.T) {
	needGit(t)
	f := standard(t)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
	}{
		{"files, no repository", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
		}, "not empty and is not a policywatch export"},
		{"someone else's repository", func(t *testing.T, dir string) {
			git(t, dir, "init", "-q")
			os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
			git(t, dir, "add", "notes.txt")
			git(t, dir, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "-m", "notes")
		}, "git repository but not a policywatch export"},
		{"empty repository with files", func(t *testing.T, dir string) {
			git(t, dir, "init", "-q")
			os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
		}, "without commits and with other files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			before := tree(t, dir)
			_, err := New(f.db, nil).CITP(t.Context(), dir, f.all())
			if !errors.Is(err, ErrNotExport) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "nothing was written") {
				t.Fatalf("err = %v; want ErrNotExport saying %q", err, tt.want)
			}
			if after := tree(t, dir); after != before {
				t.Fatalf("the directory changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	t.Run("a file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "out")
		os.WriteFile(file, []byte("mine"), 0o644)
		if _, err := New(f.db, nil).CITP(t.Context(), file, f.all()); err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Fatalf("err = %v", err)
		}
	})
}

// tree lists a directory's files and their contents, outside .git.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			c, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			b.WriteString(rel + "=" + string(c) + ";")
		}
		return nil
	})
	return b.String()
}

// TestExportCITPWorkTree: a file an interrupted export wrote but did not
// commit is committed by the next run; a change a person made is never
// overwritten.
func TestExportCITPWorkTree(t *testing.T) {
	needGit(t)
	f := standard(t)
	ex := New(f.db, nil)
	globex, err := ex.Vendors(t.Context(), []string{"Globex"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("interrupted before a commit", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := ex.CITP(t.Context(), dir, globex); err != nil {
			t.Fatal(err)
		}
		// What an export killed between writing and committing leaves:
		// the next file, new and untracked.
		acme := f.versions("Acme Cloud")
		p := filepath.Join(dir, "a/ac/acm/acme-cloud.example.md")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(renderOf(acme[0], "acme-cloud.example")), 0o644)
		res, err := ex.CITP(t.Context(), dir, f.all())
		if err != nil {
			t.Fatal(err)
		}
		if res.Commits != 3 || git(t, dir, "status", "--porcelain") != "" {
			t.Fatalf("committed %d (want 3), status %q", res.Commits, git(t, dir, "status", "--porcelain"))
		}
		if got := lines(git(t, dir, "log", "--format=%aI", "--", "a/ac/acm/acme-cloud.example.md")); len(got) != 2 {
			t.Fatalf("acme history %q", got)
		}
	})

	t.Run("a person's edit", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := ex.CITP(t.Context(), dir, f.all()); err != nil {
			t.Fatal(err)
		}
		f := standard(t) // a second database with a newer Acme version
		f.capture("Acme Cloud", "20230105000000", "Logs are kept for 120 days.", "2023-01-01")
		p := filepath.Join(dir, "a/ac/acm/acme-cloud.example.md")
		os.WriteFile(p, []byte("my annotations"), 0o644)
		head := git(t, dir, "rev-parse", "HEAD")
		_, err := New(f.db, nil).CITP(t.Context(), dir, f.all())
		if !errors.Is(err, ErrDirty) || !strings.Contains(err.Error(), "M a/ac/acm/acme-cloud.example.md") {
			t.Fatalf("err = %v, want ErrDirty naming the file", err)
		}
		if got, _ := os.ReadFile(p); string(got) != "my annotations" || git(t, dir, "rev-parse", "HEAD") != head {
			t.Fatalf("the edit was overwritten or something was committed")
		}
		// Untracked files elsewhere are none of the export's business.
		git(t, dir, "checkout", "--", "a/ac/acm/acme-cloud.example.md")
		os.WriteFile(filepath.Join(dir, "NOTES.md"), []byte("mine"), 0o644)
		res, err := New(f.db, nil).CITP(t.Context(), dir, f.all())
		if err != nil || res.Commits != 1 {
			t.Fatalf("with an untracked note: %v, %d commits", err, res.Commits)
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "NOTES.md")); string(got) != "mine" {
			t.Fatal("the note was touched")
		}
		if files := lines(git(t, dir, "show", "--name-only", "--format=", "HEAD")); len(files) != 1 || files[0] != "a/ac/acm/acme-cloud.example.md" {
			t.Fatalf("the commit holds %q", files)
		}
	})
}

// TestExportCITPIgnoresUserGitConfig: the user's git configuration
// (signing, identity, hooks) and a GIT_DIR inherited from a git hook change
// nothing.
func TestExportCITPIgnoresUserGitConfig(t *testing.T) {
	needGit(t)
	f := standard(t)
	home := t.TempDir()
	cfg := "[user]\n\tname = Someone Else\n\temail = se@example.org\n[commit]\n\tgpgsign = true\n[init]\n\tdefaultBranch = trunk\n[core]\n\tautocrlf = true\n"
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	git(t, other, "init", "-q")
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("GIT_DIR", filepath.Join(other, ".git"))
	t.Setenv("GIT_AUTHOR_DATE", "@0 +0000")

	dir := t.TempDir()
	res, err := New(f.db, nil).CITP(t.Context(), dir, f.all())
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 4 {
		t.Fatalf("commits = %d", res.Commits)
	}
	// Hooks in the export do not run: a failing pre-commit hook and a
	// post-commit hook that leaves a mark.
	hooks := filepath.Join(dir, ".git", "hooks")
	for name, script := range map[string]string{"pre-commit": "exit 1", "post-commit": "touch hooked"} { // hooks run at the top of the work tree
		if err := os.WriteFile(filepath.Join(hooks, name), []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f.capture("Acme Cloud", "20230105000000", "Logs are kept for 120 days.", "2023-01-01")
	if res, err := New(f.db, nil).CITP(t.Context(), dir, f.all()); err != nil || res.Commits != 1 {
		t.Fatalf("with hooks in the export: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "hooked")); err == nil {
		t.Errorf("the post-commit hook ran")
	}
	os.Unsetenv("GIT_DIR")
	if got := git(t, dir, "log", "-1", "--format=%an <%ae> %aI"); got != "policywatch <policywatch@localhost> 2023-01-05T00:00:00+00:00\n" {
		t.Errorf("author %q", got)
	}
	if b := strings.TrimSpace(git(t, dir, "symbolic-ref", "--short", "HEAD")); b != "main" {
		t.Errorf("branch %q", b)
	}
	if _, err := os.Stat(filepath.Join(other, ".git", "refs", "heads", "main")); err == nil {
		t.Errorf("the export committed into the inherited GIT_DIR")
	}
}

func TestExportGitMissing(t *testing.T) {
	f := standard(t)
	ex := New(f.db, nil)
	ex.Git = filepath.Join(t.TempDir(), "no-git-here")
	dir := filepath.Join(t.TempDir(), "out")
	_, err := ex.CITP(t.Context(), dir, f.all())
	if !errors.Is(err, ErrGitMissing) || !strings.Contains(err.Error(), "apt-get install git") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the directory was created without git")
	}
}

func TestExportJSONL(t *testing.T) {
	f := standard(t)
	ex := New(f.db, nil)
	var buf bytes.Buffer
	n, err := ex.JSONL(t.Context(), &buf, f.all())
	if err != nil {
		t.Fatal(err)
	}
	ls := lines(buf.String())
	if n != 4 || len(ls) != 4 {
		t.Fatalf("%d records, %d lines; want 4", n, len(ls))
	}
	var recs []Record
	for i, l := range ls {
		var raw map[string]any
		if err := json.Unmarshal([]byte(l), &raw); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, l)
		}
		for _, k := range []string{"vendor", "url", "site", "sha256", "first_seen", "last_seen", "first_wayback_url", "captures",
			"last_updated", "last_updated_text", "title", "markdown", "extractor", "periods"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("line %d lacks %q", i+1, k)
			}
		}
		var r Record
		json.Unmarshal([]byte(l), &r)
		recs = append(recs, r)
	}
	// Vendors by name, each oldest first.
	order := []string{}
	for _, r := range recs {
		order = append(order, r.Vendor+"@"+r.FirstSeen)
	}
	if got := strings.Join(order, " "); got != "Acme Cloud@20210310081502 Acme Cloud@20220701120505 Acme Cloud Terms@20211001000000 Globex@20200101101010" {
		t.Fatalf("order: %s", got)
	}
	acme := f.versions("Acme Cloud")
	r := recs[0]
	if r.URL != acmeURL || r.Site != "acme-cloud.example" || r.SHA256 != acme[0].SHA256 || r.LastSeen != "20210922174411" ||
		r.Captures != 2 || r.LastUpdated == nil || *r.LastUpdated != "2021-03-03" || r.LastUpdatedText == nil ||
		r.FirstWaybackURL != "https://web.archive.org/web/20210310081502id_/"+acmeURL || r.Title != "Acme Cloud Privacy Policy" ||
		r.Extractor != "test-1" || r.Markdown != renderOf(acme[0], "acme-cloud.example") {
		t.Errorf("first record: %+v", r)
	}
	if recs[2].LastUpdated != nil || recs[2].LastUpdatedText != nil || !strings.Contains(ls[2], `"last_updated":null`) {
		t.Errorf("a version without a stated date: %s", ls[2])
	}
}

func TestExportJSONLFile(t *testing.T) {
	f := standard(t)
	ex := New(f.db, nil)
	dir := t.TempDir()
	tests := []struct {
		name, existing string
		wantErr        error
	}{
		{"new file", "", nil},
		{"empty file", "\x00empty", nil},
		{"earlier export", `{"vendor":"x","sha256":"y","markdown":"z"}` + "\n", nil},
		{"someone's data", "id,name\n1,x\n", ErrNotJSONLExport},
		{"other JSON lines", `{"vendor":"x"}` + "\n", ErrNotJSONLExport},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "out"+string(rune('a'+i))+".jsonl")
			switch tt.existing {
			case "":
			case "\x00empty":
				os.WriteFile(p, nil, 0o644)
			default:
				os.WriteFile(p, []byte(tt.existing), 0o644)
			}
			n, err := ex.JSONLFile(t.Context(), p, f.all())
			got, _ := os.ReadFile(p)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || string(got) != tt.existing {
					t.Fatalf("err = %v, file now %q; want %v and the file untouched", err, got, tt.wantErr)
				}
				return
			}
			if err != nil || n != 4 || len(lines(string(got))) != 4 {
				t.Fatalf("err = %v, %d records, file:\n%s", err, n, got)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != i+1 {
				t.Errorf("temporary files left behind: %v", entries)
			}
		})
	}
}

// flipBack is one vendor whose policy goes A → B → A, with several
// captures per text.
func flipBack(t *testing.T) *fixture {
	f := newFixture(t)
	f.vendor("Acme Cloud", acmeURL)
	f.capture("Acme Cloud", "20180301000000", "Logs are kept for 30 days.", "2018-02-01")
	f.capture("Acme Cloud", "20180815101010", "Logs are kept for 30 days.", "2018-02-01")
	f.capture("Acme Cloud", "20180915121212", "Logs are kept for 90 days.", "2018-09-01")
	f.capture("Acme Cloud", "20181001000000", "Logs are kept for 90 days.", "2018-09-01")
	f.capture("Acme Cloud", "20181120080000", "Logs are kept for 30 days.", "2018-02-01")
	return f
}

// TestExportPeriods: a text that comes back starts a period of its own,
// which ends at the last capture before the next change.
func TestExportPeriods(t *testing.T) {
	f := flipBack(t)
	f.capture("Acme Cloud", "20181201000000", "Logs are kept for 30 days.", "2018-02-01")
	vs := f.versions("Acme Cloud")
	if len(vs) != 2 {
		t.Fatalf("versions = %d, want 2 (A and B)", len(vs))
	}
	ps, err := New(f.db, nil).periods(t.Context(), f.vendors["Acme Cloud"], vs)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		ver            *store.Version
		from, to, win  string
		flipBack, next bool
	}
	wants := []want{
		{vs[0], "20180301000000", "20180815101010", "", false, false},
		{vs[1], "20180915121212", "20181001000000", "20180815101010/20180915121212", false, false},
		{vs[0], "20181120080000", "20181201000000", "20181001000000/20181120080000", true, false},
	}
	if len(ps) != len(wants) {
		t.Fatalf("%d periods, want %d", len(ps), len(wants))
	}
	for i, w := range wants {
		p := ps[i]
		win := ""
		if pw := p.window(); pw != nil {
			win = pw.lastOld + "/" + pw.firstNew
		}
		if p.ver.ID != w.ver.ID || p.start.Timestamp != w.from || p.to != w.to || win != w.win || p.flipBack != w.flipBack {
			t.Errorf("period %d: version %d %s–%s window %q flip-back %v; want version %d %s–%s window %q flip-back %v",
				i, p.ver.ID, p.start.Timestamp, p.to, win, p.flipBack, w.ver.ID, w.from, w.to, w.win, w.flipBack)
		}
	}
}

// TestExportCITPFlipBack: a change and its revert are three commits, so
// that the file's history follows the archive: A at its first capture, B at
// the change's first capture with B, A again at the first capture after
// the revert. Exporting again adds nothing; a new change adds one commit.
func TestExportCITPFlipBack(t *testing.T) {
	needGit(t)
	f := flipBack(t)
	const file, site = "a/ac/acm/acme-cloud.example.md", "acme-cloud.example"
	dir := filepath.Join(t.TempDir(), "citp")
	ex := New(f.db, nil)
	res, err := ex.CITP(t.Context(), dir, f.all())
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 3 || len(res.Vendors) != 1 || res.Vendors[0].New != 3 || res.Vendors[0].Path != file {
		t.Fatalf("result %+v, %+v; want 3 commits (A, B, A again)", res, res.Vendors)
	}
	vs := f.versions("Acme Cloud")
	a, b := vs[0], vs[1]
	want := []struct {
		date, subject, since, content, window string
		flipBack                              bool
	}{
		{"2018-03-01T00:00:00+00:00", "acme-cloud.example: version first archived 2018-03-01 (last updated 2018-02-01)",
			"20180301000000", renderAt(a, site, "20180301000000"), "", false},
		{"2018-09-15T12:12:12+00:00", "acme-cloud.example: changed between 2018-08-15 and 2018-09-15 (last updated 2018-09-01)",
			"20180915121212", renderAt(b, site, "20180915121212"), "2018-08-15T10:10:10Z/2018-09-15T12:12:12Z", false},
		{"2018-11-20T08:00:00+00:00", "acme-cloud.example: changed between 2018-10-01 and 2018-11-20 (last updated 2018-02-01)",
			"20181120080000", renderAt(a, site, "20181120080000"), "2018-10-01T00:00:00Z/2018-11-20T08:00:00Z", true},
	}
	if got := lines(git(t, dir, "log", "--format=%aI")); len(got) != 3 || got[0] != want[2].date || got[1] != want[1].date || got[2] != want[0].date {
		t.Fatalf("git log --format=%%aI = %q, want the three periods' first captures", got)
	}
	hashes := lines(git(t, dir, "log", "--reverse", "--format=%H"))
	for i, w := range want {
		t.Run(w.since, func(t *testing.T) {
			h := hashes[i]
			if got := strings.TrimSpace(git(t, dir, "log", "-1", "--format=%aI %cI", h)); got != w.date+" "+w.date {
				t.Errorf("dates %q, want %s", got, w.date)
			}
			if got := strings.TrimSpace(git(t, dir, "log", "-1", "--format=%s", h)); got != w.subject {
				t.Errorf("subject %q\nwant    %q", got, w.subject)
			}
			if got := git(t, dir, "show", h+":"+file); got != w.content {
				t.Errorf("%s at commit %d:\n%s\nwant:\n%s", file, i+1, got, w.content)
			}
			tr := func(key string) string {
				return strings.TrimSpace(git(t, dir, "log", "-1", "--format=%(trailers:key="+key+",valueonly)", h))
			}
			ver := a
			if i == 1 {
				ver = b
			}
			if tr(TrailerVersion) != ver.SHA256 || tr(TrailerSince) != w.since || tr(TrailerPath) != file || tr(TrailerVendor) != "Acme Cloud" {
				t.Errorf("trailers: version %q since %q path %q vendor %q", tr(TrailerVersion), tr(TrailerSince), tr(TrailerPath), tr(TrailerVendor))
			}
			if got := tr(TrailerWayback); got != "https://web.archive.org/web/"+w.since+"id_/"+acmeURL {
				t.Errorf("Wayback-URL %q, want the period's first capture", got)
			}
			if got := tr(TrailerWindow); got != w.window {
				t.Errorf("Change-Window %q, want %q", got, w.window)
			}
			flip := tr(TrailerFlipBack)
			if w.flipBack && flip != "true" || !w.flipBack && flip != "" {
				t.Errorf("Flip-Back %q, want flip-back %v", flip, w.flipBack)
			}
		})
	}
	if got, _ := os.ReadFile(filepath.Join(dir, file)); string(got) != want[2].content {
		t.Errorf("the work tree does not hold A again:\n%s", got)
	}
	if !strings.Contains(git(t, dir, "log", "-1", "--format=%b"), "a flip-back") {
		t.Errorf("the flip-back's message does not say so:\n%s", git(t, dir, "log", "-1", "--format=%B"))
	}

	// Again, after one more capture of A: nothing new, nothing committed.
	f.capture("Acme Cloud", "20181201000000", "Logs are kept for 30 days.", "2018-02-01")
	head := git(t, dir, "rev-parse", "HEAD")
	res, err = ex.CITP(t.Context(), dir, f.all())
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 0 || res.Vendors[0].Existing != 3 || git(t, dir, "rev-parse", "HEAD") != head {
		t.Fatalf("a second export committed %d periods (%+v)", res.Commits, res.Vendors)
	}

	// A new change: exactly one more commit, at its first capture.
	f.capture("Acme Cloud", "20190110000000", "Logs are kept for 120 days.", "2019-01-01")
	f.capture("Acme Cloud", "20190210000000", "Logs are kept for 120 days.", "2019-01-01")
	res, err = ex.CITP(t.Context(), dir, f.all())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(lines(git(t, dir, "log", "--format=%H"))); res.Commits != 1 || n != 4 {
		t.Fatalf("after a new change: %d committed, %d in the log; want 1 and 4", res.Commits, n)
	}
	if got := git(t, dir, "log", "-1", "--format=%aI %s"); got != "2019-01-10T00:00:00+00:00 acme-cloud.example: changed between 2018-12-01 and 2019-01-10 (last updated 2019-01-01)\n" {
		t.Errorf("new commit %q", got)
	}

	// The same database exported afresh gives the same commits.
	fresh, err := ex.CITP(t.Context(), t.TempDir(), f.all())
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Commits != 4 || git(t, fresh.Dir, "rev-parse", "HEAD") != git(t, dir, "rev-parse", "HEAD") {
		t.Errorf("a fresh export made other commits")
	}
}

// TestExportJSONLPeriods: the jsonl export keeps one object per version,
// and the periods show the text that came back.
func TestExportJSONLPeriods(t *testing.T) {
	f := flipBack(t)
	var buf bytes.Buffer
	n, err := New(f.db, nil).JSONL(t.Context(), &buf, f.all())
	if err != nil {
		t.Fatal(err)
	}
	ls := lines(buf.String())
	if n != 2 || len(ls) != 2 {
		t.Fatalf("%d records, want 2 (one per version)", n)
	}
	wants := []string{
		`"periods":[{"from":"20180301000000","to":"20180815101010"},{"from":"20181120080000","to":"20181120080000"}]`,
		`"periods":[{"from":"20180915121212","to":"20181001000000"}]`,
	}
	for i, w := range wants {
		if !strings.Contains(ls[i], w) {
			t.Errorf("record %d lacks %s:\n%s", i+1, w, ls[i])
		}
	}
	var r Record
	if err := json.Unmarshal([]byte(ls[0]), &r); err != nil {
		t.Fatal(err)
	}
	if r.FirstSeen != "20180301000000" || r.LastSeen != "20181120080000" || r.Captures != 3 || len(r.Periods) != 2 {
		t.Errorf("record of A: %+v", r)
	}
}

// TestExportCITPOldTrailers: an export made when commits were one per
// version (Policywatch-Version, no Policywatch-Since) is continued: each of
// its commits stands for the period starting at the version's first
// capture, so only the revert is added.
func TestExportCITPOldTrailers(t *testing.T) {
	needGit(t)
	f := flipBack(t)
	const file, site = "a/ac/acm/acme-cloud.example.md", "acme-cloud.example"
	dir := t.TempDir()
	git(t, dir, "init", "-q")
	git(t, dir, "symbolic-ref", "HEAD", "refs/heads/main")
	vs := f.versions("Acme Cloud")
	for _, ver := range vs {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(file)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte(renderOf(ver, site)), 0o644); err != nil {
			t.Fatal(err)
		}
		git(t, dir, "add", file)
		msg := "acme-cloud.example: version first archived\n\nPolicywatch-Vendor: Acme Cloud\nPolicywatch-Version: " + ver.SHA256 +
			"\nPolicywatch-Path: " + file + "\nWayback-URL: " + ver.First.WaybackURL() + "\n"
		date := "GIT_COMMITTER_DATE=" + ver.First.Timestamp[:8] + "T" + ver.First.Timestamp[8:] + "Z"
		cmd := exec.Command("git", "-C", dir, "-c", "user.name=policywatch", "-c", "user.email=policywatch@localhost",
			"commit", "-q", "-F", "-", "--date", ver.First.Timestamp[:8]+"T"+ver.First.Timestamp[8:]+"Z")
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, date)
		cmd.Stdin = strings.NewReader(msg)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("old-style commit: %v\n%s", err, out)
		}
	}
	res, err := New(f.db, nil).CITP(t.Context(), dir, f.all())
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 1 || res.Vendors[0].Existing != 2 || res.Vendors[0].Path != file {
		t.Fatalf("committed %d (%+v); want only the revert, the 2 old commits standing for A's and B's first periods", res.Commits, res.Vendors)
	}
	if got := strings.TrimSpace(git(t, dir, "log", "-1", "--format=%aI %(trailers:key=Policywatch-Flip-Back,valueonly)")); got != "2018-11-20T08:00:00+00:00 true" {
		t.Errorf("the added commit: %q", got)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, file)); string(got) != renderAt(vs[0], site, "20181120080000") {
		t.Errorf("the file does not hold A again:\n%s", got)
	}
}

// syncBuffer is a bytes.Buffer for a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestExportCITPBackfill: a history backfill after an export. A window that
// narrows (the change found earlier in the archive) commits nothing again;
// a change and its revert found inside an exported period are appended with
// their own, older dates and a warning.
func TestExportCITPBackfill(t *testing.T) {
	needGit(t)
	f := newFixture(t)
	f.vendor("Acme Cloud", acmeURL)
	f.capture("Acme Cloud", "20200101000000", "A", "")
	f.capture("Acme Cloud", "20200301000000", "B", "")
	f.capture("Acme Cloud", "20200501000000", "C", "")
	var logs syncBuffer
	ex := New(f.db, slog.New(slog.NewTextHandler(&logs, nil)))
	dir := t.TempDir()
	if res, err := ex.CITP(t.Context(), dir, f.all()); err != nil || res.Commits != 3 {
		t.Fatalf("first export: %v, %+v", err, res)
	}

	// B was there on 2020-02-01 already: its period now starts earlier.
	f.capture("Acme Cloud", "20200201000000", "B", "")
	res, err := ex.CITP(t.Context(), dir, f.all())
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 0 || res.Vendors[0].Existing != 3 {
		t.Fatalf("after a narrowed window: %d committed (%+v); want none", res.Commits, res.Vendors)
	}

	// A was back on 2020-04-01, between B and C.
	f.capture("Acme Cloud", "20200401000000", "A", "")
	res, err = ex.CITP(t.Context(), dir, f.all())
	if err != nil {
		t.Fatal(err)
	}
	if res.Commits != 1 || res.Vendors[0].Existing != 3 {
		t.Fatalf("after a backfilled revert: %d committed (%+v); want 1", res.Commits, res.Vendors)
	}
	if got := strings.Fields(git(t, dir, "log", "-1", "--format=%aI %(trailers:key=Policywatch-Since,valueonly) %(trailers:key=Policywatch-Flip-Back,valueonly)")); strings.Join(got, " ") != "2020-04-01T00:00:00+00:00 20200401000000 true" {
		t.Errorf("the appended commit: %q", got)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "older than what the export already holds") {
		t.Errorf("no warning about the older period:\n%s", logs.String())
	}
}
