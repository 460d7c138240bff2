package loganomcmd

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/enrich"
	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/parse"
)

// metrics are the daemon's Prometheus metrics ([SERVE] metrics). The
// counters are brought up to date on the pipeline's goroutine, from the
// stages' own counts, each time the input is idle and now and then (sync):
// a scrape sees them as of then, at most a couple of seconds old.
type metrics struct {
	reg        *prometheus.Registry
	lines      prometheus.Counter
	events     *prometheus.CounterVec
	malformed  prometheus.Counter
	lookups    prometheus.Counter
	cacheHits  prometheus.Counter
	failures   *prometheus.CounterVec
	alerts     prometheus.Counter
	deliveries *prometheus.CounterVec
	lag        *prometheus.GaugeVec
	accounts   prometheus.Gauge

	last struct {
		parse parse.Stats
		enr   enrich.Stats
		alert int
	}
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.lines = prometheus.NewCounter(prometheus.CounterOpts{Name: "loganom_lines_read_total", Help: "Log lines read."})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "loganom_events_total", Help: "Events parsed from the log, by type (login, auth_failure)."}, []string{"type"})
	m.malformed = prometheus.NewCounter(prometheus.CounterOpts{Name: "loganom_malformed_lines_total", Help: "Lines that look like events but do not parse, and lines too long, skipped."})
	m.lookups = prometheus.NewCounter(prometheus.CounterOpts{Name: "loganom_lookups_total", Help: "Reverse DNS lookups sent (not answered from the cache)."})
	m.cacheHits = prometheus.NewCounter(prometheus.CounterOpts{Name: "loganom_cache_hits_total", Help: "Lookups answered from the cache (reverse DNS, ipinfo.io)."})
	m.failures = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "loganom_lookup_failures_total", Help: "Lookups that failed, by kind (e.g. \"rdns: timeout\")."}, []string{"kind"})
	m.alerts = prometheus.NewCounter(prometheus.CounterOpts{Name: "loganom_alerts_total", Help: "Alerts found (an account that became anomalous, or more severe)."})
	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "loganom_deliveries_total", Help: "Alert deliveries attempted, by channel and result (sent, failed)."}, []string{"channel", "result"})
	m.lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "loganom_lag_bytes", Help: "Bytes between the end of each log followed and the position read (as of the last idle moment)."}, []string{"log"})
	m.accounts = prometheus.NewGauge(prometheus.GaugeOpts{Name: "loganom_accounts_tracked", Help: "Accounts held in memory (those with logins within the window)."})
	m.reg.MustRegister(m.lines, m.events, m.malformed, m.lookups, m.cacheHits, m.failures, m.alerts, m.deliveries, m.lag, m.accounts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// sync adds what the stages counted since the last sync.
func (m *metrics) sync(ps parse.Stats, es enrich.Stats, alerts, accounts int, marks map[string]input.Mark) {
	if m == nil {
		return
	}
	add := func(c prometheus.Counter, now, before int64) {
		if now > before {
			c.Add(float64(now - before))
		}
	}
	p := &m.last.parse
	add(m.lines, ps.Lines, p.Lines)
	add(m.events.WithLabelValues("login"), ps.Logins, p.Logins)
	add(m.events.WithLabelValues("auth_failure"), ps.AuthFailures, p.AuthFailures)
	add(m.malformed, ps.Malformed+ps.TooLong, p.Malformed+p.TooLong)
	m.last.parse = ps
	e := &m.last.enr
	add(m.lookups, es.Lookups, e.Lookups)
	add(m.cacheHits, es.CacheHits, e.CacheHits)
	for kind, n := range es.Errors {
		add(m.failures.WithLabelValues(kind), int64(n), int64(e.Errors[kind]))
	}
	m.last.enr = es
	add(m.alerts, int64(alerts), int64(m.last.alert))
	m.last.alert = alerts
	m.accounts.Set(float64(accounts))
	for name, mk := range marks {
		if fi, err := os.Stat(name); err == nil {
			if dev, ino, ok := input.Identity(fi); !ok || dev == mk.Dev && ino == mk.Ino {
				m.lag.WithLabelValues(name).Set(float64(max(fi.Size()-mk.Offset, 0)))
			}
		}
	}
}

// delivered counts a delivery's result.
func (m *metrics) delivered(channel string, ok bool) {
	if m == nil {
		return
	}
	r := "sent"
	if !ok {
		r = "failed"
	}
	m.deliveries.WithLabelValues(channel, r).Inc()
}

// serve serves /metrics on addr until ctx is done, and returns the
// address it listens on. It listens at once, so that a port in use is an
// error at the start.
func (m *metrics) serve(ctx context.Context, addr string, log *cli.Logger) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(c)
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Errorf("metrics on %s: %v", addr, err)
		}
	}()
	return ln.Addr().String(), nil
}

// policy adds the policy service's counters (the daemon's [POLICY]
// listen), read when scraped: its requests, those answered per on_error
// (the state unreadable), and the logins dropped because the pipeline was
// behind.
func (m *metrics) policy(f *policyFeed) {
	if m == nil || f == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "loganom_policy_requests_total", Help: "Requests the policy service answered."},
			func() float64 { return float64(f.srv.Stats().Requests) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "loganom_policy_on_error_total", Help: "Policy requests answered per [POLICY] on_error, the state unreadable."},
			func() float64 { return float64(f.srv.Stats().OnError) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "loganom_policy_logins_dropped_total", Help: "Policy logins not judged: the pipeline was behind and the queue full."},
			func() float64 { return float64(f.dropped.Load()) }))
}
