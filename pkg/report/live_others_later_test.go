package report

import (
	"slices"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

// A daemon reading a backlog (started after a while, --resume) meets ana
// at her 8:00 login when the state already holds the thief's login of
// 10:00 through another mail server: her history, read then, has the
// thief's row, first seen after her first login. A batch run over the
// same log with the same state judges it among her logins (Report.Know:
// a.later) and alerts the trip when her 10:20 login at home is read. The
// live reader must too: the row is neither in her history before 8:00
// (knownBefore) nor left for Recent (it is in inState).
func TestLiveOtherServersLoginAfterLoad(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	hu := thiefs[0]
	thief := t0.Add(2 * time.Hour)
	known := append(usualHome(t0), row(hu, thief, thief, 1))
	recs := []*record.Record{loginAt("ana", home, t0), loginAt("ana", home, thief.Add(20*time.Minute))}

	// the batch: the same log, the same state
	rep := New(Rule{})
	feed(rep, recs...)
	rep.Know("ana", known)
	batch := rep.Anomalies()
	if len(batch) != 1 || batch[0].Severity != "high" {
		t.Fatalf("batch: %v; want ana high (the test's premise)", batch)
	}

	o := newOthersLab(t)
	o.known["ana"] = known
	o.rows = known // Recent gives the rows written lately: these, each time
	for _, r := range recs {
		o.clock = o.clock.Add(RecentEvery)
		o.feed(t, r)
	}
	o.clock = o.clock.Add(RecentEvery)
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.alerts, []string{"ana high"}) {
		t.Errorf("live alerts %v; want ana high, as the batch (%s: %v)", o.alerts, batch[0].Severity, batch[0].Reasons)
	}
	// the thief's row, read again (Recent), is not judged again
	o.clock = o.clock.Add(RecentEvery)
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	if a := o.l.accounts["ana"].acct; a.Logins != 3 || a.byIP[hu.ip] == nil || a.byIP[hu.ip].Count != 1 {
		t.Errorf("ana counts %d logins (want 3), the thief's address %+v (want 1 login)", a.Logins, a.byIP[hu.ip])
	}
}

// The same when the history is read late: ana met at 8:00 while the
// state does not answer, the thief's login recorded at 10:00 by another
// mail server, the state answering at 10:20: her logins are judged again
// with her history, whose thief's row is first seen after her first
// login: as a batch run, the trip is alerted.
func TestLiveOtherServersLoginHistoryLate(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	hu := thiefs[0]
	thief := t0.Add(2 * time.Hour)
	o := newOthersLab(t)
	o.down = true
	o.feed(t, loginAt("ana", home, t0))
	// her 8:00 login recorded meanwhile (the commits go on)
	o.l.TakeDeltas()
	o.known["ana"] = []detect.Known{row(home, t0.Add(-20*24*time.Hour), t0, 201), row(hu, thief, thief, 1)}
	o.rows = o.known["ana"]
	o.down = false
	o.clock = o.clock.Add(RecentEvery)
	o.feed(t, loginAt("ana", home, thief.Add(20*time.Minute)))
	o.clock = o.clock.Add(RecentEvery)
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.alerts, []string{"ana high"}) {
		t.Errorf("alerts %v; want ana high", o.alerts)
	}
	if a := o.l.accounts["ana"].acct; a.Logins != 3 {
		t.Errorf("ana counts %d logins; want 3 (hers and the thief's, each once)", a.Logins)
	}
}

// Judged again with her history come late, ana's logins from an address
// first used after she was met, recorded meanwhile, are not taken for
// another server's: those of another server from there are, once.
func TestLiveOtherServersLoginHistoryLateSharedAddress(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	o := newOthersLab(t)
	o.down = true
	o.feed(t, loginAt("ana", home, t0))
	o.feed(t, loginAt("ana", office, t0.Add(30*time.Minute)))
	o.l.TakeDeltas() // recorded
	// and mx2's two logins from the office, at 8:40 and 8:50
	o.known["ana"] = []detect.Known{row(home, t0.Add(-20*24*time.Hour), t0, 201), row(office, t0.Add(30*time.Minute), t0.Add(50*time.Minute), 3)}
	o.rows = o.known["ana"]
	o.down = false
	o.clock = o.clock.Add(RecentEvery)
	o.feed(t, loginAt("ana", home, t0.Add(2*time.Hour)))
	o.clock = o.clock.Add(RecentEvery)
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	a := o.l.accounts["ana"].acct
	if ip := a.byIP[office.ip]; a.Logins != 5 || ip == nil || ip.Count != 3 {
		t.Errorf("ana counts %d logins (want 5), %+v from the office (want 3)", a.Logins, ip)
	}
	if len(o.alerts) != 0 {
		t.Errorf("alerts %v", o.alerts)
	}
}

// An account whose history holds another server's logins after it was
// met is not forgotten (Tick) before they are judged: ana met at 8:00 in
// a backlog, her history holding the thief's login of 10:00, the log read
// on for two days without her; caught up, the reader judges the trip
// from her 8:00 login, as a batch run over the log would.
func TestLiveOtherServersLoginAfterLoadKeptTillJudged(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	hu := thiefs[0]
	thief := t0.Add(2 * time.Hour)
	o := newOthersLab(t)
	o.clock = t0.Add(3 * 24 * time.Hour)
	o.known["ana"] = append(usualHome(t0), row(hu, thief, thief, 1))
	o.feed(t, loginAt("ana", home, t0))
	o.l.TakeDeltas()
	o.feed(t, loginAt("bob", office, t0.Add(2*24*time.Hour)))
	o.l.TakeDeltas()
	o.l.Tick(time.Time{})
	o.clock = o.clock.Add(time.Minute) // caught up
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.alerts, []string{"ana high"}) {
		t.Errorf("alerts %v; want ana high", o.alerts)
	}
}
