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

// Checkpoint returns the committed cursor: CEL rows with a greater id are still to be read.
// ok is false on an empty store.
func (db *DB) Checkpoint(ctx context.Context) (cursor int64, ok bool, err error) {
	err = db.db.QueryRowContext(ctx, `SELECT cursor FROM checkpoint WHERE id = 1`).Scan(&cursor)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read checkpoint: %w", db.damaged(ctx, err))
	}
	return cursor, true, nil
}

// Commit stores events and sets the checkpoint to cursor in one transaction, so a crash keeps
// both or neither. Events already in the outbox (same generalCallID, requestType and seq)
// are ignored, which makes replaying CEL rows from the checkpoint safe; added counts the new
// ones. Events are stored in slice order, which is their delivery order within a call. The
// first checkpoint of a store also records the first start (see FirstStart).
func (db *DB) Commit(ctx context.Context, cursor int64, events []celbridge.Event) (added int, err error) {
	b, err := db.newBatch(events)
	if err != nil {
		return 0, fmt.Errorf("commit cursor %d with %d events: %w", cursor, len(events), err)
	}
	err = db.write(ctx, func(tx *sql.Tx) error {
		if added, err = db.insertEvents(ctx, tx, b); err != nil {
			return err
		}
		var first bool
		if err := tx.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM checkpoint)`).Scan(&first); err != nil {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		if first {
			if err := db.recordFirstStart(ctx, tx, cursor); err != nil {
				return err
			}
		}
		return db.setCheckpoint(ctx, tx, cursor)
	})
	if err != nil {
		return 0, fmt.Errorf("commit cursor %d with %d events: %w", cursor, len(events), err)
	}
	return added, nil
}

// Enqueue is Commit without moving the checkpoint, for backfill.
func (db *DB) Enqueue(ctx context.Context, events []celbridge.Event) (added int, err error) {
	b, err := db.newBatch(events)
	if err == nil {
		err = db.write(ctx, func(tx *sql.Tx) error {
			added, err = db.insertEvents(ctx, tx, b)
			return err
		})
	}
	if err != nil {
		return 0, fmt.Errorf("enqueue %d events: %w", len(events), err)
	}
	return added, nil
}

const setCheckpoint = `
INSERT INTO checkpoint (id, cursor, updated_at) VALUES (1, ?, ?)
ON CONFLICT (id) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`

func (db *DB) setCheckpoint(ctx context.Context, tx *sql.Tx, cursor int64) error {
	if _, err := tx.ExecContext(ctx, setCheckpoint, cursor, db.now().UnixMilli()); err != nil {
		return fmt.Errorf("set checkpoint: %w", err)
	}
	return nil
}

// upsertCall creates the call's row or merges an event into it: numbers fill in where still
// empty, the CEL id range widens, and a hangup closes the call (nothing reopens it, so a
// replayed receivedTheCall is harmless).
const upsertCall = `
INSERT INTO calls (linkedid, general_call_id, call_type, did_number, external_number,
	internal_number, first_cel_id, last_cel_id, state, started_at, ended_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (linkedid) DO UPDATE SET
	did_number      = iif(did_number = '', excluded.did_number, did_number),
	external_number = iif(external_number = '', excluded.external_number, external_number),
	internal_number = iif(internal_number = '', excluded.internal_number, internal_number),
	first_cel_id    = min(first_cel_id, excluded.first_cel_id),
	last_cel_id     = max(last_cel_id, excluded.last_cel_id),
	started_at      = min(started_at, excluded.started_at),
	state           = iif(excluded.state = 'closed', 'closed', state),
	ended_at        = coalesce(ended_at, excluded.ended_at)`

// insertEvent adds an event unless it is a duplicate. The new row is its call's head when
// the call has no undelivered row yet.
const insertEvent = `
INSERT OR IGNORE INTO outbox (general_call_id, linked_id, request_type, seq, idem_key, payload,
	cel_id, state, head, created_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending',
	NOT EXISTS (SELECT 1 FROM outbox WHERE general_call_id = ?1 AND state != 'delivered'), ?8)`

// batch is what a Commit or Enqueue writes, worked out before its transaction begins: the
// single writer connection is then held only for the statements (a backfill's deliveries wait
// for it meanwhile).
type batch struct {
	events   []celbridge.Event
	keys     []string // their idempotency keys
	payloads []string // their JSON
	calls    []*callRow
	now      time.Time
}

// newBatch checks events and encodes them.
func (db *DB) newBatch(events []celbridge.Event) (*batch, error) {
	b := &batch{events: events, now: db.now()}
	for i, e := range events {
		if err := validate(e); err != nil {
			return nil, fmt.Errorf("check event %d: %w", i, err)
		}
	}
	if len(events) == 0 {
		return b, nil
	}
	b.keys, b.payloads = make([]string, len(events)), make([]string, len(events))
	for i, e := range events {
		b.keys[i] = e.IdempotencyKey()
		payload, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("store event %s: encode payload: %w", b.keys[i], err)
		}
		b.payloads[i] = string(payload)
	}
	b.calls = mergeCalls(events, b.now)
	return b, nil
}

// insertEvents stores a batch in tx: one upsert of the calls row per call (its events merged
// first, as the upserts one by one would), one insert per event, one read and one write of
// the call log per call. The statements are prepared once per connection (see statements):
// parsing SQL cost more CPU than running it (the profile in BENCHMARKS.md).
func (db *DB) insertEvents(ctx context.Context, tx *sql.Tx, b *batch) (int, error) {
	if len(b.events) == 0 {
		return 0, nil
	}
	callStmt, err := db.stmt(ctx, tx, db.stmts.upsertCall, upsertCall)
	if err != nil {
		return 0, fmt.Errorf("prepare call upsert: %w", err)
	}
	defer callStmt.Close()
	for _, c := range b.calls {
		if _, err := callStmt.ExecContext(ctx, c.linkedID, c.generalCallID, c.callType, c.did,
			c.external, c.internal, c.first, c.last, c.state, c.started, c.ended); err != nil {
			return 0, fmt.Errorf("store event %s: upsert call: %w", c.key, err)
		}
	}
	eventStmt, err := db.stmt(ctx, tx, db.stmts.insertEvent, insertEvent)
	if err != nil {
		return 0, fmt.Errorf("prepare outbox insert: %w", err)
	}
	defer eventStmt.Close()
	added := 0
	for i, e := range b.events {
		res, err := eventStmt.ExecContext(ctx, e.GeneralCallID, e.LinkedID, e.RequestType, e.Seq,
			b.keys[i], b.payloads[i], e.CELID, b.now.UnixMilli())
		if err != nil {
			return 0, fmt.Errorf("store event %s: insert into outbox: %w", b.keys[i], err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("store event %s: count inserted rows: %w", b.keys[i], err)
		}
		added += int(n)
	}
	if err := db.logEvents(ctx, tx, b.events); err != nil {
		return 0, err
	}
	return added, nil
}

// callRow is the calls row's values of one call's events in a batch, merged.
type callRow struct {
	key                     string // the first event's idempotency key, for errors
	linkedID, generalCallID string
	callType                int
	did, external, internal string
	first, last, started    int64
	state                   string
	ended                   any // nil while open
}

// mergeCalls merges the events of each call (by linkedid, in order of first appearance) into
// the values one upsert writes. The upsert keeps a field once set (numbers, ended_at), takes
// the least first id and start and the greatest last id, and a hangup closes the call, so
// merging the events first in their order gives what the upserts one by one gave.
func mergeCalls(events []celbridge.Event, now time.Time) []*callRow {
	var rows []*callRow
	byID := make(map[string]*callRow)
	for _, e := range events {
		first := e.FirstCELID
		if first == 0 {
			first = e.CELID
		}
		started := msOr(e.Time, now)
		c := byID[e.LinkedID]
		if c == nil {
			c = &callRow{key: e.IdempotencyKey(), linkedID: e.LinkedID, generalCallID: e.GeneralCallID,
				callType: e.CallType, did: e.DIDNumber, external: e.ExternalNumber, internal: e.InternalNumber,
				first: first, last: e.CELID, started: started, state: StateOpen}
			byID[e.LinkedID] = c
			rows = append(rows, c)
		} else {
			c.did = cmpOr(c.did, e.DIDNumber)
			c.external = cmpOr(c.external, e.ExternalNumber)
			c.internal = cmpOr(c.internal, e.InternalNumber)
			c.first, c.last, c.started = min(c.first, first), max(c.last, e.CELID), min(c.started, started)
		}
		if e.RequestType == celbridge.Hangup && c.ended == nil {
			c.state, c.ended = StateClosed, started
		}
	}
	return rows
}

// validate rejects events that would corrupt the outbox's keys.
func validate(e celbridge.Event) error {
	switch {
	case e.LinkedID == "":
		return errors.New("empty linkedid")
	case e.GeneralCallID == "":
		return errors.New("empty generalCallID")
	case e.RequestType == "":
		return errors.New("empty requestType")
	case e.Seq < 0:
		return fmt.Errorf("negative seq %d", e.Seq)
	}
	return nil
}
