package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/celbridge/celbridge"
)

// CallLogEntry is one call as the CRM's call-details request sees it: what its pushes said,
// merged (migrations/0004_calllog.sql).
type CallLogEntry struct {
	GeneralCallID, LinkedID string
	CallType                int
	StartedAt               time.Time
	AnsweredAt, EndedAt     time.Time // zero when not (yet) answered / ended
	DIDNumber               string
	ExternalNumber          string
	// ReceivedNumber is receivedTheCall's internalNumber: the ring group or queue, or the
	// first phone that rang; AnsweredBy is answeredTheCall's (the extension that answered).
	ReceivedNumber, AnsweredBy string
	// DstNumbers are the lines the call reached, in order: the one receivedTheCall named,
	// then the phones it rang, then whoever it was transferred to.
	DstNumbers  []string
	Billsec     int
	Disposition string // "" while the call is in progress
	Recording   string // the MixMonitor file as CEL names it; "" when not recorded
	Trunk       string // the trunk the call used ("kyivstar")
	// IsNew: no earlier call from or to ExternalNumber is in the log.
	IsNew bool
}

// logEvents merges events into their calls' call_log rows, in the transaction that stores
// them: each call's row is read once, its events merged in order, and written once. Merging
// is idempotent, so a replayed event changes nothing.
func (db *DB) logEvents(ctx context.Context, tx *sql.Tx, events []celbridge.Event) error {
	var order []*CallLogEntry
	calls := make(map[string]*CallLogEntry)
	read, err := db.stmt(ctx, tx, db.stmts.readLogRow, readLog)
	if err != nil {
		return fmt.Errorf("prepare call log read: %w", err)
	}
	defer read.Close()
	for _, e := range events {
		cur := calls[e.GeneralCallID]
		if cur == nil {
			c, found, err := readLogRow(read.QueryRowContext(ctx, e.GeneralCallID), e.GeneralCallID)
			if err != nil {
				return err
			}
			if !found {
				c = CallLogEntry{GeneralCallID: e.GeneralCallID, StartedAt: e.Time}
			}
			cur = &c
			calls[e.GeneralCallID] = cur
			order = append(order, cur)
		}
		merge(cur, e)
	}
	write, err := db.stmt(ctx, tx, db.stmts.writeLogRow, upsertLogRow)
	if err != nil {
		return fmt.Errorf("prepare call log write: %w", err)
	}
	defer write.Close()
	for _, c := range order {
		if err := writeLogRow(ctx, write, *c, db.now()); err != nil {
			return err
		}
	}
	return nil
}

