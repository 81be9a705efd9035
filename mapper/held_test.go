package mapper

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
)

// TestBurstReleasedSoonAfterSeen: a phone of a configured ring group rings alone (a direct
// call to 801, scenario 1). The mapper holds receivedTheCall for the ring-group decision, but
// live, the screen pop must not wait for eventtime's next second: Expire releases the burst
// burstWait after it first saw it.
func TestBurstReleasedSoonAfterSeen(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Groups = []Group{{Number: "600", Members: []string{"801", "802", "803"}}}
	m := New(cfg)
	rows := loadRows(t, filepath.Join("testdata", "s01-in-answered-customer-hangup", "input.json"))
	for _, r := range rows[:2] { // trunk CHAN_START, 801 CHAN_START
		if evs, _ := m.Feed(r); len(evs) != 0 {
			t.Fatalf("row %d decided %v before the burst could be complete", r.ID, evs)
		}
	}
	now := rows[1].EventTime.Add(10 * time.Millisecond) // live: the poll ends just after the rows
	if evs := m.Expire(now); len(evs) != 0 || !m.Held() {
		t.Fatalf("first Expire: events %v, held %v; want nothing yet and the burst held", evs, m.Held())
	}
	if evs := m.Expire(now.Add(burstWait - time.Millisecond)); len(evs) != 0 {
		t.Fatalf("Expire before burstWait released %v", evs)
	}
	evs := m.Expire(now.Add(burstWait))
	if len(evs) != 1 || evs[0].RequestType != celbridge.Received || evs[0].InternalNumber != "801" || m.Held() {
		t.Fatalf("Expire after burstWait = %v (held %v), want receivedTheCall for 801", evs, m.Held())
	}
}

// TestBurstHeldDespiteClockSkew: the first Expire that sees a burst may come more than a
// second after the rows' eventtime (celbridge's clock ahead of the PBX's, a late poll); the
// burst still waits burstWait for the rest of the group's legs.
func TestBurstHeldDespiteClockSkew(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Groups = []Group{{Number: "600", Members: []string{"801", "802", "803"}}}
	rows := loadRows(t, filepath.Join("testdata", "s04-group-answered", "input.json"))
	m := New(cfg)
	var evs []celbridge.Event
	for i, r := range rows {
		e, _ := m.Feed(r)
		evs = append(evs, e...)
		if i == 1 { // a poll ends after the trunk's and 801's CHAN_START
			evs = append(evs, m.Expire(r.EventTime.Add(1500*time.Millisecond))...)
		}
	}
	evs = append(evs, m.Flush()...)
	if len(evs) == 0 || evs[0].RequestType != celbridge.Received || evs[0].InternalNumber != "600" {
		t.Fatalf("first event %+v, want receivedTheCall for group 600", evs)
	}
}

// TestTwoDevicesOneExtension: 801 has a desk phone and a softphone, so a direct call rings
// two PJSIP/801 legs. That is one extension, not ring group 600.
func TestTwoDevicesOneExtension(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Groups = []Group{{Number: "600", Members: []string{"801", "802", "803"}}}
	var b rb
	inbound(&b)
	b.add(0, "CHAN_START", "PJSIP/801-00000002", "1.2", "1.1", "exten", "s", "context", "from-internal")
	b.add(0, "CHAN_START", "PJSIP/801-00000003", "1.3", "1.1", "exten", "s", "context", "from-internal")
	m := New(cfg)
	for _, r := range b.rows {
		m.Feed(r)
	}
	m.Expire(t0)
	evs := m.Expire(t0.Add(burstWait))
	if len(evs) != 1 || evs[0].InternalNumber != "801" {
		t.Fatalf("got %+v, want receivedTheCall for 801", evs)
	}
}
