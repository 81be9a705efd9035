package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/store"
)

func TestDB_Prune(t *testing.T) {
	db, _ := openTemp(t)
	ctx := t.Context()
	day := 24 * time.Hour
	mustCommit(t, db, 409, append(append(call(1), call(2)...), call(3)...), 9)
	mustCommit(t, db, 409, []celbridge.Event{event(4, rcv, 401)}, 1)
	deliverCall := func(n int, at time.Time, types ...string) {
		for _, typ := range types {
			if err := db.Delivered(ctx, dueID(t, db, t0, key(n, typ)), at); err != nil {
				t.Fatal(err)
			}
		}
	}
	deliverCall(1, t0, rcv, ans, hup)       // old: pruned with its call
	deliverCall(2, t0.Add(2*day), rcv, ans) // recent: kept
	deliverCall(3, t0, rcv)                 // old row pruned, call kept: it still has pending rows
	deliverCall(4, t0, rcv)                 // old row pruned, call kept: it is open

	n, err := db.Prune(ctx, t0.Add(day))
	if err != nil || n != 5 {
		t.Fatalf("Prune = %d, %v; want 5 outbox rows", n, err)
	}
	tests := []struct {
		id          string
		wantEntries int
		wantErr     error
	}{
		{"1732600000.1", 0, store.ErrNotFound},
		{"1732600000.2", 3, nil},
		{"1732600000.3", 2, nil},
		{"1732600000.4", 0, nil},
	}
	for _, tt := range tests {
		_, entries, err := db.Call(ctx, tt.id)
		if !errors.Is(err, tt.wantErr) || len(entries) != tt.wantEntries {
			t.Errorf("Call(%s) after Prune: %d entries, %v; want %d, %v", tt.id, len(entries), err, tt.wantEntries, tt.wantErr)
		}
	}
	if got := dueKeys(t, db, t0); len(got) != 2 || got[0] != key(2, hup) || got[1] != key(3, ans) {
		t.Errorf("Due after Prune = %v; want call 2's hangup and call 3's answer", got)
	}
	checkHeads(t, db)
	if n, err := db.Prune(ctx, t0.Add(day)); err != nil || n != 0 {
		t.Errorf("second Prune = %d, %v; want 0", n, err)
	}
}

func TestDB_Stats(t *testing.T) {
	db, _ := openTemp(t)
	ctx := t.Context()
	clock := t0.Add(-20 * time.Hour)
	store.SetNow(db, func() time.Time { return clock })
	if s := stats(t, db); s != (store.Stats{}) {
		t.Errorf("Stats of an empty store = %+v, want zero", s)
	}
	mustCommit(t, db, 109, call(1), 3)
	clock = t0.Add(-time.Hour)
	mustCommit(t, db, 209, call(2), 3)
	mustCommit(t, db, 309, call(3)[:1], 1)
	if err := db.Delivered(ctx, dueID(t, db, t0, key(1, rcv)), t0.Add(-15*time.Hour)); err != nil { // yesterday
		t.Fatal(err)
	}
	if err := db.Delivered(ctx, dueID(t, db, t0, key(1, ans)), t0.Add(-time.Hour)); err != nil { // today
		t.Fatal(err)
	}
	if err := db.Fail(ctx, dueID(t, db, t0, key(2, rcv)), 1, "HTTP 400: first"); err != nil {
		t.Fatal(err)
	}
	clock = t0.Add(-time.Minute)
	if err := db.Retry(ctx, dueID(t, db, t0, key(3, rcv)), 1, t0, "HTTP 503: latest"); err != nil {
		t.Fatal(err)
	}
	want := store.Stats{
		Cursor: 309, HasCursor: true, OpenCalls: 1, Pending: 4, Failed: 1, DeliveredToday: 1,
		OldestPending: t0.Add(-20 * time.Hour), LastError: "HTTP 503: latest", LastErrorAt: t0.Add(-time.Minute),
	}
	got := stats(t, db)
	if !got.OldestPending.Equal(want.OldestPending) || !got.LastErrorAt.Equal(want.LastErrorAt) {
		t.Errorf("Stats times = %s, %s; want %s, %s", got.OldestPending, got.LastErrorAt, want.OldestPending, want.LastErrorAt)
	}
	got.OldestPending, got.LastErrorAt, want.OldestPending, want.LastErrorAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if got != want {
		t.Errorf("Stats = %+v\nwant    %+v", got, want)
	}
}
