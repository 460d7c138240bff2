package report

import (
	"errors"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

// An account met while its history could not be read (a backlog read at
// speed while the state paused the reads) is judged again once it comes,
// by the next login read, another account's: what its logins showed of
// two people using it then grew, its logins being recorded already. The
// same login's Tick forgot it, idle for longer than the window, before
// a commit took what it showed (TakeSharing): lost, where its logins,
// unrecorded, keep an account (see Tick).
func TestLiveSharingNotForgotten(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	other := placeOf("bob@example.org", "91.0.0.1", "DE", "Berlin", 3320, 52.52, 13.405)
	clock := t0.Add(3 * 24 * time.Hour)
	down := true
	l := NewLive(Rule{})
	l.Now = func() time.Time { return clock }
	l.History = func(string) ([]detect.Known, error) {
		if down {
			return nil, errors.New("down")
		}
		return nil, nil
	}
	l.Sharing = func(string) (detect.Sharing, error) { return detect.Sharing{}, nil }
	l.OnError = func(error) {}
	for _, r := range []*record.Record{teamMunich(t0.Add(7 * time.Hour)), teamAugsburg(t0.Add(10 * time.Hour)), teamMunich(t0.Add(10*time.Hour + 10*time.Minute)),
		teamAugsburg(t0.Add(10*time.Hour + 20*time.Minute)), teamAugsburg(t0.Add(12 * time.Hour)), teamMunich(t0.Add(18 * time.Hour))} {
		if err := l.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	l.TakeDeltas() // recorded
	if took := l.TakeSharing(); len(took) != 0 {
		t.Fatalf("TakeSharing without the history = %+v; want nothing yet", took)
	}
	down = false
	clock = clock.Add(2 * time.Second)
	if err := l.Process(other(t0.Add(2*24*time.Hour)), nil); err != nil {
		t.Fatal(err)
	}
	took := l.TakeSharing()
	if len(took) != 1 || took[0].User != team || took[0].Sharing.NearDays != 1 {
		t.Errorf("TakeSharing = %+v; want %s's day by road", took, team)
	}
}
