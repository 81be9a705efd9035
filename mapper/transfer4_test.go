package mapper

import (
	"strings"
	"testing"

	"github.com/celbridge/celbridge"
)

// c2cMobileRows: click-to-call from 801 (Local/801@from-internal originate) whose follow-me
// (FMGL-801: desk phone 801 and mobile 0671234567#) rings both legs. mobileFirst puts the
// mobile legs before the desk phone in the Dial list (rows come in list order).
// answerOnMobile: the employee answers on the mobile, the desk phone is cancelled.
func c2cMobileRows(mobileFirst, answerOnMobile bool) []celbridge.CELRow {
	const l1, l2, f1, f2, ph, m1, m2, mob, tr = "Local/801@from-internal-00000001;1", "Local/801@from-internal-00000001;2",
		"Local/FMGL-801@from-internal-00000002;1", "Local/FMGL-801@from-internal-00000002;2", "PJSIP/801-00000005",
		"Local/0671234567@from-internal-00000003;1", "Local/0671234567@from-internal-00000003;2", "PJSIP/kyivstar-00000007", "PJSIP/kyivstar-00000008"
	var b rb
	b.add(0, "CHAN_START", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", l2, "5.2", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", f1, "5.6", "5.1", "exten", "FMGL-801", "context", "from-internal")
	b.add(0, "CHAN_START", f2, "5.7", "5.1", "exten", "FMGL-801", "context", "from-internal")
	desk := func() { b.add(0, "CHAN_START", ph, "5.3", "5.1", "exten", "s", "context", "from-internal") }
	mobile := func() {
		b.add(0, "CHAN_START", m1, "5.8", "5.1", "exten", "0671234567", "context", "from-internal")
		b.add(0, "CHAN_START", m2, "5.9", "5.1", "exten", "0671234567", "context", "from-internal")
		b.add(0, "CHAN_START", mob, "5.10", "5.1", "exten", "s", "context", "from-pstn")
	}
	if mobileFirst {
		mobile()
		desk()
	} else {
		desk()
		mobile()
	}
	live := [][2]string{{tr, "5.4"}, {l1, "5.1"}, {l2, "5.2"}, {f1, "5.6"}, {f2, "5.7"}}
	if answerOnMobile {
		b.add(3, "ANSWER", mob, "5.10", "5.1")
		b.add(3, "HANGUP", ph, "5.3", "5.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":""}`)
		b.add(3, "CHAN_END", ph, "5.3", "5.1")
		b.add(3, "BRIDGE_ENTER", mob, "5.10", "5.1", "extra", bridgeExtra("bm", false))
		b.add(3, "BRIDGE_ENTER", m2, "5.9", "5.1", "extra", bridgeExtra("bm", false), "peer", mob)
		b.add(3, "ANSWER", m1, "5.8", "5.1")
		b.add(3, "BRIDGE_ENTER", m1, "5.8", "5.1", "extra", bridgeExtra("b0", false))
		b.add(3, "BRIDGE_ENTER", f2, "5.7", "5.1", "extra", bridgeExtra("b0", false), "peer", m1)
		live = append(live, [2]string{m1, "5.8"}, [2]string{m2, "5.9"}, [2]string{mob, "5.10"})
	} else {
		b.add(3, "ANSWER", ph, "5.3", "5.1")
		b.add(3, "HANGUP", mob, "5.10", "5.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":""}`)
		b.add(3, "CHAN_END", mob, "5.10", "5.1")
		b.add(3, "HANGUP", m2, "5.9", "5.1", "extra", hangupExtra("CANCEL"))
		b.add(3, "CHAN_END", m2, "5.9", "5.1")
		b.add(3, "HANGUP", m1, "5.8", "5.1", "extra", hangupExtra(""))
		b.add(3, "CHAN_END", m1, "5.8", "5.1")
		b.add(3, "BRIDGE_ENTER", ph, "5.3", "5.1", "extra", bridgeExtra("b0", false))
		b.add(3, "BRIDGE_ENTER", f2, "5.7", "5.1", "extra", bridgeExtra("b0", false), "peer", ph)
		live = append(live, [2]string{ph, "5.3"})
	}
	b.add(3, "BRIDGE_ENTER", f1, "5.6", "5.1", "extra", bridgeExtra("b1", false))
	b.add(3, "BRIDGE_ENTER", l2, "5.2", "5.1", "extra", bridgeExtra("b1", false), "peer", f1)
	b.add(3, "ANSWER", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(3, "CHAN_START", tr, "5.4", "5.1", "exten", "s", "context", "from-pstn")
	b.add(10, "ANSWER", tr, "5.4", "5.1")
	b.add(10, "BRIDGE_ENTER", tr, "5.4", "5.1", "extra", bridgeExtra("b2", false))
	b.add(10, "BRIDGE_ENTER", l1, "5.1", "5.1", "context", "macro-dialout-trunk", "app", "Dial",
		"data", "PJSIP/0670219424@kyivstar,300,Ttb(func-apply-sipheaders^s^1)", "extra", bridgeExtra("b2", false), "peer", tr)
	for _, c := range live {
		b.add(40, "HANGUP", c[0], c[1], "5.1", "extra", hangupExtra(""))
		b.add(40, "CHAN_END", c[0], c[1], "5.1")
	}
	b.add(40, "LINKEDID_END", l1, "5.1", "5.1")
	return b.rows
}

