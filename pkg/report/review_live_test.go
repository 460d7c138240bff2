package report

import (
	"fmt"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

// batchVerdict runs recs through the batch report and returns the
// flagged accounts with their severity.
func batchVerdict(t *testing.T, rule Rule, recs []*record.Record) map[string]string {
	t.Helper()
	rep := New(rule)
	for _, r := range recs {
		if err := rep.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]string{}
	for _, a := range rep.Anomalies() {
		out[a.User] = a.Severity
	}
	return out
}

// liveAlerts runs recs through the live report and returns the alerts
// ("user severity"), in order.
func liveAlerts(t *testing.T, l *Live, recs []*record.Record) []string {
	t.Helper()
	var alerts []string
	l.OnAlert = func(a *Account) error { alerts = append(alerts, a.User+" "+a.Severity); return nil }
	for _, r := range recs {
		if err := l.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	return alerts
}

// TestReviewLiveTrustedLoginEndsTrip: the thief logs in once from Vietnam;
// the owner logs in from home (whitelisted) ten minutes later. The
// owner's login makes the impossible trip (high): the batch flags the
// account, the live report must alert on that login too.
func TestReviewLiveTrustedLoginEndsTrip(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	var recs []*record.Record
	trusted := func(r *record.Record) *record.Record { r.FilteredBy = "country_ignore: BR"; return r }
	for d := 0; d < 5; d++ {
		recs = append(recs, trusted(loginAt("e@x.test", home, t0.Add(time.Duration(d)*24*time.Hour))))
	}
	at := t0.Add(5*24*time.Hour + 2*time.Hour)
	recs = append(recs, loginAt("e@x.test", thiefs[1], at))
	recs = append(recs, trusted(loginAt("e@x.test", home, at.Add(10*time.Minute))))

	batch := batchVerdict(t, Rule{}, recs)
	if batch["e@x.test"] != "high" {
		t.Fatalf("batch %v: want e high (the premise)", batch)
	}
	if got := liveAlerts(t, NewLive(Rule{}), recs); fmt.Sprint(got) != "[e@x.test high]" {
		t.Errorf("live alerts %v, want [e@x.test high] as the batch", got)
	}
}

// TestReviewLiveFindingGrowsSeverity: with [DETECT] alert = low, a new
// country is low, then its burst makes the same finding medium. The
// verdict grew more severe: the live report must alert again (the batch
// says medium).
func TestReviewLiveFindingGrowsSeverity(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	var recs []*record.Record
	for d := 0; d < 5; d++ {
		recs = append(recs, loginAt("f@x.test", home, t0.Add(time.Duration(d)*24*time.Hour)))
	}
	at := t0.Add(5*24*time.Hour + 2*time.Hour)
	for i := 0; i < 15; i++ {
		recs = append(recs, loginAt("f@x.test", thiefs[0], at.Add(time.Duration(i)*5*time.Minute)))
	}
	rule := Rule{Alert: detect.Low}
	batch := batchVerdict(t, rule, recs)
	if batch["f@x.test"] != "medium" {
		t.Fatalf("batch %v: want f medium (the premise)", batch)
	}
	if got := liveAlerts(t, NewLive(rule), recs); fmt.Sprint(got) != "[f@x.test low f@x.test medium]" {
		t.Errorf("live alerts %v, want [f@x.test low f@x.test medium]", got)
	}
}

// TestReviewLiveRequeueEvicted: an anomalous account goes idle and is
// forgotten (Tick); the commit that carries its last evidence fails and
// Requeue is given it back: the evidence must come again with the next
// Changed, not be lost.
func TestReviewLiveRequeueEvicted(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	l := NewLive(Rule{})
	l.History = func(string) ([]detect.Known, error) { return nil, nil } // a state
	var recs []*record.Record
	for d := 0; d < 5; d++ {
		recs = append(recs, loginAt("g@x.test", home, t0.Add(time.Duration(d)*24*time.Hour)))
	}
	at := t0.Add(5*24*time.Hour + 2*time.Hour)
	for i, p := range thiefs {
		recs = append(recs, loginAt("g@x.test", p, at.Add(time.Duration(i)*5*time.Minute)))
	}
	if got := liveAlerts(t, l, recs); len(got) != 1 {
		t.Fatalf("alerts %v", got)
	}
	l.Changed() // recorded with the alert
	// one more login from the botnet, then the account is idle
	if err := l.Process(loginAt("g@x.test", thiefs[3], at.Add(time.Hour)), nil); err != nil {
		t.Fatal(err)
	}
	// another account's login a window later: the commit's Tick forgets g
	if err := l.Process(loginAt("h@x.test", home, at.Add(30*time.Hour)), nil); err != nil {
		t.Fatal(err)
	}
	l.Tick(time.Time{})
	ch := l.Changed()
	if len(ch) != 1 || ch[0].User != "g@x.test" {
		t.Fatalf("changed %v, want g's last evidence", ch)
	}
	l.Requeue(ch) // the commit failed
	l.Tick(time.Time{})
	if again := l.Changed(); len(again) != 1 || again[0].User != "g@x.test" {
		t.Errorf("after a failed commit, changed %v: g's evidence is lost", again)
	}
}

// TestReviewLiveStraddle: a botnet whose logins straddle the restart of
// the account's detector (the window boundary) is alerted once, high,
// with its impossible travel among the reasons, and the state's evidence
// (Changed) holds all its countries.
func TestReviewLiveStraddle(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	for _, before := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(before, " before"), func(t *testing.T) {
			l := NewLive(Rule{})
			var recs []*record.Record
			for d := 0; d < 5; d++ {
				recs = append(recs, loginAt("s@x.test", home, t0.Add(time.Duration(d)*24*time.Hour)))
			}
			// the detector started again at t0+4d (the 5th login): its window ends at t0+5d
			end := t0.Add(5 * 24 * time.Hour)
			for i, p := range thiefs {
				at := end.Add(time.Duration(i-before)*5*time.Minute + time.Minute)
				if i < before {
					at = end.Add(-time.Duration(before-i) * 5 * time.Minute)
				}
				recs = append(recs, loginAt("s@x.test", p, at))
			}
			var got []*Account
			l.OnAlert = func(a *Account) error { c := *a; got = append(got, &c); return nil }
			for _, r := range recs {
				if err := l.Process(r, nil); err != nil {
					t.Fatal(err)
				}
			}
			if len(got) != 1 || got[0].Severity != "high" {
				t.Fatalf("alerts %v, want one, high", got)
			}
			ch := l.Changed()
			cs := map[string]bool{}
			for _, a := range ch {
				if a.User != "s@x.test" {
					t.Errorf("changed %s", a.User)
				}
				for _, c := range a.Countries {
					cs[c] = true
				}
				t.Logf("evidence: %s %v %v", a.Severity, a.Countries, a.Reasons)
			}
			for _, p := range thiefs {
				if !cs[p.cc] {
					t.Errorf("evidence countries %v, want the botnet's 4", cs)
				}
			}
			t.Logf("alert reasons: %v", got[0].Reasons)
			batch := batchVerdict(t, Rule{}, recs)
			if batch["s@x.test"] != "high" {
				t.Errorf("batch %v", batch)
			}
		})
	}
}

