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
