package mapper

// Transfers across linkedids: the flows (a caller moved into an older call, a phone of another
// call joining the caller's bridge, pickups and internal calls around them) are golden cases,
// testdata/h-transfer-*. Here: the backfill of such a flow, and the linkedid order.

import (
	"strconv"
	"strings"
	"testing"

	"github.com/celbridge/celbridge"
)

// brief renders an event compactly: linkedid, requestType, numbers, disposition, billsec.
func brief(e celbridge.Event) string {
	return e.LinkedID + " " + e.RequestType + " " + e.InternalNumber + " " + e.ExternalNumber + " " + e.Disposition + " " + strconv.Itoa(e.Billsec)
}

// TestTransfer_BackfillFollowsJoinedParty: a backfill reads past its range only the rows
// Mapper.Wants (poller.Backfill); the BRIDGE_ENTER of the older call whose peer names the
// open call's caller must be one of them, or the transfer to 803 is lost.
func TestTransfer_BackfillFollowsJoinedParty(t *testing.T) {
	const dir = "testdata/h-transfer-target-moved-into-callers-bridge"
	rows := loadRows(t, dir+"/input.json")
	cfg := loadCaseConfig(t, dir) // send_transfers
	var from, to int64
	for _, r := range rows {
		if r.LinkedID == "1.1" && from == 0 {
			from = r.ID
		}
		if r.EventType == "BRIDGE_ENTER" && r.ChanName == "PJSIP/kyivstar-00000001" {
			to = r.ID // the customer is answered by 801; the transfer comes after the range
		}
	}
	m := New(cfg)
	var got []string
	for _, r := range rows {
		if r.ID < from || (r.ID > to && !m.Wants(r)) {
			continue
		}
		evs, _ := m.Feed(r)
		for _, e := range append(evs, m.Expire(r.EventTime)...) {
			got = append(got, brief(e))
		}
	}
	want := []string{
		"1.1 receivedTheCall 801 0670000001  0",
		"1.1 answeredTheCall 801 0670000001  0",
		"1.1 transferredTheCall 803   0",
		"1.1 hangupTheCall   TRANSFER 68",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("backfill %d..%d:\n got %q\nwant %q", from, to, got, want)
	}
}

func TestOlderLinkedID(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"1795653110.43", "1795653134.45", true},
		{"1795653134.45", "1795653110.43", false},
		{"1795653134.45", "1795653134.100", true}, // not by string order: 45 < 100
		{"1795653134.100", "1795653134.45", false},
		{"1795653134.45", "1795653134.45", false},
		{"abc", "abd", true}, // not Asterisk's form: string order
	}
	for _, tt := range tests {
		if got := olderLinkedID(tt.a, tt.b); got != tt.want {
			t.Errorf("olderLinkedID(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestOlderLinkedID_SystemName: asterisk.conf systemname = pbx1 makes uniqueids
// "pbx1-<epoch>.<counter>"; by string order counter 100 would come before 99.
func TestOlderLinkedID_SystemName(t *testing.T) {
	if !olderLinkedID("pbx1-1795653134.99", "pbx1-1795653134.100") {
		t.Errorf("pbx1-1795653134.99 is older than pbx1-1795653134.100")
	}
	if olderLinkedID("pbx1-1795653134.100", "pbx1-1795653134.99") {
		t.Errorf("pbx1-1795653134.100 is newer than pbx1-1795653134.99")
	}
}
