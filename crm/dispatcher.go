package crm

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/clock"
)

// Outbox is the part of the store the Dispatcher uses (store.DB implements it). Its errors
// say what failed and on which row ("mark outbox row 7 delivered: …"); the Dispatcher passes
// them on as they are.
type Outbox interface {
	// Due returns the deliveries due at now, at most limit, at most one per call: the call's
	// oldest undelivered row, and only while that row is pending with its next attempt <= now.
	Due(ctx context.Context, now time.Time, limit int) ([]celbridge.Delivery, error)
	// Delivered marks row id as delivered at at.
	Delivered(ctx context.Context, id int64, at time.Time) error
	// Retry keeps row id pending until next, with attempts made so far and the last error.
	Retry(ctx context.Context, id int64, attempts int, next time.Time, lastErr string) error
	// Fail parks row id as failed; it then blocks its call until retried by command.
	Fail(ctx context.Context, id int64, attempts int, lastErr string) error
}

// Pusher sends one event to the CRM; *Client is one.
type Pusher interface {
	Push(ctx context.Context, e celbridge.Event) error
}

// Results passed to Dispatcher.OnResult.
const (
	ResultOK     = "ok"
	ResultRetry  = "retry"
	ResultFailed = "failed"
)

// Defaults of the Dispatcher.
const (
	DefaultConcurrency = 4
	// CallsPerPush is how many calls may be in flight per push slot (MaxCalls' default): a
	// call whose push ended waits for its outcome to be written, which is grouped with other
	// calls' into one transaction and fsync, while the slot pushes another call's row. So
	// many requests may be accepted by the CRM but not yet recorded when the process dies:
	// they are sent again after the restart, with the same Idempotency-Key.
	CallsPerPush = 16
	// dueBatch is how many due rows one outbox read fetches ahead.
	dueBatch = 256
	// PollInterval is how often Run looks for due rows without a Notify: it picks up retries
	// whose backoff ended and rows committed by another process (backfill).
	PollInterval = 250 * time.Millisecond
	// writeTimeout bounds an outbox write made after the push, which runs even when the
	// dispatcher's context was just cancelled (see deliver).
	writeTimeout = 10 * time.Second
	maxLastErr   = 1024
)

// Dispatcher delivers the outbox: calls in parallel (up to Concurrency), the events of one
// call strictly in order, never two rows of the same generalCallID in flight. Set the exported
// fields before the first Run or Drain; Run and Drain must not run at the same time.
type Dispatcher struct {
	Outbox Outbox
	Pusher Pusher
	// Concurrency is the number of pushes in flight at most; 0 means DefaultConcurrency.
	Concurrency int
	// MaxCalls is the number of calls in flight at most: being pushed, or pushed and waiting
	// for their outcome to be recorded; 0 means 16 × Concurrency.
	MaxCalls int
	// MaxAttempts parks a row as failed after that many transient failures; 0 retries forever.
	MaxAttempts int
	// Backoff gives the wait after failed attempt n (1-based); nil means DefaultBackoff.
	Backoff func(attempt int) time.Duration
	// Logger gets one line per failure (throttled, see LogEvery); nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for due times and the log throttle; nil means time.Now.
	Now func() time.Time
	// OnResult, when set, is called after each push with the event's requestType, one of
	// ResultOK, ResultRetry, ResultFailed, the push's duration (for metrics) and, for a
	// failure, its kind: "HTTP 503", "timeout", "connection refused", "dns"… (the log's class;
	// never the CRM's body, so it is fit for an unauthenticated endpoint). It is called from
	// several goroutines at once.
	OnResult func(requestType, result string, d time.Duration, class string)

	initOnce sync.Once
	wake     chan struct{}
	log      *slog.Logger
	crmLog   *throttle // CRM failures and recovery
	storeLog *throttle // outbox read and write errors

	// queue holds due rows read ahead, of calls not in flight when read: the heads of their
	// calls until this Dispatcher settles them (no other writer delivers while it runs).
	queue []celbridge.Delivery

	mu       sync.Mutex
	inflight map[string]struct{} // generalCallIDs being pushed or recorded
	pushing  int                 // pushes in flight
	// cool holds rows whose failed push could not be recorded as such (a full disk): they
	// stay pending and due, so they wait until this time instead of being pushed again at
	// once.
	cool map[int64]time.Time
	// acks holds the rows the CRM accepted but the outbox could not mark delivered (see ack).
	acks map[int64]*ack
}

