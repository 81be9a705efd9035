package poller_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/internal/pollertest"
	"github.com/celbridge/celbridge/poller"
)

// The poller's tests run on the in-memory CEL table and store below: no database. The same
// cases run against MariaDB and the real store in freepbx (internal/pollertest).

var (
	_ poller.Source      = (*memTable)(nil)
	_ pollertest.Table   = (*memTable)(nil)
	_ pollertest.Store   = (*memStore)(nil)
	_ poller.RangeSource = (*memTable)(nil)
	_ pollertest.Factory = newMemEnv
)

func newMemEnv(*testing.T) pollertest.Env {
	tab := &memTable{rows: map[int64]celbridge.CELRow{}}
	return pollertest.Env{Table: tab, Source: tab, Store: newMemStore()}
}

// memTable is a CEL table in memory: committed rows are visible; a transaction's rows take
// their ids when inserted (as InnoDB's AUTO_INCREMENT does) and become visible at Commit.
type memTable struct {
	mu   sync.Mutex
	rows map[int64]celbridge.CELRow // committed
	next int64                      // the last id given out
	// fail, when set, is returned by the next read instead of rows.
	fail error
}

func (m *memTable) number(rows []celbridge.CELRow) []celbridge.CELRow {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(rows)
	for i := range out {
		if out[i].ID == 0 {
			m.next++
			out[i].ID = m.next
		}
		m.next = max(m.next, out[i].ID)
	}
	return out
}

func (m *memTable) commit(rows []celbridge.CELRow) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rows {
		m.rows[r.ID] = r
	}
}

// Insert implements pollertest.Table.
func (m *memTable) Insert(_ *testing.T, rows ...celbridge.CELRow) { m.commit(m.number(rows)) }

// Begin implements pollertest.Table.
func (m *memTable) Begin(*testing.T) pollertest.Tx { return &memTx{table: m} }

type memTx struct {
	table *memTable
	rows  []celbridge.CELRow
	done  bool
}

func (tx *memTx) Insert(_ *testing.T, rows ...celbridge.CELRow) {
	tx.rows = append(tx.rows, tx.table.number(rows)...)
}

func (tx *memTx) Commit() error {
	if tx.done {
		return errors.New("transaction already ended")
	}
	tx.done = true
	tx.table.commit(tx.rows)
	return nil
}

func (tx *memTx) Rollback() error {
	tx.done = true
	return nil
}

func (m *memTable) read(ctx context.Context, keep func(id int64) bool, limit int) ([]celbridge.CELRow, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail; err != nil {
		m.fail = nil
		return nil, err
	}
	var out []celbridge.CELRow
	for _, id := range slices.Sorted(maps.Keys(m.rows)) {
		if keep(id) {
			if len(out) == limit {
				break
			}
			out = append(out, m.rows[id])
		}
	}
	return out, nil
}

// ReadAfter implements poller.Source.
func (m *memTable) ReadAfter(ctx context.Context, afterID int64, limit int) ([]celbridge.CELRow, error) {
	return m.read(ctx, func(id int64) bool { return id > afterID }, limit)
}

// ReadIDs implements poller.Source.
func (m *memTable) ReadIDs(ctx context.Context, ids []int64) ([]celbridge.CELRow, error) {
	want := make(map[int64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	return m.read(ctx, func(id int64) bool { return want[id] }, len(ids))
}

// MaxID implements poller.Source.
func (m *memTable) MaxID(ctx context.Context) (int64, error) {
	rows, err := m.read(ctx, func(int64) bool { return true }, -1)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	return rows[len(rows)-1].ID, nil
}

// memStore is the poller's store in memory: a checkpoint, the events (each key once, as the
// real outbox keeps them) and named values.
type memStore struct {
	mu      sync.Mutex
	cursor  int64
	started bool
	events  []celbridge.Event
	keys    map[string]bool
	meta    map[string]string
	// fail, when set, is returned by the next Commit, which then stores nothing.
	fail error
}

func newMemStore() *memStore {
	return &memStore{keys: map[string]bool{}, meta: map[string]string{}}
}

func (s *memStore) Checkpoint(context.Context) (int64, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor, s.started, nil
}

func (s *memStore) Commit(_ context.Context, cursor int64, events []celbridge.Event) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail; err != nil {
		s.fail = nil
		return 0, err
	}
	added := 0
	for _, e := range events {
		if k := e.IdempotencyKey(); !s.keys[k] {
			s.keys[k] = true
			s.events = append(s.events, e)
			added++
		}
	}
	s.cursor, s.started = cursor, true
	return added, nil
}

func (s *memStore) Meta(_ context.Context, name string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.meta[name]
	return v, ok, nil
}

func (s *memStore) SetMeta(_ context.Context, name, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta[name] = value
	return nil
}

func (s *memStore) Requests(_ *testing.T, linkedid string) []celbridge.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []celbridge.Event
	for _, e := range s.events {
		if e.LinkedID == linkedid {
			out = append(out, e)
		}
	}
	return out
}

func (s *memStore) Keys(*testing.T) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := slices.Collect(maps.Keys(s.keys))
	slices.Sort(keys)
	return keys
}
