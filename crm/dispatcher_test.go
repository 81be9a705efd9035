package crm_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/internal/clitest"
)

// callEvents returns the events of one incoming call in order: received, answered,
// transfers 1..transfers, hangup.
func callEvents(id string, transfers int) []celbridge.Event {
	ev := func(rt string, seq int) celbridge.Event {
		return celbridge.Event{
			LinkedID: id, GeneralCallID: id, RequestType: rt, Seq: seq, CallType: celbridge.Incoming,
			DIDNumber: "0443334000", ExternalNumber: "0670219424", InternalNumber: "801",
		}
	}
	evs := []celbridge.Event{ev(celbridge.Received, 0), ev(celbridge.Answered, 0)}
	for i := 1; i <= transfers; i++ {
		evs = append(evs, ev(celbridge.Transferred, i))
	}
	return append(evs, ev(celbridge.Hangup, 0))
}

// bundle is a dispatcher wired to a fake outbox, a real Client and a fake clock.
type bundle struct {
	ob      *fakeOutbox
	clock   *fakeClock
	logs    *syncBuffer
	d       *crm.Dispatcher
	results *resultLog
}

func setup(t *testing.T, url string) *bundle {
	t.Helper()
	b := &bundle{ob: &fakeOutbox{}, clock: newClock(), logs: &syncBuffer{}, results: &resultLog{}}
	b.d = &crm.Dispatcher{
		Outbox:      b.ob,
		Pusher:      &crm.Client{URL: url, Headers: map[string]string{"Authorization": "Bearer hdr-s3kr1t"}},
		Concurrency: 4,
		Backoff:     func(int) time.Duration { return 0 },
		Logger:      slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:         b.clock.Now,
		OnResult:    b.results.add,
	}
	return b
}

// syncBuffer is the dispatcher's log, safe for its goroutines.
type syncBuffer struct{ clitest.Buffer }

// lines returns the log lines containing substr.
func (s *syncBuffer) lines(substr string) []string {
	var out []string
	for _, l := range strings.Split(s.String(), "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

// resultLog records OnResult calls.
type resultLog struct {
	mu      sync.Mutex
	n       map[string]int // "requestType result"
	classes []string       // "result: class" of failures, in order
}

func (r *resultLog) add(requestType, result string, _ time.Duration, class string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	r.n[requestType+" "+result]++
	if result != crm.ResultOK || class != "" {
		r.classes = append(r.classes, result+": "+class)
	}
}

func (r *resultLog) failures() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.classes, ", ")
}

func (r *resultLog) get(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[key]
}

// keys returns the Idempotency-Keys the CRM received for call, in arrival order.
func keys(reqs []gotRequest, call string) []string {
	var out []string
	for _, r := range reqs {
		if r.Form["generalCallID"] == call {
			out = append(out, r.Header.Get("Idempotency-Key"))
		}
	}
	return out
}

// failFirst is a CRM's reply that answers the first request 503 (maintenance), every later
// one 200.
func failFirst() func(http.ResponseWriter, *http.Request) {
	var calls atomic.Int32
	return func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		}
	}
}

func mustDrain(t *testing.T, d *crm.Dispatcher, wantDelivered, wantFailed int) {
	t.Helper()
	delivered, failed, err := d.Drain(t.Context())
	if err != nil || delivered != wantDelivered || failed != wantFailed {
		t.Fatalf("Drain = (%d, %d, %v), want (%d, %d, nil)", delivered, failed, err, wantDelivered, wantFailed)
	}
}

func TestDispatcher_RetryThenDeliver(t *testing.T) {
	srv := newRecordCRM(t, failFirst())
	b := setup(t, srv.URL)
	b.ob.add(callEvents("100", 0)...)

	mustDrain(t, b.d, 3, 0)

	want := []string{"100-receivedTheCall", "100-receivedTheCall", "100-answeredTheCall", "100-hangupTheCall"}
	if got := keys(srv.requests(), "100"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("CRM got %v, want %v", got, want)
	}
	if r := b.ob.row("100-receivedTheCall"); r.state != "delivered" || r.attempts != 1 || r.lastErr != "HTTP 503: maintenance" {
		t.Errorf("received row = %+v, want delivered after 1 failed attempt", r)
	}
	if b.results.get("receivedTheCall retry") != 1 || b.results.get("receivedTheCall ok") != 1 || b.results.get("hangupTheCall ok") != 1 {
		t.Errorf("OnResult got %v", b.results.n)
	}
	if got := b.results.failures(); got != "retry: HTTP 503" {
		t.Errorf("OnResult got failures %q, want only the 503's kind", got)
	}
}

