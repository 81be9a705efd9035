package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/celbridge/celbridge"
	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/health"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/poller"
	"github.com/celbridge/celbridge/store"
)

const (
	// minRecent is the shortest "recently" of /healthz, so a fast schedule does not make one
	// slow poll look like an outage.
	minRecent = 3 * time.Second
	// storeStatsTTL and lagTTL bound how often a scrape queries the store and MySQL: a scraper
	// polling every second costs the PBX's database one primary-key lookup every few seconds.
	storeStatsTTL = 2 * time.Second
	lagTTL        = 2 * time.Second
)

// outcomes is what /healthz judges: the outcome of the last poll and of the last delivery.
type outcomes struct {
	mu        sync.Mutex
	started   time.Time
	pollErr   string    // error of the last poll, "" when it worked
	lastTry   time.Time // last delivery attempt
	lastTryOK bool
	lastTyp   string
	lastKind  string    // of the last failed attempt: "HTTP 503", "timeout"… never the CRM's body
	lastOK    time.Time // last successful delivery
}

func (h *outcomes) poll(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pollErr = ""
	if err != nil {
		h.pollErr = err.Error()
	}
}

func (h *outcomes) delivery(typ string, ok bool, kind string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastTry, h.lastTryOK, h.lastTyp, h.lastKind = clock.Now(), ok, typ, kind
	if ok {
		h.lastOK = h.lastTry
	}
}

// monitor is the state behind /metrics and /healthz.
type monitor struct {
	a      *app
	st     *poller.Stats
	h      *outcomes
	recent time.Duration // "recently" for /healthz: three poll intervals, at least minRecent

	mu        sync.Mutex
	storeAt   time.Time
	storeSnap store.Stats
	storeErr  error
	lagAt     time.Time
	newestID  int64
	newestAt  time.Time
}

// serveHTTP serves /metrics and /healthz on http.listen until ctx ends, with the extra
// collectors (the API's) among the metrics. It hooks the poller
// (OnTick, a counting Mapper) and the dispatcher (OnResult), so it must be called before
// either runs.
func (a *app) serveHTTP(ctx context.Context, p *poller.Poller, d *crm.Dispatcher, extra ...prometheus.Collector) (*http.Server, error) {
	sched, err := poller.ParseSchedule(a.cfg.Poll.Schedule)
	if err != nil {
		return nil, usageError{err}
	}
	m := &monitor{a: a, st: p.Stats(), h: &outcomes{started: clock.Now()}, recent: max(3*interval(sched), minRecent)}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registerPoller(reg, p)
	m.registerDelivery(reg, d)
	m.registerStore(reg)
	reg.MustRegister(extra...)

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if reason := m.unhealthy(clock.Now()); reason != "" {
			http.Error(w, "unhealthy: "+reason, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	ln, err := net.Listen("tcp", a.cfg.HTTP.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on http.listen %s: %w (is another celbridge running? set another port, or \"\" to turn HTTP off)", a.cfg.HTTP.Listen, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go srv.Serve(ln)
	a.log.Info("serving /metrics and /healthz", "addr", ln.Addr().String())
	return srv, nil
}

// interval is the time between two polls of s (for a cron spec, between the next two).
func interval(s poller.Schedule) time.Duration {
	next := s.Next(clock.Now())
	return s.Next(next).Sub(next)
}

func counterFunc(name, help string, v func() float64) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, v)
}

func gaugeFunc(name, help string, v func() float64) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, v)
}

func load(v interface{ Load() int64 }) func() float64 {
	return func() float64 { return float64(v.Load()) }
}

