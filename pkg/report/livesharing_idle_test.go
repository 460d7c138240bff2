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
	other := placeOf("bob@example.org", "91.0.0.1", "DE", "Berlin", 3320, 52.52, 13.405)
	var read []*record.Record
	for d := range 2 {
		a := t0.Add(time.Duration(d) * day)
		read = append(read, teamMunich(a.Add(7*time.Hour)), teamAugsburg(a.Add(10*time.Hour)), teamMunich(a.Add(10*time.Hour+10*time.Minute)),
			teamAugsburg(a.Add(10*time.Hour+20*time.Minute)), teamAugsburg(a.Add(12*time.Hour)), teamMunich(a.Add(18*time.Hour)))
	}
	// the weekend: another account's logins only (Tick forgets the idle)
	for h := 0; h < 48; h += 2 {
		read = append(read, other(t0.Add(2*day+time.Duration(h)*time.Hour)))
	}
	trip := t0.Add(4 * day)
	read = append(read, teamMunich(trip.Add(10*time.Hour)), teamLisbon(trip.Add(10*time.Hour+30*time.Minute)))

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
