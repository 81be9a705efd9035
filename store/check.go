package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/celbridge/celbridge/health"
)

// Check reports on the state file at path for `celbridge check`: that it can be opened and
// migrated, or, when a running daemon holds it, that it can be read; either way it runs
// SQLite's full integrity check. A missing file is not created (check may run as root, and a
// root-owned state file would stop the daemon): its directory is tested for writing instead.
func Check(ctx context.Context, path string, now time.Time) health.Finding {
	if busy, err := InUse(path); err != nil {
		return health.Failed("store "+path+": "+err.Error(), "check store.path and the directory's owner")
	} else if busy {
		return checkInUse(ctx, path, now)
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return checkDir(path)
	}
	db, err := Open(ctx, path)
	if err == nil {
		err = db.Verify(ctx)
		db.Close()
	}
	switch {
	case errors.Is(err, ErrDamaged):
		return health.Failed(err.Error(), "") // the message ends with what to do
	case err != nil:
		return health.Failed(err.Error(), "check store.path and that the file and its directory belong to the user celbridge runs as")
	}
	return health.Passed("store " + path + " is writable and up to date, and passes SQLite's integrity check")
}

// checkInUse reads the state file a running daemon holds, without writing to it.
func checkInUse(ctx context.Context, path string, now time.Time) health.Finding {
	db, err := OpenReadOnly(ctx, path)
	if err == nil {
		if _, err = db.Stats(ctx, now); err == nil {
			err = db.Verify(ctx)
		}
		db.Close()
	}
	switch {
	case errors.Is(err, ErrDamaged):
		return health.Failed("store "+path+" is in use by a running celbridge: "+err.Error(), "")
	case err != nil:
		return health.Failed("store "+path+" is in use by a running celbridge but cannot be read: "+err.Error(), "check the file's owner and permissions")
	}
	return health.Passed("store " + path + " is in use by a running celbridge (readable; passes SQLite's integrity check)")
}

// checkDir tests that the missing state file at path could be created: the daemon creates
// missing directories, so the nearest existing one is tested for writing.
func checkDir(path string) health.Finding {
	dir := filepath.Dir(path)
	probe := dir
	for {
		if _, err := os.Stat(probe); err == nil || filepath.Dir(probe) == probe {
			break
		}
		probe = filepath.Dir(probe)
	}
	f, err := os.CreateTemp(probe, ".celbridge-check-*")
	if err != nil {
		return health.Failed("store directory "+dir+" cannot be created or written: "+err.Error(),
			"create it for the user celbridge runs as: install -d -o celbridge -g celbridge -m 0750 "+dir+" (the systemd unit's StateDirectory does this)")
	}
	f.Close()
	os.Remove(f.Name())
	return health.Passed("store " + path + " does not exist yet and can be created (the daemon creates it on first start)")
}
