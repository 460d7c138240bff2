// Package metrics keeps a daemon's counters and gauges and serves them in
// Prometheus's text exposition format (version 0.0.4, which every
// Prometheus and agent scrapes), with the Go runtime's and the process's
// usual metrics (go_goroutines, process_resident_memory_bytes …).
//
// It replaces the client library (client_golang), whose package
// initialisation (its default registry, protobuf descriptors, expvar)
// cost every run of the loganom binary some 7 ms of CPU, a cron job's
// included, though only the daemon serves metrics. The tests read what it
// writes with Prometheus's own parser.
package metrics

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Registry holds the metric families, written sorted by name; the
// series of a family, by their label values.
type Registry struct {
	mu      sync.Mutex
	fams    map[string]*family
	runtime bool
}

type family struct {
	name, help, typ string
	labels          []string
	series          map[string]*series // by the label values, joined by \xff
	fn              func() float64     // a func metric's value, read when written
}

type series struct {
	values []string
	v      float64
}

// New makes an empty registry.
func New() *Registry { return &Registry{fams: map[string]*family{}} }

// Runtime adds, read at each scrape, the Go runtime's metrics (go_*) and,
// where /proc tells them, the process's (process_*), named as
// Prometheus's client libraries name them.
func (r *Registry) Runtime() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runtime = true
}

// add registers a family; a name registered twice, or not a valid metric
// or label name, is a bug of the caller's: it panics.
func (r *Registry) add(name, help, typ string, labels []string, fn func() float64) *family {
	if !validName(name, true) {
		panic("metrics: invalid metric name " + strconv.Quote(name))
	}
	for _, l := range labels {
		if !validName(l, false) || strings.HasPrefix(l, "__") {
			panic("metrics: invalid label name " + strconv.Quote(l))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fams[name] != nil {
		panic("metrics: " + name + " registered twice")
	}
	f := &family{name: name, help: help, typ: typ, labels: slices.Clone(labels), series: map[string]*series{}, fn: fn}
	r.fams[name] = f
	return f
}

// validName says whether s is a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or,
// without colons, a label name.
func validName(s string, colon bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':' && colon:
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// Counter is a value that only goes up.
type Counter struct {
	r *Registry
	s *series
}

// Add adds v, which must not be negative (a counter that decreases is a
// bug: it panics).
func (c Counter) Add(v float64) {
	if v < 0 {
		panic("metrics: a counter cannot decrease")
	}
	c.r.mu.Lock()
	c.s.v += v
	c.r.mu.Unlock()
}

// Inc adds 1.
func (c Counter) Inc() { c.Add(1) }

// Gauge is a value that goes up and down.
type Gauge struct {
	r *Registry
	s *series
}

// Set sets the value.
func (g Gauge) Set(v float64) {
	g.r.mu.Lock()
	g.s.v = v
	g.r.mu.Unlock()
}

// with returns f's series of the label values vs, made when new (at 0).
func (r *Registry) with(f *family, vs []string) *series {
	if len(vs) != len(f.labels) {
		panic(fmt.Sprintf("metrics: %s has %d labels, given %d values", f.name, len(f.labels), len(vs)))
	}
	vs = validValues(vs)
	key := strings.Join(vs, "\xff")
	r.mu.Lock()
	defer r.mu.Unlock()
	s := f.series[key]
	if s == nil {
		s = &series{values: slices.Clone(vs)}
		f.series[key] = s
	}
	return s
}

// Counter registers a counter without labels, written at 0 until added to.
func (r *Registry) Counter(name, help string) Counter {
	f := r.add(name, help, "counter", nil, nil)
	return Counter{r, r.with(f, nil)}
}

// CounterVec is a family of counters, one per set of label values.
type CounterVec struct {
	r *Registry
	f *family
}

// CounterVec registers a family of counters with the labels named; a
// series is written once it was used (With).
func (r *Registry) CounterVec(name, help string, labels ...string) CounterVec {
	return CounterVec{r, r.add(name, help, "counter", labels, nil)}
}

// With returns the counter of the label values, in the order of the
// family's labels.
func (v CounterVec) With(values ...string) Counter { return Counter{v.r, v.r.with(v.f, values)} }

// Gauge registers a gauge without labels.
func (r *Registry) Gauge(name, help string) Gauge {
	f := r.add(name, help, "gauge", nil, nil)
	return Gauge{r, r.with(f, nil)}
}

// GaugeVec is a family of gauges, one per set of label values.
type GaugeVec struct {
	r *Registry
	f *family
}

// GaugeVec registers a family of gauges with the labels named.
func (r *Registry) GaugeVec(name, help string, labels ...string) GaugeVec {
	return GaugeVec{r, r.add(name, help, "gauge", labels, nil)}
}

// With returns the gauge of the label values.
func (v GaugeVec) With(values ...string) Gauge { return Gauge{v.r, v.r.with(v.f, values)} }

// CounterFunc registers a counter whose value fn gives when written (fn
// is called without the registry's lock held).
func (r *Registry) CounterFunc(name, help string, fn func() float64) {
	r.add(name, help, "counter", nil, fn)
}

// Value returns the value of a series, for tests and the daemon's own
// reports: ok is false when there is none of that name and label values.
func (r *Registry) Value(name string, values ...string) (v float64, ok bool) {
	r.mu.Lock()
	f := r.fams[name]
	var fn func() float64
	if f != nil {
		fn = f.fn
	}
	r.mu.Unlock()
	if f == nil {
		return 0, false
	}
	if fn != nil {
		return fn(), len(values) == 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := f.series[strings.Join(validValues(values), "\xff")]
	if s == nil {
		return 0, false
	}
	return s.v, true
}

// validValues returns vs with the bytes that are not UTF-8 in each value
// replaced by U+FFFD: the format wants UTF-8, and Prometheus refuses a
// whole scrape with a label value that is not (a log's file name may be
// in Latin-1). Values that become alike are one series.
func validValues(vs []string) []string {
	for i, v := range vs {
		if !utf8.ValidString(v) {
			vs = slices.Clone(vs)
			for j := i; j < len(vs); j++ {
				vs[j] = strings.ToValidUTF8(vs[j], "\uFFFD")
			}
			return vs
		}
	}
	return vs
}

// sample is one line of the exposition.
type sample struct {
	name   string
	labels []string // name, value, name, value …
	v      float64
}

// exposed is a family as written.
type exposed struct {
	name, help, typ string
	samples         []sample
}

// WriteTo writes every family in the text exposition format.
func (r *Registry) WriteTo(w io.Writer) (int64, error) {
	var fams []exposed
	var funcs []*family
	r.mu.Lock()
	for _, f := range r.fams {
		if f.fn != nil {
			funcs = append(funcs, f)
			continue
		}
		e := exposed{name: f.name, help: f.help, typ: f.typ}
		for _, s := range f.series {
			var ls []string
			for i, l := range f.labels {
				ls = append(ls, l, s.values[i])
			}
			e.samples = append(e.samples, sample{f.name, ls, s.v})
		}
		slices.SortFunc(e.samples, func(a, b sample) int { return slices.Compare(a.labels, b.labels) })
		fams = append(fams, e)
	}
	rt := r.runtime
	r.mu.Unlock()
	for _, f := range funcs { // outside the lock: fn may take its own
		fams = append(fams, exposed{name: f.name, help: f.help, typ: f.typ, samples: []sample{{name: f.name, v: f.fn()}}})
	}
	if rt {
		fams = append(fams, runtimeFamilies()...)
		fams = append(fams, processFamilies()...)
	}
	slices.SortFunc(fams, func(a, b exposed) int { return strings.Compare(a.name, b.name) })
	var b bytes.Buffer
	for _, f := range fams {
		if len(f.samples) == 0 {
			continue // a vector never used: nothing to say yet
		}
		b.WriteString("# HELP ")
		b.WriteString(f.name)
		b.WriteByte(' ')
		writeEscaped(&b, f.help, false)
		b.WriteString("\n# TYPE ")
		b.WriteString(f.name)
		b.WriteByte(' ')
		b.WriteString(f.typ)
		b.WriteByte('\n')
		for _, s := range f.samples {
			b.WriteString(s.name)
			if len(s.labels) > 0 {
				b.WriteByte('{')
				for i := 0; i < len(s.labels); i += 2 {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(s.labels[i])
					b.WriteString(`="`)
					writeEscaped(&b, s.labels[i+1], true)
					b.WriteByte('"')
				}
				b.WriteByte('}')
			}
			b.WriteByte(' ')
			b.WriteString(formatValue(s.v))
			b.WriteByte('\n')
		}
	}
	return b.WriteTo(w)
}

// writeEscaped writes s escaped as the format wants: a backslash and a
// newline in a help text, and a double quote too in a label value. Any
// text goes (a log's file name, an error), and cannot end its line; what
// is not UTF-8 is written as U+FFFD.
func writeEscaped(b *bytes.Buffer, s string, quote bool) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '"' && quote:
			b.WriteString(`\"`)
		default:
			b.WriteByte(c)
		}
	}
}

// formatValue writes v as the format wants: +Inf, -Inf, NaN, else Go's
// shortest form.
func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// ContentType is the exposition format's.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// ServeHTTP answers a GET or HEAD with the metrics.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var b bytes.Buffer
	r.WriteTo(&b)
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	if req.Method == http.MethodGet {
		w.Write(b.Bytes())
	}
}

