package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/celbridge/celbridge/ami"
	"github.com/celbridge/celbridge/callapi"
	"github.com/celbridge/celbridge/freepbx"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/mapper"
	"github.com/celbridge/celbridge/poller"
	"github.com/celbridge/celbridge/store"
)

const defaultConfigPath = "/etc/celbridge/celbridge.toml"

// setup parses the flags common to the commands that read a config file, and fills pos with
// the positional arguments the command takes (they may stand before or after the flags).
func (cl commandLine) setup(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet), pos ...*string) (*App, error) {
	fs := newFlags(name, stderr)
	path := fs.String("config", defaultConfigPath, "configuration file (TOML; see config.example.toml)")
	if extra != nil {
		extra(fs)
	}
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) != len(pos) {
		if len(pos) == 0 {
			return nil, usageError{fmt.Errorf("unexpected argument %q", rest[0])}
		}
		return nil, usageError{fmt.Errorf("want %d argument(s), got %d (see %s -h)", len(pos), len(rest), name)}
	}
	for i, p := range pos {
		*p = rest[i]
	}
	cfg, err := cl.loadConfig(*path)
	if err != nil {
		return nil, err
	}
	a := NewApp(name, cfg, stderr)
	a.path = *path
	if cl.process {
		a.logDriver()
	}
	return a, nil
}

// logDriver sends the MySQL driver's own log lines to the app's log, as ours. The driver's
// logger is global to the process: only the process's command line sets it, not tests
// running many apps in one process.
func (a *App) logDriver() {
	freepbx.LogDriverTo(a.Logger.With("component", "mysql"))
}

// NewApp returns the app of command name over cfg, logging to logw as [log] says. Tests build
// a Config in Go and call it, then the command's method (run, once…), in-process.
func NewApp(name string, cfg Config, logw io.Writer) *App {
	level := new(slog.LevelVar)
	return &App{name: name, Config: cfg, Logger: newLogger(cfg.Log, logw, level), level: level}
}

// runMemoryLimit is the daemon's soft limit on Go memory: with 10,000 calls open the heap then
// collects before the process passes 64 MiB (BENCHMARKS.md: 72 MiB without it, 59 with it; the
// binary's text and SQLite's caches are the rest). Above the limit Go only collects more
// often, with at most half the CPU.
const runMemoryLimit = 40 << 20

// softMemoryLimit sets Go's soft memory limit to n bytes unless GOMEMLIMIT chose one.
func softMemoryLimit(n int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(n)
	}
}

func (cl commandLine) cmdRun(ctx context.Context, args []string, _, stderr io.Writer) (err error) {
	a, err := cl.setup("run", args, stderr, nil)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, a.Close()) }()
	if cl.process {
		softMemoryLimit(runMemoryLimit)
	}
	return a.Run(ctx)
}

