package mapper

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
)

// brief renders an event compactly: linkedid, requestType, numbers, disposition, billsec.
func brief(e celbridge.Event) string {
	return e.LinkedID + " " + e.RequestType + " " + e.InternalNumber + " " + e.ExternalNumber + " " + e.Disposition + " " + strconv.Itoa(e.Billsec)
}

// replayLive feeds rows like the live poller: Expire with a wall clock that ticks every second
// between rows (one poll per second), then Flush.
func replayLive(cfg Config, rows []celbridge.CELRow) (out []string, m *Mapper) {
	m = New(cfg)
	now := rows[0].EventTime
	for _, r := range rows {
		for now.Before(r.EventTime) {
			now = now.Add(time.Second)
			for _, e := range m.Expire(now) {
				out = append(out, brief(e))
			}
		}
		evs, _ := m.Feed(r)
		for _, e := range evs {
			out = append(out, brief(e))
		}
	}
	for _, e := range m.Expire(now.Add(time.Hour)) {
		out = append(out, brief(e))
	}
	for _, e := range m.Flush() {
		out = append(out, brief(e))
	}
	return out, m
}

func ofCall(lid string, lines []string) []string {
	var o []string
	for _, l := range lines {
		if strings.HasPrefix(l, lid+" ") {
			o = append(o, l)
		}
	}
	return o
}

// TestTransfer_TargetMovedIntoCallersBridge: attended transfer where the TARGET (803, on the older call 0.1) is moved into the
// customer's bridge (Asterisk's bridge swap toward the transferee's bridge). The customer's
// channel takes the older linkedid without logging a row of its own; its next row is its
// hang-up a minute later. LINKEDID_END(1.1) comes while the customer is up and talking.
func TestTransfer_TargetMovedIntoCallersBridge(t *testing.T) {
	b := rb{rows: targetMovedRows()}
	cfg := DefaultConfig()
	cfg.SendTransfers = true
	got, _ := replayLive(cfg, b.rows)
	want := []string{
		"1.1 receivedTheCall 801 0670000001  0",
		"1.1 answeredTheCall 801 0670000001  0",
		"1.1 transferredTheCall 803   0",
		"1.1 hangupTheCall   TRANSFER 68",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("live:\n got %q\nwant %q", got, want)
	}
}

// TestTransfer_PhoneMovedIntoCustomersCall: with internal_calls = true an internal call is
// sent, but its phone is no outside party.
// 802 has a customer (1.1) and consults 801, who called 802 (internal call 2.1, newer).
// 802 completes the transfer: 801's phone moves into the customer's bridge and takes the
// customer's (older) linkedid. 801's BRIDGE_ENTER under 1.1 is the only row that shows 801
// joined the customer; it must reach the customer's call, not the internal one.
func TestTransfer_PhoneMovedIntoCustomersCall(t *testing.T) {
	rows := phoneMovedRows(80)

	want := []string{
		"1.1 receivedTheCall 802 0670000001  0",
		"1.1 answeredTheCall 802 0670000001  0",
		"1.1 transferredTheCall 801   0",
		"1.1 hangupTheCall   TRANSFER 78",
	}
	for _, internal := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.SendTransfers, cfg.InternalCalls = true, internal
		got, _ := replayLive(cfg, rows)
		if g := ofCall("1.1", got); strings.Join(g, "\n") != strings.Join(want, "\n") {
			t.Errorf("internal_calls=%v: the customer's call:\n got %q\nwant %q\n(all: %q)", internal, g, want, got)
		}
	}
}

