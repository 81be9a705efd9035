package mapper

import (
	"strings"
	"testing"
)

// TestClickToCallFollowMeWithMobile: click-to-call from 801 whose follow-me rings the
// desk phone and the mobile together (FMGL list 801, 0671234567#). 801 answers on the desk
// phone, the mobile leg is cancelled; then the helper dials the customer, who answers.
// This is a click-to-call like TestClickToCallFollowMe; the mobile leg that rang before the
// employee answered must not turn it into an unsent internal call.
func TestClickToCallFollowMeWithMobile(t *testing.T) {
	const l1, l2, f1, f2, ph, m1, m2, mob, tr = "Local/801@from-internal-00000001;1", "Local/801@from-internal-00000001;2",
		"Local/FMGL-801@from-internal-00000002;1", "Local/FMGL-801@from-internal-00000002;2", "PJSIP/801-00000005",
		"Local/0671234567@from-internal-00000003;1", "Local/0671234567@from-internal-00000003;2", "PJSIP/kyivstar-00000007", "PJSIP/kyivstar-00000008"
	var b rb
	b.add(0, "CHAN_START", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", l2, "5.2", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", f1, "5.6", "5.1", "exten", "FMGL-801", "context", "from-internal")
	b.add(0, "CHAN_START", f2, "5.7", "5.1", "exten", "FMGL-801", "context", "from-internal")
	b.add(0, "CHAN_START", ph, "5.3", "5.1", "exten", "s", "context", "from-internal")
	b.add(0, "CHAN_START", m1, "5.8", "5.1", "exten", "0671234567", "context", "from-internal")
	b.add(0, "CHAN_START", m2, "5.9", "5.1", "exten", "0671234567", "context", "from-internal")
	b.add(0, "CHAN_START", mob, "5.10", "5.1", "exten", "s", "context", "from-pstn")
	// 801 answers on the desk phone; the mobile leg is cancelled.
	b.add(3, "ANSWER", ph, "5.3", "5.1")
	b.add(3, "HANGUP", mob, "5.10", "5.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":""}`)
	b.add(3, "CHAN_END", mob, "5.10", "5.1")
	b.add(3, "HANGUP", m2, "5.9", "5.1", "extra", hangupExtra("CANCEL"))
	b.add(3, "CHAN_END", m2, "5.9", "5.1")
	b.add(3, "HANGUP", m1, "5.8", "5.1", "extra", hangupExtra(""))
	b.add(3, "CHAN_END", m1, "5.8", "5.1")
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
