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
