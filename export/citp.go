package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/policywatch/policywatch/store"
)

// ErrGitMissing is returned by CITP when no git executable can be found:
// the export is a git repository and is written with the git command line.
var ErrGitMissing = errors.New("git is not installed or not in PATH; install it (Debian/Ubuntu: apt-get install git) and run export again")

// ErrNotExport is returned by CITP for a non-empty directory that is not a
// previous policywatch export: writing into it could mix our files with
// someone else's, so nothing is written.
var ErrNotExport = errors.New("not a policywatch export")

// ErrDirty is returned by CITP when the export's work tree has changes that
// policywatch did not make and that an export would overwrite or sweep into
// its commits.
var ErrDirty = errors.New("the export has uncommitted changes")

// Commit trailers. They are how an export remembers what it holds: a later
// export reads them back with `git log` and commits only the text periods
// that are not there yet. Researchers can read them too, e.g.
// git log --format='%(trailers:key=Wayback-URL,valueonly)'.
const (
	TrailerVendor    = "Policywatch-Vendor"    // the vendor's name in the database
	TrailerVersion   = "Policywatch-Version"   // the version's SHA-256 (of its normalised Markdown)
	TrailerSince     = "Policywatch-Since"     // 14-digit timestamp of the period's first capture; with the vendor and version, the period's identity
	TrailerPath      = "Policywatch-Path"      // the file, relative to the export
	TrailerExtractor = "Policywatch-Extractor" // the extractor that produced the text
	TrailerWayback   = "Wayback-URL"           // the raw (id_) URL of the period's first capture
	TrailerWindow    = "Change-Window"         // last capture with the old text / first with this one, RFC 3339 UTC
	TrailerFlipBack  = "Policywatch-Flip-Back" // "true" when the period returns to a text archived before
)

// VendorResult says what CITP did for one vendor.
type VendorResult struct {
	Vendor   string
	Path     string // the vendor's file, slash-separated, relative to the export; "" when it has no versions
	New      int    // text periods committed by this export
	Existing int    // text periods an earlier export had committed
}

// Result says what CITP did.
type Result struct {
	Dir     string // absolute
	Commits int
	Vendors []VendorResult // in the order the vendors were given
}

// pending is a text period to commit. The version's text is loaded again
// when its turn comes, so that an export of years of history holds only
// this much of each period in memory.
type pending struct {
	vendor   *store.Vendor
	label    string
	site     string
	id       int64          // the version
	start    *store.Capture // the period's first capture
	window   *window        // nil when no recorded archive change began the period
	flipBack bool
}

// render returns the period's file: the version's text, with the provenance
// line naming the period's first capture.
func (p *pending) render(ver *store.Version) string { return render(p.site, ver, p.start) }

type exportKey struct{ vendor, sha string }

