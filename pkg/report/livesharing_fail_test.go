package report

import (
	"errors"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

// An account whose history came and whose sharing (what earlier logins
// showed of several people using it) did not is judged as one whose
// history did not: again with both once they come. Judged without the
// state's days, it counted its own from none, and what it recorded
// (TakeSharing) had the state take today for counted: the state's day
// before and today's were one day.
func TestLiveSharingReadFails(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	const team = "team@example.org"
	at := func(user, ip, city string, asn uint32, lat, lon float64) func(time.Time) *record.Record {
		return func(t time.Time) *record.Record {
			return &record.Record{Type: record.TypeLogin, Time: t, User: user, IP: ip, Country: "DE", City: city, ASN: asn, Org: "AS",
				HasLoc: true, Lat: lat, Lon: lon, AccuracyKM: 5}
		}
	}
	munich := at(team, "79.192.10.1", "Munich", 3320, 48.1374, 11.5755)
	augsburg := at(team, "188.174.20.2", "Augsburg", 8767, 48.3705, 10.8978)
	other := at("bob@example.org", "91.0.0.1", "Berlin", 3320, 52.52, 13.405)
	d1 := t0.Add(day)
	kept := detect.Sharing{NearDays: 1, NearDay: t0.Unix() / 86400, NearPair: "Augsburg, DE ↔ Munich, DE, 60 km in 10 min"}
	clock := d1.Add(12 * time.Hour)
	down := true
	l := NewLive(Rule{})
	l.Now = func() time.Time { return clock }
	l.History = func(string) ([]detect.Known, error) { return nil, nil }
	l.Sharing = func(user string) (detect.Sharing, error) {
		if down || user != team {
			return detect.Sharing{}, errors.New("down")
		}
		return kept, nil
	}
	l.OnError = func(error) {}
	for _, r := range []*record.Record{munich(d1.Add(10 * time.Hour)), augsburg(d1.Add(10*time.Hour + 5*time.Minute))} {
		if err := l.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if took := l.TakeSharing(); len(took) != 0 {
		t.Errorf("TakeSharing without the state's = %+v; want nothing yet", took)
	}
	down = false
	clock = clock.Add(2 * time.Second)
	if err := l.Process(other(d1.Add(11*time.Hour)), nil); err != nil {
		t.Fatal(err)
	}
	took := l.TakeSharing()
	if len(took) != 1 || took[0].User != team || took[0].Sharing.NearDays != 2 {
		t.Errorf("TakeSharing = %+v; want %s's 2 days by road", took, team)
	}
}
