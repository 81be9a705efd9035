package store

import (
	"context"

	"github.com/celbridge/celbridge"
)

// Batch enqueues events in groups of Size, one transaction (one fsync) a group, as a
// backfill hands them over. It counts the events that were new and, among the others (queued
// or delivered by an earlier run), those parked as failed, which a backfill reports as
// failed too.
type Batch struct {
	DB   *DB
	Size int
	// Flushed, when set, is called after each group is stored (to wake the delivery).
	Flushed func()

	Added     int // events new to the outbox
	DupFailed int // events queued before and parked as failed
	group     []celbridge.Event
}

// Add takes events, storing a group whenever Size are waiting.
func (b *Batch) Add(ctx context.Context, events ...celbridge.Event) error {
	b.group = append(b.group, events...)
	if len(b.group) >= max(b.Size, 1) {
		return b.Flush(ctx)
	}
	return nil
}

// Flush stores the events waiting, if any.
func (b *Batch) Flush(ctx context.Context) error {
	if len(b.group) == 0 {
		return nil
	}
	added, err := b.DB.Enqueue(ctx, b.group)
	if err != nil {
		return err
	}
	b.Added += added
	if added < len(b.group) { // some were queued before: count those parked as failed
		keys := make([]string, len(b.group))
		for i, e := range b.group {
			keys[i] = e.IdempotencyKey()
		}
		_, failed, err := b.DB.Undelivered(ctx, keys)
		if err != nil {
			return err
		}
		b.DupFailed += failed
	}
	b.group = b.group[:0]
	if b.Flushed != nil {
		b.Flushed()
	}
	return nil
}
