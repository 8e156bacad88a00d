package snapshot

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// referenceWordRe is the definition of a word that words implements by hand.
var referenceWordRe = regexp.MustCompile(`[\p{L}\p{N}]+(?:['’][\p{L}]+)*`)

func TestWordsMatchesReference(t *testing.T) {
	inputs := []string{
		"don't stop l'utilisateur d’accord it's2 rock'n'roll 'quoted' o'", "über straße № 5½ 2019-05-23 e-mail",
		"日本語のプライバシーポリシー 隐私政策", "a''b x'1 ’tis", "", "...",
	}
	if files, _ := filepath.Glob(filepath.Join("..", "testdata", "snapshot", "*.golden.md")); len(files) > 0 {
		for _, f := range files {
			b, _ := os.ReadFile(f)
			inputs = append(inputs, string(b))
		}
	}
	for _, in := range inputs {
		lower := strings.ToLower(in)
		want := referenceWordRe.FindAllString(strings.ReplaceAll(lower, "’", "'"), -1)
		if got := tokenWords(lower); !slices.Equal(got, want) {
			t.Errorf("tokenWords(%.60q):\n got %q\nwant %q", in, got, want)
		}
	}
}

func TestTokens(t *testing.T) {
	got := Tokens("## 1\\. Data <br> we [keep](https://x.example/a) see <https://x.example> and http://y.example/z. Don’t <b>sell</b>")
	want := []string{"1", "data", "we", "keep", "see", "and", "don't", "sell"}
	if !slices.Equal(got, want) {
		t.Fatalf("Tokens = %q, want %q", got, want)
	}
}
