package diffing

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Severity levels (Severity.Level) and the scores where they start. A
// single clause added or removed about a heavy topic (sale of data,
// arbitration, biometrics, AI training: weight 5) is medium on its own; a
// retention period changed in place scores its weight (4) and is low; two
// heavy topics touched, or several lighter ones, make a change high.
const (
	LevelNone   = "none"
	LevelLow    = "low"
	LevelMedium = "medium"
	LevelHigh   = "high"

	MediumFrom = 5
	HighFrom   = 10
)

// Levels are the severity levels, lowest first: the order filters such as
// "medium or above" follow.
var Levels = []string{LevelNone, LevelLow, LevelMedium, LevelHigh}

// SeverityLevel names the level of a score: none at 0, low below
// MediumFrom, medium below HighFrom, high from there.
func SeverityLevel(score int) string {
	switch {
	case score <= 0:
		return LevelNone
	case score < MediumFrom:
		return LevelLow
	case score < HighFrom:
		return LevelMedium
	}
	return LevelHigh
}

// DefaultTerms are the topics readers of privacy policies and terms care
// about most, with English phrases and the obvious French, German and
// Spanish ones. A phrase matches whole words, case and punctuation aside
// ("class-action" matches "class action"); a phrase ending in "*" matches
// any word starting so ("retain*" matches "retained"). Weights are 5 for
// what changes a user's position outright (sale of data, waivers of court
// rights, biometrics, AI training), 4 for retention and children, 3 for who
// else gets the data and where, 2 for how to reach the company.
var DefaultTerms = []Term{
	{Topic: "sale or sharing of data", Weight: 5, Phrases: []string{
		"sell*", "sale of", "sold", "share your", "sharing", "shared with", "disclose*", "rent your",
		"vendre", "vendons", "vente de", "partag*", "céder", "cédons",
		"verkauf*", "weitergabe", "weitergeben", "offenleg*",
		"vender", "vendemos", "venta de", "compartir", "compartimos", "ceder", "cedemos"}},
	{Topic: "third parties", Weight: 3, Phrases: []string{
		"third part*", "third-part*", "partner*", "advertis*", "affiliate*", "service provider*", "processor*",
		"tiers", "tierces", "partenaire*", "annonceur*", "prestataire*",
		"dritte*", "drittanbieter*", "werbepartner*", "auftragsverarbeiter*",
		"terceros", "terceras", "socios", "anunciantes", "proveedores"}},
	{Topic: "retention", Weight: 4, Phrases: []string{
		"retain*", "retention", "kept for", "keep your", "we keep", "store* your", "stored for", "delete*", "deletion", "erase*",
		"conserv*", "durée de conservation", "supprim*",
		"aufbewahr*", "speicherdauer", "gespeichert", "lösch*",
		"conservar*", "conservamos", "plazo de conservación", "suprim*", "elimin*"}},
	{Topic: "arbitration and class-action waivers", Weight: 5, Phrases: []string{
		"arbitrat*", "class action*", "class-action*", "jury trial", "waive*", "small claims",
		"arbitrage", "action collective", "action de groupe", "renonc*",
		"schiedsverfahren", "schiedsgericht*", "sammelklage*", "verzicht*",
		"arbitraje", "acción colectiva", "demanda colectiva", "renuncia*"}},
	{Topic: "children", Weight: 4, Phrases: []string{
		"child*", "minor", "minors", "kids", "under 13", "under 16", "under the age", "parental consent", "coppa",
		"enfant*", "mineur*", "moins de 13", "moins de 15", "moins de 16",
		"kinder*", "minderjährig*", "jugendliche*",
		"niño*", "niña*", "menores", "menor de edad"}},
	{Topic: "biometrics", Weight: 5, Phrases: []string{
		"biometric*", "facial recognition", "face scan*", "face geometry", "faceprint*", "fingerprint*", "voiceprint*",
		"biométrique*", "reconnaissance faciale", "empreinte*",
		"biometrisch*", "gesichtserkennung", "fingerabdr*",
		"biométric*", "reconocimiento facial", "huella*"}},
	{Topic: "location", Weight: 5, Phrases: []string{
		"location", "locations", "geolocation", "geo-location", "gps", "precise location", "whereabouts",
		"géolocalisation", "localisation",
		"standort*", "ortung*", "geolokalisierung",
		"ubicación", "ubicacion", "geolocalización", "localización"}},
	{Topic: "AI or model training", Weight: 5, Phrases: []string{
		"artificial intelligence", "ai", "a i", "machine learning", "train our", "train* models", "train* ai",
		"model training", "training data", "to train", "language model*", "llm*", "generative", "neural network*",
		"intelligence artificielle", "ia", "apprentissage automatique", "entraîn*", "entrain*",
		"künstliche intelligenz", "ki", "maschinelles lernen", "trainier*",
		"inteligencia artificial", "aprendizaje automático", "entrenar", "entrenamiento"}},
	{Topic: "international transfers", Weight: 3, Phrases: []string{
		"international transfer*", "transfer* outside", "transferred to", "cross-border", "outside the eea",
		"outside the european", "outside the eu", "standard contractual clauses", "adequacy decision", "data privacy framework",
		"transfert*", "hors de l'union", "hors de l ue", "clauses contractuelles types",
		"drittland*", "drittländer*", "übermittlung*", "standardvertragsklauseln",
		"transferencia* internacional*", "fuera del eee", "cláusulas contractuales tipo"}},
	{Topic: "contact for rights requests", Weight: 2, Phrases: []string{
		"data protection officer", "dpo", "privacy@", "contact us", "rights request*", "exercise your rights",
		"exercise these rights", "access request*", "right to access", "right of access",
		"délégué à la protection", "exercer vos droits", "droit d'accès",
		"datenschutzbeauftragt*", "ihre rechte", "auskunftsrecht",
		"delegado de protección", "ejercer sus derechos", "derecho de acceso"}},
}

