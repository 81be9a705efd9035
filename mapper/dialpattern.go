package mapper

import (
	"fmt"
	"regexp"
	"strings"
)

// OutboundPrefix is one prefix an outbound route strips before the number goes to the trunk,
// with the dial pattern the rest must match (FreePBX: Outbound Routes, Dial Patterns,
// "prefix" and "match pattern").
type OutboundPrefix struct {
	Prefix string
	// Rest matches what follows the prefix; nil matches anything non-empty.
	Rest *regexp.Regexp
}

// ParseOutboundPrefix reads "9|0XXXXXXXXX" (prefix|match pattern, in Asterisk/FreePBX
// pattern syntax: X any digit, Z 1-9, N 2-9, [1-5] a set, . one or more of anything, ! zero
// or more) or a bare prefix "9" (then any rest matches).
func ParseOutboundPrefix(s string) (OutboundPrefix, error) {
	prefix, pattern, hasPattern := strings.Cut(s, "|")
	if prefix == "" || strings.Trim(prefix, "0123456789*#+") != "" {
		return OutboundPrefix{}, fmt.Errorf("prefix %q is not digits", prefix)
	}
	if !hasPattern {
		return OutboundPrefix{Prefix: prefix}, nil
	}
	re, err := dialPatternRegexp(pattern)
	if err != nil {
		return OutboundPrefix{}, err
	}
	return OutboundPrefix{Prefix: prefix, Rest: re}, nil
}

// dialPatternRegexp turns an Asterisk extension pattern (without the leading _) into an
// anchored regular expression.
func dialPatternRegexp(p string) (*regexp.Regexp, error) {
	p = strings.TrimPrefix(p, "_")
	if p == "" {
		return nil, fmt.Errorf("the match pattern after | is empty")
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch ch := p[i]; {
		case ch == 'X' || ch == 'x':
			b.WriteString("[0-9]")
		case ch == 'Z' || ch == 'z':
			b.WriteString("[1-9]")
		case ch == 'N' || ch == 'n':
			b.WriteString("[2-9]")
		case ch == '.':
			b.WriteString(".+")
		case ch == '!':
			b.WriteString(".*")
		case ch == '[':
			j := strings.IndexByte(p[i:], ']')
			if j < 2 || !validSet(p[i+1:i+j]) {
				return nil, fmt.Errorf("match pattern %q: %q is not a set of digits like [1-5] or [137]", p, p[i:min(len(p), i+max(j, 0)+1)])
			}
			b.WriteString("[" + p[i+1:i+j] + "]")
			i += j
		case strings.IndexByte("0123456789*#+", ch) >= 0:
			b.WriteString(regexp.QuoteMeta(string(ch)))
		default:
			return nil, fmt.Errorf("match pattern %q: %q is not pattern syntax (X, Z, N, [1-5], ., !, digits)", p, string(ch))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// validSet reports whether s (a pattern set without its brackets) is digits and ascending
// digit ranges: "137", "1-5", "0-37-9".
func validSet(s string) bool {
	for k := 0; k < len(s); k++ {
		if s[k] < '0' || s[k] > '9' {
			return false
		}
		if k+1 < len(s) && s[k+1] == '-' {
			if k+2 >= len(s) || s[k+2] < s[k] || s[k+2] > '9' {
				return false
			}
			k += 2
		}
	}
	return s != ""
}

// OutboundRoute is one dial pattern of a FreePBX outbound route: a dialled number that
// matches Prefix followed by Match goes to the trunk without the prefix and with Prepend in
// front (FreePBX: "prepend + prefix | match pattern").
type OutboundRoute struct {
	// Prefix matches the digits stripped (pattern syntax: a [1-5] set is one digit); nil
	// when the route strips nothing.
	Prefix *regexp.Regexp
	// Match matches the rest; Prepend is put in front of it.
	Match   *regexp.Regexp
	Prepend string
	// Source names the route, for Rule and explain.
	Source string
}

// ParseOutboundRoute reads a FreePBX dial pattern's prepend, prefix and match pattern.
func ParseOutboundRoute(prepend, prefix, match, source string) (OutboundRoute, error) {
	r := OutboundRoute{Prepend: prepend, Source: source}
	if strings.Trim(prepend, "0123456789*#+") != "" {
		return r, fmt.Errorf("prepend %q is not digits", prepend)
	}
	var err error
	if prefix != "" {
		if r.Prefix, err = dialPatternRegexp(prefix); err != nil {
			return r, err
		}
	}
	if match == "" {
		match = "."
	}
	r.Match, err = dialPatternRegexp(match)
	return r, err
}

// apply returns the number as this route sends it to the trunk; ok is false when the
// dialled number does not match the route.
func (r OutboundRoute) apply(number string) (string, bool) {
	if r.Prefix == nil {
		if !r.Match.MatchString(number) {
			return "", false
		}
		return r.Prepend + number, true
	}
	// The prefix pattern is anchored at both ends: try every split of the number.
	for i := 1; i < len(number); i++ {
		if r.Prefix.MatchString(number[:i]) && r.Match.MatchString(number[i:]) {
			return r.Prepend + number[i:], true
		}
	}
	return "", false
}

// stripOutbound returns the number as the outbound route sends it to the trunk: the longest
// configured prefix (the config file's outbound_prefixes) that number starts with and whose
// pattern the rest matches is removed; without one, the first of FreePBX's routes that
// matches strips and prepends as FreePBX does. how says which did, "" when none changed it.
func (cfg *Config) stripOutbound(number string) (out, how string) {
	best := ""
	for _, op := range cfg.OutboundPrefixes {
		if len(op.Prefix) <= len(best) || len(number) <= len(op.Prefix) || !strings.HasPrefix(number, op.Prefix) {
			continue
		}
		if op.Rest != nil && !op.Rest.MatchString(number[len(op.Prefix):]) {
			continue
		}
		best = op.Prefix
	}
	if best != "" {
		return number[len(best):], "outbound_prefixes " + best + " stripped from " + number
	}
	for _, r := range cfg.OutboundRoutes {
		if n, ok := r.apply(number); ok {
			if n == number {
				return n, ""
			}
			return n, r.Source + " made " + number + " into " + n
		}
	}
	return number, ""
}
