// Package metrics exports celbridge's counters to Prometheus (/metrics) and keeps what
// /healthz judges: the outcomes of the last poll and of the last CRM request, and reads of
// the store and of the CEL table cached so that scrapes cost the PBX's database little.
package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/health"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/poller"
	"github.com/celbridge/celbridge/store"
)

// How often a scrape may query the store and MySQL: a scraper polling every second costs the
// PBX's database one primary-key lookup every few seconds.
const (
	storeStatsTTL = 2 * time.Second
	lagTTL        = 2 * time.Second
)

// Store is the part of the store the metrics read (store.DB implements it).
type Store interface {
	Stats(ctx context.Context, now time.Time) (store.Stats, error)
}

// Source is the part of the CEL source the lag metrics read (freepbx.CEL implements it).
type Source interface {
	Newest(ctx context.Context) (id int64, at time.Time, err error)
}

// Monitor is the state behind /metrics and /healthz. Set the exported fields, then call
// Register before the poller and the dispatcher run.
type Monitor struct {
	Store  Store
	Source Source
	Logger *slog.Logger
	// Version and Commit label celbridge_build_info.
	Version, Commit string
	// Recent is "recently" for /healthz (health.Recent); CRMTimeout is crm.timeout.
	Recent, CRMTimeout time.Duration

	st *poller.Stats

	outMu     sync.Mutex // guards the outcomes below
	started   time.Time
	pollErr   string // error of the last poll, "" when it worked
	lastTry   time.Time
	lastTryOK bool
	lastType  string
	lastKind  string // of the last failed attempt: "HTTP 503", "timeout"… never the CRM's body
	lastOK    time.Time

	mu        sync.Mutex // guards the cached reads below
	storeAt   time.Time
	storeSnap store.Stats
	lagAt     time.Time
	newestID  int64
	newestAt  time.Time
}

// Register exports the poller's, the dispatcher's and the store's metrics to reg. It hooks
// the poller (OnTick, a counting Mapper) and the dispatcher (OnResult), so it must be called
// before either runs.
func (m *Monitor) Register(reg prometheus.Registerer, p *poller.Poller, d *crm.Dispatcher) {
	m.started = clock.Now()
	m.st = p.Stats()
	m.registerPoller(reg, p)
	m.registerDelivery(reg, d)
	m.registerStore(reg)
}

// Unhealthy returns why celbridge is not healthy at now, or "" (health.Unhealthy).
func (m *Monitor) Unhealthy(now time.Time) string {
	m.outMu.Lock()
	in := health.Inputs{
		Started: m.started, PollErr: m.pollErr,
		LastTry: m.lastTry, LastTryOK: m.lastTryOK, LastType: m.lastType, LastKind: m.lastKind, LastOK: m.lastOK,
		Recent: m.Recent, CRMTimeout: m.CRMTimeout,
	}
	m.outMu.Unlock()
	if ms := m.st.LastOK.Load(); ms != 0 {
		in.LastPollOK = time.UnixMilli(ms)
	}
	s := m.storeStats()
	in.Pending, in.OldestPending = s.Pending, s.OldestPending
	return health.Unhealthy(in, now)
}

func (m *Monitor) poll(err error) {
	m.outMu.Lock()
	defer m.outMu.Unlock()
	m.pollErr = ""
	if err != nil {
		m.pollErr = err.Error()
	}
}

func (m *Monitor) delivery(typ string, ok bool, kind string) {
	m.outMu.Lock()
	defer m.outMu.Unlock()
	m.lastTry, m.lastTryOK, m.lastType, m.lastKind = clock.Now(), ok, typ, kind
	if ok {
		m.lastOK = m.lastTry
	}
}

// storeStats returns the store's summary, read at most every storeStatsTTL.
func (m *Monitor) storeStats() store.Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	if clock.Since(m.storeAt) >= storeStatsTTL {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var err error
		m.storeSnap, err = m.Store.Stats(ctx, clock.Now())
		m.storeAt = clock.Now()
		if err != nil {
			m.logger().Warn("read store stats for metrics", "err", err)
		}
	}
	return m.storeSnap
}

// newest returns the newest CEL row's id and time, read at most every lagTTL (one
// primary-key lookup).
func (m *Monitor) newest() (int64, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if clock.Since(m.lagAt) >= lagTTL {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		id, at, err := m.Source.Newest(ctx)
		m.lagAt = clock.Now()
		if err == nil {
			m.newestID, m.newestAt = id, at
		}
	}
	return m.newestID, m.newestAt
}

// lag is how far the poller is behind the newest CEL row, in rows and in eventtime.
func (m *Monitor) lag() (rows int64, behind time.Duration) {
	id, at := m.newest()
	rows = max(id-m.st.High.Load(), 0)
	if last := m.st.LastRowTime.Load(); rows > 0 && last > 0 && !at.IsZero() {
		behind = max(at.Sub(time.UnixMilli(last)), 0)
	}
	return rows, behind
}

func (m *Monitor) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.Default()
	}
	return m.Logger
}
