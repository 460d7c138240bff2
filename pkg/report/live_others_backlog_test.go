package report

import (
	"slices"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
)

// A daemon reading a backlog (a first start with --resume reads the weeks
// on disk; a restart, the hours it was down) holds ana since her login of
// a week ago; meanwhile another mail server records her logins of today
// at home (Recent). Read on, the backlog holds the thief's login of a
// week ago, and hers at home 20 minutes after: the alert, as a batch
// run's over the same log, names the thief's address.
func TestLiveOtherServersLoginsDuringBacklog(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	hu := thiefs[0]
	o := newOthersLab(t)
	o.clock = t0.Add(7 * 24 * time.Hour) // the clock: a week after the backlog's start
	var alerted []string                 // the addresses of the alert
	onAlert := o.l.OnAlert
	o.l.OnAlert = func(a *Account) error {
		for _, ip := range a.IPs {
			alerted = append(alerted, ip.IP)
		}
		return onAlert(a)
	}
	o.known["ana"] = usualHome(t0)
	o.feed(t, loginAt("ana", home, t0))
	o.l.TakeDeltas()
	// today, through mx2: three logins at home
	today := o.clock.Add(-time.Hour)
	o.rows = []detect.Known{row(home, t0.Add(-20*24*time.Hour), today, 204)}
	// the backlog read on (at its pace: Recent asked between two
	// logins read)
	o.clock = o.clock.Add(RecentEvery)
	o.feed(t, loginAt("bob", office, t0.Add(time.Hour)))
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	thief := t0.Add(2 * time.Hour)
	o.feed(t, loginAt("ana", hu, thief))
	o.feed(t, loginAt("ana", home, thief.Add(20*time.Minute)))
	if !slices.Equal(o.alerts, []string{"ana high"}) {
		t.Fatalf("alerts %v; want ana high", o.alerts)
	}
	if !slices.Contains(alerted, hu.ip) {
		t.Errorf("the alert's addresses %v; want the thief's %s among them", alerted, hu.ip)
	}
	var ips []string
	for _, a := range o.l.Changed() {
		for _, ip := range a.IPs {
			ips = append(ips, ip.IP)
		}
	}
	if !slices.Contains(ips, hu.ip) {
		t.Errorf("the incident's addresses %v; want the thief's %s among them", ips, hu.ip)
	}
	// caught up with the log, ana's logins of today are judged, once
	o.clock = o.clock.Add(time.Minute) // (CaughtUp: no login read for as long)
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	o.clock = o.clock.Add(RecentEvery)
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	if ip := o.l.accounts["ana"].acct.byIP[home.ip]; ip == nil || ip.Count != 5 || !ip.Last.Equal(today) {
		t.Errorf("caught up: her address at home %+v; want 5 logins (hers 2, mx2's 3), the last today", ip)
	}
}
