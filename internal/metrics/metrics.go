// Package metrics exposes Prometheus metrics: HTTP requests by route and
// status, request durations, connection-pool state, and the Go runtime.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/pgstack/pgstack/internal/database"
)

// Metrics is one registry (not the global one) and the HTTP instruments.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// New returns Metrics with the Go and process collectors registered.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pgstack_http_requests_total",
			Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pgstack_http_request_duration_seconds",
			Help:    "HTTP request latency by method and route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration,
	)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Middleware counts and times requests. The route label is chi's route
// pattern, so its cardinality is bounded by the routes, not by the URLs.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
			route = rc.RoutePattern()
		}
		status := ww.Status()
		if status == 0 {
			status = http.StatusOK
		}
		m.requests.WithLabelValues(r.Method, route, strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(r.Method, route).Observe(time.Since(start).Seconds())
	})
}

// RegisterPipeline exports the request pool's coalescing counters.
func (m *Metrics) RegisterPipeline(stats func() database.PipelineStats) {
	m.registry.MustRegister(pipelineCollector(stats))
}

var (
	descBatches      = prometheus.NewDesc("pgstack_db_pipeline_batches_total", "Pipelines of coalesced transactions sent on request connections.", nil, nil)
	descTransactions = prometheus.NewDesc("pgstack_db_pipeline_transactions_total", "Transactions those pipelines carried.", nil, nil)
	descAlone        = prometheus.NewDesc("pgstack_db_pipeline_alone_total", "Transactions sent alone instead: every worker stuck (stalled) or the queue full (queue_full).", []string{"reason"}, nil)
)

type pipelineCollector func() database.PipelineStats

func (c pipelineCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descBatches
	ch <- descTransactions
	ch <- descAlone
}

func (c pipelineCollector) Collect(ch chan<- prometheus.Metric) {
	s := c()
	ch <- prometheus.MustNewConstMetric(descBatches, prometheus.CounterValue, float64(s.Batches))
	ch <- prometheus.MustNewConstMetric(descTransactions, prometheus.CounterValue, float64(s.Transactions))
	ch <- prometheus.MustNewConstMetric(descAlone, prometheus.CounterValue, float64(s.Stalled), "stalled")
	ch <- prometheus.MustNewConstMetric(descAlone, prometheus.CounterValue, float64(s.QueueFull), "queue_full")
}

// RegisterPools exports the state of connection pools, labelled pool=<key>.
func (m *Metrics) RegisterPools(pools map[string]*pgxpool.Pool) {
	m.registry.MustRegister(poolCollector(pools))
}

var (
	poolLabels    = []string{"pool"}
	descTotal     = prometheus.NewDesc("pgstack_db_pool_connections", "Open connections.", poolLabels, nil)
	descIdle      = prometheus.NewDesc("pgstack_db_pool_idle_connections", "Idle connections.", poolLabels, nil)
	descAcquired  = prometheus.NewDesc("pgstack_db_pool_acquired_connections", "Connections in use.", poolLabels, nil)
	descMax       = prometheus.NewDesc("pgstack_db_pool_max_connections", "Pool size limit.", poolLabels, nil)
	descWaits     = prometheus.NewDesc("pgstack_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", poolLabels, nil)
	descWaitTotal = prometheus.NewDesc("pgstack_db_pool_acquire_wait_seconds_total", "Time spent waiting for connections.", poolLabels, nil)
)

type poolCollector map[string]*pgxpool.Pool

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTotal, descIdle, descAcquired, descMax, descWaits, descWaitTotal} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	for name, pool := range c {
		s := pool.Stat()
		ch <- prometheus.MustNewConstMetric(descTotal, prometheus.GaugeValue, float64(s.TotalConns()), name)
		ch <- prometheus.MustNewConstMetric(descIdle, prometheus.GaugeValue, float64(s.IdleConns()), name)
		ch <- prometheus.MustNewConstMetric(descAcquired, prometheus.GaugeValue, float64(s.AcquiredConns()), name)
		ch <- prometheus.MustNewConstMetric(descMax, prometheus.GaugeValue, float64(s.MaxConns()), name)
		ch <- prometheus.MustNewConstMetric(descWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(descWaitTotal, prometheus.CounterValue, s.EmptyAcquireWaitTime().Seconds(), name)
	}
}
