package e2e

import (
	"context"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/clitest"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/internal/loadgen"
	"github.com/celbridge/celbridge/internal/testdb"
)

// insertTx writes rows into db's cel table in one transaction, so a poll sees all or none.
func insertTx(t *testing.T, db *testdb.DB, rows []celbridge.CELRow) {
	t.Helper()
	tx, err := db.Admin.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := loadgen.Insert(context.Background(), tx, "cel", rows); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// failureLine is a dispatcher log line for a retried failure; class names the failure.
var failureLine = regexp.MustCompile(`msg="crm push failed; will retry".* class="?([^"=]+?)"? err=`)

// TestCRMOutage is guarantees 3 and 6 of issue 4 (DESIGN §1): the CRM refuses connections,
// then answers 503, then times out, then is slow, while calls are written to CEL. After it
// recovers every request arrives once, in order per call; during the outage celbridge backs
// off (attempts per waiting call grow logarithmically with the outage's length, not linearly)
// and logs each kind of failure at most once per 30 s.
//
// The calls of the first batch ended three hours before they are read (a long outage, or a
// CEL backlog): their receivedTheCall is stale but still sent, before their hangupTheCall,
// because the CRM creates its call record from it.
//
// Mechanisms under test: the dispatcher's backoff (crm.DefaultBackoff; with no backoff the
// waiting heads are retried at once and the attempt bound fails), the log throttle
// (crm.LogEvery), retrying transient failures forever (crm.max_attempts = 0) and the outbox
// head (a call's later event never overtakes its earlier one, however long it waited).
func TestCRMOutage(t *testing.T) {
	// crm.timeout and the delays below leave half a second either side: on a loaded machine a
	// "slow but in time" answer that missed the timeout was retried and arrived twice.
	db, c, in := started(t, "timeout = \"600ms\"\nconcurrency = 4")
	began := time.Now()
	old, oldCalls := generate(1, 600, loadgen.WithStart(clock.Now().Add(-3*time.Hour).UTC()))
	fresh, freshCalls := generate(2, 600, loadgen.WithStart(clock.Now().Add(-time.Minute).UTC()),
		loadgen.WithFirstID(old[len(old)-1].ID+1))
	want, n := expected(append(oldCalls, freshCalls...))

	c.Down() // refusing connections
	d := in.start()
	insertTx(t, db, old)
	time.Sleep(2 * time.Second)
	if got := len(clitest.AcceptedInOrder(c.Snapshot())); got != 0 {
		t.Fatalf("%d requests accepted by a CRM that is down", got)
	}

	c.SetAnswer(func(*clitest.Request) (int, time.Duration) { return http.StatusServiceUnavailable, 0 })
	c.Up()
	phase := time.Now()
	time.Sleep(3 * time.Second)
	wantOld, _ := expected(oldCalls)
	attempts, heads := len(c.Snapshot()), len(wantOld)
	// Each waiting call's head is tried at most once per backoff step (1s, 2s, 4s … ±20%)
	// since the outage began: about log2 of the elapsed time, however long the 503s last.
	elapsed := time.Since(began).Seconds()
	bound := heads * (2 + int(math.Ceil(math.Log2(elapsed/0.8+1))))
	if attempts > bound {
		t.Errorf("%d attempts by %d waiting calls in %.1fs of 503s, want at most %d (no hammering: back off)",
			attempts, heads, time.Since(phase).Seconds(), bound)
	}

	c.SetAnswer(func(r *clitest.Request) (int, time.Duration) { return http.StatusOK, 1500 * time.Millisecond }) // beyond crm.timeout
	insertTx(t, db, fresh[:len(fresh)/2])
	time.Sleep(2 * time.Second)
	c.SetAnswer(func(r *clitest.Request) (int, time.Duration) { return http.StatusOK, 50 * time.Millisecond }) // slow but in time
	insertTx(t, db, fresh[len(fresh)/2:])

	// Recovery: the longest backoff reached is under 8s here.
	in.stopAfter(t, c, d, n, 40*time.Second, "after the CRM recovered")
	log := c.Snapshot()
	if d := cmp.Diff(want, clitest.Accepted(log)); d != "" {
		t.Errorf("requests per call in arrival order, duplicates included (-want +got):\n%s", d)
	}
	for _, call := range oldCalls {
		for _, id := range call.LinkedIDs {
			got := clitest.Accepted(log)[celbridge.DigitsOnly(id)]
			if len(want[celbridge.DigitsOnly(id)]) > 0 && (len(got) == 0 || !strings.HasSuffix(got[0], "requestType=receivedTheCall")) {
				t.Errorf("stale call %s: first request %.80q, want its receivedTheCall", id, got)
			}
		}
	}

	// The same failure is logged at most once per 30s (crm.LogEvery).
	perClass := map[string]int{}
	for _, m := range failureLine.FindAllStringSubmatch(in.logText(), -1) {
		perClass[m[1]]++
	}
	limit := 1 + int(time.Since(began)/(30*time.Second))
	for _, class := range []string{"connection refused", "HTTP 503", "timeout"} {
		if perClass[class] == 0 {
			t.Errorf("no log line for the %s failures; lines per class: %v", class, perClass)
		}
	}
	for class, k := range perClass {
		if k > limit {
			t.Errorf("failure %q logged %d times in %s, want at most %d", class, k, time.Since(began).Round(time.Second), limit)
		}
	}
	if !strings.Contains(in.logText(), "crm push recovered") {
		t.Errorf("recovery not logged")
	}
	if t.Failed() {
		t.Logf("log tail:\n%s", in.tail(30))
	}
}