// CITP exports the versions of vendors into dir as a git repository in the
// layout of the Princeton-Leuven dataset: one file per vendor at
// <a>/<ab>/<abc>/<domain>.md (see DomainPath) holding the text in the citp
// format, and one commit per text period: the vendor's first text, then
// one per recorded archive change, so a change and its revert (A → B → A)
// are three commits and the file ends at A. Commits go oldest first across
// all vendors so that `git log` reads as a timeline, each authored and
// committed at its period's first capture time (UTC), with the provenance
// line linking that capture.
//
// dir may be missing or empty (a repository is created on branch main), or
// an earlier export, to which only the periods it does not hold yet are
// added. Anything else is refused with ErrNotExport before anything is
// written. Vendors sharing a domain get distinct files: the first exported
// keeps <domain>.md, the others get <domain>--<slug>.md (see Slug), and a
// vendor keeps its file in later exports.
//
// An export that is interrupted keeps what it committed; the file it was
// writing is recognised as its own on the next run and committed then.
func (e *Exporter) CITP(ctx context.Context, dir string, vendors []*store.Vendor) (*Result, error) {
	bin, err := e.gitPath()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("export to %s: %w", dir, err)
	}
	r := &repo{dir: abs, bin: bin, name: e.AuthorName, email: e.AuthorEmail}
	if r.name == "" {
		r.name = "policywatch"
	}
	if r.email == "" {
		r.email = "policywatch@localhost"
	}
	if err := r.open(ctx); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("export to %s: %w", abs, err)
	}
	defer root.Close()
	r.root = root

	res := &Result{Dir: abs}
	byVendor := map[int64]int{} // vendor ID → index in res.Vendors
	var todo []*pending
	for _, v := range vendors {
		if _, dup := byVendor[v.ID]; dup {
			continue // named twice: its periods are committed once
		}
		ps, existing, err := e.pendingOf(ctx, r, v)
		if err != nil {
			return nil, fmt.Errorf("export to %s: %w", abs, err)
		}
		byVendor[v.ID] = len(res.Vendors)
		res.Vendors = append(res.Vendors, VendorResult{Vendor: v.Name, Existing: existing})
		todo = append(todo, ps...)
	}
	// Oldest first across vendors; the vendor name and the capture ID only
	// break ties, which keeps two exports of one database identical.
	sort.SliceStable(todo, func(i, j int) bool {
		a, b := todo[i], todo[j]
		if a.start.Timestamp != b.start.Timestamp {
			return a.start.Timestamp < b.start.Timestamp
		}
		if a.vendor.Name != b.vendor.Name {
			return a.vendor.Name < b.vendor.Name
		}
		return a.start.ID < b.start.ID
	})

	paths, err := e.assignPaths(ctx, r, todo)
	if err != nil {
		return nil, fmt.Errorf("export to %s: %w", abs, err)
	}
	for id, i := range byVendor {
		vr := &res.Vendors[i]
		if vr.Path = paths[id]; vr.Path == "" {
			vr.Path = r.paths[vendorLabel(vr.Vendor)]
		}
	}
	if err := e.checkClean(ctx, r, todo, paths); err != nil {
		return nil, err
	}

	warned := map[string]bool{}
	for _, p := range todo {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("export to %s: interrupted after %d commits; run it again to continue: %w", abs, res.Commits, err)
		}
		ver, err := e.DB.VersionByID(ctx, p.id)
		if err != nil {
			return res, fmt.Errorf("export to %s: %w", abs, err)
		}
		file := paths[p.vendor.ID]
		since := p.start.Timestamp
		if newest := r.newest[p.label]; newest != "" && since < newest && !warned[p.label] {
			warned[p.label] = true
			e.logger().Warn("a text period older than what the export already holds is committed at the end of the history (history backfill or re-extraction since the last export); export into a new directory for a strictly chronological history",
				"vendor", p.vendor.Name, "since", since, "exported_up_to", newest)
		}
		when, err := parseTimestamp(since)
		if err != nil {
			return res, fmt.Errorf("export to %s: version %d: %w", abs, ver.ID, err)
		}
		msg := commitMessage(p, ver, file, when)
		if err := r.commit(ctx, file, []byte(p.render(ver)), msg, when); err != nil {
			return res, fmt.Errorf("export to %s: %s: %w", abs, file, err)
		}
		res.Commits++
		res.Vendors[byVendor[p.vendor.ID]].New++
		e.logger().Debug("committed text period", "vendor", p.vendor.Name, "path", file, "since", since, "sha256", ver.SHA256, "flip_back", p.flipBack)
	}
	if res.Commits > 0 {
		// Commits ran with automatic gc off (a background gc could outlive
		// the command); pack the loose objects now if there are many.
		if _, err := r.git(ctx, "", nil, "-c", "gc.auto=6700", "-c", "gc.autoDetach=false", "gc", "--auto", "--quiet"); err != nil {
			e.logger().Warn("git gc --auto failed; the export is complete, run `git gc` in it later", "dir", abs, "err", err)
		}
	}
	return res, nil
}

func (e *Exporter) gitPath() (string, error) {
	name := e.Git
	if name == "" {
		name = "git"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("export: %w", ErrGitMissing)
	}
	return p, nil
}

// pendingOf returns the vendor's text periods that the export does not
// hold yet, and how many it does hold.
func (e *Exporter) pendingOf(ctx context.Context, r *repo, v *store.Vendor) ([]*pending, int, error) {
	site, err := Site(v.URL)
	if err != nil {
		return nil, 0, fmt.Errorf("vendor %q: %w", v.Name, err)
	}
	versions, err := e.DB.Versions(ctx, v.ID)
	if err != nil {
		return nil, 0, err
	}
	periods, err := e.periods(ctx, v, versions)
	if err != nil {
		return nil, 0, err
	}
	label := vendorLabel(v.Name)
	var out []*pending
	existing := 0
	for _, pd := range periods {
		if r.holds(label, pd) {
			existing++
			continue
		}
		out = append(out, &pending{vendor: v, label: label, site: site, id: pd.ver.ID, start: pd.start, window: pd.window(), flipBack: pd.flipBack})
	}
	return out, existing, nil
}

