package mapper

// Transfers across linkedids: a caller moved into an older call (the oldest linkedid wins in a
// basic bridge), a phone of another call joining the caller's bridge, pickups and internal
// calls around them. Rows are built from the shapes of the real captures (s07b, s07c) and
// cel-semantics.md; each test states the flow it pins.

import (
	"fmt"
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

// feedLive feeds rows with an Expire at each row's time (as the poller does every second) and
// returns the events in brief form plus the mapper.
func feedLive(cfg Config, rows []celbridge.CELRow) ([]string, *Mapper) {
	m := New(cfg)
	var out []string
	for _, r := range rows {
		evs, _ := m.Feed(r)
		evs = append(evs, m.Expire(r.EventTime)...)
		for _, e := range evs {
			out = append(out, brief(e))
		}
	}
	return out, m
}

// TestTransfer_InternalCallPhoneMovedClosesOnTime: an internal call (internal_calls = true)
// whose phone moves into a customer's call closes at its LINKEDID_END: its phone is no
// outside party, so its later rows are not followed and waiting for them would keep it open
// until max_call_age (12 h late, the checkpoint held back).
func TestTransfer_InternalCallPhoneMovedClosesOnTime(t *testing.T) {
	cfg := DefaultConfig()
	cfg.InternalCalls = true
	got, m := feedLive(cfg, phoneMovedRows(3620))
	if g := ofCall("2.1", got); len(g) == 0 || !strings.Contains(g[len(g)-1], "hangupTheCall") {
		t.Errorf("internal call 2.1 has no hangupTheCall after all rows and Expire: %q", g)
	}
	if id, ok := m.OldestOpen(); ok {
		t.Errorf("after the last row %d calls are still open, oldest first row %d (checkpoint held back)", m.OpenCalls(), id)
	}
	// Expire an hour later still does not close it (only max_call_age 12h would).
	evs := m.Expire(t0.Add(3620*time.Second + time.Hour))
	if m.OpenCalls() != 0 {
		t.Errorf("an hour after the last row: %d calls open, events %v", m.OpenCalls(), evs)
	}
}

// TestTransfer_PickedUpInternalCallClosesOnTime: the same with internal_calls = false and
// the internal call answered by a PICKUP: nothing is sent, and it must not stay open either.
func TestTransfer_PickedUpInternalCallClosesOnTime(t *testing.T) {
	_, m := feedLive(DefaultConfig(), pickedUpMovedRows(3620))
	m.Expire(t0.Add(3620*time.Second + time.Hour))
	if id, ok := m.OldestOpen(); ok {
		t.Errorf("an hour after the last row: %d calls open, oldest first row %d (want none: the checkpoint is held back)", m.OpenCalls(), id)
	}
}

// TestTransfer_BackfillFollowsJoinedParty: a backfill reads past its range only the rows
// Mapper.Wants (poller.Backfill); the BRIDGE_ENTER of the older call whose peer names the
// open call's caller must be one of them, or the transfer to 803 is lost.
func TestTransfer_BackfillFollowsJoinedParty(t *testing.T) {
	rows := targetMovedRows()
	cfg := DefaultConfig()
	cfg.SendTransfers = true
	var from, to int64
	for _, r := range rows {
		if r.LinkedID == "1.1" && from == 0 {
			from = r.ID
		}
		if r.EventType == "BRIDGE_ENTER" && r.ChanName == trunk {
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

// TestTransfer_SecondTransferInCallersBridge: 803, who joined the caller's bridge from the
// older call 0.1, passes the caller on to 804 in the same bridge: transferredTheCall 804 too
// (803's leaving is a row of the other call, so it must not stay "talking" to the caller).
func TestTransfer_SecondTransferInCallersBridge(t *testing.T) {
	const ph803, ph803c, ph804 = "PJSIP/803-00000009", "PJSIP/803-0000000c", "PJSIP/804-0000000d"
	rows := targetMovedRows()
	// cut the final hang-up (the rows at second 80) and continue.
	var b rb
	for _, r := range rows {
		if r.EventTime.Before(t0.Add(80 * time.Second)) {
			b.rows = append(b.rows, r)
		}
	}
	// 803 consults 804 (new call 3.1) and completes the transfer: 804 is swapped into b1.
	b.add(40, "CHAN_START", ph803c, "3.1", "3.1", "exten", "804", "context", "from-internal")
	b.add(40, "CHAN_START", ph804, "3.2", "3.1", "exten", "s", "context", "from-internal")
	b.add(42, "BRIDGE_ENTER", ph804, "3.2", "3.1", "extra", bridgeExtra("b3", false))
	b.add(42, "BRIDGE_ENTER", ph803c, "3.1", "3.1", "extra", bridgeExtra("b3", false), "peer", ph804)
	b.add(50, "BRIDGE_EXIT", ph804, "3.2", "3.1", "extra", bridgeExtra("b3", false))
	b.add(50, "BRIDGE_EXIT", ph803, "0.2", "0.1", "extra", bridgeExtra("b1", false))
	b.add(50, "BRIDGE_ENTER", ph804, "3.2", "0.1", "extra", bridgeExtra("b1", false), "peer", trunk)
	b.add(50, "ATTENDEDTRANSFER", ph803, "0.2", "0.1", "extra", `{"bridge1_id":"b1","bridge2_id":"b3"}`)
	b.add(50, "HANGUP", ph803, "0.2", "0.1", "extra", hangupExtra(""))
	b.add(50, "CHAN_END", ph803, "0.2", "0.1")
	b.add(50, "BRIDGE_EXIT", ph803c, "3.1", "3.1", "extra", bridgeExtra("b3", false))
	b.add(50, "HANGUP", ph803c, "3.1", "3.1", "extra", hangupExtra(""))
	b.add(50, "CHAN_END", ph803c, "3.1", "3.1")
	b.add(50, "LINKEDID_END", ph803c, "3.1", "3.1")
	b.add(80, "BRIDGE_EXIT", trunk, "1.1", "0.1", "extra", bridgeExtra("b1", false))
	b.add(80, "HANGUP", trunk, "1.1", "0.1", "extra", hangupExtra("ANSWER"))
	b.add(80, "CHAN_END", trunk, "1.1", "0.1")
	b.add(80, "BRIDGE_EXIT", ph804, "3.2", "0.1", "extra", bridgeExtra("b1", false))
	b.add(80, "HANGUP", ph804, "3.2", "0.1", "extra", hangupExtra(""))
	b.add(80, "CHAN_END", ph804, "3.2", "0.1")
	b.add(80, "LINKEDID_END", ph804, "3.2", "0.1")
	for i := range b.rows {
		b.rows[i].ID = int64(i + 1)
	}
	cfg := DefaultConfig()
	cfg.SendTransfers = true
	got, _ := replayLive(cfg, b.rows)
	want := []string{
		"1.1 receivedTheCall 801 0670000001  0",
		"1.1 answeredTheCall 801 0670000001  0",
		"1.1 transferredTheCall 803   0",
		"1.1 transferredTheCall 804   0",
		"1.1 hangupTheCall   TRANSFER 68",
	}
	if g := ofCall("1.1", got); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("\n got %q\nwant %q", g, want)
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

func briefAll(cfg Config, rows []celbridge.CELRow) []string {
	var got []string
	for _, e := range MapAll(cfg, rows) {
		got = append(got, brief(e))
	}
	return got
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

// TestTransfer_TargetMovedSystemName: the same with whole calls: internal call 801->803
// (pbx1-…134.99) is older than the customer's call (pbx1-…134.100, same second); 801
// attended-transfers the customer to 803, whose phone is swapped into the customer's bridge
// (as in TestTransfer_TargetMovedIntoCallersBridge).
func TestTransfer_TargetMovedSystemName(t *testing.T) {
	rows := targetMovedRows()
	ren := map[string]string{"0.1": "pbx1-1795653134.99", "0.2": "pbx1-1795653134.101", "1.1": "pbx1-1795653134.100", "1.2": "pbx1-1795653134.102"}
	for i := range rows {
		rows[i].UniqueID, rows[i].LinkedID = ren[rows[i].UniqueID], ren[rows[i].LinkedID]
	}
	cfg := DefaultConfig()
	cfg.SendTransfers = true
	got, _ := replayLive(cfg, rows)
	g := ofCall("pbx1-1795653134.100", got)
	if !strings.Contains(strings.Join(g, "\n"), "transferredTheCall 803") {
		t.Errorf("transfer to 803 lost:\n%s", strings.Join(g, "\n"))
	}
}

// TestPartyNamesMemory: thousands of unanswered incoming calls (IVR hang-ups) leave
// nothing in the indexes, closed by LINKEDID_END or by Expire.
func TestPartyNamesMemory(t *testing.T) {
	var b rb
	for i := 0; i < 2000; i++ {
		lid := fmt.Sprintf("%d.%d", 1795650000+i, i)
		name := fmt.Sprintf("PJSIP/kyivstar-%08x", i)
		b.add(i, "CHAN_START", name, lid, lid, "exten", "0443334000", "context", "from-pstn", "cid", "0670000001")
		b.add(i, "HANGUP", name, lid, lid, "extra", hangupExtra(""))
		b.add(i, "CHAN_END", name, lid, lid)
		if i%2 == 0 {
			b.add(i, "LINKEDID_END", name, lid, lid)
		}
	}
	_, m := replayLive(DefaultConfig(), b.rows)
	if len(m.partyNames) != 0 || len(m.parties) != 0 || len(m.calls) != 0 {
		t.Errorf("left: partyNames %d parties %d calls %d", len(m.partyNames), len(m.parties), len(m.calls))
	}
}

// Check for (3): incoming call, follow-me of 801 to a mobile through Local helpers; the
// mobile answers, the Local pairs are optimized away (LOCAL_OPTIMIZE swaps the trunk leg
// into the caller's bridge). The trunk leg's CHAN_START is of the same linkedid and comes
// first, so it is no placeholder: answered at the mobile's answer.
func TestFollowMeMobileLocalsOptimized(t *testing.T) {
	const f1, f2, m1, m2, mob = "Local/FMGL-801@from-internal-00000002;1", "Local/FMGL-801@from-internal-00000002;2",
		"Local/0671234567@from-internal-00000003;1", "Local/0671234567@from-internal-00000003;2", "PJSIP/kyivstar-00000009"
	var b rb
	inbound(&b)
	b.add(0, "CHAN_START", f1, "1.2", "1.1", "exten", "FMGL-801", "context", "from-internal")
	b.add(0, "CHAN_START", f2, "1.3", "1.1", "exten", "FMGL-801", "context", "from-internal")
	b.add(0, "CHAN_START", m1, "1.4", "1.1", "exten", "0671234567", "context", "from-internal")
	b.add(0, "CHAN_START", m2, "1.5", "1.1", "exten", "0671234567", "context", "from-internal")
	b.add(0, "CHAN_START", mob, "1.6", "1.1", "exten", "s", "context", "from-pstn")
	b.add(5, "ANSWER", mob, "1.6", "1.1")
	b.add(5, "BRIDGE_ENTER", mob, "1.6", "1.1", "extra", bridgeExtra("bm", false))
	b.add(5, "BRIDGE_ENTER", m2, "1.5", "1.1", "extra", bridgeExtra("bm", false), "peer", mob)
	b.add(5, "ANSWER", m1, "1.4", "1.1")
	b.add(5, "BRIDGE_ENTER", m1, "1.4", "1.1", "extra", bridgeExtra("b0", false))
	b.add(5, "BRIDGE_ENTER", f2, "1.3", "1.1", "extra", bridgeExtra("b0", false), "peer", m1)
	b.add(5, "ANSWER", f1, "1.2", "1.1")
	b.add(5, "ANSWER", trunk, "1.1", "1.1")
	b.add(5, "BRIDGE_ENTER", f1, "1.2", "1.1", "extra", bridgeExtra("b1", false))
	b.add(5, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false), "peer", f1)
	// optimization: both pairs go, the mobile leg ends up in the caller's bridge
	b.add(5, "BRIDGE_EXIT", mob, "1.6", "1.1", "extra", bridgeExtra("bm", false))
	b.add(5, "BRIDGE_EXIT", f1, "1.2", "1.1", "extra", bridgeExtra("b1", false))
	b.add(5, "BRIDGE_ENTER", mob, "1.6", "1.1", "extra", bridgeExtra("b1", false), "peer", trunk)
	end(&b, 35, [2]string{mob, "1.6"}, [2]string{m2, "1.5"}, [2]string{m1, "1.4"}, [2]string{f2, "1.3"}, [2]string{f1, "1.2"}, [2]string{trunk, "1.1"})
	got, _ := replayLive(DefaultConfig(), b.rows)
	want := []string{
		"1.1 receivedTheCall 801 0670000001  0",
		"1.1 answeredTheCall 801 0670000001  0",
		"1.1 hangupTheCall   ANSWER 30",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

// Check for (3): incoming call forwarded by the dialplan straight to a trunk (Dial on the
// caller's channel, no Local), the caller entering the bridge first (empty peer) and the
// outside leg second with peer = caller; and the usual order (callee first).
func TestForwardDirectBothBridgeOrders(t *testing.T) {
	const mob = "PJSIP/kyivstar-00000009"
	for _, callerFirst := range []bool{false, true} {
		var b rb
		inbound(&b)
		b.add(0, "APP_START", trunk, "1.1", "1.1", "context", "macro-dialout-trunk", "app", "Dial", "data", "PJSIP/0671234567@kyivstar,300")
		b.add(0, "CHAN_START", mob, "1.6", "1.1", "exten", "s", "context", "from-pstn")
		b.add(5, "ANSWER", mob, "1.6", "1.1")
		b.add(5, "ANSWER", trunk, "1.1", "1.1")
		if callerFirst {
			b.add(5, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false))
			b.add(5, "BRIDGE_ENTER", mob, "1.6", "1.1", "extra", bridgeExtra("b1", false), "peer", trunk)
		} else {
			b.add(5, "BRIDGE_ENTER", mob, "1.6", "1.1", "extra", bridgeExtra("b1", false))
			b.add(5, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false), "peer", mob)
		}
		end(&b, 35, [2]string{mob, "1.6"}, [2]string{trunk, "1.1"})
		got, _ := replayLive(DefaultConfig(), b.rows)
		want := []string{
			"1.1 receivedTheCall  0670000001  0",
			"1.1 answeredTheCall  0670000001  0",
			"1.1 hangupTheCall   ANSWER 30",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("callerFirst=%v:\n got %q\nwant %q", callerFirst, got, want)
		}
	}
}