// TestTransfer_PickedUpInternalCallMovedIntoCustomersCall: the same with internal_calls =
// false, when the internal call was answered by a PICKUP
// (an unsent call's party must not take the customer's rows).
func TestTransfer_PickedUpInternalCallMovedIntoCustomersCall(t *testing.T) {
	rows := pickedUpMovedRows(80)

	cfg := DefaultConfig()
	cfg.SendTransfers = true
	got, _ := replayLive(cfg, rows)
	want := []string{
		"1.1 receivedTheCall 803 0670000001  0",
		"1.1 answeredTheCall 803 0670000001  0",
		"1.1 transferredTheCall 801   0",
		"1.1 hangupTheCall   TRANSFER 78",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

// TestClickToCallTwoDevices: click-to-call to an extension with two registered devices (desk
// phone + softphone): the Local helper rings two PJSIP/801-… legs. The second leg is the same
// employee, not an internal call.
func TestClickToCallTwoDevices(t *testing.T) {
	const l1, l2, ph, ph2, tr = "Local/801@from-internal-00000001;1", "Local/801@from-internal-00000001;2", "PJSIP/801-00000005", "PJSIP/801-00000006", "PJSIP/kyivstar-00000007"
	var b rb
	b.add(0, "CHAN_START", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", l2, "5.2", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", ph, "5.3", "5.1", "exten", "s", "context", "from-internal")
	b.add(0, "CHAN_START", ph2, "5.5", "5.1", "exten", "s", "context", "from-internal")
	b.add(3, "ANSWER", ph, "5.3", "5.1")
	b.add(3, "HANGUP", ph2, "5.5", "5.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":""}`)
	b.add(3, "CHAN_END", ph2, "5.5", "5.1")
	b.add(3, "ANSWER", l2, "5.2", "5.1", "app", "Dial", "data", "PJSIP/801/sip:a&PJSIP/801/sip:b,15")
	b.add(3, "BRIDGE_ENTER", ph, "5.3", "5.1", "extra", bridgeExtra("b1", false))
	b.add(3, "BRIDGE_ENTER", l2, "5.2", "5.1", "extra", bridgeExtra("b1", false), "peer", ph)
	b.add(3, "ANSWER", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(3, "CHAN_START", tr, "5.4", "5.1", "exten", "s", "context", "from-pstn")
	b.add(10, "ANSWER", tr, "5.4", "5.1")
	b.add(10, "BRIDGE_ENTER", tr, "5.4", "5.1", "extra", bridgeExtra("b2", false))
	b.add(10, "BRIDGE_ENTER", l1, "5.1", "5.1", "context", "macro-dialout-trunk", "app", "Dial",
		"data", "PJSIP/0670219424@kyivstar,300,Ttb(func-apply-sipheaders^s^1)", "extra", bridgeExtra("b2", false), "peer", tr)
	for _, c := range [][2]string{{tr, "5.4"}, {l1, "5.1"}, {l2, "5.2"}, {ph, "5.3"}} {
		b.add(40, "HANGUP", c[0], c[1], "5.1", "extra", hangupExtra(""))
		b.add(40, "CHAN_END", c[0], c[1], "5.1")
	}
	b.add(40, "LINKEDID_END", ph, "5.3", "5.1")
	var got []string
	for _, e := range MapAll(DefaultConfig(), b.rows) {
		got = append(got, brief(e))
	}
	want := []string{
		"5.1 receivedTheCall 801 0670219424  0",
		"5.1 answeredTheCall 801 0670219424  0",
		"5.1 hangupTheCall   ANSWER 30",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

// TestPickupOnUnsentInternalCall: an internal call (not sent, internal_calls = false) answered
// by a PICKUP sends nothing (it once sent a lone answeredTheCall).
func TestPickupOnUnsentInternalCall(t *testing.T) {
	const ph802b, ph803b = "PJSIP/802-00000007", "PJSIP/803-00000008"
	var b rb
	b.add(10, "CHAN_START", ph801, "2.1", "2.1", "exten", "802", "context", "from-internal")
	b.add(10, "CHAN_START", ph802b, "2.2", "2.1", "exten", "s", "context", "from-internal")
	b.add(12, "PICKUP", ph802b, "2.2", "2.1", "extra", `{"pickup_channel":"`+ph803b+`","pickup_channel_uniqueid":"2.3"}`)
	b.add(12, "HANGUP", ph802b, "2.2", "2.1", "extra", hangupExtra(""))
	b.add(12, "CHAN_END", ph802b, "2.2", "2.1")
	b.add(12, "BRIDGE_ENTER", ph803b, "2.3", "2.1", "extra", bridgeExtra("b2", false))
	b.add(12, "BRIDGE_ENTER", ph801, "2.1", "2.1", "extra", bridgeExtra("b2", false), "peer", ph803b)
	b.add(30, "HANGUP", ph801, "2.1", "2.1", "extra", hangupExtra("ANSWER"))
	b.add(30, "CHAN_END", ph801, "2.1", "2.1")
	b.add(30, "HANGUP", ph803b, "2.3", "2.1", "extra", hangupExtra(""))
	b.add(30, "CHAN_END", ph803b, "2.3", "2.1")
	b.add(30, "LINKEDID_END", ph803b, "2.3", "2.1")
	var got []string
	for _, e := range MapAll(DefaultConfig(), b.rows) {
		got = append(got, celbridge.EncodeForm(e.Fields("")))
	}
	if len(got) != 0 {
		t.Errorf("internal call with internal_calls=false sent %q", got)
	}
}

// TestClickToCallFollowMe: click-to-call from an extension with follow-me on: the helper's ;2 side rings
// Local/FMPR-801 first, before the phone; the call is still the employee's click-to-call.
func TestClickToCallFollowMe(t *testing.T) {
	const l1, l2, f1, f2, ph, tr = "Local/801@from-internal-00000001;1", "Local/801@from-internal-00000001;2",
		"Local/FMPR-801@from-internal-00000002;1", "Local/FMPR-801@from-internal-00000002;2", "PJSIP/801-00000005", "PJSIP/kyivstar-00000007"
	var b rb
	b.add(0, "CHAN_START", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", l2, "5.2", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", f1, "5.6", "5.1", "exten", "FMPR-801", "context", "from-internal")
	b.add(0, "CHAN_START", f2, "5.7", "5.1", "exten", "FMPR-801", "context", "from-internal")
	b.add(0, "CHAN_START", ph, "5.3", "5.1", "exten", "s", "context", "from-internal")
	b.add(3, "BRIDGE_ENTER", ph, "5.3", "5.1", "extra", bridgeExtra("b0", false))
	b.add(3, "BRIDGE_ENTER", f2, "5.7", "5.1", "extra", bridgeExtra("b0", false), "peer", ph)
	b.add(3, "BRIDGE_ENTER", f1, "5.6", "5.1", "extra", bridgeExtra("b1", false))
	b.add(3, "BRIDGE_ENTER", l2, "5.2", "5.1", "extra", bridgeExtra("b1", false), "peer", f1)
	b.add(3, "ANSWER", l1, "5.1", "5.1", "exten", "801", "context", "from-internal") // the employee's side answered
	b.add(3, "CHAN_START", tr, "5.4", "5.1", "exten", "s", "context", "from-pstn")
	b.add(10, "BRIDGE_ENTER", tr, "5.4", "5.1", "extra", bridgeExtra("b2", false))
	b.add(10, "BRIDGE_ENTER", l1, "5.1", "5.1", "context", "macro-dialout-trunk", "app", "Dial",
		"data", "PJSIP/0670219424@kyivstar,300,Ttb(func-apply-sipheaders^s^1)", "extra", bridgeExtra("b2", false), "peer", tr)
	for _, c := range [][2]string{{tr, "5.4"}, {l1, "5.1"}, {l2, "5.2"}, {f1, "5.6"}, {f2, "5.7"}, {ph, "5.3"}} {
		b.add(40, "HANGUP", c[0], c[1], "5.1", "extra", hangupExtra(""))
		b.add(40, "CHAN_END", c[0], c[1], "5.1")
	}
	b.add(40, "LINKEDID_END", ph, "5.3", "5.1")
	var got []string
	for _, e := range MapAll(DefaultConfig(), b.rows) {
		got = append(got, brief(e))
	}
	want := []string{
		"5.1 receivedTheCall 801 0670219424  0",
		"5.1 answeredTheCall 801 0670219424  0",
		"5.1 hangupTheCall   ANSWER 30",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

func targetMovedRows() []celbridge.CELRow {
	const ph801b, ph803 = "PJSIP/801-00000000", "PJSIP/803-00000009"
	var b rb
	b.add(0, "CHAN_START", ph801b, "0.1", "0.1", "exten", "803", "context", "from-internal")
	b.add(0, "CHAN_START", ph803, "0.2", "0.1", "exten", "s", "context", "from-internal")
	b.add(2, "BRIDGE_ENTER", ph803, "0.2", "0.1", "extra", bridgeExtra("b0", false))
	b.add(2, "BRIDGE_ENTER", ph801b, "0.1", "0.1", "extra", bridgeExtra("b0", false), "peer", ph803)
	inbound(&b)
	b.add(10, "CHAN_START", ph801, "1.2", "1.1", "exten", "s", "context", "from-internal")
	b.add(12, "BRIDGE_ENTER", ph801, "1.2", "1.1", "extra", bridgeExtra("b1", false))
	b.add(12, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false), "peer", ph801)
	// 803 is swapped into the customer's bridge b1; the customer (1.1) now carries 0.1.
	b.add(20, "BRIDGE_EXIT", ph803, "0.2", "0.1", "extra", bridgeExtra("b0", false))
	b.add(20, "BRIDGE_EXIT", ph801, "1.2", "1.1", "extra", bridgeExtra("b1", false)) // swapped out
	b.add(20, "BRIDGE_ENTER", ph803, "0.2", "0.1", "extra", bridgeExtra("b1", false), "peer", trunk)
	b.add(20, "ATTENDEDTRANSFER", ph801, "1.2", "1.1", "extra", `{"bridge1_id":"b1","bridge2_id":"b0"}`)
	b.add(20, "HANGUP", ph801, "1.2", "1.1", "extra", hangupExtra(""))
	b.add(20, "CHAN_END", ph801, "1.2", "1.1")
	b.add(20, "LINKEDID_END", ph801, "1.2", "1.1")
	b.add(20, "BRIDGE_EXIT", ph801b, "0.1", "0.1", "extra", bridgeExtra("b0", false))
	b.add(20, "HANGUP", ph801b, "0.1", "0.1", "extra", hangupExtra("ANSWER"))
	b.add(20, "CHAN_END", ph801b, "0.1", "0.1")
	// A minute of conversation 803 <-> customer, then the customer hangs up.
	b.add(80, "BRIDGE_EXIT", trunk, "1.1", "0.1", "extra", bridgeExtra("b1", false))
	b.add(80, "HANGUP", trunk, "1.1", "0.1", "extra", hangupExtra("ANSWER"))
	b.add(80, "CHAN_END", trunk, "1.1", "0.1")
	b.add(80, "BRIDGE_EXIT", ph803, "0.2", "0.1", "extra", bridgeExtra("b1", false))
	b.add(80, "HANGUP", ph803, "0.2", "0.1", "extra", hangupExtra(""))
	b.add(80, "CHAN_END", ph803, "0.2", "0.1")
	b.add(80, "LINKEDID_END", ph803, "0.2", "0.1")

	return b.rows
}

// phoneMovedRows: customer call 1.1 answered by 802; 802 consults 801 who had called 802
// (internal call 2.1); the transfer moves 801's phone (2.1's originator and answered party)
// into the customer's bridge under the older linkedid 1.1. LINKEDID_END(2.1) at second 20;
// the customer and 801 hang up at second end.
func phoneMovedRows(end int) []celbridge.CELRow {
	const ph802b = "PJSIP/802-00000007"
	var b rb
	inbound(&b)
	b.add(0, "CHAN_START", ph802, "1.2", "1.1", "exten", "s", "context", "from-internal")
	b.add(2, "BRIDGE_ENTER", ph802, "1.2", "1.1", "extra", bridgeExtra("b1", false))
	b.add(2, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false), "peer", ph802)
	b.add(10, "CHAN_START", ph801, "2.1", "2.1", "exten", "802", "context", "from-internal")
	b.add(10, "CHAN_START", ph802b, "2.2", "2.1", "exten", "s", "context", "from-internal")
	b.add(12, "BRIDGE_ENTER", ph802b, "2.2", "2.1", "extra", bridgeExtra("b2", false))
	b.add(12, "BRIDGE_ENTER", ph801, "2.1", "2.1", "extra", bridgeExtra("b2", false), "peer", ph802b)
	b.add(20, "BRIDGE_EXIT", ph801, "2.1", "2.1", "extra", bridgeExtra("b2", false))
	b.add(20, "BRIDGE_EXIT", ph802, "1.2", "1.1", "extra", bridgeExtra("b1", false))
	b.add(20, "BRIDGE_ENTER", ph801, "2.1", "1.1", "extra", bridgeExtra("b1", false), "peer", trunk)
	b.add(20, "ATTENDEDTRANSFER", ph802, "1.2", "1.1", "extra", `{"bridge1_id":"b1","bridge2_id":"b2"}`)
	b.add(20, "HANGUP", ph802, "1.2", "1.1", "extra", hangupExtra(""))
	b.add(20, "CHAN_END", ph802, "1.2", "1.1")
	b.add(20, "BRIDGE_EXIT", ph802b, "2.2", "2.1", "extra", bridgeExtra("b2", false))
	b.add(20, "HANGUP", ph802b, "2.2", "2.1", "extra", hangupExtra(""))
	b.add(20, "CHAN_END", ph802b, "2.2", "2.1")
	b.add(20, "LINKEDID_END", ph802b, "2.2", "2.1")
	b.add(end, "BRIDGE_EXIT", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false))
	b.add(end, "HANGUP", trunk, "1.1", "1.1", "extra", hangupExtra("ANSWER"))
	b.add(end, "CHAN_END", trunk, "1.1", "1.1")
	b.add(end, "BRIDGE_EXIT", ph801, "2.1", "1.1", "extra", bridgeExtra("b1", false))
	b.add(end, "HANGUP", ph801, "2.1", "1.1", "extra", hangupExtra(""))
	b.add(end, "CHAN_END", ph801, "2.1", "1.1")
	b.add(end, "LINKEDID_END", ph801, "2.1", "1.1")
	return b.rows
}

// pickedUpMovedRows: customer call 1.1 answered by 803; 801 calls 802 (internal call 2.1)
// and 803 picks it up; 803 then transfers 801 to the customer: 801's phone moves into the
// customer's bridge under 1.1. The customer and 801 hang up at second end.
func pickedUpMovedRows(end int) []celbridge.CELRow {
	const ph803a, ph802b, ph803b = "PJSIP/803-00000004", "PJSIP/802-00000007", "PJSIP/803-00000008"
	var b rb
	inbound(&b)
	b.add(0, "CHAN_START", ph803a, "1.2", "1.1", "exten", "s", "context", "from-internal")
	b.add(2, "BRIDGE_ENTER", ph803a, "1.2", "1.1", "extra", bridgeExtra("b1", false))
	b.add(2, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false), "peer", ph803a)
	// 801 calls 802; 803 (who has the customer on hold) picks it up.
	b.add(10, "CHAN_START", ph801, "2.1", "2.1", "exten", "802", "context", "from-internal")
	b.add(10, "CHAN_START", ph802b, "2.2", "2.1", "exten", "s", "context", "from-internal")
	b.add(12, "PICKUP", ph802b, "2.2", "2.1", "extra", `{"pickup_channel":"`+ph803b+`","pickup_channel_uniqueid":"2.3"}`)
	b.add(12, "BRIDGE_ENTER", ph803b, "2.3", "2.1", "extra", bridgeExtra("b2", false))
	b.add(12, "BRIDGE_ENTER", ph801, "2.1", "2.1", "extra", bridgeExtra("b2", false), "peer", ph803b)
	b.add(12, "HANGUP", ph802b, "2.2", "2.1", "extra", hangupExtra(""))
	b.add(12, "CHAN_END", ph802b, "2.2", "2.1")
	// 803 transfers 801 to the customer: 801 moves into the customer's bridge.
	b.add(20, "BRIDGE_EXIT", ph801, "2.1", "2.1", "extra", bridgeExtra("b2", false))
	b.add(20, "BRIDGE_EXIT", ph803a, "1.2", "1.1", "extra", bridgeExtra("b1", false)) // swapped out
	b.add(20, "BRIDGE_ENTER", ph801, "2.1", "1.1", "extra", bridgeExtra("b1", false), "peer", trunk)
	b.add(20, "ATTENDEDTRANSFER", ph803a, "1.2", "1.1", "extra", `{"bridge1_id":"b1","bridge2_id":"b2"}`)
	b.add(20, "HANGUP", ph803a, "1.2", "1.1", "extra", hangupExtra(""))
	b.add(20, "CHAN_END", ph803a, "1.2", "1.1")
	b.add(20, "BRIDGE_EXIT", ph803b, "2.3", "2.1", "extra", bridgeExtra("b2", false))
	b.add(20, "HANGUP", ph803b, "2.3", "2.1", "extra", hangupExtra(""))
	b.add(20, "CHAN_END", ph803b, "2.3", "2.1")
	b.add(20, "LINKEDID_END", ph803b, "2.3", "2.1")
	b.add(end, "BRIDGE_EXIT", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false))
	b.add(end, "HANGUP", trunk, "1.1", "1.1", "extra", hangupExtra("ANSWER"))
	b.add(end, "CHAN_END", trunk, "1.1", "1.1")
	b.add(end, "BRIDGE_EXIT", ph801, "2.1", "1.1", "extra", bridgeExtra("b1", false))
	b.add(end, "HANGUP", ph801, "2.1", "1.1", "extra", hangupExtra(""))
	b.add(end, "CHAN_END", ph801, "2.1", "1.1")
	b.add(end, "LINKEDID_END", ph801, "2.1", "1.1")

	return b.rows
}
