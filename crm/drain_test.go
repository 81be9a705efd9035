package crm_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/celbridge/celbridge/crm"
)

// PendingUpTo makes fakeOutbox a crm.PendingUpTo, as store.DB is.
func (o *fakeOutbox) PendingUpTo(_ context.Context, upTo int64) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range o.rows {
		if r.id <= upTo && r.state == "pending" {
			return true, nil
		}
	}
	return false, nil
}

var _ crm.PendingUpTo = (*fakeOutbox)(nil)

func ok200(http.ResponseWriter, *http.Request) {}

func TestDrainLoop(t *testing.T) {
	t.Parallel()
	t.Run("DeliversOnKick", func(t *testing.T) {
		b := setup(t, newRecordCRM(t, ok200).URL)
		l := b.d.StartDrainLoop(t.Context())
		b.ob.add(callEvents("100", 0)...)
		l.Kick()
		b.ob.add(callEvents("200", 1)...)
		l.Kick()
		l.Kick() // merged with a pending kick, or a Drain of nothing
		waitUntil(t, "both calls delivered", func() bool { return b.ob.count("delivered") == 7 })
		if err := l.Stop(); err != nil {
			t.Errorf("Stop = %v", err)
		}
	})
	t.Run("StopsAtDrainError", func(t *testing.T) {
		b := setup(t, newRecordCRM(t, ok200).URL)
		b.ob.dueErr = errors.New("read outbox: disk I/O error")
		l := b.d.StartDrainLoop(t.Context())
		l.Kick()
		time.Sleep(50 * time.Millisecond) // the Drain fails and the loop ends
		if err := l.Stop(); err == nil || err.Error() != "read outbox: disk I/O error" {
			t.Errorf("Stop after a failed Drain = %v, want the Drain's error", err)
		}
	})
	t.Run("Nil", func(t *testing.T) {
		var l *crm.DrainLoop // a backfill whose rows a running daemon delivers
		l.Kick()
		if err := l.Stop(); err != nil {
			t.Errorf("Stop of a nil loop = %v", err)
		}
	})
}

// waitUntil waits up to 10s for cond.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// timeout is the test's context, ended after 5s: a DeliverUpTo that would wait for ever fails.
func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestDispatcher_DeliverUpTo(t *testing.T) {
	t.Parallel()
	always := func(v bool) func() (bool, error) { return func() (bool, error) { return v, nil } }
	noOther := func(t *testing.T) func() { return func() { t.Error("onOther called while the outbox was ours") } }
	t.Run("Ours", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newRecordCRM(t, ok200).URL)
		b.ob.add(callEvents("100", 0)...)
		if err := b.d.DeliverUpTo(timeout(t), b.ob, 3, always(true), noOther(t)); err != nil {
			t.Fatal(err)
		}
		if n := b.ob.count("delivered"); n != 3 {
			t.Errorf("%d rows delivered, want 3", n)
		}
	})
	t.Run("AnotherDelivers", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newRecordCRM(t, ok200).URL)
		b.ob.add(callEvents("100", 0)...)
		b.ob.add(callEvents("200", 0)...) // above end: not waited for
		var told atomic.Int32
		go func() { // the running daemon, delivering the first call after a while
			time.Sleep(700 * time.Millisecond)
			for id := int64(1); id <= 3; id++ {
				b.ob.Delivered(context.Background(), id, time.Time{})
			}
		}()
		start := time.Now()
		if err := b.d.DeliverUpTo(timeout(t), b.ob, 3, always(false), func() { told.Add(1) }); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 700*time.Millisecond {
			t.Errorf("DeliverUpTo returned after %s, before the other process delivered", took)
		}
		if n := told.Load(); n != 1 {
			t.Errorf("onOther called %d times, want once", n)
		}
	})
	t.Run("TakesOverFromAStoppedDaemon", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newRecordCRM(t, ok200).URL)
		b.ob.add(callEvents("100", 0)...)
		var rounds atomic.Int32
		own := func() (bool, error) { return rounds.Add(1) > 2, nil } // the daemon stops after two rounds
		if err := b.d.DeliverUpTo(timeout(t), b.ob, 3, own, func() {}); err != nil {
			t.Fatal(err)
		}
		if n := b.ob.count("delivered"); n != 3 || rounds.Load() != 3 {
			t.Errorf("%d rows delivered in %d rounds, want 3 in 3", n, rounds.Load())
		}
	})
	t.Run("Interrupted", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newRecordCRM(t, ok200).URL)
		b.ob.add(callEvents("100", 0)...)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		err := b.d.DeliverUpTo(ctx, b.ob, 3, always(false), func() {})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("DeliverUpTo = %v, want the context's error", err)
		}
	})
	t.Run("OwnFails", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newRecordCRM(t, ok200).URL)
		b.ob.add(callEvents("100", 0)...)
		lockErr := errors.New("lock store: permission denied")
		own := func() (bool, error) { return false, lockErr }
		if err := b.d.DeliverUpTo(timeout(t), b.ob, 3, own, func() {}); !errors.Is(err, lockErr) {
			t.Errorf("DeliverUpTo = %v, want the lock's error", err)
		}
	})
	t.Run("DrainFails", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newRecordCRM(t, ok200).URL)
		b.ob.add(callEvents("100", 0)...)
		b.ob.dueErr = errors.New("read outbox: disk I/O error")
		if err := b.d.DeliverUpTo(timeout(t), b.ob, 3, always(true), func() {}); err == nil || err.Error() != "read outbox: disk I/O error" {
			t.Errorf("DeliverUpTo = %v, want the Drain's error", err)
		}
	})
}
