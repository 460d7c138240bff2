package report

import (
	"fmt"
	"testing"
	"time"
)

// The reader's OnAlert, with a state (reportcmd.Live.alert), records at
// once: it takes the deltas and the changed accounts, commits them and
// calls Tick. An account judged again whose logins span more than the
// window (the state down for more than a day) alerts on an old login of
// its replay: that Tick must not forget the account being judged again
// (its last login read is recent), or its logins after that alert are
// judged on an account the reader no longer holds, and the account is
// met again as a new one: the incident forgotten, the next login of the
// thief alerted again. Judged with its history from the start, the
// account is alerted once.
func TestLiveHistoryLateTickDuringReplay(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	bob := []struct {
		p  place
		at time.Duration
	}{
		{thiefs[1], 0},           // the thief in Vietnam
		{home, 20 * time.Minute}, // the owner at home: impossible
		{home, 12 * time.Hour},   // at home
		{home, 25 * time.Hour},   // at home, the next window
		{office, 25*time.Hour + 30*time.Minute},
	}
	run := func(down bool) []string {
		h := newHistoryLab(t)
		h.known["bob@x.test"] = usualHome(t0)
		h.clock = t0.Add(27 * time.Hour) // the log read as it is written
		h.l.OnAlert = func(a *Account) error {
			h.alerts = append(h.alerts, a.User+" "+a.Severity)
			// reportcmd.Live.alert: commit(true, false), then Tick
			h.l.TakeDeltas()
			h.l.Changed()
			h.l.Tick(time.Time{})
			return nil
		}
		h.down = down
		for _, b := range bob {
			h.feed(t, loginAt("bob@x.test", b.p, t0.Add(b.at)))
		}
		h.down = false
		h.clock = h.clock.Add(2 * HistoryRetry)
		h.feed(t, loginAt("carol@x.test", office, t0.Add(25*time.Hour+40*time.Minute)))
		if h.l.accounts["bob@x.test"] == nil {
			t.Errorf("down %v: bob, who logged in 10 minutes ago, is no longer held", down)
		}
		// the thief again, from Nigeria, then the owner at home
		h.feed(t, loginAt("bob@x.test", thiefs[2], t0.Add(26*time.Hour)))
		h.feed(t, loginAt("bob@x.test", home, t0.Add(26*time.Hour+20*time.Minute)))
		return h.alerts
	}
	want := run(false)
	got := run(true)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("judged again: alerts %q; with the history from the start %q", got, want)
	}
}
