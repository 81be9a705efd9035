package celbridge_test

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge"
)

// TestEvent_Fields checks the wire format: the fields of each requestType in the order of
// README's table "What the CRM receives", companyID before requestType.
func TestEvent_Fields(t *testing.T) {
	in := celbridge.Event{
		GeneralCallID: "17956529280", CallType: celbridge.Incoming,
		DIDNumber: "0443334000", ExternalNumber: "0670219424", InternalNumber: "801",
		Billsec: 42, Disposition: celbridge.DispAnswer,
	}
	out := in
	out.CallType = celbridge.Outgoing
	with := func(e celbridge.Event, requestType string) celbridge.Event {
		e.RequestType = requestType
		return e
	}
	tests := []struct {
		name, company string
		ev            celbridge.Event
		want          string // the encoded form
	}{
		{"ReceivedIncoming", "3041", with(in, celbridge.Received),
			"didNumber=0443334000&externalNumber=0670219424&internalNumber=801&generalCallID=17956529280&callType=0&companyID=3041&requestType=receivedTheCall"},
		{"ReceivedOutgoing", "3041", with(out, celbridge.Received),
			"externalNumber=0670219424&internalNumber=801&generalCallID=17956529280&callType=1&companyID=3041&requestType=receivedTheCall"},
		{"AnsweredIncoming", "3041", with(in, celbridge.Answered),
			"didNumber=0443334000&externalNumber=0670219424&internalNumber=801&generalCallID=17956529280&callType=0&companyID=3041&requestType=answeredTheCall"},
		{"AnsweredOutgoing", "3041", with(out, celbridge.Answered),
			"externalNumber=0670219424&internalNumber=801&generalCallID=17956529280&callType=1&companyID=3041&requestType=answeredTheCall"},
		{"Transferred", "3041", with(in, celbridge.Transferred),
			"internalNumber=801&generalCallID=17956529280&companyID=3041&requestType=transferredTheCall"},
		{"Hangup", "3041", with(in, celbridge.Hangup),
			"generalCallID=17956529280&billsec=42&disposition=ANSWER&companyID=3041&requestType=hangupTheCall"},
		{"NoCompanyID", "", with(in, celbridge.Hangup),
			"generalCallID=17956529280&billsec=42&disposition=ANSWER&requestType=hangupTheCall"},
		{"EmptyValuesStay", "3041", celbridge.Event{GeneralCallID: "1", RequestType: celbridge.Received},
			"didNumber=&externalNumber=&internalNumber=&generalCallID=1&callType=0&companyID=3041&requestType=receivedTheCall"},
		{"Escaped", "30 41", with(celbridge.Event{GeneralCallID: "1795652928.0", ExternalNumber: "+380 67&x=1", CallType: celbridge.Outgoing}, celbridge.Received),
			"externalNumber=%2B380+67%26x%3D1&internalNumber=&generalCallID=1795652928.0&callType=1&companyID=30+41&requestType=receivedTheCall"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := celbridge.EncodeForm(tt.ev.Fields(tt.company)); got != tt.want {
				t.Errorf("wire form\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestEvent_Fields_WireText: invalid UTF-8 and control characters in any value never reach
// the CRM, whatever the mapper let through.
func TestEvent_Fields_WireText(t *testing.T) {
	e := celbridge.Event{
		GeneralCallID: "1795\x00652928\r\n0", RequestType: celbridge.Received, CallType: celbridge.Incoming,
		DIDNumber: "044\x1b[2J3334000", ExternalNumber: "067\xff0219424", InternalNumber: "80\t1\x7f\u009b",
	}
	fields := e.Fields("30\n41")
	want := []celbridge.Field{
		{"didNumber", "044[2J3334000"},
		{"externalNumber", "067\uFFFD0219424"},
		{"internalNumber", "801"},
		{"generalCallID", "17956529280"},
		{"callType", "0"},
		{"companyID", "3041"},
		{"requestType", "receivedTheCall"},
	}
	if d := cmp.Diff(want, fields); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
	form := celbridge.EncodeForm(fields)
	vals, err := url.ParseQuery(form)
	if err != nil {
		t.Fatalf("the CRM could not parse %q: %v", form, err)
	}
	for name, vs := range vals {
		for _, v := range vs {
			if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) }) {
				t.Errorf("%s = %q reaches the CRM", name, v)
			}
		}
	}
}

func TestWireText(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"0670219424":               "0670219424",
		"Іванна Коваль":            "Іванна Коваль", // valid UTF-8 is kept
		"a\x00b\x1fc\x7fd":         "abcd",
		"\xc3":                     "\uFFFD", // a cut multi-byte sequence
		"a\xff\xfeb":               "a\uFFFD\uFFFDb",
		"\uFFFD":                   "\uFFFD",
		"a\u0085b\u009bc":          "abc",    // C1 controls (U+009B is CSI to some terminals)
		"\u202e":                   "\u202e", // a bidi override is a format character, not a control: kept
		"+380 (67) 123-45-67 ext1": "+380 (67) 123-45-67 ext1",
	} {
		if got := celbridge.WireText(in); got != want {
			t.Errorf("WireText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEvent_IdempotencyKey(t *testing.T) {
	e := celbridge.Event{GeneralCallID: "17956529280", RequestType: celbridge.Transferred}
	if got := e.IdempotencyKey(); got != "17956529280-transferredTheCall" {
		t.Errorf("got %q", got)
	}
	e.Seq = 2
	if got := e.IdempotencyKey(); got != "17956529280-transferredTheCall-2" {
		t.Errorf("got %q", got)
	}
}

// TestDigitsOnly: a linkedid's digits are the default generalCallID; only ASCII digits count.
func TestDigitsOnly(t *testing.T) {
	for in, want := range map[string]string{
		"1732600000.45":        "173260000045",
		"1795652928.0":         "17956529280",
		"":                     "",
		"abc":                  "",
		"pbx-1:1732600000.45a": "1173260000045",
		"١٢٣.4":                "4", // Arabic-Indic digits are not ASCII digits
	} {
		if got := celbridge.DigitsOnly(in); got != want {
			t.Errorf("DigitsOnly(%q) = %q, want %q", in, got, want)
		}
	}
}