// assignPaths returns the file of each vendor that has versions to commit.
// A vendor keeps the file its earlier commits name while that file still
// belongs to its site; a vendor new to the export takes <domain>.md when no
// other vendor has it and no file of someone else is there, else
// <domain>--<slug>.md. Vendors are placed in the order of their first
// version to commit, so the oldest history gets the plain name.
func (e *Exporter) assignPaths(ctx context.Context, r *repo, todo []*pending) (map[int64]string, error) {
	claimed := map[string]string{} // path → vendor label
	for label, p := range r.paths {
		claimed[p] = label
	}
	out := map[int64]string{}
	for _, p := range todo {
		if _, done := out[p.vendor.ID]; done {
			continue
		}
		if old := r.paths[p.label]; old != "" && belongsTo(old, p.site) {
			out[p.vendor.ID] = old
			continue
		}
		slug := Slug(p.vendor.Name)
		if slug == "" {
			slug = "vendor-" + strconv.FormatInt(p.vendor.ID, 10)
		}
		dir := dirOf(p.site)
		for n := 1; ; n++ {
			cand := DomainPath(p.site)
			switch {
			case n == 2:
				cand = dir + "/" + p.site + "--" + slug + ".md"
			case n > 2:
				cand = dir + "/" + p.site + "--" + slug + "-" + strconv.Itoa(n-1) + ".md"
			}
			if owner, ok := claimed[cand]; ok && owner != p.label {
				continue
			}
			free, err := e.freeFor(ctx, r, p, cand)
			if err != nil {
				return nil, err
			}
			if free {
				claimed[cand] = p.label
				out[p.vendor.ID] = cand
				break
			}
		}
	}
	return out, nil
}

// belongsTo reports whether an exported file is the site's: <site>.md or
// <site>--<slug>.md in the site's directory. A vendor whose URL moved to
// another site starts a new file there.
func belongsTo(file, site string) bool {
	dir, base := path.Split(file)
	return dir == dirOf(site)+"/" && (base == site+".md" || strings.HasPrefix(base, site+"--") && strings.HasSuffix(base, ".md"))
}

// freeFor reports whether the vendor may write its file at cand: nothing
// is there, or what is there is the vendor's own next version, left by an
// export that was interrupted before its commit.
func (e *Exporter) freeFor(ctx context.Context, r *repo, p *pending, cand string) (bool, error) {
	_, err := r.root.Lstat(filepath.FromSlash(cand))
	switch {
	case err == nil:
		return e.isLeftover(ctx, r, p, cand)
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	default:
		// A file where a directory of the layout goes, or a link out of
		// the export: every name in that directory would fail the same way.
		return false, fmt.Errorf("cannot write %s: %w", cand, err)
	}
}

// isLeftover reports whether the file at file holds exactly the vendor's
// oldest period still to commit: the one an interrupted export was
// committing, since periods are committed oldest first.
func (e *Exporter) isLeftover(ctx context.Context, r *repo, p *pending, file string) (bool, error) {
	got, err := r.root.ReadFile(filepath.FromSlash(file))
	if err != nil {
		return false, nil
	}
	ver, err := e.DB.VersionByID(ctx, p.id)
	if err != nil {
		return false, err
	}
	return string(got) == p.render(ver), nil
}

