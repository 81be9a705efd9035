package mapper

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
)

// TestBurstReleasedAtNextSecond: a phone of a configured ring group rings alone (a direct
// call to 801, scenario 1). The mapper holds receivedTheCall for the ring-group decision until
// the CEL clock shows the next second (every leg of a Dial is created within the same
// moment), and Deadline tells the poller when that is, so that a quiet line still gets its
// screen pop.
func TestBurstReleasedAtNextSecond(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Groups = []Group{{Number: "600", Members: []string{"801", "802", "803"}}}
	m := New(cfg)
	rows := loadRows(t, filepath.Join("testdata", "s01-in-answered-customer-hangup", "input.json"))
	for _, r := range rows[:2] { // trunk CHAN_START, 801 CHAN_START
		if evs, _ := m.Feed(r); len(evs) != 0 {
			t.Fatalf("row %d decided %v before the burst could be complete", r.ID, evs)
		}
	}
	next := rows[1].EventTime.Add(time.Second)
	if at, ok := m.Deadline(); !ok || !at.Equal(next) {
		t.Fatalf("Deadline = %v, %v; want %v (the burst's next second)", at, ok, next)
	}
	if evs := m.Expire(next.Add(-time.Millisecond)); len(evs) != 0 {
		t.Fatalf("Expire within the burst's second released %v", evs)
	}
	evs := m.Expire(next)
	if len(evs) != 1 || evs[0].RequestType != celbridge.Received || evs[0].InternalNumber != "801" || evs[0].CELID != rows[1].ID {
		t.Fatalf("Expire at the next second = %v, want receivedTheCall for 801 decided by row %d", evs, rows[1].ID)
	}
}

// TestBurstHeldWithinItsSecond: an Expire within the burst's own second (a poll that ended
// between two legs of a ring group) does not cut the burst: the group is still named.
func TestBurstHeldWithinItsSecond(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Groups = []Group{{Number: "600", Members: []string{"801", "802", "803"}}}
	rows := loadRows(t, filepath.Join("testdata", "s04-group-answered", "input.json"))
	m := New(cfg)
	var evs []celbridge.Event
	for i, r := range rows {
		e, _ := m.Feed(r)
		evs = append(evs, e...)
		if i == 1 { // a poll ends after the trunk's and 801's CHAN_START
			evs = append(evs, m.Expire(r.EventTime.Add(999*time.Millisecond))...)
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
	m := New(cfg)
	for _, r := range loadRows(t, "testdata/rows/two-devices-one-extension.json") { // the trunk, 801, 801
		m.Feed(r)
	}
	m.Expire(t0)
	evs := m.Expire(t0.Add(burstSettle))
	if len(evs) != 1 || evs[0].InternalNumber != "801" {
		t.Fatalf("got %+v, want receivedTheCall for 801", evs)
	}
}
