package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge/internal/clitest"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/internal/loadgen"
)

// TestRetry_WhileRunning is the permanent-failure half of guarantee 3 of issue 4 on the built
// binary: the CRM rejects one request with 400 while celbridge run delivers. That request is
// parked after one attempt, the rest of its call waits behind it while other calls go on,
// and `celbridge retry -config FILE KEY`, run beside the daemon, re-queues it; the daemon
// then delivers it and the rest of its call, in order.
//
// Mechanisms under test: parking on a permanent 4xx (crm.IsPermanent), the outbox head, and
// store.Requeue through the retry command while another process holds the store.
func TestRetry_WhileRunning(t *testing.T) {
	db, c, in := started(t, "")
	rows, calls := generate(5, 400, loadgen.WithStart(clock.Now().Add(-time.Hour).UTC()))
	want, n := expected(calls)
	var call, key string // the second request of a call with at least three
	for id, reqs := range want {
		if len(reqs) >= 3 {
			form, _ := url.ParseQuery(reqs[1])
			call, key = id, id+"-"+form.Get("requestType")
			break
		}
	}
	if key == "" {
		t.Fatal("no call with three requests generated")
	}
	c.SetAnswer(func(r *clitest.Request) (int, time.Duration) {
		if r.Key == key {
			return http.StatusBadRequest, 0
		}
		return http.StatusOK, 0
	})
	d := in.start()
	insertTx(t, db, rows)
	if !clitest.Until(30*time.Second, func() bool { return countKeys(c.Snapshot()) >= n-len(want[call])+1 }) {
		t.Fatalf("only %d of %d requests of the other calls arrived", countKeys(c.Snapshot()), n-len(want[call])+1)
	}
	quiet(c, 600*time.Millisecond) // the dispatcher looks for due rows every 250ms
	var tried []string
	for _, r := range c.Snapshot() {
		if r.Call == call {
			tried = append(tried, r.Key)
		}
	}
	if len(tried) != 2 || tried[1] != key {
		t.Errorf("call %s with %s rejected: CRM saw %q, want its first request and one attempt of the rejected one", call, key, tried)
	}

	c.SetAnswer(nil)
	code, out := in.run("retry", key)
	if code != 0 || !strings.Contains(out, "re-queued "+key) {
		t.Fatalf("retry %s beside the daemon: exit %d, output:\n%s\n%s", key, code, out, in.tail(10))
	}
	in.stopAfter(t, c, d, n, 30*time.Second, "after retry")
	if d := cmp.Diff(want, clitest.Accepted(c.Snapshot())); d != "" {
		t.Errorf("requests per call, duplicates included (-want +got):\n%s", d)
	}
	if t.Failed() {
		t.Logf("log tail:\n%s", in.tail(30))
	}
}
