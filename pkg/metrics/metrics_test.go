package metrics

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parse reads an exposition with Prometheus's own parser.
func parse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("prometheus cannot parse it: %v\n%s", err, text)
	}
	return fams
}

func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// What a registry holds, as Prometheus reads it: types, help, labels
// (any text, escaped), values, func metrics; a vector's series appear once
// used.
func TestExposition(t *testing.T) {
	r := New()
	lines := r.Counter("lines_read_total", "Log lines read.")
	events := r.CounterVec("events_total", "Events parsed, by type.", "type")
	fails := r.CounterVec("failures_total", "Failures by kind\\with a backslash\nand a newline.", "kind")
	lag := r.GaugeVec("lag_bytes", "Bytes behind.", "log")
	acc := r.Gauge("accounts", "Accounts held.")
	n := 41.0
	r.CounterFunc("requests_total", "Requests answered.", func() float64 { return n })
	unused := r.CounterVec("unused_total", "Never used.", "x")
	_ = unused

	lines.Add(12725)
	lines.Inc()
	events.With("login").Add(3)
	events.With("auth_failure").Inc()
	weird := "rdns: \"timeout\"\\ on\nline two"
	fails.With(weird).Add(2)
	lag.With("/var/log/mail.log").Set(1.5e9)
	acc.Set(-0.25)
	n = 42

	text := scrape(t, r)
	fams := parse(t, text)
	if _, ok := fams["unused_total"]; ok {
		t.Errorf("a vector never used is written:\n%s", text)
	}
	check := func(name string, typ dto.MetricType, labels map[string]string, want float64) {
		t.Helper()
		f := fams[name]
		if f == nil {
			t.Errorf("no %s in\n%s", name, text)
			return
		}
		if f.GetType() != typ {
			t.Errorf("%s: type %v, want %v", name, f.GetType(), typ)
		}
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			if len(got) != len(labels) {
				continue
			}
			same := true
			for k, v := range labels {
				same = same && got[k] == v
			}
			if !same {
				continue
			}
			var v float64
			switch typ {
			case dto.MetricType_COUNTER:
				v = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				v = m.GetGauge().GetValue()
			}
			if v != want {
				t.Errorf("%s%v = %v, want %v", name, labels, v, want)
			}
			return
		}
		t.Errorf("%s: no series %v in\n%s", name, labels, text)
	}
	check("lines_read_total", dto.MetricType_COUNTER, nil, 12726)
	check("events_total", dto.MetricType_COUNTER, map[string]string{"type": "login"}, 3)
	check("events_total", dto.MetricType_COUNTER, map[string]string{"type": "auth_failure"}, 1)
	check("failures_total", dto.MetricType_COUNTER, map[string]string{"kind": weird}, 2)
	check("lag_bytes", dto.MetricType_GAUGE, map[string]string{"log": "/var/log/mail.log"}, 1.5e9)
	check("accounts", dto.MetricType_GAUGE, nil, -0.25)
	check("requests_total", dto.MetricType_COUNTER, nil, 42)
	if got := fams["failures_total"].GetHelp(); got != "Failures by kind\\with a backslash\nand a newline." {
		t.Errorf("help read back as %q", got)
	}
	// sorted by name: the same registry writes the same text
	if again := scrape(t, r); again != text {
		t.Errorf("two scrapes differ:\n%s\n%s", text, again)
	}
	if v, ok := r.Value("events_total", "login"); !ok || v != 3 {
		t.Errorf("Value: %v %v", v, ok)
	}
	if _, ok := r.Value("events_total", "reject"); ok {
		t.Error("Value of a series never used")
	}
	if v, ok := r.Value("requests_total"); !ok || v != 42 {
		t.Errorf("Value of a func: %v %v", v, ok)
	}
}

func TestSpecialValues(t *testing.T) {
	r := New()
	g := r.GaugeVec("g", "A gauge.", "v")
	g.With("inf").Set(math.Inf(1))
	g.With("-inf").Set(math.Inf(-1))
	g.With("nan").Set(math.NaN())
	g.With("big").Set(1e21)
	fams := parse(t, scrape(t, r))
	for _, m := range fams["g"].GetMetric() {
		v := m.GetGauge().GetValue()
		switch m.GetLabel()[0].GetValue() {
		case "inf":
			if !math.IsInf(v, 1) {
				t.Errorf("+Inf read as %v", v)
			}
		case "-inf":
			if !math.IsInf(v, -1) {
				t.Errorf("-Inf read as %v", v)
			}
		case "nan":
			if !math.IsNaN(v) {
				t.Errorf("NaN read as %v", v)
			}
		case "big":
			if v != 1e21 {
				t.Errorf("1e21 read as %v", v)
			}
		}
	}
}

