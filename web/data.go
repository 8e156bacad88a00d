package web

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/policywatch/policywatch/diffing"
	"github.com/policywatch/policywatch/store"
)

// VendorSummary is what the vendor list and the API say about one vendor.
// Pages and API read the same summary, so they never disagree.
type VendorSummary struct {
	Name string
	URL  string
	// Configured is false for a vendor the store knows but the config no
	// longer names: its history is still shown.
	Configured bool
	// Stored is nil while no pass has recorded the vendor.
	Stored *store.Vendor
	// Latest is the version in effect at the newest capture, nil when none.
	Latest *store.Version
	// LastChange is the newest archive change, nil when none.
	LastChange *store.Change
	Versions   int
	Changes    int
	// NextPass is the zero time when no pass is scheduled.
	NextPass time.Time
}

// Health says how the vendor's last pass went: "ok", "failing" or "never"
// (no pass recorded yet).
func (v *VendorSummary) Health() string {
	switch {
	case v.Stored == nil || v.Stored.LastPassAt.IsZero():
		return "never"
	case v.Stored.LastPassError != "":
		return "failing"
	}
	return "ok"
}

// summaries returns every configured vendor in config order, then the
// vendors only the store knows, by name.
func (s *Server) summaries(ctx context.Context) ([]*VendorSummary, error) {
	stored, err := s.db.Vendors(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]*store.Vendor{}
	for _, v := range stored {
		byName[strings.ToLower(v.Name)] = v
	}
	var out []*VendorSummary
	seen := map[string]bool{}
	for _, c := range s.opts.Vendors() {
		key := strings.ToLower(c.Name)
		if seen[key] {
			continue
		}
		seen[key] = true
		sum, err := s.summary(ctx, c.Name, c.URL, true, byName[key])
		if err != nil {
			return nil, err
		}
		out = append(out, sum)
	}
	for _, v := range stored {
		if seen[strings.ToLower(v.Name)] {
			continue
		}
		sum, err := s.summary(ctx, v.Name, v.URL, false, v)
		if err != nil {
			return nil, err
		}
		out = append(out, sum)
	}
	return out, nil
}

// vendorSummary returns one vendor's summary by name (case-insensitive), or
// a not-found error that names it.
func (s *Server) vendorSummary(ctx context.Context, name string) (*VendorSummary, error) {
	var conf *Vendor
	for _, c := range s.opts.Vendors() {
		if strings.EqualFold(c.Name, name) {
			conf = &c
			break
		}
	}
	v, err := s.db.VendorByName(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	switch {
	case conf != nil:
		return s.summary(ctx, conf.Name, conf.URL, true, v)
	case v != nil:
		return s.summary(ctx, v.Name, v.URL, false, v)
	}
	return nil, notFoundf("vendor %q is neither configured nor stored", name)
}

func (s *Server) summary(ctx context.Context, name, url string, configured bool, v *store.Vendor) (*VendorSummary, error) {
	sum := &VendorSummary{Name: name, URL: url, Configured: configured, Stored: v}
	if configured {
		sum.NextPass = s.opts.NextPass(name)
	}
	if v == nil {
		return sum, nil
	}
	latest, _, err := s.db.VersionAt(ctx, v.ID, "99991231235959")
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		sum.Latest = latest
	}
	changes, err := s.db.Changes(ctx, v.ID, store.CauseArchive)
	if err != nil {
		return nil, err
	}
	sum.Changes = len(changes)
	if len(changes) > 0 {
		sum.LastChange = changes[len(changes)-1]
	}
	versions, err := s.db.Versions(ctx, v.ID)
	if err != nil {
		return nil, err
	}
	sum.Versions = len(versions)
	return sum, nil
}

// storedVendor returns the stored vendor called name, or a not-found error
// saying whether it is configured but not yet fetched.
func (s *Server) storedVendor(ctx context.Context, name string) (*store.Vendor, error) {
	v, err := s.db.VendorByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		for _, c := range s.opts.Vendors() {
			if strings.EqualFold(c.Name, name) {
				return nil, notFoundf("vendor %q has no stored history yet (run policywatch fetch or history)", c.Name)
			}
		}
		return nil, notFoundf("vendor %q is neither configured nor stored", name)
	}
	return v, err
}

// version returns the vendor's version with the given id (a decimal string,
// from a path), or not found when it belongs to another vendor.
func (s *Server) version(ctx context.Context, v *store.Vendor, id string) (*store.Version, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return nil, badRequestf("version %q: want the number of a version, as listed by /api/v1/vendors/{name}/versions", id)
	}
	ver, err := s.db.VersionByID(ctx, n)
	if errors.Is(err, store.ErrNotFound) || (err == nil && ver.VendorID != v.ID) {
		return nil, notFoundf("vendor %q has no version %d", v.Name, n)
	}
	return ver, err
}

// change returns the vendor's change with the given id, or not found.
func (s *Server) change(ctx context.Context, v *store.Vendor, id string) (*store.Change, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return nil, badRequestf("change %q: want the number of a change, as listed by /api/v1/changes", id)
	}
	ch, err := s.db.ChangeByID(ctx, n)
	if errors.Is(err, store.ErrNotFound) || (err == nil && ch.VendorID != v.ID) {
		return nil, notFoundf("vendor %q has no change %d", v.Name, n)
	}
	return ch, err
}

// changeReport returns the report of a recorded change, as alerts and the
// CLI's diff describe it.
func (s *Server) changeReport(ctx context.Context, v *store.Vendor, ch *store.Change) (diffing.Report, error) {
	oldV, err := s.db.VersionByID(ctx, ch.FromVersionID)
	if err != nil {
		return diffing.Report{}, fmt.Errorf("change %d: %w", ch.ID, err)
	}
	newV, err := s.db.VersionByID(ctx, ch.ToVersionID)
	if err != nil {
		return diffing.Report{}, fmt.Errorf("change %d: %w", ch.ID, err)
	}
	return store.BuildReport(v, oldV, newV, ch, s.opts.Terms()), nil
}

// compareReport returns the report between any two of the vendor's
// versions. When a recorded change links exactly these two, its analysis
// and window are used.
func (s *Server) compareReport(ctx context.Context, v *store.Vendor, oldV, newV *store.Version) (diffing.Report, error) {
	recorded, err := s.db.ChangeBetween(ctx, v.ID, oldV, newV, "", "")
	if err != nil {
		return diffing.Report{}, err
	}
	return store.BuildReport(v, oldV, newV, recorded, s.opts.Terms()), nil
}

// severityLevels are the levels a feed or filter may name, lowest first.
var severityLevels = diffing.Levels

// checkLevel validates a severity level parameter.
func checkLevel(param, level string) error {
	if level == "" || slices.Contains(severityLevels, level) {
		return nil
	}
	return badRequestf("%s %q: want one of %s", param, level, strings.Join(severityLevels, ", "))
}
