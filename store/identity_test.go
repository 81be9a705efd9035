package store_test

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/celbridge/celbridge/store"

	"github.com/celbridge/celbridge/internal/damage"
)

// TestDB_CheckFile does to the state file, while a store has it open, what issue 15 found
// unnoticed, and checks that the next Commit fails without moving the checkpoint, that the
// other writes and Due fail too, and that the error says what happened and what to do.
func TestDB_CheckFile(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		want   []string
	}{
		{"Deleted", func(t *testing.T, path string) {
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
		}, []string{"was deleted or moved away", "begins afresh at the newest CEL row",
			"If the file was moved: systemctl stop celbridge, put it back", "celbridge backfill -from-id 200"}},
		{"MovedAway", func(t *testing.T, path string) {
			if err := os.Rename(path, path+".old"); err != nil {
				t.Fatal(err)
			}
		}, []string{"was deleted or moved away", "systemctl stop celbridge, put it back"}},
		{"Replaced", func(t *testing.T, path string) {
			other := filledStore(t, 1)
			if err := os.Rename(other, path); err != nil {
				t.Fatal(err)
			}
		}, []string{"was replaced", "started again (systemd does so), it uses the file now at the path",
			"celbridge backfill -from-id 200"}},
		{"TruncatedToZero", func(t *testing.T, path string) {
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
		}, []string{"was truncated: it shrank from", "to 0 bytes", "mkdir -p damaged"}},
		{"TruncatedByHalf", damage.Truncate, []string{"was truncated", "mkdir -p damaged"}},
		{"HeaderOverwritten", func(t *testing.T, path string) {
			damage.Overwrite(t, path, 0, 100)
		}, []string{"was overwritten", "mkdir -p damaged"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db, path := openTemp(t)
			mustCommit(t, db, 209, append(call(1), call(2)...), 6)
			for _, e := range call(1) {
				if err := db.Delivered(ctx, dueID(t, db, t0.Add(1e12), e.IdempotencyKey()), t0); err != nil {
					t.Fatal(err)
				}
			}
			checkpointWAL(t, db) // the rows are in the main file, as after a while of running
			if err := db.CheckFile(); err != nil {
				t.Fatalf("CheckFile before: %v", err)
			}
			id := dueID(t, db, t0.Add(1e12), key(2, "receivedTheCall"))
			tt.damage(t, path)

			_, err := db.Commit(ctx, 309, call(3))
			if !errors.Is(err, store.ErrLost) {
				t.Fatalf("Commit after the file was %s: %v, want ErrLost", tt.name, err)
			}
			for _, want := range append(tt.want, "store "+path) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Commit error lacks %q:\n%v", want, err)
				}
			}
			if cursor, _, err := db.Checkpoint(ctx); cursor != 209 && err == nil {
				t.Errorf("checkpoint moved to %d, want 209", cursor)
			}
			_, errEnqueue := db.Enqueue(ctx, call(4))
			_, errDue := db.Due(ctx, t0.Add(1e12), 10)
			for name, err := range map[string]error{
				"CheckFile": db.CheckFile(),
				"Enqueue":   errEnqueue,
				"Due":       errDue,
				"Delivered": db.Delivered(ctx, id, t0),
				"Retry":     db.Retry(ctx, id, 1, t0, "x"),
				"Fail":      db.Fail(ctx, id, 1, "x"),
			} {
				if !errors.Is(err, store.ErrLost) {
					t.Errorf("%s after the file was %s: %v, want ErrLost", name, tt.name, err)
				}
			}
		})
	}
}

// checkpointWAL copies the WAL into the main file, as SQLite does every 1000 pages.
func checkpointWAL(t *testing.T, db *store.DB) {
	t.Helper()
	if _, err := store.SQL(db).ExecContext(t.Context(), "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
}

// TestDB_CheckFile_NoFalseAlarm runs CheckFile in a loop while commits, deliveries and
// frequent WAL checkpoints (which grow the main file) go on: it must never fail.
func TestDB_CheckFile_NoFalseAlarm(t *testing.T) {
	ctx := t.Context()
	db, path := openTemp(t)
	if _, err := store.SQL(db).ExecContext(ctx, "PRAGMA wal_autocheckpoint = 2"); err != nil {
		t.Fatal(err)
	}
	ro, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	done := make(chan struct{})
	var wg sync.WaitGroup
	checks := 0
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := db.CheckFile(); err != nil {
				t.Errorf("CheckFile during normal writes: %v", err)
				return
			}
			if err := ro.CheckFile(); err != nil {
				t.Errorf("CheckFile of a read-only store: %v", err)
				return
			}
			checks++
		}
	})
	for i := 1; i <= 60; i++ {
		mustCommit(t, db, int64(i*100+9), call(i), 3)
		for _, e := range call(i)[:2] {
			if err := db.Delivered(ctx, dueID(t, db, t0.Add(1e12), e.IdempotencyKey()), t0); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	wg.Wait()
	t.Logf("%d checks during 60 commits", checks)
}
