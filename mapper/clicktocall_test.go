package mapper

// Click-to-call: an originate that rings the employee's side first (desk phones, follow-me,
// a mobile), then dials the customer through a trunk. FreePBX-shaped rows; the real Wazo API
// originate is the golden case w-click-to-call-api.

import (
	"strings"
	"testing"

	"github.com/celbridge/celbridge"
)

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

// clickToCallPickedUp: click-to-call from 801 (Local/801@from-internal originate); 801's
// phone rings and a colleague (803) picks it up with *8 (PICKUP on 801's leg); the helper
// then dials the customer. answered says whether the customer answers.
func clickToCallPickedUp(answered bool) []celbridge.CELRow {
	const l1, l2, ph, ph803, tr = "Local/801@from-internal-00000001;1", "Local/801@from-internal-00000001;2", "PJSIP/801-00000005", "PJSIP/803-00000009", "PJSIP/kyivstar-00000006"
	var b rb
	b.add(0, "CHAN_START", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", l2, "5.2", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", ph, "5.3", "5.1", "exten", "s", "context", "from-internal")
	b.add(3, "PICKUP", ph, "5.3", "5.1", "extra", `{"pickup_channel":"`+ph803+`","pickup_channel_uniqueid":"5.9"}`)
	b.add(3, "ANSWER", l2, "5.2", "5.1", "app", "Dial", "data", "PJSIP/801,15")
	b.add(3, "BRIDGE_ENTER", ph, "5.3", "5.1", "extra", bridgeExtra("b1", false))
	b.add(3, "BRIDGE_ENTER", l2, "5.2", "5.1", "extra", bridgeExtra("b1", false), "peer", ph)
	b.add(3, "ANSWER", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(3, "CHAN_START", tr, "5.4", "5.1", "exten", "s", "context", "from-pstn")
	if answered {
		b.add(30, "ANSWER", tr, "5.4", "5.1")
		b.add(30, "BRIDGE_ENTER", tr, "5.4", "5.1", "extra", bridgeExtra("b2", false))
		b.add(30, "BRIDGE_ENTER", l1, "5.1", "5.1", "context", "macro-dialout-trunk", "app", "Dial",
			"data", "PJSIP/0670219424@kyivstar,300,Ttb(func-apply-sipheaders^s^1)", "extra", bridgeExtra("b2", false), "peer", tr)
		for _, c := range [][2]string{{tr, "5.4"}, {l1, "5.1"}, {l2, "5.2"}, {ph, "5.3"}} {
			b.add(40, "HANGUP", c[0], c[1], "5.1", "extra", hangupExtra(""))
			b.add(40, "CHAN_END", c[0], c[1], "5.1")
		}
	} else {
		b.add(33, "HANGUP", tr, "5.4", "5.1", "extra", `{"hangupcause":19,"hangupsource":"","dialstatus":""}`)
		b.add(33, "CHAN_END", tr, "5.4", "5.1")
		b.add(33, "HANGUP", l1, "5.1", "5.1", "context", "macro-dialout-trunk", "app", "Dial",
			"data", "PJSIP/0670219424@kyivstar,300,Ttb(func-apply-sipheaders^s^1)", "extra", hangupExtra("NOANSWER"))
		b.add(33, "CHAN_END", l1, "5.1", "5.1")
		for _, c := range [][2]string{{l2, "5.2"}, {ph, "5.3"}} {
			b.add(33, "HANGUP", c[0], c[1], "5.1", "extra", hangupExtra(""))
			b.add(33, "CHAN_END", c[0], c[1], "5.1")
		}
	}
	b.add(40, "LINKEDID_END", ph, "5.3", "5.1")
	return b.rows
}

// TestClickToCallPickedUp: a colleague picks up the employee's ringing phone of a
// click-to-call. That is not the customer answering: answeredTheCall and billsec start when
// the customer answers, and a customer who does not answer is NOANSWER.
func TestClickToCallPickedUp(t *testing.T) {
	for _, tt := range []struct {
		answered bool
		want     []string
	}{{true, []string{
		"5.1 receivedTheCall 803 0670219424  0", // or 801; the point is the answer below
		"5.1 answeredTheCall 803 0670219424  0",
		"5.1 hangupTheCall   ANSWER 10",
	}}, {false, []string{
		"5.1 receivedTheCall 801 0670219424  0",
		"5.1 hangupTheCall   NOANSWER 0",
	}}} {
		var got []string
		for _, e := range MapAll(DefaultConfig(), clickToCallPickedUp(tt.answered)) {
			got = append(got, brief(e))
		}
		t.Logf("answered=%v: got %q", tt.answered, got)
		var gotAns, wantAns bool
		for _, g := range got {
			gotAns = gotAns || strings.Contains(g, "answeredTheCall")
		}
		for _, w := range tt.want {
			wantAns = wantAns || strings.Contains(w, "answeredTheCall")
		}
		if gotAns != wantAns || got[len(got)-1] != tt.want[len(tt.want)-1] {
			t.Errorf("answered=%v:\n got %q\nwant %q", tt.answered, got, tt.want)
		}
	}
}

// TestLocalOriginatedFollowMeToMobileStaysInternal: a Local-originated call to an extension
// (FreePBX wake-up call or call file, "Channel: Local/801@from-internal") whose follow-me also
// rings the employee's mobile before anyone answered is not a click-to-call: nothing is sent,
// as for the same call from a phone.
func TestLocalOriginatedFollowMeToMobileStaysInternal(t *testing.T) {
	const l1, l2, f1, f2, ph, m1, m2, tr = "Local/801@from-internal-00000001;1", "Local/801@from-internal-00000001;2",
		"Local/FMGL-801@from-internal-00000002;1", "Local/FMGL-801@from-internal-00000002;2", "PJSIP/801-00000005",
		"Local/0671234567@from-internal-00000003;1", "Local/0671234567@from-internal-00000003;2", "PJSIP/kyivstar-00000007"
	var b rb
	b.add(0, "CHAN_START", l1, "5.1", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", l2, "5.2", "5.1", "exten", "801", "context", "from-internal")
	b.add(0, "CHAN_START", f1, "5.6", "5.1", "exten", "FMGL-801", "context", "from-internal")
	b.add(0, "CHAN_START", f2, "5.7", "5.1", "exten", "FMGL-801", "context", "from-internal")
	b.add(0, "CHAN_START", ph, "5.3", "5.1", "exten", "s", "context", "from-internal")
	b.add(0, "CHAN_START", m1, "5.8", "5.1", "exten", "0671234567", "context", "from-internal")
	b.add(0, "CHAN_START", m2, "5.9", "5.1", "exten", "0671234567", "context", "from-internal")
	b.add(0, "CHAN_START", tr, "5.4", "5.1", "exten", "s", "context", "from-pstn")
	b.add(6, "ANSWER", tr, "5.4", "5.1")
	b.add(6, "HANGUP", ph, "5.3", "5.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":""}`)
	b.add(6, "CHAN_END", ph, "5.3", "5.1")
	b.add(6, "BRIDGE_ENTER", tr, "5.4", "5.1", "extra", bridgeExtra("b1", false))
	b.add(6, "BRIDGE_ENTER", m2, "5.9", "5.1", "extra", bridgeExtra("b1", false), "peer", tr)
	b.add(6, "BRIDGE_ENTER", m1, "5.8", "5.1", "extra", bridgeExtra("b2", false))
	b.add(6, "BRIDGE_ENTER", f2, "5.7", "5.1", "extra", bridgeExtra("b2", false), "peer", m1)
	b.add(6, "BRIDGE_ENTER", f1, "5.6", "5.1", "extra", bridgeExtra("b3", false))
	b.add(6, "BRIDGE_ENTER", l2, "5.2", "5.1", "extra", bridgeExtra("b3", false), "peer", f1)
	b.add(6, "ANSWER", l1, "5.1", "5.1", "exten", "801", "context", "from-internal", "app", "Playback", "data", "wakeup-call")
	for _, c := range [][2]string{{tr, "5.4"}, {m1, "5.8"}, {m2, "5.9"}, {f1, "5.6"}, {f2, "5.7"}, {l2, "5.2"}, {l1, "5.1"}} {
		b.add(20, "HANGUP", c[0], c[1], "5.1", "extra", hangupExtra(""))
		b.add(20, "CHAN_END", c[0], c[1], "5.1")
	}
	b.add(20, "LINKEDID_END", l1, "5.1", "5.1")

	var got []string
	for _, e := range MapAll(DefaultConfig(), b.rows) {
		got = append(got, celbridge.EncodeForm(e.Fields("")))
	}
	if len(got) != 0 {
		t.Errorf("a PBX-originated call to extension 801 whose follow-me rang a mobile was sent as:\n%s", strings.Join(got, "\n"))
	}

	// Contrast: the same rows with a phone (802) as the originator stay internal: nothing sent.
	var p rb
	for _, r := range b.rows {
		r := r
		if r.ChanName == l1 {
			r.ChanName = "PJSIP/802-00000010"
		}
		p.rows = append(p.rows, r)
	}
	if evs := MapAll(DefaultConfig(), p.rows); len(evs) != 0 {
		t.Errorf("phone-originated variant sent %d events", len(evs))
	}
}

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
	live := c2cFollowMeAnswer(&b, 3, answerOnMobile)
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

// c2cFollowMeAnswer adds, at second sec, 801 answering the click-to-call of c2cMobileRows
// and c2cEarlyAnswerFollowMeRows on the desk phone or on the mobile (the other device's leg
// is cancelled) and the follow-me helpers bridging it; it returns the channels still up.
func c2cFollowMeAnswer(b *rb, sec int, answerOnMobile bool) [][2]string {
	const l1, l2, f1, f2, ph, m1, m2, mob, tr = "Local/801@from-internal-00000001;1", "Local/801@from-internal-00000001;2",
		"Local/FMGL-801@from-internal-00000002;1", "Local/FMGL-801@from-internal-00000002;2", "PJSIP/801-00000005",
		"Local/0671234567@from-internal-00000003;1", "Local/0671234567@from-internal-00000003;2", "PJSIP/kyivstar-00000007", "PJSIP/kyivstar-00000008"
	live := [][2]string{{tr, "5.4"}, {l1, "5.1"}, {l2, "5.2"}, {f1, "5.6"}, {f2, "5.7"}}
	if answerOnMobile {
		b.add(sec, "ANSWER", mob, "5.10", "5.1")
		b.add(sec, "HANGUP", ph, "5.3", "5.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":""}`)
		b.add(sec, "CHAN_END", ph, "5.3", "5.1")
		b.add(sec, "BRIDGE_ENTER", mob, "5.10", "5.1", "extra", bridgeExtra("bm", false))
		b.add(sec, "BRIDGE_ENTER", m2, "5.9", "5.1", "extra", bridgeExtra("bm", false), "peer", mob)
		b.add(sec, "ANSWER", m1, "5.8", "5.1")
		b.add(sec, "BRIDGE_ENTER", m1, "5.8", "5.1", "extra", bridgeExtra("b0", false))
		b.add(sec, "BRIDGE_ENTER", f2, "5.7", "5.1", "extra", bridgeExtra("b0", false), "peer", m1)
		live = append(live, [2]string{m1, "5.8"}, [2]string{m2, "5.9"}, [2]string{mob, "5.10"})
	} else {
		b.add(sec, "ANSWER", ph, "5.3", "5.1")
		b.add(sec, "HANGUP", mob, "5.10", "5.1", "extra", `{"hangupcause":26,"hangupsource":"","dialstatus":""}`)
		b.add(sec, "CHAN_END", mob, "5.10", "5.1")
		b.add(sec, "HANGUP", m2, "5.9", "5.1", "extra", hangupExtra("CANCEL"))
		b.add(sec, "CHAN_END", m2, "5.9", "5.1")
		b.add(sec, "HANGUP", m1, "5.8", "5.1", "extra", hangupExtra(""))
		b.add(sec, "CHAN_END", m1, "5.8", "5.1")
		b.add(sec, "BRIDGE_ENTER", ph, "5.3", "5.1", "extra", bridgeExtra("b0", false))
		b.add(sec, "BRIDGE_ENTER", f2, "5.7", "5.1", "extra", bridgeExtra("b0", false), "peer", ph)
		live = append(live, [2]string{ph, "5.3"})
	}
	b.add(sec, "BRIDGE_ENTER", f1, "5.6", "5.1", "extra", bridgeExtra("b1", false))
	b.add(sec, "BRIDGE_ENTER", l2, "5.2", "5.1", "extra", bridgeExtra("b1", false), "peer", f1)
	return live
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
	live := c2cFollowMeAnswer(&b, 6, answerOnMobile)
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
