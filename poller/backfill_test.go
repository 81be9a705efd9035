package poller_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/pollertest"
	"github.com/celbridge/celbridge/mapper"
	"github.com/celbridge/celbridge/poller"
)

// TestBackfill_Range: a backfill rebuilds the calls that started in its range, whole (reading
// past its end for them), and leaves the calls that started after it to the live poller.
func TestBackfill_Range(t *testing.T) {
	x, y := pollertest.Calls(t)
	for _, c := range []struct {
		name     string
		from, to int64
		want     [][]celbridge.CELRow
	}{
		{"EndsInsideFirstCall", 1, 5, [][]celbridge.CELRow{x}},
		{"BothCalls", 1, 26, [][]celbridge.CELRow{x, y}},
		{"SecondCallOnly", 14, 14, [][]celbridge.CELRow{y}},
	} {
		for _, batch := range []int{1, 4, 1000} {
			t.Run(fmt.Sprintf("%s/batch%d", c.name, batch), func(t *testing.T) {
				tab := newMemEnv(t).Table.(*memTable)
				tab.Insert(t, slices.Concat(x, y)...) // ids 1..13, then 14..26
				var got []celbridge.Event
				b := &poller.Backfill{Source: tab, Mapper: mapper.New(mapper.DefaultConfig()), BatchSize: batch,
					FromID: c.from, ToID: c.to, Routine: func(error) bool { return true },
					Emit: func(_ context.Context, evs []celbridge.Event) error {
						got = append(got, evs...)
						return nil
					}}
				if _, err := b.Run(t.Context()); err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, rows := range c.want {
					want = append(want, pollertest.Want(rows)...)
				}
				if d := cmp.Diff(want, pollertest.Forms(got)); d != "" {
					t.Errorf("range %d..%d, batches of %d (-want +got):\n%s", c.from, c.to, batch, d)
				}
			})
		}
	}
}
