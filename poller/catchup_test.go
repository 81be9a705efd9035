package poller_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/testdb"
	"github.com/celbridge/celbridge/mapper"
	"github.com/celbridge/celbridge/poller"
	"github.com/celbridge/celbridge/store"
)

// countingStore counts the poller's commits.
type countingStore struct {
	*store.DB
	commits int
}

func (s *countingStore) Commit(ctx context.Context, cursor int64, events []celbridge.Event) (int, error) {
	s.commits++
	return s.DB.Commit(ctx, cursor, events)
}

// farFuture is a time every stored row is due at.
var farFuture = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// catchUp runs one Tick over the whole capture from a checkpoint at 0 with batches of
// batch rows, and returns the commits it took, the stored events' keys and the checkpoint.
func catchUp(t *testing.T, src *poller.MySQLSource, batch int) (commits int, keys []string, cursor int64) {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Commit(t.Context(), 0, nil); err != nil { // stopped at the table's start
		t.Fatal(err)
	}
	cs := &countingStore{DB: st}
	p := &poller.Poller{Source: src, Store: cs, Mapper: mapper.New(mapper.DefaultConfig()), BatchSize: batch,
		Now: func() time.Time { return rigStart }, Routine: func(error) bool { return true }}
	if err := p.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	for {
		due, err := st.Due(t.Context(), farFuture, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) == 0 {
			break
		}
		for _, d := range due {
			keys = append(keys, d.Event.IdempotencyKey())
			if err := st.Delivered(t.Context(), d.ID, farFuture); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(keys)
	if cursor, _, err = st.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	return cs.commits, keys, cursor
}

// TestTick_CatchUp: a poller far behind (a daemon started again after a stop) reads the
// backlog in batches but commits them together, and stores what a poller reading it in one
// batch stores, with the same checkpoint.
func TestTick_CatchUp(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	db.LoadSQL(t, "testdata/freepbx-cel/cel.sql")
	src, err := poller.OpenMySQL(t.Context(), db.ReaderDSN, "cel", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	commits, got, cursor := catchUp(t, src, 5) // 75 batches
	if commits > 2 {
		t.Errorf("the backlog of 374 rows in batches of 5 took %d commits, want them grouped", commits)
	}
	_, want, wantCursor := catchUp(t, src, 1000)
	if !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("in batches of 5 the catch-up stored %d events, in one batch %d:\ngot  %v\nwant %v", len(got), len(want), got, want)
	}
	if cursor != wantCursor {
		t.Errorf("checkpoint after the catch-up = %d, in one batch %d", cursor, wantCursor)
	}
}