// TestReviewLiveNoStateComesBack: without a state, an account idle for
// longer than the window keeps its places as history rows; when it comes
// back, each login is in them once (not twice).
func TestReviewLiveNoStateComesBack(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	l := NewLive(Rule{})
	n := 0
	for d := 0; d < 3; d++ {
		for h := 0; h < 3; h++ {
			if err := l.Process(loginAt("k@x.test", home, t0.Add(time.Duration(d)*24*time.Hour+time.Duration(h)*time.Hour)), nil); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	l.Process(loginAt("other@x.test", office, t0.Add(6*24*time.Hour)), nil)
	l.Tick(time.Time{}) // k is idle: its places stay as rows
	l.Process(loginAt("k@x.test", home, t0.Add(7*24*time.Hour)), nil)
	la := l.accounts["k@x.test"]
	var sum int64
	for _, k := range la.known {
		sum += k.Count
	}
	if sum != int64(n) {
		t.Errorf("history rows count %d logins, want %d", sum, n)
	}
	// and again, a window later: the restart folds what came since
	l.Process(loginAt("k@x.test", home, t0.Add(9*24*time.Hour)), nil)
	sum = 0
	for _, k := range la.known {
		sum += k.Count
	}
	if sum != int64(n+1) {
		t.Errorf("after a restart, history rows count %d logins, want %d", sum, n+1)
	}
}
