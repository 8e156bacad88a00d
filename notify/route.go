package notify

import (
	"slices"
	"strings"

	"github.com/policywatch/policywatch/diffing"
)

// Route returns the channels a vendor's change goes to, in the order of
// cfg.Channels. It is pure, so the monitor can call it inside the
// transaction that records the change and write one outbox row per channel.
//
// Without routes, every configured channel gets every change of
// DefaultKinds. With routes, a change goes to the union of the channels of
// every route whose vendors include the vendor (or that names none), whose
// min_severity the change reaches and whose kinds (DefaultKinds when none
// are named) include one of the change's kinds. A change with no kind is
// never routed: nothing a reader was told changed.
func Route(cfg Config, vendor string, ch diffing.Change) []string {
	configured := cfg.Channels()
	routes := cfg.Routes
	if len(routes) == 0 {
		routes = []RouteConfig{{}}
	}
	picked := map[string]bool{}
	for _, r := range routes {
		if !r.accepts(vendor, ch) {
			continue
		}
		names := r.Channels
		if len(names) == 0 {
			names = configured
		}
		for _, n := range names {
			picked[n] = true
		}
	}
	var out []string
	for _, n := range configured {
		if picked[n] {
			out = append(out, n)
		}
	}
	return out
}

func (r RouteConfig) accepts(vendor string, ch diffing.Change) bool {
	if len(r.Vendors) > 0 && !slices.ContainsFunc(r.Vendors, func(v string) bool { return strings.EqualFold(v, vendor) }) {
		return false
	}
	if levelRank(ch.Severity.Level) < levelRank(r.MinSeverity) {
		return false
	}
	kinds := r.Kinds
	if len(kinds) == 0 {
		kinds = DefaultKinds
	}
	return slices.ContainsFunc(ch.Kinds, func(k string) bool { return slices.Contains(kinds, k) })
}

// levelRank orders severity levels; an unknown or empty level ranks as none,
// so a change without an assessment still reaches routes without a minimum.
func levelRank(level string) int {
	return max(slices.Index(levels, level), 0)
}
