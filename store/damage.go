package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrDamaged is returned, wrapped, by Open and OpenReadOnly when the state file is not a
// SQLite database or fails SQLite's quick_check, by Verify when integrity_check finds a
// problem, and by any method that meets SQLite's "database disk image is malformed". Its
// message says what to do: stop celbridge, move the file aside, start afresh and backfill
// what was not delivered.
var ErrDamaged = errors.New("the store file is damaged")

// isDamage reports whether err is SQLite finding the file malformed or not a database.
func isDamage(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // extended codes (SQLITE_CORRUPT_INDEX…) keep the primary in the low byte
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

// damaged wraps err with ErrDamaged and what to do when err is SQLite finding the file
// damaged; other errors are returned as they are.
func (db *DB) damaged(ctx context.Context, err error) error {
	if err == nil || errors.Is(err, ErrDamaged) || !isDamage(err) {
		return err
	}
	fix := db.recovery(ctx)
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_NOTADB {
		fix = "check store.path; if it is right: " + fix // or some other file is there
	}
	return db.file.setFault(fmt.Errorf("%w: %w (%s)", ErrDamaged, err, fix))
}

// checkQuick runs PRAGMA quick_check, SQLite's O(n) test of the file's structure (pages,
// b-trees, records), without integrity_check's comparison of every index with its table.
func (db *DB) checkQuick(ctx context.Context) error {
	return db.check(ctx, "quick_check")
}

// Verify runs SQLite's full integrity_check (every index against its table too, slower than
// the quick_check of Open) and returns an error wrapping ErrDamaged when it finds a problem.
// It works on a read-only store as well.
func (db *DB) Verify(ctx context.Context) error {
	if err := db.check(ctx, "integrity_check"); err != nil {
		return fmt.Errorf("verify store %s: %w", db.path, err)
	}
	return nil
}

// maxProblems is how many of SQLite's findings an error quotes.
const maxProblems = 3

func (db *DB) check(ctx context.Context, pragma string) error {
	rows, err := db.db.QueryContext(ctx, fmt.Sprintf("PRAGMA %s(%d)", pragma, maxProblems))
	if err != nil {
		return db.damaged(ctx, fmt.Errorf("run %s: %w", pragma, err))
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return db.damaged(ctx, fmt.Errorf("read %s: %w", pragma, err))
		}
		if line != "ok" { // a line may hold several findings, one per line
			problems = append(problems, strings.ReplaceAll(strings.TrimSpace(line), "\n", "; "))
		}
	}
	if err := rows.Err(); err != nil {
		return db.damaged(ctx, fmt.Errorf("read %s: %w", pragma, err))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s: %s (%s)", ErrDamaged, pragma, strings.Join(problems, "; "), db.recovery(ctx))
	}
	return nil
}

// resumeQuery is the first CEL id whose call may not have reached the CRM: the first row of
// every call with an undelivered event, and the row after the checkpoint.
const resumeQuery = `
SELECT min(id) FROM (
	SELECT cursor + 1 AS id FROM checkpoint
	UNION ALL
	SELECT c.first_cel_id FROM outbox o JOIN calls c ON c.linkedid = o.linked_id
	WHERE o.state != 'delivered')`

// ResumeID returns the first CEL id from which a backfill resends every call the store had
// not delivered (the first row of any call with an undelivered event, or the row after the
// checkpoint). ok is false on an empty store. On a damaged or lost file it is a best guess.
func (db *DB) ResumeID(ctx context.Context) (id int64, ok bool, err error) {
	var v sql.NullInt64
	if err := db.db.QueryRowContext(ctx, resumeQuery).Scan(&v); err != nil {
		return 0, false, fmt.Errorf("read the first undelivered CEL id: %w", err)
	}
	return v.Int64, v.Valid, nil
}

// recovery says what to do with a damaged state file, naming the backfill to run when the
// file still tells where its undelivered calls begin.
func (db *DB) recovery(ctx context.Context) string {
	name := filepath.Base(db.path)
	return fmt.Sprintf("stop celbridge; move the file aside with its "+
		"-wal and -shm: cd %s && mkdir -p damaged && mv %s %s-wal %s-shm damaged/ (the last two may "+
		"be absent); start celbridge, which begins afresh at the newest CEL row; then send what was "+
		"not delivered: %s", filepath.Dir(db.path), name, name, name, db.backfillHint(ctx))
}

// backfillHint is the backfill command that resends what the store had not delivered.
func (db *DB) backfillHint(ctx context.Context) string {
	if id, ok, err := db.ResumeID(ctx); err == nil && ok {
		return fmt.Sprintf("celbridge backfill -from-id %d", id)
	}
	return "celbridge backfill -from TIME, TIME being shortly before the last call the CRM received"
}
