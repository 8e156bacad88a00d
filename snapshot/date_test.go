package snapshot

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFindStatedDate(t *testing.T) {
	tests := []struct{ text, want string }{
		// English, every format.
		{"Privacy Policy\nLast updated May 25, 2018\nWe respect your privacy.", "2018-05-25"},
		{"Last Updated: 25 May 2018", "2018-05-25"},
		{"The most recent version has been updated on March 20, 2018.", "2018-03-20"},
		{"Effective date: 2019-01-01", "2019-01-01"},
		{"Effective as of January 1, 2019.", "2019-01-01"},
		{"Last modified: Monday, 3rd of June 2019", "2019-06-03"},
		{"Revised 05/25/2018", "2018-05-25"},
		{"Last revised: 05/06/2018", "2018-05-06"},
		{"Updated on Sept. 9, 2016", "2016-09-09"},
		{"This policy was last changed on 2 February 2020.", "2020-02-02"},
		{"Date of last revision: 25/05/2018", "2018-05-25"},
		{"Last update: 01.06.2018", "2018-06-01"},
		{"Version: July 17th 2024", "2024-07-17"},
		{"Terms of Use published: 31-01-2018", "2018-01-31"},
		{"Tinder Terms of Use _Effective on June 1, 2024;_ download", "2024-06-01"},
		{"Effective Date: The earlier of 2024-12-23 or user acknowledgment", "2024-12-23"},
		{"npm last updated these npm Open Source Terms on March 10, 2022.", "2022-03-10"},
		{"This Privacy Policy applies from April 4, 2026. The previous version is here.", "2026-04-04"},
		{"This version took effect June 3, 2020.", "2020-06-03"},
		{"Last updated 2018-05-25. Text... We updated our app on June 1, 2017.", "2018-05-25"},
		// French.
		{"Dernière mise à jour : 12 février 2018", "2018-02-12"},
		{"Mis à jour le 1er janvier 2020", "2020-01-01"},
		{"Mise à jour : le 21/07/2022", "2022-07-21"},
		{"Conditions générales d'utilisation à jour du 09/08/2022", "2022-08-09"},
		{"Cette politique a été mise à jour pour la dernière fois le 2 mars 2026.", "2026-03-02"},
		{"Dernière mise à jour des Conditions générales d’utilisation : 28 octobre 2025.", "2025-10-28"},
		{"En vigueur le 05/06/2018", "2018-06-05"},
		{"Date d'entrée en vigueur : 15 décembre 2021", "2021-12-15"},
		{"La présente Politique de confidentialité s’applique à partir de 01/02/2026.", "2026-02-01"},
		// German.
		{"Stand: 18. März 2025", "2025-03-18"},
		{"Stand: 01.03.2019", "2019-03-01"},
		{"Zuletzt aktualisiert am 25. Mai 2018", "2018-05-25"},
		{"Gültig ab 01.02.2026", "2026-02-01"},
		{"Diese Datenschutzbestimmungen gelten ab 10.08.2024.", "2024-08-10"},
		// Spanish.
		{"Última actualización: 25 de mayo de 2018", "2018-05-25"},
		{"Fecha de entrada en vigor: 05/06/2018", "2018-06-05"},
		// Italian.
		{"Ultimo aggiornamento: 25 maggio 2018", "2018-05-25"},
		{"In vigore dal 1 gennaio 2020", "2020-01-01"},
		// Portuguese.
		{"Última atualização: 25 de maio de 2018", "2018-05-25"},
		{"Em vigor desde 05/06/2018", "2018-06-05"},
		// Dutch.
		{"Laatst bijgewerkt: 25 mei 2018", "2018-05-25"},
		{"Laatst gewijzigd op 5 juni 2018", "2018-06-05"},
		// Several dates: the explicit "last revised" beats a conditional
		// effective date, and history never becomes current.
		{"This Policy was last revised on May 15, 2018. For users who registered for the Services prior to May 15, 2018, this Policy will be effective on May 25, 2018.", "2018-05-15"},
		{"Stand: 18. März 2025\nFür Nutzer, die sich vor dem 18.03.2025 registriert haben, gelten noch die Nutzungsbedingungen mit Stand 07.05.2014.", "2025-03-18"},
		{"Change log: April 16, 2026: Replaced Rollbar. January 8, 2026: Added Intercom. June 6, 2022: Updated the list.", "2026-04-16"},
		{"Revision history\n2019-01-01 – first version\n2021-03-03 – new processors\n", "2021-03-03"},
		// Negative cases: no self-dating phrase, no full date after it, or
		// a date that is not the current version's.
		{"© 2019 Example Inc. All rights reserved.", ""},
		{"Example was founded in 2010 and is based in Berlin.", ""},
		{"On May 5, 2017 we acquired a competitor and merged our user bases.", ""},
		{"We updated our app on June 1, 2017 to add features.", ""},
		{"Cookies expire after 2 years.", ""},
		{"This list is updated daily.", ""},
		{"Last updated: May 2018", ""},
		{"Stand: Juni 2021", ""},
		{"Last updated: February 30, 2018", ""},
		{"Effective date: 13/13/2018", ""},
		{"This version is effective immediately.", ""},
		{"The previous version, last updated on March 1, 2019, is archived.", ""},
		{"As of January 1, 2004, the Personal Information Protection Act requires consent.", ""},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got, phrase := FindStatedDate(tc.text)
			if got != tc.want {
				t.Errorf("FindStatedDate = %q (phrase %q), want %q", got, phrase, tc.want)
			}
			if got != "" && phrase == "" {
				t.Errorf("date without phrase")
			}
		})
	}
}

