package report

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
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

// record adds the deltas taken to the lab's history, as the state's
// commit does: counts add up, first and last widen.
func (h *historyLab) record() {
	for _, d := range h.l.TakeDeltas() {
		rows := h.known[d.User]
		i := slices.IndexFunc(rows, func(k detect.Known) bool { return k.IP == d.IP.IP })
		if i < 0 {
			rows = append(rows, detect.Known{Where: d.IP.Where(), First: d.IP.First, Last: d.IP.Last, Count: int64(d.IP.Count)})
		} else {
			k := &rows[i]
			k.Count += int64(d.IP.Count)
			k.First, k.Last = minTime(k.First, d.IP.First), maxTime(k.Last, d.IP.Last)
		}
		h.known[d.User] = rows
	}
}

// The state answers again: the daemon's commits, every few seconds, record
// the logins read meanwhile before the reader asks for the history again
// (LiveHistory waits HistoryPause after a failure). The history then holds
// the account's logins being judged again, in the rows of the addresses it
// used before: they must not count twice. Here the owner sends much mail
// from home while the state is down, then a new network in his country (a
// data centre) sends more than five times his usual pace: medium, with
// the history from the start; judged again with his logins from home
// counted twice, his pace looks twice as high and the burst is hidden.
func TestLiveHistoryLateLoginsRecordedMeanwhile(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	dc := place{"191.252.1.10", "BR", 27715, -23.5, -46.6}
	var bob []*record.Record
	for i := range 150 {
		bob = append(bob, loginAt("bob@x.test", home, t0.Add(time.Duration(i)*4*time.Minute)))
	}
	for i := range 100 {
		bob = append(bob, loginAt("bob@x.test", dc, t0.Add(12*time.Hour+time.Duration(i)*30*time.Second)))
	}
	run := func(down bool) []string {
		h := newHistoryLab(t)
		h.clock = t0.Add(14 * time.Hour)
		h.known["bob@x.test"] = usualHome(t0)
		h.down = down
		for _, r := range bob {
			h.feed(t, r)
		}
		h.down = false
		h.record() // a commit, once the state answers
		h.clock = h.clock.Add(2 * HistoryRetry)
		h.feed(t, loginAt("carol@x.test", office, t0.Add(13*time.Hour)))
		return h.alerts
	}
	want := run(false)
	if len(want) == 0 {
		t.Fatalf("with the history from the start: no alert; the test wants a burst")
	}
	if got := run(true); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("judged again: alerts %q; with the history from the start %q", got, want)
	}
}

// The same past MaxReplay: the account is not judged again but learns its
// history, which must not count its logins recorded meanwhile twice.
func TestLiveHistoryLateOverflowRecordedMeanwhile(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	dc := place{"191.252.1.10", "BR", 27715, -23.5, -46.6}
	run := func(down bool) []string {
		h := newHistoryLab(t)
		h.clock = t0.Add(20 * time.Hour)
		h.known["bob@x.test"] = usualHome(t0)
		h.down = down
		for i := range MaxReplay + 100 {
			h.feed(t, loginAt("bob@x.test", home, t0.Add(time.Duration(i)*time.Minute)))
		}
		h.down = false
		h.record() // a commit, once the state answers
		h.clock = h.clock.Add(2 * HistoryRetry)
		h.feed(t, loginAt("carol@x.test", office, t0.Add(19*time.Hour)))
		for i := range 400 {
			h.feed(t, loginAt("bob@x.test", dc, t0.Add(19*time.Hour+time.Duration(i)*5*time.Second)))
		}
		return h.alerts
	}
	want := run(false)
	if len(want) == 0 {
		t.Fatalf("with the history from the start: no alert; the test wants a burst")
	}
	if got := run(true); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the history came: alerts %q; with the history from the start %q", got, want)
	}
}

