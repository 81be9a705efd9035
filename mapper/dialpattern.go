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

// stripOutbound removes the longest configured prefix that number starts with and whose
// pattern the rest matches.
func (cfg *Config) stripOutbound(number string) string {
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
	return number[len(best):]
}
