package mapper

import (
	"fmt"
	"hash/fnv"
	"unicode/utf8"

	"github.com/celbridge/celbridge"
)

// maxCallIDDigits is the longest generalCallID made of a linkedid's digits: receivers parse
// it as a signed 64-bit integer, so 18 digits always fit.
const maxCallIDDigits = 18

// GeneralCallID returns the generalCallID the CRM gets for a call with this linkedid under
// mode (Config.CallID). With CallIDDigits it is the linkedid's digits (1795652928.0 ->
// 17956529280). A linkedid without digits (a hand-made originate id such as "abc.def") or
// with more than 18 (they would overflow the CRM's integer) gets a stable fallback: 8
// followed by 18 digits of the linkedid's FNV-1a hash. It is 19 digits long, so it never
// equals an id made of digits, and the same linkedid always gets the same one. With
// CallIDLinkedID the linkedid is sent as it is, unless it is empty or not valid UTF-8 (then
// the fallback too).
func GeneralCallID(linkedid, mode string) string {
	if mode == CallIDLinkedID {
		if linkedid != "" && utf8.ValidString(linkedid) {
			return linkedid
		}
		return fallbackCallID(linkedid)
	}
	d := celbridge.DigitsOnly(linkedid)
	if d == "" || len(d) > maxCallIDDigits {
		return fallbackCallID(linkedid)
	}
	return d
}

func fallbackCallID(linkedid string) string {
	h := fnv.New64a()
	h.Write([]byte(linkedid))
	return fmt.Sprintf("8%018d", h.Sum64()%1_000_000_000_000_000_000)
}

// cleanNumber keeps what a phone number is made of: its digits, and a leading + (caller ids
// can carry anything: "anonymous", spaces, dashes, control characters, invalid UTF-8).
func cleanNumber(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			b = append(b, c)
		case c == '+' && len(b) == 0:
			b = append(b, c)
		}
	}
	if len(b) == 1 && b[0] == '+' {
		return ""
	}
	return string(b)
}
