package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/celbridge/celbridge"
)

// pruneOutbox and pruneCalls are pinned to their age indexes: the planner would otherwise
// pick the equality on state and read every delivered row.
const (
	pruneOutbox = `DELETE FROM outbox INDEXED BY outbox_delivered_at
		WHERE state = 'delivered' AND delivered_at < ?`
	pruneCalls = `DELETE FROM calls INDEXED BY calls_state_ended_at
		WHERE state = 'closed' AND ended_at < ?
		AND NOT EXISTS (SELECT 1 FROM outbox WHERE outbox.linked_id = calls.linkedid)`
)

// Prune deletes outbox rows delivered before before, then closed calls that ended before
// before and have no outbox row left, in one transaction. It returns the number of outbox
// rows deleted.
//
// An event whose row was pruned is no longer a duplicate: a backfill over that range sends it
// again (with the same Idempotency-Key).
func (db *DB) Prune(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, pruneOutbox, before.UnixMilli())
		if err != nil {
			return fmt.Errorf("delete delivered outbox rows: %w", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return fmt.Errorf("count deleted outbox rows: %w", err)
		}
		_, err = tx.ExecContext(ctx, pruneCalls, before.UnixMilli())
		if err != nil {
			return fmt.Errorf("delete closed calls: %w", err)
		}
		return pruneLog(ctx, tx, before)
	})
	if err != nil {
		return 0, fmt.Errorf("prune store before %s: %w", before.Format(time.RFC3339), err)
	}
	return int(n), nil
}

// Stats is a summary of the store for status and metrics.
type Stats struct {
	Cursor    int64 // the checkpoint; meaningful when HasCursor
	HasCursor bool
	OpenCalls int
	Pending   int // outbox rows waiting for delivery (due or not)
	Failed    int // outbox rows parked as failed, each blocking its call
	// DeliveredToday counts outbox rows delivered since midnight, in now's location.
	DeliveredToday int
	OldestPending  time.Time // created_at of the oldest pending row; zero when none
	LastError      string    // the most recent error recorded by Retry or Fail
	LastErrorAt    time.Time // zero when none
}

// Stats reads a consistent summary of the store at now.
func (db *DB) Stats(ctx context.Context, now time.Time) (Stats, error) {
	var s Stats
	err := db.read(ctx, func(tx *sql.Tx) error {
		if err := readCursor(ctx, tx, &s); err != nil {
			return err
		}
		if err := readCounts(ctx, tx, &s, now); err != nil {
			return err
		}
		return readLastError(ctx, tx, &s)
	})
	if err != nil {
		return Stats{}, fmt.Errorf("read store stats: %w", err)
	}
	return s, nil
}

func readCursor(ctx context.Context, tx *sql.Tx, s *Stats) error {
	err := tx.QueryRowContext(ctx, `SELECT cursor FROM checkpoint WHERE id = 1`).Scan(&s.Cursor)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read checkpoint: %w", err)
	}
	s.HasCursor = true
	return nil
}

// statsCounts is one statement of independent subqueries, each answered from an index (the
// delivered count is pinned to outbox_delivered_at, else it would read every delivered row).
const statsCounts = `SELECT
	(SELECT count(*) FROM calls WHERE state = 'open'),
	(SELECT count(*) FROM outbox WHERE state = 'pending'),
	(SELECT count(*) FROM outbox WHERE state = 'failed'),
	(SELECT count(*) FROM outbox INDEXED BY outbox_delivered_at WHERE state = 'delivered' AND delivered_at >= ?),
	(SELECT created_at FROM outbox WHERE state = 'pending' ORDER BY created_at LIMIT 1)`

func readCounts(ctx context.Context, tx *sql.Tx, s *Stats, now time.Time) error {
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	var oldest sql.NullInt64
	err := tx.QueryRowContext(ctx, statsCounts, midnight.UnixMilli()).Scan(
		&s.OpenCalls, &s.Pending, &s.Failed, &s.DeliveredToday, &oldest)
	if err != nil {
		return fmt.Errorf("count calls and outbox rows: %w", err)
	}
	s.OldestPending = fromMS(oldest)
	return nil
}

const statsLastError = `
SELECT last_error, last_error_at FROM outbox WHERE last_error_at IS NOT NULL
ORDER BY last_error_at DESC LIMIT 1`

