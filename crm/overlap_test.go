package crm_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/crm"
)

// slowMarks is an outbox whose Delivered takes a while (an fsync) and that counts the calls
// waiting in it at once.
type slowMarks struct {
	*fakeOutbox
	delay time.Duration

	mu             sync.Mutex
	waiting, most  int
	pushing, mostP int
	order          map[string][]string // call -> keys in push order
}

func (s *slowMarks) Delivered(ctx context.Context, id int64, at time.Time) error {
	s.mu.Lock()
	s.waiting++
	s.most = max(s.most, s.waiting)
	s.mu.Unlock()
	time.Sleep(s.delay)
	s.mu.Lock()
	s.waiting--
	s.mu.Unlock()
	return s.fakeOutbox.Delivered(ctx, id, at)
}

// Push is an instant CRM that notes how many pushes overlap and each call's order.
func (s *slowMarks) Push(_ context.Context, e celbridge.Event) error {
	s.mu.Lock()
	s.pushing++
	s.mostP = max(s.mostP, s.pushing)
	s.order[e.GeneralCallID] = append(s.order[e.GeneralCallID], e.IdempotencyKey())
	s.mu.Unlock()
	time.Sleep(time.Millisecond)
	s.mu.Lock()
	s.pushing--
	s.mu.Unlock()
	return nil
}

// TestDispatcher_PushWhileRecording: a call whose push ended frees its push slot while its
// outcome is written, so other calls are pushed meanwhile and many outcomes wait together
// (the store writes them in one transaction); pushes in flight never exceed Concurrency, calls
// in flight never exceed MaxCalls, and each call's events still go out in order, once.
func TestDispatcher_PushWhileRecording(t *testing.T) {
	s := &slowMarks{fakeOutbox: &fakeOutbox{}, delay: 20 * time.Millisecond, order: map[string][]string{}}
	const calls = 30
	var all [][]celbridge.Event
	for i := range calls {
		all = append(all, callEvents(fmt.Sprint(2000+i), 1))
	}
	for j := range all[0] { // interleaved, as a backfill enqueues them
		for i := range all {
			s.add(all[i][j])
		}
	}
	d := &crm.Dispatcher{Outbox: s, Pusher: s, Concurrency: 2, MaxCalls: 8}
	delivered, failed, err := d.Drain(t.Context())
	if err != nil || delivered != calls*4 || failed != 0 {
		t.Fatalf("Drain = (%d, %d, %v), want (%d, 0, nil)", delivered, failed, err, calls*4)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mostP > 2 {
		t.Errorf("%d pushes in flight at once, want at most Concurrency 2", s.mostP)
	}
	if s.most <= 2 || s.most > 8 {
		t.Errorf("%d outcomes waited to be recorded at once, want more than Concurrency 2 and at most MaxCalls 8", s.most)
	}
	for i := range calls {
		id := fmt.Sprint(2000 + i)
		want := []string{id + "-receivedTheCall", id + "-answeredTheCall", id + "-transferredTheCall-1", id + "-hangupTheCall"}
		if got := s.order[id]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("call %s pushed %v, want %v", id, got, want)
		}
	}
}
