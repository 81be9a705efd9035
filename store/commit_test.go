package store_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/store"
)

func TestDB_Commit(t *testing.T) {
	t.Run("CursorAndEventsTogether", func(t *testing.T) {
		db, _ := openTemp(t)
		mustCommit(t, db, 109, call(1), 3)
		if cursor, ok, err := db.Checkpoint(t.Context()); err != nil || !ok || cursor != 109 {
			t.Errorf("Checkpoint = %d, %v, %v; want 109", cursor, ok, err)
		}
		if s := stats(t, db); s.Pending != 3 {
			t.Errorf("pending = %d, want 3", s.Pending)
		}
	})
	t.Run("ReplayIgnoresDuplicates", func(t *testing.T) {
		db, _ := openTemp(t)
		mustCommit(t, db, 105, call(1)[:2], 2)
		// A restart replays from the checkpoint: the first two events come again, with the hangup.
		mustCommit(t, db, 109, call(1), 1)
		mustCommit(t, db, 109, call(1), 0)
		if s := stats(t, db); s.Pending != 3 || s.Cursor != 109 {
			t.Errorf("after replays: %d pending, cursor %d; want 3, 109", s.Pending, s.Cursor)
		}
	})
	t.Run("RepeatedTypesBySeq", func(t *testing.T) {
		db, _ := openTemp(t)
		tr1, tr2 := event(1, celbridge.Transferred, 107), event(1, celbridge.Transferred, 108)
		tr1.Seq, tr2.Seq = 1, 2
		mustCommit(t, db, 108, []celbridge.Event{tr1, tr2, tr1}, 2)
	})
	t.Run("InvalidEventRollsBackAll", func(t *testing.T) {
		db, _ := openTemp(t)
		mustCommit(t, db, 50, nil, 0)
		bad := event(2, celbridge.Received, 201)
		bad.GeneralCallID = ""
		_, err := db.Commit(t.Context(), 300, append(call(1), bad))
		if err == nil || !strings.Contains(err.Error(), "empty generalCallID") {
			t.Fatalf("Commit with a bad event: %v, want an empty generalCallID error", err)
		}
		if s := stats(t, db); s.Cursor != 50 || s.Pending != 0 || s.OpenCalls != 0 {
			t.Errorf("after a failed Commit: %+v; want cursor 50 and nothing stored", s)
		}
	})
	t.Run("EnqueueLeavesCheckpoint", func(t *testing.T) {
		db, _ := openTemp(t)
		mustCommit(t, db, 77, nil, 0)
		if added, err := db.Enqueue(t.Context(), call(1)); err != nil || added != 3 {
			t.Fatalf("Enqueue = %d, %v; want 3", added, err)
		}
		if added, err := db.Enqueue(t.Context(), call(1)); err != nil || added != 0 {
			t.Fatalf("Enqueue again = %d, %v; want 0", added, err)
		}
		if s := stats(t, db); s.Cursor != 77 || s.Pending != 3 {
			t.Errorf("after Enqueue: %+v; want cursor 77, 3 pending", s)
		}
	})
	t.Run("KeepsEmissionOrder", func(t *testing.T) {
		db, _ := openTemp(t)
		events := append(call(2), call(1)...)
		mustCommit(t, db, 209, events, 6)
		_, entries, err := db.Call(t.Context(), "17326000002")
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, e := range entries {
			got = append(got, e.Event.RequestType)
		}
		want := []string{celbridge.Received, celbridge.Answered, celbridge.Hangup}
		if !slices.Equal(got, want) {
			t.Errorf("outbox order = %v, want %v", got, want)
		}
	})
}

func TestDB_Commit_CallRow(t *testing.T) {
	db, _ := openTemp(t)
	ctx := t.Context()
	evs := call(1)
	evs[0].InternalNumber = "600" // the ring group
	evs[1].InternalNumber = "801" // who answered
	tests := []struct {
		name      string
		event     celbridge.Event
		wantState string
		wantLast  int64
	}{
		{"ReceivedOpens", evs[0], store.StateOpen, 101},
		{"AnsweredKeepsOpen", evs[1], store.StateOpen, 105},
		{"HangupCloses", evs[2], store.StateClosed, 109},
		{"ReplayedReceivedDoesNotReopen", evs[0], store.StateClosed, 109},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.Commit(ctx, tt.event.CELID, []celbridge.Event{tt.event}); err != nil {
				t.Fatal(err)
			}
			c, _, err := db.Call(ctx, "1732600000.1")
			if err != nil {
				t.Fatal(err)
			}
			if c.State != tt.wantState || c.LastCELID != tt.wantLast || c.FirstCELID != 100 {
				t.Errorf("call = %+v; want state %s, CEL ids 100..%d", c, tt.wantState, tt.wantLast)
			}
			if c.InternalNumber != "600" || c.DIDNumber != "0443334000" || c.CallType != celbridge.Incoming {
				t.Errorf("call numbers = %+v; want the received event's", c)
			}
			if !c.StartedAt.Equal(evs[0].Time) {
				t.Errorf("StartedAt = %s, want %s", c.StartedAt, evs[0].Time)
			}
			if closed := tt.wantState == store.StateClosed; closed != c.EndedAt.Equal(evs[2].Time) {
				t.Errorf("EndedAt = %s with state %s", c.EndedAt, c.State)
			}
		})
	}
}

