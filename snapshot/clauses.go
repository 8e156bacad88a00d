package snapshot

// Clause is one unit of a policy for clause-level diffing: a heading, a
// paragraph, a list item or a table row of the Markdown body, with the path
// of the sections it sits in.
type Clause struct {
	// Path locates the clause: the headings above it and the numbers of the
	// list items it is nested in, e.g. ["7 Final provisions", "7.1"]. It is
	// stable across versions as long as the headings and numbers are.
	Path []string `json:"path"`
	// Label is the clause's own number or bullet label ("7.1", "a)", "3."),
	// "" when it has none. Renumbering changes Label, not Text.
	Label string `json:"label,omitempty"`
	// Kind is "heading", "paragraph", "item" or "row".
	Kind string `json:"kind"`
	// Level is the heading level (1–6) or list depth (1…), 0 for others.
	Level int `json:"level,omitempty"`
	// Text is the clause's text without its label, as Markdown.
	Text string `json:"text"`
	// Hash is the hex SHA-256 of the normalised Text (see Normalize), so that
	// identical clauses are found in constant time.
	Hash string `json:"hash"`
}

// PathString joins a clause path for display: "7 Final provisions › 7.1".
func PathString(path []string) string {
	out := ""
	for i, p := range path {
		if i > 0 {
			out += " › "
		}
		out += p
	}
	return out
}

// Segment splits a version's Markdown (Document.Markdown or Body) into
// clauses, in document order.
func Segment(markdown string) []Clause { return nil }
