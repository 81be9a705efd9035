package store_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge/store"

	"github.com/celbridge/celbridge/internal/damage"
)

// filledStore writes a closed store with n whole calls (cursor n*100+9), the first half
// delivered, and returns its path. Close checkpoints the WAL, so everything is in the file.
func filledStore(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "celbridge.db")
	db, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		mustCommit(t, db, int64(i*100+9), call(i), 3)
	}
	for i := 1; i <= n/2; i++ {
		for _, e := range call(i) {
			if err := db.Delivered(t.Context(), dueID(t, db, t0.Add(1e12), e.IdempotencyKey()), t0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOpen_Damaged damages a closed store in the ways found in issue 15 and checks that Open
// refuses it with ErrDamaged and says what to do, instead of migrating or serving it.
func TestOpen_Damaged(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		want   []string
	}{
		{"RandomBytesMidFile", func(t *testing.T, path string) {
			damage.Overwrite(t, path, damage.Size(t, path)/2/4096*4096, 3*4096) // three whole pages in the middle
		}, []string{"quick_check"}},
		{"RandomHeader", func(t *testing.T, path string) {
			damage.Overwrite(t, path, 0, 100)
		}, []string{"not a database"}},
		{"Truncated", damage.Truncate, []string{"malformed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filledStore(t, 200)
			tt.damage(t, path)
			db, err := store.Open(t.Context(), path)
			if err == nil {
				db.Close()
				t.Fatal("Open of a damaged store succeeded")
			}
			if !errors.Is(err, store.ErrDamaged) {
				t.Errorf("Open error does not wrap ErrDamaged: %v", err)
			}
			for _, want := range append(tt.want, "the store file is damaged", "stop celbridge", "cd "+filepath.Dir(path)+" && mkdir -p damaged && mv celbridge.db celbridge.db-wal", "celbridge backfill -from") {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Open error lacks %q:\n%v", want, err)
				}
			}
			if ro, err := store.OpenReadOnly(t.Context(), path); err == nil {
				if _, err = ro.Stats(t.Context(), t0); err == nil {
					err = ro.Verify(t.Context())
				}
				ro.Close()
				if !errors.Is(err, store.ErrDamaged) {
					t.Errorf("read-only: Stats or Verify error %v, want ErrDamaged", err)
				}
			} else if !errors.Is(err, store.ErrDamaged) {
				t.Errorf("OpenReadOnly error does not wrap ErrDamaged: %v", err)
			}
		})
	}
}

// TestDB_Verify checks that Verify's integrity_check finds what Open's quick_check does not
// look at (an index that disagrees with its table), and names the backfill to run.
func TestDB_Verify(t *testing.T) {
	path := filledStore(t, 10)
	breakIndex(t, path)
	db, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open (quick_check) refused the file: %v", err)
	}
	defer db.Close()
	err = db.Verify(t.Context())
	if !errors.Is(err, store.ErrDamaged) {
		t.Fatalf("Verify = %v, want ErrDamaged", err)
	}
	// Calls 6..10 are undelivered; the first row of call 6 is CEL id 600.
	for _, want := range []string{"integrity_check", "outbox_linked_id", "celbridge backfill -from-id 600"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Verify error lacks %q:\n%v", want, err)
		}
	}
	if err := filledDB(t).Verify(t.Context()); err != nil {
		t.Errorf("Verify of a sound store: %v", err)
	}
}

// breakIndex redefines an index of the closed store at path so that its entries no longer
// match the table's rows: damage that quick_check does not look at.
func breakIndex(t *testing.T, path string) {
	t.Helper()
	execRaw(t, path, `PRAGMA writable_schema = ON;
		UPDATE sqlite_schema SET sql = 'CREATE INDEX outbox_linked_id ON outbox (general_call_id, id)'
		WHERE name = 'outbox_linked_id'`)
}

// filledDB opens a sound store with a few calls.
func filledDB(t *testing.T) *store.DB {
	t.Helper()
	db, err := store.Open(t.Context(), filledStore(t, 4))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestDB_ResumeID(t *testing.T) {
	db, _ := openTemp(t)
	if _, ok, err := db.ResumeID(t.Context()); ok || err != nil {
		t.Errorf("empty store: ok %v, err %v; want none", ok, err)
	}
	mustCommit(t, db, 209, append(call(1), call(2)...), 6)
	for _, e := range call(1) {
		if err := db.Delivered(t.Context(), dueID(t, db, t0.Add(1e12), e.IdempotencyKey()), t0); err != nil {
			t.Fatal(err)
		}
	}
	if id, ok, err := db.ResumeID(t.Context()); id != 200 || !ok || err != nil {
		t.Errorf("ResumeID = %d, %v, %v; want 200 (call 2 undelivered)", id, ok, err)
	}
	for _, e := range call(2) {
		if err := db.Delivered(t.Context(), dueID(t, db, t0.Add(1e12), e.IdempotencyKey()), t0); err != nil {
			t.Fatal(err)
		}
	}
	if id, ok, err := db.ResumeID(t.Context()); id != 210 || !ok || err != nil {
		t.Errorf("ResumeID = %d, %v, %v; want 210 (the row after the checkpoint)", id, ok, err)
	}
}

// TestDB_DamageFoundLater checks that a damage SQLite meets after Open (here an index that
// lacks the entries of rows Prune deletes) comes back as ErrDamaged with what to do.
func TestDB_DamageFoundLater(t *testing.T) {
	path := filledStore(t, 10)
	breakIndex(t, path)
	db, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.Prune(t.Context(), t0.Add(time.Hour))
	if !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), "celbridge backfill -from-id 600") {
		t.Errorf("Prune = %v, want ErrDamaged naming the backfill", err)
	}
}
