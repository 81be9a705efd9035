package store_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/store"
)

const (
	rcv = celbridge.Received
	ans = celbridge.Answered
	hup = celbridge.Hangup
)

// step is one action on the outbox in a scenario; it may return the clock for the next Due.
type step func(t *testing.T, db *store.DB, now time.Time)

func deliver(k string) step {
	return func(t *testing.T, db *store.DB, now time.Time) {
		if err := db.Delivered(t.Context(), dueID(t, db, now, k), now); err != nil {
			t.Fatal(err)
		}
	}
}

func retry(k string, next time.Duration) step {
	return func(t *testing.T, db *store.DB, now time.Time) {
		if err := db.Retry(t.Context(), dueID(t, db, now, k), 1, now.Add(next), "HTTP 503"); err != nil {
			t.Fatal(err)
		}
	}
}

func fail(k string) step {
	return func(t *testing.T, db *store.DB, now time.Time) {
		if err := db.Fail(t.Context(), dueID(t, db, now, k), 1, "HTTP 400: bad companyID"); err != nil {
			t.Fatal(err)
		}
	}
}

func requeue(k string, wantN int) step {
	return func(t *testing.T, db *store.DB, now time.Time) {
		if n, err := db.Requeue(t.Context(), k); err != nil || n != wantN {
			t.Fatalf("Requeue(%q) = %d, %v; want %d", k, n, err, wantN)
		}
	}
}

func TestDB_Due(t *testing.T) {
	tests := []struct {
		name  string
		calls []int // whole calls committed, in this order
		steps []step
		at    time.Duration // Due is read at t0+at
		want  []string
	}{
		{"HeadOfEachCallInIDOrder", []int{2, 1, 3}, nil, 0,
			[]string{key(2, rcv), key(1, rcv), key(3, rcv)}},
		{"DeliveredUnblocksNext", []int{1, 2}, []step{deliver(key(1, rcv))}, 0,
			[]string{key(1, ans), key(2, rcv)}}, // by id: call 1's answer was stored first
		{"WholeCallDelivered", []int{1}, []step{deliver(key(1, rcv)), deliver(key(1, ans)), deliver(key(1, hup))}, 0,
			[]string{}},
		{"RetryNotDueBeforeNext", []int{1, 2}, []step{retry(key(1, rcv), time.Minute)}, 59 * time.Second,
			[]string{key(2, rcv)}},
		{"RetryDueAtNextAfterFreshRows", []int{1, 2}, []step{retry(key(1, rcv), time.Minute)}, time.Minute,
			[]string{key(2, rcv), key(1, rcv)}},
		{"RetriesOrderedByNextAttempt", []int{1, 2}, []step{retry(key(1, rcv), 2*time.Minute), retry(key(2, rcv), time.Minute)}, time.Hour,
			[]string{key(2, rcv), key(1, rcv)}},
		{"FailedHeadBlocksItsCallOnly", []int{1, 2}, []step{fail(key(1, rcv))}, time.Hour,
			[]string{key(2, rcv)}},
		{"FailedLaterEventBlocksRest", []int{1}, []step{deliver(key(1, rcv)), fail(key(1, ans))}, time.Hour,
			[]string{}},
		{"RequeueByKey", []int{1, 2}, []step{fail(key(1, rcv)), requeue(key(1, rcv), 1)}, 0,
			[]string{key(1, rcv), key(2, rcv)}},
		{"RequeueByCall", []int{1, 2}, []step{fail(key(1, rcv)), requeue("17326000001", 1)}, 0,
			[]string{key(1, rcv), key(2, rcv)}},
		{"RequeueAll", []int{1, 2, 3}, []step{fail(key(1, rcv)), fail(key(2, rcv)), requeue("", 2)}, 0,
			[]string{key(1, rcv), key(2, rcv), key(3, rcv)}},
		{"RequeueOtherKeyChangesNothing", []int{1}, []step{fail(key(1, rcv)), requeue(key(2, rcv), 0)}, 0,
			[]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openTemp(t)
			store.SetNow(db, func() time.Time { return t0 })
			for _, n := range tt.calls {
				mustCommit(t, db, int64(n*100+9), call(n), 3)
			}
			for _, s := range tt.steps {
				s(t, db, t0)
			}
			if got := dueKeys(t, db, t0.Add(tt.at)); !slices.Equal(got, tt.want) {
				t.Errorf("Due keys = %v, want %v", got, tt.want)
			}
			checkHeads(t, db)
		})
	}
}

