package diffing

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/policywatch/policywatch/snapshot"
)

// synthVocab is legal-sounding filler: the generated clauses must look like
// policy text to the tokenizer and to the key terms (some hit them).
var synthVocab = strings.Fields(`we may collect use process store share disclose personal data information
about you your account device service services provide improve maintain secure protect law legal
obligation legitimate interest consent request rights access correct delete object restrict portability
third parties partners providers processors affiliates retain retention period days months years
after before when where which that this these those other such including without limitation
necessary purposes described policy notice contact email address location cookies analytics
advertising security measures reasonable appropriate technical organisational transfer outside
european economic area standard contractual clauses children under age sixteen
the a an of to in for on with by as or and is are be will not any all each`)

// synthPolicy writes a policy of about words words in snapshot's Markdown:
// numbered sections with subsections, paragraphs, numbered lists with
// nested items, bullets and the odd table.
type synthPolicy struct {
	sections []synthSection
}

type synthSection struct {
	title string
	subs  []synthSub
	table bool
}

type synthSub struct {
	title  string
	intro  string
	items  []synthItem
	bullet []string
	after  string
}

type synthItem struct {
	text   string
	nested []string
}

func sentence(r *rand.Rand, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = synthVocab[r.IntN(len(synthVocab))]
	}
	w[0] = strings.ToUpper(w[0][:1]) + w[0][1:]
	return strings.Join(w, " ") + "."
}

func newSynthPolicy(words int, seed uint64) *synthPolicy {
	r := rand.New(rand.NewPCG(seed, 7))
	p := &synthPolicy{}
	n := 0
	for n < words {
		s := synthSection{title: strings.TrimSuffix(sentence(r, 3), "."), table: len(p.sections)%7 == 3}
		for k := 0; k < 3; k++ {
			sub := synthSub{title: strings.TrimSuffix(sentence(r, 2), "."), intro: sentence(r, 40)}
			for i := 0; i < 3; i++ {
				it := synthItem{text: sentence(r, 30)}
				if i == 1 {
					it.nested = []string{sentence(r, 15), sentence(r, 15)}
				}
				sub.items = append(sub.items, it)
			}
			sub.bullet = []string{sentence(r, 12), sentence(r, 12)}
			sub.after = sentence(r, 35)
			s.subs = append(s.subs, sub)
			n += 2 + 40 + 90 + 30 + 24 + 35
		}
		p.sections = append(p.sections, s)
	}
	return p
}

func (p *synthPolicy) markdown() string {
	var b strings.Builder
	b.WriteString("Last updated: May 25, 2018\n\n")
	for si, s := range p.sections {
		fmt.Fprintf(&b, "## %d %s\n\n", si+1, s.title)
		for ki, sub := range s.subs {
			fmt.Fprintf(&b, "### %d.%d %s\n\n%s\n\n", si+1, ki+1, sub.title, sub.intro)
			for ii, it := range sub.items {
				fmt.Fprintf(&b, "  %d. %s\n", ii+1, it.text)
				for ni, nt := range it.nested {
					fmt.Fprintf(&b, "    %d. %s\n", ni+1, nt)
				}
			}
			b.WriteString("\n\n\n")
			for _, bt := range sub.bullet {
				fmt.Fprintf(&b, "  * %s\n", bt)
			}
			fmt.Fprintf(&b, "\n\n\n%s\n\n", sub.after)
		}
		if s.table {
			b.WriteString("Category | Retention\n---|---\nAccount data | while your account is open\nLogs | 30 days\n\n")
		}
	}
	return b.String()
}

// edited returns a copy with the edits of a realistic new version: a
// word changed in 20 scattered clauses, a section inserted before section
// 5 (renumbering all that follow), a paragraph moved to another section,
// an item removed.
func (p *synthPolicy) edited(seed uint64) *synthPolicy {
	r := rand.New(rand.NewPCG(seed, 11))
	q := p.clone()
	for e := 0; e < 20; e++ {
		s := &q.sections[r.IntN(len(q.sections))]
		sub := &s.subs[r.IntN(len(s.subs))]
		switch e % 3 {
		case 0:
			sub.intro = replaceWord(sub.intro, r)
		case 1:
			it := &sub.items[r.IntN(len(sub.items))]
			it.text = replaceWord(it.text, r)
		default:
			sub.after = replaceWord(sub.after, r)
		}
	}
	ins := synthSection{title: "Artificial Intelligence"}
	ins.subs = []synthSub{{title: "Model training", intro: "We may use your content to train our machine learning models.",
		items: []synthItem{{text: "You can opt out of model training in your settings."}}, after: "We do not sell training data."}}
	q.sections = append(q.sections[:4], append([]synthSection{ins}, q.sections[4:]...)...)
	last := len(q.sections) - 1
	moved := q.sections[2].subs[1].after
	q.sections[2].subs[1].after = ""
	q.sections[last].subs[0].bullet = append(q.sections[last].subs[0].bullet, moved)
	q.sections[7].subs[2].items = q.sections[7].subs[2].items[1:]
	return q
}

