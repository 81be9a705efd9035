package e2e

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge/internal/clitest"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/internal/loadgen"
)

// TestRestart_SIGTERMMidCall is guarantee 5 of issue 4 (DESIGN §4): celbridge run is stopped
// cleanly (SIGTERM) while dozens of calls are open, rows of those calls are written while it
// is down, and it is started again. The open calls are rebuilt from CEL (the restart point is
// before the oldest open call's first row) and each request arrives exactly once: a request
// in flight at the stop may arrive again only under checkDuplicates' rule.
//
// Mechanisms under test: the restart point's open-call term (Poller.restartPoint; without it
// the calls open at the stop lose their later requests: their CHAN_START lies before the
// checkpoint, so their later rows belong to no known call) and the outbox's unique key
// (replayed rows do not queue the requests already sent).
func TestRestart_SIGTERMMidCall(t *testing.T) {
	db, c, in := started(t, "concurrency = 4")
	rows, calls := generate(3, 3000, loadgen.WithRate(5), loadgen.WithStart(clock.Now().Add(-10*time.Minute).UTC()))
	want, n := expected(calls)

	// Cut the stream where the most calls are open.
	open, best, cut := map[string]bool{}, 0, 0
	for i, r := range rows {
		if r.UniqueID == r.LinkedID && r.EventType == "CHAN_START" {
			open[r.LinkedID] = true
		}
		if r.EventType == "LINKEDID_END" {
			delete(open, r.LinkedID)
		}
		if len(open) > best {
			best, cut = len(open), i+1
		}
	}
	if best < 10 {
		t.Fatalf("only %d calls open at the cut", best)
	}
	d := in.start()
	insertTx(t, db, rows[:cut])
	if !clitest.Until(30*time.Second, func() bool { return countKeys(c.Snapshot()) > 0 && quiet(c, 500*time.Millisecond) }) {
		t.Fatalf("nothing delivered before the stop")
	}
	if code := d.Stop(); code != 0 {
		t.Fatalf("celbridge run: exit %d on SIGTERM, want 0\n%s", code, in.tail(20))
	}
	c.Mark()
	before := countKeys(c.Snapshot())
	insertTx(t, db, rows[cut:])
	d = in.start()
	in.stopAfter(t, c, d, n, 30*time.Second, "after the restart")
	log := c.Snapshot()
	if d := cmp.Diff(want, clitest.FirstCopies(log)); d != "" {
		t.Errorf("requests per call (-want +got):\n%s", d)
	}
	dups := checkDuplicates(t, log)
	t.Logf("%d calls open at the stop; %d of %d requests sent before it; %d resent", best, before, n, dups)
	if t.Failed() {
		t.Logf("log tail:\n%s", in.tail(30))
	}
}

// quiet reports whether no request arrived at c for d (it sleeps d).
func quiet(c *clitest.CRM, d time.Duration) bool {
	n := len(c.Snapshot())
	time.Sleep(d)
	return len(c.Snapshot()) == n
}
