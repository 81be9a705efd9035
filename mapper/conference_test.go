package mapper

// Conferences and parking lots: bridges that hold many calls, where a phone joining is not a
// transfer.

import (
	"strconv"
	"strings"
	"testing"

	"github.com/celbridge/celbridge"
)

// confRows: n outgoing calls from 801..(800+n) to customers, each answered, then every
// customer and agent joins one (non-basic, ConfBridge) bridge; each BRIDGE_ENTER's peer lists
// the channels already there, as Asterisk logs it.
func confRows(n int) []celbridge.CELRow {
	var b rb
	var inConf []string
	for k := 0; k < n; k++ {
		lid := strconv.Itoa(100+k) + ".1"
		ph := "PJSIP/" + strconv.Itoa(800+k) + "-" + strconv.FormatInt(int64(0x1000+2*k), 16)
		tr := "PJSIP/kyivstar-" + strconv.FormatInt(int64(0x1001+2*k), 16)
		b.add(0, "CHAN_START", ph, lid, lid, "exten", "067000"+strconv.Itoa(1000+k), "context", "from-internal")
		b.add(0, "CHAN_START", tr, strconv.Itoa(100+k)+".2", lid, "exten", "s", "context", "from-pstn")
		b.add(1, "ANSWER", tr, strconv.Itoa(100+k)+".2", lid)
		b.add(1, "BRIDGE_ENTER", tr, strconv.Itoa(100+k)+".2", lid, "extra", bridgeExtra("b"+lid, false))
		b.add(1, "BRIDGE_ENTER", ph, lid, lid, "extra", bridgeExtra("b"+lid, false), "peer", tr)
	}
	for k := 0; k < n; k++ {
		lid := strconv.Itoa(100+k) + ".1"
		ph := "PJSIP/" + strconv.Itoa(800+k) + "-" + strconv.FormatInt(int64(0x1000+2*k), 16)
		tr := "PJSIP/kyivstar-" + strconv.FormatInt(int64(0x1001+2*k), 16)
		b.add(5, "BRIDGE_EXIT", tr, strconv.Itoa(100+k)+".2", lid, "extra", bridgeExtra("b"+lid, false))
		b.add(5, "BRIDGE_ENTER", tr, strconv.Itoa(100+k)+".2", lid, "extra", bridgeExtra("conf", false), "peer", strings.Join(inConf, ","))
		inConf = append(inConf, tr)
		b.add(5, "BRIDGE_EXIT", ph, lid, lid, "extra", bridgeExtra("b"+lid, false))
		b.add(5, "BRIDGE_ENTER", ph, lid, lid, "extra", bridgeExtra("conf", false), "peer", strings.Join(inConf, ","))
		inConf = append(inConf, ph)
	}
	return b.rows
}

// BenchmarkFeed_Conference: 50 answered outgoing calls whose customers and agents all join
// one conference bridge; each BRIDGE_ENTER's peer names every channel already there, so
// joinedParty looks up many parties per row.
func BenchmarkFeed_Conference(b *testing.B) {
	rows := confRows(50)
	b.ReportAllocs()
	for b.Loop() {
		m := New(DefaultConfig())
		for _, r := range rows {
			m.Feed(r)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(rows)), "ns/row")
}

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

