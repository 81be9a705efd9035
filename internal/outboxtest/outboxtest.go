// Package outboxtest is the contract of crm.Outbox as tests: one suite that runs against the
// real store (store.DB) and against crm's in-memory test double, so that the double cannot
// drift from what the dispatcher meets in production.
package outboxtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/crm"
)

// Factory returns an empty outbox for one subtest and a function that enqueues events, in
// order, as the poller does.
type Factory func(t *testing.T) (ob crm.Outbox, enqueue func(t *testing.T, events ...celbridge.Event))

// T0 is the suite's reference time; it is never the time the suite runs.
var T0 = time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)

// Event returns event number seq of call n, of the given request type.
func Event(n, seq int, requestType string) celbridge.Event {
	linked := fmt.Sprintf("1732600000.%d", n)
	return celbridge.Event{
		LinkedID:       linked,
		GeneralCallID:  celbridge.DigitsOnly(linked),
		RequestType:    requestType,
		Seq:            seq,
		CallType:       celbridge.Incoming,
		DIDNumber:      "0443334000",
		ExternalNumber: "0670219424",
		InternalNumber: "801",
		CELID:          int64(n*100 + seq),
		FirstCELID:     int64(n * 100),
		Time:           T0.Add(time.Duration(n*100+seq) * time.Second),
		Rule:           "outboxtest",
	}
}

// Run runs the contract against the outboxes that newOutbox makes.
func Run(t *testing.T, newOutbox Factory) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ob, enqueue := newOutbox(t)
			c.run(t, contract{t: t, ob: ob, enqueue: enqueue})
		})
	}
}

var cases = []struct {
	name string
	run  func(*testing.T, contract)
}{
	{"HeadOfLine", func(t *testing.T, c contract) {
		c.enqueue(t, Event(1, 0, celbridge.Received), Event(1, 1, celbridge.Answered), Event(2, 0, celbridge.Received))
		due := c.due(T0, 10)
		c.want(due, "1:received", "2:received")
		c.delivered(due[0].ID)
		c.want(c.due(T0, 10), "1:answered", "2:received")
	}},
	{"EventRoundTrip", func(t *testing.T, c contract) {
		e := Event(1, 0, celbridge.Hangup)
		e.Billsec, e.Disposition = 42, celbridge.DispAnswer
		c.enqueue(t, e)
		due := c.due(T0, 1)
		c.want(due, "1:hangup")
		if got := due[0].Event; got.Billsec != 42 || got.Disposition != celbridge.DispAnswer || !got.Time.Equal(e.Time) ||
			got.IdempotencyKey() != e.IdempotencyKey() || due[0].Attempts != 0 {
			t.Errorf("due event = %+v (attempts %d), want %+v (attempts 0)", got, due[0].Attempts, e)
		}
	}},
	{"RetryWaitsUntilNext", func(t *testing.T, c contract) {
		c.enqueue(t, Event(1, 0, celbridge.Received), Event(1, 1, celbridge.Answered), Event(2, 0, celbridge.Received))
		head := c.due(T0, 10)[0]
		c.retry(head.ID, 1, T0.Add(time.Minute))
		c.want(c.due(T0.Add(time.Minute-time.Millisecond), 10), "2:received") // its call waits behind it
		due := c.due(T0.Add(time.Minute), 10)
		c.want(due, "2:received", "1:received") // fresh rows first: ordered by next attempt
		if due[1].Attempts != 1 {
			t.Errorf("attempts after one retry = %d, want 1", due[1].Attempts)
		}
	}},
	{"RetryAtOnce", func(t *testing.T, c contract) {
		c.enqueue(t, Event(1, 0, celbridge.Received))
		c.retry(c.due(T0, 1)[0].ID, 3, time.Time{})
		due := c.due(T0, 1)
		c.want(due, "1:received")
		if due[0].Attempts != 3 {
			t.Errorf("attempts = %d, want 3", due[0].Attempts)
		}
	}},
	{"FailBlocksTheCall", func(t *testing.T, c contract) {
		c.enqueue(t, Event(1, 0, celbridge.Received), Event(1, 1, celbridge.Answered), Event(2, 0, celbridge.Received))
		c.fail(c.due(T0, 10)[0].ID, 5)
		c.want(c.due(T0.Add(24*time.Hour), 10), "2:received")
	}},
	{"Limit", func(t *testing.T, c contract) {
		for n := 1; n <= 3; n++ {
			c.enqueue(t, Event(n, 0, celbridge.Received))
		}
		c.want(c.due(T0, 2), "1:received", "2:received") // by id when due at the same time
		c.want(c.due(T0, 0))
	}},
	{"LaterRetryGoesLast", func(t *testing.T, c contract) {
		for n := 1; n <= 3; n++ {
			c.enqueue(t, Event(n, 0, celbridge.Received))
		}
		due := c.due(T0, 3)
		c.retry(due[0].ID, 1, T0.Add(2*time.Second))
		c.retry(due[1].ID, 1, T0.Add(time.Second))
		c.want(c.due(T0.Add(time.Hour), 3), "3:received", "2:received", "1:received")
		c.want(c.due(T0.Add(time.Hour), 1), "3:received")
	}},
	{"UnknownRow", func(t *testing.T, c contract) {
		ctx := t.Context()
		if err := c.ob.Delivered(ctx, 999, T0); err == nil {
			t.Error("Delivered(999) of an empty outbox: no error")
		}
		if err := c.ob.Retry(ctx, 999, 1, T0, "x"); err == nil {
			t.Error("Retry(999) of an empty outbox: no error")
		}
		if err := c.ob.Fail(ctx, 999, 1, "x"); err == nil {
			t.Error("Fail(999) of an empty outbox: no error")
		}
	}},
}

// contract holds one subtest's outbox and the steps the cases are written in.
type contract struct {
	t       *testing.T
	ob      crm.Outbox
	enqueue func(t *testing.T, events ...celbridge.Event)
}

func (c contract) due(now time.Time, limit int) []celbridge.Delivery {
	c.t.Helper()
	d, err := c.ob.Due(c.t.Context(), now, limit)
	if err != nil {
		c.t.Fatalf("Due(%s, %d): %v", now.Format(time.TimeOnly), limit, err)
	}
	return d
}

// want checks the due deliveries, in order, named "call:type" ("1:received" for
// receivedTheCall of call 1).
func (c contract) want(due []celbridge.Delivery, names ...string) {
	c.t.Helper()
	got := make([]string, len(due))
	for i, d := range due {
		got[i] = fmt.Sprintf("%d:%s", d.Event.CELID/100, strings.TrimSuffix(d.Event.RequestType, "TheCall"))
	}
	if !slices.Equal(got, names) && (len(got) > 0 || len(names) > 0) {
		c.t.Fatalf("due = %q, want %q", got, names)
	}
}

func (c contract) delivered(id int64) {
	c.t.Helper()
	if err := c.ob.Delivered(c.t.Context(), id, T0); err != nil {
		c.t.Fatalf("Delivered(%d): %v", id, err)
	}
}

func (c contract) retry(id int64, attempts int, next time.Time) {
	c.t.Helper()
	if err := c.ob.Retry(c.t.Context(), id, attempts, next, "503 Service Unavailable"); err != nil {
		c.t.Fatalf("Retry(%d): %v", id, err)
	}
}

func (c contract) fail(id int64, attempts int) {
	c.t.Helper()
	if err := c.ob.Fail(c.t.Context(), id, attempts, "400 Bad Request"); err != nil {
		c.t.Fatalf("Fail(%d): %v", id, err)
	}
}
