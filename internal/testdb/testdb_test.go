package testdb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/testdb"
)

func TestNew(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	reader := sqlx.MustOpen("mysql", db.ReaderDSN)
	t.Cleanup(func() { reader.Close() })
	ctx := t.Context()

	t.Run("ReaderSeesInsertedRows", func(t *testing.T) {
		at := time.Date(2026, 11, 26, 0, 28, 48, 0, time.UTC)
		db.Insert(t, celbridge.CELRow{ID: 7, EventType: "CHAN_START", EventTime: at, UniqueID: "1.0", LinkedID: "1.0"},
			celbridge.CELRow{ID: 9, EventType: "CHAN_END", UniqueID: "1.0", LinkedID: "1.0"})
		var got []struct {
			ID   int64  `db:"id"`
			Time string `db:"t"`
		}
		if err := reader.SelectContext(ctx, &got, "SELECT id, CAST(eventtime AS CHAR) AS t FROM cel ORDER BY id"); err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != 7 || got[0].Time != "2026-11-26 00:28:48" || got[1].Time != "0000-00-00 00:00:00" {
			t.Fatalf("rows = %+v", got)
		}
	})
	t.Run("ReaderCannotWrite", func(t *testing.T) {
		for _, q := range []string{
			"INSERT INTO cel (eventtype) VALUES ('X')",
			"DELETE FROM cel",
			"CREATE TABLE t (id int)",
		} {
			_, err := reader.ExecContext(ctx, q)
			var me *mysql.MySQLError
			if !errors.As(err, &me) || (me.Number != 1142 && me.Number != 1044) {
				t.Errorf("%s as the reader: err = %v, want a permission error", q, err)
			}
		}
	})
	t.Run("UniqueNames", func(t *testing.T) {
		other := testdb.New(t)
		if other.Name == db.Name || other.User == db.User {
			t.Fatalf("names repeat: %s/%s", other.Name, other.User)
		}
	})
}

func TestNew_DropsOnCleanup(t *testing.T) {
	t.Parallel()
	var name, user string
	t.Run("Inner", func(t *testing.T) {
		db := testdb.New(t)
		name, user = db.Name, db.User
	})
	probe := testdb.New(t)
	var n int
	if err := probe.Admin.GetContext(context.Background(), &n,
		"SELECT (SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?) + (SELECT COUNT(*) FROM mysql.user WHERE user = ?)",
		name, user); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("database %s or user %s is left after cleanup", name, user)
	}
}

func TestLoadSQL(t *testing.T) {
	t.Parallel()
	db := testdb.New(t)
	db.LoadSQL(t, "testdata/freepbx-cel/cel.sql")
	var n, maxID int
	if err := db.Admin.QueryRowContext(t.Context(), "SELECT COUNT(*), MAX(id) FROM cel").Scan(&n, &maxID); err != nil {
		t.Fatal(err)
	}
	if n != 374 || maxID != 374 {
		t.Fatalf("count, max id = %d, %d; want 374, 374", n, maxID)
	}
	// The dump drops and recreates cel; the table grant must survive that.
	reader := sqlx.MustOpen("mysql", db.ReaderDSN)
	defer reader.Close()
	if err := reader.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM cel").Scan(&n); err != nil || n != 374 {
		t.Fatalf("reader count = %d, %v", n, err)
	}
}

func TestOldSchema(t *testing.T) {
	t.Parallel()
	db := testdb.New(t, testdb.OldSchema())
	db.Insert(t, celbridge.CELRow{ID: 1, EventType: "HANGUP", Extra: `{"dialstatus":"ANSWER"}`})
	var extra string
	if err := db.Admin.GetContext(t.Context(), &extra, "SELECT eventextra FROM cel WHERE id = 1 AND peeraccount = '' AND userfield = ''"); err != nil {
		t.Fatal(err)
	}
	if extra != `{"dialstatus":"ANSWER"}` {
		t.Fatalf("eventextra = %q", extra)
	}
}
