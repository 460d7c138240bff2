package report

import (
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
)

// Another mail server's logins from an address whose row this reader's
// own login, not recorded yet, also grows, are counted at once, all of
// them; this reader's login is not counted again, as another server's,
// once it is recorded.
func TestLiveOtherServersLoginsWithOwnPending(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	o := newOthersLab(t)
	o.known["ana"] = usualHome(t0)
	o.feed(t, loginAt("ana", home, t0)) // not recorded yet
	// mx2: three logins of ana from home, 8:01 to 8:05
	o.rows = []detect.Known{row(home, t0.Add(-20*24*time.Hour), t0.Add(5*time.Minute), 203)}
	o.clock = o.clock.Add(RecentEvery)
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	ip := o.l.accounts["ana"].acct.byIP[home.ip]
	if ip.Count != 4 {
		t.Errorf("before her login is recorded: %d logins from home; want 4 (hers and mx2's three)", ip.Count)
	}
	// her login recorded
	if ds := o.l.TakeDeltas(); len(ds) != 1 || ds[0].IP.Count != 1 {
		t.Fatalf("deltas %+v", ds)
	}
	o.rows[0].Count++
	o.clock = o.clock.Add(RecentEvery)
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	if ip := o.l.accounts["ana"].acct.byIP[home.ip]; ip.Count != 4 {
		t.Errorf("after her login is recorded: %d logins from home; want 4", ip.Count)
	}
}

// A row of ana's history pruned ([STATE] keep) while the reader holds her
// and made again by her own login is read with fewer logins than the
// reader counted in it: the logins another mail server adds to it after
// are hers too, and judged.
func TestLiveOtherServersLoginsRowPruned(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	o := newOthersLab(t)
	old := row(office, t0.Add(-200*24*time.Hour), t0.Add(-179*24*time.Hour), 5)
	o.known["ana"] = append(usualHome(t0), old)
	o.feed(t, loginAt("ana", home, t0))
	o.l.TakeDeltas()
	// pruned, then used again by her, through this reader: recorded
	back := t0.Add(time.Hour)
	o.feed(t, loginAt("ana", office, back))
	o.l.TakeDeltas()
	o.rows = []detect.Known{row(home, t0.Add(-20*24*time.Hour), t0, 201), row(office, back, back, 1)}
	o.clock = o.clock.Add(RecentEvery)
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	if ip := o.l.accounts["ana"].acct.byIP[office.ip]; ip.Count != 1 {
		t.Fatalf("her own login read back: %d logins from the office; want 1", ip.Count)
	}
	// mx2: two logins from the office
	o.rows[1].Count, o.rows[1].Last = 3, back.Add(time.Hour)
	o.clock = o.clock.Add(RecentEvery)
	if err := o.l.Poll(nil); err != nil {
		t.Fatal(err)
	}
	if ip := o.l.accounts["ana"].acct.byIP[office.ip]; ip.Count != 3 {
		t.Errorf("after mx2's two logins: %d logins from the office; want 3", ip.Count)
	}
}