// confCustomerFirstRows: a DID routed to conference 8000: the customer (1.1) enters first and
// waits; 801 dials 8000 (call 3.1) 10 s later and talks with the customer until second 60.
func confCustomerFirstRows() []celbridge.CELRow {
	const p801 = "PJSIP/801-00000010"
	var b rb
	b.add(0, "CHAN_START", trunk, "1.1", "1.1", "exten", "0443334000", "context", "from-pstn", "cid", "0670000001")
	b.add(0, "ANSWER", trunk, "1.1", "1.1", "exten", "8000", "context", "ext-meetme", "app", "Answer")
	b.add(1, "BRIDGE_ENTER", trunk, "1.1", "1.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra())
	b.add(10, "CHAN_START", p801, "3.1", "3.1", "exten", "8000", "context", "from-internal")
	b.add(10, "ANSWER", p801, "3.1", "3.1", "exten", "8000", "context", "ext-meetme", "app", "Answer")
	b.add(11, "BRIDGE_ENTER", p801, "3.1", "3.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra(), "peer", trunk)
	for _, c := range [][2]string{{trunk, "1.1"}, {p801, "3.1"}} {
		b.add(60, "BRIDGE_EXIT", c[0], c[1], c[1], "app", "ConfBridge", "extra", confExtra())
		b.add(60, "HANGUP", c[0], c[1], c[1], "extra", hangupExtra(""))
		b.add(60, "CHAN_END", c[0], c[1], c[1])
		b.add(60, "LINKEDID_END", c[0], c[1], c[1])
	}
	return b.rows
}

// TestConferenceAnsweredWhoeverEntersFirst: a DID routed to a conference is answered whether
// 801 was in the room first (confDIDRows) or the customer was (confCustomerFirstRows).
func TestConferenceAnsweredWhoeverEntersFirst(t *testing.T) {
	first := ofCall("1.1", briefAll(DefaultConfig(), confDIDRows()))
	second := ofCall("1.1", briefAll(DefaultConfig(), confCustomerFirstRows()))
	if first[len(first)-1][len("1.1 hangupTheCall   "):][:6] != second[len(second)-1][len("1.1 hangupTheCall   "):][:6] {
		t.Errorf("same conference, different outcome by join order:\n801 first:      %q\ncustomer first: %q", first, second)
	}
}

// TestTransfer_IntoConferenceIsNoTransferTo: the customer (1.1, answered by 801) is
// blind-transferred into conference 8000, where colleagues 802 and 803 already are. Nobody in particular took the customer over, as with a
// colleague joining the customer's conference (TestTransfer_ConferenceJoinIsNoTransfer).
func TestTransfer_IntoConferenceIsNoTransferTo(t *testing.T) {
	const p802, p803 = "PJSIP/802-00000010", "PJSIP/803-00000011"
	var b rb
	b.add(0, "CHAN_START", p802, "0.5", "0.5", "exten", "8000", "context", "from-internal")
	b.add(0, "ANSWER", p802, "0.5", "0.5", "exten", "8000", "context", "ext-meetme", "app", "Answer")
	b.add(1, "BRIDGE_ENTER", p802, "0.5", "0.5", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra())
	b.add(1, "CHAN_START", p803, "0.6", "0.6", "exten", "8000", "context", "from-internal")
	b.add(1, "ANSWER", p803, "0.6", "0.6", "exten", "8000", "context", "ext-meetme", "app", "Answer")
	b.add(1, "BRIDGE_ENTER", p803, "0.6", "0.6", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra(), "peer", p802)
	inbound(&b)
	b.add(2, "CHAN_START", ph801, "1.2", "1.1", "exten", "s", "context", "from-internal")
	b.add(4, "BRIDGE_ENTER", ph801, "1.2", "1.1", "extra", bridgeExtra("b1", false))
	b.add(4, "BRIDGE_ENTER", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false), "peer", ph801)
	b.add(10, "BLINDTRANSFER", ph801, "1.2", "1.1", "extra", `{"extension":"8000","context":"from-internal-xfer","bridge_id":"b1","transferee_channel_name":"`+trunk+`","transferee_channel_uniqueid":"1.1"}`)
	b.add(10, "BRIDGE_EXIT", ph801, "1.2", "1.1", "extra", bridgeExtra("b1", false))
	b.add(10, "HANGUP", ph801, "1.2", "1.1", "extra", hangupExtra(""))
	b.add(10, "CHAN_END", ph801, "1.2", "1.1")
	b.add(10, "BRIDGE_EXIT", trunk, "1.1", "1.1", "extra", bridgeExtra("b1", false))
	b.add(11, "BRIDGE_ENTER", trunk, "1.1", "1.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra(), "peer", p802+","+p803)
	b.add(60, "BRIDGE_EXIT", trunk, "1.1", "1.1", "app", "ConfBridge", "extra", confExtra())
	b.add(60, "HANGUP", trunk, "1.1", "1.1", "extra", hangupExtra(""))
	b.add(60, "CHAN_END", trunk, "1.1", "1.1")
	b.add(60, "LINKEDID_END", trunk, "1.1", "1.1")
	cfg := DefaultConfig()
	cfg.SendTransfers = true
	got, _ := replayLive(cfg, b.rows)
	for _, l := range ofCall("1.1", got) {
		if strings.Contains(l, "transferredTheCall") {
			t.Errorf("a conference participant reported as the transfer target:\n%s", strings.Join(ofCall("1.1", got), "\n"))
		}
	}
}

// TestConferenceTwoCustomersNoEmployee: DID routed to conference 8000. Customer A
// (1.1) waits in the room; customer B (2.1) joins; no employee ever joins. B's own
// BRIDGE_ENTER names A's trunk in peer: another call's customer is not "the outside number
// the call was forwarded to". Neither talked to an employee: neither is answered.
func TestConferenceTwoCustomersNoEmployee(t *testing.T) {
	const trA, trB = "PJSIP/kyivstar-00000001", "PJSIP/kyivstar-00000002"
	var b rb
	b.add(0, "CHAN_START", trA, "1.1", "1.1", "exten", "0443334000", "context", "from-pstn", "cid", "0670000001")
	b.add(0, "ANSWER", trA, "1.1", "1.1", "exten", "8000", "context", "ext-meetme", "app", "Answer")
	b.add(1, "BRIDGE_ENTER", trA, "1.1", "1.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra())
	b.add(5, "CHAN_START", trB, "2.1", "2.1", "exten", "0443334000", "context", "from-pstn", "cid", "0670000002")
	b.add(5, "ANSWER", trB, "2.1", "2.1", "exten", "8000", "context", "ext-meetme", "app", "Answer")
	b.add(6, "BRIDGE_ENTER", trB, "2.1", "2.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra(), "peer", trA)
	for _, c := range [][2]string{{trA, "1.1"}, {trB, "2.1"}} {
		b.add(60, "BRIDGE_EXIT", c[0], c[1], c[1], "app", "ConfBridge", "extra", confExtra())
		b.add(60, "HANGUP", c[0], c[1], c[1], "extra", hangupExtra(""))
		b.add(60, "CHAN_END", c[0], c[1], c[1])
		b.add(60, "LINKEDID_END", c[0], c[1], c[1])
	}
	got, _ := replayLive(DefaultConfig(), b.rows)
	for _, l := range got {
		if strings.Contains(l, "answeredTheCall") || strings.Contains(l, " ANSWER ") {
			t.Errorf("a customer answered by another customer in a conference:\n%s", strings.Join(got, "\n"))
			break
		}
	}
}

// TestConferenceSecondCustomerAfterEmployeeLeft: 801 answers A in the room (801 first),
// 801 leaves at 20; B joins at 30 with only A in the room, 802 joins at 40. B must be
// answered by 802 at 40 (billsec 20), not at its own entry by "the outside number".
func TestConferenceSecondCustomerAfterEmployeeLeft(t *testing.T) {
	const trA, trB, p801, p802 = "PJSIP/kyivstar-00000001", "PJSIP/kyivstar-00000002", "PJSIP/801-00000010", "PJSIP/802-00000011"
	var b rb
	b.add(0, "CHAN_START", p801, "3.1", "3.1", "exten", "8000", "context", "from-internal")
	b.add(1, "BRIDGE_ENTER", p801, "3.1", "3.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra())
	b.add(2, "CHAN_START", trA, "1.1", "1.1", "exten", "0443334000", "context", "from-pstn", "cid", "0670000001")
	b.add(3, "BRIDGE_ENTER", trA, "1.1", "1.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra(), "peer", p801)
	b.add(20, "BRIDGE_EXIT", p801, "3.1", "3.1", "app", "ConfBridge", "extra", confExtra())
	b.add(20, "HANGUP", p801, "3.1", "3.1", "extra", hangupExtra(""))
	b.add(20, "CHAN_END", p801, "3.1", "3.1")
	b.add(20, "LINKEDID_END", p801, "3.1", "3.1")
	b.add(29, "CHAN_START", trB, "2.1", "2.1", "exten", "0443334000", "context", "from-pstn", "cid", "0670000002")
	b.add(30, "BRIDGE_ENTER", trB, "2.1", "2.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra(), "peer", trA)
	b.add(39, "CHAN_START", p802, "4.1", "4.1", "exten", "8000", "context", "from-internal")
	b.add(40, "BRIDGE_ENTER", p802, "4.1", "4.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra(), "peer", trA+","+trB)
	for _, c := range [][2]string{{trA, "1.1"}, {trB, "2.1"}, {p802, "4.1"}} {
		b.add(60, "BRIDGE_EXIT", c[0], c[1], c[1], "app", "ConfBridge", "extra", confExtra())
		b.add(60, "HANGUP", c[0], c[1], c[1], "extra", hangupExtra(""))
		b.add(60, "CHAN_END", c[0], c[1], c[1])
		b.add(60, "LINKEDID_END", c[0], c[1], c[1])
	}
	got, _ := replayLive(DefaultConfig(), b.rows)
	want := []string{
		"2.1 receivedTheCall  0670000002  0",
		"2.1 answeredTheCall 802 0670000002  0",
		"2.1 hangupTheCall   ANSWER 20",
	}
	if g := ofCall("2.1", got); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("B:\n got %q\nwant %q\n(all %q)", g, want, got)
	}
}

// TestConferenceTwoWaitingCustomersOnePhone: A and B wait in the room, 801 joins
// (peer names both): both are answered by 801 at its entry.
func TestConferenceTwoWaitingCustomersOnePhone(t *testing.T) {
	const trA, trB, p801 = "PJSIP/kyivstar-00000001", "PJSIP/kyivstar-00000002", "PJSIP/801-00000010"
	var b rb
	b.add(0, "CHAN_START", trA, "1.1", "1.1", "exten", "0443334000", "context", "from-pstn", "cid", "0670000001")
	b.add(1, "BRIDGE_ENTER", trA, "1.1", "1.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra())
	b.add(2, "CHAN_START", trB, "2.1", "2.1", "exten", "0443334000", "context", "from-pstn", "cid", "0670000002")
	b.add(3, "BRIDGE_ENTER", trB, "2.1", "2.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra(), "peer", trA)
	b.add(9, "CHAN_START", p801, "3.1", "3.1", "exten", "8000", "context", "from-internal")
	b.add(10, "BRIDGE_ENTER", p801, "3.1", "3.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra(), "peer", trA+","+trB)
	for _, c := range [][2]string{{trA, "1.1"}, {trB, "2.1"}, {p801, "3.1"}} {
		b.add(60, "HANGUP", c[0], c[1], c[1], "extra", hangupExtra(""))
		b.add(60, "CHAN_END", c[0], c[1], c[1])
		b.add(60, "LINKEDID_END", c[0], c[1], c[1])
	}
	got, _ := replayLive(DefaultConfig(), b.rows)
	for _, lid := range []string{"1.1", "2.1"} {
		g := strings.Join(ofCall(lid, got), "\n")
		if !strings.Contains(g, lid+" answeredTheCall 801") || !strings.Contains(g, "ANSWER 50") {
			t.Errorf("%s:\n%s", lid, g)
		}
	}
}

// TestIVRThenConference: caller answered by the IVR (trunk ANSWER), chooses the
// conference, waits; 801 joins: answered by 801 at its entry.
func TestIVRThenConference(t *testing.T) {
	const p801 = "PJSIP/801-00000010"
	var b rb
	inbound(&b)
	b.add(0, "ANSWER", trunk, "1.1", "1.1", "exten", "s", "context", "ivr-1", "app", "Answer")
	b.add(8, "BRIDGE_ENTER", trunk, "1.1", "1.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra())
	b.add(19, "CHAN_START", p801, "3.1", "3.1", "exten", "8000", "context", "from-internal")
	b.add(20, "BRIDGE_ENTER", p801, "3.1", "3.1", "app", "ConfBridge", "data", "8000,,,", "extra", confExtra(), "peer", trunk)
	for _, c := range [][2]string{{trunk, "1.1"}, {p801, "3.1"}} {
		b.add(60, "HANGUP", c[0], c[1], c[1], "extra", hangupExtra(""))
		b.add(60, "CHAN_END", c[0], c[1], c[1])
		b.add(60, "LINKEDID_END", c[0], c[1], c[1])
	}
	got, _ := replayLive(DefaultConfig(), b.rows)
	want := []string{
		"1.1 receivedTheCall  0670000001  0",
		"1.1 answeredTheCall 801 0670000001  0",
		"1.1 hangupTheCall   ANSWER 40",
	}
	if g := ofCall("1.1", got); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("\n got %q\nwant %q", g, want)
	}
}
