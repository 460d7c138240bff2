package loganomcmd

import (
	"fmt"
	"strings"
	"testing"

	"github.com/loganom/loganom/cmd/internal/blockcmd"
	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
)

// The policy logins dropped because the pipeline is behind (the bounded
// queue full) are visible in the daemon's metrics, not only in one
// warning at the first drop and in the stop line: detection that
// silently misses logins for days is what a postmaster must be able to
// alert on. So are the requests answered per on_error (the state
// unreadable).
func TestReviewPolicyDroppedInMetrics(t *testing.T) {
	var stderr syncbuf.Buffer
	log := &cli.Logger{Prog: "loganom", W: &stderr}
	log.Slog = cli.NewSlog(log.W, log.Prog, false)
	k := &PolicyKeys{PolicyFlags: blockcmd.PolicyFlags{Listen: "127.0.0.1:0"}}
	f, err := startPolicy(k, nil, false, true, log)
	if err != nil {
		t.Fatal(err)
	}
	m := newMetrics()
	m.policy(f)
	// nothing takes the logins from the queue: the pipeline is stuck
	pc := dialPolicy(t, f.addr)
	n := feedQueue + 5
	for i := range n {
		if a := pc.ask(fmt.Sprintf("u%d@example.test", i), botnet[0], fmt.Sprintf("i%d", i)); a != "DUNNO" {
			t.Fatalf("answer %q", a)
		}
	}
	gather := func() map[string]float64 {
		got := map[string]float64{}
		for _, n := range []string{"loganom_policy_requests_total", "loganom_policy_logins_dropped_total", "loganom_policy_on_error_total"} {
			if v, ok := m.reg.Value(n); ok {
				got[n] = v
			}
		}
		return got
	}
	// a request is counted once answered: the last may be counted just after
	waitFor(t, "every request counted", func() bool { return gather()["loganom_policy_requests_total"] == float64(n) })
	got := gather()
	if got["loganom_policy_logins_dropped_total"] != 5 {
		t.Errorf("dropped: %v, want 5 (metrics %v)", got["loganom_policy_logins_dropped_total"], got)
	}
	if _, ok := got["loganom_policy_on_error_total"]; !ok {
		t.Errorf("no loganom_policy_on_error_total: %v", got)
	}
	close(f.logins) // as stop does, with nothing to feed
	f.logins = nil
	f.stop(log)
	if !strings.Contains(stderr.String(), "logins dropped") {
		t.Errorf("no warning:\n%s", &stderr)
	}
}
