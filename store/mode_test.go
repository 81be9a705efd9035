//go:build unix

package store_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/celbridge/celbridge/store"
)

// TestOpen_FilesPrivate checks that the state file and its -wal and -shm are created readable
// by their owner only under the usual umask 022 (outside systemd's UMask=0027), and that an
// existing file keeps the mode its owner gave it. Not parallel: the umask is per process.
func TestOpen_FilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "celbridge.db")
	db, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mustCommit(t, db, 109, call(1), 3)
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", filepath.Base(p), m)
		}
	}

	t.Run("ExistingFileKeepsItsMode", func(t *testing.T) {
		path := filepath.Join(dir, "shared.db")
		if err := os.WriteFile(path, nil, 0o640); err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
			t.Errorf("existing file: mode %v, err %v; want 0640 kept", fi.Mode().Perm(), err)
		}
	})
}