func TestDispatcher_Permanent(t *testing.T) {
	srv := newRecordCRM(t, func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("generalCallID") == "200" {
			http.Error(w, "unknown companyID", http.StatusBadRequest)
		}
	})
	b := setup(t, srv.URL)
	b.ob.add(callEvents("200", 0)...)
	b.ob.add(callEvents("201", 0)...)

	mustDrain(t, b.d, 3, 1)

	r := b.ob.row("200-receivedTheCall")
	if r.state != "failed" || r.attempts != 1 || r.lastErr != "HTTP 400: unknown companyID" {
		t.Errorf("row = %+v, want failed with the status and body", r)
	}
	reqs := srv.requests()
	if got := keys(reqs, "200"); len(got) != 1 {
		t.Errorf("failed call: CRM got %v, want only its first event", got)
	}
	if got := keys(reqs, "201"); len(got) != 3 {
		t.Errorf("other call: CRM got %v, want all 3 events", got)
	}
	if b.results.get("receivedTheCall failed") != 1 || b.results.failures() != "failed: HTTP 400" {
		t.Errorf("OnResult got %v, failures %q", b.results.n, b.results.failures())
	}
	if l := b.logs.lines("level=ERROR"); len(l) != 1 || !strings.Contains(l[0], "key=200-receivedTheCall") ||
		!strings.Contains(l[0], `retry="celbridge retry 200-receivedTheCall"`) {
		t.Errorf("want one error line for the parked row, naming the command that sends it again, got %q", l)
	}
}

func TestDispatcher_Transient(t *testing.T) {
	status := func(code int) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "try later", code) }
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name    string
		url     func(t *testing.T) string
		timeout time.Duration
		wantErr string
	}{
		{"408", func(t *testing.T) string { return newRecordCRM(t, status(408)).URL }, 0, "HTTP 408: try later"},
		{"429", func(t *testing.T) string { return newRecordCRM(t, status(429)).URL }, 0, "HTTP 429: try later"},
		{"500", func(t *testing.T) string { return newRecordCRM(t, status(500)).URL }, 0, "HTTP 500: try later"},
		{"Timeout", func(t *testing.T) string {
			return newRecordCRM(t, func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }).URL
		}, 20 * time.Millisecond, "no answer within 20ms"},
		{"ConnectionRefused", func(*testing.T) string { return closed.URL }, 0, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := setup(t, "")
			b.d.Pusher = &crm.Client{URL: tt.url(t), Timeout: tt.timeout}
			b.d.Backoff = func(n int) time.Duration { return time.Duration(n) * time.Hour }
			b.ob.add(callEvents("300", 0)...)

			mustDrain(t, b.d, 0, 0)

			r := b.ob.row("300-receivedTheCall")
			if r.state != "pending" || r.attempts != 1 || !r.next.Equal(b.clock.Now().Add(time.Hour)) {
				t.Errorf("row = %+v, want pending, 1 attempt, next in 1h", r)
			}
			if !strings.Contains(r.lastErr, tt.wantErr) {
				t.Errorf("lastErr %q, want it to contain %q", r.lastErr, tt.wantErr)
			}
			if b.results.get("receivedTheCall retry") != 1 {
				t.Errorf("OnResult got %v", b.results.n)
			}

			// Once the backoff is over the row is tried again and counts a second attempt.
			b.clock.Advance(time.Hour)
			mustDrain(t, b.d, 0, 0)
			if r := b.ob.row("300-receivedTheCall"); r.attempts != 2 || !r.next.Equal(b.clock.Now().Add(2*time.Hour)) {
				t.Errorf("row = %+v, want 2 attempts, next in 2h", r)
			}
		})
	}
}

