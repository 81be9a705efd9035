package mapper

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
)

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
