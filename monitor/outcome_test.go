package monitor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/policywatch/policywatch/crawler"
)

// downArchive answers every listing with the crawler's unreachable error.
type downArchive struct{ Archive }

func (downArchive) List(context.Context, string, crawler.ListOptions) ([]crawler.Capture, error) {
	return nil, crawler.ErrUnreachable
}

// TestPassRecordsItsOutcome checks that each pass leaves its outcome on the
// vendor for the dashboard: a success, then a failure that keeps the time
// of the last success and says what went wrong.
func TestPassRecordsItsOutcome(t *testing.T) {
	f := newFixture(t)
	clock := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	f.mon.Now = func() time.Time { return clock }
	f.archive.Add(capture("20200101000000", page("January 1, 2020", "Logs are kept for 30 days.")))
	f.pass(t)
	v, err := f.db.VendorByName(t.Context(), "Example")
	if err != nil {
		t.Fatal(err)
	}
	if !v.LastPassAt.Equal(clock) || !v.LastOKAt.Equal(clock) || v.LastPassError != "" {
		t.Fatalf("after a good pass: %v / %v / %q", v.LastPassAt, v.LastOKAt, v.LastPassError)
	}

	okAt := clock
	clock = clock.Add(time.Hour)
	down := New(f.db, downArchive{}, nil)
	down.Now = f.mon.Now
	if _, err := down.Pass(t.Context(), Vendor{Name: "Example", URL: policyURL}); !errors.Is(err, crawler.ErrUnreachable) {
		t.Fatalf("pass against a down archive = %v, want ErrUnreachable", err)
	}
	if v, err = f.db.VendorByName(t.Context(), "Example"); err != nil {
		t.Fatal(err)
	}
	if !v.LastPassAt.Equal(clock) || !v.LastOKAt.Equal(okAt) || !strings.Contains(v.LastPassError, "list captures of "+policyURL) {
		t.Fatalf("after a failed pass: %v / %v / %q", v.LastPassAt, v.LastOKAt, v.LastPassError)
	}
}
