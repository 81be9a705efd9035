package freepbx

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/testdb"
	"github.com/celbridge/celbridge/mapper"
	"github.com/celbridge/celbridge/poller"
)

var _ poller.RangeStreamer = (*CEL)(nil)

// streamAll reads ids from..to with Stream in chunks of n, copying each chunk (Stream reuses
// its slice).
func streamAll(t *testing.T, s *CEL, from, to int64, n int) []celbridge.CELRow {
	t.Helper()
	var all []celbridge.CELRow
	err := s.Stream(t.Context(), from, to, n, func(rows []celbridge.CELRow) error {
		if len(rows) == 0 || len(rows) > n {
			t.Errorf("chunk of %d rows, want 1..%d", len(rows), n)
		}
		all = append(all, rows...)
		return nil
	})
	if err != nil {
		t.Fatalf("Stream(%d, %d, %d): %v", from, to, n, err)
	}
	return all
}

// sameRows compares rows field by field, times by instant.
func sameRows(t *testing.T, what string, got, want []celbridge.CELRow) {
	t.Helper()
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
		t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

// TestCEL_Stream: one streaming query gives the rows ReadAfter gives, in order, in
// chunks of the size asked, for the whole table and for ranges within it.
func TestCEL_Stream(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	db.LoadSQL(t, "testdata/freepbx-cel/cel.sql")
	s := openSource(t, db, kyiv)
	all := readAll(t, s, 1000)

	for _, n := range []int{1, 7, 100, 374, 1000} {
		sameRows(t, fmt.Sprintf("whole table in chunks of %d", n), streamAll(t, s, 1, 374, n), all)
	}
	sameRows(t, "ids 3..10", streamAll(t, s, 3, 10, 4), all[2:10])
	sameRows(t, "ids 370..5000", streamAll(t, s, 370, 5000, 4), all[369:])
	if got := streamAll(t, s, 400, 500, 10); len(got) != 0 {
		t.Errorf("a range past the table gave %d rows", len(got))
	}

	t.Run("ErrorStops", func(t *testing.T) {
		stop := errors.New("stop")
		calls := 0
		err := s.Stream(t.Context(), 1, 374, 10, func([]celbridge.CELRow) error {
			calls++
			return stop
		})
		if !errors.Is(err, stop) || calls != 1 {
			t.Errorf("Stream = %v after %d calls, want fn's error after 1", err, calls)
		}
		// The pool still works after a statement ended early.
		if rows, err := s.ReadAfter(t.Context(), 0, 5); err != nil || len(rows) != 5 {
			t.Errorf("ReadAfter after an early stop: %d rows, %v", len(rows), err)
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		err := s.Stream(ctx, 1, 374, 10, func([]celbridge.CELRow) error {
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Stream after cancel = %v, want context.Canceled", err)
		}
	})
}

// batchesOnly hides Stream, so Backfill reads its range in batches as before issue 13.
type batchesOnly struct{ s *CEL }

func (b batchesOnly) ReadAfter(ctx context.Context, afterID int64, limit int) ([]celbridge.CELRow, error) {
	return b.s.ReadAfter(ctx, afterID, limit)
}

// TestBackfill_StreamSameAsBatches: a backfill that streams its range emits exactly the events
// (same order, same values) of one that reads it in batches, for ranges that end inside calls
// (their rows past the range are then read in batches) and for batch sizes smaller than a call.
func TestBackfill_StreamSameAsBatches(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	db.LoadSQL(t, "testdata/freepbx-cel/cel.sql")
	s := openSource(t, db, kyiv)
	run := func(src poller.RangeSource, from, to int64, batch int) ([]celbridge.Event, int64) {
		var events []celbridge.Event
		b := &poller.Backfill{Source: src, Mapper: mapper.New(mapper.DefaultConfig()), BatchSize: batch,
			FromID: from, ToID: to,
			Emit: func(_ context.Context, evs []celbridge.Event) error {
				events = append(events, evs...)
				return nil
			}}
		rows, err := b.Run(t.Context())
		if err != nil {
			t.Fatalf("Run(%d..%d, batch %d): %v", from, to, batch, err)
		}
		return events, rows
	}
	for _, c := range []struct {
		from, to int64
		batch    int
	}{{1, 374, 1000}, {1, 374, 7}, {1, 100, 1000}, {1, 100, 3}, {40, 200, 50}, {300, 374, 1}} {
		want, wantRows := run(batchesOnly{s}, c.from, c.to, c.batch)
		got, gotRows := run(s, c.from, c.to, c.batch)
		if len(want) == 0 {
			t.Fatalf("%+v: no events at all", c)
		}
		if gotRows != wantRows || !slices.EqualFunc(got, want, func(a, b celbridge.Event) bool { return a.IdempotencyKey() == b.IdempotencyKey() }) {
			t.Errorf("%+v: streamed %d rows, %d events; batched %d rows, %d events", c, gotRows, len(got), wantRows, len(want))
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%+v: events (-batched +streamed):\n%s", c, d)
		}
	}
}
