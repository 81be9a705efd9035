package store_test

import (
	"sync"
	"testing"

	"github.com/celbridge/celbridge/store"
)

// TestOpenReadOnly_WhileWriting reads consistent snapshots through a read-only handle while
// another handle commits: every batch is one cursor step with three events, so a snapshot
// must always show three pending events per cursor step.
func TestOpenReadOnly_WhileWriting(t *testing.T) {
	ctx := t.Context()
	db, path := openTemp(t)
	mustCommit(t, db, 0, nil, 0)
	ro, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()

	const batches = 150
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		defer close(done)
		for i := 1; i <= batches; i++ {
			if _, err := db.Commit(ctx, int64(i), call(i)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	reads, last := 0, int64(0)
	for running := true; running; reads++ {
		select {
		case <-done:
			running = false
		default:
		}
		s, err := ro.Stats(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		if s.Pending != 3*int(s.Cursor) || s.OpenCalls != 0 || s.Cursor < last {
			t.Fatalf("read %d: inconsistent snapshot %+v after cursor %d", reads, s, last)
		}
		last = s.Cursor
	}
	wg.Wait()
	if last != batches {
		t.Errorf("reader's last cursor = %d, want %d", last, batches)
	}
	t.Logf("%d consistent reads during %d commits", reads, batches)
}
