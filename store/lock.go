package store

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gofrs/flock"
)

// The lock file next to the state file (path + ".lock") lets one process at a time deliver
// the outbox: run and once hold it while they run, a backfill while it delivers its events
// itself. Its holder writes what it is into it ("backfill 4242"), so that a process that
// finds it taken can tell a backfill, worth waiting for, from another daemon.

// RoleBackfill is the role a backfill notes in the lock file; Lock.Acquire with Wait set
// waits for it.
const RoleBackfill = "backfill"

// Defaults of Lock.Retry and Lock.WaitLog.
const (
	DefaultLockRetry   = time.Second
	DefaultLockWaitLog = 5 * time.Minute
)

// Lock is the lock file of the state file at Path. Set Path and Role; the zero value of the
// other fields is usable.
type Lock struct {
	// Path is the state file's path; the lock file is Path + ".lock".
	Path string
	// Role is the command that takes the lock (run, once, backfill), noted in the lock file.
	Role string
	// Wait makes Acquire wait while a backfill holds the lock, instead of failing.
	Wait bool
	// Retry is how often Acquire tries again while it waits; WaitLog how often it says that
	// it still waits.
	Retry, WaitLog time.Duration
	Logger         *slog.Logger

	f *flock.Flock
}

// Holder is what the lock file's holder noted.
type Holder struct {
	Role string // the command: run, once, backfill
	PID  int
}

// Acquire takes the lock and notes Role and this process's id in it, creating the state
// file's directory if need be. When a backfill holds the lock and Wait is set (run), it waits
// for the backfill to finish, until ctx is done: a daemon that exits instead restarts in a
// loop under systemd, and the CEL rows written meanwhile are read from the checkpoint once
// it starts. Another holder is an error at once that names it and says what to do.
func (l *Lock) Acquire(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o750); err != nil {
		return fmt.Errorf("create store directory: %w (check store.path and the directory's owner)", err)
	}
	var began, logged time.Time
	for {
		ok, err := l.TryAcquire()
		if err != nil {
			return err
		}
		if ok {
			if !began.IsZero() {
				l.logger().Info("the backfill released the store; starting", "waited", time.Since(began).Round(time.Second))
			}
			return nil
		}
		h, known := ReadHolder(l.Path)
		if h.Role != RoleBackfill || !l.Wait {
			return inUse(l.Path, h, known)
		}
		switch now := time.Now(); {
		case began.IsZero():
			l.logger().Info("store in use by a backfill that delivers its events; waiting for it to finish",
				"pid", h.PID, "store", l.Path)
			began, logged = now, now
		case now.Sub(logged) >= cmp.Or(l.WaitLog, DefaultLockWaitLog):
			l.logger().Warn("still waiting for the backfill to finish; CEL is read again once it has (to start now, stop the backfill: its events stay queued and celbridge delivers them)",
				"pid", h.PID, "waited", now.Sub(began).Round(time.Second))
			logged = now
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the backfill (pid %d) to release store %s: %w", h.PID, l.Path, ctx.Err())
		case <-time.After(cmp.Or(l.Retry, DefaultLockRetry)):
		}
	}
}

// TryAcquire takes the lock if it is free, noting Role and this process's id in it, and
// reports whether l holds it. It does not wait, and does not create the directory.
func (l *Lock) TryAcquire() (bool, error) {
	if l.f == nil {
		l.f = flock.New(l.Path + ".lock")
	}
	if l.f.Locked() {
		return true, nil
	}
	ok, err := l.f.TryLock()
	if err != nil {
		return false, fmt.Errorf("lock store %s: %w (check store.path and the directory's owner)", l.Path, err)
	}
	if !ok {
		return false, nil
	}
	// The lock is on the open file, so writing through another descriptor keeps it.
	if err := os.WriteFile(l.f.Path(), fmt.Appendf(nil, "%s %d\n", l.Role, os.Getpid()), 0o600); err != nil {
		return true, fmt.Errorf("write lock file %s: %w", l.f.Path(), err)
	}
	return true, nil
}

// Release lets the lock go; nil-safe, and a no-op when l does not hold it.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	return l.f.Unlock()
}

func (l *Lock) logger() *slog.Logger {
	if l.Logger == nil {
		return slog.Default()
	}
	return l.Logger
}

// ReadHolder reads what the holder of the state file's lock at path noted; ok is false when
// it noted nothing readable (a celbridge older than the note).
func ReadHolder(path string) (h Holder, ok bool) {
	b, err := os.ReadFile(path + ".lock")
	if err != nil {
		return Holder{}, false
	}
	role, pid, found := bytes.Cut(bytes.TrimSpace(b), []byte(" "))
	n, err := strconv.Atoi(string(pid))
	if !found || err != nil || len(role) == 0 {
		return Holder{}, false
	}
	return Holder{Role: string(role), PID: n}, true
}

// InUse reports whether a running celbridge holds the lock of the state file at path,
// without creating the lock file.
func InUse(path string) (bool, error) {
	lock := flock.New(path+".lock", flock.SetFlag(os.O_RDONLY))
	ok, err := lock.TryRLock()
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if ok {
		lock.Unlock()
	}
	lock.Close()
	return !ok, nil
}

// inUse is the error for a store locked by another process, h as it noted itself.
func inUse(path string, h Holder, known bool) error {
	switch {
	case known && h.Role == RoleBackfill:
		return fmt.Errorf("store %s is in use by a backfill (pid %d) that delivers its events "+
			"(try again once it has finished; celbridge run waits for it)", path, h.PID)
	case known:
		return fmt.Errorf("store %s is in use by another celbridge (stop it first: systemctl stop celbridge, "+
			"or kill %d (celbridge %s); or give this one its own store.path)", path, h.PID, h.Role)
	}
	return fmt.Errorf("store %s is in use by another celbridge (stop it first: systemctl stop celbridge; "+
		"or give this one its own store.path)", path)
}
