package report

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

// loneLab is a live reader with a state as the wrapper has it: each
// alert is recorded at once (a commit: TakeDeltas, Changed, then Tick),
// the deltas go into the history that History gives an account loaded
// again; state: false for a reader without one (no History).
type loneLab struct {
	l      *Live
	clock  time.Time
	rows   map[string]map[string]*detect.Known
	alerts []string
	every  bool // a commit after each login read (a quiet log)
	// changed: what the commits recorded of the incidents (Changed)
	changed []*Account
}

func newLoneLab(state bool) *loneLab {
	h := &loneLab{rows: map[string]map[string]*detect.Known{}}
	h.l = NewLive(Rule{})
	h.l.Now = func() time.Time { return h.clock }
	if state {
		h.l.History = func(user string) ([]detect.Known, error) {
			var out []detect.Known
			for _, k := range h.rows[user] {
				out = append(out, *k)
			}
			slices.SortFunc(out, func(x, y detect.Known) int { return x.First.Compare(y.First) })
			return out, nil
		}
	}
	h.l.OnAlert = func(a *Account) error {
		h.alerts = append(h.alerts, a.User+" "+a.Severity)
		h.commit()
		return nil
	}
	return h
}

// commit is the wrapper's: the deltas recorded, then a Tick.
func (h *loneLab) commit() {
	for _, d := range h.l.TakeDeltas() {
		m := h.rows[d.User]
		if m == nil {
			m = map[string]*detect.Known{}
			h.rows[d.User] = m
		}
		k := m[d.IP.IP]
		if k == nil {
			k = &detect.Known{Where: d.IP.Where(), First: d.IP.First, Last: d.IP.Last}
			m[d.IP.IP] = k
		}
		k.Count += int64(d.IP.Count)
		k.First, k.Last = minTime(k.First, d.IP.First), maxTime(k.Last, d.IP.Last)
	}
	h.changed = append(h.changed, h.l.Changed()...)
	h.l.Tick(time.Time{})
}

func (h *loneLab) feed(t *testing.T, r *record.Record) {
	t.Helper()
	h.clock = r.Time.Add(time.Minute)
	if err := h.l.Process(r, nil); err != nil {
		t.Fatal(err)
	}
	if h.every {
		h.commit()
	}
}

// loneWeek is a week of users' logins at home and on their phone (located
// to Brazil only), then each one's phone and, 10 minutes later, a login
// from Vietnam: a password checked once each.
func loneWeek(t0 time.Time, users ...string) []*record.Record {
	phone := func(i int) *record.Record {
		r := loginAt("", place{fmt.Sprintf("177.79.%d.10", i), "BR", 26599, -14.24, -51.93}, time.Time{})
		r.City, r.AccuracyKM = "", 1000
		return r
	}
	at := func(r *record.Record, user string, t time.Time) *record.Record {
		c := *r
		c.User, c.Time = user, t
		return &c
	}
	var recs []*record.Record
	for d := range 7 {
		day := t0.Add(time.Duration(d) * 24 * time.Hour)
		for i, u := range users {
			off := time.Duration(i) * time.Minute
			recs = append(recs, loginAt(u, home, day.Add(off)), at(phone(d), u, day.Add(5*time.Hour+off)))
		}
		recs = append(recs, loginAt("ana@x.test", home, day.Add(time.Hour)))
	}
	check := t0.Add(7*24*time.Hour + 5*time.Hour)
	for i, u := range users {
		off := time.Duration(i) * time.Minute
		recs = append(recs, at(phone(7), u, check.Add(off)), loginAt(u, thiefs[1], check.Add(10*time.Minute+off)))
	}
	// ana, every 20 minutes for two days: the log's time goes on
	for at := check.Add(time.Hour); at.Before(check.Add(48 * time.Hour)); at = at.Add(20 * time.Minute) {
		recs = append(recs, loginAt("ana@x.test", home, at))
	}
	return recs
}

// TestLoneDueKeptTillJudged: passwords checked once, their day over at
// the same Tick: each is alerted, once. An alert is recorded at once (the
// wrapper's commit, which ends with a Tick), and a quiet log is recorded
// after each login read: that Tick must not forget an account due and not
// judged yet. With a state, the Tick judges nothing: each account's next
// login, days later, its history read again, does.
func TestLoneDueKeptTillJudged(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		state, every bool
		users        []string
	}{
		{false, false, []string{"bob@x.test", "cat@x.test"}},
		{true, false, []string{"bob@x.test", "cat@x.test"}},
		{true, true, []string{"bob@x.test"}},
	} {
		t.Run(fmt.Sprintf("state %v, a commit after each login %v, %d accounts", c.state, c.every, len(c.users)), func(t *testing.T) {
			h := newLoneLab(c.state)
			h.every = c.every
			for _, r := range loneWeek(t0, c.users...) {
				h.feed(t, r)
			}
			var want []string
			for _, u := range c.users {
				want = append(want, u+" medium")
			}
			if before := want[:len(want)*b2i(!c.state)]; !slices.Equal(h.alerts, before) {
				t.Errorf("alerts %q at the Ticks, want %q", h.alerts, before)
			}
			for i, u := range c.users {
				h.feed(t, loginAt(u, home, t0.Add(10*24*time.Hour+time.Duration(i)*time.Minute)))
			}
			if err := h.l.Flush(nil); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(h.alerts, want) {
				t.Errorf("alerts %q, want %q", h.alerts, want)
			}
		})
	}
}