func TestFindStatedDatesHistory(t *testing.T) {
	tests := []struct {
		name, text  string
		want        string
		wantHistory []string
	}{
		{"conditional effective date", "This Policy was last revised on May 15, 2018. For users who registered prior to May 15, 2018, this Policy will be effective on May 25, 2018.",
			"2018-05-15", []string{"2018-05-25"}},
		{"previous version", "Last updated: March 1, 2021.\nThe previous version was last updated on June 2, 2019.", "2021-03-01", []string{"2019-06-02"}},
		{"history table", "Last updated: March 1, 2021\n\nVersion history\n| 2021-03-01 | current |\n| 2019-01-01 | first |\n| 2020-05-05 | second |",
			"2021-03-01", []string{"2020-05-05", "2019-01-01"}},
		{"none", "Nothing dated here.", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, hist := FindStatedDates(tc.text)
			if got != tc.want || !slices.Equal(hist, tc.wantHistory) {
				t.Errorf("FindStatedDates = %q, %q; want %q, %q", got, hist, tc.want, tc.wantHistory)
			}
		})
	}
}

// TestStatedDateHints pins what the capture adds to the text: ambiguous
// numeric dates are read in the host's order, and a reading that lies half
// a year after the capture gives way to the other order.
func TestStatedDateHints(t *testing.T) {
	tests := []struct {
		name, url, ts, text, want string
	}{
		{"US host, month first", "https://weareher.com/privacy/", "20250311000000", "Last Updated: 3/11/2025", "2025-03-11"},
		{"UK host, day first", "https://uk.match.com/pages/misc/privacy", "20260102000000", "This Privacy Policy applies from 01/02/2026.", "2026-02-01"},
		{"future reading gives way", "https://www.happn.com/en/privacy/", "20260512000000", "Privacy policy Updated: 11/05/2026", "2026-05-11"},
		{"unambiguous despite UK host", "https://www.eharmony.co.uk/cookies/", "20241107000000", "Version: 02/15/2024", "2024-02-15"},
		{"far future rejected", "https://x.example/p", "20200101000000", "Last updated: March 3, 2024", ""},
		{"page's own dates settle the order", "https://x.example/p", "20200101000000", "Last updated: 05/06/2018. Old terms: 25/12/2017.", "2018-06-05"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, phrase, _ := findStatedDates(tc.text, hintFor(Source{URL: tc.url, Timestamp: tc.ts}))
			if got != tc.want {
				t.Errorf("findStatedDates = %q (%q), want %q", got, phrase, tc.want)
			}
		})
	}
}

func TestDetectLanguage(t *testing.T) {
	tests := []struct{ text, want string }{
		{"We collect the data you give us and we use it for the service.", "en"},
		{"Nous collectons les données que vous nous donnez et nous les utilisons pour le service.", "fr"},
		{"Wir erheben die Daten, die Sie uns geben, und nutzen sie nicht für Werbung.", "de"},
		{"Recopilamos los datos que usted nos da y los usamos para el servicio con su permiso.", "es"},
		{"Raccogliamo i dati che ci fornisci e li usiamo per il servizio della società.", "it"},
		{"Nós coletamos os dados que você nos dá e não os usamos para publicidade.", "pt"},
		{"Wij verzamelen de gegevens die je ons geeft en gebruiken ze voor het leveren van een dienst.", "nl"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := detectLanguage(tc.text); got != tc.want {
				t.Errorf("detectLanguage = %q, want %q", got, tc.want)
			}
		})
	}
}

