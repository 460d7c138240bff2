package report

import (
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// A reader without a state keeps an idle account's places when it drops
// its detector (Tick), and what its logins showed of two people using
// it: a team's mailbox idle over a weekend, then one of them abroad while
// the other is at home, is weighed low, as one run over the days weighs
// it. Tick dropped the detector without carrying its days (restart
// carries them from a detector it still has): the trip alerted high.
func TestLiveSharingIdleNoState(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	const team = "team@example.org"
	at := func(user, ip, cc, city string, asn uint32, lat, lon float64) func(time.Time) *record.Record {
		return func(t time.Time) *record.Record {
			return &record.Record{Type: record.TypeLogin, Time: t, User: user, IP: ip, Country: cc, City: city, ASN: asn, Org: "AS",
				HasLoc: true, Lat: lat, Lon: lon, AccuracyKM: 5}
		}
	}
	munich := at(team, "79.192.10.1", "DE", "Munich", 3320, 48.1374, 11.5755)
	augsburg := at(team, "188.174.20.2", "DE", "Augsburg", 8767, 48.3705, 10.8978)
	lisbon := at(team, "85.240.1.3", "PT", "Lisbon", 3243, 38.7223, -9.1393)
	other := at("bob@example.org", "91.0.0.1", "DE", "Berlin", 3320, 52.52, 13.405)
	var read []*record.Record
	for d := range 2 {
		a := t0.Add(time.Duration(d) * day)
		read = append(read, munich(a.Add(7*time.Hour)), augsburg(a.Add(10*time.Hour)), munich(a.Add(10*time.Hour+10*time.Minute)),
			augsburg(a.Add(10*time.Hour+20*time.Minute)), augsburg(a.Add(12*time.Hour)), munich(a.Add(18*time.Hour)))
	}
	// the weekend: another account's logins only (Tick forgets the idle)
	for h := 0; h < 48; h += 2 {
		read = append(read, other(t0.Add(2*day+time.Duration(h)*time.Hour)))
	}
	trip := t0.Add(4 * day)
	read = append(read, munich(trip.Add(10*time.Hour)), lisbon(trip.Add(10*time.Hour+30*time.Minute)))

	batch := New(Rule{})
	for _, r := range read {
		if err := batch.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range batch.Anomalies() {
		if a.User == team {
			t.Fatalf("one run over the days: %s; want no alert", a.Severity)
		}
	}
	l := NewLive(Rule{})
	l.Now = func() time.Time { return trip.Add(11 * time.Hour) }
	var alerts []string
	l.OnAlert = func(a *Account) error {
		if a.User == team {
			alerts = append(alerts, a.Severity)
		}
		return nil
	}
	for _, r := range read {
		if err := l.Process(r, nil); err != nil {
			t.Fatal(err)
		}
		l.Tick(time.Time{})
	}
	if len(alerts) != 0 {
		t.Errorf("the live reader alerted %v; want none, as one run over the days", alerts)
	}
}
