package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/celbridge/celbridge"
)

// dueQuery reads the due heads through the partial index outbox_due, which holds only the
// pending heads, in the order wanted: the cost is the number of rows returned, however many
// rows wait behind their heads. Without statistics the planner would prefer the equality on
// state of outbox_state_created_at and sort every pending row; INDEXED BY pins the plan (and
// fails loudly if the index is ever dropped).
const dueQuery = `
SELECT id, payload, attempts FROM outbox INDEXED BY outbox_due
WHERE head = 1 AND state = 'pending' AND next_attempt_at <= ?
ORDER BY next_attempt_at, id
LIMIT ?`

// Due returns up to limit events to send now: of each call only its head (the lowest-id
// outbox row not delivered), and only when that head is pending and its next attempt is at
// or before now; ordered by next attempt, then id. A failed head blocks its call until
// Requeue. A row stays due until Delivered, Retry or Fail is called on it.
func (db *DB) Due(ctx context.Context, now time.Time, limit int) ([]celbridge.Delivery, error) {
	if err := db.file.err(); err != nil { // a lost file's rows would be pushed, never marked
		return nil, fmt.Errorf("read due outbox rows: %w", err)
	}
	rows, err := db.reader().QueryContext(ctx, dueQuery, now.UnixMilli(), limit)
	if err != nil {
		return nil, fmt.Errorf("read due outbox rows: %w", db.damaged(ctx, err))
	}
	defer rows.Close()
	var due []celbridge.Delivery
	for rows.Next() {
		var d celbridge.Delivery
		var payload string
		if err := rows.Scan(&d.ID, &payload, &d.Attempts); err != nil {
			return nil, fmt.Errorf("read due outbox row: %w", db.damaged(ctx, err))
		}
		if err := json.Unmarshal([]byte(payload), &d.Event); err != nil {
			return nil, fmt.Errorf("decode payload of outbox row %d: %w", d.ID, err)
		}
		due = append(due, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read due outbox rows: %w", db.damaged(ctx, err))
	}
	return due, nil
}

// promoteHead makes the call's next undelivered row its head, after row id was delivered.
const promoteHead = `
UPDATE outbox SET head = 1
WHERE id = (SELECT min(o.id) FROM outbox o
	WHERE o.general_call_id = (SELECT general_call_id FROM outbox WHERE id = ?)
	AND o.state != 'delivered')`

// Delivered records that the CRM accepted outbox row id at at, which unblocks the next event
// of its call (a failed row too: the CRM took it after all). Marking a delivered row again
// is a no-op.
//
// Marks from concurrent callers (the dispatcher delivers several calls at once) are written
// together, in one transaction and so one fsync (group commit): each call returns once the
// transaction holding its mark is committed, or with that transaction's error.
func (db *DB) Delivered(ctx context.Context, id int64, at time.Time) error {
	m := &mark{id: id, at: at, wake: make(chan struct{}, 1)}
	db.marksMu.Lock()
	db.marks = append(db.marks, m)
	if db.marking {
		db.marksMu.Unlock()
		if <-m.wake; !m.lead {
			return m.err // written by another caller's transaction
		}
	} else {
		db.marking = true
		db.marksMu.Unlock()
	}
	// This caller writes every mark queued now, its own included, then hands the marks queued
	// meanwhile to the first of their callers. When few are queued it first waits a little for
	// more: a transaction's cost is mostly its commit (the pages it writes, the fsync), which
	// more marks share.
	db.gatherMarks()
	db.marksMu.Lock()
	batch := db.marks
	db.marks = nil
	db.marksMu.Unlock()
	db.writeMarks(ctx, batch)
	db.marksMu.Lock()
	if len(db.marks) > 0 {
		next := db.marks[0]
		next.lead = true
		next.wake <- struct{}{}
	} else {
		db.marking = false
	}
	db.marksMu.Unlock()
	return m.err
}

// A transaction of marks waits up to markWait for markBatch marks.
const (
	markBatch = 32
	markWait  = 2 * time.Millisecond
)

// gatherMarks waits until markBatch marks are queued or markWait passed, whichever is first.
// A lone mark (the daemon on a quiet line) is written markWait later; a backfill's marks, which
// come from many calls at once, share their transactions.
func (db *DB) gatherMarks() {
	deadline := time.Now().Add(markWait)
	for {
		db.marksMu.Lock()
		n := len(db.marks)
		db.marksMu.Unlock()
		if n >= markBatch || !time.Now().Before(deadline) {
			return
		}
		time.Sleep(markWait / 8)
	}
}

// mark is one Delivered call waiting for its transaction.
type mark struct {
	id   int64
	at   time.Time
	err  error
	lead bool          // woken to write the queue, not because its mark was written
	wake chan struct{} // capacity 1
}

// markDelivered sets a row delivered; promoteHead then moves its call's head.
const markDelivered = `UPDATE outbox SET state = 'delivered', delivered_at = ?, head = 0
	WHERE id = ? AND state != 'delivered'`

// markAll and promoteAll are markDelivered and promoteHead for a whole batch of marks, given
// as one JSON array of [id, delivered_at] pairs: two statements for the batch instead of two a
// mark (each statement costs more to run than the rows it changes).
const (
	markAll = `UPDATE outbox SET state = 'delivered', delivered_at = m.at, head = 0
	FROM (SELECT value ->> 0 AS id, value ->> 1 AS at FROM json_each(?)) AS m
	WHERE outbox.id = m.id AND outbox.state != 'delivered'`
	promoteAll = `UPDATE outbox SET head = 1 WHERE id IN (
	SELECT (SELECT min(o.id) FROM outbox o WHERE o.general_call_id = c.general_call_id AND o.state != 'delivered')
	FROM outbox c WHERE c.id IN (SELECT value ->> 0 FROM json_each(?)))`
)

// errMarksDiffer makes writeMarks write a batch mark by mark: some mark does not apply.
var errMarksDiffer = errors.New("a mark does not apply")

// writeMarks writes batch in one transaction and reports to each caller. A mark that cannot
// apply (no such row, or delivered already) changes nothing and fails alone; any other error
// fails the batch.
func (db *DB) writeMarks(ctx context.Context, batch []*mark) {
	errs := make([]error, len(batch))
	err := db.write(ctx, func(tx *sql.Tx) error { return db.markAll(ctx, tx, batch) })
	if errors.Is(err, errMarksDiffer) {
		err = db.write(ctx, func(tx *sql.Tx) error { return db.markEach(ctx, tx, batch, errs) })
	}
	for i, m := range batch {
		if err != nil {
			errs[i] = err
		}
		if errs[i] != nil {
			m.err = fmt.Errorf("mark outbox row %d delivered: %w", m.id, errs[i])
		}
		m.wake <- struct{}{}
	}
}

// markAll writes every mark of batch with two statements; errMarksDiffer when one does not
// apply (the transaction is then rolled back).
func (db *DB) markAll(ctx context.Context, tx *sql.Tx, batch []*mark) error {
	pairs := make([][2]int64, len(batch))
	for i, m := range batch {
		pairs[i] = [2]int64{m.id, msOr(m.at, db.now())}
	}
	list, err := json.Marshal(pairs)
	if err != nil {
		return fmt.Errorf("encode marks: %w", err)
	}
	mark, err := db.stmt(ctx, tx, db.stmts.markAll, markAll)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	res, err := mark.ExecContext(ctx, string(list))
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != int64(len(batch)) {
		return cmp.Or(err, errMarksDiffer)
	}
	promote, err := db.stmt(ctx, tx, db.stmts.promoteAll, promoteAll)
	if err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	if _, err := promote.ExecContext(ctx, string(list)); err != nil {
		return fmt.Errorf("move heads of calls: %w", err)
	}
	return nil
}

// markEach writes the marks of batch one by one, noting in errs those that do not apply.
func (db *DB) markEach(ctx context.Context, tx *sql.Tx, batch []*mark, errs []error) error {
	for i, m := range batch {
		res, err := tx.ExecContext(ctx, markDelivered, msOr(m.at, db.now()), m.id)
		if err := changed(ctx, tx, res, err, m.id, StateDelivered); err != nil {
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotPending) {
				errs[i] = err
				continue
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, promoteHead, m.id); err != nil {
			return fmt.Errorf("move head of call: %w", err)
		}
	}
	return nil
}

// Retry records failed attempt number attempts of pending row id and when to try again
// (the zero time: at once).
func (db *DB) Retry(ctx context.Context, id int64, attempts int, next time.Time, lastErr string) error {
	if err := db.CheckFile(); err != nil {
		return fmt.Errorf("schedule retry of outbox row %d: %w", id, err)
	}
	res, err := db.db.ExecContext(ctx, `UPDATE outbox
		SET attempts = ?, next_attempt_at = ?, last_error = ?, last_error_at = ?
		WHERE id = ? AND state = 'pending'`, attempts, msOrZero(next), lastErr, db.now().UnixMilli(), id)
	if err := changed(ctx, db.db, res, err, id, ""); err != nil {
		return fmt.Errorf("schedule retry of outbox row %d: %w", id, db.damaged(ctx, err))
	}
	return nil
}

// Fail parks row id as failed after attempts attempts: it and the rest of its call wait for
// Requeue.
func (db *DB) Fail(ctx context.Context, id int64, attempts int, lastErr string) error {
	if err := db.CheckFile(); err != nil {
		return fmt.Errorf("mark outbox row %d failed: %w", id, err)
	}
	res, err := db.db.ExecContext(ctx, `UPDATE outbox
		SET state = 'failed', attempts = ?, last_error = ?, last_error_at = ?
		WHERE id = ? AND state IN ('pending', 'failed')`, attempts, lastErr, db.now().UnixMilli(), id)
	if err := changed(ctx, db.db, res, err, id, ""); err != nil {
		return fmt.Errorf("mark outbox row %d failed: %w", id, db.damaged(ctx, err))
	}
	return nil
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// changed checks that an UPDATE of row id changed it. When it did not, the row is missing
// (ErrNotFound), already in state already (fine), or in a state the update does not apply to
// (ErrNotPending).
func changed(ctx context.Context, q queryer, res sql.Result, err error, id int64, already string) error {
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var state string
	err = q.QueryRowContext(ctx, `SELECT state FROM outbox WHERE id = ?`, id).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	case err != nil:
		return fmt.Errorf("read state: %w", err)
	case state == already:
		return nil
	}
	return fmt.Errorf("it is %s: %w", state, ErrNotPending)
}

// countUndelivered takes the keys as one JSON array, so any number of them fits one statement.
const countUndelivered = `
SELECT coalesce(sum(state = 'pending'), 0), coalesce(sum(state = 'failed'), 0)
FROM outbox WHERE idem_key IN (SELECT value FROM json_each(?))`

// undeliveredChunk is how many keys one query checks: memory stays bounded however many
// events a backfill enqueued.
const undeliveredChunk = 1000

// Undelivered counts, among the outbox rows with the given idempotency keys, those pending
// and those failed. Keys not in the outbox count as neither (delivered rows may be pruned).
// The keys are checked a chunk at a time, in one read transaction.
func (db *DB) Undelivered(ctx context.Context, keys []string) (pending, failed int, err error) {
	if len(keys) == 0 {
		return 0, 0, nil
	}
	err = db.read(ctx, func(tx *sql.Tx) error {
		for chunk := range slices.Chunk(keys, undeliveredChunk) {
			list, err := json.Marshal(chunk)
			if err != nil {
				return fmt.Errorf("encode keys: %w", err)
			}
			var p, f int
			if err := tx.QueryRowContext(ctx, countUndelivered, string(list)).Scan(&p, &f); err != nil {
				return err
			}
			pending, failed = pending+p, failed+f
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("count undelivered of %d keys: %w", len(keys), err)
	}
	return pending, failed, nil
}

// outboxEnd is the highest outbox id ever assigned (AUTOINCREMENT keeps it in
// sqlite_sequence, also after the row is pruned).
const outboxEnd = `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0)`

// OutboxEnd returns the highest id an outbox row was ever given, 0 for none. Rows enqueued
// later get greater ids: a backfill notes it before and after enqueueing, and waits for the
// rows up to its end (PendingUpTo) instead of keeping every key in memory.
func (db *DB) OutboxEnd(ctx context.Context) (int64, error) {
	var id int64
	if err := db.db.QueryRowContext(ctx, outboxEnd).Scan(&id); err != nil {
		return 0, fmt.Errorf("read last outbox id: %w", db.damaged(ctx, err))
	}
	return id, nil
}

// pendingUpTo and countUpTo read only the pending (failed) rows, through the index on state,
// however many delivered rows the outbox keeps.
const (
	pendingUpTo = `SELECT EXISTS (SELECT 1 FROM outbox INDEXED BY outbox_state_created_at
	WHERE state = 'pending' AND id <= ?)`
	countUpTo = `SELECT count(*) FROM outbox INDEXED BY outbox_state_created_at
	WHERE state = ? AND id > ? AND id <= ?`
)

// PendingUpTo reports whether an outbox row with id <= upTo is still pending.
func (db *DB) PendingUpTo(ctx context.Context, upTo int64) (bool, error) {
	var found bool
	if err := db.reader().QueryRowContext(ctx, pendingUpTo, upTo).Scan(&found); err != nil {
		return false, fmt.Errorf("look for pending outbox rows up to id %d: %w", upTo, db.damaged(ctx, err))
	}
	return found, nil
}

// CountUpTo counts the outbox rows in state (StatePending or StateFailed) with after < id <=
// upTo.
func (db *DB) CountUpTo(ctx context.Context, state string, after, upTo int64) (int, error) {
	var n int
	if err := db.reader().QueryRowContext(ctx, countUpTo, state, after, upTo).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s outbox rows in ids %d..%d: %w", state, after+1, upTo, db.damaged(ctx, err))
	}
	return n, nil
}

const requeueFailed = `
UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0
WHERE state = 'failed' AND (?1 = '' OR idem_key = ?1 OR general_call_id = ?1)`

// Requeue makes failed rows pending again with no attempts, due at once, and returns how many
// it changed. key selects the rows: an idempotency key, a generalCallID (every failed row of
// the call), or "" for every failed row.
func (db *DB) Requeue(ctx context.Context, key string) (int, error) {
	if err := db.CheckFile(); err != nil {
		return 0, fmt.Errorf("requeue failed outbox rows %q: %w", key, err)
	}
	res, err := db.db.ExecContext(ctx, requeueFailed, key)
	if err != nil {
		return 0, fmt.Errorf("requeue failed outbox rows %q: %w", key, db.damaged(ctx, err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("count requeued rows: %w", err)
	}
	return int(n), nil
}