// runtimeFamilies are the Go runtime's metrics now.
func runtimeFamilies() []exposed {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	one := func(name, help, typ string, v float64) exposed {
		return exposed{name: name, help: help, typ: typ, samples: []sample{{name: name, v: v}}}
	}
	return []exposed{
		{name: "go_info", help: "Information about the Go environment.", typ: "gauge",
			samples: []sample{{name: "go_info", labels: []string{"version", runtime.Version()}, v: 1}}},
		one("go_goroutines", "Number of goroutines that currently exist.", "gauge", float64(runtime.NumGoroutine())),
		one("go_memstats_alloc_bytes", "Number of bytes allocated in heap and currently in use.", "gauge", float64(ms.HeapAlloc)),
		one("go_memstats_heap_inuse_bytes", "Number of heap bytes that are in use.", "gauge", float64(ms.HeapInuse)),
		one("go_memstats_heap_objects", "Number of currently allocated objects.", "gauge", float64(ms.HeapObjects)),
		one("go_memstats_sys_bytes", "Number of bytes obtained from system.", "gauge", float64(ms.Sys)),
		{name: "go_gc_duration_seconds", help: "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.", typ: "summary",
			samples: []sample{
				{name: "go_gc_duration_seconds_sum", v: float64(ms.PauseTotalNs) / 1e9},
				{name: "go_gc_duration_seconds_count", v: float64(ms.NumGC)},
			}},
	}
}
