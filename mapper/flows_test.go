package mapper

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
)

// The request-level flows are golden cases (testdata/h-*, built by hand). The tests here check
// what a want.txt cannot show: deciding rows, Expire timing, warnings, internal indexes. Rows
// that are no golden case (calls left open or warning by design) are in testdata/rows/.

// t0 is the start of the hand-built rows (testdata/h-*, testdata/rows): their eventtimes count
// seconds from it.
var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// TestDecidingRows checks that events leave as soon as the deciding row is read (the screen
// pop must not wait for the end of the call).
func TestDecidingRows(t *testing.T) {
	tests := []struct {
		dir  string
		want []int64 // CELID of each event, in order
	}{
		{"s01-in-answered-customer-hangup", []int64{2, 6, 13}},        // phone CHAN_START, trunk BRIDGE_ENTER, LINKEDID_END
		{"s04-group-answered", []int64{58, 66, 73}},                   // last member's CHAN_START completes group 600
		{"s05a-queue-answered", []int64{88, 108, 124}},                // trunk enters ext-queues 700; trunk bridged via Local pair
		{"s07b-attended-transfer-phone", []int64{244, 248, 257, 271}}, // transfer seen on the peer field
		{"s08-out-answered", []int64{273, 277, 284}},                  // trunk leg created; bridge with the trunk
		{"s11-in-forward-mobile", []int64{315, 323, 336}},
	}
	for _, tt := range tests {
		cfg := loadCaseConfig(t, "testdata/"+tt.dir)
		evs := MapAll(cfg, loadRows(t, "testdata/"+tt.dir+"/input.json"))
		var got []int64
		for _, e := range evs {
			got = append(got, e.CELID)
			if e.FirstCELID != evs[0].FirstCELID || e.Time.IsZero() || e.Rule == "" {
				t.Errorf("%s: incomplete event %+v", tt.dir, e)
			}
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: deciding rows %v, want %v", tt.dir, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: deciding rows %v, want %v", tt.dir, got, tt.want)
				break
			}
		}
	}
}

// TestExpire: a caller who hangs up while 801 rings, its LINKEDID_END lost (rows 1-6), and a
// second call that has only begun (row 7). Expire closes the first end_grace after its last
// row, the second only at max_call_age; OldestOpen follows.
func TestExpire(t *testing.T) {
	rows := loadRows(t, "testdata/rows/expire-lost-linkedid-end.json")
	m := New(DefaultConfig())
	for _, r := range rows {
		if _, warn := m.Feed(r); warn != nil {
			t.Fatal(warn)
		}
	}
	if id, ok := m.OldestOpen(); !ok || id != 1 || m.OpenCalls() != 2 {
		t.Fatalf("OldestOpen = %d, %v; OpenCalls %d", id, ok, m.OpenCalls())
	}
	if evs := m.Expire(t0.Add(7 * time.Second)); len(evs) != 0 {
		t.Fatalf("closed within end grace: %v", evs)
	}
	evs := m.Expire(t0.Add(8 * time.Second))
	if len(evs) != 1 || evs[0].Disposition != celbridge.DispCancel || evs[0].LinkedID != "1.1" || evs[0].CELID != 6 {
		t.Fatalf("Expire after grace = %+v", evs)
	}
	if id, _ := m.OldestOpen(); id != 7 || m.OpenCalls() != 1 {
		t.Fatalf("after expiry OldestOpen %d, OpenCalls %d", id, m.OpenCalls())
	}
	// The second call has a live channel: only MaxCallAge closes it, with receivedTheCall
	// (it never reached anyone) and hangupTheCall.
	if evs := m.Expire(t0.Add(time.Hour)); len(evs) != 0 {
		t.Fatalf("live call closed early: %v", evs)
	}
	evs = m.Expire(t0.Add(13 * time.Hour))
	if len(evs) != 2 || evs[0].RequestType != celbridge.Received || evs[1].RequestType != celbridge.Hangup || m.OpenCalls() != 0 {
		t.Fatalf("MaxCallAge expiry = %+v", evs)
	}
}

func TestGroupBurstNotSplitByOtherCalls(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Groups = []Group{{Number: "600", Members: []string{"801", "802", "803"}}}
	m := New(cfg)
	// Call 1 rings 801 and 802, call 2 (row 3, between them) rings 803.
	var evs []celbridge.Event
	for _, r := range loadRows(t, "testdata/rows/group-burst-other-call-between.json") {
		e, _ := m.Feed(r)
		evs = append(evs, e...)
	}
	// Another call's rows between two rings of call 1 do not end its burst.
	if len(evs) != 0 {
		t.Fatalf("burst released by another call's row: %+v", evs)
	}
	if evs = m.Expire(t0.Add(999 * time.Millisecond)); len(evs) != 0 {
		t.Fatalf("burst released within its second: %+v", evs)
	}
	evs = m.Expire(t0.Add(burstSettle))
	if len(evs) != 2 {
		t.Fatalf("at the next second: %+v, want the receivedTheCall of both calls", evs)
	}
	// Call 1: two of the group's three phones rang: 600, decided at the last ring (row 4).
	if e := evs[0]; e.InternalNumber != "600" || e.CELID != 4 || !strings.Contains(e.Rule, "ring group 600") {
		t.Errorf("call 1 burst: %+v", e)
	}
	// Call 2: one phone of the group rang alone: the phone itself.
	if e := evs[1]; e.InternalNumber != "803" || e.LinkedID != "2.1" {
		t.Errorf("call 2 burst: %+v", e)
	}
}

