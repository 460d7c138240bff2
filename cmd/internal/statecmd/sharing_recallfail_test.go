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
	const team = "team@example.org"
	at := func(ip, cc, city string, asn uint32, lat, lon float64) func(time.Time) *record.Record {
		return func(t time.Time) *record.Record {
			return &record.Record{Type: record.TypeLogin, Time: t, User: team, IP: ip, Country: cc, City: city, ASN: asn, Org: "AS",
				HasLoc: true, Lat: lat, Lon: lon, AccuracyKM: 5}
		}
	}
	munich := at("79.192.10.1", "DE", "Munich", 3320, 48.1374, 11.5755)
	augsburg := at("188.174.20.2", "DE", "Augsburg", 8767, 48.3705, 10.8978)
	pair := func(a time.Time) []*record.Record {
		return []*record.Record{munich(a), augsburg(a.Add(5 * time.Minute))}
	}
	// the first day: the rows (each address's first and last logins)
	// show no two places in use at once
	morning := func(a time.Time) []*record.Record {
		return []*record.Record{munich(a.Add(7 * time.Hour)), augsburg(a.Add(10 * time.Hour)), munich(a.Add(10*time.Hour + 10*time.Minute)),
			augsburg(a.Add(10*time.Hour + 20*time.Minute)), augsburg(a.Add(12 * time.Hour)), munich(a.Add(18 * time.Hour))}
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
	run(morning(t0))
	h.down = true
	run(morning(t0.Add(day)))
	h.down = false
	run(pair(t0.Add(day + 20*time.Hour)))
	got, err := s.Store.SharingOf(ctx, []string{team})
	if err != nil || got[team].NearDays != 2 {
		t.Errorf("the state holds %+v, %v; want 2 days by road", got[team], err)
	}
}