// Run is the daemon: it polls CEL, delivers to the CRM and serves HTTP until ctx ends, the
// store is lost, or something fails for good. The caller closes a.
func (a *App) Run(ctx context.Context) (err error) {
	if err := a.openLive(ctx, true); err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil { // stopped while waiting for a backfill
			a.Logger.Info("celbridge stopped before it started", "reason", err)
			return nil
		}
		return err
	}
	sched, err := poller.ParseSchedule(a.Config.Poll.Schedule)
	if err != nil {
		return usageError{err}
	}
	a.openFreePBX(ctx)
	d := a.dispatcher()
	m := &liveMapper{Mapper: mapper.New(a.mapperConfig())}
	p := a.poller(m, d.Notify)
	a.Logger.Info("celbridge started", "version", version, "config", a.Config)
	poke := make(chan struct{}, 1)
	a.onHUP = func() {
		select {
		case poke <- struct{}{}:
		default:
		}
	}
	var api *callapi.Server
	var amiClient *ami.Client
	if a.Config.API.Listen != "" {
		if api, amiClient, err = a.apiServer(ctx); err != nil {
			return err
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if a.Config.HTTP.Listen != "" { // before the dispatcher starts: it sets d.OnResult
		var extra []prometheus.Collector
		if api != nil {
			extra = api.Collectors()
		}
		srv, err := a.serveHTTP(ctx, p, d, extra...)
		if err != nil {
			return err
		}
		defer srv.Close()
	}
	if api != nil {
		stopAPI, err := a.serveAPI(ctx, api)
		if err != nil {
			return err
		}
		defer stopAPI()
	}
	var wg sync.WaitGroup
	if amiClient != nil {
		wg.Go(func() { amiClient.Run(ctx) })
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	wg.Go(func() { a.reloadOnHUP(ctx, hup) })
	wg.Go(func() {
		if err := d.Run(ctx); err != nil && ctx.Err() == nil {
			a.Logger.Error("dispatcher stopped", "err", err)
		}
	})
	wg.Go(func() { a.housekeeping(ctx) })
	wg.Go(func() { a.refreshFreePBX(ctx, m, poke) })
	wg.Go(func() { a.watchStore(ctx, cancel) })
	err = p.Run(ctx, sched)
	cancel(nil)
	wg.Wait()
	a.Logger.Info("celbridge stopped", "cursor", p.Stats().Cursor.Load())
	if cause := context.Cause(ctx); errors.Is(cause, store.ErrLost) || errors.Is(cause, store.ErrDamaged) {
		return errors.Join(err, cause)
	}
	return err
}

// storeWatchInterval is how often run checks that its state file is still there and sound.
const storeWatchInterval = time.Second

// watchStore stops the daemon (through stop, with the reason) once the state file is lost
// (deleted, replaced, truncated) or found damaged: writing on would lose what it holds, and
// exiting with the reason lets systemd restart it, which then refuses a damaged file or
// starts afresh saying so. Commits fail meanwhile, so the cursor never moves past what was
// stored. It checks even when nothing is written (no calls).
func (a *App) watchStore(ctx context.Context, stop context.CancelCauseFunc) {
	every(ctx, storeWatchInterval, nil, func() bool {
		if err := a.Store.CheckFile(); err != nil {
			stop(err)
			return false
		}
		return true
	})
}

// housekeeping prunes old delivered events now and then.
func (a *App) housekeeping(ctx context.Context) {
	a.prune(ctx)
	every(ctx, time.Hour, nil, func() bool { a.prune(ctx); return true })
}

// every calls f at every tick of d, and whenever poke (which may be nil) says so, until ctx
// ends or f returns false.
func every(ctx context.Context, d time.Duration, poke <-chan struct{}, f func() bool) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-poke:
		}
		if !f() {
			return
		}
	}
}

func (cl commandLine) cmdOnce(ctx context.Context, args []string, _, stderr io.Writer) (err error) {
	a, err := cl.setup("once", args, stderr, nil)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, a.Close()) }()
	return a.Once(ctx)
}

// Once is one poll and one delivery pass. The caller closes a.
func (a *App) Once(ctx context.Context) error {
	if err := a.openLive(ctx, false); err != nil {
		return err
	}
	a.openFreePBX(ctx)
	d := a.dispatcher()
	p := a.poller(mapper.New(a.mapperConfig()), nil)
	pollErr := p.Tick(ctx)
	if pollErr != nil {
		pollErr = fmt.Errorf("poll: %w", pollErr)
	}
	delivered, failed, err := d.Drain(ctx)
	a.Logger.Info("once done", "rows", p.Stats().RowsRead.Load(), "events", p.Stats().EventsAdded.Load(),
		"delivered", delivered, "failed", failed, "cursor", p.Stats().Cursor.Load())
	if err == nil && failed > 0 {
		err = fmt.Errorf("%d requests to the CRM failed in this pass; they stay in the outbox (see celbridge status)", failed)
	}
	// Events the CRM refused for good block their calls until someone acts: keep saying so,
	// so that a cron job does not fail once and then look healthy.
	if st, serr := a.Store.Stats(ctx, clock.Now()); serr == nil && st.Failed > 0 && failed == 0 {
		err = errors.Join(err, fmt.Errorf("%d events are parked as failed (the CRM refused them): see celbridge status and the log, then celbridge retry", st.Failed))
	}
	a.prune(ctx)
	return errors.Join(pollErr, err)
}
