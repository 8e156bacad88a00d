package crawler

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"testing"
)

func TestDecodeBody(t *testing.T) {
	plain := []byte("<html>policy</html>")
	var gz, zl, gzgz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write(plain)
	_ = w.Close()
	z := zlib.NewWriter(&zl)
	_, _ = z.Write(plain)
	_ = z.Close()
	w2 := gzip.NewWriter(&gzgz)
	_, _ = w2.Write(gz.Bytes())
	_ = w2.Close()

	tests := []struct {
		name      string
		raw       []byte
		limit     int64
		want      string
		truncated bool
	}{
		{"plain", plain, 100, string(plain), false},
		{"gzip", gz.Bytes(), 100, string(plain), false},
		{"zlib", zl.Bytes(), 100, string(plain), false},
		{"gzip twice", gzgz.Bytes(), 100, string(plain), false},
		{"gzip over cap", gz.Bytes(), 6, "<html>", true},
		{"corrupt gzip kept raw", append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, "garbage"...), 100, "\x1f\x8b\b\x00\x00\x00\x00\x00\x00\xffgarbage", false},
		{"text starting with x", []byte("x\x01 not zlib"), 100, "x\x01 not zlib", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, truncated := decodeBody(tt.raw, tt.limit, false)
			if string(got) != tt.want || truncated != tt.truncated {
				t.Errorf("decodeBody = %q, %v; want %q, %v", got, truncated, tt.want, tt.truncated)
			}
		})
	}
}

func TestLinkAndLocation(t *testing.T) {
	link := `<https://a.example/x?p=1,2&amp;q=3>; rel="original", <https://web.archive.org/web/timemap/link/https://a.example/x>; rel="timemap"; type="application/link-format"`
	if got := linkOriginal([]string{link}); got != "https://a.example/x?p=1,2&q=3" {
		t.Errorf("linkOriginal = %q", got)
	}
	if got := linkOriginal([]string{`<https://web.archive.org/web/2020/https://a.example/>; rel="first memento"`}); got != "" {
		t.Errorf("linkOriginal without original = %q", got)
	}
	for loc, want := range map[string]string{
		"https://web.archive.org/web/20180808094144id_/https://www.epa.gov/ghg?a=1": "https://www.epa.gov/ghg?a=1",
		"/web/20201027215555id_/https://www.whitehouse.gov/ostp/":                   "https://www.whitehouse.gov/ostp/",
		"//web.archive.org/web/20201102232816id_/https://www.census.gov/geo/gssi/":  "https://www.census.gov/geo/gssi/",
		"/web/20201027215555id_/www.example.com/x":                                  "http://www.example.com/x",
		"/other/page": "https://site.example/other/page",
	} {
		if got := redirectTarget(loc, "https://site.example/a/b"); got != want {
			t.Errorf("redirectTarget(%q) = %q, want %q", loc, got, want)
		}
	}
}
