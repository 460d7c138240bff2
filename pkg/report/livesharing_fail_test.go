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
	other := placeOf("bob@example.org", "91.0.0.1", "DE", "Berlin", 3320, 52.52, 13.405)
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
	for _, r := range []*record.Record{teamMunich(d1.Add(10 * time.Hour)), teamAugsburg(d1.Add(10*time.Hour + 5*time.Minute))} {
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
