package statecmd

import (
	"context"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// A daemon that met an account while its history could not be read
// judges its logins again with it (rejudge), from the rows cut at the
// account's first login (knownBefore): each address used since ends
// then. Two usual places far apart (a home in Munich and one in Madrid,
// a day's flight apart), both used since, so looked in use at once, and
// the state recorded the account as shared, which its logins never
// showed: its impossible trips weighed low from then on.
func TestLiveSharingNotFromCutRows(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	const user = "ana@example.org"
	munich := placeOf(user, "79.192.10.1", "DE", "Munich", 3320, 48.1374, 11.5755)
	madrid := placeOf(user, "81.32.1.1", "ES", "Madrid", 3352, 40.4168, -3.7038)
	h := &historyDown{}
	s := sqliteState(t, func(st state.Store) state.Store { h.Store = st; return h })
	reader := func() *report.Live {
		l := report.NewLive(report.Rule{})
		l.History, l.Sharing = s.LiveHistory(), s.LiveSharing()
		l.OnError = func(err error) {}
		return l
	}
	// the first day (learnt): Munich in the morning, Madrid in the evening
	l := reader()
	feedLive(t, l, munich(t0.Add(8*time.Hour)), madrid(t0.Add(20*time.Hour)))
	commitLive(t, s, l)
	// the next day, again, the history not answering
	h.down = true
	l = reader()
	feedLive(t, l, munich(t0.Add(day+8*time.Hour)), madrid(t0.Add(day+20*time.Hour)))
	commitLive(t, s, l)
	h.down = false
	s.NoteUp()
	if err := l.Flush(nil); err != nil {
		t.Fatal(err)
	}
	commitLive(t, s, l)
	got, err := s.Store.SharingOf(ctx, []string{user})
	if err != nil || got[user].FarDays != 0 || got[user].NearDays != 0 {
		t.Errorf("the state holds %+v, %v; want nothing: no two places were in use at once", got[user], err)
	}
}
