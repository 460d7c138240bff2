package statecmd

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// historyDown is a state whose History fails while down.
type historyDown struct {
	state.Store
	down bool
}

func (h *historyDown) History(ctx context.Context, user string) ([]state.Address, error) {
	if h.down {
		return nil, errors.New("the history is down")
	}
	return h.Store.History(ctx, user)
}

// A daemon that met a team's mailbox while its history could not be read
// judges its logins without it, and again with it once it comes
// (report.Live's rejudge). What those logins showed without the state's
// days is not what the state lacks: recorded meanwhile (the commits go
// through), it was merged as one day, last counted today, with the
// state's day before: the state then held one day, last counted today,
// the rejudge, given it, took today for counted, and the trip of one of
// the two people the next day alerted high where one reader over the
// days says nothing.
func TestLiveSharingHistoryLate(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	last := teamTrip(t0.Add(2 * day))
	h := &historyDown{}
	s := sqliteState(t, func(st state.Store) state.Store { h.Store = st; return h })
	var alerts []string
	reader := func() *report.Live {
		l := report.NewLive(report.Rule{})
		l.History, l.Sharing = s.LiveHistory(), s.LiveSharing()
		l.OnError = func(err error) {}
		l.OnAlert = func(a *report.Account) error {
			alerts = append(alerts, a.Severity)
			return nil
		}
		return l
	}
	one := report.NewLive(report.Rule{})
	one.OnAlert = func(a *report.Account) error {
		t.Fatalf("one reader over the days, without a state: alerted %s", a.Severity)
		return nil
	}
	feedLive(t, one, append(append(teamDay(t0), teamDay(t0.Add(day))...), last...)...)
	// one reader over the first day
	l := reader()
	feedLive(t, l, teamDay(t0)...)
	commitLive(t, s, l)
	// restarted on the second: the history does not answer, the commits go through
	h.down = true
	l = reader()
	feedLive(t, l, teamDay(t0.Add(day))...)
	commitLive(t, s, l)
	// it answers again: the account is judged again with it
	h.down = false
	s.NoteUp()
	if err := l.Flush(nil); err != nil {
		t.Fatal(err)
	}
	commitLive(t, s, l)
	got, err := s.Store.SharingOf(ctx, []string{team})
	if err != nil || got[team].NearDays != 2 {
		t.Errorf("the state holds %+v, %v; want 2 days by road", got[team], err)
	}
	feedLive(t, l, last...)
	if len(alerts) != 0 {
		t.Errorf("alerted %v; want none, as one reader over the days", alerts)
	}
}
