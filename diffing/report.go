package diffing

// Kinds of change. A change carries one or more; see Classify.
const (
	KindDateOnly = "date-only" // the stated date moved, nothing else of substance did
	KindSilent   = "silent"    // the text changed materially and the stated date did not
	KindDated    = "dated"     // text and stated date both changed
	KindCosmetic = "cosmetic"  // only whitespace, punctuation, typography, link targets or tracking parameters
	KindFlipBack = "flip-back" // the new text equals an earlier version (A/B pages, flapping captures)
)

// Clause operations.
const (
	OpModified   = "modified"
	OpAdded      = "added"
	OpRemoved    = "removed"
	OpMoved      = "moved"      // same text, another place
	OpRenumbered = "renumbered" // same text and place, another number
)

// ClauseChange is one clause that differs between two versions.
type ClauseChange struct {
	Op      string   `json:"op"`
	Path    string   `json:"path"`               // section path in the new version ("" for removed: see OldPath)
	OldPath string   `json:"old_path,omitempty"` // section path in the old version, when it differs or for removed
	Label   string   `json:"label,omitempty"`
	Old     string   `json:"old,omitempty"` // old clause text (modified, removed, moved, renumbered)
	New     string   `json:"new,omitempty"` // new clause text (modified, added, moved, renumbered)
	Words   []WordOp `json:"words,omitempty"`
	// Cosmetic is true when the clause differs only in whitespace,
	// punctuation, typography, link targets or tracking parameters.
	Cosmetic bool `json:"cosmetic,omitempty"`
	// Terms are the key terms (see Severity) this clause's change touches.
	Terms []string `json:"terms,omitempty"`
	// OldLabel is the clause's label in the old version when it differs
	// from Label (renumbered, moved or modified under another number).
	OldLabel string `json:"old_label,omitempty"`
	// DateOnly is true when the clause holds the policy's stated date and
	// changed only in its date words ("Last updated May 25, 2018" →
	// "… June 1, 2019"): the clause behind a date-only change.
	DateOnly bool `json:"date_only,omitempty"`
}

// WordOp is one step of a word-level diff: "=" kept, "+" added, "-" removed.
type WordOp struct {
	Op   string `json:"op"`
	Text string `json:"text"`
}

// Stats counts clauses by what happened to them.
type Stats struct {
	Identical  int `json:"identical"`
	Modified   int `json:"modified"`
	Added      int `json:"added"`
	Removed    int `json:"removed"`
	Moved      int `json:"moved"`
	Renumbered int `json:"renumbered"`
}

// Severity says how much a change matters to a reader, with the reasons.
type Severity struct {
	Score   int      `json:"score"`   // 0 when nothing of note changed
	Level   string   `json:"level"`   // "none", "low", "medium", "high"
	Reasons []string `json:"reasons"` // e.g. "retention: added in 4 Data storage › 4.1"
}

// Term is a configurable key term: a topic readers care about, the words or
// phrases that signal it, and its weight in the severity score.
type Term struct {
	Topic   string   `json:"topic" yaml:"topic"`
	Phrases []string `json:"phrases" yaml:"phrases"`
	Weight  int      `json:"weight" yaml:"weight"`
}

// Options tune a comparison.
type Options struct {
	// Terms replace DefaultTerms when non-nil.
	Terms []Term
	// FlipBack says the new text equals a version seen before the old one;
	// only the store knows that, so the caller says it.
	FlipBack bool
}
