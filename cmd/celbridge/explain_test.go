package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/celbridge/celbridge/store"
)

func TestExplain_RingGroup(t *testing.T) {
	b := newSite(t, opts{extra: "[[pbx.groups]]\nnumber = \"600\"\nmembers = [\"801\", \"802\", \"803\"]\n"})
	loadCapture(t, b.db)
	for _, id := range []string{"179565299212", "1795652992.12"} { // generalCallID or linkedid
		code, out, stderr := b.run(t, t.Context(), "explain", id)
		if code != 0 {
			t.Fatalf("explain %s: exit %d\n%s", id, code, stderr)
		}
		for _, want := range []string{
			"Call 1795652992.12 (generalCallID 179565299212): 19 CEL rows, ids 55..73",
			"hangupcause=26", // the losing legs are shown
			"internalNumber=600&generalCallID=179565299212&callType=0&companyID=3041&requestType=receivedTheCall",
			"internalNumber=802&generalCallID=179565299212&callType=0&companyID=3041&requestType=answeredTheCall",
			"billsec=6&disposition=ANSWER",
			"why: ",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("explain %s output lacks %q:\n%s", id, want, out)
			}
		}
	}
}

// TestExplain_MergedTransfer: scenario 7b's consultation call has its own linkedid until the
// REFER merges 803's channel into the customer's call; explain follows it.
func TestExplain_MergedTransfer(t *testing.T) {
	b := newSite(t, opts{})
	loadCapture(t, b.db)
	code, out, stderr := b.run(t, t.Context(), "explain", "1795653134.45")
	if code != 0 {
		t.Fatalf("explain: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(out, "1795653140.47") || !strings.Contains(out, "transferredTheCall") && !strings.Contains(out, "disposition=TRANSFER") {
		t.Errorf("explain of 7b does not show the merged consultation call and the transfer:\n%s", out)
	}
}

func TestExplain_Unknown(t *testing.T) {
	b := newSite(t, opts{})
	code, _, stderr := b.run(t, t.Context(), "explain", "1.2")
	if code != exitFailure || !strings.Contains(stderr, "no CEL rows with linkedid 1.2") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	var out, errw bytes.Buffer // the command line, checked before any config is read
	if code = Main(t.Context(), []string{"explain"}, &out, &errw); code != exitUsage {
		t.Errorf("explain without ID: exit %d, want %d\n%s", code, exitUsage, errw.String())
	}
}

// TestExplain_EscapesCEL: CEL fields reach the operator's terminal escaped, so a caller ID or
// a channel variable holding escape sequences cannot clear the screen or retitle the window.
func TestExplain_EscapesCEL(t *testing.T) {
	b := newSite(t, opts{})
	rows := call(1, "1764100000.1", time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	rows[0].AppName, rows[0].AppData = "Set", "X=\x1b[2J\x1b[H"
	rows[1].ChanName = "PJSIP/801-\x1b]0;owned\x07"
	rows[10].Extra = `{"hangupcause":16,"dialstatus":"\u001b[31mANSWER\u202e"}`
	b.db.Insert(t, rows...)
	code, out, stderr := b.run(t, t.Context(), "explain", "1764100000.1")
	if code != 0 {
		t.Fatalf("explain: exit %d\n%s", code, stderr)
	}
	if i := strings.IndexFunc(out, func(r rune) bool { return r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) }); i >= 0 {
		t.Errorf("explain writes %q to the terminal:\n%s", out[i:i+1], out)
	}
	for _, want := range []string{`X=\x1b[2J\x1b[H`, `PJSIP/801-\x1b]0;owned\a`, `dialstatus=\x1b[31mANSWER\u202e`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks the escaped %s:\n%s", want, out)
		}
	}
}

func TestShown(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "",
		"PJSIP/801-00000002":    "PJSIP/801-00000002",
		"Іванна Коваль":         "Іванна Коваль",
		"a\x1b[2Jb":             `a\x1b[2Jb`,
		"line\r\nnext\ttab":     `line\r\nnext\ttab`,
		"\x00\x7f\u009b":        `\x00\x7f\u009b`,
		"bidi \u202eevil":       `bidi \u202eevil`,
		"bad \xff\xfe utf8":     `bad \xff\xfe utf8`,
		`back\slash`:            `back\\slash`,
		"nbsp\u00a0zero\u200bw": `nbsp\u00a0zero\u200bw`,
	} {
		if got := shown(in); got != want {
			t.Errorf("shown(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestOutboxState(t *testing.T) {
	redact := storedTextRedactor(Config{CRM: CRMConfig{
		URL: "https://crm.example.com/push?token=url-s3kr1t", Headers: map[string]string{"Authorization": "Bearer hdr-s3kr1t"},
	}})
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.Local)
	for _, tt := range []struct {
		e    store.Entry
		want string
	}{
		{store.Entry{State: store.StateDelivered, DeliveredAt: at}, "delivered 2026-03-02 10:00:00"},
		{store.Entry{State: store.StatePending}, "pending"},
		// Stored by an older version: as the CRM sent it.
		{store.Entry{State: store.StateFailed, Attempts: 1, LastError: "HTTP 401: \x1b[31mBearer hdr-s3kr1t\r\nurl-s3kr1t"},
			`failed after 1 attempts, last error: HTTP 401: \x1b[31m[redacted]\r\n[redacted]`},
	} {
		if got := outboxState(tt.e, redact); got != tt.want {
			t.Errorf("outboxState(%+v)\n got %s\nwant %s", tt.e, got, tt.want)
		}
	}
}

func TestCut(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdefghij", 5, "abcd…"},
		{"Коваль", 4, "К…"}, // never half a character
		{"Коваль", 5, "Ко…"},
	} {
		if got := cut(tt.in, tt.n); got != tt.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
