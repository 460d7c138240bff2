package statecmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
)

// A log read again (loganom-report --db records every run's history, and
// its sharing, whatever it read before): the days its logins showed two
// usual places in use at once are the same days, not twice as many. Before,
// the detector, given the state's days and last day counted (KnowSharing),
// counted each pair of an earlier day as a day more: the state held 4
// days by road after a two-day log was read twice, 6 after three times,
// and a team's mailbox that one run found not shared ([DETECT]
// shared_days = 2: three days by road) was found shared, its trip not
// alerted.
func TestSharingLogReadAgain(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	var log []*record.Record // two days of the two towns in use at once
	for d := range 2 {
		log = append(log, teamDay(t0.Add(time.Duration(d)*day))...)
	}
	last := teamTrip(t0.Add(2 * day))
	rule := report.Rule{Detect: detect.Config{SharedDays: 2}}
	feed := func(rep *report.Report, rs []*record.Record) {
		for _, r := range rs {
			if err := rep.Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	batch := report.New(rule)
	feed(batch, log)
	feed(batch, last)
	want := verdictOf(batch, team)
	if want == "none" {
		t.Fatalf("one run over the log and the trip: no alert; want one (two days by road: not shared)")
	}
	s := sqliteState(t, nil)
	run := func(rs []*record.Record) string {
		rep := report.New(rule)
		feed(rep, rs)
		if err := s.Recall(ctx, rep); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commit(ctx, rep, true, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		return verdictOf(rep, team)
	}
	for i := range 3 {
		run(log)
		got, err := s.Store.SharingOf(ctx, []string{team})
		if err != nil || got[team].NearDays != 2 {
			t.Errorf("the log read %d times: the state holds %+v, %v; want 2 days by road", i+1, got[team], err)
		}
	}
	// (the severity: the reason names the history, one run the logs)
	if got := run(last); strings.SplitN(got, ":", 2)[0] != strings.SplitN(want, ":", 2)[0] {
		t.Errorf("the trip, after the log read three times: %s; want %s, as one run", got, want)
	}
}
