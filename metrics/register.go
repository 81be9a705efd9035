package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/poller"
)

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
func (m *Monitor) registerPoller(reg prometheus.Registerer, p *poller.Poller) {
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
		m.poll(err)
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
		ConstLabels: prometheus.Labels{"version": m.Version, "commit": m.Commit}})
	info.Set(1)
	reg.MustRegister(info)
}

// registerDelivery exports the CRM requests by type and result.
func (m *Monitor) registerDelivery(reg prometheus.Registerer, d *crm.Dispatcher) {
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
		m.delivery(typ, result == crm.ResultOK, kind)
	}
}

// registerStore exports the outbox: the retry queue and how old its oldest event is.
func (m *Monitor) registerStore(reg prometheus.Registerer) {
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