// writeCooldown is how long a row whose failure could not be recorded waits before its next
// push: the store may recover, and the CRM is not flooded with attempts meanwhile.
const writeCooldown = 10 * time.Second

// coolDown keeps row id from being pushed again for writeCooldown.
func (d *Dispatcher) coolDown(id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cool == nil {
		d.cool = map[int64]time.Time{}
	}
	d.cool[id] = d.now().Add(writeCooldown)
}

// cooling reports whether row id still waits after a failed outcome write.
func (d *Dispatcher) cooling(id int64, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	until, ok := d.cool[id]
	if ok && !now.Before(until) {
		delete(d.cool, id)
		return false
	}
	return ok
}

// tally counts the outcomes of one Drain.
type tally struct {
	mu                sync.Mutex
	delivered, failed int
	err               error // first outbox write error
}

func (d *Dispatcher) init() {
	d.initOnce.Do(func() {
		d.wake = make(chan struct{}, 1)
		d.inflight = map[string]struct{}{}
		d.crmLog = newThrottle(LogEvery)
		d.storeLog = newThrottle(LogEvery)
		d.log = d.Logger
		if d.log == nil {
			d.log = slog.Default()
		}
		d.log = d.log.With("component", "crm")
	})
}

// Notify wakes Run to look for due rows now (call it after a commit). It never blocks, and
// wake-ups that arrive while one waits are merged.
func (d *Dispatcher) Notify() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers due rows until ctx is done, looking on Notify, when a push ends and every
// PollInterval. Outbox read errors are logged (throttled) and retried; so are failed writes of
// deliveries the CRM accepted (see ack), and no new push starts until they are recorded. On
// cancellation it starts nothing new and returns nil once the pushes in flight have finished
// (each bounded by the client's timeout) and their outcome is recorded: a stop takes at most
// the client's timeout plus writeTimeout. It returns an error only when misconfigured.
func (d *Dispatcher) Run(ctx context.Context) error {
	if err := d.check(); err != nil {
		return err
	}
	d.init()
	var wg sync.WaitGroup
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	for {
		if _, err := d.recordAcks(ctx, d.now(), false); err == nil && d.unrecorded() == 0 {
			if _, err := d.dispatch(ctx, d.now(), &wg, nil); err != nil && ctx.Err() == nil {
				d.logStoreError("read outbox", err)
			}
		}
		select {
		case <-ctx.Done():
			d.stop(ctx, &wg)
			return nil
		case <-d.wake:
		case <-tick.C:
		}
	}
}

// stop waits for the pushes in flight. Meanwhile, in parallel with them (so that it does not
// make the stop longer), it tries once more to record the deliveries accepted earlier. What
// stays unrecorded is said in the log: it is pushed again after the restart.
func (d *Dispatcher) stop(ctx context.Context, wg *sync.WaitGroup) {
	_, err := d.recordAcks(ctx, d.now(), true)
	wg.Wait()
	if n := d.unrecorded(); n > 0 {
		d.log.Error("stopping with deliveries not recorded", "err", unrecordedError(n, err))
	}
}

// Drain delivers every row due now, including the later rows of a call whose earlier row
// succeeds meanwhile, and returns when nothing is due and nothing is in flight. Rows retried
// with a backoff are not waited for. It returns the rows delivered and parked as failed, and
// the first outbox error (after waiting for pushes in flight). When the outbox cannot record a
// delivery the CRM accepted, Drain starts no new push, tries the write once more at its end
// and, if it fails again, returns an error counting them; the next Drain of the same
// Dispatcher records them first, without pushing them again.
func (d *Dispatcher) Drain(ctx context.Context) (delivered, failed int, err error) {
	if err := d.check(); err != nil {
		return 0, 0, err
	}
	d.init()
	now := d.now() // fixed: a row retried with a backoff is not due again in this drain
	var wg sync.WaitGroup
	var t tally
	// Deliveries an earlier Drain could not record are recorded first; no push starts while
	// one is not (see ack).
	t.delivered, _ = d.recordAcks(ctx, now, true)
	for err == nil && !t.failedWrite() && d.unrecorded() == 0 {
		var more bool
		if more, err = d.dispatch(ctx, now, &wg, &t); err != nil {
			break
		}
		if !more && d.busy() == 0 {
			break
		}
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-d.wake:
		}
	}
	wg.Wait()
	recorded, ackErr := d.recordAcks(ctx, d.now(), true) // those whose write just failed
	if n := d.unrecorded(); n > 0 {
		err = errors.Join(err, unrecordedError(n, ackErr))
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.delivered + recorded, t.failed, errors.Join(err, t.err)
}

