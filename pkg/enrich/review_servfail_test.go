package enrich

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Lame reverse zones are common among the addresses that attack mail
// servers: their PTR queries come back SERVFAIL from a resolver that is
// not busy at all. A share of them in a cold run must not pin the bound
// on queries in flight to its floor and slow the whole run many times.
func TestReviewServfailShare(t *testing.T) {
	n := 2000
	took, cuts := map[int]time.Duration{}, map[int]int{}
	for _, pct := range []int{0, 10} {
		z := &zone{Synthesize: "bench.example", Delay: 50 * time.Millisecond, Fail: map[string]int{}}
		ips := manyIPs(n)
		for i, ip := range ips {
			if pct > 0 && i%(100/pct) == 0 {
				p := strings.Split(ip, ".")
				z.Fail[fmt.Sprintf("%s.%s.%s.%s.in-addr.arpa.", p[3], p[2], p[1], p[0])] = 2 // SERVFAIL
			}
		}
		r, err := NewResolver(startDNS(t, z), answerTimeout)
		if err != nil {
			t.Fatal(err)
		}
		e := New(Options{Resolver: r, Confirm: googleOnly})
		start := time.Now()
		runStage(t, e, ips...)
		took[pct] = time.Since(start)
		st := r.InFlight()
		t.Logf("%d%% SERVFAIL: %v, peak %d, bound %.0f at the end, %d cuts", pct, took[pct], st.Peak, st.Limit, st.Cuts)
		cuts[pct] = st.Cuts
	}
	// a loaded machine loses an answer now and then: a few cuts, not one
	// for each round of SERVFAILs
	if cuts[10] > cuts[0]+3 {
		t.Errorf("10%% SERVFAIL: %d cuts (%d without), %v (%.1fx the run without)", cuts[10], cuts[0], took[10], float64(took[10])/float64(took[0]))
	}
}
