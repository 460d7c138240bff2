package statecmd

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// sharingDown is a state whose SharingOf fails while down.
type sharingDown struct {
	state.Store
	down bool
}

func (s *sharingDown) SharingOf(ctx context.Context, users []string) (map[string]state.Sharing, error) {
	if s.down {
		return nil, errors.New("sharing is down")
	}
	return s.Store.SharingOf(ctx, users)
}

// An hourly run whose Recall could not read what the accounts' logins
// showed before (its verdict then on the history's rows alone) records
// none of its own: counted from none, they had the state take the run's
// day for counted, and the next run of the day counted it no more. The
// state held 1 day by road of 2.
func TestSharingRecallFailed(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	pair := func(a time.Time) []*record.Record {
		return []*record.Record{teamMunich(a), teamAugsburg(a.Add(5 * time.Minute))}
	}
	h := &sharingDown{}
	s := sqliteState(t, func(st state.Store) state.Store { h.Store = st; return h })
	run := func(rs []*record.Record) {
		rep := report.New(report.Rule{})
		for _, r := range rs {
			if err := rep.Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
		_ = s.Recall(ctx, rep) // (an error: the run goes on, as Remember's)
		if _, err := s.Commit(ctx, rep, true, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	run(teamDay(t0)) // (the rows, each address's first and last logins, show no two places in use at once)
	h.down = true
	run(teamDay(t0.Add(day)))
	h.down = false
	run(pair(t0.Add(day + 20*time.Hour)))
	got, err := s.Store.SharingOf(ctx, []string{team})
	if err != nil || got[team].NearDays != 2 {
		t.Errorf("the state holds %+v, %v; want 2 days by road", got[team], err)
	}
}