func TestDB_Call(t *testing.T) {
	db, _ := openTemp(t)
	ctx := t.Context()
	mustCommit(t, db, 109, call(1), 3)
	for _, id := range []string{"1732600000.1", "17326000001"} {
		c, entries, err := db.Call(ctx, id)
		if err != nil {
			t.Fatalf("Call(%q): %v", id, err)
		}
		if c.LinkedID != "1732600000.1" || len(entries) != 3 {
			t.Errorf("Call(%q) = %+v with %d entries; want call 1 with 3", id, c, len(entries))
		}
		h := entries[2]
		if h.Key != "17326000001-hangupTheCall" || h.Event.Billsec != 42 || h.State != store.StatePending ||
			!h.Event.Time.Equal(call(1)[2].Time) || h.CreatedAt.IsZero() || !h.NextAttemptAt.IsZero() {
			t.Errorf("hangup entry = %+v", h)
		}
	}
	if _, _, err := db.Call(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Call of an unknown id: %v, want ErrNotFound", err)
	}
}

// stats reads Stats at t0.
func stats(t testing.TB, db *store.DB) store.Stats {
	t.Helper()
	s, err := db.Stats(t.Context(), t0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDB_Commit_BatchSameAsOneByOne: a batch's events are merged per call before they are
// written (one calls upsert and one call log write per call); the tables end up exactly as
// when the same events are committed one transaction each, numbers filled in late, replays
// and a second hangup included.
func TestDB_Commit_BatchSameAsOneByOne(t *testing.T) {
	var evs []celbridge.Event
	for n := 1; n <= 4; n++ {
		c := call(n)
		c[0].InternalNumber, c[0].DIDNumber = "", ""
		c[1].InternalNumber = fmt.Sprintf("80%d", n)
		c[1].DIDNumber, c[2].DIDNumber = fmt.Sprintf("044333400%d", n), "0443334999"
		c[2].ExternalNumber = "0670000000"
		c[2].Tried = []string{"801", "802"}
		c[2].Recording = fmt.Sprintf("rec-%d.wav", n)
		evs = append(evs, c...)
	}
	evs[1].FirstCELID = 50 // an earlier first row, on a later event
	tr := event(2, celbridge.Transferred, 207)
	tr.InternalNumber = "803"
	late := event(3, celbridge.Hangup, 320) // a second hangup: the first one's end stays
	evs = append(evs, tr, late, evs[0], evs[4])
	// Interleave the calls at random, each call's events in their order.
	byCall := map[string][]celbridge.Event{}
	var ids []string
	for _, e := range evs {
		if _, ok := byCall[e.LinkedID]; !ok {
			ids = append(ids, e.LinkedID)
		}
		byCall[e.LinkedID] = append(byCall[e.LinkedID], e)
	}
	r := rand.New(rand.NewPCG(1, 2))
	evs = evs[:0]
	for len(ids) > 0 {
		i := r.IntN(len(ids))
		q := byCall[ids[i]]
		evs = append(evs, q[0])
		if byCall[ids[i]] = q[1:]; len(q) == 1 {
			ids = slices.Delete(ids, i, i+1)
		}
	}

	one, _ := openTemp(t)
	batch, _ := openTemp(t)
	for _, db := range []*store.DB{one, batch} {
		store.SetNow(db, func() time.Time { return t0 })
	}
	for i, e := range evs {
		if _, err := one.Commit(t.Context(), int64(i), []celbridge.Event{e}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := batch.Commit(t.Context(), int64(len(evs)-1), evs); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`SELECT * FROM calls ORDER BY linkedid`,
		`SELECT * FROM call_log ORDER BY general_call_id`,
		`SELECT * FROM outbox ORDER BY id`,
	} {
		a, b := dump(t, one, q), dump(t, batch, q)
		if a != b {
			t.Errorf("%s\none by one:\n%s\nbatch:\n%s", q, a, b)
		}
	}
}

// dump returns the rows of query as text.
func dump(t *testing.T, db *store.DB, query string) string {
	t.Helper()
	rows, err := store.SQL(db).QueryContext(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, vals...)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
