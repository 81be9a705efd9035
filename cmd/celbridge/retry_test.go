package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rejectingCRM answers 400 to the requests reject picks and 200 to the others; it records
// every attempt and every accepted body.
type rejectingCRM struct {
	*httptest.Server
	mu       sync.Mutex
	reject   func(body string) bool
	attempts map[string]int // by Idempotency-Key
	accepted []string
}

func newRejectingCRM(t *testing.T) *rejectingCRM {
	c := &rejectingCRM{attempts: map[string]int{}}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.attempts[r.Header.Get("Idempotency-Key")]++
		if c.reject != nil && c.reject(string(body)) {
			http.Error(w, "unknown number format", http.StatusBadRequest)
			return
		}
		c.accepted = append(c.accepted, string(body))
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *rejectingCRM) setReject(f func(string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reject = f
}

func (c *rejectingCRM) snapshot() (map[string][]string, map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	att := map[string]int{}
	for k, v := range c.attempts {
		att[k] = v
	}
	return perCall(c.accepted), att
}

// TestRetry: a permanent 4xx parks the event as failed and the rest of its call waits behind
// it (guarantee 3 of issue 4, DESIGN §1); `celbridge retry` re-queues it, by
// Idempotency-Key, by generalCallID or all, and the call is then delivered in order.
// Mechanisms under test: crm.IsPermanent + Dispatcher parking (a transient classification
// would retry and `once` would exit 0), the outbox head (store.Due returns only a call's
// oldest undelivered row, so a call's later events cannot overtake its failed one) and
// store.Requeue behind the retry command.
func TestRetry(t *testing.T) {
	b := newSite(t, opts{})
	c := newRejectingCRM(t)
	b.cfg.CRM.URL = strings.Replace(b.cfg.CRM.URL, b.crm.URL(), c.URL, 1)
	if err := b.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
		t.Fatalf("first once: exit %d\n%s", code, stderr)
	}
	loadCapture(t, b.db)
	want := expected(t, realRows(t, b.db))
	const call1, call2 = "17956529280", "17956529392" // scenarios 1 and 2
	c.setReject(func(body string) bool {
		return strings.Contains(body, "generalCallID="+call1+"&") && strings.HasSuffix(body, "requestType=answeredTheCall") ||
			strings.Contains(body, "generalCallID="+call2+"&")
	})
	code, _, stderr := b.run(t, t.Context(), "once")
	if code != exitFailure || !strings.Contains(stderr, "400") {
		t.Fatalf("once with a CRM answering 400: exit %d, want %d with the 400 logged\n%s", code, exitFailure, stderr)
	}
	b.run(t, t.Context(), "once") // must not try the parked events again
	got, attempts := c.snapshot()
	if d := cmp.Diff(want[call1][:1], got[call1]); d != "" {
		t.Errorf("call 1 with its answeredTheCall rejected: only receivedTheCall may arrive (-want +got):\n%s", d)
	}
	if len(got[call2]) != 0 {
		t.Errorf("call 2 with its receivedTheCall rejected: got %q", got[call2])
	}
	for _, k := range []string{call1 + "-answeredTheCall", call2 + "-receivedTheCall"} {
		if attempts[k] != 1 {
			t.Errorf("%s was tried %d times, want once (a 400 is permanent)", k, attempts[k])
		}
	}
	for _, k := range []string{call1 + "-hangupTheCall", call2 + "-answeredTheCall", call2 + "-hangupTheCall"} {
		if attempts[k] != 0 {
			t.Errorf("%s was sent %d times while an earlier event of its call was parked", k, attempts[k])
		}
	}
	for id, reqs := range want {
		if id != call1 && id != call2 && !cmp.Equal(reqs, got[id]) {
			t.Errorf("call %s, not rejected, was held up: got %d of %d requests", id, len(got[id]), len(reqs))
		}
	}

	c.setReject(nil) // the CRM is fixed
	code, stdout, stderr := b.run(t, t.Context(), "retry", call1+"-answeredTheCall")
	if code != 0 || !strings.Contains(stdout, "re-queued "+call1+"-answeredTheCall") || !strings.Contains(stdout, "400") {
		t.Fatalf("retry by key: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// Call 2's event is still parked: once delivers call 1 and keeps failing until it's dealt with.
	if code, _, stderr := b.run(t, t.Context(), "once"); code != exitFailure || !strings.Contains(stderr, "1 events are parked as failed") {
		t.Fatalf("once after retry by key: exit %d, want %d naming the parked event\n%s", code, exitFailure, stderr)
	}
	if got, _ := c.snapshot(); !cmp.Equal(want[call1], got[call1]) || len(got[call2]) != 0 {
		t.Errorf("after retry of call 1's key: call 1 %q (want %q), call 2 %q (want none)", got[call1], want[call1], got[call2])
	}

	code, stdout, _ = b.run(t, t.Context(), "retry")
	if code != 0 || !strings.Contains(stdout, "re-queued 1 failed event") {
		t.Fatalf("retry all: exit %d, stdout:\n%s", code, stdout)
	}
	if code, _, stderr := b.run(t, t.Context(), "once"); code != 0 {
		t.Fatalf("once after retry: exit %d\n%s", code, stderr)
	}
	got, attempts = c.snapshot()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("after retry everything must have arrived once, in order (-want +got):\n%s", d)
	}
	for k, n := range attempts {
		if n > 1 && k != call1+"-answeredTheCall" && k != call2+"-receivedTheCall" {
			t.Errorf("%s was sent %d times", k, n)
		}
	}

	if code, stdout, _ := b.run(t, t.Context(), "retry", call2); code != 0 || !strings.Contains(stdout, "no failed events") {
		t.Errorf("retry of a delivered call: exit %d, stdout:\n%s", code, stdout)
	}
	if code, _, stderr := b.run(t, t.Context(), "retry", "99999999999"); code != exitFailure || !strings.Contains(stderr, "no call or request") {
		t.Errorf("retry of an unknown call: exit %d, stderr:\n%s", code, stderr)
	}
	if code, _, _ := b.run(t, t.Context(), "retry", "a", "b"); code != exitUsage {
		t.Errorf("retry with two IDs: exit %d, want %d", code, exitUsage)
	}
}

// TestOneLine: a stored error is printed on one line, escaped: the CRM's answer stored by an
// older version may hold terminal escape sequences.
func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"HTTP 400: unknown number format":        "HTTP 400: unknown number format",
		"HTTP 400: <h1>Bad</h1>\r\n\t<p>x</p>\n": "HTTP 400: <h1>Bad</h1> <p>x</p>",
		"HTTP 400: \x1b[2J\x1b]0;owned\x07 \xff": `HTTP 400: \x1b[2J\x1b]0;owned\a \xff`,
		strings.Repeat("я", 150):                 strings.Repeat("я", 100) + "…",
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
