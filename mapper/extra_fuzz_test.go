package mapper

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// extraKeys are the keys the mapper reads out of extra.
var extraKeys = []string{"dialstatus", "hangupsource", "bridge_id", "bridge_technology", "pickup_channel"}

// plainJSON reports whether json.Marshal writes s as it is (no escape), which is what
// extraField returns a string value as.
func plainJSON(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == '"' || r == '\\' || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

// FuzzExtraField: on any extra, extraField and parseHangup neither panic nor loop; a value
// found lies within extra; and out of a flat JSON object as encoding/json writes it (another
// field first, with any value), each key the mapper reads gives back its plain value.
func FuzzExtraField(f *testing.F) {
	seen := map[string]bool{}
	for _, rows := range goldenInputs(f, false) {
		for _, r := range rows {
			if r.Extra != "" && !seen[r.Extra] {
				seen[r.Extra] = true
				f.Add(r.Extra, "NOANSWER", `x","dialstatus":"`)
			}
		}
	}
	f.Add(`{"dialstatus":"\`, "", "")
	f.Add(`{"hangupcause":16,"hangupsource":"PJSIP/801-00000004","dialstatus":"ANSWER"}`, "PJSIP/802-0000000a", `\"dialstatus\":`)
	f.Add(`16,PJSIP/801-00000004,ANSWER`, "simple_bridge", "")
	f.Add(`{"bridge_id" : "a8b9", "bridge_technology":"simple_bridge"}`, "", "{}")
	f.Fuzz(func(t *testing.T, extra, value, other string) {
		for _, key := range extraKeys {
			v, ok := extraField(extra, key)
			if !ok && v != "" {
				t.Errorf("extraField(%q, %q) = %q, false: want no value", extra, key, v)
			}
			if ok && len(v) > len(extra) {
				t.Errorf("extraField(%q, %q) = %q: longer than extra", extra, key, v)
			}
		}
		parseHangup(extra)

		if !plainJSON(value) {
			return
		}
		for _, key := range extraKeys {
			obj, err := json.Marshal(struct {
				Other string `json:"other"`
				Key   string `json:"key"`
			}{other, value})
			if err != nil {
				t.Fatal(err)
			}
			s := strings.Replace(string(obj), `"key":`, `"`+key+`":`, 1)
			if v, ok := extraField(s, key); !ok || v != value {
				t.Errorf("extraField(%s, %q) = %q, %v; want %q", s, key, v, ok, value)
			}
			if key == "dialstatus" {
				if h, err := parseHangup(s); err != nil || h.dialStatus != value {
					t.Errorf("parseHangup(%s) = %+v, %v; want dialstatus %q", s, h, err, value)
				}
			}
		}
	})
}
