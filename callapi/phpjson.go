package callapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The signature is md5(secret + json_encode(params)) as the CRM's PHP computes it, so the
// JSON must be byte for byte what PHP's json_encode writes for the values PHP's
// json_decode($body, true) reads. Checked against php-cli 8.2 (see phpjson_test.go):
//   - no spaces; "/" as "\/"; every non-ASCII character as \uXXXX in lowercase hex (UTF-16
//     surrogate pairs above U+FFFF); control characters as \b \f \n \r \t or \u00XX; DEL as is;
//     invalid UTF-8 makes json_encode fail;
//   - objects are PHP arrays: keys keep their first position and their last value; an object
//     whose keys are "0", "1", … in order, and an empty object, are written as lists;
//   - integers that fit 64 bits are written as read; other numbers are doubles, written in
//     the shortest form that reads back, with an exponent ("1.0e+25", "1.5e-7") below 1e-4
//     or from 1e17 on.

// object is a JSON object with its keys in order.
type object []member

type member struct {
	key   string
	value any // object, []any, string, json.Number, bool or nil
}

// errDepth bounds nesting, so that a hostile body cannot recurse deep.
var errDepth = errors.New("JSON nested too deep")

const maxDepth = 16

// decode reads one JSON value from b, keeping object key order. The whole body must be that
// one value.
func decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		var o object
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			o = o.set(kt.(string), v)
		}
		_, err := dec.Token()
		return o, err
	case json.Delim('['):
		l := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		_, err := dec.Token()
		return l, err
	}
	return tok, nil
}

// set is PHP's $a[$k] = $v: an existing key keeps its place.
func (o object) set(k string, v any) object {
	for i := range o {
		if o[i].key == k {
			o[i].value = v
			return o
		}
	}
	return append(o, member{k, v})
}

// get returns the value under k.
func (o object) get(k string) (any, bool) {
	for _, m := range o {
		if m.key == k {
			return m.value, true
		}
	}
	return nil, false
}

// ksorted returns o without the keys drop, sorted as PHP's ksort sorts string keys (keys
// that are decimal integers compare as numbers among themselves).
func (o object) ksorted(drop ...string) object {
	out := slices.DeleteFunc(slices.Clone(o), func(m member) bool { return slices.Contains(drop, m.key) })
	slices.SortStableFunc(out, func(a, b member) int {
		ai, aok := intKey(a.key)
		bi, bok := intKey(b.key)
		if aok && bok {
			return int(min(max(ai-bi, -1), 1))
		}
		return strings.Compare(a.key, b.key)
	})
	return out
}

// intKey reports whether PHP turns the array key k into an integer key.
func intKey(k string) (int64, bool) {
	n, err := strconv.ParseInt(k, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != k {
		return 0, false
	}
	return n, true
}

// encodePHP writes v as PHP's json_encode writes the value json_decode($json, true) made of it.
func encodePHP(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := writePHP(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writePHP(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case string:
		return writeString(b, v)
	case json.Number:
		b.WriteString(phpNumber(string(v)))
	case int:
		b.WriteString(strconv.Itoa(v))
	case []string:
		l := make([]any, len(v))
		for i, s := range v {
			l[i] = s
		}
		return writePHP(b, l)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writePHP(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case object:
		if v.isList() {
			l := make([]any, len(v))
			for i, m := range v {
				l[i] = m.value
			}
			return writePHP(b, l)
		}
		b.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeString(b, m.key); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writePHP(b, m.value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("cannot encode %T", v)
	}
	return nil
}

// isList: PHP writes an array with keys 0..n-1 in order (and an empty one) as a JSON list.
func (o object) isList() bool {
	for i, m := range o {
		if m.key != strconv.Itoa(i) {
			return false
		}
	}
	return true
}

func writeString(b *bytes.Buffer, s string) error {
	if !utf8.ValidString(s) {
		return errors.New("invalid UTF-8 in a string")
	}
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '/':
			b.WriteString(`\/`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		case r < 0x80:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
	return nil
}

// phpNumber is how PHP writes back the JSON number lit.
func phpNumber(lit string) string {
	if !strings.ContainsAny(lit, ".eE") {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return strconv.FormatInt(n, 10)
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil { // out of range: PHP reads ±INF, which json_encode refuses
		return lit
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(exp)
	if x >= -4 && x < 17 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	sign := "+"
	if x < 0 {
		sign, x = "-", -x
	}
	return mant + "e" + sign + strconv.Itoa(x)
}