// registerPoller exports the poller's counters, the poll duration and the lag behind CEL.
func (m *monitor) registerPoller(reg *prometheus.Registry, p *poller.Poller) {
	st := m.st
	opened := prometheus.NewCounter(prometheus.CounterOpts{Name: "celbridge_calls_opened_total", Help: "Calls opened (receivedTheCall emitted) since start; a call open at a restart counts again."})
	closed := prometheus.NewCounter(prometheus.CounterOpts{Name: "celbridge_calls_closed_total", Help: "Calls closed (hangupTheCall emitted) since start."})
	p.Mapper = &countingMapper{Mapper: p.Mapper, opened: opened, closed: closed}
	polls := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "celbridge_poll_duration_seconds", Help: "Time one poll of the CEL table took, commit included.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	})
	pollErrs := prometheus.NewCounter(prometheus.CounterOpts{Name: "celbridge_poll_errors_total", Help: "Polls that failed."})
	p.OnTick = func(took time.Duration, err error) {
		polls.Observe(took.Seconds())
		if err != nil {
			pollErrs.Inc()
		}
		m.h.poll(err)
	}
	reg.MustRegister(opened, closed, polls, pollErrs,
		counterFunc("celbridge_cel_rows_read_total", "CEL rows read and fed to the mapper.", load(&st.RowsRead)),
		counterFunc("celbridge_cel_bad_rows_total", "Malformed CEL rows (processed with what is known).", load(&st.BadRows)),
		counterFunc("celbridge_mapper_internal_errors_total", "CEL rows the mapper skipped for a bug of its own (logged as errors; please report).", load(&st.InternalErrors)),
		counterFunc("celbridge_gaps_given_up_total", "Missing CEL ids given up after poll.gap_timeout.", load(&st.GapsGivenUp)),
		counterFunc("celbridge_events_enqueued_total", "Events added to the outbox.", load(&st.EventsAdded)),
		gaugeFunc("celbridge_cursor", "The committed CEL restart point.", load(&st.Cursor)),
		gaugeFunc("celbridge_cel_read_id", "The highest CEL id read.", load(&st.High)),
		gaugeFunc("celbridge_open_calls", "Calls open in the mapper.", load(&st.OpenCalls)),
		gaugeFunc("celbridge_last_poll_success_timestamp_seconds", "When the last poll succeeded (Unix time).",
			func() float64 { return float64(st.LastOK.Load()) / 1000 }),
		gaugeFunc("celbridge_cel_newest_id", "The newest id in the CEL table (read at most every 2s).",
			func() float64 { id, _ := m.newest(); return float64(id) }),
		gaugeFunc("celbridge_lag_rows", "CEL rows not read yet.", func() float64 { r, _ := m.lag(); return float64(r) }),
		gaugeFunc("celbridge_lag_seconds", "How much older the newest row read is than the newest CEL row.",
			func() float64 { _, s := m.lag(); return s.Seconds() }),
	)
	info := prometheus.NewGauge(prometheus.GaugeOpts{Name: "celbridge_build_info", Help: "Version of the running binary.",
		ConstLabels: prometheus.Labels{"version": version, "commit": commit}})
	info.Set(1)
	reg.MustRegister(info)
}

// registerDelivery exports the CRM requests by type and result.
func (m *monitor) registerDelivery(reg *prometheus.Registry, d *crm.Dispatcher) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "celbridge_requests_total", Help: "Requests sent to the CRM by requestType and result (ok, retry, failed).",
	}, []string{"type", "result"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "celbridge_request_duration_seconds", Help: "Time a CRM request took.", Buckets: prometheus.DefBuckets,
	}, []string{"type"})
	reg.MustRegister(requests, latency)
	d.OnResult = func(typ, result string, took time.Duration, kind string) {
		requests.WithLabelValues(typ, result).Inc()
		latency.WithLabelValues(typ).Observe(took.Seconds())
		m.h.delivery(typ, result == crm.ResultOK, kind)
	}
}

// registerStore exports the outbox: the retry queue and how old its oldest event is.
func (m *monitor) registerStore(reg *prometheus.Registry) {
	reg.MustRegister(
		gaugeFunc("celbridge_outbox_pending", "Events waiting for delivery (the retry queue).",
			func() float64 { return float64(m.storeStats().Pending) }),
		gaugeFunc("celbridge_outbox_failed", "Events the CRM refused for good, each blocking its call.",
			func() float64 { return float64(m.storeStats().Failed) }),
		gaugeFunc("celbridge_outbox_oldest_pending_age_seconds", "Age of the oldest event waiting for delivery; 0 when none.",
			func() float64 {
				if s := m.storeStats(); !s.OldestPending.IsZero() {
					return clock.Since(s.OldestPending).Seconds()
				}
				return 0
			}),
	)
}

