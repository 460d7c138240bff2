package report

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

// othersLab is a historyLab whose state also holds rows that other mail
// servers wrote (Recent gives every row it holds, each time: a row read
// again tells nothing new).
type othersLab struct {
	*historyLab
	rows    []detect.Known // by user "ana"
	reasons []string
}

func newOthersLab(t *testing.T) *othersLab {
	o := &othersLab{historyLab: newHistoryLab(t)}
	o.l.Recent = func(add func(user, trusted string, k *detect.Known)) error {
		for i := range o.rows {
			add("ana", "", &o.rows[i])
		}
		return nil
	}
	o.l.OnAlert = func(a *Account) error {
		o.alerts = append(o.alerts, a.User+" "+a.Severity)
		for _, r := range a.Reasons {
			o.reasons = append(o.reasons, r.Detector+": "+r.Text)
		}
		return nil
	}
	return o
}

// row is a row of history from p: n logins, the last at last.
func row(p place, first, last time.Time, n int64) detect.Known {
	return detect.Known{Where: detect.Where{IP: p.ip, Country: p.cc, City: "c-" + p.cc, ASN: p.asn, HasLoc: true, Lat: p.lat, Lon: p.lon, AccuracyKM: 10},
		First: first, Last: last, Count: n}
}

// A live reader holds ana since her history was read; a thief's login that
// another mail server recorded since (Recent) is judged among hers: after
// hers at home at 8:00 and before hers at 10:20, it is an impossible trip,
// alerted once, whether the reader learns of it before her 10:20 login is
// read or after.
func TestLiveOtherServersLogins(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	hu := thiefs[0] // Budapest: 9,800 km from São Paulo
	for _, order := range []string{"learnt before", "learnt after"} {
		t.Run(order, func(t *testing.T) {
			o := newOthersLab(t)
			o.known["ana"] = usualHome(t0)
			o.feed(t, loginAt("ana", home, t0))
			if len(o.alerts) != 0 {
				t.Fatalf("alerts at home: %v", o.alerts)
			}
			// the state as this reader's commits left it: the rows read
			// again tell nothing
			o.l.TakeDeltas()
			o.rows = []detect.Known{row(home, t0.Add(-20*24*time.Hour), t0, 201)}
			o.clock = o.clock.Add(RecentEvery)
			if err := o.l.Poll(nil); err != nil {
				t.Fatal(err)
			}
			if n := o.l.accounts["ana"].acct.Logins; len(o.alerts) != 0 || n != 1 {
				t.Fatalf("its own row read again: alerts %v, %d logins; want none, 1", o.alerts, n)
			}
			// the thief, through another mail server, at 10:00
			thief := t0.Add(2 * time.Hour)
			o.rows = append(o.rows, row(hu, thief, thief, 1))
			if order == "learnt before" {
				o.clock = o.clock.Add(RecentEvery)
				if err := o.l.Poll(nil); err != nil {
					t.Fatal(err)
				}
				// from home at 8:00: the trip is impossible at once
				if !slices.Equal(o.alerts, []string{"ana high"}) {
					t.Fatalf("learnt at 10:00: alerts %v; want ana high", o.alerts)
				}
			}
			// ana at home at 10:20, read before the reader asks again
			o.feed(t, loginAt("ana", home, thief.Add(20*time.Minute)))
			// (recorded: the other server's logins are not the reader's
			// to record)
			for _, d := range o.l.TakeDeltas() {
				if d.IP.IP == hu.ip {
					t.Errorf("the thief's login is in the reader's deltas: %+v", d)
				}
			}
			o.rows[0].Count++
			o.rows[0].Last = thief.Add(20 * time.Minute)
			o.clock = o.clock.Add(RecentEvery)
			if err := o.l.Poll(nil); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(o.alerts, []string{"ana high"}) {
				t.Fatalf("alerts %v; want ana high", o.alerts)
			}
			if !strings.HasPrefix(o.reasons[0], "impossible_travel: ") || !strings.Contains(o.reasons[0], "c-HU") {
				t.Errorf("reasons %q; want the trip with the thief's place", o.reasons)
			}
			a := o.l.accounts["ana"].acct
			if a.Logins != 3 || a.byIP[hu.ip] == nil || a.byIP[hu.ip].Count != 1 {
				t.Errorf("ana counts %d logins (want 3), the thief's address %+v (want 1 login)", a.Logins, a.byIP[hu.ip])
			}
			// and read again, the rows tell nothing more
			o.clock = o.clock.Add(RecentEvery)
			if err := o.l.Poll(nil); err != nil {
				t.Fatal(err)
			}
			if a := o.l.accounts["ana"].acct; len(o.alerts) != 1 || a.Logins != 3 {
				t.Errorf("read again: alerts %v, %d logins; want 1, 3", o.alerts, a.Logins)
			}
		})
	}
}

