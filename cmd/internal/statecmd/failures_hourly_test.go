package statecmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
)

// Failed logins from an address in one hourly run, and the password's
// success from it in the next: failures then success, as one run over
// both hours says (the state keeps the failures read: Commit, Recall).
// The same failures read again by the same mail server count once; another
// mail server's, sharing the state, count with this one's.
func TestHourlyFailuresThenSuccess(t *testing.T) {
	const user = "ana@example.org"
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	home := placeOf(user, "79.192.10.1", "DE", "Munich", 3320, 48.1374, 11.5755)
	thief := placeOf(user, "203.0.113.7", "RU", "Moscow", 12389, 55.7558, 37.6173)
	fail := func(at time.Time) *record.Record {
		return &record.Record{Type: record.TypeAuthFailure, Time: at, IP: "203.0.113.7", User: user}
	}
	var week []*record.Record
	for d := range 4 {
		day := t0.Add(time.Duration(d) * 24 * time.Hour)
		week = append(week, home(day.Add(7*time.Hour)), home(day.Add(17*time.Hour)))
	}
	at := t0.Add(4*24*time.Hour + 10*time.Hour) // day 5, 10:00
	morning := home(at.Add(-3 * time.Hour))
	hour10 := func(n int) []*record.Record {
		var rs []*record.Record
		for i := range n {
			rs = append(rs, fail(at.Add(time.Duration(40+5*i)*time.Minute)))
		}
		return rs
	}
	success := thief(at.Add(65 * time.Minute)) // 11:05

	judge := func(s *State, rs []*record.Record) string {
		t.Helper()
		return verdictOf(batchRun(t, s, rs), user)
	}
	cat := func(parts ...[]*record.Record) []*record.Record {
		var out []*record.Record
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	high := func(v string) bool {
		return strings.HasPrefix(v, "high") && strings.Contains(v, "failed logins")
	}

	// one run over all of it: 3 failures, then the login
	one := judge(nil, cat(week, []*record.Record{morning}, hour10(3), []*record.Record{success}))
	if !high(one) {
		t.Fatalf("one run: %s; want high, failures then success", one)
	}
	if two := judge(nil, cat(week, []*record.Record{morning}, hour10(2), []*record.Record{success})); high(two) {
		t.Fatalf("one run, 2 failures: %s; want no failures then success ([DETECT] failures = 3)", two)
	}

	off := report.New(report.Rule{Detect: detect.Config{Failures: -1}}) // ([DETECT] failures = 0)
	for _, r := range cat(week, []*record.Record{morning}, hour10(5), []*record.Record{success}) {
		if err := off.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if v := verdictOf(off, user); strings.Contains(v, "failed logins") {
		t.Errorf("failures = 0: %s; want failures then success off", v)
	}

	t.Run("hourly", func(t *testing.T) {
		s := sqliteState(t, nil)
		judge(s, cat(week, []*record.Record{morning}))
		judge(s, hour10(3))
		// (the same words, but where the account's days were seen)
		got := judge(s, []*record.Record{success})
		if strings.Replace(got, "days of history", "days in the logs read", 1) != one {
			t.Errorf("the run of 11:00: %s; want as one run: %s", got, one)
		}
	})
	t.Run("read again", func(t *testing.T) {
		// 2 failures at 10:00, recorded; the same hour read again with
		// the login (a log given again): 2 failures, not 4
		s := sqliteState(t, nil)
		judge(s, cat(week, []*record.Record{morning}))
		judge(s, hour10(2))
		if got := judge(s, cat(hour10(2), []*record.Record{success})); high(got) {
			t.Errorf("10:00 read again with 11:00: %s; want no failures then success (2 failures)", got)
		}
	})
	t.Run("read again from within a run", func(t *testing.T) {
		// 2 failures at 10:40 and 10:45, recorded; read again from the
		// second (a run that starts where the last one ended), with the
		// login: 2 failures, not 3
		s := sqliteState(t, nil)
		judge(s, cat(week, []*record.Record{morning}))
		h := hour10(2)
		judge(s, h)
		if got := judge(s, []*record.Record{h[1], success}); high(got) {
			t.Errorf("10:45 read again with 11:05: %s; want no failures then success (2 failures)", got)
		}
	})
	t.Run("earlier lines read later", func(t *testing.T) {
		// the 10:50 failure recorded first; then a log of earlier lines
		// (10:40, 10:45) with the login: its first line is before the
		// recorded run, which this run does not read again: 3 failures
		s := sqliteState(t, nil)
		judge(s, cat(week, []*record.Record{morning}))
		h := hour10(3)
		judge(s, h[2:])
		if got := judge(s, cat(h[:2], []*record.Record{success})); !high(got) {
			t.Errorf("10:40-10:45 read after 10:50, with 11:05: %s; want high, failures then success", got)
		}
	})
	t.Run("a mail server behind", func(t *testing.T) {
		// mx2 read 2 failures; mx1, its log two days ahead, records its
		// own and drops its own old ones, not mx2's: mx2's next run, the
		// third failure and the login, says failures then success
		s := sqliteState(t, nil)
		judge(s, cat(week, []*record.Record{morning}))
		mx2 := &State{Store: s.Store, Instance: "mx2", Keep: s.Keep, RealertAfter: s.RealertAfter, Window: s.Window}
		h := hour10(3)
		judge(mx2, h[:2])
		later := at.Add(48 * time.Hour)
		judge(s, []*record.Record{{Type: record.TypeAuthFailure, Time: later, IP: "198.51.100.9", User: "bot@example.org"}})
		if got := judge(mx2, []*record.Record{h[2], success}); !high(got) {
			t.Errorf("mx2's run after mx1's two days ahead: %s; want high, failures then success", got)
		}
	})
	t.Run("a line dated ahead", func(t *testing.T) {
		// a failure's line dated a year ahead (RFC 3339, from a host whose
		// clock is wrong) among the bot's 3 of 10:00: recorded with them,
		// it does not drop them (as older than its window), nor this
		// server's rows before them; the login of 11:00 pairs with them
		s := sqliteState(t, nil)
		judge(s, cat(week, []*record.Record{morning}))
		bad := &record.Record{Type: record.TypeAuthFailure, Time: at.Add(365 * 24 * time.Hour), IP: "198.51.100.9", User: "bot@example.org"}
		judge(s, append(hour10(3), bad))
		if got := judge(s, []*record.Record{success}); !high(got) {
			t.Errorf("after a run with a line dated ahead: %s; want high, failures then success", got)
		}
		// and a run of that line alone leaves the 3 where they are
		s = sqliteState(t, nil)
		judge(s, cat(week, []*record.Record{morning}))
		judge(s, hour10(3))
		judge(s, []*record.Record{bad})
		if got := judge(s, []*record.Record{success}); !high(got) {
			t.Errorf("after a run of a line dated ahead alone: %s; want high, failures then success", got)
		}
	})
	t.Run("two mail servers", func(t *testing.T) {
		// mx2 saw 2 failures at 10:40 and 10:45; mx1 one at 10:50, and the
		// login: 3 failures from the address, as one run over both logs
		s := sqliteState(t, nil)
		judge(s, cat(week, []*record.Record{morning}))
		mx2 := &State{Store: s.Store, Instance: "mx2", Keep: s.Keep, RealertAfter: s.RealertAfter, Window: s.Window}
		h := hour10(3)
		judge(mx2, h[:2])
		if got := judge(s, []*record.Record{h[2], success}); !high(got) {
			t.Errorf("mx1's run after mx2's: %s; want high, failures then success", got)
		}
	})
}

// batchRun judges rs as a batch run does: with the state s (nil: none),
// its history recalled first and the run recorded after.
func batchRun(t *testing.T, s *State, rs []*record.Record) *report.Report {
	t.Helper()
	ctx := context.Background()
	rep := report.New(report.Rule{})
	for _, r := range rs {
		if err := rep.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if s != nil {
		if err := s.Recall(ctx, rep); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commit(ctx, rep, true, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	return rep
}

// The daemon records the failed logins it reads (CommitLive), and a
// daemon started again, or after a batch run, pairs the state's with the
// login it reads: failures then success, as one reader over all of it.
func TestLiveFailuresThenSuccess(t *testing.T) {
	const user = "ana@example.org"
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	home := placeOf(user, "79.192.10.1", "DE", "Munich", 3320, 48.1374, 11.5755)
	thief := placeOf(user, "203.0.113.7", "RU", "Moscow", 12389, 55.7558, 37.6173)
	var before []*record.Record
	for d := range 4 {
		day := t0.Add(time.Duration(d) * 24 * time.Hour)
		before = append(before, home(day.Add(7*time.Hour)), home(day.Add(17*time.Hour)))
	}
	at := t0.Add(4*24*time.Hour + 10*time.Hour)
	before = append(before, home(at.Add(-3*time.Hour)))
	for i := range 3 {
		before = append(before, &record.Record{Type: record.TypeAuthFailure, Time: at.Add(time.Duration(40+5*i) * time.Minute), IP: "203.0.113.7", User: user})
	}
	success := thief(at.Add(65 * time.Minute))

	reader := func(s *State, rs ...*record.Record) []string {
		t.Helper()
		l := report.NewLive(report.Rule{})
		s.FeedLive(l)
		l.OnError = func(err error) { t.Error(err) }
		var alerts []string
		l.OnAlert = func(a *report.Account) error {
			var rs []string
			for _, r := range a.Reasons {
				rs = append(rs, report.ReasonText(r))
			}
			alerts = append(alerts, a.Severity+": "+strings.Join(rs, "; "))
			return nil
		}
		feedLive(t, l, rs...)
		if s != nil {
			commitLive(t, s, l)
		}
		return alerts
	}
	high := func(alerts []string) bool {
		return len(alerts) == 1 && strings.HasPrefix(alerts[0], "high") && strings.Contains(alerts[0], "3 failed logins from 203.0.113.7")
	}
	if one := reader(nil, append(before, success)...); !high(one) {
		t.Fatalf("one reader over all of it: %v; want high, failures then success", one)
	}
	t.Run("restart", func(t *testing.T) {
		s := sqliteState(t, nil)
		if got := reader(s, before...); len(got) != 0 {
			t.Fatalf("before the login: %v", got)
		}
		if got := reader(s, success); !high(got) {
			t.Errorf("the daemon started again: %v; want high, failures then success", got)
		}
	})
	t.Run("a run split by commits", func(t *testing.T) {
		// the first failure committed alone, then one more in the same
		// second and the third: the state's run holds 3, not the larger
		// of 1 and 2
		s := sqliteState(t, nil)
		l := report.NewLive(report.Rule{})
		s.FeedLive(l)
		l.OnError = func(err error) { t.Error(err) }
		n := len(before)
		feedLive(t, l, before[:n-2]...)
		commitLive(t, s, l)
		again := *before[n-3]
		feedLive(t, l, &again, before[n-1])
		commitLive(t, s, l)
		if got := reader(s, success); !high(got) {
			t.Errorf("the daemon started again: %v; want high, failures then success", got)
		}
	})
	t.Run("after a batch run", func(t *testing.T) {
		s := sqliteState(t, nil)
		rep := report.New(report.Rule{})
		for _, r := range before {
			if err := rep.Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
		ctx := context.Background()
		if err := s.Recall(ctx, rep); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commit(ctx, rep, true, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		if got := reader(s, success); !high(got) {
			t.Errorf("the daemon after the batch run: %v; want high, failures then success", got)
		}
	})
}
