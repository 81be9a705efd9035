package crm

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/celbridge/celbridge"
)

// ackMsg is logged, at most every LogEvery, while the outbox cannot record deliveries.
const ackMsg = "the CRM accepted a request but the outbox cannot record it; the write is retried, not the request (free disk space where store.path is, or check that file)"

// ack is a push the CRM accepted (2xx) whose delivery the outbox failed to record, a full disk
// say. Its row is still pending in the outbox, so pushing it again would repeat it at the CRM;
// the Dispatcher keeps the acknowledgement in memory and retries the write alone, with
// backoff. Until every ack is recorded no new push starts: the outbox could not record its
// outcome either, and the call's later rows wait behind the unrecorded one anyway.
//
// An ack lives only in memory: if the process stops before the outbox works again, the row is
// pushed again after the restart, with the same Idempotency-Key. Pushes that started while the
// first failing write was under way (at most MaxCalls) become acks too.
type ack struct {
	event    celbridge.Event
	attempts int       // the push's attempt number (for the log)
	at       time.Time // when the CRM accepted it: the delivered_at to record
	writes   int       // failed writes so far
	next     time.Time // when to try the write again
}

// keepAck remembers that the CRM accepted row r at at, after the outbox failed to record it.
func (d *Dispatcher) keepAck(r celbridge.Delivery, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.acks == nil {
		d.acks = map[int64]*ack{}
	}
	d.acks[r.ID] = &ack{event: r.Event, attempts: r.Attempts + 1, at: at, writes: 1, next: at.Add(d.backoff(1))}
}

// acked reports whether row id was accepted by the CRM and waits to be recorded: it must not
// be pushed again, though the outbox still has it pending (its call's push may have ended just
// before dispatch asked the outbox for due rows).
func (d *Dispatcher) acked(id int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.acks[id]
	return ok
}

// unrecorded returns how many accepted pushes wait to be recorded.
func (d *Dispatcher) unrecorded() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.acks)
}

// dueAcks returns the rows whose write is due at now (all of them when all is set), by id.
func (d *Dispatcher) dueAcks(now time.Time, all bool) map[int64]*ack {
	d.mu.Lock()
	defer d.mu.Unlock()
	due := map[int64]*ack{}
	for id, a := range d.acks {
		if all || !now.Before(a.next) {
			due[id] = a
		}
	}
	return due
}

// recordAcks writes the acks due at now (every one when all is set) to the outbox, within
// writeTimeout in all, also when ctx is cancelled (at a stop). It returns how many it
// recorded and the last write error, which it logs (throttled).
func (d *Dispatcher) recordAcks(ctx context.Context, now time.Time, all bool) (recorded int, err error) {
	due := d.dueAcks(now, all)
	if len(due) == 0 {
		return 0, nil
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	for _, id := range slices.Sorted(maps.Keys(due)) {
		a := due[id]
		if werr := d.Outbox.Delivered(wctx, id, a.at); werr != nil {
			err = werr
			d.mu.Lock()
			a.writes++
			a.next = now.Add(d.backoff(a.writes))
			d.mu.Unlock()
			continue
		}
		d.mu.Lock()
		delete(d.acks, id)
		d.mu.Unlock()
		recorded++
		d.logDelivered(now, a.event, a.attempts)
	}
	if err != nil {
		d.logStoreError(ackMsg, err)
		return recorded, err
	}
	if ok, suppressed := d.storeLog.success(now); ok {
		d.log.Info("the outbox records deliveries again", "recorded", recorded, "suppressed", suppressed)
	}
	d.Notify() // the calls' next rows are due now
	return recorded, nil
}

// unrecordedError says that n accepted pushes could not be recorded, and what follows.
func unrecordedError(n int, err error) error {
	return fmt.Errorf("%d request(s) the CRM accepted could not be marked delivered; they are sent again (same Idempotency-Key) after the outbox works again and celbridge restarts or runs again (free disk space where store.path is): %w", n, err)
}
