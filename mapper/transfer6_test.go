package mapper

import (
	"strings"
	"testing"

	"github.com/celbridge/celbridge"
)

// c2cEarlyAnswerFollowMeRows: click-to-call from 801 (Local/801@from-internal originate);
// 801's follow-me answers the helper's ;2 at once (announcement / Answer() in
// ext-findmefollow), so ;1 logs ANSWER and dials the customer immediately (trunk leg tr).
// Only after the announcement does follow-me ring the desk phone and the mobile
// (0671234567 through Local and trunk leg mob): the mobile leg starts after the customer's
// leg, before the customer answered. answerOnMobile: the employee answers on the mobile.
func c2cEarlyAnswerFollowMeRows(answerOnMobile bool) []celbridge.CELRow {
	const l1, l2, f1, f2, ph, m1, m2, mob, tr = "Local/801@from-internal-00000001;1", "Local/801@from-internal-00000001;2",
		"Local/FMGL-801@from-internal-00000002;1", "Local/FMGL-801@from-internal-00000002;2", "PJSIP/801-00000005",
		"Local/0671234567@from-internal-00000003;1", "Local/0671234567@from-internal-00000003;2", "PJSIP/kyivstar-00000007", "PJSIP/kyivstar-00000008"
	var b rb
	b.add(0, "CHAN_START", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", l2, "5.2", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "ANSWER", l2, "5.2", "5.1", "exten", "801", "context", "ext-findmefollow", "app", "Answer")
	b.add(0, "ANSWER", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "APP_START", l1, "5.1", "5.1", "context", "macro-dialout-trunk", "app", "Dial", "data", "PJSIP/0670219424@kyivstar,300,T")
	b.add(0, "CHAN_START", tr, "5.4", "5.1", "exten", "s", "context", "from-pstn")
	// announcement played on ;2; then follow-me rings the desk phone and the mobile
	b.add(4, "CHAN_START", f1, "5.6", "5.1", "exten", "FMGL-801", "context", "from-internal")
	b.add(4, "CHAN_START", f2, "5.7", "5.1", "exten", "FMGL-801", "context", "from-internal")
	b.add(4, "CHAN_START", ph, "5.3", "5.1", "exten", "s", "context", "from-internal")
	b.add(4, "CHAN_START", m1, "5.8", "5.1", "exten", "0671234567", "context", "from-internal")
	b.add(4, "CHAN_START", m2, "5.9", "5.1", "exten", "0671234567", "context", "from-internal")
	b.add(4, "CHAN_START", mob, "5.10", "5.1", "exten", "s", "context", "from-pstn")
	live := [][2]string{{tr, "5.4"}, {l1, "5.1"}, {l2, "5.2"}, {f1, "5.6"}, {f2, "5.7"}}
	if answerOnMobile {
		b.add(6, "ANSWER", mob, "5.10", "5.1")
		b.add(6, "HANGUP", ph, "5.3", "5.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":""}`)
		b.add(6, "CHAN_END", ph, "5.3", "5.1")
		b.add(6, "BRIDGE_ENTER", mob, "5.10", "5.1", "extra", bridgeExtra("bm", false))
		b.add(6, "BRIDGE_ENTER", m2, "5.9", "5.1", "extra", bridgeExtra("bm", false), "peer", mob)
		b.add(6, "ANSWER", m1, "5.8", "5.1")
		b.add(6, "BRIDGE_ENTER", m1, "5.8", "5.1", "extra", bridgeExtra("b0", false))
		b.add(6, "BRIDGE_ENTER", f2, "5.7", "5.1", "extra", bridgeExtra("b0", false), "peer", m1)
		live = append(live, [2]string{m1, "5.8"}, [2]string{m2, "5.9"}, [2]string{mob, "5.10"})
	} else {
		b.add(6, "ANSWER", ph, "5.3", "5.1")
		b.add(6, "HANGUP", mob, "5.10", "5.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":""}`)
		b.add(6, "CHAN_END", mob, "5.10", "5.1")
		b.add(6, "HANGUP", m2, "5.9", "5.1", "extra", hangupExtra("CANCEL"))
		b.add(6, "CHAN_END", m2, "5.9", "5.1")
		b.add(6, "HANGUP", m1, "5.8", "5.1", "extra", hangupExtra(""))
		b.add(6, "CHAN_END", m1, "5.8", "5.1")
		b.add(6, "BRIDGE_ENTER", ph, "5.3", "5.1", "extra", bridgeExtra("b0", false))
		b.add(6, "BRIDGE_ENTER", f2, "5.7", "5.1", "extra", bridgeExtra("b0", false), "peer", ph)
		live = append(live, [2]string{ph, "5.3"})
	}
	b.add(6, "BRIDGE_ENTER", f1, "5.6", "5.1", "extra", bridgeExtra("b1", false))
	b.add(6, "BRIDGE_ENTER", l2, "5.2", "5.1", "extra", bridgeExtra("b1", false), "peer", f1)
	b.add(10, "ANSWER", tr, "5.4", "5.1")
	b.add(10, "BRIDGE_ENTER", tr, "5.4", "5.1", "extra", bridgeExtra("b2", false))
	b.add(10, "BRIDGE_ENTER", l1, "5.1", "5.1", "context", "macro-dialout-trunk", "app", "Dial",
		"data", "PJSIP/0670219424@kyivstar,300,T", "extra", bridgeExtra("b2", false), "peer", tr)
	for _, c := range live {
		b.add(40, "HANGUP", c[0], c[1], "5.1", "extra", hangupExtra(""))
		b.add(40, "CHAN_END", c[0], c[1], "5.1")
	}
	b.add(40, "LINKEDID_END", l1, "5.1", "5.1")
	return b.rows
}

// TestClickToCallEarlyAnswerMobileLegIsNotTheCustomer: the follow-me mobile leg that starts
// after the helper's early answer, while the customer's leg still rings, is the employee's
// side: the customer answering is the answer, whichever device 801 took.
func TestClickToCallEarlyAnswerMobileLegIsNotTheCustomer(t *testing.T) {
	want := []string{
		"5.1 receivedTheCall 801 0670219424  0",
		"5.1 answeredTheCall 801 0670219424  0",
		"5.1 hangupTheCall   ANSWER 30",
	}
	for _, onMobile := range []bool{false, true} {
		got, _ := replayLive(DefaultConfig(), c2cEarlyAnswerFollowMeRows(onMobile))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("answerOnMobile=%v:\n got %q\nwant %q", onMobile, got, want)
		}
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
