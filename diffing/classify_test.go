package diffing

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/policywatch/policywatch/snapshot"
)

// policyV1 is a ~40-clause policy in the Markdown snapshot renders.
const policyV1 = `Last updated: March 3, 2021

This Privacy Policy explains how Acme Cloud ("Acme", "we") collects and uses personal data when you use the Acme Cloud service.

## 1 Who we are

Acme Cloud Ltd, 1 Example Street, London, is the controller of your personal data.

## 2 Information we collect

  1. Account data: your name, e-mail address and password.
  2. Billing data: your card details, processed by our payment provider.
  3. Usage data: the pages you view and the features you use.
  4. Device data: your browser type, operating system and IP address.

Name | Purpose | Duration
---|---|---
session | keeps you signed in | end of session
prefs | remembers your settings | one year

## 3 How we use information

  1. To provide and maintain the Service.
  2. To bill you for the Service.
  3. To send you service announcements.
  4. To improve the Service and develop new features.

We do not use your content for advertising.

## 4 Data storage

  1. Server logs are kept for 30 days and then deleted.
  2. Backups are kept for 35 days.
  3. Account data is kept while your account is open.

Data is stored in data centres in the European Union.

## 5 Sharing

  1. We share data with payment processors to bill you.
  2. We share data with hosting providers who run our servers.
  3. We disclose personal data when the law requires it, for example in response to a court order.

## 6 Your rights

  1. You may access the personal data we hold about you.
  2. You may ask us to correct inaccurate data.
  3. You may ask us to delete your data.
  4. You may object to processing based on legitimate interests.
  5. You may complain to your data protection authority.

To exercise your rights, write to [privacy@acme-cloud.example](mailto:privacy@acme-cloud.example).

## 7 Children

The Service is not directed to children under 16.

## 8 Security

We protect your data with encryption in transit and at rest.

## 9 Changes

We will post any change to this policy on this page.
`

// policyV2 changes the retention period, adds an AI training clause,
// inserts an item at the top of section 6 (renumbering the whole list),
// touches punctuation and a link, and moves the stated date.
var policyV2 = strings.NewReplacer(
	"Last updated: March 3, 2021", "Last updated: June 14, 2022",
	"kept for 30 days", "kept for 90 days",
	"  4. To improve the Service and develop new features.\n",
	"  4. To improve the Service and develop new features.\n  5. To train and evaluate the machine-learning models that power the Service's suggestions, using de-identified content.\n",
	"  1. You may access the personal data we hold about you.\n",
	"  1. You may ask us for a copy of your data in a portable format.\n  2. You may access the personal data we hold about you.\n",
	"  2. You may ask us to correct inaccurate data.", "  3. You may ask us to correct inaccurate data.",
	"  3. You may ask us to delete your data.", "  4. You may ask us to delete your data.",
	"  4. You may object to processing", "  5. You may object to processing",
	"  5. You may complain to your data protection authority.", "  6. You may complain to your data protection authority.",
	"(\"Acme\", \"we\")", "(“Acme”, “we”)",
	"We will post any change to this policy on this page.", "We will post any change to this policy on [this page](https://acme-cloud.example/privacy?utm_source=footer).",
).Replace(policyV1)

