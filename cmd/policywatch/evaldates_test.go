package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// dateCorpus builds a citp and an OTA corpus of one dated page each, plus
// labels: one correct, one wrong on purpose (to see it flagged) and one
// page without a date.
func dateCorpus(t *testing.T) (root, labels string) {
	t.Helper()
	root = t.TempDir()
	page := func(body string) string {
		return "<html><head><title>Acme privacy policy</title></head><body><main><h1>Privacy</h1>" + body +
			"<p>" + policyText + "</p></main></body></html>"
	}
	writeFiles(t, root, map[string]string{
		"citp/manifest.jsonl": `{"domain":"acme.example","timestamp":"20190523091427","archived_date":"2019-05-23","wayback_url":"https://web.archive.org/web/20190523091427id_/https%3A//acme.example/privacy","html":"acme.example/20190523091427.html","md":"acme.example/20190523091427.md"}
{"domain":"beta.example","timestamp":"20050101000000","archived_date":"2005-01-01","wayback_url":"https://web.archive.org/web/20050101000000id_/http%3A//beta.example/privacy.html","html":"beta.example/20050101000000.html","md":"beta.example/20050101000000.md"}
`,
		"citp/acme.example/20190523091427.html": "<!--The following is the downloaded HTML source.-->\n\n" + page("<p>Last updated: March 3, 2019</p>"),
		"citp/acme.example/20190523091427.md":   "x\n",
		"citp/beta.example/20050101000000.html": "<!--header-->\n\n" + page(""),
		"citp/beta.example/20050101000000.md":   "x\n",
		"ota/manifest.jsonl": `{"id":"gamma/privacy-policy/2024-01-01T00-00-00Z","html":"gamma/privacy-policy/2024-01-01T00-00-00Z.html","md":"gamma/privacy-policy/2024-01-01T00-00-00Z.md","url":"https://gamma.example/fr/confidentialite","fetched_at":"2024-01-01T00:00:00Z","declaration":{"select":"main"}}
`,
		"ota/gamma/privacy-policy/2024-01-01T00-00-00Z.html": page("<p>Dernière mise à jour : 5 décembre 2023</p>"),
		"ota/gamma/privacy-policy/2024-01-01T00-00-00Z.md":   "x\n",
		"labels.jsonl": `{"path":"citp/acme.example/20190523091427.html","date":"2019-03-03","phrase":"Last updated: March 3, 2019","lang":"en","note":""}
{"path":"citp/beta.example/20050101000000.html","date":null,"phrase":null,"lang":"en","note":"no date"}
{"path":"ota/gamma/privacy-policy/2024-01-01T00-00-00Z.html","date":"2023-12-06","phrase":"Dernière mise à jour","lang":"fr","note":"wrong on purpose"}
`,
	})
	return root, filepath.Join(root, "labels.jsonl")
}

func TestEvalDates(t *testing.T) {
	root, labels := dateCorpus(t)
	t.Run("table", func(t *testing.T) {
		out, _, err := runEvalCmd(t, nil, "eval", "dates", "--corpus", root, "--labels", labels)
		if err != nil {
			t.Fatalf("eval dates: %v", err)
		}
		for _, want := range []string{"2019-03-03", "! ", "2023-12-05", "Dernière mise à jour : 5 décembre 2023",
			"3 documents, 2 state a date; 2 dates returned, 1 correct", "precision 0.5000  recall 0.5000"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		out, _, err := runEvalCmd(t, map[string]string{"POLICYWATCH_CORPUS": root}, "eval", "dates", "--labels", labels, "--json")
		if err != nil {
			t.Fatalf("eval dates --json: %v", err)
		}
		var rep dateReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("json: %v\n%s", err, out)
		}
		results := []string{}
		for _, r := range rep.Rows {
			results = append(results, r.Result)
		}
		if got := strings.Join(results, ","); got != "correct,none,wrong" || rep.Precision != 0.5 || rep.Recall != 0.5 {
			t.Errorf("results %s, P %.2f R %.2f; want correct,none,wrong, 0.5, 0.5", got, rep.Precision, rep.Recall)
		}
	})
	t.Run("errors", func(t *testing.T) {
		tests := []struct {
			name string
			args []string
			want string
		}{
			{"no corpus", []string{"eval", "dates", "--labels", labels}, "--corpus DIR is required"},
			{"no labels file", []string{"eval", "dates", "--corpus", root, "--labels", filepath.Join(root, "nope.jsonl")}, "labels:"},
			{"unknown page", []string{"eval", "dates", "--corpus", filepath.Join(root, "ota"), "--labels", labels}, ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				out, _, err := runEvalCmd(t, nil, tc.args...)
				if tc.want == "" { // a label outside the corpus is reported per row, not fatal
					if err != nil || !strings.Contains(out, "is in no manifest") {
						t.Errorf("err %v, output:\n%s", err, out)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("err %v, want %q", err, tc.want)
				}
			})
		}
	})
}