// The rows are asked for every RecentEvery at most; an account the reader
// does not hold is left to its history, read when it is met; a row of
// logins older than the window of the account's latest is history only.
func TestLiveOtherServersLoginsAsked(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	o := newOthersLab(t)
	asked := 0
	recent := o.l.Recent
	o.l.Recent = func(add func(user, trusted string, k *detect.Known)) error {
		asked++
		return recent(add)
	}
	o.rows = []detect.Known{row(thiefs[1], t0, t0, 3)}
	if err := o.l.Poll(nil); err != nil || asked != 1 {
		t.Fatalf("Poll: %v, asked %d times; want once", err, asked)
	}
	if o.l.Tracked() != 0 {
		t.Fatalf("an account the reader does not hold was loaded by its row")
	}
	o.known["ana"] = usualHome(t0)
	o.feed(t, loginAt("ana", home, t0.Add(3*24*time.Hour)))
	if asked != 1 {
		t.Fatalf("asked again %d times within RecentEvery", asked-1)
	}
	o.clock = o.clock.Add(RecentEvery)
	if err := o.l.Poll(nil); err != nil || asked != 2 {
		t.Fatalf("Poll after RecentEvery: %v, asked %d times; want 2", err, asked)
	}
	la := o.l.accounts["ana"]
	if len(o.alerts) != 0 || la.acct.byIP[thiefs[1].ip] != nil {
		t.Errorf("a row three days older than her latest login: alerts %v, in her addresses: %v", o.alerts, la.acct.byIP[thiefs[1].ip] != nil)
	}
	if !slices.ContainsFunc(la.known, func(k detect.Known) bool { return k.IP == thiefs[1].ip && k.Count == 3 }) {
		t.Errorf("the old row is not in her history: %+v", la.known)
	}
}

// A row that another mail server made while this reader's logins from the
// same address were not recorded yet holds the other server's logins
// alone: once this reader's are recorded too, the row grown by them tells
// nothing more. (It was taken for a row made again, pruned then used
// anew, and this reader's own logins, when recorded, for more of the
// other server's: counted twice, in the alert's evidence too.)
func TestLiveOtherServersRowBeforeOwnRecorded(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	o := newOthersLab(t)
	o.known["ana"] = usualHome(t0)
	o.feed(t, loginAt("ana", home, t0))
	// ana at the office at 9:00 through this reader, 3 times, not
	// recorded yet
	for i := range 3 {
		o.feed(t, loginAt("ana", office, t0.Add(time.Hour+time.Duration(i)*time.Minute)))
	}
	// at 9:05 through another mail server, whose commit made the row
	o.rows = []detect.Known{row(office, t0.Add(65*time.Minute), t0.Add(65*time.Minute), 1)}
	o.clock = o.clock.Add(RecentEvery)
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	if c := o.l.accounts["ana"].acct.byIP[office.ip].Count; c != 4 {
		t.Fatalf("the other server's row read: %d logins from the office; want 4", c)
	}
	// this reader's three recorded (its deltas taken, and committed):
	// the row holds all four
	o.l.TakeDeltas()
	o.rows[0] = row(office, t0.Add(time.Hour), t0.Add(65*time.Minute), 4)
	o.clock = o.clock.Add(RecentEvery)
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	a := o.l.accounts["ana"].acct
	if c := a.byIP[office.ip].Count; c != 4 || a.Logins != 5 {
		t.Errorf("the row read again with this reader's logins: %d logins from the office, %d in all; want 4, 5", c, a.Logins)
	}
	if len(o.alerts) != 0 {
		t.Errorf("alerts %v; want none (home and office)", o.alerts)
	}
}

