package crm_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/crm"
)

// fakeOutbox is an in-memory outbox with the store's head-of-line semantics: per call only the
// oldest undelivered row is due, only while pending and its next attempt has come; a failed
// head blocks its call. It is a test double, not the system under test; TestFakeOutbox_Contract
// runs the store's contract (internal/outboxtest) on it. It is stricter than the store on
// misuse: settling a row that is not pending is an error.
type fakeOutbox struct {
	mu     sync.Mutex
	rows   []*fakeRow // ascending id
	dueErr error
	// writeErr, when set, fails every Delivered (a store that cannot write).
	writeErr error
	// failDelivered fails that many Delivered calls, then lets them work (a disk that was
	// full, then freed).
	failDelivered int
	// delivers counts Delivered calls.
	delivers int
	// retryErr, when set, fails every Retry.
	retryErr error
}

type fakeRow struct {
	id       int64
	ev       celbridge.Event
	state    string // "pending", "delivered", "failed"
	attempts int
	next     time.Time
	lastErr  string
}

var _ crm.Outbox = (*fakeOutbox)(nil)

func (o *fakeOutbox) add(evs ...celbridge.Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range evs {
		o.rows = append(o.rows, &fakeRow{id: int64(len(o.rows) + 1), ev: e, state: "pending"})
	}
}

func (o *fakeOutbox) Due(_ context.Context, now time.Time, limit int) ([]celbridge.Delivery, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dueErr != nil {
		return nil, o.dueErr
	}
	var out []celbridge.Delivery
	seen := map[string]bool{}
	for _, r := range o.rows {
		call := r.ev.GeneralCallID
		if r.state == "delivered" || seen[call] {
			continue
		}
		seen[call] = true
		if r.state == "pending" && !r.next.After(now) {
			out = append(out, celbridge.Delivery{ID: r.id, Event: r.ev, Attempts: r.attempts})
		}
	}
	// By next attempt, then id (rows are in id order already): internal/outboxtest checks
	// that this is the store's order.
	slices.SortStableFunc(out, func(a, b celbridge.Delivery) int {
		return o.byID(a.ID).next.Compare(o.byID(b.ID).next)
	})
	return out[:min(limit, len(out))], nil
}

// byID returns row id; the caller holds mu.
func (o *fakeOutbox) byID(id int64) *fakeRow {
	return o.rows[id-1]
}

// pending returns row id if it is pending; the dispatcher must only settle rows it was given.
func (o *fakeOutbox) pending(id int64) (*fakeRow, error) {
	for _, r := range o.rows {
		if r.id == id {
			if r.state != "pending" {
				return nil, fmt.Errorf("row %d is %s", id, r.state)
			}
			return r, nil
		}
	}
	return nil, fmt.Errorf("row %d does not exist", id)
}

func (o *fakeOutbox) Delivered(_ context.Context, id int64, _ time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.delivers++
	if o.writeErr != nil {
		return o.writeErr
	}
	if o.failDelivered > 0 {
		o.failDelivered--
		return fmt.Errorf("mark outbox row %d delivered: database or disk is full", id)
	}
	r, err := o.pending(id)
	if err != nil {
		return err
	}
	r.state = "delivered"
	return nil
}

func (o *fakeOutbox) Retry(_ context.Context, id int64, attempts int, next time.Time, lastErr string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.retryErr != nil {
		return o.retryErr
	}
	r, err := o.pending(id)
	if err != nil {
		return err
	}
	r.attempts, r.next, r.lastErr = attempts, next, lastErr
	return nil
}

func (o *fakeOutbox) Fail(_ context.Context, id int64, attempts int, lastErr string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	r, err := o.pending(id)
	if err != nil {
		return err
	}
	r.state, r.attempts, r.lastErr = "failed", attempts, lastErr
	return nil
}

// row returns a copy of the row with the given idempotency key.
func (o *fakeOutbox) row(key string) fakeRow {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range o.rows {
		if r.ev.IdempotencyKey() == key {
			return *r
		}
	}
	panic("no row " + key)
}

// setFailDelivered makes the next n Delivered calls fail.
func (o *fakeOutbox) setFailDelivered(n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failDelivered = n
}

// deliveredCalls returns how many times Delivered was called.
func (o *fakeOutbox) deliveredCalls() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.delivers
}

// count returns how many rows are in state.
func (o *fakeOutbox) count(state string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, r := range o.rows {
		if r.state == state {
			n++
		}
	}
	return n
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
