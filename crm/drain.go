package crm

import (
	"context"
	"time"
)

// DrainLoop delivers the outbox while another goroutine fills it (a backfill enqueueing): a
// Drain each time it is kicked, one at a time. A nil *DrainLoop does nothing, for a filler
// whose rows another process delivers.
type DrainLoop struct {
	kicks chan struct{}
	done  chan struct{}
	err   chan error
}

// StartDrainLoop starts a DrainLoop over d. It stops at the first Drain error, which Stop
// returns.
func (d *Dispatcher) StartDrainLoop(ctx context.Context) *DrainLoop {
	l := &DrainLoop{kicks: make(chan struct{}, 1), done: make(chan struct{}), err: make(chan error, 1)}
	go func() {
		for {
			select {
			case <-l.done:
				l.err <- nil
				return
			case <-l.kicks:
			}
			if _, _, err := d.Drain(ctx); err != nil {
				l.err <- err
				return
			}
		}
	}()
	return l
}

// Kick asks for a Drain (call it after an enqueue). It never blocks; kicks that arrive while
// one waits are merged.
func (l *DrainLoop) Kick() {
	if l == nil {
		return
	}
	select {
	case l.kicks <- struct{}{}:
	default:
	}
}

// Stop waits for the Drain under way and returns the first Drain error.
func (l *DrainLoop) Stop() error {
	if l == nil {
		return nil
	}
	close(l.done)
	return <-l.err
}

// PendingUpTo is the question DeliverUpTo asks the outbox (store.DB answers it): is a row
// with an id up to upTo still pending?
type PendingUpTo interface {
	PendingUpTo(ctx context.Context, upTo int64) (bool, error)
}

// deliverWait is how often DeliverUpTo looks again while rows it waits for are pending.
const deliverWait = 500 * time.Millisecond

// DeliverUpTo returns once no outbox row with an id up to end is pending. While own reports
// true, d delivers them (a Drain per round); while it reports false, another process holds
// the outbox and delivers them (a running daemon), and DeliverUpTo only waits, calling
// onOther once. own is asked on every round, so that a daemon stopped meanwhile does not
// leave the wait without end. It returns ctx's error when ctx ends with rows pending: the
// question is still asked after the cancel, so that rows delivered meanwhile count.
func (d *Dispatcher) DeliverUpTo(ctx context.Context, ob PendingUpTo, end int64, own func() (bool, error), onOther func()) error {
	told := false
	for {
		ours, err := own()
		if err != nil {
			return err
		}
		if ours {
			if _, _, err := d.Drain(ctx); err != nil && ctx.Err() == nil {
				return err
			}
		} else if !told {
			onOther()
			told = true
		}
		pending, err := ob.PendingUpTo(context.WithoutCancel(ctx), end)
		if err != nil || !pending {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(deliverWait):
		}
	}
}
