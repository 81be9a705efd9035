package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/store"
)

// BenchmarkCommit measures one poll's transaction (synchronous=FULL: one fsync per commit).
func BenchmarkCommit(b *testing.B) {
	for _, calls := range []int{1, 100} {
		b.Run(fmt.Sprintf("events=%d", 3*calls), func(b *testing.B) {
			db, _ := openTemp(b)
			next := 0
			for b.Loop() {
				var events []celbridge.Event
				for range calls {
					next++
					events = append(events, call(next)...)
				}
				if _, err := db.Commit(b.Context(), int64(next), events); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(next*3), "ns/event")
		})
	}
}

// BenchmarkDue reads 100 due heads from an outbox of 100k pending rows in 33,334 calls,
// as after a CRM outage: half the heads wait for a retry in the future.
func BenchmarkDue(b *testing.B) {
	db := pendingCalls(b, 33334)
	later := t0.Add(time.Hour).UnixMilli()
	if _, err := store.SQL(db).ExecContext(b.Context(), `UPDATE outbox SET attempts = 1, next_attempt_at = ?
		WHERE head = 1 AND id % 2 = 0`, later); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		due, err := db.Due(b.Context(), t0, 100)
		if err != nil || len(due) != 100 {
			b.Fatalf("Due = %d rows, %v", len(due), err)
		}
	}
}

// BenchmarkDelivered measures the dispatcher's per-event cycle on a large outbox: Due of one
// head, then Delivered (a write transaction: one fsync at synchronous=FULL).
func BenchmarkDelivered(b *testing.B) {
	db := pendingCalls(b, 20000)
	for b.Loop() {
		due, err := db.Due(b.Context(), t0.Add(time.Hour), 1)
		if err != nil || len(due) != 1 {
			b.Fatalf("Due = %d rows, %v", len(due), err)
		}
		if err := db.Delivered(b.Context(), due[0].ID, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// pendingCalls returns a new store whose outbox holds the three events of each of calls
// calls, all pending.
func pendingCalls(b *testing.B, calls int) *store.DB {
	db, _ := openTemp(b)
	var events []celbridge.Event
	for n := 1; n <= calls; n++ {
		events = append(events, call(n)...)
		if len(events) >= 3000 || n == calls {
			if _, err := db.Enqueue(b.Context(), events); err != nil {
				b.Fatal(err)
			}
			events = events[:0]
		}
	}
	return db
}
