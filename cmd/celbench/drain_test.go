package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/store"
)

type nopPusher struct{}

func (nopPusher) Push(context.Context, celbridge.Event) error { return nil }

// BenchmarkDrain measures the outbox delivery pipeline (store + dispatcher, default
// concurrency) with a CRM that answers at once: the ceiling of backfill delivery.
func BenchmarkDrain(b *testing.B) {
	const calls = 1000
	for b.Loop() {
		b.StopTimer()
		db, err := store.Open(b.Context(), filepath.Join(b.TempDir(), "state.db"))
		if err != nil {
			b.Fatal(err)
		}
		var events []celbridge.Event
		for n := range calls {
			linked := fmt.Sprintf("1732600000.%d", n)
			for i, typ := range []string{celbridge.Received, celbridge.Answered, celbridge.Hangup} {
				events = append(events, celbridge.Event{LinkedID: linked, GeneralCallID: celbridge.DigitsOnly(linked),
					RequestType: typ, CELID: int64(n*10 + i), FirstCELID: int64(n * 10), Time: time.Unix(1732600000, 0)})
			}
		}
		if _, err := db.Enqueue(b.Context(), events); err != nil {
			b.Fatal(err)
		}
		d := &crm.Dispatcher{Outbox: db, Pusher: nopPusher{}}
		b.StartTimer()
		delivered, _, err := d.Drain(b.Context())
		if err != nil || delivered != len(events) {
			b.Fatalf("Drain = %d, %v", delivered, err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*calls*3)/b.Elapsed().Seconds(), "events/s")
}
