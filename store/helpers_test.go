package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/store"
)

// t0 is the tests' reference time.
var t0 = time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)

// openTemp opens a new store in a temporary directory and closes it at the end of the test.
func openTemp(t testing.TB) (*store.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "celbridge.db")
	db, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db, path
}

// event returns an event of call n (linkedid "1732600000.<n>") with the given type, decided by
// CEL row celID.
func event(n int, requestType string, celID int64) celbridge.Event {
	linked := fmt.Sprintf("1732600000.%d", n)
	return celbridge.Event{
		LinkedID:       linked,
		GeneralCallID:  celbridge.DigitsOnly(linked),
		RequestType:    requestType,
		CallType:       celbridge.Incoming,
		DIDNumber:      "0443334000",
		ExternalNumber: "0670219424",
		InternalNumber: "801",
		CELID:          celID,
		FirstCELID:     int64(n * 100),
		Time:           t0.Add(time.Duration(celID) * time.Second),
		Rule:           "test",
	}
}

// call returns the three events of a whole call n: received, answered, hangup.
func call(n int) []celbridge.Event {
	base := int64(n * 100)
	h := event(n, celbridge.Hangup, base+9)
	h.Billsec, h.Disposition = 42, celbridge.DispAnswer
	return []celbridge.Event{event(n, celbridge.Received, base+1), event(n, celbridge.Answered, base+5), h}
}

// mustCommit commits events with cursor and checks the number added.
func mustCommit(t testing.TB, db *store.DB, cursor int64, events []celbridge.Event, wantAdded int) {
	t.Helper()
	added, err := db.Commit(t.Context(), cursor, events)
	if err != nil {
		t.Fatal(err)
	}
	if added != wantAdded {
		t.Fatalf("Commit(%d, %d events) added %d, want %d", cursor, len(events), added, wantAdded)
	}
}

// dueKeys returns the idempotency keys of Due(now, 100).
func dueKeys(t testing.TB, db *store.DB, now time.Time) []string {
	t.Helper()
	due, err := db.Due(t.Context(), now, 100)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for _, d := range due {
		keys = append(keys, d.Event.IdempotencyKey())
	}
	return keys
}

// dueID returns the outbox id of the due event with the given key, failing if it is not due.
func dueID(t testing.TB, db *store.DB, now time.Time, key string) int64 {
	t.Helper()
	due, err := db.Due(t.Context(), now, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range due {
		if d.Event.IdempotencyKey() == key {
			return d.ID
		}
	}
	t.Fatalf("%s is not due at %s", key, now)
	return 0
}

// checkHeads fails the test if the head flags are inconsistent.
func checkHeads(t testing.TB, db *store.DB) {
	t.Helper()
	if err := store.CheckHeads(context.Background(), db); err != nil {
		t.Fatal(err)
	}
}

// key is the idempotency key of call n's event of the given type.
func key(n int, requestType string) string {
	return event(n, requestType, 0).IdempotencyKey()
}
