package report

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

// The live reader's census counts the site's history too (Live.Site), as
// a batch run with a state does (KnowSite): after a restart, the
// colleagues who hold their line's addresses all day are not among the
// accounts of the window, and the range was no line: the trip from a
// seldom account's line (placed within 200 km) to Osaka 25 minutes later
// was not judged.
func TestLiveSiteCensus(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	line := func(user string, d, u int, at time.Time) *record.Record {
		return &record.Record{Type: record.TypeLogin, User: user, IP: fmt.Sprintf("189.100.%d.%d", d, u), Time: at, Country: "BR", City: "São Paulo",
			ASN: 28573, Org: "Claro NXT", HasLoc: true, Lat: -23.5475, Lon: -46.6361, AccuracyKM: 200}
	}
	// the colleagues' history: their lines from 8:00 to 18:00, a week ago
	colleagues := func(add func(string, *detect.Known)) error {
		for u := range 3 {
			for d := range 5 {
				r := line("", d, u, t0.Add(time.Duration(d-7)*24*time.Hour))
				k := detect.Known{Where: detect.Where{IP: r.IP, Country: r.Country, City: r.City, ASN: r.ASN, Org: r.Org, HasLoc: true, Lat: r.Lat, Lon: r.Lon, AccuracyKM: r.AccuracyKM},
					First: r.Time, Last: r.Time.Add(10 * time.Hour), Count: 2}
				add(fmt.Sprintf("colleague%d@x.test", u), &k)
			}
		}
		return nil
	}
	for _, c := range []struct {
		name string
		site func(func(string, *detect.Known)) error
		high bool
	}{
		{"with the site's history", colleagues, true},
		{"without", nil, false},
		{"the state failed, then answered", func() func(func(string, *detect.Known)) error {
			n := 0
			return func(add func(string, *detect.Known)) error {
				if n++; n == 1 {
					return errors.New("connection refused")
				}
				return colleagues(add)
			}
		}(), true}, // (asked again 5 minutes later)
	} {
		t.Run(c.name, func(t *testing.T) {
			l := NewLive(Rule{})
			clock := time.Date(2026, 11, 30, 5, 0, 0, 0, time.UTC)
			l.Now = func() time.Time { return clock }
			l.History = func(string) ([]detect.Known, error) { return nil, nil }
			l.Site = c.site
			var errs []error
			l.OnError = func(err error) { errs = append(errs, err) }
			var alerts []string
			l.OnAlert = func(a *Account) error {
				for _, r := range a.Reasons {
					alerts = append(alerts, a.Severity+": "+ReasonText(r))
				}
				return nil
			}
			for d := range 5 {
				if err := l.Process(line("bob@x.test", d, 50, t0.Add(time.Duration(d)*24*time.Hour)), nil); err != nil {
					t.Fatal(err)
				}
				l.Tick(time.Time{})
				clock = clock.Add(6 * time.Minute)
			}
			theft := t0.Add(5 * 24 * time.Hour)
			osaka := &record.Record{Type: record.TypeLogin, User: "bob@x.test", IP: "133.242.1.1", Time: theft.Add(25 * time.Minute), Country: "JP", City: "Osaka",
				ASN: 7684, Org: "SAKURA Internet Inc.", HasLoc: true, Lat: 34.6937, Lon: 135.5023, AccuracyKM: 50}
			for _, r := range []*record.Record{line("bob@x.test", 5, 50, theft), osaka} {
				if err := l.Process(r, nil); err != nil {
					t.Fatal(err)
				}
			}
			got := strings.Join(alerts, "\n")
			found := strings.Contains(got, "high: impossible travel (high): São Paulo, BR → Osaka, JP") && strings.Contains(got, "is on a line of AS28573 Claro NXT")
			if found != c.high {
				t.Errorf("found %v, want %v: %q", found, c.high, alerts)
			}
			if c.site != nil && c.name != "with the site's history" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), "connection refused")) {
				t.Errorf("errors: %v", errs)
			}
		})
	}
}
