package store_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/celbridge/celbridge/migrations"
	"github.com/celbridge/celbridge/store"
)

func TestDB_Meta(t *testing.T) {
	ctx := t.Context()
	db, path := openTemp(t)
	if v, ok, err := db.Meta(ctx, "gap_seen"); ok || err != nil {
		t.Errorf("Meta of an unset name = %q, %v, %v; want none", v, ok, err)
	}
	for _, v := range []string{"first", "second", ""} {
		if err := db.SetMeta(ctx, "gap_seen", v); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := db.Meta(ctx, "gap_seen"); got != v || !ok || err != nil {
			t.Errorf("Meta after SetMeta(%q) = %q, %v, %v", v, got, ok, err)
		}
	}
	ro, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, ok, err := ro.Meta(ctx, "gap_seen"); !ok || err != nil {
		t.Errorf("Meta read-only: %v, %v", ok, err)
	}
	if err := ro.SetMeta(ctx, "gap_seen", "x"); err == nil {
		t.Error("SetMeta on a read-only store succeeded")
	}
	os.Remove(path)
	if err := db.SetMeta(ctx, "gap_seen", "x"); !errors.Is(err, store.ErrLost) {
		t.Errorf("SetMeta after the file was deleted: %v, want ErrLost", err)
	}
}

// TestDB_FirstStart checks that the first checkpoint records when and where the daemon
// began, and that later commits and reopening keep it.
func TestDB_FirstStart(t *testing.T) {
	ctx := t.Context()
	db, path := openTemp(t)
	store.SetNow(db, func() time.Time { return t0 })
	if _, _, ok, err := db.FirstStart(ctx); ok || err != nil {
		t.Errorf("FirstStart before any commit: ok %v, err %v", ok, err)
	}
	if _, err := db.Enqueue(ctx, call(1)); err != nil { // a backfill is no start
		t.Fatal(err)
	}
	if _, _, ok, _ := db.FirstStart(ctx); ok {
		t.Error("Enqueue recorded a first start")
	}
	mustCommit(t, db, 1013, nil, 0)
	store.SetNow(db, func() time.Time { return t0.Add(time.Hour) })
	mustCommit(t, db, 1109, call(11), 3)
	db.Close()
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustCommit(t, db, 1209, call(12), 3)
	at, cursor, ok, err := db.FirstStart(ctx)
	if !at.Equal(t0) || cursor != 1013 || !ok || err != nil {
		t.Errorf("FirstStart = %s, %d, %v, %v; want %s, 1013", at, cursor, ok, err, t0)
	}
	if v, _, _ := db.Meta(ctx, store.MetaFirstStartAt); v != "2026-11-25T14:00:00Z" {
		t.Errorf("meta %s = %q, want RFC 3339 in UTC", store.MetaFirstStartAt, v)
	}
}

// TestOpen_MigratesMeta opens a store written before 0002_meta: its data stays, and it has
// no first start on record (it began before celbridge noted it).
func TestOpen_MigratesMeta(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	init, err := migrations.FS.ReadFile("0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	execRaw(t, path, fmt.Sprintf(`PRAGMA journal_mode = WAL;
		CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT;
		%s;
		INSERT INTO schema_migrations VALUES ('0001_init.sql', 0);
		INSERT INTO checkpoint VALUES (1, 777, 0);`, init))
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if cursor, ok, err := db.Checkpoint(ctx); cursor != 777 || !ok || err != nil {
		t.Errorf("Checkpoint = %d, %v, %v; want 777", cursor, ok, err)
	}
	mustCommit(t, db, 888, nil, 0)
	if _, _, ok, err := db.FirstStart(ctx); ok || err != nil {
		t.Errorf("FirstStart of a store begun before 0002: ok %v, err %v; want none", ok, err)
	}
}
