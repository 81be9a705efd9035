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

// app holds what a command opened, so that close releases it in reverse order.
type app struct {
	name   string // the command, as noted in the store's lock file
	cfg    Config
	path   string         // the config file, read again on SIGHUP
	level  *slog.LevelVar // the logger's level, changed on SIGHUP
	log    *slog.Logger
	lock   *store.Lock
	store  *store.DB
	source *freepbx.CEL
	// pbx reads FreePBX's configuration (nil when [freepbx] read is off or it cannot connect).
	pbx *freepbx.Loader
	// pbxLeftOut is what mapperConfig last logged as left out of FreePBX's configuration.
	pbxLeftOut string
	// onHUP, when set, is called after SIGHUP read the config file again.
	onHUP func()
}

// openStore opens the store, after taking its lock (one daemon per state file) when
// exclusive.
func (a *app) openStore(ctx context.Context, exclusive bool) error {
	path := a.cfg.Store.Path
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
	a.store = db
	return nil
}

// openSource connects to FreePBX's database with the configured read-only user.
func (a *app) openSource(ctx context.Context) error {
	src, err := freepbx.OpenCEL(ctx, a.cfg.MySQL.DSN, a.cfg.MySQL.Table, a.cfg.Location())
	if freepbx.LoginRefused(err) {
		return usageError{err} // exit 2: a wrong user or password is fixed in the config, not by a restart
	}
	if err != nil {
		return err
	}
	a.source = src
	return nil
}

// openLive opens what the live poller needs: the store, locked against a second daemon, and
// the CEL source. With waitForBackfill, a backfill delivering from the store is waited for.
func (a *app) openLive(ctx context.Context, waitForBackfill bool) error {
	if err := a.lockStore(ctx, waitForBackfill); err != nil {
		return err
	}
	if err := a.openStore(ctx, false); err != nil {
		return err
	}
	return a.openSource(ctx)
}

// dispatcher builds the CRM client and the outbox dispatcher.
func (a *app) dispatcher() *crm.Dispatcher {
	c := a.cfg.CRM
	client := &crm.Client{
		URL:       c.URL,
		CompanyID: c.CompanyID,
		Headers:   c.Headers,
		Timeout:   c.Timeout.Duration,
		Version:   version,
	}
	return &crm.Dispatcher{
		Outbox:      a.store,
		Pusher:      client,
		Concurrency: c.Concurrency,
		MaxAttempts: c.MaxAttempts,
		Logger:      a.log,
	}
}

// poller builds the live poller over the opened source and store.
func (a *app) poller(m poller.Mapper, notify func()) *poller.Poller {
	return &poller.Poller{
		Source:     a.source,
		Store:      a.store,
		Mapper:     m,
		BatchSize:  a.cfg.MySQL.BatchSize,
		GapTimeout: a.cfg.Poll.GapTimeout.Duration,
		Notify:     notify,
		Logger:     a.log.With("component", "poller"),
		Routine:    func(err error) bool { return errors.Is(err, mapper.ErrUnknownCall) },
	}
}

func (a *app) close() error {
	var errs []error
	if a.pbx != nil {
		a.pbx.Close()
	}
	if a.source != nil {
		errs = append(errs, a.source.Close())
	}
	if a.store != nil {
		errs = append(errs, a.store.Close())
	}
	errs = append(errs, a.lock.Release())
	return errors.Join(errs...)
}

// prune deletes delivered events older than store.retention.
func (a *app) prune(ctx context.Context) {
	n, err := a.store.Prune(ctx, clock.Now().Add(-a.cfg.Store.Retention.Duration))
	if err != nil {
		a.log.Warn("prune store", "err", err)
	} else if n > 0 {
		a.log.Info("pruned delivered events", "rows", n, "older_than", a.cfg.Store.Retention.Duration)
	}
}