func TestDB_Due_Limit(t *testing.T) {
	db, _ := openTemp(t)
	for n := 1; n <= 5; n++ {
		mustCommit(t, db, int64(n*100+9), call(n), 3)
	}
	due, err := db.Due(t.Context(), t0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[0].Event.GeneralCallID != "17326000001" || due[1].Event.GeneralCallID != "17326000002" {
		t.Errorf("Due(limit 2) = %+v; want the heads of calls 1 and 2", due)
	}
	if due[0].Event.DIDNumber != "0443334000" || due[0].Attempts != 0 {
		t.Errorf("Due payload = %+v; want the stored event with 0 attempts", due[0])
	}
}

func TestDB_Retry_CountsAttempts(t *testing.T) {
	db, _ := openTemp(t)
	ctx := t.Context()
	mustCommit(t, db, 109, call(1), 3)
	id := dueID(t, db, t0, key(1, rcv))
	for attempt := 1; attempt <= 3; attempt++ {
		next := t0.Add(time.Duration(attempt) * time.Hour)
		if err := db.Retry(ctx, id, attempt, next, "timeout"); err != nil {
			t.Fatal(err)
		}
		if got := dueKeys(t, db, next.Add(-time.Millisecond)); len(got) != 0 {
			t.Fatalf("attempt %d: due before next: %v", attempt, got)
		}
		due, err := db.Due(ctx, next, 10)
		if err != nil || len(due) != 1 || due[0].ID != id || due[0].Attempts != attempt {
			t.Fatalf("attempt %d: Due at next = %+v, %v; want row %d with %d attempts", attempt, due, err, id, attempt)
		}
	}
}

func TestDB_Outbox_Errors(t *testing.T) {
	db, _ := openTemp(t)
	ctx := t.Context()
	mustCommit(t, db, 109, call(1), 3)
	id := dueID(t, db, t0, key(1, rcv))
	if err := db.Delivered(ctx, id, t0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"DeliveredAgainIsNoOp", db.Delivered(ctx, id, t0), nil},
		{"DeliveredUnknown", db.Delivered(ctx, 999, t0), store.ErrNotFound},
		{"RetryDelivered", db.Retry(ctx, id, 2, t0, "x"), store.ErrNotPending},
		{"RetryUnknown", db.Retry(ctx, 999, 2, t0, "x"), store.ErrNotFound},
		{"FailDelivered", db.Fail(ctx, id, 2, "x"), store.ErrNotPending},
		{"FailUnknown", db.Fail(ctx, 999, 2, "x"), store.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !errors.Is(tt.err, tt.want) || (tt.want == nil) != (tt.err == nil) {
				t.Errorf("error = %v, want %v", tt.err, tt.want)
			}
		})
	}
	checkHeads(t, db)
}

func TestDB_Undelivered(t *testing.T) {
	db, _ := openTemp(t)
	ctx := t.Context()
	mustCommit(t, db, 209, append(call(1), call(2)...), 6)
	if err := db.Delivered(ctx, dueID(t, db, t0, key(1, rcv)), t0); err != nil {
		t.Fatal(err)
	}
	if err := db.Fail(ctx, dueID(t, db, t0, key(2, rcv)), 1, "HTTP 400"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                 string
		keys                 []string
		wantPending, wantFai int
	}{
		{"None", nil, 0, 0},
		{"Delivered", []string{key(1, rcv)}, 0, 0},
		{"Call1", []string{key(1, rcv), key(1, ans), key(1, hup)}, 2, 0},
		{"Call2", []string{key(2, rcv), key(2, ans), key(2, hup)}, 2, 1},
		{"UnknownKey", []string{"nope", key(2, rcv)}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, f, err := db.Undelivered(ctx, tt.keys)
			if err != nil || p != tt.wantPending || f != tt.wantFai {
				t.Errorf("Undelivered = %d pending, %d failed, %v; want %d, %d", p, f, err, tt.wantPending, tt.wantFai)
			}
		})
	}
}

// TestDB_PendingUpTo: a backfill waits for the outbox rows up to the id it noted after
// enqueueing; rows enqueued after it do not hold it up.
func TestDB_PendingUpTo(t *testing.T) {
	db, _ := openTemp(t)
	ctx := t.Context()
	if end, err := db.OutboxEnd(ctx); err != nil || end != 0 {
		t.Fatalf("OutboxEnd of an empty store = %d, %v", end, err)
	}
	mustCommit(t, db, 109, call(1), 3)
	end, err := db.OutboxEnd(ctx)
	if err != nil || end != 3 {
		t.Fatalf("OutboxEnd = %d, %v; want 3", end, err)
	}
	mustCommit(t, db, 209, call(2), 3) // later rows: ids 4..6
	pending := func(upTo int64, want bool) {
		t.Helper()
		if got, err := db.PendingUpTo(ctx, upTo); err != nil || got != want {
			t.Errorf("PendingUpTo(%d) = %v, %v; want %v", upTo, got, err, want)
		}
	}
	pending(end, true)
	for _, k := range []string{key(1, rcv), key(1, ans)} {
		if err := db.Delivered(ctx, dueID(t, db, t0, k), t0); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Fail(ctx, dueID(t, db, t0, key(1, hup)), 1, "HTTP 400"); err != nil {
		t.Fatal(err)
	}
	pending(end, false) // call 2 is still pending, after the end
	pending(6, true)
	if n, err := db.CountUpTo(ctx, store.StateFailed, 0, end); err != nil || n != 1 {
		t.Errorf("CountUpTo(failed, 0, 3) = %d, %v; want 1", n, err)
	}
	if n, err := db.CountUpTo(ctx, store.StatePending, end, 6); err != nil || n != 3 {
		t.Errorf("CountUpTo(pending, 3, 6) = %d, %v; want 3", n, err)
	}
	if n, err := db.CountUpTo(ctx, store.StateFailed, 3, 6); err != nil || n != 0 {
		t.Errorf("CountUpTo(failed, 3, 6) = %d, %v; want 0", n, err)
	}
}

func TestDB_Requeue_ResetsAttempts(t *testing.T) {
	db, _ := openTemp(t)
	ctx := t.Context()
	mustCommit(t, db, 109, call(1), 3)
	id := dueID(t, db, t0, key(1, rcv))
	if err := db.Retry(ctx, id, 4, t0.Add(time.Hour), "HTTP 500"); err != nil {
		t.Fatal(err)
	}
	if err := db.Fail(ctx, id, 5, "HTTP 400"); err != nil {
		t.Fatal(err)
	}
	if n, err := db.Requeue(ctx, ""); err != nil || n != 1 {
		t.Fatalf("Requeue = %d, %v; want 1", n, err)
	}
	due, err := db.Due(ctx, t0, 10)
	if err != nil || len(due) != 1 || due[0].ID != id || due[0].Attempts != 0 {
		t.Errorf("Due after Requeue = %+v, %v; want row %d with 0 attempts, due at once", due, err, id)
	}
}
