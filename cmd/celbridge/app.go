package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/mapper"
	"github.com/celbridge/celbridge/poller"
	"github.com/celbridge/celbridge/store"
)

// Compile-time checks that the adapters fit the interfaces their consumers declare.
var (
	_ poller.Store          = (*store.DB)(nil)
	_ poller.Source         = (*freepbx.CEL)(nil)
	_ poller.Mapper         = (*mapper.Mapper)(nil)
	_ poller.BackfillMapper = (*mapper.Mapper)(nil)
	_ crm.Outbox            = (*store.DB)(nil)
)

// App is one command of celbridge over a Config: NewApp builds it, a command's method (Run,
// Once, Backfill, Explain, Retry, Status) opens what it needs and does the work, and Close
// releases what was opened, in reverse order. Tests build the Config in Go and call the
// methods in-process; the command line only parses flags and reads the file first.
type App struct {
	Config Config
	Logger *slog.Logger
	// What the command opened (nil when it did not need it).
	Store  *store.DB
	Source *freepbx.CEL
	// FreePBX reads FreePBX's configuration (nil when [freepbx] read is off or it cannot
	// connect).
	FreePBX *freepbx.Loader
	// Poller and Dispatcher are the live loop's (run, once).
	Poller     *poller.Poller
	Dispatcher *crm.Dispatcher

	name  string         // the command, as noted in the store's lock file
	path  string         // the config file, read again on SIGHUP
	level *slog.LevelVar // the logger's level, changed on SIGHUP
	lock  *store.Lock
	// pbxLeftOut is what mapperConfig last logged as left out of FreePBX's configuration.
	pbxLeftOut string
	// onHUP, when set, is called after SIGHUP read the config file again.
	onHUP func()
}

// openStore opens the store, after taking its lock (one daemon per state file) when
// exclusive.
func (a *App) openStore(ctx context.Context, exclusive bool) error {
	path := a.Config.Store.Path
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create store directory: %w (check store.path and the directory's owner)", err)
	}
	if exclusive {
		if err := a.lockStore(ctx, false); err != nil {
			return err
		}
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	a.Store = db
	return nil
}

// openSource connects to FreePBX's database with the configured read-only user.
func (a *App) openSource(ctx context.Context) error {
	src, err := freepbx.OpenCEL(ctx, a.Config.MySQL.DSN, a.Config.MySQL.Table, a.Config.Location())
	if freepbx.LoginRefused(err) {
		return usageError{err} // exit 2: a wrong user or password is fixed in the config, not by a restart
	}
	if err != nil {
		return err
	}
	a.Source = src
	return nil
}

// openLive opens what the live poller needs: the store, locked against a second daemon, and
// the CEL source. With waitForBackfill, a backfill delivering from the store is waited for.
func (a *App) openLive(ctx context.Context, waitForBackfill bool) error {
	if err := a.lockStore(ctx, waitForBackfill); err != nil {
		return err
	}
	if err := a.openStore(ctx, false); err != nil {
		return err
	}
	return a.openSource(ctx)
}

// dispatcher builds the CRM client and the outbox dispatcher, as a.Dispatcher.
func (a *App) dispatcher() *crm.Dispatcher {
	c := a.Config.CRM
	client := &crm.Client{
		URL:       c.URL,
		CompanyID: c.CompanyID,
		Headers:   c.Headers,
		Timeout:   c.Timeout.Duration,
		Version:   version,
	}
	a.Dispatcher = &crm.Dispatcher{
		Outbox:      a.Store,
		Pusher:      client,
		Concurrency: c.Concurrency,
		MaxAttempts: c.MaxAttempts,
		Logger:      a.Logger,
	}
	return a.Dispatcher
}

// poller builds the live poller over the opened source and store, as a.Poller.
func (a *App) poller(m poller.Mapper, notify func()) *poller.Poller {
	a.Poller = &poller.Poller{
		Source:     a.Source,
		Store:      a.Store,
		Mapper:     m,
		BatchSize:  a.Config.MySQL.BatchSize,
		GapTimeout: a.Config.Poll.GapTimeout.Duration,
		Notify:     notify,
		Logger:     a.Logger.With("component", "poller"),
		Routine:    func(err error) bool { return errors.Is(err, mapper.ErrUnknownCall) },
	}
	return a.Poller
}

// Close releases what the command opened, in reverse order: the configuration reader, the
// CEL source, the store, then the store's lock.
func (a *App) Close() error {
	var errs []error
	if a.FreePBX != nil {
		a.FreePBX.Close()
	}
	if a.Source != nil {
		errs = append(errs, a.Source.Close())
	}
	if a.Store != nil {
		errs = append(errs, a.Store.Close())
	}
	errs = append(errs, a.lock.Release())
	return errors.Join(errs...)
}

// prune deletes delivered events older than store.retention.
func (a *App) prune(ctx context.Context) {
	n, err := a.Store.Prune(ctx, clock.Now().Add(-a.Config.Store.Retention.Duration))
	if err != nil {
		a.Logger.Warn("prune store", "err", err)
	} else if n > 0 {
		a.Logger.Info("pruned delivered events", "rows", n, "older_than", a.Config.Store.Retention.Duration)
	}
}