// storeStats returns the store's summary, read at most every storeStatsTTL.
func (m *monitor) storeStats() store.Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	if clock.Since(m.storeAt) >= storeStatsTTL {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		m.storeSnap, m.storeErr = m.a.store.Stats(ctx, clock.Now())
		m.storeAt = clock.Now()
		if m.storeErr != nil {
			m.a.log.Warn("read store stats for metrics", "err", m.storeErr)
		}
	}
	return m.storeSnap
}

// newest returns the newest CEL row's id and time, read at most every lagTTL (one
// primary-key lookup).
func (m *monitor) newest() (int64, time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if clock.Since(m.lagAt) >= lagTTL {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		id, at, err := m.a.source.Newest(ctx)
		m.lagAt = clock.Now()
		if err == nil {
			m.newestID, m.newestAt = id, at
		}
	}
	return m.newestID, m.newestAt
}

// lag is how far the poller is behind the newest CEL row, in rows and in eventtime.
func (m *monitor) lag() (rows int64, behind time.Duration) {
	id, at := m.newest()
	rows = max(id-m.st.High.Load(), 0)
	if last := m.st.LastRowTime.Load(); rows > 0 && last > 0 && !at.IsZero() {
		behind = max(at.Sub(time.UnixMilli(last)), 0)
	}
	return rows, behind
}

// unhealthy returns why celbridge is not healthy, or "" when the last poll worked within
// m.recent and the last delivery attempt worked (or nothing needed delivering).
func (m *monitor) unhealthy(now time.Time) string {
	m.h.mu.Lock()
	pollErr, started := m.h.pollErr, m.h.started
	lastTry, lastTryOK, lastTyp, lastKind, lastOK := m.h.lastTry, m.h.lastTryOK, m.h.lastTyp, m.h.lastKind, m.h.lastOK
	m.h.mu.Unlock()

	lastPoll := time.UnixMilli(m.st.LastOK.Load())
	if m.st.LastOK.Load() == 0 {
		lastPoll = started
	}
	if since := now.Sub(lastPoll); since > m.recent {
		reason := fmt.Sprintf("no successful poll for %s", health.Age(since))
		if pollErr != "" {
			reason += ": " + pollErr
		}
		return reason + " (run: celbridge check)"
	}
	if !lastTry.IsZero() && !lastTryOK {
		// The kind only: /healthz needs no login, and the CRM's answer may echo a token.
		s := m.storeStats()
		return fmt.Sprintf("the last CRM request (%s) failed %s ago: %s (%d events wait; the CRM's answer is in: celbridge status)",
			lastTyp, health.Age(now.Sub(lastTry)), lastKind, s.Pending)
	}
	s := m.storeStats()
	stuck := m.recent + m.a.cfg.CRM.Timeout.Duration
	if s.Pending > 0 && now.Sub(s.OldestPending) > stuck && now.Sub(lastOK) > stuck {
		return fmt.Sprintf("%d events wait for delivery, the oldest for %s, and no CRM request worked for %s (see: celbridge status)",
			s.Pending, health.Age(now.Sub(s.OldestPending)), health.Age(stuck))
	}
	return ""
}

// countingMapper counts the calls the mapper opens and closes, for /metrics.
type countingMapper struct {
	poller.Mapper
	opened, closed prometheus.Counter
}

// Feed implements poller.Mapper.
func (c *countingMapper) Feed(row celbridge.CELRow) ([]celbridge.Event, error) {
	events, warn := c.Mapper.Feed(row)
	c.count(events)
	return events, warn
}

// Expire implements poller.Mapper.
func (c *countingMapper) Expire(now time.Time) []celbridge.Event {
	events := c.Mapper.Expire(now)
	c.count(events)
	return events
}

func (c *countingMapper) count(events []celbridge.Event) {
	for _, e := range events {
		switch e.RequestType {
		case celbridge.Received:
			c.opened.Inc()
		case celbridge.Hangup:
			c.closed.Inc()
		}
	}
}