// checkClean refuses a work tree with changes the export would overwrite or
// sweep into its commits: staged changes, and changed or untracked files
// where it is about to write, unless such a file is the export's own
// leftover. Other untracked or unstaged files are left alone, as they are
// neither written nor committed.
func (e *Exporter) checkClean(ctx context.Context, r *repo, todo []*pending, paths map[int64]string) error {
	out, err := r.git(ctx, "", nil, "status", "--porcelain=v1", "-z", "--untracked-files=all")
	if err != nil {
		return fmt.Errorf("export to %s: %w", r.dir, err)
	}
	firstOf := map[string]*pending{} // path → the vendor's oldest period to commit
	for _, p := range todo {
		if f := paths[p.vendor.ID]; firstOf[f] == nil {
			firstOf[f] = p
		}
	}
	var bad []string
	fields := strings.Split(string(out), "\x00")
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if len(f) < 4 {
			continue
		}
		xy, file := f[:2], f[3:]
		if xy[0] == 'R' || xy[0] == 'C' {
			i++ // the next field is the rename's source
		}
		ours := firstOf[file]
		staged := xy[0] != ' ' && xy[0] != '?'
		switch {
		case ours == nil && !staged:
			continue // not written, not committed: none of the export's business
		case ours != nil && (xy == "??" || xy == " M" || xy == "M " || xy == "A "):
			left, err := e.isLeftover(ctx, r, ours, file)
			if err != nil {
				return fmt.Errorf("export to %s: %w", r.dir, err)
			}
			if left {
				continue
			}
		}
		bad = append(bad, strings.TrimSpace(xy)+" "+file)
	}
	if len(bad) > 0 {
		if len(bad) > 5 {
			bad = append(bad[:5], fmt.Sprintf("and %d more", len(bad)-5))
		}
		return fmt.Errorf("export to %s: %w that policywatch did not make (%s); commit or undo them (see git -C %s status) and run export again; nothing was written",
			r.dir, ErrDirty, strings.Join(bad, ", "), r.dir)
	}
	return nil
}

// commitMessage says what the period is in the subject (the text as first
// archived, or a change and its window), and records in trailers what a
// later export and researchers need. It holds nothing that grows while
// the period lasts (no last capture, no count), so exporting the same
// database again makes the same commits.
func commitMessage(p *pending, ver *store.Version, file string, when time.Time) string {
	stated := "no last-updated date stated"
	if ver.StatedDate != "" {
		stated = "last updated " + ver.StatedDate
	}
	name := strings.TrimSuffix(path.Base(file), ".md")
	var b strings.Builder
	if w := p.window; w != nil {
		fmt.Fprintf(&b, "%s: changed between %s and %s (%s)\n\n", name, dateOf(w.lastOld), dateOf(w.firstNew), stated)
		fmt.Fprintf(&b, "Vendor %s: the policy at %s changed between %s, the last capture with the previous text, and %s, the first capture with this one.\n\n",
			p.label, oneLine(p.start.Original), isoTime(w.lastOld), isoTime(w.firstNew))
		if p.flipBack {
			fmt.Fprintf(&b, "This text was archived before, first at %s: the change returns to an earlier text (a flip-back).\n\n", isoTime(ver.First.Timestamp))
		}
	} else {
		fmt.Fprintf(&b, "%s: version first archived %s (%s)\n\n", name, when.Format(time.DateOnly), stated)
		fmt.Fprintf(&b, "Vendor %s: the policy at %s as the Wayback Machine first archived it, at %s.\n\n",
			p.label, oneLine(p.start.Original), when.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "%s: %s\n", TrailerVendor, p.label)
	fmt.Fprintf(&b, "%s: %s\n", TrailerVersion, ver.SHA256)
	fmt.Fprintf(&b, "%s: %s\n", TrailerSince, p.start.Timestamp)
	fmt.Fprintf(&b, "%s: %s\n", TrailerPath, file)
	if ver.Extractor != "" {
		fmt.Fprintf(&b, "%s: %s\n", TrailerExtractor, oneLine(ver.Extractor))
	}
	fmt.Fprintf(&b, "%s: %s\n", TrailerWayback, oneLine(p.start.WaybackURL()))
	if p.window != nil {
		fmt.Fprintf(&b, "%s: %s/%s\n", TrailerWindow, isoTime(p.window.lastOld), isoTime(p.window.firstNew))
	}
	if p.flipBack {
		fmt.Fprintf(&b, "%s: true\n", TrailerFlipBack)
	}
	return b.String()
}

// dateOf returns the UTC date of a Wayback timestamp, or the timestamp as
// it is when it is not one.
func dateOf(ts string) string {
	t, err := parseTimestamp(ts)
	if err != nil {
		return ts
	}
	return t.Format(time.DateOnly)
}

func oneLine(s string) string { return vendorLabel(s) }

// repo runs git in the export directory. Every command gets the same
// settings on its command line and a clean environment: the export must
// not depend on the user's git configuration (signing, hooks, line-ending
// conversion, default branch) nor on GIT_DIR and friends inherited from a
// calling git hook, and must never look for a repository above dir.
type repo struct {
	dir, bin    string
	name, email string
	root        *os.Root
	hasHead     bool

	// exported lists, per vendor and version, the Policywatch-Since of each
	// commit of that text; "" for a commit made before periods were
	// exported (one commit per version, no Since trailer), which stands for
	// the period that starts at the version's first capture.
	exported map[exportKey][]string
	paths    map[string]string // vendor label → file named by its newest commit
	newest   map[string]string // vendor label → newest commit date, as a 14-digit timestamp
}

// holds reports whether an earlier export committed the period: a commit of
// the same vendor and text whose Since lies within the period. Matching the
// span rather than the exact start keeps a period committed once when a
// history backfill later finds the change earlier in the archive (its
// window narrows and the period starts at an earlier capture).
func (r *repo) holds(label string, p *period) bool {
	for _, since := range r.exported[exportKey{label, p.ver.SHA256}] {
		if since == "" {
			since = p.ver.First.Timestamp
		}
		if p.start.Timestamp <= since && since <= p.to {
			return true
		}
	}
	return false
}

func (r *repo) git(ctx context.Context, stdin string, env []string, args ...string) ([]byte, error) {
	full := []string{"-C", r.dir,
		"-c", "core.autocrlf=false", "-c", "core.safecrlf=false", "-c", "core.quotepath=false",
		"-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "color.ui=false",
		"-c", "gc.auto=0", "-c", "maintenance.auto=false", "-c", "init.defaultBranch=main",
		"-c", "core.hooksPath=" + os.DevNull, "-c", "core.fsmonitor=false",
		"-c", "user.name=" + r.name, "-c", "user.email=" + r.email,
	}
	// git is not killed when ctx ends: an interrupted commit would leave
	// .git/index.lock behind and stop the next export. CITP checks ctx
	// between commits instead, and each git command is short.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), r.bin, append(full, args...)...)
	cmd.Env = append(gitEnv(r.dir), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return stdout.Bytes(), fmt.Errorf("git %s: %w: %s", gitOp(args), err, msg)
		}
		return stdout.Bytes(), fmt.Errorf("git %s: %w", gitOp(args), err)
	}
	return stdout.Bytes(), nil
}

