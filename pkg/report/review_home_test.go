package report

import (
	"slices"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// TestHomeSecondDataCentreLive: with country_ignore = BR, a thief sends
// from a data centre of Brazil (medium: alerted), then, within the
// next day, from a second one (another medium finding, after the
// detector started again: no new alert, the evidence grows). The live
// state's evidence names both addresses, as the batch report does: the
// second is the detectors' finding too.
func TestHomeSecondDataCentreLive(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	dc1 := place{"177.71.200.9", "BR", 16509, -23.5, -46.6}
	dc2 := place{"143.198.10.20", "BR", 14061, -23.5, -46.6}
	var recs []*record.Record
	for d := 0; d < 5; d++ {
		for h := 0; h < 3; h++ {
			recs = append(recs, loginAt("bob@x.test", home, t0.Add(time.Duration(d)*24*time.Hour+time.Duration(h)*3*time.Hour)))
		}
	}
	attack := t0.Add(6 * 24 * time.Hour)
	gap := 30 * time.Hour
	for i := 0; i < 60; i++ {
		recs = append(recs, loginAt("bob@x.test", dc1, attack.Add(time.Duration(i)*time.Minute)))
	}
	for i := 0; i < 60; i++ {
		recs = append(recs, loginAt("bob@x.test", dc2, attack.Add(gap+time.Duration(i)*time.Minute)))
	}
	for _, r := range recs {
		r.FilteredBy = "country_ignore: BR"
	}
	ips := func(a *Account) []string {
		var out []string
		for _, ip := range a.IPs {
			out = append(out, ip.IP)
		}
		slices.Sort(out)
		return out
	}
	want := []string{dc2.ip, dc1.ip}

	rep := New(Rule{})
	for _, r := range recs {
		r := *r
		if err := rep.Process(&r, nil); err != nil {
			t.Fatal(err)
		}
	}
	got := rep.Anomalies()
	if len(got) != 1 || !slices.Equal(ips(got[0]), want) || got[0].Severity != "medium" || len(got[0].Reasons) < 2 {
		for _, a := range got {
			t.Logf("%s %v %+v", a.Severity, ips(a), a.Reasons)
		}
		t.Fatalf("batch: %d accounts, want bob with %v", len(got), want)
	}

	l := NewLive(Rule{})
	alerts := 0
	l.OnAlert = func(a *Account) error { alerts++; return nil }
	for _, r := range recs {
		r := *r
		if err := l.Process(&r, func(*record.Record) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if alerts != 1 {
		t.Errorf("live alerts: %d, want 1", alerts)
	}
	l.Tick(time.Time{})
	// the incident's evidence, over the detector's periods (a snapshot
	// each)
	var shown []string
	for _, a := range l.Changed() {
		for _, ip := range ips(a) {
			if a.User == "bob@x.test" && !slices.Contains(shown, ip) {
				shown = append(shown, ip)
			}
		}
	}
	slices.Sort(shown)
	if !slices.Equal(shown, want) {
		t.Errorf("live: the state's evidence shows %v, want %v (as the batch)", shown, want)
	}
}

// TestHomeDataCentreThresholds: the thresholds (min_ips …) count the
// addresses the report shows, those of the home country the detectors
// found included, in a batch as live: a data centre's burst in the home
// country, on an account seen from whitelisted addresses only (min_ips =
// 1), or with one address abroad besides (min_ips = 2), is reported by
// both.
func TestHomeDataCentreThresholds(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	dc := place{"177.71.200.9", "BR", 16509, -23.5, -46.6}
	attack := t0.Add(6 * 24 * time.Hour)
	records := func(abroad bool) []*record.Record {
		var recs []*record.Record
		for d := 0; d < 5; d++ {
			for h := 0; h < 3; h++ {
				r := loginAt("bob@x.test", home, t0.Add(time.Duration(d)*24*time.Hour+time.Duration(h)*3*time.Hour))
				r.FilteredBy = "country_ignore: BR"
				recs = append(recs, r)
			}
		}
		if abroad {
			recs = append(recs, loginAt("bob@x.test", thiefs[0], attack.Add(-2*time.Hour)))
		}
		for i := 0; i < 60; i++ {
			r := loginAt("bob@x.test", dc, attack.Add(time.Duration(i)*time.Minute))
			r.FilteredBy = "country_ignore: BR"
			recs = append(recs, r)
		}
		return recs
	}
	for _, c := range []struct {
		name   string
		rule   Rule
		abroad bool
		ips    int
	}{
		{"min_ips 1, whitelisted only", Rule{MinIPs: 1}, false, 1},
		{"min_countries 1, whitelisted only", Rule{MinCountries: 1}, false, 1},
		{"min_ips 2, one address abroad", Rule{MinIPs: 2}, true, 2},
		{"min_asns 2, one address abroad", Rule{MinASNs: 2}, true, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			recs := records(c.abroad)
			l := NewLive(c.rule)
			var live []*Account
			l.OnAlert = func(a *Account) error { b := *a; live = append(live, &b); return nil }
			for _, r := range recs {
				r := *r
				if err := l.Process(&r, func(*record.Record) error { return nil }); err != nil {
					t.Fatal(err)
				}
			}
			rep := New(c.rule)
			for _, r := range recs {
				r := *r
				if err := rep.Process(&r, nil); err != nil {
					t.Fatal(err)
				}
			}
			batch := rep.Anomalies()
			for what, got := range map[string][]*Account{"live": live, "batch": batch} {
				if len(got) != 1 || len(got[0].IPs) != c.ips || !slices.ContainsFunc(got[0].IPs, func(ip *IP) bool { return ip.IP == dc.ip }) {
					var shown [][]*IP
					for _, a := range got {
						shown = append(shown, a.IPs)
					}
					t.Errorf("%s: %d accounts reported %v, want bob with %d addresses, the data centre's among them", what, len(got), shown, c.ips)
				}
			}
		})
	}
}
