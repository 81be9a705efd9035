// Package store is celbridge's local state: a SQLite file (modernc.org/sqlite, no cgo) with the
// CEL checkpoint, the calls seen and the outbox of events for the CRM. A batch of events and
// the cursor that produced it are committed in one transaction, and the outbox hands out
// events strictly in order per call (DESIGN §1, §4).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/migrations"
	_ "modernc.org/sqlite" // driver "sqlite"
)

// Outbox row states.
const (
	StatePending   = "pending"
	StateDelivered = "delivered"
	StateFailed    = "failed"
)

// Call states.
const (
	StateOpen   = "open"
	StateClosed = "closed"
)

// ErrNotFound is returned by Delivered, Retry and Fail when no outbox row has the id, and by
// Call when no call matches.
var ErrNotFound = errors.New("not found")

// ErrNotPending is returned by Retry and Fail when the outbox row is no longer pending (it was
// delivered, or it failed and Retry was asked).
var ErrNotPending = errors.New("outbox row is not pending")

// DB is an open state file. Its methods are safe for concurrent use.
type DB struct {
	db   *sql.DB
	rdb  *sql.DB // read-only connection for Due; nil when opened read-only (db then reads)
	path string
	now  func() time.Time // created_at, last_error_at, updated_at; replaced in tests
	file fileWatch        // the file Open opened, for CheckFile

	// Delivered's group commit: marks waiting, and whether a caller is writing them.
	marksMu sync.Mutex
	marks   []*mark
	marking bool

	stmts statements // the writer's frequent statements, prepared once (nil when read-only)
}

// statements are the writes run for every event or every batch of marks, prepared once on
// the writer connection when the store opens; transactions use them through Tx.StmtContext,
// which reuses the connection's prepared statement. modernc's SQLite spent more CPU parsing
// these statements than running them (BENCHMARKS.md).
type statements struct {
	upsertCall, insertEvent, readLogRow, writeLogRow, markAll, promoteAll *sql.Stmt
}

// stmt returns the statement prepared as s for use in tx; on a store opened read-only, which
// prepares none, query prepared in tx (a write then fails as SQLite says).
func (db *DB) stmt(ctx context.Context, tx *sql.Tx, s *sql.Stmt, query string) (*sql.Stmt, error) {
	if s == nil {
		return tx.PrepareContext(ctx, query)
	}
	return tx.StmtContext(ctx, s), nil
}

// prepare prepares the statements of db.stmts.
func (db *DB) prepare(ctx context.Context) error {
	for _, p := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&db.stmts.upsertCall, upsertCall},
		{&db.stmts.insertEvent, insertEvent},
		{&db.stmts.readLogRow, readLog},
		{&db.stmts.writeLogRow, upsertLogRow},
		{&db.stmts.markAll, markAll},
		{&db.stmts.promoteAll, promoteAll},
	} {
		stmt, err := db.db.PrepareContext(ctx, p.query)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", strings.Join(strings.Fields(p.query), " "), err)
		}
		*p.stmt = stmt
	}
	return nil
}

// busyTimeoutMS is how long a statement waits for another connection's lock (a status or
// requeue command running beside the daemon) before failing with SQLITE_BUSY.
const busyTimeoutMS = 5000

// writeParams make the crash guarantee hold: WAL so readers never block the writer, and
// synchronous=FULL so that a committed cursor+events transaction is on disk when Commit
// returns (NORMAL may lose the last transactions on power loss). Statement journals (a
// multi-row UPDATE's undo within its transaction) stay in memory: temp files cost an open and
// a close each (the profile in BENCHMARKS.md). Write transactions begin
// IMMEDIATE so two processes never deadlock upgrading a read lock.
var writeParams = fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)"+
	"&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)&_txlock=immediate", busyTimeoutMS)

// readParams open the file read-only; WAL lets them read while the daemon writes.
var readParams = fmt.Sprintf("mode=ro&_pragma=busy_timeout(%d)&_pragma=query_only(1)", busyTimeoutMS)

