package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/mapper"
)

// openFreePBX starts reading FreePBX's configuration ([freepbx] read = true): once now; run
// reads it again every freepbx.refresh and on SIGHUP. Without it celbridge works from
// celbridge.toml alone, as before.
func (a *App) openFreePBX(ctx context.Context) {
	if !a.Config.FreePBX.Read {
		return
	}
	l, err := freepbx.OpenLoader(a.Config.MySQL.DSN, a.Config.FreePBX.Database, a.Logger.With("component", "freepbx"))
	if err != nil {
		a.Logger.Warn("FreePBX configuration: cannot connect; celbridge works without it (only celbridge.toml)", "err", err)
		return
	}
	a.FreePBX = l
	a.FreePBX.Load(ctx)
}

// pbxConfig is FreePBX's configuration as last read, or nil.
func (a *App) pbxConfig() *freepbx.Config {
	if a.FreePBX == nil {
		return nil
	}
	return a.FreePBX.Last()
}

// mapperConfig is the mapper's configuration: celbridge.toml's, with what FreePBX's
// configuration adds where it was read (the file's values win).
func (a *App) mapperConfig() mapper.Config {
	base := a.Config.MapperConfig()
	if a.FreePBX == nil {
		return base
	}
	m, errs := a.FreePBX.Last().MapperConfig(base)
	// Said once, not at every refresh: the same route stays unreadable until someone edits it.
	if said := fmt.Sprint(errs); said != a.pbxLeftOut {
		a.pbxLeftOut = said
		for _, err := range errs {
			a.Logger.Warn("FreePBX configuration: left out", "err", err)
		}
	}
	return m
}

// refreshFreePBX reads FreePBX's configuration again every freepbx.refresh, and when poke
// says so (SIGHUP), and hands it to the live mapper.
func (a *App) refreshFreePBX(ctx context.Context, m *liveMapper, poke <-chan struct{}) {
	if a.FreePBX == nil {
		return
	}
	every(ctx, a.Config.FreePBX.Refresh.Duration, poke, func() bool {
		if _, err := a.FreePBX.Load(ctx); err == nil {
			cfg := a.mapperConfig()
			m.next.Store(&cfg)
		}
		return true
	})
}

// liveMapper is the daemon's mapper: a configuration read again on another goroutine is
// taken in on the poller's, before the next row.
type liveMapper struct {
	*mapper.Mapper
	next atomic.Pointer[mapper.Config]
}

func (l *liveMapper) take() {
	if l.next.Load() == nil { // every row: a read, not a swap
		return
	}
	if c := l.next.Swap(nil); c != nil {
		l.Mapper.SetConfig(*c)
	}
}

func (l *liveMapper) Feed(r celbridge.CELRow) ([]celbridge.Event, error) {
	l.take()
	return l.Mapper.Feed(r)
}

func (l *liveMapper) Expire(now time.Time) []celbridge.Event {
	l.take()
	return l.Mapper.Expire(now)
}