func TestDispatcher_MaxAttempts(t *testing.T) {
	srv := newRecordCRM(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) })
	b := setup(t, srv.URL)
	b.d.MaxAttempts = 3
	b.ob.add(callEvents("400", 0)...)

	mustDrain(t, b.d, 0, 1)

	if n := len(srv.requests()); n != 3 {
		t.Errorf("CRM got %d requests, want 3", n)
	}
	if r := b.ob.row("400-receivedTheCall"); r.state != "failed" || r.attempts != 3 || r.lastErr != "HTTP 500: boom" {
		t.Errorf("row = %+v, want failed after 3 attempts", r)
	}
	if b.results.get("receivedTheCall retry") != 2 || b.results.get("receivedTheCall failed") != 1 {
		t.Errorf("OnResult got %v", b.results.n)
	}
}

// orderCRM records arrival order and concurrency; it fails the test if two requests of one
// call are ever in flight together.
type orderCRM struct {
	t        *testing.T
	mu       sync.Mutex
	perCall  map[string]int
	inflight int
	maxSeen  int
	overlap  chan struct{}
	once     sync.Once
	first    atomic.Bool
}

func (o *orderCRM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call := r.FormValue("generalCallID")
	o.mu.Lock()
	o.perCall[call]++
	o.inflight++
	o.maxSeen = max(o.maxSeen, o.inflight)
	if o.perCall[call] > 1 {
		o.t.Errorf("two requests of call %s in flight", call)
	}
	if o.inflight > 1 {
		o.once.Do(func() { close(o.overlap) })
	}
	o.mu.Unlock()
	// The very first request waits for a second one to arrive, so that parallelism is
	// observed without depending on timing; a serial dispatcher fails after 5s instead.
	if o.first.CompareAndSwap(false, true) {
		select {
		case <-o.overlap:
		case <-time.After(5 * time.Second):
		}
	}
	o.mu.Lock()
	o.perCall[call]--
	o.inflight--
	o.mu.Unlock()
}

func TestDispatcher_OrderPerCall(t *testing.T) {
	oc := &orderCRM{t: t, perCall: map[string]int{}, overlap: make(chan struct{})}
	srv := newRecordCRM(t, oc.ServeHTTP)
	b := setup(t, srv.URL)
	b.d.Concurrency = 8
	const calls = 40
	// Interleave the calls' events the way a live outbox does.
	var all [][]celbridge.Event
	for i := range calls {
		all = append(all, callEvents(fmt.Sprint(1000+i), 2))
	}
	for j := range all[0] {
		for i := range all {
			b.ob.add(all[i][j])
		}
	}

	mustDrain(t, b.d, calls*5, 0)

	reqs := srv.requests()
	for i := range calls {
		id := fmt.Sprint(1000 + i)
		want := []string{id + "-receivedTheCall", id + "-answeredTheCall", id + "-transferredTheCall-1", id + "-transferredTheCall-2", id + "-hangupTheCall"}
		if got := keys(reqs, id); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("call %s: CRM got %v, want %v", id, got, want)
		}
	}
	oc.mu.Lock()
	defer oc.mu.Unlock()
	if oc.maxSeen < 2 || oc.maxSeen > 8 {
		t.Errorf("max requests in flight %d, want 2..8", oc.maxSeen)
	}
}

func TestDispatcher_Run(t *testing.T) {
	srv := newRecordCRM(t, ok)
	b := setup(t, srv.URL)
	b.d.Now = nil // real clock: Run polls on its own
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.d.Run(ctx) }()

	b.ob.add(callEvents("500", 0)...)
	b.d.Notify()
	clitest.WaitFor(t, 10*time.Second, "3 delivered", func() bool { return b.ob.count("delivered") == 3 })
	b.ob.add(callEvents("501", 1)...)
	b.d.Notify()
	b.d.Notify() // coalesced, never blocks
	clitest.WaitFor(t, 10*time.Second, "7 delivered", func() bool { return b.ob.count("delivered") == 7 })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if got := keys(srv.requests(), "501"); len(got) != 4 || got[3] != "501-hangupTheCall" {
		t.Errorf("call 501: CRM got %v", got)
	}
}

