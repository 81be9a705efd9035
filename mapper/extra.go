package mapper

import (
	"errors"
	"strings"
)

// errBadExtra reports an extra column that is neither JSON nor Asterisk 11 CSV. The message
// never quotes the column: DTMF or user-defined rows may carry digits a caller typed.
var errBadExtra = errors.New("extra is not a JSON object")

// extraField returns the value of key in a flat JSON object such as CEL's extra column,
// without allocating: a string value is returned unescaped only when it holds no escapes
// (CEL values are channel names, ids and words), a number or literal as its text. ok is false
// when the key is absent. It never panics on malformed input.
func extraField(extra, key string) (value string, ok bool) {
	off := 0
	for off < len(extra) {
		i := strings.Index(extra[off:], key)
		if i < 0 {
			return "", false
		}
		i += off
		end := i + len(key)
		off = end
		if i == 0 || extra[i-1] != '"' || end >= len(extra) || extra[end] != '"' {
			continue
		}
		v := strings.TrimLeft(extra[end+1:], " \t")
		if len(v) == 0 || v[0] != ':' {
			continue
		}
		v = strings.TrimLeft(v[1:], " \t")
		if len(v) == 0 {
			return "", false
		}
		if v[0] == '"' {
			v = v[1:]
			j := 0
			for j < len(v) && v[j] != '"' {
				if v[j] == '\\' {
					j++
				}
				j++
			}
			j = min(j, len(v))
			val := v[:j]
			if strings.IndexByte(val, '\\') >= 0 {
				val = unescape(val)
			}
			return val, true
		}
		j := 0
		for j < len(v) && v[j] != ',' && v[j] != '}' && v[j] != ' ' {
			j++
		}
		return v[:j], true
	}
	return "", false
}

// unescape undoes the simple JSON escapes (\" \\ \/); others are kept as the escaped letter.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// checkExtra returns errBadExtra when a non-empty extra is not shaped like a JSON object.
func checkExtra(extra string) error {
	e := strings.TrimSpace(extra)
	if e == "" || (e[0] == '{' && e[len(e)-1] == '}') {
		return nil
	}
	return errBadExtra
}

// hangupInfo is the part of a HANGUP row's extra the mapper uses.
type hangupInfo struct {
	dialStatus, source string
}

// parseHangup reads HANGUP extra: JSON {"hangupcause":16,"hangupsource":"…","dialstatus":"…"}
// (Asterisk 12+) or the CSV "cause,source,dialstatus" of Asterisk 11.
func parseHangup(extra string) (hangupInfo, error) {
	e := strings.TrimSpace(extra)
	if e == "" {
		return hangupInfo{}, nil
	}
	if e[0] != '{' {
		parts := strings.SplitN(e, ",", 3)
		if len(parts) == 3 {
			return hangupInfo{source: parts[1], dialStatus: parts[2]}, nil
		}
		return hangupInfo{}, errBadExtra
	}
	var h hangupInfo
	h.dialStatus, _ = extraField(e, "dialstatus")
	h.source, _ = extraField(e, "hangupsource")
	return h, checkExtra(e)
}