func briefAll(cfg Config, rows []celbridge.CELRow) []string {
	var got []string
	for _, e := range MapAll(cfg, rows) {
		got = append(got, brief(e))
	}
	return got
}

var c2cWant = []string{
	"5.1 receivedTheCall 801 0670219424  0",
	"5.1 answeredTheCall 801 0670219424  0",
	"5.1 hangupTheCall   ANSWER 30",
}

// TestClickToCallAnsweredOnMobile: the employee answers the click-to-call on the follow-me
// mobile; the customer answers and talks 30 s: answered, though no phone is in the path.
func TestClickToCallAnsweredOnMobile(t *testing.T) {
	got := briefAll(DefaultConfig(), c2cMobileRows(false, true))
	if strings.Join(got, "\n") != strings.Join(c2cWant, "\n") {
		t.Errorf("\n got %q\nwant %q", got, c2cWant)
	}
}

// TestClickToCallFollowMeMobileListedFirst: the mobile is listed before the desk phone in the
// follow-me list, so its trunk leg starts first: still the employee's side.
func TestClickToCallFollowMeMobileListedFirst(t *testing.T) {
	got := briefAll(DefaultConfig(), c2cMobileRows(true, false))
	if strings.Join(got, "\n") != strings.Join(c2cWant, "\n") {
		t.Errorf("\n got %q\nwant %q", got, c2cWant)
	}
}

// TestClickToCallFollowMeMobileInternalCallsOn: with internal_calls = true the mobile leg
// that rang before the employee answered must not send an internal receivedTheCall.
func TestClickToCallFollowMeMobileInternalCallsOn(t *testing.T) {
	cfg := DefaultConfig()
	cfg.InternalCalls = true
	var got, rules []string
	for _, e := range MapAll(cfg, c2cMobileRows(false, false)) {
		got = append(got, brief(e))
		rules = append(rules, e.Rule)
	}
	if strings.Join(got, "\n") != strings.Join(c2cWant, "\n") {
		t.Errorf("\n got %q\nwant %q\nrules:\n%s", got, c2cWant, strings.Join(rules, "\n"))
	}
}

// TestClickToCallFollowMeWithColleague: follow-me of 801 rings the desk phone and a
// colleague's extension 805 (assistant) together; 801 answers, 805's leg is cancelled, then
// the helper dials the customer.
func TestClickToCallFollowMeWithColleague(t *testing.T) {
	const l1, l2, f1, f2, ph, ph805, tr = "Local/801@from-internal-00000001;1", "Local/801@from-internal-00000001;2",
		"Local/FMGL-801@from-internal-00000002;1", "Local/FMGL-801@from-internal-00000002;2", "PJSIP/801-00000005",
		"PJSIP/805-00000006", "PJSIP/kyivstar-00000008"
	var b rb
	b.add(0, "CHAN_START", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", l2, "5.2", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", f1, "5.6", "5.1", "exten", "FMGL-801", "context", "from-internal")
	b.add(0, "CHAN_START", f2, "5.7", "5.1", "exten", "FMGL-801", "context", "from-internal")
	b.add(0, "CHAN_START", ph, "5.3", "5.1", "exten", "s", "context", "from-internal")
	b.add(0, "CHAN_START", ph805, "5.8", "5.1", "exten", "s", "context", "from-internal")
	b.add(3, "ANSWER", ph, "5.3", "5.1")
	b.add(3, "HANGUP", ph805, "5.8", "5.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":""}`)
	b.add(3, "CHAN_END", ph805, "5.8", "5.1")
	b.add(3, "BRIDGE_ENTER", ph, "5.3", "5.1", "extra", bridgeExtra("b0", false))
	b.add(3, "BRIDGE_ENTER", f2, "5.7", "5.1", "extra", bridgeExtra("b0", false), "peer", ph)
	b.add(3, "BRIDGE_ENTER", f1, "5.6", "5.1", "extra", bridgeExtra("b1", false))
	b.add(3, "BRIDGE_ENTER", l2, "5.2", "5.1", "extra", bridgeExtra("b1", false), "peer", f1)
	b.add(3, "ANSWER", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(3, "CHAN_START", tr, "5.4", "5.1", "exten", "s", "context", "from-pstn")
	b.add(10, "ANSWER", tr, "5.4", "5.1")
	b.add(10, "BRIDGE_ENTER", tr, "5.4", "5.1", "extra", bridgeExtra("b2", false))
	b.add(10, "BRIDGE_ENTER", l1, "5.1", "5.1", "context", "macro-dialout-trunk", "app", "Dial",
		"data", "PJSIP/0670219424@kyivstar,300,Ttb(func-apply-sipheaders^s^1)", "extra", bridgeExtra("b2", false), "peer", tr)
	for _, c := range [][2]string{{tr, "5.4"}, {l1, "5.1"}, {l2, "5.2"}, {f1, "5.6"}, {f2, "5.7"}, {ph, "5.3"}} {
		b.add(40, "HANGUP", c[0], c[1], "5.1", "extra", hangupExtra(""))
		b.add(40, "CHAN_END", c[0], c[1], "5.1")
	}
	b.add(40, "LINKEDID_END", ph, "5.3", "5.1")
	got := briefAll(DefaultConfig(), b.rows)
	if strings.Join(got, "\n") != strings.Join(c2cWant, "\n") {
		t.Errorf("\n got %q\nwant %q", got, c2cWant)
	}
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