// merge applies one event to a call's entry.
func merge(c *CallLogEntry, e celbridge.Event) {
	c.LinkedID, c.CallType = e.LinkedID, e.CallType
	for _, t := range []time.Time{e.CallStart, e.Time} { // the call's first row, else its earliest event
		if !t.IsZero() && (c.StartedAt.IsZero() || t.Before(c.StartedAt)) {
			c.StartedAt = t
		}
	}
	c.DIDNumber = cmpOr(c.DIDNumber, e.DIDNumber)
	c.ExternalNumber = cmpOr(c.ExternalNumber, e.ExternalNumber)
	dst := func(n string) {
		if n != "" && !slices.Contains(c.DstNumbers, n) {
			c.DstNumbers = append(c.DstNumbers, n)
		}
	}
	switch e.RequestType {
	case celbridge.Received:
		c.ReceivedNumber = cmpOr(c.ReceivedNumber, e.InternalNumber)
		dst(e.InternalNumber)
	case celbridge.Answered:
		if c.AnsweredAt.IsZero() {
			c.AnsweredAt = e.Time
		}
		c.AnsweredBy = cmpOr(c.AnsweredBy, e.InternalNumber)
		dst(e.InternalNumber)
	case celbridge.Transferred:
		dst(e.InternalNumber)
	case celbridge.Hangup:
		c.EndedAt, c.Billsec, c.Disposition = e.Time, e.Billsec, e.Disposition
		if e.Disposition == celbridge.DispVoicemail && e.VoicemailMessage {
			c.Disposition = celbridge.DispVoicemailMessage
		}
		c.Recording = cmpOr(e.Recording, c.Recording)
		c.Trunk = cmpOr(e.Trunk, c.Trunk)
		if len(e.Tried) > 0 { // in the order the call rang them, after the line it was received for
			was := c.DstNumbers
			c.DstNumbers = nil
			dst(c.ReceivedNumber)
			for _, n := range append(e.Tried, was...) {
				dst(n)
			}
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

const selectLogRow = `
SELECT general_call_id, linkedid, call_type, started_at, answered_at, ended_at, did_number,
	external_number, received_number, answered_by, dst_numbers, billsec, disposition, recording, trunk
FROM call_log`

func scanLogRow(sc interface{ Scan(...any) error }) (CallLogEntry, error) {
	var c CallLogEntry
	var started int64
	var answered, ended sql.NullInt64
	var dst string
	err := sc.Scan(&c.GeneralCallID, &c.LinkedID, &c.CallType, &started, &answered, &ended,
		&c.DIDNumber, &c.ExternalNumber, &c.ReceivedNumber, &c.AnsweredBy, &dst, &c.Billsec,
		&c.Disposition, &c.Recording, &c.Trunk)
	if err != nil {
		return c, err
	}
	c.StartedAt = time.UnixMilli(started).UTC()
	c.AnsweredAt, c.EndedAt = fromMS(answered), fromMS(ended)
	if err := json.Unmarshal([]byte(dst), &c.DstNumbers); err != nil {
		return c, fmt.Errorf("call %s: dst_numbers: %w", c.GeneralCallID, err)
	}
	return c, nil
}

const readLog = selectLogRow + ` WHERE general_call_id = ?`

// readLogRow scans the call log row of call id from row, a query of readLog.
func readLogRow(row *sql.Row, id string) (CallLogEntry, bool, error) {
	c, err := scanLogRow(row)
	if errors.Is(err, sql.ErrNoRows) {
		return CallLogEntry{}, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("read call log of %s: %w", id, err)
	}
	return c, true, nil
}

const upsertLogRow = `
INSERT OR REPLACE INTO call_log (general_call_id, linkedid, call_type, started_at, answered_at,
	ended_at, did_number, external_number, received_number, answered_by, dst_numbers, billsec,
	disposition, recording, trunk, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func writeLogRow(ctx context.Context, stmt *sql.Stmt, c CallLogEntry, now time.Time) error {
	dst, err := json.Marshal(c.DstNumbers)
	if c.DstNumbers == nil {
		dst = []byte("[]")
	}
	if err != nil {
		return fmt.Errorf("encode dst_numbers: %w", err)
	}
	_, err = stmt.ExecContext(ctx, c.GeneralCallID, c.LinkedID, c.CallType,
		msOr(c.StartedAt, now), ms(c.AnsweredAt), ms(c.EndedAt), c.DIDNumber, c.ExternalNumber,
		c.ReceivedNumber, c.AnsweredBy, string(dst), c.Billsec, c.Disposition, c.Recording, c.Trunk, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("write call log of %s: %w", c.GeneralCallID, err)
	}
	return nil
}

// maxCallLogIDs bounds one CallLog lookup (the API refuses longer lists before asking).
const maxCallLogIDs = 500

const isNewCall = `SELECT NOT EXISTS (SELECT 1 FROM call_log
	WHERE external_number = ? AND started_at < ? AND general_call_id != ?)`

// CallLog returns the entries of the calls with these generalCallIDs, in the order asked;
// ids the log does not hold are left out.
func (db *DB) CallLog(ctx context.Context, ids []string) ([]CallLogEntry, error) {
	if len(ids) > maxCallLogIDs {
		return nil, fmt.Errorf("read call log: %d ids asked, at most %d", len(ids), maxCallLogIDs)
	}
	var out []CallLogEntry
	err := db.read(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			c, ok, err := readLogRow(tx.QueryRowContext(ctx, readLog, id), id)
			if err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
			if c.ExternalNumber != "" {
				err := tx.QueryRowContext(ctx, isNewCall, c.ExternalNumber, c.StartedAt.UnixMilli(), c.GeneralCallID).Scan(&c.IsNew)
				if err != nil {
					return fmt.Errorf("read earlier calls of %s: %w", id, err)
				}
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read call log: %w", err)
	}
	return out, nil
}

const pruneCallLog = `DELETE FROM call_log WHERE ended_at < ?`

// pruneLog deletes the call log of calls that ended before before.
func pruneLog(ctx context.Context, tx *sql.Tx, before time.Time) error {
	if _, err := tx.ExecContext(ctx, pruneCallLog, before.UnixMilli()); err != nil {
		return fmt.Errorf("delete old call log rows: %w", err)
	}
	return nil
}

// LinkKey returns the secret key of recording links, creating it (random, 32 bytes) on first
// use. It lives in the state file, which only celbridge's user can read.
func (db *DB) LinkKey(ctx context.Context, random func([]byte) error) ([]byte, error) {
	const name = "recording_link_key"
	var key string
	err := db.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, name).Scan(&key)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		b := make([]byte, 32)
		if err := random(b); err != nil {
			return err
		}
		key = fmt.Sprintf("%x", b)
		return setMeta(ctx, tx, name, key)
	})
	if err != nil {
		return nil, fmt.Errorf("read recording link key: %w", err)
	}
	return []byte(strings.TrimSpace(key)), nil
}
