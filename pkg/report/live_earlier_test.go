package report

import (
	"slices"
	"testing"
	"time"
)

// An address the incident's evidence was given as earlier (the history's
// row: the thief's 8 logins through another mail server, from 10:00), read
// by this reader since, is given with the history's logins and from the
// history's first: the state's evidence adds a count only when it comes
// after its last (else it takes the larger), and the reader's own logins
// from 10:40 (1, then 2) would read as 9, then 9 still, for 10.
func TestLiveEarlierAddressReadSinceEvidence(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	hu := thiefs[0]
	o := newOthersLab(t)
	homeRow := usualHome(t0)
	homeRow[0].Trusted, homeRow[0].Home = true, true // country_ignore = BR
	thief := t0.Add(2 * time.Hour)
	o.known["ana"] = append(homeRow, row(hu, thief, thief.Add(10*time.Minute), 8))
	r := loginAt("ana", home, thief.Add(30*time.Minute))
	r.FilteredBy = "country_ignore:BR"
	o.feed(t, r)
	if !slices.Equal(o.alerts, []string{"ana high"}) {
		t.Fatalf("alerts %v; want ana high", o.alerts)
	}
	ch := o.l.Changed()
	if len(ch) != 1 || len(ch[0].IPs) != 1 || ch[0].IPs[0].Count != 8 || !ch[0].IPs[0].Earlier {
		t.Fatalf("the incident's evidence %+v; want the thief's 8 logins, earlier", ch)
	}
	for i, at := range []time.Time{thief.Add(40 * time.Minute), thief.Add(50 * time.Minute)} {
		o.feed(t, loginAt("ana", hu, at))
		ch := o.l.Changed()
		if len(ch) != 1 {
			t.Fatalf("login %d: the incident's evidence %+v; want ana's", i+1, ch)
		}
		var ip *IP
		for _, x := range ch[0].IPs {
			if x.IP == hu.ip {
				ip = x
			}
		}
		if want := 8 + i + 1; ip == nil || ip.Count != want || !ip.First.Equal(thief) {
			t.Errorf("login %d: the thief's address in the evidence %+v; want %d logins from %s", i+1, ip, want, thief)
		}
	}
	// the alert's view of the account is its own: the reader's logins
	if ip := o.l.accounts["ana"].acct.byIP[hu.ip]; ip == nil || ip.Count != 2 {
		t.Errorf("ana's address %+v; want the reader's 2 logins", ip)
	}
}
