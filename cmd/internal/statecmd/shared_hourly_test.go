package statecmd

import (
	"context"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
)

// A team's mailbox, used by two people in neighbouring towns at once (a
// few minutes apart, from Munich and Augsburg, every morning), then one
// of them abroad while the other is at home. One run over the week finds
// the account shared, and weighs the trip low: no alert. Runs of a day
// each (as hourly runs are) said high before the state kept what the
// logins showed: each run saw the two towns in use at once on its own day
// only, and the history's rows (each address's first and last logins, a
// morning apart from the other's) showed none of it.
func TestHourlySharedAsBatch(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	var days [][]*record.Record
	for d := range 5 {
		days = append(days, teamDay(t0.Add(time.Duration(d)*day)))
	}
	days = append(days, teamTrip(t0.Add(5*day)))
	batch := report.New(report.Rule{})
	for _, run := range days {
		for _, r := range run {
			if err := batch.Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if want := verdictOf(batch, team); want != "none" {
		t.Fatalf("one run over the week: %s; want no alert (the account is shared)", want)
	}
	s := sqliteState(t, nil)
	for i, run := range days {
		rep := report.New(report.Rule{})
		for _, r := range run {
			if err := rep.Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Recall(ctx, rep); err != nil {
			t.Fatal(err)
		}
		// (the commit judges the accounts, as a run does)
		if _, err := s.Commit(ctx, rep, true, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		if got := verdictOf(rep, team); got != "none" {
			t.Errorf("the run of day %d: %s; want no alert, as one run over the week", i+1, got)
		}
	}
}

// The live reader records what the logins showed of several people using
// an account (report.Live.TakeSharing, CommitLive), and a reader started
// later (a restart of the daemon) reads it back (LiveSharing): the trip
// of one of the team's two people is weighed low, as one reader over the
// whole week weighs it.
func TestLiveSharingState(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	var week []*record.Record
	for d := range 5 {
		week = append(week, teamDay(t0.Add(time.Duration(d)*day))...)
	}
	last := teamTrip(t0.Add(5 * day))
	s := sqliteState(t, nil)
	reader := func(rs []*record.Record) (*report.Live, []string) {
		l := report.NewLive(report.Rule{})
		l.History, l.Sharing = s.LiveHistory(), s.LiveSharing()
		l.OnError = func(err error) { t.Error(err) }
		var alerts []string
		l.OnAlert = func(a *report.Account) error {
			alerts = append(alerts, a.Severity)
			return nil
		}
		feedLive(t, l, rs...)
		commitLive(t, s, l)
		return l, alerts
	}
	if _, alerts := reader(week); len(alerts) != 0 {
		t.Fatalf("the week alerted %v", alerts)
	}
	got, err := s.Store.SharingOf(ctx, []string{team})
	if err != nil || got[team].NearDays != 5 {
		t.Fatalf("the state holds %+v, %v; want 5 days by road", got, err)
	}
	if _, alerts := reader(last); len(alerts) != 0 {
		t.Errorf("a reader started on the last day alerted %v; want none, as one reader over the week", alerts)
	}
}