// TestDispatcher_RunShutdown: a stop lets the request in flight finish (bounded by the
// client's timeout) and records it, so a clean stop causes no duplicate.
func TestDispatcher_RunShutdown(t *testing.T) {
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := newRecordCRM(t, func(_ http.ResponseWriter, _ *http.Request) {
		arrived <- struct{}{}
		<-release
	})
	b := setup(t, srv.URL)
	b.ob.add(callEvents("600", 0)...)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.d.Run(ctx) }()
	<-arrived
	cancel()
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	if r := b.ob.row("600-receivedTheCall"); r.state != "delivered" || r.attempts != 0 {
		t.Errorf("row = %+v, want delivered: the push in flight at the stop finishes", r)
	}
	if r := b.ob.row("600-hangupTheCall"); r.state != "pending" {
		t.Errorf("the call's next row = %+v, want pending: nothing new starts after the stop", r)
	}
	if len(b.results.n) != 1 {
		t.Errorf("OnResult got %v, want the one finished push", b.results.n)
	}
}

func TestDispatcher_LogThrottle(t *testing.T) {
	var status atomic.Int32
	status.Store(500)
	srv := newRecordCRM(t, func(w http.ResponseWriter, _ *http.Request) {
		if code := int(status.Load()); code != 200 {
			http.Error(w, "try later", code)
			return
		}
		_, _ = io.WriteString(w, "ok-body-s3kr1t")
	})
	b := setup(t, strings.Replace(srv.URL, "http://", "http://celuser:url-s3kr1t@", 1))
	b.d.Backoff = func(int) time.Duration { return time.Second }
	for i := range 5 {
		b.ob.add(callEvents(fmt.Sprint(700+i), 0)...)
	}

	// Five calls fail together, then again after each backoff: one line in 30s.
	for range 4 {
		mustDrain(t, b.d, 0, 0)
		b.clock.Advance(time.Second)
	}
	if l := b.logs.lines("will retry"); len(l) != 1 || !strings.Contains(l[0], "class=\"HTTP 500\"") {
		t.Fatalf("want 1 retry line, got %d:\n%s", len(l), b.logs)
	}

	// Past the interval the failure is logged again, with the count of those left out.
	b.clock.Advance(crm.LogEvery)
	mustDrain(t, b.d, 0, 0)
	l := b.logs.lines("will retry")
	if len(l) != 2 || !strings.Contains(l[1], "suppressed=19") {
		t.Fatalf("want a 2nd retry line with suppressed=19, got:\n%s", b.logs)
	}

	// Recovery is logged once, however many rows then succeed.
	status.Store(200)
	b.clock.Advance(time.Second)
	mustDrain(t, b.d, 15, 0)
	if l := b.logs.lines("recovered"); len(l) != 1 || !strings.Contains(l[0], "suppressed=4") {
		t.Errorf("want 1 recovery line reporting 4 suppressed, got:\n%s", b.logs)
	}
	for _, secret := range []string{"hdr-s3kr1t", "url-s3kr1t", "celuser", "ok-body-s3kr1t", "0670219424"} {
		if strings.Contains(b.logs.String(), secret) {
			t.Errorf("log leaks %q:\n%s", secret, b.logs)
		}
	}
}

// TestDispatcher_RedactsEcho: a CRM echoing the token in its error body: neither the log nor
// the outbox's last error (what status, explain and retry show) gets it, nor the terminal
// escape sequences around it.
func TestDispatcher_RedactsEcho(t *testing.T) {
	srv := newRecordCRM(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "\x1b[31minvalid token "+r.Header.Get("Authorization")+" for "+r.URL.Query().Get("token"), http.StatusForbidden)
	})
	b := setup(t, srv.URL+"/?token=url-s3kr1t")
	b.ob.add(callEvents("900", 0)[:1]...)

	mustDrain(t, b.d, 0, 1)

	want := "HTTP 403: [31minvalid token [redacted] for [redacted]"
	if r := b.ob.row("900-receivedTheCall"); r.lastErr != want {
		t.Errorf("lastErr %q, want %q", r.lastErr, want)
	}
	for _, secret := range []string{"hdr-s3kr1t", "url-s3kr1t", "\x1b"} {
		if strings.Contains(b.logs.String(), secret) {
			t.Errorf("log shows %q:\n%s", secret, b.logs)
		}
	}
	if !strings.Contains(b.logs.String(), "[redacted]") {
		t.Errorf("log does not show the redacted answer:\n%s", b.logs)
	}
}

