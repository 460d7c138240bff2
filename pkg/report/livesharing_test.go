package report

import (
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

// The live reader keeps what a team's mailbox's logins showed of two
// people using it at once (Munich and Augsburg, minutes apart, every
// morning) across the starts of its detector (one a day) and from the
// state (Sharing): then one of them abroad while the other is at home is
// weighed low, as one run over the week weighs it: no alert. Each start
// counted the days anew (the history's rows do not keep them), and the
// trip was high.
func TestLiveSharing(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	var week []*record.Record
	for d := range 5 {
		week = append(week, teamDay(t0.Add(time.Duration(d)*day))...)
	}
	trip := t0.Add(5 * day)
	last := []*record.Record{teamMunich(trip.Add(10 * time.Hour)), teamLisbon(trip.Add(10*time.Hour + 30*time.Minute))}
	// the week as the state holds it: a row per address, and what the
	// logins showed
	rows := func() []detect.Known {
		var ks []detect.Known
		for _, r := range []*record.Record{teamMunich(t0), teamAugsburg(t0)} {
			k := detect.Known{Where: detect.Where{IP: r.IP, Country: r.Country, City: r.City, ASN: r.ASN, Org: r.Org, HasLoc: true, Lat: r.Lat, Lon: r.Lon, AccuracyKM: r.AccuracyKM}, Count: 15}
			for _, w := range week {
				if w.IP == r.IP {
					if k.First.IsZero() || w.Time.Before(k.First) {
						k.First = w.Time
					}
					k.Last = maxTime(k.Last, w.Time)
				}
			}
			ks = append(ks, k)
		}
		return ks
	}
	kept := detect.Sharing{NearDays: 5, NearDay: trip.Add(-day).Unix() / 86400, NearPair: "Augsburg, DE ↔ Munich, DE, 60 km in 10 min"}
	for _, c := range []struct {
		name    string
		history []detect.Known
		sharing *detect.Sharing
		read    []*record.Record
		alert   bool
		days    int // what the logins showed, for the state: days (none: as it held)
	}{
		{"one reader for the week", nil, nil, append(week, last...), false, 5},
		{"started on the last day, the state keeping the days", rows(), &kept, last, false, 0},
		{"started on the last day, the state keeping none", rows(), nil, last, true, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := NewLive(Rule{})
			l.History = func(string) ([]detect.Known, error) { return c.history, nil }
			if c.sharing != nil {
				l.Sharing = func(user string) (detect.Sharing, error) { return *c.sharing, nil }
			}
			var alerts []string
			l.OnAlert = func(a *Account) error {
				for _, r := range a.Reasons {
					alerts = append(alerts, a.Severity+": "+ReasonText(r))
				}
				return nil
			}
			for _, r := range c.read {
				if err := l.Process(r, nil); err != nil {
					t.Fatal(err)
				}
			}
			if got := len(alerts) > 0; got != c.alert {
				t.Errorf("alerted %v, want %v: %q", got, c.alert, alerts)
			}
			// what the logins showed goes to the state once, and again
			// when its commit failed
			took := l.TakeSharing()
			if c.days == 0 {
				if len(took) != 0 {
					t.Errorf("TakeSharing = %+v; want nothing new", took)
				}
				return
			}
			if len(took) != 1 || took[0].User != team || took[0].Sharing.NearDays != c.days {
				t.Fatalf("TakeSharing = %+v; want %s's, of %d days", took, team, c.days)
			}
			if again := l.TakeSharing(); len(again) != 0 {
				t.Errorf("TakeSharing again = %+v; want nothing new", again)
			}
			l.PutBackSharing(took)
			if again := l.TakeSharing(); len(again) != 1 || again[0].Sharing != took[0].Sharing {
				t.Errorf("TakeSharing after PutBackSharing = %+v; want %+v", again, took)
			}
		})
	}
}