// gitOp names the git subcommand in args, skipping "-c key=value" options.
func gitOp(args []string) string {
	for i := 0; i < len(args); i++ {
		if args[i] == "-c" {
			i++
			continue
		}
		return args[i]
	}
	return ""
}

func gitEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+os.DevNull,
		"GIT_CEILING_DIRECTORIES="+filepath.Dir(dir),
		"GIT_TERMINAL_PROMPT=0",
		"GIT_LITERAL_PATHSPECS=1",
	)
}

// open makes dir a repository or checks that it is an earlier export, and
// reads what the earlier exports committed.
func (r *repo) open(ctx context.Context) error {
	r.exported = map[exportKey][]string{}
	r.paths = map[string]string{}
	r.newest = map[string]string{}
	st, err := os.Stat(r.dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(r.dir, 0o755); err != nil {
			return fmt.Errorf("export to %s: %w", r.dir, err)
		}
		return r.init(ctx)
	}
	if err != nil {
		return fmt.Errorf("export to %s: %w", r.dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("export to %s: it is a file, not a directory; --format citp writes a directory (use --format jsonl for one file)", r.dir)
	}
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return fmt.Errorf("export to %s: %w", r.dir, err)
	}
	if len(entries) == 0 {
		return r.init(ctx)
	}
	if !slices.ContainsFunc(entries, func(d fs.DirEntry) bool { return d.Name() == ".git" }) {
		return fmt.Errorf("export to %s: the directory is not empty and is %w (it is no git repository); give a new or empty directory; nothing was written", r.dir, ErrNotExport)
	}
	if _, err := r.git(ctx, "", nil, "rev-parse", "-q", "--verify", "HEAD^{commit}"); err != nil {
		// Exit status 1 is rev-parse's "no such revision"; anything else
		// (an unreadable repository, one owned by another user) is an error.
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			return fmt.Errorf("export to %s: %w", r.dir, err)
		}
		// No commit yet: an export that stopped right after creating the
		// repository, if nothing else is there.
		if len(entries) == 1 {
			return nil
		}
		return fmt.Errorf("export to %s: the directory is a git repository without commits and with other files, %w; give a new or empty directory; nothing was written", r.dir, ErrNotExport)
	}
	r.hasHead = true
	if err := r.readLog(ctx); err != nil {
		return err
	}
	if len(r.exported) == 0 {
		return fmt.Errorf("export to %s: the directory is a git repository but %w (no commit has a %s trailer); give a new or empty directory; nothing was written", r.dir, ErrNotExport, TrailerVersion)
	}
	return nil
}

