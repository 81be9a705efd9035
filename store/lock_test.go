package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/celbridge/celbridge/store"
)

// holdLock takes the lock of the state file at path as role until the test ends. flock's
// locks belong to the open file, so a second Lock in this process is refused as another
// process would be.
func holdLock(t *testing.T, path, role string) *store.Lock {
	t.Helper()
	l := &store.Lock{Path: path, Role: role}
	if err := l.Acquire(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Release() })
	return l
}

func TestLock(t *testing.T) {
	t.Parallel()
	pid := os.Getpid()
	t.Run("NotesItsHolder", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "new", "state.db") // Acquire creates the directory
		if busy, err := store.InUse(path); busy || err != nil {
			t.Errorf("InUse before the lock file exists = %v, %v", busy, err)
		}
		if _, err := os.Stat(path + ".lock"); !os.IsNotExist(err) {
			t.Errorf("InUse created the lock file")
		}
		l := holdLock(t, path, "once")
		if h, ok := store.ReadHolder(path); !ok || h != (store.Holder{Role: "once", PID: pid}) {
			t.Errorf("ReadHolder = %+v, %v; want once %d", h, ok, pid)
		}
		if busy, err := store.InUse(path); !busy || err != nil {
			t.Errorf("InUse while held = %v, %v", busy, err)
		}
		if ok, err := l.TryAcquire(); !ok || err != nil {
			t.Errorf("TryAcquire by the holder = %v, %v; want true", ok, err)
		}
		if err := l.Release(); err != nil {
			t.Fatal(err)
		}
		if busy, err := store.InUse(path); busy || err != nil {
			t.Errorf("InUse after Release = %v, %v", busy, err)
		}
	})
	t.Run("Refused", func(t *testing.T) {
		for _, tc := range []struct {
			holder string // what the lock file holds
			wait   bool
			want   string
		}{
			{"run 4242\n", false, "is in use by another celbridge (stop it first: systemctl stop celbridge, or kill 4242 (celbridge run); or give this one its own store.path)"},
			{"run 4242\n", true, "kill 4242 (celbridge run)"}, // only a backfill is waited for
			{"backfill 4242\n", false, "is in use by a backfill (pid 4242) that delivers its events (try again once it has finished; celbridge run waits for it)"},
			{"", false, "is in use by another celbridge (stop it first: systemctl stop celbridge; or give this one its own store.path)"},
			{"garbage", true, "is in use by another celbridge (stop it first: systemctl stop celbridge; or give"},
		} {
			path := filepath.Join(t.TempDir(), "state.db")
			holdLock(t, path, "run")
			if err := os.WriteFile(path+".lock", []byte(tc.holder), 0o600); err != nil {
				t.Fatal(err)
			}
			l := &store.Lock{Path: path, Role: "once", Wait: tc.wait}
			err := l.Acquire(t.Context())
			if err == nil || !strings.Contains(err.Error(), "store "+path+" is in use by ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("holder %q, wait %v: Acquire = %v, want %q", tc.holder, tc.wait, err, tc.want)
			}
		}
	})
	t.Run("WaitsForBackfill", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.db")
		backfill := holdLock(t, path, store.RoleBackfill)
		var log bytes.Buffer // read once Acquire has returned
		run := &store.Lock{Path: path, Role: "run", Wait: true, Retry: 5 * time.Millisecond, WaitLog: 20 * time.Millisecond,
			Logger: slog.New(slog.NewTextHandler(&log, nil))}
		done := make(chan error, 1)
		go func() { done <- run.Acquire(t.Context()) }()
		time.Sleep(100 * time.Millisecond) // Acquire tries again every 5ms, without giving up
		select {
		case err := <-done:
			t.Fatalf("Acquire returned while the backfill held the lock: %v", err)
		default:
		}
		backfill.Release()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		defer run.Release()
		out := log.String()
		for _, want := range []string{
			fmt.Sprintf("store in use by a backfill that delivers its events; waiting for it to finish\" pid=%d", pid),
			"still waiting for the backfill to finish",
			"the backfill released the store; starting",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
		if n := strings.Count(out, "waiting for it to finish"); n != 1 {
			t.Errorf("said %d times that it waits, want once:\n%s", n, out)
		}
		if h, _ := store.ReadHolder(path); h.Role != "run" {
			t.Errorf("holder %+v after the wait, want run", h)
		}
	})
	t.Run("StopWhileWaiting", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "state.db")
		holdLock(t, path, store.RoleBackfill)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		l := &store.Lock{Path: path, Role: "run", Wait: true, Retry: 5 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}
		err := l.Acquire(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), fmt.Sprintf("wait for the backfill (pid %d) to release store %s", pid, path)) {
			t.Errorf("Acquire = %v", err)
		}
	})
	t.Run("NoDirectory", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		err := (&store.Lock{Path: filepath.Join(file, "state.db"), Role: "run"}).Acquire(t.Context())
		if err == nil || !strings.Contains(err.Error(), "create store directory") || !strings.Contains(err.Error(), "check store.path") {
			t.Errorf("Acquire under a file = %v", err)
		}
	})
}