func readLastError(ctx context.Context, tx *sql.Tx, s *Stats) error {
	var at sql.NullInt64
	err := tx.QueryRowContext(ctx, statsLastError).Scan(&s.LastError, &at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read last error: %w", err)
	}
	s.LastErrorAt = fromMS(at)
	return nil
}

// Call is what the store knows about one call (a row of the calls table).
type Call struct {
	LinkedID       string
	GeneralCallID  string
	CallType       int
	DIDNumber      string
	ExternalNumber string
	InternalNumber string
	FirstCELID     int64
	LastCELID      int64
	State          string    // StateOpen or StateClosed
	StartedAt      time.Time // time of the call's first stored event
	EndedAt        time.Time // time of its hangupTheCall; zero while open
}

// Entry is one outbox row.
type Entry struct {
	ID            int64
	Key           string // the Idempotency-Key
	Event         celbridge.Event
	State         string // StatePending, StateDelivered or StateFailed
	Attempts      int
	NextAttemptAt time.Time // zero: as soon as possible
	DeliveredAt   time.Time
	LastError     string
	LastErrorAt   time.Time
	CreatedAt     time.Time
}

// Call returns the call whose linkedid or generalCallID is id and its outbox rows in
// delivery order, for explain. It returns ErrNotFound when the store has no such call.
func (db *DB) Call(ctx context.Context, id string) (Call, []Entry, error) {
	var c Call
	var entries []Entry
	err := db.read(ctx, func(tx *sql.Tx) error {
		var err error
		if c, err = readCall(ctx, tx, id); err != nil {
			return err
		}
		entries, err = readEntries(ctx, tx, c.LinkedID)
		return err
	})
	if err != nil {
		return Call{}, nil, fmt.Errorf("read call %q: %w", id, err)
	}
	return c, entries, nil
}

const selectCall = `
SELECT linkedid, general_call_id, call_type, did_number, external_number, internal_number,
	first_cel_id, last_cel_id, state, started_at, ended_at
FROM calls WHERE linkedid = ?1 OR general_call_id = ?1
ORDER BY linkedid = ?1 DESC LIMIT 1`

func readCall(ctx context.Context, tx *sql.Tx, id string) (Call, error) {
	var c Call
	var started, ended sql.NullInt64
	err := tx.QueryRowContext(ctx, selectCall, id).Scan(&c.LinkedID, &c.GeneralCallID, &c.CallType,
		&c.DIDNumber, &c.ExternalNumber, &c.InternalNumber, &c.FirstCELID, &c.LastCELID, &c.State,
		&started, &ended)
	if errors.Is(err, sql.ErrNoRows) {
		return Call{}, ErrNotFound
	}
	if err != nil {
		return Call{}, fmt.Errorf("read calls row: %w", err)
	}
	c.StartedAt, c.EndedAt = fromMS(started), fromMS(ended)
	return c, nil
}

const selectEntries = `
SELECT id, idem_key, payload, state, attempts, next_attempt_at, delivered_at, last_error,
	last_error_at, created_at
FROM outbox WHERE linked_id = ? ORDER BY id`

func readEntries(ctx context.Context, tx *sql.Tx, linkedID string) ([]Entry, error) {
	rows, err := tx.QueryContext(ctx, selectEntries, linkedID)
	if err != nil {
		return nil, fmt.Errorf("read outbox rows: %w", err)
	}
	defer rows.Close()
	var entries []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read outbox rows: %w", err)
	}
	return entries, nil
}

func scanEntry(rows *sql.Rows) (Entry, error) {
	var e Entry
	var payload string
	var next, delivered, errAt, created sql.NullInt64
	if err := rows.Scan(&e.ID, &e.Key, &payload, &e.State, &e.Attempts, &next, &delivered,
		&e.LastError, &errAt, &created); err != nil {
		return Entry{}, fmt.Errorf("read outbox row: %w", err)
	}
	if err := json.Unmarshal([]byte(payload), &e.Event); err != nil {
		return Entry{}, fmt.Errorf("decode payload of outbox row %d: %w", e.ID, err)
	}
	e.NextAttemptAt, e.DeliveredAt = fromMS(next), fromMS(delivered)
	e.LastErrorAt, e.CreatedAt = fromMS(errAt), fromMS(created)
	return e, nil
}