// A caller's bug panics: a name twice, a bad name, a counter going down,
// the wrong number of label values.
func TestMisuse(t *testing.T) {
	for name, f := range map[string]func(){
		"twice":       func() { r := New(); r.Counter("a", ""); r.Gauge("a", "") },
		"bad name":    func() { New().Counter("a-b", "") },
		"digit first": func() { New().Counter("1a", "") },
		"bad label":   func() { New().CounterVec("a", "", "le-x") },
		"reserved":    func() { New().CounterVec("a", "", "__name") },
		"decrease":    func() { New().Counter("a", "").Add(-1) },
		"values":      func() { New().CounterVec("a", "", "x", "y").With("1") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// The runtime's and the process's metrics, as Prometheus's client
// libraries name them, with values that agree with what the process sees.
func TestRuntime(t *testing.T) {
	r := New()
	r.Runtime()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 10 {
		wg.Go(func() { <-stop })
	}
	fams := parse(t, scrape(t, r))
	close(stop)
	wg.Wait()
	if g := fams["go_goroutines"].GetMetric()[0].GetGauge().GetValue(); g < 11 {
		t.Errorf("go_goroutines %v with 10 waiting", g)
	}
	if v := fams["go_info"].GetMetric()[0].GetLabel()[0].GetValue(); v != runtime.Version() {
		t.Errorf("go_info version %q", v)
	}
	if fams["go_gc_duration_seconds"].GetType() != dto.MetricType_SUMMARY {
		t.Errorf("go_gc_duration_seconds: %v", fams["go_gc_duration_seconds"])
	}
	for _, n := range []string{"go_memstats_alloc_bytes", "go_memstats_sys_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_heap_objects"} {
		if f := fams[n]; f == nil || f.GetMetric()[0].GetGauge().GetValue() <= 0 {
			t.Errorf("%s: %v", n, f)
		}
	}
	if runtime.GOOS != "linux" {
		return
	}
	if v := fams["process_resident_memory_bytes"].GetMetric()[0].GetGauge().GetValue(); v < 1<<20 || v > 1<<36 {
		t.Errorf("process_resident_memory_bytes %v", v)
	}
	if v := fams["process_virtual_memory_bytes"].GetMetric()[0].GetGauge().GetValue(); v < fams["process_resident_memory_bytes"].GetMetric()[0].GetGauge().GetValue() {
		t.Errorf("process_virtual_memory_bytes %v below the resident size", v)
	}
	if v := fams["process_cpu_seconds_total"].GetMetric()[0].GetCounter().GetValue(); v <= 0 {
		t.Errorf("process_cpu_seconds_total %v", v)
	}
	// a file opened shows in the count
	before := fams["process_open_fds"].GetMetric()[0].GetGauge().GetValue()
	f, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	after := parse(t, scrape(t, r))["process_open_fds"].GetMetric()[0].GetGauge().GetValue()
	f.Close()
	if after != before+1 {
		t.Errorf("process_open_fds %v, then %v with one more file open", before, after)
	}
	if v := fams["process_max_fds"].GetMetric()[0].GetGauge().GetValue(); v < after {
		t.Errorf("process_max_fds %v", v)
	}
	// started within the test binary's lifetime: after its own file was
	// written, and not in the future
	start := fams["process_start_time_seconds"].GetMetric()[0].GetGauge().GetValue()
	fi, err := os.Stat(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	now := float64(time.Now().UnixNano()) / 1e9
	if start < float64(fi.ModTime().Unix())-2 || start > now+1 {
		t.Errorf("process_start_time_seconds %v; binary written %v, now %v", start, fi.ModTime(), now)
	}
}

// The handler: GET gives the exposition with its content type, HEAD its
// headers, others 405.
func TestServeHTTP(t *testing.T) {
	r := New()
	r.Counter("a_total", "A.").Add(7)
	srv := httptest.NewServer(r)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ContentType {
		t.Errorf("GET: %s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	if got := parse(t, string(body))["a_total"].GetMetric()[0].GetCounter().GetValue(); got != 7 {
		t.Errorf("a_total %v", got)
	}
	// what Prometheus negotiates: it sends this Accept and reads the answer by its type
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if f := expfmt.ResponseFormat(resp.Header); f.FormatType() != expfmt.TypeTextPlain {
		t.Errorf("prometheus would read the answer as %v", f)
	}
	for _, m := range []string{"POST", "PUT", "DELETE"} {
		req, _ := http.NewRequest(m, srv.URL, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s: %s", m, resp.Status)
		}
	}
}

// Counters updated from many goroutines while scraped lose nothing.
func TestConcurrent(t *testing.T) {
	r := New()
	c := r.CounterVec("c_total", "C.", "g")
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for range 1000 {
				c.With(string(rune('a' + g))).Inc()
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			r.WriteTo(io.Discard)
		}
	})
	wg.Wait()
	for g := range 4 {
		if v, _ := r.Value("c_total", string(rune('a'+g))); v != 1000 {
			t.Errorf("%c: %v", 'a'+g, v)
		}
	}
}

// A label value that is not UTF-8 (a log's file name in Latin-1, an
// error's text) is written as UTF-8, U+FFFD for the bytes that are not:
// Prometheus refuses the whole scrape else. Two values alike once so
// written are one series.
func TestNotUTF8(t *testing.T) {
	r := New()
	lag := r.GaugeVec("lag_bytes", "Bytes behind, \xff.", "log")
	lag.With("/var/log/mail\xe9.log").Set(3)
	lag.With("/var/log/mail\xe8.log").Set(4)
	lag.With("/var/log/caf\u00e9.log").Set(5)
	text := scrape(t, r)
	fams := parse(t, text)
	got := map[string]float64{}
	for _, m := range fams["lag_bytes"].GetMetric() {
		got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
	}
	want := map[string]float64{"/var/log/mail\uFFFD.log": 4, "/var/log/caf\u00e9.log": 5}
	if len(got) != len(want) || got["/var/log/mail\uFFFD.log"] != 4 || got["/var/log/caf\u00e9.log"] != 5 {
		t.Errorf("series %v, want %v\n%s", got, want, text)
	}
	if v, ok := r.Value("lag_bytes", "/var/log/mail\xe9.log"); !ok || v != 4 {
		t.Errorf("Value: %v %v", v, ok)
	}
	if h := fams["lag_bytes"].GetHelp(); h != "Bytes behind, \uFFFD." {
		t.Errorf("help %q", h)
	}
}
