package statecmd

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
)

// A traveller's new country over two hourly runs: an hour on a hotel's
// network that a colleague had used for days, then hours on a phone
// network nobody uses, at less than five times the owner's pace. One
// run over the whole log says the burst is not strange (its first logins
// come from a familiar network); the hourly runs, with the first hour's
// logins in the history, say the same.
func TestHourlyBurstStrangeAsBatch(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	br := func(user, ip string, at time.Time) *record.Record {
		return &record.Record{Type: record.TypeLogin, Time: at, User: user, IP: ip, Country: "BR", City: "São Paulo", ASN: 26599, Org: "TELEFONICA BRASIL S.A",
			HasLoc: true, Lat: -23.5475, Lon: -46.6361, AccuracyKM: 20}
	}
	in := func(user, ip string, asn uint32, at time.Time) *record.Record {
		return &record.Record{Type: record.TypeLogin, Time: at, User: user, IP: ip, Country: "IN", City: "Mumbai", ASN: asn, Org: fmt.Sprint("AS", asn),
			HasLoc: true, Lat: 19.076, Lon: 72.8777, AccuracyKM: 20}
	}
	var before, hotel, phone []*record.Record
	for d := range 7 {
		at := t0.Add(time.Duration(d) * day)
		for u := range 100 {
			for _, h := range []time.Duration{0, 10 * time.Hour} {
				before = append(before, br(fmt.Sprintf("u%d@example.org", u), fmt.Sprintf("187.45.%d.%d", u, d), at.Add(h)))
			}
		}
		if d < 6 {
			for _, h := range []time.Duration{0, 10 * time.Hour} {
				before = append(before, in("u7@example.org", "103.21.1.7", 17488, at.Add(h)))
			}
		}
		for h := range 6 {
			before = append(before, br("traveller@example.org", "187.45.200.1", at.Add(time.Duration(h)*time.Hour)))
		}
	}
	for i := range 9 {
		hotel = append(hotel, in("traveller@example.org", "103.21.1.9", 17488, t0.Add(8*day+time.Duration(i)*5*time.Minute)))
		phone = append(phone, in("traveller@example.org", "117.200.3.4", 9829, t0.Add(8*day+2*time.Hour+time.Duration(i)*20*time.Minute)))
	}
	severity := func(rep *report.Report) string {
		for _, a := range rep.Anomalies() {
			if a.User == "traveller@example.org" {
				var rs []string
				for _, r := range a.Reasons {
					rs = append(rs, report.ReasonText(r))
				}
				return a.Severity + ": " + strings.Join(rs, "; ")
			}
		}
		return "none"
	}
	batch := report.New(report.Rule{})
	for _, r := range slices.Concat(before, hotel, phone) {
		if err := batch.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	want := severity(batch)

	s := sqliteState(t, nil)
	var got string
	for _, run := range [][]*record.Record{before, hotel, phone} {
		rep := report.New(report.Rule{})
		for _, r := range run {
			if err := rep.Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Recall(ctx, rep); err != nil {
			t.Fatal(err)
		}
		got = severity(rep)
		if _, err := s.Commit(ctx, rep, true, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got != want {
		t.Errorf("the hourly runs: %s\none run over the log: %s", got, want)
	}
}
