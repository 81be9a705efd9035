package store_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/store"
)

// TestDB_Delivered_Concurrent: many callers marking at once (group commit writes their marks
// together) each get their own outcome, and every call's next event becomes its head.
func TestDB_Delivered_Concurrent(t *testing.T) {
	db, _ := openTemp(t)
	const calls = 60
	var events []celbridge.Event
	for n := 1; n <= calls; n++ {
		events = append(events, call(n)...)
	}
	mustCommit(t, db, 1, events, 3*calls)
	var prev []int64
	for round, typ := range []string{celbridge.Received, celbridge.Answered, celbridge.Hangup} {
		due, err := db.Due(t.Context(), t0, 1000)
		if err != nil || len(due) != calls {
			t.Fatalf("round %d: Due = %d rows, %v; want the %d heads", round, len(due), err, calls)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(due)+5)
		for i, d := range due {
			if d.Event.RequestType != typ {
				t.Fatalf("round %d: head %s, want a %s", round, d.Event.IdempotencyKey(), typ)
			}
			wg.Go(func() { errs[i] = db.Delivered(t.Context(), d.ID, t0) })
		}
		for i := range 5 { // ids that do not exist, in the same rush
			wg.Go(func() { errs[len(due)+i] = db.Delivered(t.Context(), int64(1_000_000+i), t0) })
		}
		if round > 0 { // rows delivered in the round before: marking them again changes nothing
			for _, id := range prev {
				wg.Go(func() {
					if err := db.Delivered(t.Context(), id, t0); err != nil {
						t.Errorf("round %d: Delivered again (%d) = %v", round, id, err)
					}
				})
			}
		}
		wg.Wait()
		prev = prev[:0]
		for _, d := range due {
			prev = append(prev, d.ID)
		}
		for i, err := range errs {
			if i < len(due) && err != nil {
				t.Errorf("round %d: Delivered(%d) = %v", round, due[i].ID, err)
			}
			if i >= len(due) && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("round %d: Delivered of a missing row = %v, want ErrNotFound", round, err)
			}
		}
		checkHeads(t, db)
	}
	if due, err := db.Due(t.Context(), t0, 1000); err != nil || len(due) != 0 {
		t.Fatalf("after delivering everything Due = %d rows, %v", len(due), err)
	}
	var n int
	if err := store.SQL(db).QueryRow(`SELECT count(*) FROM outbox WHERE state = 'delivered' AND delivered_at IS NOT NULL`).Scan(&n); err != nil || n != 3*calls {
		t.Errorf("%d rows delivered with a time, %v; want %d", n, err, 3*calls)
	}
}