// TestLoneOnceAcrossRestart: a password checked once, decided at the
// account's next login a day later, when its detector starts again (the
// window passed): told once, in one reason; the period that starts then
// does not find it again from the rows of the one before.
func TestLoneOnceAcrossRestart(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	var recs []*record.Record
	for _, r := range loneWeek(t0, "bob@x.test") {
		if r.User == "bob@x.test" {
			recs = append(recs, r)
		}
	}
	next := recs[len(recs)-1].Time.Add(30 * time.Hour)
	recs = append(recs, loginAt("bob@x.test", home, next), loginAt("bob@x.test", home, next.Add(time.Hour)))
	for _, state := range []bool{false, true} {
		t.Run(fmt.Sprintf("state %v", state), func(t *testing.T) {
			h := newLoneLab(state)
			var reasons []string
			for _, r := range recs {
				h.feed(t, r)
			}
			h.commit()
			for _, a := range h.changed {
				for _, why := range a.Reasons {
					if strings.Contains(why.Text, "its only login") && !slices.Contains(reasons, why.Text) {
						reasons = append(reasons, why.Text)
					}
				}
			}
			if want := []string{"bob@x.test medium"}; !slices.Equal(h.alerts, want) {
				t.Errorf("alerts %q, want %q", h.alerts, want)
			}
			if len(reasons) != 1 {
				t.Errorf("the lone far login told in %d reasons, want 1:\n%s", len(reasons), strings.Join(reasons, "\n"))
			}
		})
	}
}

// TestLoneAlertedOnce: a password checked once, alerted when its day is
// over (Tick), is not alerted again at the account's next login, a few
// days later: the detector started again from the rows of its history
// (the reader's own, without a state) must not find it pending again.
// With a state, that login alerts it (Tick judged nothing), once.
func TestLoneAlertedOnce(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	for _, state := range []bool{false, true} {
		t.Run(fmt.Sprintf("state %v", state), func(t *testing.T) {
			h := newLoneLab(state)
			h.every = state
			for _, r := range loneWeek(t0, "bob@x.test") {
				h.feed(t, r)
			}
			want := []string{"bob@x.test medium"}
			if before := want[:b2i(!state)]; !slices.Equal(h.alerts, before) {
				t.Fatalf("alerts %q, want %q", h.alerts, before)
			}
			h.feed(t, loginAt("bob@x.test", home, t0.Add(10*24*time.Hour)))
			h.feed(t, loginAt("bob@x.test", home, t0.Add(10*24*time.Hour+time.Hour)))
			if err := h.l.Flush(nil); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(h.alerts, want) {
				t.Errorf("alerts %q, want %q", h.alerts, want)
			}
		})
	}
}

// TestLoneFlushAfterOthersLogins: a daemon reads a backlog; the state
// holds bob's login from Vietnam again 5 hours after the one read, made
// through another mail server (a row first seen after bob was met: judged
// among his logins, live.later, as a batch judges it: Report.Know). At
// the end of the input the lone far login is no lone one: the other
// server's login is judged before what waits is decided (Until), as the
// batch judges it, and nothing is alerted.
func TestLoneFlushAfterOthersLogins(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	ph := place{"177.79.1.10", "BR", 26599, -14.24, -51.93}
	phone := func(at time.Time) *record.Record {
		r := loginAt("bob@x.test", ph, at)
		r.City, r.AccuracyKM = "", 1000
		return r
	}
	// the phone on another address each day, the week before
	var phones []detect.Known
	for d := 2; d <= 8; d++ {
		at := t0.Add(-time.Duration(d) * 24 * time.Hour)
		r := row(place{fmt.Sprintf("177.79.%d.10", d), "BR", 26599, -14.24, -51.93}, at, at, 1)
		r.City, r.AccuracyKM = "", 1000
		phones = append(phones, r)
	}
	check := t0.Add(5 * time.Hour)
	vn2 := place{"118.69.201.200", "VN", 18403, 10.82, 106.63}
	known := append([]detect.Known{row(home, t0.Add(-20*24*time.Hour), t0.Add(-48*time.Hour), 200), row(vn2, check.Add(5*time.Hour), check.Add(5*time.Hour), 1)}, phones...)
	recs := []*record.Record{phone(check), loginAt("bob@x.test", thiefs[1], check.Add(10*time.Minute))}
	for at := check.Add(time.Hour); at.Before(check.Add(30 * time.Hour)); at = at.Add(20 * time.Minute) {
		recs = append(recs, loginAt("ana@x.test", home, at))
	}

	for _, other := range []bool{false, true} {
		rep := New(Rule{})
		feed(rep, recs...)
		if other {
			rep.Know("bob@x.test", known)
		} else {
			rep.Know("bob@x.test", slices.DeleteFunc(slices.Clone(known), func(k detect.Known) bool { return k.IP == vn2.ip }))
		}
		got := rep.Anomalies()
		if other && len(got) != 0 || !other && (len(got) != 1 || got[0].Severity != "medium") {
			t.Fatalf("batch, the other server's login %v: %d anomalies; want none with it, bob medium without (the test's premise)", other, len(got))
		}
	}

	h := newLoneLab(true)
	h.rows["bob@x.test"] = map[string]*detect.Known{}
	for i := range known {
		h.rows["bob@x.test"][known[i].IP] = &known[i]
	}
	for _, r := range recs {
		h.feed(t, r)
	}
	if err := h.l.Flush(nil); err != nil {
		t.Fatal(err)
	}
	if len(h.alerts) != 0 {
		t.Errorf("live alerts %q; want none, as the batch", h.alerts)
	}
}

