package crm

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/celbridge/celbridge"
)

// deliver pushes one row and records the outcome in the outbox. The call stays in flight until
// the outbox is written, so its next row cannot be picked up before this one is settled; the
// push slot is free as soon as the push ended, so that the outcomes of many calls are written
// together (Outbox.Delivered groups concurrent marks in one transaction).
func (d *Dispatcher) deliver(ctx context.Context, r celbridge.Delivery, t *tally) {
	defer d.release(r.Event.GeneralCallID)
	start := time.Now()
	// A stop does not cancel a push in flight: the client's own timeout bounds it, and its
	// outcome is recorded, so a clean stop sends nothing twice. Run waits for it.
	err := d.Pusher.Push(context.WithoutCancel(ctx), r.Event)
	elapsed := time.Since(start)
	d.pushed()
	// A push that got its 2xx must be recorded even if shutdown began meanwhile, or it would
	// be sent twice.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	result, werr := d.settle(wctx, r, err)
	if d.OnResult != nil {
		class := ""
		if err != nil {
			class = errClass(err)
		}
		d.OnResult(r.Event.RequestType, result, elapsed, class)
	}
	switch {
	case werr == nil:
	case result == ResultOK:
		// The CRM has it: pushing it again would repeat it. Retry the write alone.
		d.keepAck(r, d.now())
		d.logStoreError(ackMsg, werr)
	default:
		// Pushing it again later is only another attempt, as the CRM refused it.
		d.logStoreError("record delivery outcome", werr)
		d.coolDown(r.ID)
	}
	if t != nil {
		t.add(result, werr)
	}
}

// settle writes the outcome of a push to the outbox and returns the result name.
func (d *Dispatcher) settle(ctx context.Context, r celbridge.Delivery, err error) (string, error) {
	now := d.now()
	attempts := r.Attempts + 1
	if err == nil {
		if werr := d.Outbox.Delivered(ctx, r.ID, now); werr != nil {
			return ResultOK, werr
		}
		d.logDelivered(now, r.Event, attempts)
		return ResultOK, nil
	}
	msg := lastError(err)
	if IsPermanent(err) || (d.MaxAttempts > 0 && attempts >= d.MaxAttempts) {
		d.logFailure(now, slog.LevelError, "crm push failed; event parked as failed (fix the cause, then run the retry command)",
			r.Event, attempts, err, "retry", "celbridge retry "+r.Event.IdempotencyKey())
		if werr := d.Outbox.Fail(ctx, r.ID, attempts, msg); werr != nil {
			return ResultFailed, werr
		}
		return ResultFailed, nil
	}
	wait := d.backoff(attempts)
	d.logFailure(now, slog.LevelWarn, "crm push failed; will retry", r.Event, attempts, err, "retry_in", wait.Round(time.Millisecond).String())
	if werr := d.Outbox.Retry(ctx, r.ID, attempts, now.Add(wait), msg); werr != nil {
		return ResultRetry, werr
	}
	return ResultRetry, nil
}

// lastError is the outbox's text for err: "HTTP 400: <body>" for a CRM answer, else the
// (already redacted) error text, bounded.
func lastError(err error) string {
	msg := err.Error()
	var se *StatusError
	if errors.As(err, &se) {
		msg = se.Error()
	}
	if len(msg) > maxLastErr {
		msg = msg[:maxLastErr]
	}
	return msg
}

// logFailure writes one line for a failure unless the same class was logged within LogEvery.
// Parked and retried failures are throttled apart: parking a row is worth its own line.
func (d *Dispatcher) logFailure(now time.Time, level slog.Level, msg string, e celbridge.Event, attempts int, err error, extra ...any) {
	class := errClass(err)
	ok, suppressed := d.crmLog.failure(level.String()+" "+class, now)
	if !ok {
		return
	}
	attrs := append(eventAttrs(e, attempts), "class", class, "err", lastError(err))
	attrs = append(attrs, extra...)
	if suppressed > 0 {
		attrs = append(attrs, "suppressed", suppressed)
	}
	d.log.Log(context.Background(), level, msg, attrs...)
}

// logDelivered logs a delivery once the outbox has recorded it, and a recovery (one line,
// throttled) when it follows failures: not before, as a delivery not recorded would be sent
// again.
func (d *Dispatcher) logDelivered(now time.Time, e celbridge.Event, attempts int) {
	if ok, suppressed := d.crmLog.success(now); ok {
		d.log.Info("crm push recovered", "suppressed", suppressed)
	}
	d.log.Debug("crm push delivered", eventAttrs(e, attempts)...)
}

// logStoreError logs an outbox error, throttled like CRM failures.
func (d *Dispatcher) logStoreError(msg string, err error) {
	if ok, suppressed := d.storeLog.failure(msg, d.now()); ok {
		d.log.Error(msg, "err", err, "suppressed", suppressed)
	}
}

// eventAttrs identifies an event in a log line; numbers are left out (they are personal data
// and not needed to find the row).
func eventAttrs(e celbridge.Event, attempts int) []any {
	return []any{
		"general_call_id", e.GeneralCallID,
		"request_type", e.RequestType,
		"key", e.IdempotencyKey(),
		"attempt", attempts,
	}
}

// failedWrite reports whether recording an outcome failed: Drain stops then, since that row
// is still pending and due, and would otherwise be pushed again at once.
func (t *tally) failedWrite() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err != nil
}

func (t *tally) add(result string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case err != nil && result == ResultOK:
		// An ack: Drain records it or reports it at its end.
	case err != nil:
		if t.err == nil {
			t.err = err
		}
	case result == ResultOK:
		t.delivered++
	case result == ResultFailed:
		t.failed++
	}
}
