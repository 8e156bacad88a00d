package waybacktest

import (
	"net"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// sessionParams are query parameter names the IA canonicaliser strips because
// they identify a visitor's session, not the page (internetarchive/surt
// IAURLCanonicalizer.py).
var sessionParams = map[string]bool{
	"jsessionid": true,
	"phpsessid":  true,
	"sid":        true,
	"cfid":       true,
	"cftoken":    true,
}

var (
	wwwPrefix     = regexp.MustCompile(`^www\d*\.`)
	pathSessionID = regexp.MustCompile(`(?i);jsessionid=[^/?;]*`)
)

// URLKey returns the SURT urlkey the Wayback Machine uses to match a URL, for
// example "http://www.archive.org/goo/?b&a" becomes "org,archive)/goo?a&b".
// Both CDX exact queries and playback match on this key, which is why the
// http, https, www and trailing-slash variants of a page share one history
// (wayback-api.md §5). Unparseable input is lowercased and returned as is, so
// odd originals such as "http://mailto:…" still get a stable key.
func URLKey(raw string) string {
	s := strings.TrimSpace(raw)
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	if !strings.Contains(s, "://") {
		s = "http://" + strings.TrimPrefix(s, "//")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return strings.ToLower(raw)
	}

	host := strings.ToLower(u.Hostname())
	host = strings.TrimSuffix(host, ".")
	port := u.Port()
	if port == "80" || port == "443" {
		port = ""
	}
	var hostKey string
	if ip := net.ParseIP(host); ip != nil {
		hostKey = host
	} else {
		host = wwwPrefix.ReplaceAllString(host, "")
		labels := strings.Split(host, ".")
		for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
			labels[i], labels[j] = labels[j], labels[i]
		}
		hostKey = strings.Join(labels, ",")
	}
	if port != "" {
		hostKey += ":" + port
	}

	p := pathSessionID.ReplaceAllString(u.EscapedPath(), "")
	p = normalizeEscapes(strings.ToLower(p))
	if p == "" {
		p = "/"
	}
	if len(p) > 1 {
		p = strings.TrimRight(p, "/")
		if p == "" {
			p = "/"
		}
	}

	var params []string
	if u.RawQuery != "" {
		for _, kv := range strings.Split(strings.ToLower(u.RawQuery), "&") {
			if kv == "" {
				continue
			}
			name, _, _ := strings.Cut(kv, "=")
			if sessionParams[name] || strings.HasPrefix(name, "aspsessionid") {
				continue
			}
			params = append(params, normalizeEscapes(kv))
		}
		sort.Strings(params)
	}
	key := hostKey + ")" + p
	if len(params) > 0 {
		key += "?" + strings.Join(params, "&")
	}
	return key
}

// normalizeEscapes decodes percent-escapes of unreserved characters so that
// "%7Euser" and "~user" give the same key, as the IA canonicaliser does by
// unescaping before it re-escapes. s is already lowercase.
func normalizeEscapes(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := url.PathUnescape(s[i : i+3]); err == nil && len(v) == 1 && isUnreserved(v[0]) {
				b.WriteString(strings.ToLower(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// hostOfKey returns the host part of a urlkey ("gov,nasa" for "gov,nasa)/x").
func hostOfKey(key string) string {
	h, _, _ := strings.Cut(key, ")")
	return h
}