// Open opens the state file at path, creating it and its directory if needed, and applies
// the migrations not yet applied.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open store: empty path (set store.path)")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create store directory: %w (check store.path and its permissions)", err)
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	db, err := open(path, writeParams)
	if err != nil {
		return nil, err
	}
	db.db.SetMaxOpenConns(1) // one writer connection: no SQLITE_BUSY between our own goroutines
	if err := db.init(ctx); err != nil {
		err = db.damaged(ctx, err)
		db.db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := db.prepare(ctx); err != nil {
		db.db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := db.file.watch(path); err != nil {
		db.db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// Due, the dispatcher's frequent read, gets its own connection: in WAL mode it reads the
	// last committed state while the writer connection waits for an fsync.
	if db.rdb, err = sql.Open("sqlite", fileURI(path)+"?"+readParams); err != nil {
		db.db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.rdb.SetMaxOpenConns(1)
	return db, nil
}

// OpenReadOnly opens an existing state file for reading, e.g. for status while the daemon
// runs. Its schema must be the one this binary knows; write methods fail.
func OpenReadOnly(ctx context.Context, path string) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open store read-only: %w "+
			"(check store.path; the daemon creates the file on its first start)", err)
	}
	db, err := open(path, readParams)
	if err != nil {
		return nil, err
	}
	db.db.SetMaxOpenConns(2)
	if err := checkSchema(ctx, db.db, migrations.FS); err != nil {
		err = db.damaged(ctx, err)
		db.db.Close()
		return nil, fmt.Errorf("open store %s read-only: %w", path, err)
	}
	return db, nil
}

// createPrivate creates an empty state file readable by its owner only, whatever the umask:
// it holds callers' phone numbers. SQLite gives the -wal and -shm files the mode of the main
// file. An existing file keeps its mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create store %s: %w (check store.path and its directory's owner)", path, err)
	}
	err = f.Chmod(0o600)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create store %s: %w", path, err)
	}
	return nil
}

func open(path, params string) (*DB, error) {
	sqldb, err := sql.Open("sqlite", fileURI(path)+"?"+params)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &DB{db: sqldb, path: path, now: clock.Now}, nil
}

// fileURI turns a path into a SQLite file: URI, escaping the characters a URI gives meaning to.
func fileURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// init checks that the file is an undamaged WAL database and migrates it.
func (db *DB) init(ctx context.Context) error {
	var mode string
	if err := db.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		if isDamage(err) {
			return fmt.Errorf("read journal mode: %w", err) // Open adds what to do
		}
		return fmt.Errorf("read journal mode: %w (is it a celbridge state file? check store.path)", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal mode is %q, not wal (put store.path on a local filesystem)", mode)
	}
	if err := db.checkQuick(ctx); err != nil {
		return err
	}
	return migrate(ctx, db.db, migrations.FS, db.now())
}

// Close closes the file; in WAL mode the last connection to close checkpoints the log.
func (db *DB) Close() error {
	if db.rdb != nil {
		db.rdb.Close()
	}
	for _, s := range []*sql.Stmt{db.stmts.upsertCall, db.stmts.insertEvent, db.stmts.readLogRow,
		db.stmts.writeLogRow, db.stmts.markAll, db.stmts.promoteAll} {
		if s != nil {
			s.Close()
		}
	}
	if err := db.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", db.path, err)
	}
	return nil
}

// write runs fn in a write transaction and commits it, unless the file is lost or damaged.
func (db *DB) write(ctx context.Context, fn func(*sql.Tx) error) error {
	if err := db.CheckFile(); err != nil {
		return err
	}
	return db.tx(ctx, nil, fn)
}

// reader is the handle for reads that need not see this process's uncommitted writes.
func (db *DB) reader() *sql.DB {
	if db.rdb != nil {
		return db.rdb
	}
	return db.db
}

// read runs fn in a read transaction, so that it sees one snapshot.
func (db *DB) read(ctx context.Context, fn func(*sql.Tx) error) error {
	return db.tx(ctx, &sql.TxOptions{ReadOnly: true}, fn)
}

func (db *DB) tx(ctx context.Context, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, opts)
	if err != nil {
		return db.damaged(ctx, fmt.Errorf("begin transaction: %w", err))
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return db.damaged(ctx, err)
	}
	if err := tx.Commit(); err != nil {
		return db.damaged(ctx, fmt.Errorf("commit transaction: %w", err))
	}
	return nil
}

// ms is t as stored: Unix milliseconds, or NULL for the zero time.
func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// msOr is t as stored, or def when t is zero.
func msOr(t, def time.Time) int64 {
	if t.IsZero() {
		t = def
	}
	return t.UnixMilli()
}

// msOrZero is t as stored, with 0 for the zero time.
func msOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS reads a stored time; NULL and 0 are the zero time.
func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid || v.Int64 == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64)
}
