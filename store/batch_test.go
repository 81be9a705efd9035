package store_test

import (
	"slices"
	"testing"

	"github.com/celbridge/celbridge/store"
)

// TestBatch: events are stored in groups of Size (and the rest at Flush); a second batch of
// the same events adds none and counts the one parked as failed.
func TestBatch(t *testing.T) {
	db, _ := openTemp(t)
	events := slices.Concat(call(1), call(2), call(3)) // 9 events
	flushes := 0
	b := &store.Batch{DB: db, Size: 4, Flushed: func() { flushes++ }}
	for _, e := range events {
		if err := b.Add(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if flushes != 2 {
		t.Errorf("9 events in groups of 4: %d groups stored before Flush, want 2", flushes)
	}
	if err := b.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if flushes != 3 || b.Added != 9 || b.DupFailed != 0 {
		t.Errorf("after Flush: %d groups, %d added, %d failed before; want 3, 9, 0", flushes, b.Added, b.DupFailed)
	}
	if err := b.Flush(t.Context()); err != nil || flushes != 3 {
		t.Errorf("an empty Flush stored a group (%d) or failed: %v", flushes, err)
	}

	key := events[0].IdempotencyKey()
	if err := db.Fail(t.Context(), dueID(t, db, t0.AddDate(1, 0, 0), key), 1, "HTTP 400"); err != nil {
		t.Fatal(err)
	}
	again := &store.Batch{DB: db, Size: 100}
	if err := again.Add(t.Context(), events...); err != nil {
		t.Fatal(err)
	}
	if err := again.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if again.Added != 0 || again.DupFailed != 1 {
		t.Errorf("the same events again: %d added, %d failed before; want 0, 1", again.Added, again.DupFailed)
	}
}