// A realistic end-to-end comparison: a ~40-clause policy gets a longer
// retention period, an AI training clause, a right inserted at the top of
// a numbered list (renumbering it), typographic quotes, a tracked link and
// a new stated date.
func TestCompareEndToEnd(t *testing.T) {
	old := &snapshot.Document{Title: "Acme Cloud Privacy Policy", Body: policyV1, StatedDate: "2021-03-03", StatedDateText: "Last updated: March 3, 2021"}
	new := &snapshot.Document{Title: "Acme Cloud Privacy Policy", Body: policyV2, StatedDate: "2022-06-14", StatedDateText: "Last updated: June 14, 2022"}
	if n := len(Clauses(old)); n < 40 {
		t.Fatalf("fixture has %d clauses, want ≥ 40", n)
	}
	ch := Compare(old, new)
	if strings.Join(ch.Kinds, ",") != KindDated {
		t.Errorf("Kinds = %v, want [dated]", ch.Kinds)
	}
	want := []string{
		"modified :date-only",
		"modified :cosmetic",
		"added 3 How we use information › 3.5:AI or model training",
		"modified 4 Data storage › 4.1:retention",
		"added 6 Your rights › 6.1:",
		"renumbered 6 Your rights › 6.2:cosmetic",
		"renumbered 6 Your rights › 6.3:cosmetic",
		"renumbered 6 Your rights › 6.4:cosmetic",
		"renumbered 6 Your rights › 6.5:cosmetic",
		"renumbered 6 Your rights › 6.6:cosmetic",
		"modified 9 Changes:cosmetic",
	}
	var got []string
	for _, c := range ch.Clauses {
		note := strings.Join(c.Terms, ",")
		switch {
		case c.DateOnly:
			note = "date-only"
		case c.Cosmetic:
			note = "cosmetic"
		}
		got = append(got, c.Op+" "+c.Path+":"+note)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("clauses =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	reasons := strings.Join(ch.Severity.Reasons, "\n")
	for _, s := range []string{`retention: "30 days" → "90 days" in 4 Data storage › 4.1`, "AI or model training: added in 3 How we use information › 3.5"} {
		if !strings.Contains(reasons, s) {
			t.Errorf("reasons lack %q:\n%s", s, reasons)
		}
	}
	if ch.Severity.Level != LevelMedium {
		t.Errorf("severity %+v, want medium", ch.Severity)
	}
	if ch.Stats.Renumbered != 5 || ch.Stats.Added != 2 || ch.Stats.Modified != 4 || ch.Unified == "" {
		t.Errorf("stats %+v (unified %d bytes)", ch.Stats, len(ch.Unified))
	}
	if _, err := json.Marshal(ch); err != nil {
		t.Fatal(err)
	}
}

func TestCosmeticOnly(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     bool
	}{
		{"whitespace", "We  keep\nlogs.", "We keep logs.", true},
		{"typographic quotes and apostrophes", `The "Service" isn't free.`, "The “Service” isn’t free.", true},
		{"dashes and ellipsis", "data - all of it...", "data — all of it…", true},
		{"case", "PERSONAL DATA IS PROTECTED.", "Personal data is protected.", true},
		{"emphasis and escapes", "**Note:** see 1\\. below", "Note: see 1. below", true},
		{"link target", "[privacy page](https://a.example/p)", "[privacy page](https://b.example/q)", true},
		{"tracking parameters", "See https://a.example/p?utm_source=x&utm_medium=y", "See https://a.example/p", true},
		{"fbclid and scheme", "See <http://www.a.example/p?fbclid=abc>", "See <https://a.example/p>", true},
		{"one word", "We do not sell data.", "We do sell data.", false},
		{"a number", "Logs are kept for 30 days.", "Logs are kept for 90 days.", false},
		{"thousands separator", "up to 1,000 users", "up to 1.000 users", false},
		{"visible e-mail address", "Write to privacy@a.example.", "Write to dpo@a.example.", false},
		{"visible URL path", "See https://a.example/privacy", "See https://a.example/terms", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CosmeticOnly(tt.old, tt.new); got != tt.want {
				t.Errorf("CosmeticOnly = %v, want %v (keys %q, %q)", got, tt.want, cosmeticKey(tt.old), cosmeticKey(tt.new))
			}
		})
	}
}

