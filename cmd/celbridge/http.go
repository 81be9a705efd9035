package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/celbridge/celbridge/crm"
	"github.com/celbridge/celbridge/health"
	"github.com/celbridge/celbridge/internal/clock"
	"github.com/celbridge/celbridge/metrics"
	"github.com/celbridge/celbridge/poller"
)

// serveHTTP serves /metrics and /healthz on http.listen until ctx ends, with the extra
// collectors (the API's) among the metrics. It hooks the poller and the dispatcher
// (metrics.Monitor.Register), so it must be called before either runs.
func (a *App) serveHTTP(ctx context.Context, p *poller.Poller, d *crm.Dispatcher, extra ...prometheus.Collector) (*http.Server, error) {
	sched, err := poller.ParseSchedule(a.Config.Poll.Schedule)
	if err != nil {
		return nil, usageError{err}
	}
	m := &metrics.Monitor{
		Store: a.Store, Source: a.Source, Logger: a.Logger, Version: version, Commit: commit,
		Recent: health.Recent(sched, clock.Now()), CRMTimeout: a.Config.CRM.Timeout.Duration,
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.Register(reg, p, d)
	reg.MustRegister(extra...)

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if reason := m.Unhealthy(clock.Now()); reason != "" {
			http.Error(w, "unhealthy: "+reason, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	ln, err := net.Listen("tcp", a.Config.HTTP.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on http.listen %s: %w (is another celbridge running? set another port, or \"\" to turn HTTP off)", a.Config.HTTP.Listen, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go srv.Serve(ln)
	a.Logger.Info("serving /metrics and /healthz", "addr", ln.Addr().String())
	return srv, nil
}
