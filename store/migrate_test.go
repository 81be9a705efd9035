package store_test

import (
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/celbridge/celbridge/migrations"
	"github.com/celbridge/celbridge/store"
	_ "modernc.org/sqlite"
)

func TestOpen_MigratesFromEmpty(t *testing.T) {
	db, path := openTemp(t)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("state file not created: %v", err)
	}
	raw := store.SQL(db)
	for _, table := range []string{"checkpoint", "calls", "outbox", "schema_migrations"} {
		var n int
		if err := raw.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: count %d, err %v", table, n, err)
		}
	}
	pragmas := []struct{ name, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
	}
	for _, p := range pragmas {
		var got string
		if err := raw.QueryRow("PRAGMA " + p.name).Scan(&got); err != nil || got != p.want {
			t.Errorf("PRAGMA %s = %q (err %v), want %q", p.name, got, err, p.want)
		}
	}
	if _, ok, err := db.Checkpoint(t.Context()); err != nil || ok {
		t.Errorf("Checkpoint on an empty store: ok %v, err %v; want no checkpoint", ok, err)
	}
}

func TestOpen_ReopenKeepsDataAndMigrations(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "celbridge.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	mustCommit(t, db, 109, call(1), 3)
	var applied int64
	if err := store.SQL(db).QueryRow(`SELECT applied_at FROM schema_migrations WHERE name = '0001_init.sql'`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	var again int64
	if err := store.SQL(db).QueryRow(`SELECT count(*), max(applied_at) FROM schema_migrations`).Scan(&n, &again); err != nil {
		t.Fatal(err)
	}
	all, _ := fs.Glob(migrations.FS, "*.sql")
	if n != len(all) || again != applied {
		t.Errorf("schema_migrations after reopen: %d rows, applied_at %d; want %d rows, applied_at %d", n, again, len(all), applied)
	}
	if cursor, ok, err := db.Checkpoint(ctx); err != nil || !ok || cursor != 109 {
		t.Errorf("Checkpoint after reopen = %d, %v, %v; want 109", cursor, ok, err)
	}
	mustCommit(t, db, 109, call(1), 0) // still there: all duplicates
}

func TestOpen_Errors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string)
		want  string
	}{
		{"NotSQLite", func(t *testing.T, path string) {
			writeFile(t, path, strings.Repeat("not a database\n", 100))
		}, "file is not a database (26) (check store.path; if it is right: stop celbridge"},
		{"OtherProgramsDatabase", func(t *testing.T, path string) {
			execRaw(t, path, `CREATE TABLE users (id INTEGER PRIMARY KEY)`)
		}, "not a celbridge state file (check store.path)"},
		{"NewerSchema", func(t *testing.T, path string) {
			execRaw(t, path, `CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL);
				INSERT INTO schema_migrations VALUES ('9999_future.sql', 0)`)
		}, "applied by a newer celbridge"},
		{"DirectoryIsAFile", func(t *testing.T, path string) {
			writeFile(t, filepath.Dir(path), "x")
		}, "check store.path and its permissions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "celbridge.db")
			tt.setup(t, path)
			db, err := store.Open(t.Context(), path)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestOpen_PathWithURICharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd?dir#1%20", "state.db")
	db, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("state file not at %s: %v", path, err)
	}
}

func TestOpenReadOnly(t *testing.T) {
	ctx := t.Context()
	t.Run("Missing", func(t *testing.T) {
		_, err := store.OpenReadOnly(ctx, filepath.Join(t.TempDir(), "none.db"))
		if err == nil || !strings.Contains(err.Error(), "check store.path") {
			t.Errorf("OpenReadOnly of a missing file: %v, want a hint about store.path", err)
		}
	})
	t.Run("OldSchema", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "old.db")
		execRaw(t, path, `CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`)
		_, err := store.OpenReadOnly(ctx, path)
		if err == nil || !strings.Contains(err.Error(), "start the daemon once") {
			t.Errorf("OpenReadOnly of an unmigrated file: %v, want a hint to migrate", err)
		}
	})
	t.Run("ClosedStoreReadsAndRefusesWrites", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "celbridge.db")
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		mustCommit(t, db, 109, call(1), 3)
		db.Close()
		ro, err := store.OpenReadOnly(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		if s, err := ro.Stats(ctx, t0); err != nil || s.Cursor != 109 || s.Pending != 3 {
			t.Errorf("Stats = %+v, %v; want cursor 109, 3 pending", s, err)
		}
		if _, err := ro.Commit(ctx, 200, call(2)); err == nil {
			t.Error("Commit on a read-only store succeeded")
		}
	})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// execRaw runs statements on a plain SQLite file at path, bypassing the store.
func execRaw(t *testing.T, path, statements string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(statements); err != nil {
		t.Fatal(err)
	}
}
