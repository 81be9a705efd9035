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

	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/poller"
)

// health remembers the outcome of the last delivery attempt for /healthz.
type health struct {
	mu          sync.Mutex
	lastAttempt time.Time
	lastOK      bool
	lastErr     string
}

func (h *health) record(ok bool, errText string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastAttempt, h.lastOK, h.lastErr = time.Now(), ok, errText
}

// serveHTTP serves /metrics and /healthz on http.listen until ctx ends.
func (a *app) serveHTTP(ctx context.Context, p *poller.Poller, d *crm.Dispatcher) (*http.Server, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	st := p.Stats()
	counter := func(name, help string, v func() int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v()) })
	}
	gauge := func(name, help string, v func() int64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return float64(v()) })
	}
	reg.MustRegister(
		counter("celbridge_cel_rows_read_total", "CEL rows read and fed to the mapper.", st.RowsRead.Load),
		counter("celbridge_cel_bad_rows_total", "Malformed CEL rows (processed with what is known).", st.BadRows.Load),
		counter("celbridge_gaps_given_up_total", "Missing CEL ids given up after poll.gap_timeout.", st.GapsGivenUp.Load),
		counter("celbridge_events_enqueued_total", "Events added to the outbox.", st.EventsAdded.Load),
		gauge("celbridge_cursor", "The committed CEL restart point.", st.Cursor.Load),
		gauge("celbridge_cel_high_id", "The highest CEL id read.", st.High.Load),
		gauge("celbridge_open_calls", "Calls open in the mapper.", st.OpenCalls.Load),
	)
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "celbridge_requests_total", Help: "Requests sent to the CRM by requestType and result (ok, retry, failed).",
	}, []string{"type", "result"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "celbridge_request_duration_seconds", Help: "Time a CRM request took.", Buckets: prometheus.DefBuckets,
	}, []string{"type"})
	reg.MustRegister(requests, latency)
	h := &health{}
	d.OnResult = func(typ, result string, took time.Duration) {
		requests.WithLabelValues(typ, result).Inc()
		latency.WithLabelValues(typ).Observe(took.Seconds())
		h.record(result == "ok", result)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if reason := a.unhealthy(st, h); reason != "" {
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

// unhealthy returns why celbridge is not healthy, or "" when the last poll worked recently
// and the last delivery attempt succeeded.
func (a *app) unhealthy(st *poller.Stats, h *health) string {
	last := time.UnixMilli(st.LastOK.Load())
	if since := time.Since(last); st.LastOK.Load() == 0 || since > 30*time.Second {
		return fmt.Sprintf("no successful poll for %s (check MySQL: celbridge check)", since.Round(time.Second))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.lastAttempt.IsZero() && !h.lastOK {
		return "the last CRM request failed: " + h.lastErr
	}
	return ""
}