// An account alerted high without its history (three new countries in a
// day: many places), judged with it as it is (two of them usual: nothing to
// alert), then, still in that window, two more new countries: many places
// again. High was told of this account's window already (the state's
// incident has it, open), as the first judging saw it: not told again.
func TestLiveHistoryLateAlertedNotAgain(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	de := place{"91.0.0.1", "DE", 3320, 52.5, 13.4}
	nl := place{"145.0.0.1", "NL", 1136, 52.4, 4.9}
	be := place{"81.240.0.1", "BE", 5432, 50.8, 4.4}
	fr := place{"90.0.0.1", "FR", 3215, 48.9, 2.3}
	it := place{"79.0.0.1", "IT", 3269, 45.5, 9.2}
	row := func(p place, first, last time.Time) detect.Known {
		return detect.Known{Where: detect.Where{IP: p.ip, Country: p.cc, ASN: p.asn, HasLoc: true, Lat: p.lat, Lon: p.lon, AccuracyKM: 10},
			First: first, Last: last, Count: 20}
	}
	known := []detect.Known{
		row(home, t0.Add(-40*24*time.Hour), t0.Add(-5*24*time.Hour)),
		row(de, t0.Add(-30*24*time.Hour), t0.Add(-4*24*time.Hour)),
		row(nl, t0.Add(-29*24*time.Hour), t0.Add(-3*24*time.Hour)),
	}
	trip := []place{de, nl, be}
	run := func(down bool) []string {
		h := newHistoryLab(t)
		h.clock = t0.Add(20 * time.Hour)
		h.known["bob@x.test"] = known
		h.down = down
		for i, p := range trip {
			h.feed(t, loginAt("bob@x.test", p, t0.Add(time.Duration(i)*4*time.Hour)))
		}
		h.down = false
		h.clock = h.clock.Add(2 * HistoryRetry)
		h.feed(t, loginAt("carol@x.test", office, t0.Add(9*time.Hour)))
		t.Logf("down %v: before the next countries: %q", down, h.alerts)
		h.feed(t, loginAt("bob@x.test", fr, t0.Add(12*time.Hour)))
		h.feed(t, loginAt("bob@x.test", it, t0.Add(16*time.Hour)))
		t.Logf("down %v: %q", down, h.alerts)
		return h.alerts
	}
	want := run(false)
	got := run(true)
	n := 0
	for _, a := range got {
		if a == "bob@x.test high" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("high told %d times: %q (with the history from the start %q)", n, got, want)
	}
}

// With the original rule nothing waits for a history, and nothing is
// judged again: the alerts are those with the history from the start
// (it needs none), and an idle account is forgotten.
func TestLiveHistoryLateOriginalUnchanged(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	run := func(down bool) ([]string, *historyLab) {
		h := newHistoryLab(t)
		h.l = NewLive(Rule{Original: true})
		lab := newHistoryLab(t) // its History, OnAlert and clock
		h.l.Now, h.l.History, h.l.OnError, h.l.OnAlert = lab.l.Now, func(user string) ([]detect.Known, error) {
			if down {
				return nil, ErrHistoryLater
			}
			return usualHome(t0), nil
		}, lab.l.OnError, func(a *Account) error { h.alerts = append(h.alerts, a.User); return nil }
		h.clock = t0.Add(30 * time.Hour)
		lab.clock = h.clock
		for i, p := range thiefs {
			h.feed(t, loginAt("bob@x.test", p, t0.Add(time.Duration(i)*5*time.Minute)))
		}
		down = false
		h.feed(t, loginAt("carol@x.test", office, t0.Add(time.Hour)))
		if err := h.l.Flush(nil); err != nil {
			t.Fatal(err)
		}
		return h.alerts, h
	}
	want, _ := run(false)
	got, h := run(true)
	if fmt.Sprint(got) != fmt.Sprint(want) || len(h.l.waiting) != 0 {
		t.Errorf("original rule, history asked for later: alerts %q, waiting %d; with the history %q", got, len(h.l.waiting), want)
	}
	h.l.TakeDeltas()
	h.l.Tick(t0.Add(26 * time.Hour))
	if h.l.Tracked() != 0 {
		t.Errorf("%d accounts held a day later, want none", h.l.Tracked())
	}
}

// A replay that spans more than the window records nothing again: the
// deltas count each login once.
func TestLiveHistoryLateDeltasOnceAcrossWindows(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	h := newHistoryLab(t)
	h.clock = t0.Add(50 * time.Hour)
	h.known["bob@x.test"] = usualHome(t0)
	h.down = true
	n := 0
	for i, at := range []time.Duration{0, 20 * time.Minute, 12 * time.Hour, 25 * time.Hour, 40 * time.Hour, 49 * time.Hour} {
		p := home
		if i == 0 {
			p = thiefs[1]
		}
		h.feed(t, loginAt("bob@x.test", p, t0.Add(at)))
		n++
		if i == 2 {
			h.record() // a commit between: its rows hold these logins
		}
	}
	h.down = false
	h.clock = h.clock.Add(2 * HistoryRetry)
	h.feed(t, loginAt("carol@x.test", office, t0.Add(49*time.Hour+10*time.Minute)))
	h.record()
	var got int64
	for _, k := range h.known["bob@x.test"] {
		got += k.Count
	}
	if want := usualHome(t0)[0].Count + int64(n); got != want {
		t.Errorf("bob's history counts %d logins, want %d", got, want)
	}
	if fmt.Sprint(h.alerts) != "[bob@x.test high]" {
		t.Errorf("alerts %q, want bob high once", h.alerts)
	}
}
