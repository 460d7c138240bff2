package loganomcmd

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/enrich"
	"github.com/loganom/loganom/pkg/input"
	pm "github.com/loganom/loganom/pkg/metrics"
	"github.com/loganom/loganom/pkg/parse"
)

// metrics are the daemon's Prometheus metrics ([SERVE] metrics). The
// counters are brought up to date on the pipeline's goroutine, from the
// stages' own counts, each time the input is idle and now and then (sync):
// a scrape sees them as of then, at most a couple of seconds old.
type metrics struct {
	reg        *pm.Registry
	lines      pm.Counter
	events     pm.CounterVec
	malformed  pm.Counter
	lookups    pm.Counter
	cacheHits  pm.Counter
	failures   pm.CounterVec
	alerts     pm.Counter
	deliveries pm.CounterVec
	lag        pm.GaugeVec
	accounts   pm.Gauge
	others     pm.Counter

	last struct {
		parse  parse.Stats
		enr    enrich.Stats
		alert  int
		others int64
	}
}

func newMetrics() *metrics {
	r := pm.New()
	m := &metrics{reg: r}
	m.lines = r.Counter("loganom_lines_read_total", "Log lines read.")
	m.events = r.CounterVec("loganom_events_total", "Events parsed from the log, by type (login, auth_failure).", "type")
	m.malformed = r.Counter("loganom_malformed_lines_total", "Lines that look like events but do not parse, and lines too long, skipped.")
	m.lookups = r.Counter("loganom_lookups_total", "Reverse DNS lookups sent (not answered from the cache).")
	m.cacheHits = r.Counter("loganom_cache_hits_total", "Lookups answered from the cache (reverse DNS, ipinfo.io).")
	m.failures = r.CounterVec("loganom_lookup_failures_total", "Lookups that failed, by kind (e.g. \"rdns: timeout\").", "kind")
	m.alerts = r.Counter("loganom_alerts_total", "Alerts found (an account that became anomalous, or more severe).")
	m.deliveries = r.CounterVec("loganom_deliveries_total", "Alert deliveries attempted, by channel and result (sent, failed).", "channel", "result")
	m.lag = r.GaugeVec("loganom_lag_bytes", "Bytes of each log followed not read yet: the rest of the file being read, the files rotated from the log after it (compressed ones as stored) and the log (as of the last idle moment, or second).", "log")
	m.accounts = r.Gauge("loganom_accounts_tracked", "Accounts held in memory (those with logins within the window).")
	m.others = r.Counter("loganom_other_logins_total", "Logins of the accounts held in memory that other mail servers (or batch runs) recorded in the shared state, learnt from it and judged.")
	r.Runtime()
	return m
}

// sync adds what the stages counted since the last sync.
func (m *metrics) sync(ps parse.Stats, es enrich.Stats, alerts, accounts int, others int64, marks map[string]input.Mark) {
	if m == nil {
		return
	}
	add := func(c pm.Counter, now, before int64) {
		if now > before {
			c.Add(float64(now - before))
		}
	}
	p := &m.last.parse
	add(m.lines, ps.Lines, p.Lines)
	add(m.events.With("login"), ps.Logins, p.Logins)
	add(m.events.With("auth_failure"), ps.AuthFailures, p.AuthFailures)
	add(m.malformed, ps.Malformed+ps.TooLong, p.Malformed+p.TooLong)
	m.last.parse = ps
	e := &m.last.enr
	add(m.lookups, es.Lookups, e.Lookups)
	add(m.cacheHits, es.CacheHits, e.CacheHits)
	for kind, n := range es.Errors {
		add(m.failures.With(kind), int64(n), int64(e.Errors[kind]))
	}
	m.last.enr = es
	add(m.alerts, int64(alerts), int64(m.last.alert))
	m.last.alert = alerts
	m.accounts.Set(float64(accounts))
	add(m.others, others, m.last.others)
	m.last.others = others
	for name, mk := range marks {
		// a mark in a rotated file (a first start's catch-up, a
		// rotation not yet followed) counts what is left of it, the
		// files rotated after it and the log
		if n, ok := input.Behind(name, mk); ok {
			m.lag.With(name).Set(float64(n))
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
	m.deliveries.With(channel, r).Inc()
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
	mux.Handle("/metrics", m.reg)
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
	m.reg.CounterFunc("loganom_policy_requests_total", "Requests the policy service answered.",
		func() float64 { return float64(f.srv.Stats().Requests) })
	m.reg.CounterFunc("loganom_policy_on_error_total", "Policy requests answered per [POLICY] on_error, the state unreadable.",
		func() float64 { return float64(f.srv.Stats().OnError) })
	m.reg.CounterFunc("loganom_policy_logins_dropped_total", "Policy logins not judged: the pipeline was behind and the queue full.",
		func() float64 { return float64(f.dropped.Load()) })
}
