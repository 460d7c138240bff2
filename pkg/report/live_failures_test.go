package report

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

// A live reader's run of failed logins split by a commit is taken whole
// again as it grows: the state keeps a run's larger count, so two
// failures in one second, one each side of the commit, stay two.
func TestLiveFailuresTakenWhole(t *testing.T) {
	at := time.Date(2026, 11, 1, 10, 40, 0, 0, time.UTC)
	l := NewLive(Rule{})
	l.Failures = func(time.Time) ([]detect.FailureRun, error) { return nil, nil }
	fail := func(t time.Time) {
		l.Process(&record.Record{Type: record.TypeAuthFailure, IP: thiefs[3].ip, Time: t}, nil)
	}
	fail(at)
	first := l.TakeFailures()
	fail(at)
	fail(at.Add(5 * time.Minute))
	second := l.TakeFailures()
	if len(first) != 1 || first[0].N != 1 {
		t.Fatalf("first take %v, want one run of 1", first)
	}
	if len(second) != 1 || second[0].N != 3 || !second[0].First.Equal(at) || !second[0].Last.Equal(at.Add(5*time.Minute)) {
		t.Fatalf("second take %v, want the run whole: 3 from 10:40 to 10:45", second)
	}
	if l.Unrecorded() || l.TakeFailures() != nil {
		t.Error("nothing grew since: nothing to take")
	}
	// a commit that failed puts them back: taken again, with what came
	// since, as one run
	l.PutBackFailures(second)
	fail(at.Add(6 * time.Minute))
	again := l.TakeFailures()
	if len(again) != 1 || again[0].N != 4 || !again[0].First.Equal(at) {
		t.Fatalf("after put back: %v, want one run of 4 from 10:40", again)
	}
	// put back twice (two failed commits): not doubled
	l.PutBackFailures(again)
	l.PutBackFailures(again)
	if got := l.TakeFailures(); len(got) != 1 || got[0].N != 4 {
		t.Fatalf("put back twice: %v, want one run of 4", got)
	}
	// an IPv4-mapped address is the address's
	l.Process(&record.Record{Type: record.TypeAuthFailure, IP: "::ffff:" + thiefs[3].ip, Time: at.Add(7 * time.Minute)}, nil)
	if got := l.TakeFailures(); len(got) != 1 || got[0].IP != thiefs[3].ip || got[0].N != 5 {
		t.Fatalf("a mapped address: %v, want the run of %s grown to 5", got, thiefs[3].ip)
	}
}

// While the state is down, the failures read are put back at each commit:
// those older than the window are dropped at a Tick (no later login pairs
// with them), and memory stays bounded.
func TestLiveFailuresBounded(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	l := NewLive(Rule{})
	l.Failures = func(time.Time) ([]detect.FailureRun, error) { return nil, nil }
	var last time.Time
	for i := range 3 * 24 * 60 { // a bot a minute, each from its address, for 3 days
		last = t0.Add(time.Duration(i) * time.Minute)
		l.Process(&record.Record{Type: record.TypeAuthFailure, IP: fmt.Sprintf("198.51.%d.%d", i/250, i%250+1), Time: last}, nil)
		if i%60 == 59 {
			l.PutBackFailures(l.TakeFailures()) // the commit failed
			l.Tick(last)
		}
	}
	got := l.TakeFailures()
	cut := last.Add(-24 * time.Hour)
	for _, f := range got {
		if f.Last.Before(cut) {
			t.Fatalf("a run of %s kept, older than the window before %s", f.Last, last)
		}
	}
	if len(got) < 23*60 || len(got) > 24*60+60 {
		t.Errorf("%d runs kept, want those of the last day (about %d)", len(got), 24*60)
	}
}

// The failures of earlier runs are asked for at the first line read; when
// the state does not answer, again later (HistoryRetry), not never.
func TestLiveFailuresAskedAgain(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	clock := t0
	l := NewLive(Rule{})
	l.Now = func() time.Time { return clock }
	at := t0.Add(5*24*time.Hour + 12*time.Hour)
	asked, errs := 0, 0
	var start time.Time
	l.Failures = func(s time.Time) ([]detect.FailureRun, error) {
		asked++
		start = s
		if asked == 1 {
			return nil, errors.New("the state is down")
		}
		return []detect.FailureRun{{IP: thiefs[3].ip, First: at.Add(-20 * time.Minute), Last: at.Add(-10 * time.Minute), N: 4}}, nil
	}
	l.OnError = func(error) { errs++ }
	var got []*Account
	l.OnAlert = func(a *Account) error { got = append(got, a); return nil }
	for d := range 5 {
		if err := l.Process(loginAt("d@x.test", home, t0.Add(time.Duration(d)*24*time.Hour)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if asked != 1 || errs != 1 {
		t.Fatalf("asked %d times, %d errors told; want once (throttled), told", asked, errs)
	}
	clock = clock.Add(2 * HistoryRetry)
	if err := l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	if asked != 2 || !start.Equal(t0) {
		t.Fatalf("asked %d times, last for %s; want again when idle, for the first line's time %s", asked, start, t0)
	}
	if err := l.Process(loginAt("d@x.test", thiefs[3], at), nil); err != nil {
		t.Fatal(err)
	}
	if asked != 2 {
		t.Errorf("asked %d times; want no more once answered", asked)
	}
	if len(got) != 1 {
		t.Fatalf("alerts %d, want 1", len(got))
	}
	if !hasReason(got[0], detect.FailuresThenSuccess) {
		t.Errorf("reasons %v: no failures_then_success (the state's failures, given late)", got[0].Reasons)
	}
}