// termMatcher is a term list ready for matching on normalised text.
type termMatcher struct {
	terms   []Term
	phrases [][]phrase
}

type phrase struct {
	text string // " word word" for a prefix phrase, " word word " for a whole-word one
	key  string // the filter key of its first word (see keyOf)
}

// keyOf is the key a word is filtered by: its first three bytes, or the
// word when shorter. A text can hold a phrase only if it has a word with
// the phrase's key, which a map lookup tells before any substring search.
func keyOf(w string) string {
	if len(w) > 3 {
		return w[:3]
	}
	return w
}

func newTermMatcher(terms []Term) *termMatcher {
	m := &termMatcher{terms: terms, phrases: make([][]phrase, len(terms))}
	for i, t := range terms {
		for _, p := range t.Phrases {
			prefix := strings.HasSuffix(p, "*")
			n := termText(strings.TrimSuffix(p, "*"))
			f := strings.Fields(n)
			if len(f) == 0 {
				continue
			}
			if prefix {
				n = strings.TrimSuffix(n, " ")
			}
			if prefix && len(f) == 1 && len(f[0]) < 3 {
				// A short prefix ("ki*") cannot use the 3-byte key.
				prefix, n = false, n+" "
			}
			m.phrases[i] = append(m.phrases[i], phrase{text: n, key: keyOf(f[0])})
		}
	}
	return m
}

