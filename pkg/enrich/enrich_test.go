package enrich

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

func geoSet(t testing.TB) *GeoSet {
	city, err := OpenGeoDB(maxmindCity(t))
	if err != nil {
		t.Fatal(err)
	}
	asn, err := OpenGeoDB(maxmindASN(t))
	if err != nil {
		t.Fatal(err)
	}
	s := &GeoSet{DBs: []*GeoDB{city, asn}}
	t.Cleanup(func() { s.Close() })
	return s
}

// runStage feeds records with the given IPs through a stage and returns
// the records as NDJSON lines, in output order.
func runStage(t testing.TB, st record.Stage, ips ...string) []string {
	t.Helper()
	var out []string
	emit := func(r *record.Record) error {
		out = append(out, string(record.AppendJSON(nil, r)))
		return nil
	}
	for i, ip := range ips {
		r := &record.Record{Type: record.TypeLogin, User: fmt.Sprint("u", i), IP: ip}
		if err := st.Process(r, emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Flush(emit); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEnrich(t *testing.T) {
	z := testZone()
	r, err := NewResolver(startDNS(t, z), silentTimeout)
	if err != nil {
		t.Fatal(err)
	}
	e := New(Options{Resolver: r, Geo: geoSet(t)})
	out := runStage(t, e, "1.2.3.4", "187.45.12.9", "5.6.7.8", "1.2.3.4", "10.0.0.20", "", "127.0.0.1", "2001:db8::1", "1.2.3.4")
	want := []string{
		`{"type":"login","user":"u0","ip":"1.2.3.4","rdns":"good.example","rdns_verified":true}`,
		`{"type":"login","user":"u1","ip":"187.45.12.9","country":"BR","city":"São Paulo","lat":-23.5475,"lon":-46.6361,"accuracy_km":20,"asn":28573,"org":"Claro NXT Telecomunicacoes Ltda"}`,
		`{"type":"login","user":"u2","ip":"5.6.7.8","rdns":"mail.google.com","rdns_verified":false}`,
		`{"type":"login","user":"u3","ip":"1.2.3.4","rdns":"good.example","rdns_verified":true}`,
		`{"type":"login","user":"u4","ip":"10.0.0.20","enrich_errors":["rdns: PTR 10.0.0.20: timeout"]}`,
		`{"type":"login","user":"u5"}`,
		`{"type":"login","user":"u6","ip":"127.0.0.1"}`,
		`{"type":"login","user":"u7","ip":"2001:db8::1","rdns":"v6.example","rdns_verified":true}`,
		`{"type":"login","user":"u8","ip":"1.2.3.4","rdns":"good.example","rdns_verified":true}`,
	}
	if strings.Join(out, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(out, "\n"), strings.Join(want, "\n"))
	}
	s := e.Stats()
	// 1.2.3.4 three times: looked up once (PTR and A: two queries)
	if s.IPs != 6 || s.Lookups != 5 || s.Records != 9 || s.Summary() != "rdns: timeout ×1" {
		t.Errorf("stats %+v, %q", s, s.Summary())
	}
}

// However slow the lookups and small the window, records come out in the
// order they came in, and each address is asked once.
func TestEnrichOrderAndWindow(t *testing.T) {
	z := &zone{Delay: 20 * time.Millisecond}
	var ips []string
	for i := 0; i < 300; i++ {
		ip := fmt.Sprintf("198.51.100.%d", i%50)
		ips = append(ips, ip)
	}
	r, _ := NewResolver(startDNS(t, z), answerTimeout)
	e := New(Options{Resolver: r, Window: 7, Workers: 8})
	out := runStage(t, e, ips...)
	for i, line := range out {
		if !strings.Contains(line, fmt.Sprintf(`"user":"u%d"`, i)) {
			t.Fatalf("record %d out of order: %s", i, line)
		}
	}
	if len(out) != 300 || z.Queries.Load() != 50 {
		t.Errorf("%d records, %d DNS queries (want 300, 50)", len(out), z.Queries.Load())
	}
}

// A stop from downstream comes back from Process and Flush.
func TestEnrichStop(t *testing.T) {
	e := New(Options{Geo: geoSet(t)})
	n := 0
	emit := func(*record.Record) error {
		n++
		if n == 2 {
			return record.ErrStop
		}
		return nil
	}
	var err error
	for i := 0; i < 5 && err == nil; i++ {
		err = e.Process(&record.Record{IP: "187.45.12.9"}, emit)
	}
	if err != record.ErrStop || n != 2 {
		t.Errorf("err %v after %d records", err, n)
	}
}