func (r *repo) init(ctx context.Context) error {
	if _, err := r.git(ctx, "", nil, "init", "-q"); err != nil {
		return fmt.Errorf("export to %s: %w", r.dir, err)
	}
	// init.defaultBranch needs git 2.28; this works with any git.
	if _, err := r.git(ctx, "", nil, "symbolic-ref", "HEAD", "refs/heads/main"); err != nil {
		return fmt.Errorf("export to %s: %w", r.dir, err)
	}
	return nil
}

// readLog reads the trailers of every commit reachable from HEAD, newest
// first. Commits without a version trailer (a researcher's own notes) are
// skipped.
func (r *repo) readLog(ctx context.Context) error {
	out, err := r.git(ctx, "", nil, "log", "--format=%x1e%at%x1f%B", "HEAD")
	if err != nil {
		return fmt.Errorf("export to %s: read the history: %w", r.dir, err)
	}
	for _, rec := range strings.Split(string(out), "\x1e")[1:] {
		at, body, _ := strings.Cut(rec, "\x1f")
		t := trailers(body)
		vendor, sha := t[TrailerVendor], t[TrailerVersion]
		if vendor == "" || sha == "" {
			continue
		}
		since := t[TrailerSince]
		if len(since) != 14 || strings.Trim(since, "0123456789") != "" {
			since = "" // an export from before periods: the version's first period
		}
		k := exportKey{vendor, sha}
		r.exported[k] = append(r.exported[k], since)
		if p := t[TrailerPath]; r.paths[vendor] == "" && validPath(p) {
			r.paths[vendor] = p
		}
		if sec, err := strconv.ParseInt(strings.TrimSpace(at), 10, 64); err == nil {
			ts := time.Unix(sec, 0).UTC().Format("20060102150405")
			if ts > r.newest[vendor] {
				r.newest[vendor] = ts
			}
		}
	}
	return nil
}

// trailers returns the "Key: value" lines of a commit message.
func trailers(msg string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(msg, "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if ok && k != "" && !strings.ContainsAny(k, " \t") {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}

// validPath reports whether a path read back from a trailer can be written
// to: a clean, local, slash-separated .md path. History can be edited by
// hand, and a path like ../x must never be followed.
func validPath(p string) bool {
	return p != "" && path.Clean(p) == p && filepath.IsLocal(filepath.FromSlash(p)) &&
		strings.HasSuffix(p, ".md") && !strings.HasPrefix(p, ".git/") && !strings.Contains(p, "\\")
}

// commit writes content to file and commits it alone, dated when. The
// index holds nothing else (checkClean made sure), so the commit holds
// exactly this file.
func (r *repo) commit(ctx context.Context, file string, content []byte, msg string, when time.Time) error {
	name := filepath.FromSlash(file)
	if err := r.root.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	if err := r.root.WriteFile(name, content, 0o644); err != nil {
		return err
	}
	if _, err := r.git(ctx, "", nil, "add", "-f", "--", file); err != nil {
		return err
	}
	date := fmt.Sprintf("@%d +0000", when.Unix())
	env := []string{
		"GIT_AUTHOR_NAME=" + r.name, "GIT_AUTHOR_EMAIL=" + r.email, "GIT_AUTHOR_DATE=" + date,
		"GIT_COMMITTER_NAME=" + r.name, "GIT_COMMITTER_EMAIL=" + r.email, "GIT_COMMITTER_DATE=" + date,
	}
	if _, err := r.git(ctx, msg, env, "commit", "-q", "--no-verify", "--allow-empty", "--cleanup=strip", "-F", "-"); err != nil {
		return err
	}
	r.hasHead = true
	return nil
}