// Another server's logins are shown in the log's zone (--tz), as a batch
// run shows them (Report.Know), not in the zone the state's times come in
// (the machine's): a thief's login at 10:00 in Berlin through mx2 is not
// 09:00 in the alert among the owner's logins read at 08:00 and 10:20.
func TestLiveOtherServersLoginsInLogZone(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, berlin)
	hu := thiefs[0]
	o := newOthersLab(t)
	o.known["ana"] = usualHome(t0)
	o.feed(t, loginAt("ana", home, t0))
	thief := t0.Add(2 * time.Hour).UTC() // as the state gives it
	o.rows = []detect.Known{row(hu, thief, thief, 2)}
	o.clock = o.clock.Add(RecentEvery)
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	o.feed(t, loginAt("ana", home, t0.Add(140*time.Minute)))
	if !slices.Equal(o.alerts, []string{"ana high"}) {
		t.Fatalf("alerts %v; want ana high", o.alerts)
	}
	a := o.l.accounts["ana"].acct
	ip := a.byIP[hu.ip]
	if ip == nil {
		t.Fatalf("the thief's address is not in ana's")
	}
	for what, tm := range map[string]time.Time{"first": ip.First, "last": ip.Last} {
		if tm.Location() != berlin {
			t.Errorf("the thief's address's %s login %s; want it in the log's zone, %s", what, tm, thief.In(berlin))
		}
	}
}

// An account met again, its thief's logins read by another mail server and
// only in its history, alerted by the owner's login at home (whitelisted
// by its country): the alert and the incident's evidence show the thief's
// address, marked earlier, as a batch run shows it (Report.Recall). Before,
// the alert had no address and no login.
func TestLiveAlertShowsHistorysAddresses(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	hu := thiefs[0]
	o := newOthersLab(t)
	var shown []*Account
	o.l.OnAlert = func(a *Account) error {
		o.alerts = append(o.alerts, a.User+" "+a.Severity)
		c := *a
		c.IPs = slices.Clone(a.IPs)
		shown = append(shown, &c)
		return nil
	}
	homeRow := usualHome(t0)
	homeRow[0].Trusted, homeRow[0].Home = true, true // country_ignore = BR
	o.known["ana"] = append(homeRow, row(hu, t0.Add(2*time.Hour), t0.Add(2*time.Hour+10*time.Minute), 8))
	r := loginAt("ana", home, t0.Add(2*time.Hour+30*time.Minute))
	r.FilteredBy = "country_ignore:BR"
	o.feed(t, r)
	if !slices.Equal(o.alerts, []string{"ana high"}) {
		t.Fatalf("alerts %v; want ana high", o.alerts)
	}
	a := shown[0]
	if len(a.IPs) != 1 || a.IPs[0].IP != hu.ip || !a.IPs[0].Earlier || a.IPs[0].Count != 8 || a.Logins != 8 {
		t.Fatalf("the alert shows %d logins from %+v; want the thief's 8, earlier", a.Logins, a.IPs)
	}
	ch := o.l.Changed()
	if len(ch) != 1 || len(ch[0].IPs) != 1 || ch[0].IPs[0].IP != hu.ip {
		t.Errorf("the incident's evidence %+v; want the thief's address", ch)
	}
}

// A batch run's earlier addresses (Recall, from the state, whose times come
// in the machine's zone) are shown in the log's zone, as its own logins
// are.
func TestRecallInLogZone(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, berlin)
	rep := batchOf(t, []*record.Record{loginAt("ana", home, t0)}, false)
	thief := t0.Add(-time.Hour).UTC()
	ip := &IP{IP: thiefs[0].ip, Count: 2, First: thief, Last: thief, Country: "HU"}
	rep.Recall("ana", ip)
	if ip.First.Location() != berlin || ip.Last.Location() != berlin || !ip.First.Equal(thief) {
		t.Errorf("the earlier address's logins %s to %s; want %s, in the log's zone", ip.First, ip.Last, thief.In(berlin))
	}
}