func TestKinds(t *testing.T) {
	const body = "Last updated: March 3, 2021\n\n## 4 Data storage\n\n  1. Logs are kept for 30 days.\n  2. We do not sell data.\n"
	d := func(body, date string) *snapshot.Document {
		text := ""
		if date != "" {
			text = strings.SplitN(body, "\n", 2)[0]
		}
		return &snapshot.Document{Title: "Policy", Body: body, StatedDate: date, StatedDateText: text}
	}
	newDate := strings.Replace(body, "March 3, 2021", "June 14, 2022", 1)
	tests := []struct {
		name     string
		old, new *snapshot.Document
		flipBack bool
		want     string
	}{
		{"unchanged", d(body, "2021-03-03"), d(body, "2021-03-03"), false, ""},
		{"date-only", d(body, "2021-03-03"), d(newDate, "2022-06-14"), false, KindDateOnly},
		{"date-only with a cosmetic edit", d(body, "2021-03-03"), d(strings.Replace(newDate, "do not", "do  not", 1)+"\n", "2022-06-14"), false, KindDateOnly},
		{"silent: 30 → 90 days, date unchanged", d(body, "2021-03-03"), d(strings.Replace(body, "30 days", "90 days", 1), "2021-03-03"), false, KindSilent},
		{"dated", d(body, "2021-03-03"), d(strings.Replace(newDate, "30 days", "90 days", 1), "2022-06-14"), false, KindDated},
		{"cosmetic", d(body, "2021-03-03"), d(strings.Replace(body, "do not", "DO NOT", 1), "2021-03-03"), false, KindCosmetic},
		{"a real one-word change is not cosmetic", d(body, "2021-03-03"), d(strings.Replace(body, "do not sell", "do sell", 1), "2021-03-03"), false, KindSilent},
		{"a date in another clause is not the stated date", d(body, "2021-03-03"),
			d(strings.Replace(body, "Logs are kept for 30 days.", "Logs are kept until March 2022.", 1), "2021-03-03"), false, KindSilent},
		{"date line appears", d(strings.SplitN(body, "\n\n", 2)[1], ""), d(body, "2021-03-03"), false, KindDateOnly},
		{"flip-back", d(body, "2021-03-03"), d(strings.Replace(body, "30 days", "90 days", 1), "2021-03-03"), true, KindSilent + "," + KindFlipBack},
		{"renumbering only is cosmetic", d(body, "2021-03-03"), d(strings.Replace(body, "## 4 Data", "## 5 Data", 1), "2021-03-03"), false, KindCosmetic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := CompareWith(tt.old, tt.new, Options{FlipBack: tt.flipBack})
			if got := strings.Join(ch.Kinds, ","); got != tt.want {
				b, _ := json.MarshalIndent(ch.Clauses, "", " ")
				t.Errorf("Kinds = %q, want %q\n%s", got, tt.want, b)
			}
		})
	}
}

// otaPair is the part of an OTA corpus manifest line this test reads.
type otaPair struct {
	ID         string   `json:"id"`
	MD         string   `json:"md"`
	PrevPairID *string  `json:"prev_pair_id"`
	Flags      []string `json:"flags"`
}

// The OTA corpus's consecutive versions are real recorded changes. This
// only logs what Compare makes of them (kinds, cosmetic share, clause
// operations); it asserts no more than that every pair whose texts differ
// yields TextChanged and at least one clause change. The corpus is found at
// ../../shared/corpus or $POLICYWATCH_CORPUS.
func TestCorpusOTAPairs(t *testing.T) {
	dir := os.Getenv("POLICYWATCH_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	dir = filepath.Join(dir, "ota")
	f, err := os.Open(filepath.Join(dir, "manifest.jsonl"))
	if err != nil {
		t.Skipf("OTA corpus not found at %s (set POLICYWATCH_CORPUS): %v", dir, err)
	}
	defer f.Close()
	byID := map[string]otaPair{}
	var pairs []otaPair
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var p otaPair
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		byID[p.ID] = p
		pairs = append(pairs, p)
	}
	read := func(p otaPair) *snapshot.Document {
		b, err := os.ReadFile(filepath.Join(dir, p.MD))
		if err != nil {
			t.Fatal(err)
		}
		return &snapshot.Document{Title: "", Body: string(b)}
	}
	kinds := map[string]int{}
	ops := map[string]int{}
	n, cosmeticClauses, clauses := 0, 0, 0
	levels := map[string]int{}
	for _, p := range pairs {
		if p.PrevPairID == nil {
			continue
		}
		prev, ok := byID[*p.PrevPairID]
		if !ok {
			continue
		}
		old, new := read(prev), read(p)
		ch := CompareWith(old, new, Options{FlipBack: slices.Contains(p.Flags, "repeats-earlier-text")})
		n++
		if old.Body != new.Body && snapshot.Hash(old.Body) != snapshot.Hash(new.Body) {
			if !ch.TextChanged || len(ch.Clauses) == 0 {
				t.Errorf("%s: texts differ but TextChanged %v, %d clause changes", p.ID, ch.TextChanged, len(ch.Clauses))
			}
		}
		kinds[strings.Join(ch.Kinds, "+")]++
		levels[ch.Severity.Level]++
		for _, c := range ch.Clauses {
			ops[c.Op]++
			clauses++
			if c.Cosmetic {
				cosmeticClauses++
			}
		}
	}
	t.Logf("%d consecutive OTA pairs; kinds %v; severity levels %v", n, kinds, levels)
	t.Logf("%d clause changes (%d cosmetic): %v", clauses, cosmeticClauses, ops)
}
