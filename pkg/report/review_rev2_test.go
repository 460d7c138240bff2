package report

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

// sprayed: the logins of a site of six accounts at home (whitelisted by
// country_ignore) for six days; then seven failures from a data centre of
// the home country, and the thief's logins there, as victims, every 80
// minutes for 40 hours.
func sprayed(victims int) []*record.Record {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	dc := place{"145.239.30.186", "BR", 16276, -23.5, -46.6}
	users := []string{"u1@x.test", "u2@x.test", "u3@x.test", "u4@x.test", "v1@x.test", "v2@x.test"}
	var recs []*record.Record
	for d := range 6 {
		for h := range 10 {
			for _, u := range users {
				recs = append(recs, loginAt(u, home, t0.Add(time.Duration(d)*24*time.Hour+time.Duration(h)*time.Hour)))
			}
		}
	}
	attack := t0.Add(7 * 24 * time.Hour)
	for i := range 7 {
		recs = append(recs, &record.Record{Type: record.TypeAuthFailure, IP: dc.ip, Time: attack.Add(time.Duration(i-10) * time.Minute)})
	}
	for i := range 30 {
		for _, u := range users[4 : 4+victims] {
			recs = append(recs, loginAt(u, dc, attack.Add(time.Duration(i)*80*time.Minute)))
		}
	}
	for _, r := range recs {
		if r.Type == record.TypeLogin {
			r.FilteredBy = "country_ignore: BR"
		}
	}
	return recs
}

// liveTicked: the live reader's alerts on recs ("user severity", sorted),
// ticked after each record, as when its input is idle, its clock the
// log's time.
func liveTicked(t *testing.T, rule Rule, recs []*record.Record) []string {
	t.Helper()
	l := NewLive(rule)
	var now time.Time // the clock: the log's time (no backlog read at speed)
	l.Now = func() time.Time { return now }
	var alerts []string
	l.OnAlert = func(a *Account) error { alerts = append(alerts, a.User+" "+a.Severity); return nil }
	for _, r := range recs {
		r := *r
		now = r.Time
		if err := l.Process(&r, func(*record.Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
		l.Tick(r.Time)
	}
	slices.Sort(alerts)
	return alerts
}

// TestFailuresSprayLiveAndBatch: a password spray from a data centre of
// the home country finds accounts' passwords; the thief then uses them
// from there for 40 hours. Failures, then a login, from a network that no
// other account of the site used for long is medium
// (failures_then_success): live, the census at the thief's first logins
// knows nobody there. The batch, whose census holds the whole log, must
// not take one victim's stay for the other's colleague: the batch and
// the live reader give the same verdicts.
func TestFailuresSprayLiveAndBatch(t *testing.T) {
	rule := Rule{Detect: detect.Config{FamiliarSite: 5}}
	for _, victims := range []int{1, 2} {
		t.Run(fmt.Sprint(victims, " victims"), func(t *testing.T) {
			recs := sprayed(victims)
			var batch []string
			for u, sev := range batchVerdict(t, rule, recs) {
				batch = append(batch, u+" "+sev)
			}
			slices.Sort(batch)
			live := liveTicked(t, rule, recs)
			want := []string{"v1@x.test medium", "v2@x.test medium"}[:victims]
			if fmt.Sprint(batch) != fmt.Sprint(want) || fmt.Sprint(live) != fmt.Sprint(want) {
				t.Errorf("batch %v, live %v, want %v", batch, live, want)
			}
		})
	}
}