func (d *Dispatcher) check() error {
	if d.Outbox == nil || d.Pusher == nil {
		return errors.New("crm dispatcher needs an Outbox and a Pusher")
	}
	return nil
}

// dispatch starts a push for each due row whose call is not in flight, while push slots are
// free, reading due rows from the outbox dueBatch at a time when none is left from the last
// read. It reports whether it started a push, or some were in flight when it began, or rows
// read ahead wait (then more may become due).
//
// Calls in flight when Due is asked are skipped even if their push ends meanwhile: the row Due
// returned for them may be the one just delivered. Their release wakes the loop, and the next
// Due sees the call's next row.
func (d *Dispatcher) dispatch(ctx context.Context, now time.Time, wg *sync.WaitGroup, t *tally) (more bool, err error) {
	before := d.snapshot()
	if d.free() <= 0 || ctx.Err() != nil {
		return len(before) > 0, nil
	}
	if len(d.queue) == 0 {
		// Rows in flight are still pending, so Due returns them again: ask for a batch
		// beyond them.
		rows, err := d.Outbox.Due(ctx, now, dueBatch+len(before))
		if err != nil {
			return false, err
		}
		for _, r := range rows {
			if _, stale := before[r.Event.GeneralCallID]; !stale && !d.acked(r.ID) {
				d.queue = append(d.queue, r)
			}
		}
	}
	started := 0
	for len(d.queue) > 0 && d.free() > 0 {
		r := d.queue[0]
		d.queue[0] = celbridge.Delivery{}
		d.queue = d.queue[1:]
		if d.cooling(r.ID, d.now()) || d.acked(r.ID) || !d.claim(r.Event.GeneralCallID) {
			continue
		}
		started++
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.deliver(ctx, r, t)
		}()
	}
	if len(d.queue) == 0 {
		d.queue = nil // let the batch's array go
	}
	return started > 0 || len(before) > 0 || len(d.queue) > 0, nil
}

// free returns how many pushes may start now.
func (d *Dispatcher) free() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return min(d.concurrency()-d.pushing, d.maxCalls()-len(d.inflight))
}

// snapshot returns the calls in flight now.
func (d *Dispatcher) snapshot() map[string]struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.inflight)
}

// claim marks call as in flight, and a push slot as taken, if the call is not in flight
// already and a slot is free.
func (d *Dispatcher) claim(call string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.inflight[call]; ok || d.pushing >= d.concurrency() || len(d.inflight) >= d.maxCalls() {
		return false
	}
	d.inflight[call] = struct{}{}
	d.pushing++
	return true
}

// pushed frees the push slot of a push that ended and wakes the loop: another call's row may
// be pushed while this one's outcome is written.
func (d *Dispatcher) pushed() {
	d.mu.Lock()
	d.pushing--
	d.mu.Unlock()
	d.Notify()
}

// release ends call's delivery (its outcome is recorded) and wakes the loop: its next row may
// be due now.
func (d *Dispatcher) release(call string) {
	d.mu.Lock()
	delete(d.inflight, call)
	d.mu.Unlock()
	d.Notify()
}

func (d *Dispatcher) busy() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.inflight)
}

func (d *Dispatcher) concurrency() int {
	if d.Concurrency > 0 {
		return d.Concurrency
	}
	return DefaultConcurrency
}

func (d *Dispatcher) maxCalls() int {
	if d.MaxCalls > 0 {
		return max(d.MaxCalls, 1)
	}
	return CallsPerPush * d.concurrency()
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return clock.Now()
}

func (d *Dispatcher) backoff(attempt int) time.Duration {
	if d.Backoff != nil {
		return d.Backoff(attempt)
	}
	return DefaultBackoff(attempt)
}
