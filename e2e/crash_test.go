package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	celcrm "github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/internal/clitest"
	"github.com/celbridge/celbridge/internal/loadgen"
	"github.com/celbridge/celbridge/internal/testdb"
)

// concurrency is crm.concurrency in these tests.
const concurrency = 4

// inFlight is how many requests may be in flight when the process dies, so at most this many
// may arrive twice per kill: a call is in flight from its push until its outcome is recorded,
// and the outcomes of up to crm.CallsPerPush × concurrency calls share one transaction (issue
// 13: one fsync for many requests).
const inFlight = celcrm.CallsPerPush * concurrency

// checkDuplicates fails the test for every request that arrived (answered 200) more than once
// unless its earlier copy was in flight when celbridge was killed. "In flight" is decided from
// celbridge's ordering rule, not from timing: the dispatcher starts a call's next request only
// after the previous one is recorded as delivered, so a copy that was followed by another
// request of the same call before the kill had been recorded, and sending it again is a bug.
// A copy answered after which the process died before recording it is in flight; so is one
// whose answer never reached the client. Each kill may excuse at most inFlight copies.
func checkDuplicates(t *testing.T, log []clitest.Request) (dups int) {
	t.Helper()
	sent := map[string][]int{} // call → indexes of its requests so far
	lastOK := map[string]int{} // key → index of its latest accepted copy
	excused := map[int]int{}   // kill marker index → copies excused by it
	var kills []int
	for i, r := range log {
		if r.Key == clitest.KillMarker {
			kills = append(kills, i)
			continue
		}
		if r.Status == http.StatusOK {
			if prev, ok := lastOK[r.Key]; ok {
				dups++
				// The first kill after the earlier copy, if the call sent nothing else before it.
				m := -1
				for _, k := range kills {
					if k > prev {
						m = k
						break
					}
				}
				switch {
				case m < 0:
					t.Errorf("request %s arrived twice within one process life (log index %d and %d)", r.Key, prev, i)
				case laterBefore(log, sent[r.Call], r.Key, prev, m) >= 0:
					t.Errorf("request %s arrived again after a kill or stop although a later request of its call (%s) had been sent before it: it was recorded as delivered and must not be resent",
						r.Key, log[laterBefore(log, sent[r.Call], r.Key, prev, m)].Key)
				default:
					excused[m]++
					if excused[m] == inFlight+1 {
						t.Errorf("more than %d requests resent after the kill or stop at log index %d: only requests in flight may be", inFlight, m)
					}
				}
			}
			lastOK[r.Key] = i
		}
		sent[r.Call] = append(sent[r.Call], i)
	}
	return dups
}

// laterBefore returns the index of a request among idx, other than key, sent between from and
// to; -1 if there is none.
func laterBefore(log []clitest.Request, idx []int, key string, from, to int) int {
	for _, i := range idx {
		if i > from && i < to && log[i].Key != key {
			return i
		}
	}
	return -1
}

// TestCrash_KillAnywhere is guarantee 2 of issue 4 (DESIGN §4): celbridge is SIGKILLed at
// random moments at least 30 times while thousands of calls are written to CEL as Asterisk
// writes them (loadgen.Live: bursts at real-time pacing, calls overlapping), and restarted
// each time. Every request the calls must produce arrives, in order per call, and a request
// arrives twice only if it was in flight at a kill (checkDuplicates).
//
// Mechanisms under test: the checkpoint committed with the batch's events in one SQLite
// transaction (store.Commit), the restart point before the oldest open call
// (Poller.restartPoint, so open calls are rebuilt), the outbox's unique key (replayed events
// are not queued twice), and Delivered recorded before a call's next request. Disabling the
// open-call term of the restart point loses requests here; making outbox inserts not ignore
// duplicates resends delivered requests.
func TestCrash_KillAnywhere(t *testing.T) {
	const (
		seed     = 20261126
		rate     = 100 // calls per second
		duration = 20 * time.Second
		minKills = 30
	)
	db := testdb.New(t)
	c := clitest.NewCRM(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	var rngMu sync.Mutex
	c.SetAnswer(func(*clitest.Request) (int, time.Duration) {
		rngMu.Lock()
		defer rngMu.Unlock()
		return http.StatusOK, time.Duration(rng.IntN(3000)) * time.Microsecond
	})
	in := newInstall(t, db.ReaderDSN, c.PushURL(), "", fmt.Sprintf("concurrency = %d", concurrency))
	if code, _ := in.run("once"); code != 0 { // first start: the cursor at the (empty) table's end
		t.Fatalf("first once: exit %d\n%s", code, in.tail(30))
	}

	var mu sync.Mutex
	var calls []*loadgen.Call
	g := loadgen.New(seed, loadgen.OnCallDone(func(c *loadgen.Call) {
		mu.Lock()
		calls = append(calls, c)
		mu.Unlock()
	}))
	liveDone := make(chan error, 1)
	go func() { liveDone <- g.Live(t.Context(), db.Admin, "cel", rate, duration, nil) }()

	d := in.start()
	kills, live := 0, true
	for live || kills < minKills {
		rngMu.Lock()
		wait := time.Duration(300+rng.IntN(1700)) * time.Millisecond
		if rng.IntN(5) == 0 { // sometimes right after start: during the replay of open calls
			wait = time.Duration(5+rng.IntN(100)) * time.Millisecond
		}
		rngMu.Unlock()
		select {
		case err := <-liveDone:
			if err != nil {
				t.Fatalf("loadgen: %v", err)
			}
			live = false
		case <-time.After(wait):
		}
		if d.Exited() {
			t.Fatalf("celbridge exited by itself; log:\n%s", in.tail(40))
		}
		d.Kill()
		c.Mark()
		kills++
		d = in.start()
	}

	mu.Lock()
	want, n := expected(calls)
	mu.Unlock()
	if len(calls) < 1000 {
		t.Fatalf("loadgen wrote only %d calls", len(calls))
	}
	in.stopAfter(t, c, d, n, 60*time.Second, "after the last restart")
	log := c.Snapshot()
	if d := cmp.Diff(want, clitest.FirstCopies(log)); d != "" {
		t.Errorf("requests per call, first copies in arrival order (-want +got):\n%s", d)
	}
	dups := checkDuplicates(t, log)
	t.Logf("%d calls, %d requests, %d kills, %d requests resent after a kill", len(calls), n, kills, dups)
	if t.Failed() {
		t.Logf("log tail:\n%s", in.tail(40))
	}
}

// countKeys counts the distinct requests that arrived.
func countKeys(log []clitest.Request) int {
	seen := map[string]bool{}
	for _, r := range log {
		if r.Status == http.StatusOK {
			seen[r.Key] = true
		}
	}
	return len(seen)
}