// Targets for the labelled set (testdata/dates/labels.jsonl): a wrong date
// is worse than none, so precision is held higher than recall.
const (
	datePrecisionFloor = 0.98
	dateRecallFloor    = 0.95
)

// dateLabel is one labelled corpus page: the date a reader finds in it, or
// null when it states none.
type dateLabel struct {
	Path   string  `json:"path"`
	Date   *string `json:"date"`
	Phrase *string `json:"phrase"`
	Lang   string  `json:"lang"`
	Note   string  `json:"note"`
}

// TestStatedDatesLabelled extracts every labelled page as the pipeline does
// and compares Document.StatedDate with the label.
func TestStatedDatesLabelled(t *testing.T) {
	root := corpusDir(t)
	labels := readDateLabels(t, filepath.Join("..", "testdata", "dates", "labels.jsonl"))
	citp := map[string]citpEntry{}
	for _, e := range readManifest[citpEntry](t, filepath.Join(root, "citp", "manifest.jsonl")) {
		citp["citp/"+e.HTML] = e
	}
	ota := map[string]otaEntry{}
	if _, err := os.Stat(filepath.Join(root, "ota", "manifest.jsonl")); err == nil {
		for _, e := range readManifest[otaEntry](t, filepath.Join(root, "ota", "manifest.jsonl")) {
			ota["ota/"+e.HTML] = e
		}
	}
	var returned, correct, stated int
	for _, l := range labels {
		raw, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(l.Path)))
		if err != nil {
			t.Errorf("%s: %v", l.Path, err)
			continue
		}
		var src Source
		if e, ok := citp[l.Path]; ok {
			raw = citpHeaderRe.ReplaceAll(raw, nil)
			src = citpSource(t, e)
		} else if e, ok := ota[l.Path]; ok {
			src = otaSource(e)
		} else {
			t.Errorf("%s: not in a corpus manifest", l.Path)
			continue
		}
		doc, err := Extract(raw, src)
		if err != nil {
			t.Errorf("%s: extract: %v", l.Path, err)
			continue
		}
		want := ""
		if l.Date != nil {
			want = *l.Date
			stated++
		}
		got := doc.StatedDate
		if got != "" {
			returned++
		}
		switch {
		case got != "" && got == want:
			correct++
		case got != "" && got != want:
			t.Logf("WRONG %s: got %s (%q), want %s [%s]", l.Path, got, doc.StatedDateText, orNull(want), l.Note)
		case want != "":
			t.Logf("MISS  %s: want %s (%q) [%s]", l.Path, want, deref(l.Phrase), l.Note)
		}
	}
	p, r := dateRatio(correct, returned), dateRatio(correct, stated)
	t.Logf("labelled %d documents, %d state a date; %d dates returned, %d correct: precision %.4f, recall %.4f",
		len(labels), stated, returned, correct, p, r)
	if p < datePrecisionFloor {
		t.Errorf("stated-date precision %.4f below %.2f", p, datePrecisionFloor)
	}
	if r < dateRecallFloor {
		t.Errorf("stated-date recall %.4f below %.2f", r, dateRecallFloor)
	}
}

func readDateLabels(t *testing.T, path string) []dateLabel {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("labels: %v", err)
	}
	defer f.Close()
	var out []dateLabel
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var l dateLabel
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("labels line %d: %v", n, err)
		}
		if l.Date != nil {
			if _, err := time.Parse("2006-01-02", *l.Date); err != nil {
				t.Fatalf("labels line %d: date %q: %v", n, *l.Date, err)
			}
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("labels: %v", err)
	}
	return out
}

func dateRatio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func orNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return fmt.Sprint(*s)
}

// Dates typeset with non-breaking or thin spaces, as French pages write them.
func TestFindStatedDateTypographicSpaces(t *testing.T) {
	for _, text := range []string{
		"Cette politique de confidentialité a été mise à jour pour la dernière fois le 2\u00a0mars\u00a02026.",
		"Dernière mise à jour\u202f: 2\u2009mars 2026",
	} {
		if got, phrase := FindStatedDate(text); got != "2026-03-02" {
			t.Errorf("FindStatedDate(%q) = %q (%q), want 2026-03-02", text, got, phrase)
		}
	}
}