// TestWarnings: after a call's CHAN_START, a DTMF row, a BRIDGE_ENTER with broken extra, a
// HANGUP of an unknown linkedid, a second CHAN_START of the same channel, a Message/ channel,
// an unknown eventtype and a row without linkedid: each is reported (or not) as want says.
func TestWarnings(t *testing.T) {
	m := New(DefaultConfig())
	rows := loadRows(t, "testdata/rows/warnings.json")
	if _, warn := m.Feed(rows[0]); warn != nil {
		t.Fatal(warn)
	}
	want := []string{"", "extra is not a JSON object", "unknown call", "second CHAN_START", "", "", "without linkedid"}
	for i, r := range rows[1:] {
		_, warn := m.Feed(r)
		switch {
		case want[i] == "" && warn != nil:
			t.Errorf("row %d %s: unexpected warning %v", r.ID, r.EventType, warn)
		case want[i] != "" && (warn == nil || !strings.Contains(warn.Error(), want[i])):
			t.Errorf("row %d %s: warning %v, want %q", r.ID, r.EventType, warn, want[i])
		case warn != nil && strings.Contains(warn.Error(), "7"):
			t.Errorf("row %d: warning leaks the DTMF digit: %v", r.ID, warn)
		}
		if i == 2 && !errors.Is(warn, ErrUnknownCall) {
			t.Errorf("unknown linkedid warning does not wrap ErrUnknownCall: %v", warn)
		}
	}
	if m.OpenCalls() != 1 {
		t.Errorf("OpenCalls = %d, want 1 (Message/ channels are not calls)", m.OpenCalls())
	}
}

func TestReachFollowsLocalPairs(t *testing.T) {
	const trunk, ph801, ph802 = "PJSIP/kyivstar-00000001", "PJSIP/801-00000002", "PJSIP/802-00000003"
	cfg := DefaultConfig()
	mk := func(name, bridge string) *channel {
		return &channel{uid: name, name: name, info: classify(name, cfg.ExtensionPattern), bridge: bridge}
	}
	tr := mk(trunk, "b1")
	l1 := mk("Local/801@from-queue-00000000;1", "b1")
	l2 := mk("Local/801@from-queue-00000000;2", "b2")
	p := mk(ph801, "b2")
	o1 := mk("Local/802@from-queue-00000001;1", "")
	o2 := mk("Local/802@from-queue-00000001;2", "b3")
	q := mk(ph802, "b3")
	c := &call{chans: []*channel{tr, l1, l2, p, o1, o2, q}}
	got := c.reach(tr)
	if len(got) != 4 || got[3] != p {
		t.Errorf("reach(trunk) = %d channels, want trunk, ;1, ;2, 801", len(got))
	}
	if r := c.reach(q); len(r) != 3 {
		t.Errorf("reach(802) = %d channels, want 802, ;2, ;1 (not bridged with the trunk)", len(r))
	}
	l2.ended = true
	if r := c.reach(tr); len(r) != 2 {
		t.Errorf("reach through an ended Local half = %d, want 2", len(r))
	}
}

// TestLinkedIDEndWhileCallerUp: LINKEDID_END while the caller's channel is still up and no
// row of it follows under another linkedid (its CHAN_END not logged): the call closes
// end_grace after the LINKEDID_END, not at max_call_age.
func TestLinkedIDEndWhileCallerUp(t *testing.T) {
	m := New(DefaultConfig())
	for _, r := range loadRows(t, "testdata/rows/linkedid-end-while-caller-up.json") {
		if evs, _ := m.Feed(r); len(evs) > 0 && evs[len(evs)-1].RequestType == celbridge.Hangup {
			t.Fatalf("closed at row %d while the caller's channel had not ended", r.ID)
		}
	}
	if evs := m.Expire(t0.Add(14 * time.Second)); len(evs) != 0 {
		t.Fatalf("closed within end_grace of the LINKEDID_END: %+v", evs)
	}
	evs := m.Expire(t0.Add(15 * time.Second))
	if len(evs) != 1 || evs[0].RequestType != celbridge.Hangup || evs[0].Billsec != 10 || evs[0].CELID != 8 {
		t.Fatalf("Expire after end_grace = %+v, want one hangupTheCall, billsec 10, row 8", evs)
	}
}