// TestLoneFlushReachesFailures: the logs read end with failed logins a
// day after a password checked once: the batch decides it at the latest
// login or failure read (Report.until); the live reader at the end of
// its input (Flush) does the same, and alerts it.
func TestLoneFlushReachesFailures(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	recs := loneWeek(t0, "bob@x.test")
	check := t0.Add(7*24*time.Hour + 5*time.Hour)
	recs = slices.DeleteFunc(recs, func(r *record.Record) bool { return r.Time.After(check.Add(2 * time.Hour)) })
	for at := check.Add(3 * time.Hour); at.Before(check.Add(30 * time.Hour)); at = at.Add(time.Hour) {
		recs = append(recs, &record.Record{Type: record.TypeAuthFailure, IP: "45.9.20.1", User: "carl@x.test", Time: at})
	}
	rep := batchOf(t, recs, false)
	if got := rep.Anomalies(); len(got) != 1 || got[0].Severity != "medium" {
		t.Fatalf("batch: %d anomalies; want bob medium (the test's premise)", len(got))
	}
	h := newLoneLab(false)
	for _, r := range recs {
		h.feed(t, r)
	}
	if err := h.l.Flush(nil); err != nil {
		t.Fatal(err)
	}
	if want := []string{"bob@x.test medium"}; !slices.Equal(h.alerts, want) {
		t.Errorf("live alerts %q, want %q, as the batch", h.alerts, want)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestLoneBatchWithState: batch runs with a state (KnowSharing: the state
// was asked of the account) leave a password checked once to the
// account's own next login, however far the run read (ana's logins, two
// days past it): the history's rows do not say how far a run read, and a
// verdict given at its end would be given again at that login, in the
// next run. That run alerts it (its rows: the check, the phone before
// it), and the run after does not again.
func TestLoneBatchWithState(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	rows := map[string]*detect.Known{} // bob's history
	run := func(recs []*record.Record) []string {
		t.Helper()
		rep := New(Rule{})
		for _, r := range recs {
			if err := rep.Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
		var known []detect.Known
		for _, k := range rows {
			known = append(known, *k)
		}
		slices.SortFunc(known, func(x, y detect.Known) int { return x.First.Compare(y.First) })
		rep.Know("bob@x.test", known)
		rep.KnowSharing("bob@x.test", detect.Sharing{})
		rep.KnowSharing("ana@x.test", detect.Sharing{})
		var got []string
		for _, a := range rep.Anomalies() {
			got = append(got, a.User+" "+a.Severity)
		}
		for _, r := range recs {
			if r.User != "bob@x.test" {
				continue
			}
			k := rows[r.IP]
			if k == nil {
				ip := IP{IP: r.IP, Country: r.Country, City: r.City, ASN: r.ASN, HasLoc: r.HasLoc, Lat: r.Lat, Lon: r.Lon, AccuracyKM: r.AccuracyKM}
				k = &detect.Known{Where: ip.Where(), First: r.Time}
				rows[r.IP] = k
			}
			k.Last = r.Time
			k.Count++
		}
		return got
	}
	if got := run(loneWeek(t0, "bob@x.test")); len(got) != 0 {
		t.Errorf("first run: %q, want none (bob's next login judges it)", got)
	}
	next := t0.Add(10 * 24 * time.Hour)
	if got := run([]*record.Record{loginAt("bob@x.test", home, next)}); !slices.Equal(got, []string{"bob@x.test medium"}) {
		t.Errorf("second run: %q, want bob medium", got)
	}
	if got := run([]*record.Record{loginAt("bob@x.test", home, next.Add(24*time.Hour))}); len(got) != 0 {
		t.Errorf("third run: %q, want none", got)
	}
}