// termText lower-cases a text, turns everything but letters, digits and
// "@" into single spaces, and pads it with a space on each side, so that a
// phrase matches on whole words whatever the punctuation.
func termText(s string) string {
	if strings.Contains(s, "](") {
		s = linkTargetRe.ReplaceAllString(s, "]")
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '@' {
			b.WriteRune(unicode.ToLower(r))
			space = false
			continue
		}
		if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// topics returns the indexes of the terms a text touches.
func (m *termMatcher) topics(text string) []int {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	t := termText(text)
	keys := make(map[string]struct{}, len(t)/5)
	for _, w := range strings.Fields(t) {
		keys[keyOf(w)] = struct{}{}
		if len(w) < 3 {
			continue
		}
	}
	var out []int
	for i, ps := range m.phrases {
		for _, p := range ps {
			if _, ok := keys[p.key]; ok && strings.Contains(t, p.text) {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// Assess scores clause changes against key terms (DefaultTerms when terms
// is nil) and fills in each clause change's Terms.
//
// Cosmetic, renumbered and date-only clause changes score nothing. An added
// or removed clause scores the full weight of every topic its text touches.
// A modified clause scores the full weight of the topics its changed words
// touch (link targets and URLs aside), and the topics of the clause as a
// whole in full only when the changed words hold a number (a period, an
// age, an amount) or a negation or modal ("not", "may", "never"): those are
// what such a clause turns on, while a rewording inside a retention clause
// is not a retention change. A moved clause scores its topics at half weight. Reasons give one sentence per scoring clause,
// heaviest first, e.g. `retention: "30 days" → "90 days" in 4 Data storage › 4.1`.
func Assess(changes []ClauseChange, terms []Term) Severity {
	if terms == nil {
		terms = DefaultTerms
	}
	m := newTermMatcher(terms)
	type reason struct {
		score int
		text  string
	}
	var reasons []reason
	total := 0
	for k := range changes {
		c := &changes[k]
		c.Terms = nil
		if c.Cosmetic || c.DateOnly || c.Op == OpRenumbered {
			continue
		}
		weight := make(map[int]int)
		var hunkRemoved, hunkAdded string
		switch c.Op {
		case OpAdded:
			for _, i := range m.topics(c.New) {
				weight[i] = terms[i].Weight
			}
		case OpRemoved:
			for _, i := range m.topics(c.Old) {
				weight[i] = terms[i].Weight
			}
		case OpMoved:
			for _, i := range m.topics(c.New) {
				weight[i] = half(terms[i].Weight)
			}
		case OpModified:
			removed, added := changedText(c.Words)
			removed, added = visibleWords(removed), visibleWords(added)
			for _, i := range append(m.topics(removed), m.topics(added)...) {
				weight[i] = terms[i].Weight
			}
			// The clause's own topics count when the changed words are what
			// such a clause turns on: a number (a period, an age) or a
			// negation or modal ("do not sell" → "sell", "may" → "will").
			// A spelling or wording change inside a retention clause is
			// not a retention change.
			if pivotal(removed + " " + added) {
				for _, i := range append(m.topics(c.Old), m.topics(c.New)...) {
					if _, ok := weight[i]; !ok {
						weight[i] = terms[i].Weight
					}
				}
			}
			hunkRemoved, hunkAdded = pickHunk(c.Words, m)
		}
		if len(weight) == 0 {
			continue
		}
		idx := make([]int, 0, len(weight))
		score := 0
		for i, w := range weight {
			idx = append(idx, i)
			score += w
		}
		slices.Sort(idx)
		names := make([]string, len(idx))
		for n, i := range idx {
			names[n] = terms[i].Topic
		}
		c.Terms = names
		total += score
		reasons = append(reasons, reason{score, strings.Join(names, ", ") + ": " + describe(c, hunkRemoved, hunkAdded)})
	}
	slices.SortStableFunc(reasons, func(a, b reason) int { return b.score - a.score })
	sev := Severity{Score: total, Level: SeverityLevel(total), Reasons: []string{}}
	const maxReasons = 12
	for i, r := range reasons {
		if i == maxReasons {
			sev.Reasons = append(sev.Reasons, fmt.Sprintf("… and %d more clauses", len(reasons)-maxReasons))
			break
		}
		sev.Reasons = append(sev.Reasons, r.text)
	}
	return sev
}

func half(w int) int { return (w + 1) / 2 }

// pivotWords change what a clause commits to when added or removed.
var pivotWords = map[string]bool{
	"not": true, "no": true, "never": true, "may": true, "will": true, "must": true, "shall": true, "only": true,
	"without": true, "unless": true, "except": true, "cannot": true, "can't": true, "don't": true, "won't": true,
	"ne": true, "pas": true, "jamais": true, "aucun": true, "aucune": true, "peut": true, "pouvons": true, "devons": true,
	"nicht": true, "kein": true, "keine": true, "niemals": true, "nie": true, "kann": true, "können": true, "müssen": true, "nur": true,
	"nunca": true, "puede": true, "podemos": true, "debe": true, "solo": true, "sólo": true,
}

// pivotal reports whether changed words hold a digit or a pivot word.
func pivotal(changed string) bool {
	if strings.ContainsFunc(changed, unicode.IsDigit) {
		return true
	}
	for _, w := range strings.Fields(strings.ToLower(changed)) {
		if pivotWords[strings.Trim(w, ".,;:!?()\"'*_“”’")] {
			return true
		}
	}
	return false
}

// visibleWords drops what a reader does not read as words from changed
// words: link targets and URLs, which word diffs split into pieces
// ("](https://…", "-dpf?tabset-35584=2", "/s/article/"). A piece with a
// slash, query or fragment character is part of an address, not of a
// sentence (the rare "and/or" is a price worth paying).
func visibleWords(s string) string {
	if !strings.ContainsAny(s, "(:/?=#%&") {
		return s
	}
	f := strings.Fields(s)
	out := f[:0]
	for _, w := range f {
		if strings.ContainsAny(w, "/?=#%&") || strings.HasPrefix(w, "](") || strings.HasPrefix(w, "www.") {
			continue
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// describe is the part of a reason after the topics.
func describe(c *ClauseChange, removed, added string) string {
	in := ""
	if c.Path != "" {
		in = " in " + c.Path
	}
	switch c.Op {
	case OpAdded:
		return "added" + in + ": " + quote(c.New)
	case OpRemoved:
		if c.OldPath != "" {
			return "removed from " + c.OldPath + ": " + quote(c.Old)
		}
		return "removed: " + quote(c.Old)
	case OpMoved:
		from := c.OldPath
		if from == "" {
			from = "elsewhere"
		}
		return "moved from " + from + in
	}
	switch {
	case removed == "":
		return "added " + quote(added) + in
	case added == "":
		return "removed " + quote(removed) + in
	}
	return quote(removed) + " → " + quote(added) + in
}

// quote shortens a text for a reason and puts it in quotes.
func quote(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 80 {
		s = string(r[:77]) + "…"
	}
	return `"` + s + `"`
}

// pickHunk chooses the hunk of a word diff a reason quotes: the first whose
// words touch a topic, else the first with a number, else the first. A hunk
// that is only a number takes the next word too, so that "30" → "90" reads
// "30 days" → "90 days".
func pickHunk(ops []WordOp, m *termMatcher) (removed, added string) {
	type hunk struct{ rem, add string }
	var hunks []hunk
	for i := 0; i < len(ops); i++ {
		if ops[i].Op == WordKept {
			continue
		}
		var h hunk
		for ; i < len(ops) && ops[i].Op != WordKept; i++ {
			if ops[i].Op == WordRemoved {
				h.rem += ops[i].Text
			} else {
				h.add += ops[i].Text
			}
		}
		if i < len(ops) && isNumber(h.rem) && isNumber(h.add) {
			if w := firstWord(ops[i].Text); w != "" {
				if h.rem != "" {
					h.rem += w
				}
				if h.add != "" {
					h.add += w
				}
			}
		}
		h.rem, h.add = visibleWords(h.rem), visibleWords(h.add)
		if h.rem != "" || h.add != "" {
			hunks = append(hunks, h)
		}
		i--
	}
	if len(hunks) == 0 {
		return "", ""
	}
	for _, h := range hunks {
		if len(m.topics(h.rem)) > 0 || len(m.topics(h.add)) > 0 {
			return h.rem, h.add
		}
	}
	for _, h := range hunks {
		if strings.ContainsFunc(h.rem+h.add, unicode.IsDigit) {
			return h.rem, h.add
		}
	}
	return hunks[0].rem, hunks[0].add
}

func isNumber(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || strings.Trim(s, "0123456789.,") == ""
}

// firstWord returns the leading space and first word of s (" days").
func firstWord(s string) string {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	j := i
	for j < len(s) && s[j] != ' ' && !strings.ContainsRune(".,;:)", rune(s[j])) {
		j++
	}
	if j == i {
		return ""
	}
	return s[:j]
}
