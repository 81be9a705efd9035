package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/celbridge/celbridge"
)

// TestWriteJSONLine: the dry-run's hand-written JSON is byte for byte what encoding/json
// writes, for the values that take its fast path and for those that do not.
func TestWriteJSONLine(t *testing.T) {
	for _, v := range []string{"", "0443334000", "801", "Dr. O'Neil", `a"b`, `back\slash`, "<b>&amp;</b>",
		"tab\there", "\x00\x1f\x7f", "Київ", "bad \xff utf8", "\u2028\u2029", "requestType"} {
		fields := []celbridge.Field{{Name: "name", Value: v}, {Name: "k\"ey", Value: "x"}}
		var got bytes.Buffer
		buf, err := writeJSONLine(&got, nil, fields)
		if err != nil {
			t.Fatal(err)
		}
		// encoding/json, key by key, as writeJSONLine wrote before.
		want := []byte{'{'}
		for i, f := range fields {
			if i > 0 {
				want = append(want, ',')
			}
			k, _ := json.Marshal(f.Name)
			val, _ := json.Marshal(f.Value)
			want = append(append(append(want, k...), ':'), val...)
		}
		want = append(want, '}', '\n')
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%q:\ngot  %s\nwant %s", v, got.Bytes(), want)
		}
		if !bytes.Equal(buf, want) {
			t.Errorf("%q: returned buffer %q, want the line", v, buf)
		}
	}
}
