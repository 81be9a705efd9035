package mapper

import (
	"strconv"
	"testing"

	"github.com/celbridge/celbridge"
)

func TestGeneralCallID(t *testing.T) {
	for _, tc := range []struct {
		linkedid, mode, want string
	}{
		{"1795652928.0", CallIDDigits, "17956529280"},
		{"pbx1-1795653134.45", CallIDDigits, "1179565313445"},
		{"1795652928.0", CallIDLinkedID, "1795652928.0"},
	} {
		if got := GeneralCallID(tc.linkedid, tc.mode); got != tc.want {
			t.Errorf("GeneralCallID(%q, %q) = %q, want %q", tc.linkedid, tc.mode, got, tc.want)
		}
	}
	// Poison linkedids get a stable 19-digit id that fits an int64 and is not any digit id.
	seen := map[string]string{}
	for _, lid := range []string{"abc.def", "abd.def", "", "x", "1234567890123456789.1", "\xff\xfe", "\x00"} {
		for _, mode := range []string{CallIDDigits, CallIDLinkedID} {
			if mode == CallIDLinkedID && lid != "" && lid != "\xff\xfe" {
				continue
			}
			id := GeneralCallID(lid, mode)
			if id != GeneralCallID(lid, mode) {
				t.Errorf("%q: not stable", lid)
			}
			if len(id) != 19 || id[0] != '8' || celbridge.DigitsOnly(id) != id {
				t.Errorf("%q %s: fallback %q, want 8 and 18 digits", lid, mode, id)
			}
			if _, err := strconv.ParseInt(id, 10, 64); err != nil {
				t.Errorf("%q: fallback %q does not fit an int64: %v", lid, id, err)
			}
			if other, dup := seen[id]; dup && other != lid {
				t.Errorf("%q and %q share the fallback %q", lid, other, id)
			}
			seen[id] = lid
		}
	}
}

func TestCleanNumber(t *testing.T) {
	for in, want := range map[string]string{
		"0670219424":             "0670219424",
		"+380 67 021-94-24":      "+380670219424",
		"067\x00\x1b[31m0219424": "067310219424",
		"\xff\xfe0670219424":     "0670219424",
		"anonymous":              "",
		"+":                      "",
		"**9742310":              "9742310",
		"0+1":                    "01",
	} {
		if got := cleanNumber(in); got != want {
			t.Errorf("cleanNumber(%q) = %q, want %q", in, got, want)
		}
	}
}
