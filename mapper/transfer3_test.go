package mapper

import (
	"strings"
	"testing"

	"github.com/celbridge/celbridge"
)

// confExtra is the extra of a ConfBridge BRIDGE_ENTER (softmix, as in Wazo's conference dump).
func confExtra() string {
	return `{"bridge_id":"conf8000","bridge_technology":"softmix"}`
}

// confDIDRows: 801 dials conference 8000 (internal call 3.1: the phone runs ConfBridge itself).
// A customer dials a DID routed to conference 8000 (call 1.1) and joins; 801 is there. Then
// 802 dials 8000 (call 4.1) and joins too. Everybody hangs up at second 60. Nobody was
// transferred: ConfBridge does not unify linkedids, each participant keeps its own call.
func confDIDRows() []celbridge.CELRow {
	const p801, p802 = "PJSIP/801-00000010", "PJSIP/802-00000012"
	var b rb
	b.add(0, "CHAN_START", p801, "3.1", "3.1", "exten", "8000", "context", "from-internal")
	b.add(0, "ANSWER", p801, "3.1", "3.1", "exten", "8000", "context", "ext-meetme", "app", "Answer")
	b.add(1, "BRIDGE_ENTER", p801, "3.1", "3.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra())
	b.add(5, "CHAN_START", trunk, "1.1", "1.1", "exten", "0443334000", "context", "from-pstn", "cid", "0670000001")
	b.add(5, "ANSWER", trunk, "1.1", "1.1", "exten", "8000", "context", "ext-meetme", "app", "Answer")
	b.add(6, "BRIDGE_ENTER", trunk, "1.1", "1.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra(), "peer", p801)
	b.add(20, "CHAN_START", p802, "4.1", "4.1", "exten", "8000", "context", "from-internal")
	b.add(20, "ANSWER", p802, "4.1", "4.1", "exten", "8000", "context", "ext-meetme", "app", "Answer")
	b.add(21, "BRIDGE_ENTER", p802, "4.1", "4.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra(), "peer", p801+","+trunk)
	for _, c := range [][2]string{{trunk, "1.1"}, {p801, "3.1"}, {p802, "4.1"}} {
		b.add(60, "BRIDGE_EXIT", c[0], c[1], c[1], "app", "ConfBridge", "extra", confExtra())
		b.add(60, "HANGUP", c[0], c[1], c[1], "extra", hangupExtra(""))
		b.add(60, "CHAN_END", c[0], c[1], c[1])
		b.add(60, "LINKEDID_END", c[0], c[1], c[1])
	}
	return b.rows
}

// TestTransfer_ConferenceJoinIsNoTransfer: a colleague joining the conference the customer is
// in is not a transfer of the customer.
func TestTransfer_ConferenceJoinIsNoTransfer(t *testing.T) {
	for _, send := range []bool{true, false} {
		cfg := DefaultConfig()
		cfg.SendTransfers = send
		got, _ := replayLive(cfg, confDIDRows())
		g := ofCall("1.1", got)
		for _, l := range g {
			if strings.Contains(l, "transferredTheCall") || strings.Contains(l, "TRANSFER") {
				t.Errorf("send_transfers=%v: conference join reported as a transfer:\n%s", send, strings.Join(g, "\n"))
				break
			}
		}
	}
}

// parkRows: customer A (1.1) answered by 801; 801 blind-transfers A to the parking lot (70):
// A sits in the lot's holding bridge. Meanwhile 802 calls 803 (internal call 2.1) and 803
// parks 802: 802's phone enters the same holding bridge, whose peer field names A. Then A
// hangs up in the lot, and 802 too.
func parkRows() []celbridge.CELRow {
	const lot = `{"bridge_id":"lot70","bridge_technology":"holding_bridge"}`
	const p802, p803 = "PJSIP/802-00000020", "PJSIP/803-00000021"
	var b rb
	inbound(&b)
	b.add(0, "CHAN_START", ph801, "1.2", "1.1", "exten", "s", "context", "from-internal")
	b.add(2, "BRIDGE_ENTER", ph801, "1.2", "1.1", "extra", bridgeExtra("b1", false))
	b.add(2, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false), "peer", ph801)
	b.add(10, "BLINDTRANSFER", ph801, "1.2", "1.1", "extra", `{"extension":"70","context":"from-internal-xfer","bridge_id":"b1","transferee_channel_name":"`+trunk+`","transferee_channel_uniqueid":"1.1"}`)
	b.add(10, "BRIDGE_EXIT", ph801, "1.2", "1.1", "extra", bridgeExtra("b1", false))
	b.add(10, "HANGUP", ph801, "1.2", "1.1", "extra", hangupExtra(""))
	b.add(10, "CHAN_END", ph801, "1.2", "1.1")
	b.add(10, "BRIDGE_EXIT", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false))
	b.add(10, "BRIDGE_ENTER", trunk, "1.1", "1.1", "app", "Park", "extra", lot)
	b.add(10, "PARK_START", trunk, "1.1", "1.1", "app", "Park", "extra", `{"parker_dial_string":"PJSIP/801","parkinglot":"default","parking_space":"71","parking_duration":45}`)
	// internal call 802 -> 803, 803 parks 802
	b.add(12, "CHAN_START", p802, "2.1", "2.1", "exten", "803", "context", "from-internal")
	b.add(12, "CHAN_START", p803, "2.2", "2.1", "exten", "s", "context", "from-internal")
	b.add(14, "BRIDGE_ENTER", p803, "2.2", "2.1", "extra", bridgeExtra("b2", false))
	b.add(14, "BRIDGE_ENTER", p802, "2.1", "2.1", "extra", bridgeExtra("b2", false), "peer", p803)
	b.add(20, "BLINDTRANSFER", p803, "2.2", "2.1", "extra", `{"extension":"70","context":"from-internal-xfer","bridge_id":"b2","transferee_channel_name":"`+p802+`","transferee_channel_uniqueid":"2.1"}`)
	b.add(20, "BRIDGE_EXIT", p803, "2.2", "2.1", "extra", bridgeExtra("b2", false))
	b.add(20, "HANGUP", p803, "2.2", "2.1", "extra", hangupExtra(""))
	b.add(20, "CHAN_END", p803, "2.2", "2.1")
	b.add(20, "BRIDGE_EXIT", p802, "2.1", "2.1", "extra", bridgeExtra("b2", false))
	b.add(20, "BRIDGE_ENTER", p802, "2.1", "2.1", "app", "Park", "extra", lot, "peer", trunk)
	b.add(20, "PARK_START", p802, "2.1", "2.1", "app", "Park", "extra", `{"parking_space":"72"}`)
	b.add(30, "PARK_END", trunk, "1.1", "1.1", "extra", `{"reason":"ParkedCallGiveUp"}`)
	b.add(30, "BRIDGE_EXIT", trunk, "1.1", "1.1", "extra", lot, "peer", p802)
	b.add(30, "HANGUP", trunk, "1.1", "1.1", "extra", hangupExtra(""))
	b.add(30, "CHAN_END", trunk, "1.1", "1.1")
	b.add(30, "LINKEDID_END", trunk, "1.1", "1.1")
	b.add(40, "PARK_END", p802, "2.1", "2.1", "extra", `{"reason":"ParkedCallGiveUp"}`)
	b.add(40, "BRIDGE_EXIT", p802, "2.1", "2.1", "extra", lot)
	b.add(40, "HANGUP", p802, "2.1", "2.1", "extra", hangupExtra(""))
	b.add(40, "CHAN_END", p802, "2.1", "2.1")
	b.add(40, "LINKEDID_END", p802, "2.1", "2.1")
	return b.rows
}

// TestTransfer_ParkedColleagueIsNoTransfer: a colleague's phone parked next to the customer is
// not the customer being transferred to that colleague.
func TestTransfer_ParkedColleagueIsNoTransfer(t *testing.T) {
	cfg := DefaultConfig()
	cfg.SendTransfers = true
	got, _ := replayLive(cfg, parkRows())
	g := ofCall("1.1", got)
	for _, l := range g {
		if strings.Contains(l, "transferredTheCall 802") {
			t.Errorf("parked colleague 802 reported as a transfer of the customer:\n%s", strings.Join(g, "\n"))
		}
	}
	t.Logf("%s", strings.Join(got, "\n"))
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
