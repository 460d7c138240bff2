package state

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The failed logins a run read are kept for the next runs: read back from
// a time on, of every instance; the same run recorded again (its log read
// again) counted once; those out of the instance's later runs' window
// dropped by its commit that writes newer ones, and all by a prune.
func TestFailures(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b.dsn(t))
			min := time.Minute
			fail := func(ip string, first, last time.Duration, n int) Failure {
				return Failure{IP: ip, First: at(first), Last: at(last), Count: n}
			}
			show := func(fs []Failure) string {
				out := ""
				for _, f := range fs {
					out += fmt.Sprintf("%s %s %v..%v %d; ", f.Instance, f.IP, f.First.Sub(at(0)), f.Last.Sub(at(0)), f.Count)
				}
				return out
			}
			commit(t, s, &Run{Instance: "mx1", Now: at(0), Failures: []Failure{
				fail("203.0.113.7", -50*min, -41*min, 5),
				fail("198.51.100.1", -2*day, -2*day, 1), // older than the window: read from -1 day, not returned
				fail("", -min, -min, 1),                 // no address: not kept
			}})
			// the same hour read again (a run whose commit failed, say),
			// and another mail server's failures from the same address
			commit(t, s, &Run{Instance: "mx1", Now: at(0), Failures: []Failure{fail("203.0.113.7", -50*min, -41*min, 5)}})
			commit(t, s, &Run{Instance: "mx2", Now: at(0), Failures: []Failure{fail("203.0.113.7", -50*min, -45*min, 2)}})
			// the next hour: the run went on (a later last failure, more)
			commit(t, s, &Run{Instance: "mx1", Now: at(time.Hour), Failures: []Failure{fail("203.0.113.7", -50*min, -30*min, 7)}})
			got, err := s.Failures(ctx, at(-day))
			if err != nil {
				t.Fatal(err)
			}
			want := "mx1 203.0.113.7 -50m0s..-30m0s 7; mx2 203.0.113.7 -50m0s..-45m0s 2; "
			if show(got) != want {
				t.Errorf("Failures:\n got %s\nwant %s", show(got), want)
			}
			if got, err := s.Failures(ctx, at(-3*day)); err != nil || len(got) != 3 {
				t.Errorf("Failures from 3 days before = %s, %v; want 3", show(got), err)
			}
			// a commit that writes failures drops its own instance's
			// before its FailuresBefore, not another's (its log may lag
			// behind: mx1's run of -2 days is for mx1's runs to drop)
			commit(t, s, &Run{Instance: "mx2", Now: at(day), FailuresBefore: at(-day),
				Failures: []Failure{fail("192.0.2.9", day-min, day-min, 1), fail("192.0.2.8", -3*day, -3*day, 1)}})
			if got, err := s.Failures(ctx, time.Time{}); err != nil || len(got) != 4 {
				t.Errorf("after mx2's FailuresBefore -1 day: %s, %v; want 4 runs (mx2's of -3 days dropped)", show(got), err)
			}
			commit(t, s, &Run{Instance: "mx1", Now: at(day), FailuresBefore: at(-day),
				Failures: []Failure{fail("192.0.2.10", day-min, day-min, 1)}})
			if got, err := s.Failures(ctx, time.Time{}); err != nil || len(got) != 4 {
				t.Errorf("after mx1's FailuresBefore -1 day: %s, %v; want 4 runs (mx1's of -2 days dropped)", show(got), err)
			}
			// the same run twice in one commit (a live reader's, taken
			// again as it grew): one row, the larger count
			commit(t, s, &Run{Instance: "mx1", Now: at(day), Failures: []Failure{fail("192.0.2.10", day-min, day-min, 1), fail("192.0.2.10", day-min, day, 3)}})
			if got, err := s.Failures(ctx, at(day-min)); err != nil || show(got) != "mx1 192.0.2.10 23h59m0s..24h0m0s 3; mx2 192.0.2.9 23h59m0s..23h59m0s 1; " {
				t.Errorf("a run twice in one commit: %s, %v", show(got), err)
			}
			p, err := s.Prune(ctx, at(0))
			if err != nil || p.Failures != 2 {
				t.Fatalf("Prune = %+v, %v; want 2 runs of failures deleted", p, err)
			}
			if got, err := s.Failures(ctx, time.Time{}); err != nil || show(got) != "mx1 192.0.2.10 23h59m0s..24h0m0s 3; mx2 192.0.2.9 23h59m0s..23h59m0s 1; " {
				t.Errorf("after a prune: %s, %v", show(got), err)
			}
		})
	}
}
