package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// ErrLost is returned, wrapped, by CheckFile, by every write (Commit, Enqueue, Delivered,
// Retry, Fail, Requeue, Prune, SetMeta) and by Due once the file at the store's path is no
// longer the file Open opened, or was cut short: deleted or moved away, replaced, truncated or
// overwritten while open. SQLite would go on writing into a file that nobody reads again (a
// deleted one) or a damaged one, and the poller's cursor would move on while the events are
// lost. The message says what to do.
var ErrLost = errors.New("store file lost while open")

// sqliteMagic is how every SQLite database file begins.
const sqliteMagic = "SQLite format 3\x00"

// fileWatch is what CheckFile compares the file at the store's path with.
type fileWatch struct {
	mu   sync.Mutex
	info os.FileInfo // the file Open opened; nil for a read-only store, which writes nothing
	// size is the largest size seen. The file never shrinks in normal use: celbridge never
	// runs VACUUM and the store has no auto_vacuum, so a WAL checkpoint only grows it.
	size  int64
	fault error // the first loss or damage found; every later check returns it
}

// watch remembers the file now at path as the store's file.
func (w *fileWatch) watch(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat store file: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.info, w.size = fi, fi.Size()
	return nil
}

// setFault records err as the store's fault unless one is recorded, and returns the fault.
func (w *fileWatch) setFault(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fault == nil {
		w.fault = err
	}
	return w.fault
}

func (w *fileWatch) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fault
}

// CheckFile returns nil while the store may go on writing: the file at its path is the one
// Open opened (same device and inode), is no shorter than it was last seen, and still begins
// with SQLite's header. Otherwise it returns an error wrapping ErrLost, or ErrDamaged when a
// method met SQLite's "malformed" earlier; once it failed it keeps failing. It costs a stat,
// an open and a 16-byte read. The writes call it first, so that a checkpoint never moves in
// a lost file; the daemon calls it every second, so that it stops even when idle.
func (db *DB) CheckFile() error {
	w := &db.file
	w.mu.Lock()
	fault, info, size := w.fault, w.info, w.size
	w.mu.Unlock()
	if fault != nil || info == nil {
		return fault
	}
	what, fresh := inspect(db.path, info, size)
	if what == fileOK {
		w.mu.Lock()
		w.size = max(w.size, fresh)
		w.mu.Unlock()
		return nil
	}
	// The old file is still open, and readable even when deleted: it names the backfill.
	ctx := context.Background()
	var fix string
	switch what {
	case fileDeleted:
		fix = "celbridge stops rather than write into it; started again (systemd does so), it begins " +
			"afresh at the newest CEL row. If the file was moved: systemctl stop celbridge, put it back " +
			"with its -wal and -shm, systemctl start celbridge. Otherwise send what was not delivered: " +
			db.backfillHint(ctx)
	case fileReplaced:
		fix = "celbridge stops rather than write into the old file; started again (systemd does so), it " +
			"uses the file now at the path. Send what the old one had not delivered: " + db.backfillHint(ctx)
	default:
		fix = db.recovery(ctx)
	}
	return w.setFault(fmt.Errorf("store %s %s: %w (%s)", db.path, what, ErrLost, fix))
}

// What inspect found.
const (
	fileOK       = ""
	fileDeleted  = "was deleted or moved away"
	fileReplaced = "was replaced: another file is now at its path"
	fileHeader   = "was overwritten: it no longer begins with SQLite's header"
)

// inspect compares the file at path with info, the file Open opened, whose size was last seen
// to be size. It returns what happened to it (fileOK when nothing) and its size now.
func inspect(path string, info os.FileInfo, size int64) (what string, now int64) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fileDeleted, 0
	case err != nil:
		return fileOK, size // cannot tell (no search permission, too many files): SQLite will say
	case !os.SameFile(fi, info):
		return fileReplaced, 0
	case fi.Size() < size:
		return fmt.Sprintf("was truncated: it shrank from %d to %d bytes", size, fi.Size()), fi.Size()
	}
	f, err := os.Open(path)
	if err != nil {
		return fileOK, fi.Size() // e.g. its mode was changed; the open handles still work
	}
	defer f.Close()
	magic := make([]byte, len(sqliteMagic))
	if _, err := f.ReadAt(magic, 0); err != nil || string(magic) != sqliteMagic {
		return fileHeader, fi.Size()
	}
	return fileOK, fi.Size()
}
