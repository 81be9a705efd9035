package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Names of the meta values the store writes itself.
const (
	// MetaFirstStartAt is when the first checkpoint was committed (RFC 3339, UTC).
	MetaFirstStartAt = "first_start_at"
	// MetaFirstStartCursor is that first checkpoint: CEL rows up to it were never read.
	MetaFirstStartCursor = "first_start_cursor"
)

// Meta returns the value stored under name; ok is false when there is none.
func (db *DB) Meta(ctx context.Context, name string) (value string, ok bool, err error) {
	err = db.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, name).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read meta %s: %w", name, db.damaged(ctx, err))
	}
	return value, true, nil
}

// SetMeta stores value under name, replacing the value there was.
func (db *DB) SetMeta(ctx context.Context, name, value string) error {
	err := db.write(ctx, func(tx *sql.Tx) error {
		return setMeta(ctx, tx, name, value)
	})
	if err != nil {
		return fmt.Errorf("set meta %s: %w", name, err)
	}
	return nil
}

const upsertMeta = `INSERT INTO meta (name, value) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET value = excluded.value`

func setMeta(ctx context.Context, tx *sql.Tx, name, value string) error {
	if _, err := tx.ExecContext(ctx, upsertMeta, name, value); err != nil {
		return fmt.Errorf("write meta %s: %w", name, err)
	}
	return nil
}

// recordFirstStart notes, in the transaction of the first checkpoint, when it was and its
// cursor: a first start on a non-empty CEL table skips the calls before, and a store that
// was lost looks like a first start. status shows it.
func (db *DB) recordFirstStart(ctx context.Context, tx *sql.Tx, cursor int64) error {
	if err := setMeta(ctx, tx, MetaFirstStartAt, db.now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	return setMeta(ctx, tx, MetaFirstStartCursor, strconv.FormatInt(cursor, 10))
}

// FirstStart returns when the store's first checkpoint was committed and its cursor (the
// daemon began reading CEL after that id). ok is false before the first start, and for a
// store whose first start predates celbridge recording it.
func (db *DB) FirstStart(ctx context.Context) (at time.Time, cursor int64, ok bool, err error) {
	atText, ok, err := db.Meta(ctx, MetaFirstStartAt)
	if err != nil || !ok {
		return time.Time{}, 0, false, err
	}
	cursorText, ok, err := db.Meta(ctx, MetaFirstStartCursor)
	if err != nil || !ok {
		return time.Time{}, 0, false, err
	}
	if at, err = time.Parse(time.RFC3339, atText); err != nil {
		return time.Time{}, 0, false, fmt.Errorf("read meta %s: %w", MetaFirstStartAt, err)
	}
	if cursor, err = strconv.ParseInt(cursorText, 10, 64); err != nil {
		return time.Time{}, 0, false, fmt.Errorf("read meta %s: %w", MetaFirstStartCursor, err)
	}
	return at, cursor, true, nil
}
