package poller_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/pollertest"
	"github.com/celbridge/celbridge/mapper"
	"github.com/celbridge/celbridge/poller"
)

// TestTick_FailuresLoseNothing: a poll whose read fails, and one whose commit fails, return
// the error and lose nothing: the next poll stores every request once, with the cursor after
// the rows. Mechanism under test: the poller keeps the events of a failed commit
// (uncommitted) and commits them first at the next poll, and moves nothing on a failed read.
func TestTick_FailuresLoseNothing(t *testing.T) {
	x, y := pollertest.Calls(t)
	env := newMemEnv(t)
	tab, st := env.Table.(*memTable), env.Store.(*memStore)
	now := pollertest.Start.Add(time.Hour)
	p := &poller.Poller{Source: tab, Store: st, Mapper: mapper.New(mapper.DefaultConfig()),
		Now: func() time.Time { return now }, Routine: func(error) bool { return true }}
	if err := p.Tick(t.Context()); err != nil { // first start: an empty table
		t.Fatal(err)
	}
	tab.Insert(t, slices.Concat(x, y)...)

	tab.fail = errors.New("read: connection refused")
	if err := p.Tick(t.Context()); err == nil {
		t.Fatal("a poll whose read failed returned no error")
	}
	st.fail = errors.New("commit: disk full")
	if err := p.Tick(t.Context()); err == nil {
		t.Fatal("a poll whose commit failed returned no error")
	}
	if c, _, _ := st.Checkpoint(t.Context()); c != 0 || len(st.Keys(t)) != 0 {
		t.Fatalf("after the failures: cursor %d, %d events stored; want 0, 0", c, len(st.Keys(t)))
	}
	if err := p.Tick(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, call := range [][]celbridge.CELRow{x, y} {
		if d := cmp.Diff(pollertest.Want(call), pollertest.Forms(st.Requests(t, call[0].LinkedID))); d != "" {
			t.Errorf("call %s after the failures (-want +got):\n%s", call[0].LinkedID, d)
		}
	}
	if c, _, _ := st.Checkpoint(t.Context()); c != int64(len(x)+len(y)) {
		t.Errorf("cursor %d, want %d", c, len(x)+len(y))
	}
}
