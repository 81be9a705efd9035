package main

import (
	"strings"
	"testing"
)

func TestExplain_RingGroup(t *testing.T) {
	b := newBridge(t, "[[pbx.groups]]\nnumber = \"600\"\nmembers = [\"801\", \"802\", \"803\"]\n")
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
	b := newBridge(t, "")
	loadCapture(t, b.db)
	code, out, stderr := b.run(t, t.Context(), "explain", "-config", b.config, "1795653134.45")
	if code != 0 {
		t.Fatalf("explain: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(out, "1795653140.47") || !strings.Contains(out, "transferredTheCall") && !strings.Contains(out, "disposition=TRANSFER") {
		t.Errorf("explain of 7b does not show the merged consultation call and the transfer:\n%s", out)
	}
}

func TestExplain_Unknown(t *testing.T) {
	b := newBridge(t, "")
	code, _, stderr := b.run(t, t.Context(), "explain", "1.2")
	if code != exitFailure || !strings.Contains(stderr, "no CEL rows with linkedid 1.2") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = b.run(t, t.Context(), "explain")
	if code != exitUsage {
		t.Errorf("explain without ID: exit %d, want %d\n%s", code, exitUsage, stderr)
	}
}