func TestDispatcher_DueError(t *testing.T) {
	b := setup(t, "http://127.0.0.1:1")
	b.ob.dueErr = errors.New("database is locked")
	_, _, err := b.d.Drain(t.Context())
	if err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("Drain = %v, want the outbox error", err)
	}
}

// TestDispatcher_WriteErrorStopsDrain: when the outcome of a push cannot be recorded, the
// row stays pending and due; Drain must stop rather than push it again and again.
func TestDispatcher_WriteErrorStopsDrain(t *testing.T) {
	srv := newRecordCRM(t, ok)
	b := setup(t, srv.URL)
	b.ob.add(callEvents("800", 0)[:1]...)
	b.ob.writeErr = errors.New("disk I/O error")
	_, _, err := b.d.Drain(t.Context())
	if err == nil || !strings.Contains(err.Error(), "disk I/O error") {
		t.Fatalf("Drain = %v, want the write error", err)
	}
	if n := len(srv.requests()); n != 1 {
		t.Errorf("the row was pushed %d times, want once", n)
	}
}

// TestDispatcher_AcceptedNotRecorded: the CRM accepts every request, the outbox fails to
// mark the first six delivered (a full disk, then freed). Each request reaches the CRM exactly
// once: the dispatcher retries the write, not the POST. The store error is logged once (at
// most every 30s), its end once, and no "recovered" line (the CRM never failed).
func TestDispatcher_AcceptedNotRecorded(t *testing.T) {
	srv := newRecordCRM(t, ok)
	b := setup(t, srv.URL)
	b.d.Now = nil // real clock: Run retries the writes on its own
	b.d.Backoff = func(n int) time.Duration { return time.Duration(n) * 5 * time.Millisecond }
	for i := range 3 {
		b.ob.add(callEvents(fmt.Sprint(810+i), 1)...)
	}
	b.ob.setFailDelivered(6)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.d.Run(ctx) }()
	clitest.WaitFor(t, 10*time.Second, "12 delivered", func() bool { return b.ob.count("delivered") == 12 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}

	reqs := srv.requests()
	perKey := map[string]int{}
	for _, r := range reqs {
		perKey[r.Header.Get("Idempotency-Key")]++
	}
	for k, n := range perKey {
		if n != 1 {
			t.Errorf("%s was POSTed %d times, want once", k, n)
		}
	}
	if len(reqs) != 12 || len(perKey) != 12 {
		t.Errorf("the CRM got %d requests for %d events, want 12 for 12", len(reqs), len(perKey))
	}
	for i := range 3 {
		id := fmt.Sprint(810 + i)
		want := []string{id + "-receivedTheCall", id + "-answeredTheCall", id + "-transferredTheCall-1", id + "-hangupTheCall"}
		if got := keys(reqs, id); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("call %s: CRM got %v, want %v", id, got, want)
		}
	}
	if n := b.ob.deliveredCalls(); n != 12+6 {
		t.Errorf("Delivered was called %d times, want 12 + 6 failed", n)
	}
	if l := b.logs.lines("the outbox cannot record it"); len(l) != 1 || !strings.Contains(l[0], "disk is full") {
		t.Errorf("want 1 line with the store error, got:\n%s", b.logs)
	}
	if l := b.logs.lines("the outbox records deliveries again"); len(l) != 1 {
		t.Errorf("want 1 line saying the outbox works again, got:\n%s", b.logs)
	}
	if l := b.logs.lines("recovered"); len(l) != 0 {
		t.Errorf("the CRM never failed, yet: %q", l)
	}
}

