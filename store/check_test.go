package store_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/celbridge/celbridge/health"
	"github.com/celbridge/celbridge/internal/damage"
	"github.com/celbridge/celbridge/internal/healthtest"
	"github.com/celbridge/celbridge/store"
)

// TestCheck checks check's store line for each state of the state file: what it says, and
// for a failure what to do.
func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		path    func(t *testing.T) string // the state file, prepared
		held    bool                      // a running daemon holds its lock
		outcome health.Outcome
		parts   []string
	}{
		{"Missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "new", "dir", "state.db") },
			false, health.Pass, []string{"does not exist yet and can be created"}},
		{"LockUnreadable", func(t *testing.T) string {
			file := filepath.Join(t.TempDir(), "file")
			if err := os.WriteFile(file, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(file, "state.db")
		}, false, health.Fail, []string{"state.db.lock: not a directory", "check store.path and the directory's owner"}},
		{"DirectoryNotWritable", func(*testing.T) string { return "/proc/celbridge-check-test/state.db" }, // even root cannot write /proc
			false, health.Fail, []string{"store directory", "cannot be created or written", "install -d -o celbridge -g celbridge -m 0750 /proc/celbridge-check-test"}},
		{"Sound", func(t *testing.T) string { return filledStore(t, 4) },
			false, health.Pass, []string{"is writable and up to date, and passes SQLite's integrity check"}},
		{"Truncated", func(t *testing.T) string { p := filledStore(t, 200); damage.Truncate(t, p); return p },
			false, health.Fail, []string{"the store file is damaged", "malformed", "mkdir -p damaged", "celbridge backfill -from"}},
		{"IndexDisagrees", func(t *testing.T) string { p := filledStore(t, 10); breakIndex(t, p); return p },
			false, health.Fail, []string{"the store file is damaged", "integrity_check", "celbridge backfill -from-id 600"}},
		{"NotAStore", aDirectory, false, health.Fail, []string{"belong to the user celbridge runs as"}},
		{"InUse", func(t *testing.T) string { return filledStore(t, 4) },
			true, health.Pass, []string{"is in use by a running celbridge (readable; passes SQLite's integrity check)"}},
		{"InUseDamaged", func(t *testing.T) string { p := filledStore(t, 10); breakIndex(t, p); return p },
			true, health.Fail, []string{"is in use by a running celbridge: verify store", "the store file is damaged", "integrity_check"}},
		{"InUseUnreadable", aDirectory, true, health.Fail, []string{"is in use by a running celbridge but cannot be read", "owner and permissions"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := tc.path(t)
			if tc.held {
				holdLock(t, path, "run")
			}
			healthtest.Want(t, store.Check(t.Context(), path, t0), tc.outcome, append(tc.parts, filepath.Dir(path))...)
			if tc.name == "Missing" {
				if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
					t.Errorf("Check created %s; it must leave that to the daemon (it may run as root)", filepath.Dir(path))
				}
			}
		})
	}
}

// aDirectory returns a state file path that is a directory: no SQLite file can be opened there.
func aDirectory(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "state.db")
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}
