package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/celbridge/celbridge/health"
	"github.com/celbridge/celbridge/store"
	"github.com/gofrs/flock"
)

// checkStore checks that the state file can be opened and migrated, or that a running
// daemon holds it, and runs SQLite's full integrity check on it. A missing file is not
// created (check may run as root, and a root-owned state file would stop the daemon): its
// directory is tested for writing instead.
func (c *checker) checkStore(ctx context.Context) {
	path := c.cfg.Store.Path
	if busy, err := storeInUse(path); err != nil {
		c.report(health.Fail, "store "+path+": "+err.Error(), "check store.path and the directory's owner")
		return
	} else if busy {
		c.checkStoreReadable(ctx, path)
		return
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		c.checkStoreDir(filepath.Dir(path))
		return
	}
	db, err := store.Open(ctx, path)
	if err == nil {
		err = db.Verify(ctx)
		db.Close()
	}
	switch {
	case errors.Is(err, store.ErrDamaged):
		c.report(health.Fail, err.Error(), "") // the message ends with what to do
	case err != nil:
		c.report(health.Fail, err.Error(), "check store.path and that the file and its directory belong to the user celbridge runs as")
	default:
		c.report(health.Pass, "store "+path+" is writable and up to date, and passes SQLite's integrity check", "")
	}
}

// storeInUse reports whether a running celbridge holds the store's lock, without creating
// the lock file.
func storeInUse(path string) (bool, error) {
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

func (c *checker) checkStoreReadable(ctx context.Context, path string) {
	db, err := store.OpenReadOnly(ctx, path)
	if err == nil {
		if _, err = db.Stats(ctx, c.now()); err == nil {
			err = db.Verify(ctx)
		}
		db.Close()
	}
	switch {
	case errors.Is(err, store.ErrDamaged):
		c.report(health.Fail, "store "+path+" is in use by a running celbridge: "+err.Error(), "")
	case err != nil:
		c.report(health.Fail, "store "+path+" is in use by a running celbridge but cannot be read: "+err.Error(), "check the file's owner and permissions")
	default:
		c.report(health.Pass, "store "+path+" is in use by a running celbridge (readable; passes SQLite's integrity check)", "")
	}
}

func (c *checker) checkStoreDir(dir string) {
	probe := dir
	for { // the daemon creates missing directories: test the nearest existing one
		if _, err := os.Stat(probe); err == nil || filepath.Dir(probe) == probe {
			break
		}
		probe = filepath.Dir(probe)
	}
	f, err := os.CreateTemp(probe, ".celbridge-check-*")
	if err != nil {
		c.report(health.Fail, "store directory "+dir+" cannot be created or written: "+err.Error(),
			"create it for the user celbridge runs as: install -d -o celbridge -g celbridge -m 0750 "+dir+" (the systemd unit's StateDirectory does this)")
		return
	}
	f.Close()
	os.Remove(f.Name())
	c.report(health.Pass, "store "+c.cfg.Store.Path+" does not exist yet and can be created (the daemon creates it on first start)", "")
}
