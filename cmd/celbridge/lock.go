package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gofrs/flock"
)

// The lock file next to the state file (store.path + ".lock") lets one process at a time
// deliver the outbox: run and once hold it while they run, a backfill while it delivers its
// events itself. Its holder writes what it is into it ("backfill 4242"), so that a process
// that finds it taken can tell a backfill, worth waiting for, from another daemon.

// Roles written into the lock file.
const (
	roleBackfill = "backfill"
)

// lockHolder is what the lock file's holder wrote.
type lockHolder struct {
	role string // the command: run, once, backfill
	pid  int
}

// noteHolder writes role and this process's id into the lock file l holds. The lock is on
// the open file, so writing through another descriptor keeps it.
func noteHolder(l *flock.Flock, role string) error {
	if err := os.WriteFile(l.Path(), fmt.Appendf(nil, "%s %d\n", role, os.Getpid()), 0o600); err != nil {
		return fmt.Errorf("write lock file %s: %w", l.Path(), err)
	}
	return nil
}

// readHolder reads what the holder of the lock file at path wrote; ok is false when it
// wrote nothing readable (a celbridge older than the note).
func readHolder(path string) (h lockHolder, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return lockHolder{}, false
	}
	role, pid, found := bytes.Cut(bytes.TrimSpace(b), []byte(" "))
	n, err := strconv.Atoi(string(pid))
	if !found || err != nil || len(role) == 0 {
		return lockHolder{}, false
	}
	return lockHolder{role: string(role), pid: n}, true
}

// How lockStore waits for a backfill: it tries the lock every lockRetry and, after its first
// line, says it still waits every lockWaitLog.
var (
	lockRetry   = time.Second
	lockWaitLog = 5 * time.Minute
)

// lockStore takes the store's lock file for this command (a.name) and notes it there. When
// a backfill holds the lock and wait is set (run), it waits for the backfill to finish,
// until ctx is done: a daemon that exits instead restarts in a loop under systemd, and the
// CEL rows written meanwhile are read from the checkpoint once it starts. Another daemon
// holding the lock is an error at once.
func (a *app) lockStore(ctx context.Context, wait bool) error {
	path := a.cfg.Store.Path
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create store directory: %w (check store.path and the directory's owner)", err)
	}
	a.lock = flock.New(path + ".lock")
	var began, logged time.Time
	for {
		ok, err := a.lock.TryLock()
		if err != nil {
			return fmt.Errorf("lock store %s: %w (check store.path and the directory's owner)", path, err)
		}
		if ok {
			if !began.IsZero() {
				a.log.Info("the backfill released the store; starting", "waited", time.Since(began).Round(time.Second))
			}
			return noteHolder(a.lock, a.name)
		}
		h, known := readHolder(a.lock.Path())
		if h.role != roleBackfill || !wait {
			return inUse(path, h, known)
		}
		switch now := time.Now(); {
		case began.IsZero():
			a.log.Info("store in use by a backfill that delivers its events; waiting for it to finish",
				"pid", h.pid, "store", path)
			began, logged = now, now
		case now.Sub(logged) >= lockWaitLog:
			a.log.Warn("still waiting for the backfill to finish; CEL is read again once it has (to start now, stop the backfill: its events stay queued and celbridge delivers them)",
				"pid", h.pid, "waited", now.Sub(began).Round(time.Second))
			logged = now
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the backfill (pid %d) to release store %s: %w", h.pid, path, ctx.Err())
		case <-time.After(lockRetry):
		}
	}
}

// inUse is the error for a store locked by another process, h as it noted itself.
func inUse(path string, h lockHolder, known bool) error {
	switch {
	case known && h.role == roleBackfill:
		return fmt.Errorf("store %s is in use by a backfill (pid %d) that delivers its events "+
			"(try again once it has finished; celbridge run waits for it)", path, h.pid)
	case known:
		return fmt.Errorf("store %s is in use by another celbridge (stop it first: systemctl stop celbridge, "+
			"or kill %d (celbridge %s); or give this one its own store.path)", path, h.pid, h.role)
	}
	return fmt.Errorf("store %s is in use by another celbridge (stop it first: systemctl stop celbridge; "+
		"or give this one its own store.path)", path)
}
