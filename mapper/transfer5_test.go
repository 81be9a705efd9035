package mapper

import (
	"fmt"
	"strings"
	"testing"
)

// c2cPrefix: an AMI/UCP originate of Local/801@from-internal; 801 answers on the desk phone.
func c2cPrefix(b *rb) {
	const l1, l2, ph = "Local/801@from-internal-00000001;1", "Local/801@from-internal-00000001;2", "PJSIP/801-00000005"
	b.add(0, "CHAN_START", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", l2, "5.2", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", ph, "5.3", "5.1", "exten", "s", "context", "from-internal")
	b.add(3, "ANSWER", ph, "5.3", "5.1")
	b.add(3, "BRIDGE_ENTER", ph, "5.3", "5.1", "extra", bridgeExtra("b0", false))
	b.add(3, "BRIDGE_ENTER", l2, "5.2", "5.1", "extra", bridgeExtra("b0", false), "peer", ph)
	b.add(3, "ANSWER", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
}

// TestClickToCallTrunkFailover: FreePBX outbound routes list several trunks; the
// first one fails (CHANUNAVAIL/CONGESTION) and macro-dialout-trunk dials the second. The
// customer answers on the second trunk leg: answered.
func TestClickToCallTrunkFailover(t *testing.T) {
	const l1, l2, ph, tr1, tr2 = "Local/801@from-internal-00000001;1", "Local/801@from-internal-00000001;2", "PJSIP/801-00000005",
		"PJSIP/kyivstar-00000007", "PJSIP/lifecell-00000008"
	var b rb
	c2cPrefix(&b)
	b.add(3, "APP_START", l1, "5.1", "5.1", "context", "macro-dialout-trunk", "app", "Dial", "data", "PJSIP/0670219424@kyivstar,300,T")
	b.add(3, "CHAN_START", tr1, "5.4", "5.1", "exten", "s", "context", "from-pstn")
	b.add(3, "HANGUP", tr1, "5.4", "5.1", "extra", hangupExtra(""))
	b.add(3, "CHAN_END", tr1, "5.4", "5.1")
	b.add(4, "CHAN_START", tr2, "5.5", "5.1", "exten", "s", "context", "from-pstn")
	b.add(10, "ANSWER", tr2, "5.5", "5.1")
	b.add(10, "BRIDGE_ENTER", tr2, "5.5", "5.1", "extra", bridgeExtra("b2", false))
	b.add(10, "BRIDGE_ENTER", l1, "5.1", "5.1", "context", "macro-dialout-trunk", "app", "Dial",
		"data", "PJSIP/0670219424@lifecell,300,T", "extra", bridgeExtra("b2", false), "peer", tr2)
	for _, c := range [][2]string{{tr2, "5.5"}, {l1, "5.1"}, {l2, "5.2"}, {ph, "5.3"}} {
		b.add(40, "HANGUP", c[0], c[1], "5.1", "extra", hangupExtra(""))
		b.add(40, "CHAN_END", c[0], c[1], "5.1")
	}
	b.add(40, "LINKEDID_END", l1, "5.1", "5.1")
	got, _ := replayLive(DefaultConfig(), b.rows)
	want := []string{
		"5.1 receivedTheCall 801 0670219424  0",
		"5.1 answeredTheCall 801 0670219424  0",
		"5.1 hangupTheCall   ANSWER 30",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

// TestClickToCallEarlyAnswerOnEmployeeSide: the employee's side answers the Local;2
// before any phone rings (follow-me / ring group "Announcement", Answer() then Playback in
// ext-findmefollow; the same for an originate of Local/<ringgroup>@… with an announcement).
// Local;1 logs ANSWER at once; the desk phone that rings after it is still the employee's
// side, not an internal call to 801.
func TestClickToCallEarlyAnswerOnEmployeeSide(t *testing.T) {
	const l1, l2, ph, tr = "Local/801@from-internal-00000001;1", "Local/801@from-internal-00000001;2", "PJSIP/801-00000005", "PJSIP/kyivstar-00000007"
	var b rb
	b.add(0, "CHAN_START", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", l2, "5.2", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "ANSWER", l2, "5.2", "5.1", "exten", "801", "context", "ext-findmefollow", "app", "Answer")
	b.add(0, "ANSWER", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(2, "CHAN_START", ph, "5.3", "5.1", "exten", "s", "context", "from-internal")
	b.add(5, "ANSWER", ph, "5.3", "5.1")
	b.add(5, "BRIDGE_ENTER", ph, "5.3", "5.1", "extra", bridgeExtra("b0", false))
	b.add(5, "BRIDGE_ENTER", l2, "5.2", "5.1", "extra", bridgeExtra("b0", false), "peer", ph)
	// (in reality ;1 would already run Dial; the point is the trunk comes after the phone)
	b.add(5, "CHAN_START", tr, "5.4", "5.1", "exten", "s", "context", "from-pstn")
	b.add(10, "ANSWER", tr, "5.4", "5.1")
	b.add(10, "BRIDGE_ENTER", tr, "5.4", "5.1", "extra", bridgeExtra("b2", false))
	b.add(10, "BRIDGE_ENTER", l1, "5.1", "5.1", "context", "macro-dialout-trunk", "app", "Dial",
		"data", "PJSIP/0670219424@kyivstar,300,T", "extra", bridgeExtra("b2", false), "peer", tr)
	for _, c := range [][2]string{{tr, "5.4"}, {l1, "5.1"}, {l2, "5.2"}, {ph, "5.3"}} {
		b.add(40, "HANGUP", c[0], c[1], "5.1", "extra", hangupExtra(""))
		b.add(40, "CHAN_END", c[0], c[1], "5.1")
	}
	b.add(40, "LINKEDID_END", l1, "5.1", "5.1")
	got, _ := replayLive(DefaultConfig(), b.rows)
	if !strings.Contains(strings.Join(got, "\n"), "answeredTheCall") {
		t.Errorf("answered click-to-call not sent as answered:\n got %q", got)
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

// TestWakeUpCallNotSent: hotelwakeup call file Local/801@originate-skipvm running
// AGI(wakeconfirm.php); 801 forwards to a mobile (trunk leg before the answer). Nothing is
// sent, with internal_calls on or off. (Checked: passes.)
func TestWakeUpCallNotSent(t *testing.T) {
	const l1, l2, m1, m2, mob = "Local/801@originate-skipvm-00000001;1", "Local/801@originate-skipvm-00000001;2",
		"Local/0671234567@from-internal-00000003;1", "Local/0671234567@from-internal-00000003;2", "PJSIP/kyivstar-00000007"
	var b rb
	b.add(0, "CHAN_START", l1, "5.1", "5.1", "exten", "801", "context", "originate-skipvm")
	b.add(0, "CHAN_START", l2, "5.2", "5.1", "exten", "801", "context", "originate-skipvm")
	b.add(0, "CHAN_START", m1, "5.3", "5.1", "exten", "0671234567", "context", "from-internal")
	b.add(0, "CHAN_START", m2, "5.4", "5.1", "exten", "0671234567", "context", "from-internal")
	b.add(0, "CHAN_START", mob, "5.5", "5.1", "exten", "s", "context", "from-pstn")
	b.add(5, "ANSWER", mob, "5.5", "5.1")
	b.add(5, "BRIDGE_ENTER", mob, "5.5", "5.1", "extra", bridgeExtra("b1", false))
	b.add(5, "BRIDGE_ENTER", m2, "5.4", "5.1", "extra", bridgeExtra("b1", false), "peer", mob)
	b.add(5, "BRIDGE_ENTER", m1, "5.3", "5.1", "extra", bridgeExtra("b0", false))
	b.add(5, "BRIDGE_ENTER", l2, "5.2", "5.1", "extra", bridgeExtra("b0", false), "peer", m1)
	b.add(5, "ANSWER", l1, "5.1", "5.1", "exten", "801", "context", "originate-skipvm")
	b.add(5, "APP_START", l1, "5.1", "5.1", "app", "AGI", "data", "wakeconfirm.php")
	for _, c := range [][2]string{{mob, "5.5"}, {m2, "5.4"}, {m1, "5.3"}, {l2, "5.2"}, {l1, "5.1"}} {
		b.add(30, "HANGUP", c[0], c[1], "5.1", "extra", hangupExtra(""))
		b.add(30, "CHAN_END", c[0], c[1], "5.1")
	}
	b.add(30, "LINKEDID_END", l1, "5.1", "5.1")
	for _, internal := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.InternalCalls = internal
		if got, _ := replayLive(cfg, b.rows); len(got) != 0 {
			t.Errorf("internal_calls=%v: wake-up call sent: %q", internal, got)
		}
	}
}
