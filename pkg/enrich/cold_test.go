package enrich

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A cold run: many new addresses, a server that answers after a delay.
// Every address gets its name, the queries in flight never exceed the
// bound (and reach more than the starting one when it may grow), and the
// server is asked each question about once (a resend now and then on a
// loaded machine, no flood). The log says how it went.
func TestColdInFlight(t *testing.T) {
	n := 2000
	if testing.Short() {
		n = 1000
	}
	for _, c := range []struct {
		name    string
		workers int
		bound   int
	}{
		{"default: adapts up to DefaultMaxInFlight", 0, DefaultMaxInFlight},
		{"a bound given", 100, 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			z := &zone{Synthesize: "bench.example", Delay: 50 * time.Millisecond}
			r, err := NewResolver(startDNS(t, z), answerTimeout)
			if err != nil {
				t.Fatal(err)
			}
			e := New(Options{Resolver: r, Workers: c.workers, Confirm: googleOnly})
			ips := manyIPs(n)
			start := time.Now()
			out := runStage(t, e, ips...)
			took := time.Since(start)
			for i, line := range out {
				want := fmt.Sprintf(`"rdns":"h-%s.bench.example"}`, strings.ReplaceAll(ips[i], ".", "-"))
				if !strings.HasSuffix(line, want) {
					t.Fatalf("record %d: %s, want …%s", i, line, want)
				}
			}
			st := r.InFlight()
			q := z.Queries.Load()
			t.Logf("%d addresses in %v: %d queries, %d at most in flight, bound %.0f at the end, %d cuts", n, took, q, st.Peak, st.Limit, st.Cuts)
			if st.Peak > c.bound {
				t.Errorf("%d queries in flight, over the bound %d", st.Peak, c.bound)
			}
			if c.workers == 0 && st.Cuts == 0 && st.Peak <= DefaultWorkers {
				t.Errorf("the bound did not grow: %d at most in flight", st.Peak)
			}
			// a loaded machine delays answers past the RTO now and then
			if q < int64(n) || q > int64(n)*5/4 {
				t.Errorf("%d queries for %d addresses", q, n)
			}
		})
	}
}