// TestDispatcher_RecoveredOnceRecorded: after CRM failures, "recovered" is logged only once
// the outbox has recorded the delivery, not when the CRM answered 2xx.
func TestDispatcher_RecoveredOnceRecorded(t *testing.T) {
	srv := newRecordCRM(t, failFirst())
	b := setup(t, srv.URL)
	b.ob.add(callEvents("820", 0)...)
	b.ob.setFailDelivered(2) // the write after the 2xx, and Drain's last try

	// 503, retried at once (Backoff 0): 200, not recorded.
	delivered, failed, err := b.d.Drain(t.Context())
	if err == nil || !strings.Contains(err.Error(), "1 request(s) the CRM accepted could not be marked delivered") ||
		!strings.Contains(err.Error(), "disk is full") || delivered != 0 || failed != 0 {
		t.Fatalf("Drain = (%d, %d, %v), want the unrecorded delivery reported", delivered, failed, err)
	}
	if l := b.logs.lines("recovered"); len(l) != 0 {
		t.Errorf("recovery logged before the delivery was recorded: %q", l)
	}
	if got := keys(srv.requests(), "820"); len(got) != 2 {
		t.Errorf("CRM got %v, want the 503 and the accepted retry", got)
	}

	// The store works again: the accepted request is recorded, not sent again.
	mustDrain(t, b.d, 3, 0)
	if l := b.logs.lines("crm push recovered"); len(l) != 1 {
		t.Errorf("want 1 recovery line once recorded, got:\n%s", b.logs)
	}
	want := []string{"820-receivedTheCall", "820-receivedTheCall", "820-answeredTheCall", "820-hangupTheCall"}
	if got := keys(srv.requests(), "820"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("CRM got %v, want %v", got, want)
	}
}

// TestDispatcher_AcceptedNotRecordedAtStop: Run keeps an accepted push it cannot record
// (never pushed again however often woken), and says at the stop that it stays unrecorded.
func TestDispatcher_AcceptedNotRecordedAtStop(t *testing.T) {
	srv := newRecordCRM(t, ok)
	b := setup(t, srv.URL)
	b.ob.add(callEvents("801", 0)...)
	b.ob.add(callEvents("802", 0)...)
	// Call 802 waits: no push starts while one is unrecorded. (With more calls in flight than
	// one, 802 could be pushed while 801's outcome is being written, before the write fails.)
	b.d.Concurrency, b.d.MaxCalls = 1, 1
	b.ob.writeErr = errors.New("database or disk is full")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.d.Run(ctx) }()
	clitest.WaitFor(t, 10*time.Second, "a call delivered", func() bool { return b.ob.deliveredCalls() >= 1 })
	for range 20 { // wake-ups that would each re-push the row
		b.d.Notify()
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	// Each accepted request is pushed once, however often the dispatcher is woken. Usually
	// that is 801's first request alone; under load 802's may have started while 801's
	// outcome was still being written (before the write failed), and stays unrecorded too.
	keys := map[string]int{}
	for _, r := range srv.requests() {
		keys[r.Header.Get("Idempotency-Key")]++
	}
	for k, n := range keys {
		if n != 1 {
			t.Errorf("the CRM got %s %d times, want once", k, n)
		}
	}
	want := fmt.Sprintf("%d request(s) the CRM accepted", len(keys))
	if l := b.logs.lines("stopping with deliveries not recorded"); len(keys) == 0 || len(keys) > 2 || len(l) != 1 || !strings.Contains(l[0], want) {
		t.Errorf("%d requests; want the stop to say %q, got:\n%s", len(keys), want, b.logs)
	}
}

// TestDispatcher_RetryWriteErrorCoolsDown: a failed push whose retry cannot be recorded is
// not pushed again before the cooldown, even when woken.
func TestDispatcher_RetryWriteErrorCoolsDown(t *testing.T) {
	srv := newRecordCRM(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "later", http.StatusServiceUnavailable) })
	b := setup(t, srv.URL)
	b.ob.add(callEvents("803", 0)[:1]...)
	b.ob.retryErr = errors.New("database or disk is full")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.d.Run(ctx) }()
	clitest.WaitFor(t, 10*time.Second, "a request at the CRM", func() bool { return len(srv.requests()) >= 1 })
	for range 20 {
		b.d.Notify()
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if n := len(srv.requests()); n != 1 {
		t.Errorf("the row was pushed %d times within the cooldown, want once", n)
	}
}

func TestDispatcher_Misconfigured(t *testing.T) {
	if err := (&crm.Dispatcher{}).Run(t.Context()); err == nil {
		t.Error("Run without Outbox and Pusher = nil, want error")
	}
}
