package report

import (
	"errors"
	"fmt"
	"strings"
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

// Another mail server's daemon records the failed logins it reads as it
// goes: this reader asks for them again (OthersFailures, every
// RecentEvery at most) and pairs them with a login read later, counting
// a run given again, grown, once. Before, it knew only the runs the state
// held at its first line.
func TestLiveOthersFailures(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	at := t0.Add(5*24*time.Hour + 12*time.Hour)
	clock := at // (the clock: the reader's time may not pass it by a day)
	l := NewLive(Rule{})
	l.Now = func() time.Time { return clock }
	x := thiefs[3].ip
	// mx2's run from x, as the state held it at this reader's first line,
	// and as it grew since
	run := detect.FailureRun{IP: x, First: at.Add(-3 * time.Hour), Last: at.Add(-3 * time.Hour), N: 2, Source: "mx2"}
	l.Failures = func(time.Time) ([]detect.FailureRun, error) { return []detect.FailureRun{run}, nil }
	grown := run
	grown.Last, grown.N = at.Add(-170*time.Minute), 5
	var asked []time.Time
	answer := []detect.FailureRun{grown}
	var askErr error
	l.OthersFailures = func(since time.Time) ([]detect.FailureRun, error) {
		asked = append(asked, since)
		return answer, askErr
	}
	var errs []error
	l.OnError = func(err error) { errs = append(errs, err) }
	var got []*Account
	l.OnAlert = func(a *Account) error { got = append(got, a); return nil }
	for d := range 5 {
		if err := l.Process(loginAt("d@x.test", home, t0.Add(time.Duration(d)*24*time.Hour)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(asked) != 0 {
		t.Fatalf("asked %d times within RecentEvery of the first line's answer, want none", len(asked))
	}
	// the state down: told, the login judged with what is known
	clock = clock.Add(RecentEvery)
	askErr, answer = errors.New("the state is down"), nil
	if err := l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || len(errs) != 1 {
		t.Fatalf("asked %d times, %d errors told; want 1 and 1", len(asked), len(errs))
	}
	// answered: the run grown to 5 counts 5, not 2 + 5
	clock = clock.Add(RecentEvery)
	askErr, answer = nil, []detect.FailureRun{grown}
	if err := l.Process(loginAt("d@x.test", thiefs[3], at), nil); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 2 || !asked[1].Equal(at.Add(-24*time.Hour)) {
		t.Fatalf("asked %v; want a second time, for the window before the login read (%s)", asked, at.Add(-24*time.Hour))
	}
	if len(got) != 1 || !hasReason(got[0], detect.FailuresThenSuccess) {
		t.Fatalf("alerts %d (%v), want 1 with failures_then_success", len(got), got)
	}
	for _, r := range got[0].Reasons {
		if r.Detector == detect.FailuresThenSuccess && !strings.HasPrefix(r.Text, "5 failed logins") {
			t.Errorf("reason %q, want the run's 5 failed logins counted once", r.Text)
		}
	}
	// given again as it was, and asked for once more: nothing added
	clock = clock.Add(RecentEvery)
	if err := l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	if len(asked) != 3 {
		t.Fatalf("asked %d times, want 3", len(asked))
	}
	if n := l.site.Failures.Before(x, at.Add(time.Minute)); n != 5 {
		t.Errorf("%d failures from %s known, want 5", n, x)
	}
	// within OthersFullEvery of the first answer, only the runs that end
	// within OthersLag of how far the logs reached are asked for; past
	// it, the whole window again
	clock = clock.Add(RecentEvery)
	if err := l.Process(loginAt("d@x.test", home, at.Add(20*time.Hour)), nil); err != nil {
		t.Fatal(err)
	}
	if want := at.Add(-OthersLag); len(asked) != 4 || !asked[3].Equal(want) {
		t.Fatalf("asked %v; want the fourth since %s", asked, want)
	}
	clock = clock.Add(OthersFullEvery)
	if err := l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	if want := at.Add(-4 * time.Hour); len(asked) != 5 || !asked[4].Equal(want) {
		t.Fatalf("asked %v; want the fifth for the whole window, since %s", asked, want)
	}
}

// A run another mail server recorded, merged in the detectors with this
// reader's own failure from the address, outlives the window's cut
// there; given again grown (that server's log a day behind), it adds
// what it gained, not its whole count a second time.
func TestLiveOthersFailuresLateGrowth(t *testing.T) {
	l1 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	clock := l1.Add(48 * time.Hour)
	l := NewLive(Rule{})
	w := l.Rule.Detect.Window
	l.Now = func() time.Time { return clock }
	x := thiefs[3].ip
	run := detect.FailureRun{IP: x, First: l1.Add(-2 * time.Minute), Last: l1, N: 3, Source: "mx2"}
	l.Failures = func(time.Time) ([]detect.FailureRun, error) { return []detect.FailureRun{run}, nil }
	grown := run
	grown.Last, grown.N = l1.Add(4*time.Minute), 4
	l.OthersFailures = func(time.Time) ([]detect.FailureRun, error) { return []detect.FailureRun{grown}, nil }
	for _, r := range []*record.Record{
		loginAt("a@x.test", home, l1.Add(-time.Hour)),
		{Type: record.TypeAuthFailure, IP: x, Time: l1.Add(2 * time.Minute)}, // this reader's own
		loginAt("b@x.test", home, l1.Add(w+time.Minute)),
	} {
		if err := l.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	l.Tick(time.Time{})
	clock = clock.Add(OthersFullEvery)
	if err := l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	// mx2's 3, this reader's 1, mx2's 1 gained
	if n := l.site.Failures.Before(x, l1.Add(w+time.Minute)); n != 5 {
		t.Errorf("%d failures from %s known, want 5", n, x)
	}
}

// A failed login's line dated ahead of the clock (by less than a day: a
// bad line) does not move what the other servers' runs are asked from
// past them all.
func TestLiveOthersFailuresLineAhead(t *testing.T) {
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	clock := at
	l := NewLive(Rule{})
	l.Now = func() time.Time { return clock }
	l.Failures = func(time.Time) ([]detect.FailureRun, error) { return nil, nil }
	var asked []time.Time
	l.OthersFailures = func(since time.Time) ([]detect.FailureRun, error) { asked = append(asked, since); return nil, nil }
	if err := l.Process(loginAt("a@x.test", home, at), nil); err != nil {
		t.Fatal(err)
	}
	if err := l.Process(&record.Record{Type: record.TypeAuthFailure, IP: "198.51.100.7", Time: at.Add(20 * time.Hour)}, nil); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		clock = clock.Add(RecentEvery)
		if err := l.Process(loginAt("a@x.test", home, at.Add(time.Duration(i)*time.Second)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(asked) != 4 || asked[3].After(at) {
		t.Errorf("asked since %v; want 4 asks, none after the logins read (%s)", asked, at)
	}
}
