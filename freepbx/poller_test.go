package freepbx_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/internal/pollertest"
	"github.com/celbridge/celbridge/internal/testdb"
	"github.com/celbridge/celbridge/store"
)

// TestPoller runs the poller's cases against MariaDB: rows inserted by real concurrent
// transactions, read by freepbx.CEL as the SELECT-only user, stored in the real store. The
// same cases run on poller's in-memory table in its own tests.
func TestPoller(t *testing.T) {
	t.Parallel()
	pollertest.Run(t, func(t *testing.T) pollertest.Env {
		db := testdb.New(t)
		src, err := freepbx.OpenCEL(t.Context(), db.ReaderDSN, "cel", time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { src.Close() })
		st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return pollertest.Env{Table: table{db}, Source: src, Store: realStore{st}}
	})
}

// table writes the test database's cel table as root.
type table struct{ db *testdb.DB }

func (tb table) Insert(t *testing.T, rows ...celbridge.CELRow) { tb.db.Insert(t, rows...) }

func (tb table) Begin(t *testing.T) pollertest.Tx {
	t.Helper()
	tx, err := tb.db.Admin.BeginTxx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return tableTx{tx, tb.db}
}

type tableTx struct {
	*sqlx.Tx
	db *testdb.DB
}

// Insert inserts rows inside the transaction.
func (tx tableTx) Insert(t *testing.T, rows ...celbridge.CELRow) { tx.db.InsertIn(t, tx.Tx, rows...) }

// realStore is the store with what the suite reads back.
type realStore struct{ *store.DB }

func (s realStore) Requests(t *testing.T, linkedid string) []celbridge.Event {
	t.Helper()
	_, entries, err := s.Call(t.Context(), linkedid)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []celbridge.Event
	for _, e := range entries {
		out = append(out, e.Event)
	}
	return out
}

// farFuture is a time every stored event is due at.
var farFuture = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// Keys delivers every stored event (in the outbox's order) and returns their keys.
func (s realStore) Keys(t *testing.T) []string {
	t.Helper()
	var keys []string
	for {
		due, err := s.Due(t.Context(), farFuture, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) == 0 {
			break
		}
		for _, d := range due {
			keys = append(keys, d.Event.IdempotencyKey())
			if err := s.Delivered(t.Context(), d.ID, farFuture); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(keys)
	return keys
}