// everyClause returns a copy with one word changed in every clause,
// headings included: nothing matches exactly.
func (p *synthPolicy) everyClause(seed uint64) *synthPolicy {
	r := rand.New(rand.NewPCG(seed, 13))
	q := p.clone()
	for si := range q.sections {
		s := &q.sections[si]
		s.title += " Terms"
		for ki := range s.subs {
			sub := &s.subs[ki]
			sub.title += " rules"
			sub.intro = replaceWord(sub.intro, r)
			sub.after = replaceWord(sub.after, r)
			for ii := range sub.items {
				sub.items[ii].text = replaceWord(sub.items[ii].text, r)
				for ni := range sub.items[ii].nested {
					sub.items[ii].nested[ni] = replaceWord(sub.items[ii].nested[ni], r)
				}
			}
			for bi := range sub.bullet {
				sub.bullet[bi] = replaceWord(sub.bullet[bi], r)
			}
		}
	}
	return q
}

func (p *synthPolicy) clone() *synthPolicy {
	q := &synthPolicy{sections: make([]synthSection, len(p.sections))}
	for i, s := range p.sections {
		s.subs = append([]synthSub(nil), s.subs...)
		for k := range s.subs {
			s.subs[k].items = append([]synthItem(nil), s.subs[k].items...)
			s.subs[k].bullet = append([]string(nil), s.subs[k].bullet...)
			for ii := range s.subs[k].items {
				s.subs[k].items[ii].nested = append([]string(nil), s.subs[k].items[ii].nested...)
			}
		}
		q.sections[i] = s
	}
	return q
}

func replaceWord(s string, r *rand.Rand) string {
	w := strings.Fields(s)
	i := 1 + r.IntN(len(w)-1)
	w[i] = "revised"
	return strings.Join(w, " ")
}

func synthDocs(words int, every bool) (*snapshot.Document, *snapshot.Document) {
	p := newSynthPolicy(words, 1)
	q := p.edited(2)
	if every {
		q = p.everyClause(3)
	}
	return &snapshot.Document{Title: "Synthetic Privacy Policy", Body: p.markdown(), StatedDate: "2018-05-25"},
		&snapshot.Document{Title: "Synthetic Privacy Policy", Body: q.markdown(), StatedDate: "2018-05-25"}
}

// The generated versions must be what the benchmark claims: ≥ 20,000
// words and ≥ 500 clauses, and the edits must come out as the clause
// operations they are.
func TestSynthPolicy(t *testing.T) {
	old, new := synthDocs(20000, false)
	words := len(strings.Fields(old.Body))
	clauses := len(Clauses(old))
	if words < 20000 || clauses < 500 {
		t.Fatalf("synthetic policy has %d words and %d clauses, want ≥ 20000 and ≥ 500", words, clauses)
	}
	ch := Compare(old, new)
	t.Logf("%d words, %d clauses; stats %+v kinds %v severity %d %s", words, clauses, ch.Stats, ch.Kinds, ch.Severity.Score, ch.Severity.Level)
	if ch.Stats.Moved != 1 || ch.Stats.Removed != 1 || ch.Stats.Modified < 15 || ch.Stats.Renumbered < 10 || ch.Stats.Added < 5 {
		t.Errorf("stats %+v, want 1 moved, 1 removed, ~20 modified, the renumbered headings and the added section", ch.Stats)
	}
	if len(ch.Kinds) != 1 || ch.Kinds[0] != KindSilent {
		t.Errorf("kinds %v, want [silent]", ch.Kinds)
	}
	_, every := synthDocs(20000, true)
	ch = Compare(old, every)
	// All but the title, the date line and the table rows.
	if want := clauses - 2 - 3*4; ch.Stats.Modified != want || ch.Stats.Moved != 0 {
		t.Errorf("every clause edited: stats %+v, want %d modified, none moved", ch.Stats, want)
	}
}

func benchCompare(b *testing.B, words int, every bool) {
	old, new := synthDocs(words, every)
	b.SetBytes(int64(len(old.Body) + len(new.Body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ch := Compare(old, new)
		if len(ch.Clauses) == 0 {
			b.Fatal("no clause changes")
		}
	}
}

// BenchmarkCompare diffs two 20,000-word versions of a policy with ≥ 500
// clauses and realistic edits: the common case of a fetch pass.
func BenchmarkCompare(b *testing.B) { benchCompare(b, 20000, false) }

// BenchmarkCompareEveryClause20k and …40k modify every clause, so nothing
// matches exactly and every clause goes through pairing and a word diff:
// twice the size should take about twice the time.
func BenchmarkCompareEveryClause20k(b *testing.B) { benchCompare(b, 20000, true) }
func BenchmarkCompareEveryClause40k(b *testing.B) { benchCompare(b, 40000, true) }

// BenchmarkSegment is the clause segmentation of one 20,000-word version.
func BenchmarkSegment(b *testing.B) {
	old, _ := synthDocs(20000, false)
	b.SetBytes(int64(len(old.Body)))
	b.ReportAllocs()
	for b.Loop() {
		snapshot.Segment(old.Body)
	}
}
