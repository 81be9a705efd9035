package crm

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// redacted replaces a secret in text shown to people.
const redacted = "[redacted]"

// minSecret is the length under which a configured value is not searched for: "on" or "1"
// would turn up in ordinary words and numbers and mangle the text, and a value that short
// protects nothing worth that.
const minSecret = 4

// secretQueryKeys are the parts of a query parameter's name that make its value a secret.
var secretQueryKeys = []string{"token", "key", "secret", "pass", "pwd", "sig", "auth", "cred", "session"}

// redactor hides the client's secrets (header values, URL credentials) in text that the CRM
// sent back, in any of the forms an echo may take: as is, URL-, HTML- or JSON-escaped, and in
// any ASCII case.
type redactor struct {
	needles []string // lower-case (ASCII), no duplicates
	longest int      // length of the longest needle
}

// newRedactor collects the secrets of a client with endpoint u (nil when it does not parse)
// and headers.
func newRedactor(u *url.URL, headers map[string]string) *redactor {
	var secrets []string
	for _, v := range headers {
		secrets = append(secrets, headerSecrets(v)...)
	}
	if u != nil {
		secrets = append(secrets, urlSecrets(u)...)
	}
	r := &redactor{}
	for _, s := range secrets {
		if len(s) < minSecret {
			continue
		}
		for _, v := range encodings(s) {
			v = lowerASCII(v)
			if !slices.Contains(r.needles, v) {
				r.needles = append(r.needles, v)
				r.longest = max(r.longest, len(v))
			}
		}
	}
	return r
}

// headerSecrets returns the value and, for "<scheme> <credentials>" (Authorization: Bearer x,
// Basic x), the credentials alone; for Basic also the decoded user:password and password.
func headerSecrets(v string) []string {
	v = strings.TrimSpace(v)
	out := []string{v}
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok {
		return out
	}
	cred = strings.TrimSpace(cred)
	out = append(out, cred)
	if strings.EqualFold(scheme, "Basic") {
		if b, err := base64.StdEncoding.DecodeString(cred); err == nil {
			out = append(out, string(b))
			if _, pw, ok := strings.Cut(string(b), ":"); ok {
				out = append(out, pw)
			}
		}
	}
	return out
}

// urlSecrets returns the password of u's userinfo (or the user name when there is no password:
// https://<token>@host is a common way to pass a token), and the values of query parameters
// whose name looks like a secret's (token, api_key, signature, password…).
func urlSecrets(u *url.URL) []string {
	var out []string
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			out = append(out, pw)
		} else {
			out = append(out, u.User.Username())
		}
	}
	for k, vs := range u.Query() {
		k = strings.ToLower(k)
		if slices.ContainsFunc(secretQueryKeys, func(s string) bool { return strings.Contains(k, s) }) {
			out = append(out, vs...)
		}
	}
	return out
}

// encodings returns s in the forms a server may echo it in: as is, URL-encoded (query and
// path style), HTML-escaped and inside a JSON string (Go's encoder escapes <>&, PHP's
// json_encode also escapes /).
func encodings(s string) []string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	js := strings.Trim(strings.TrimSpace(b.String()), `"`)
	jsHTML, _ := json.Marshal(s)
	return []string{
		s,
		url.QueryEscape(s),
		url.PathEscape(s),
		html.EscapeString(s),
		js,
		strings.Trim(string(jsHTML), `"`),
		strings.ReplaceAll(js, "/", `\/`),
	}
}

// lowerASCII lower-cases ASCII letters only, byte by byte, so that byte offsets stay those of
// s (even in invalid UTF-8).
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// redact replaces every secret in s.
func (r *redactor) redact(s string) string {
	return r.redactPrefix(s, len(s))
}

// redactPrefix returns about the first n bytes of s with every secret replaced. The cut is
// moved past a secret that straddles byte n, so that no part of a secret is shown; s should
// extend at least r.longest bytes beyond n, so that every secret starting before n is whole
// in it.
func (r *redactor) redactPrefix(s string, n int) string {
	spans := r.find(s)
	end := min(n, len(s))
	for _, sp := range spans {
		if sp[0] < end && end < sp[1] {
			end = sp[1]
		}
	}
	for end < len(s) && !utf8.RuneStart(s[end]) {
		end++ // not inside a rune
	}
	var b strings.Builder
	at := 0
	for _, sp := range spans {
		if sp[0] >= end {
			break
		}
		b.WriteString(s[at:sp[0]])
		b.WriteString(redacted)
		at = sp[1]
	}
	b.WriteString(s[at:end])
	return b.String()
}

// find returns where secrets are in s: sorted, overlapping ones merged.
func (r *redactor) find(s string) [][2]int {
	var spans [][2]int
	low := lowerASCII(s)
	for _, nd := range r.needles {
		for i := 0; ; {
			j := strings.Index(low[i:], nd)
			if j < 0 {
				break
			}
			spans = append(spans, [2]int{i + j, i + j + len(nd)})
			i += j + 1
		}
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	var merged [][2]int
	for _, sp := range spans {
		if k := len(merged) - 1; k >= 0 && sp[0] <= merged[k][1] {
			merged[k][1] = max(merged[k][1], sp[1])
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

// printable makes text from the CRM fit for a log line, the outbox's last_error and a
// terminal: invalid UTF-8 becomes U+FFFD; control characters (newlines, ESC…) and invisible
// format characters (bidi overrides, zero-width spaces) become spaces, so that the words they
// separated stay apart. It runs after redaction, which works on the bytes as received.
func printable(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, s)
}

// oneLine collapses runs of white space into one space and trims the ends.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
