package statecmd

import (
	"context"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
)

// Two mail servers share one state. bob logs in at home (Munich) every
// day; on the last day at 20:00 at home through mx1, and at 20:20 from
// Buenos Aires through mx2: an impossible trip, which one run over both
// servers' logins finds. mx2's hourly run recorded its login first (the
// runs take turns, in either order), then mx1's run judged the 20:00
// login with a history holding a later one.
func TestSharedLaterLoginOfAnotherServer(t *testing.T) {
	ctx := context.Background()
	const bob = "bob@example.org"
	home := placeOf(bob, "79.192.10.1", "DE", "Munich", 3320, 48.1374, 11.5755)
	far := placeOf(bob, "181.0.150.84", "AR", "Buenos Aires", 7303, -34.6037, -58.3816)
	t0 := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	var before []*record.Record
	for d := range 3 {
		day := t0.Add(time.Duration(d) * 24 * time.Hour)
		before = append(before, home(day.Add(8*time.Hour)), home(day.Add(18*time.Hour)))
	}
	last := t0.Add(3*24*time.Hour + 20*time.Hour)
	mx1, mx2 := []*record.Record{home(last)}, []*record.Record{far(last.Add(20 * time.Minute))}

	batch := report.New(report.Rule{})
	for _, r := range append(append(append([]*record.Record{}, before...), mx1...), mx2...) {
		batch.Process(r, nil)
	}
	if got := verdictOf(batch, bob); got == "none" {
		t.Fatalf("one run over both servers' logins: no alert")
	}
	for _, order := range [][]string{{"mx1", "mx2"}, {"mx2", "mx1"}} {
		s := sqliteState(t, nil)
		run := func(instance string, rs []*record.Record) string {
			s.Instance = instance
			rep := report.New(report.Rule{})
			for _, r := range rs {
				rep.Process(r, nil)
			}
			if err := s.Recall(ctx, rep); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Commit(ctx, rep, true, nil, nil, nil); err != nil {
				t.Fatal(err)
			}
			return verdictOf(rep, bob)
		}
		run("mx1", before)
		logins := map[string][]*record.Record{"mx1": mx1, "mx2": mx2}
		got := []string{run(order[0], logins[order[0]]), run(order[1], logins[order[1]])}
		if got[0] == "none" && got[1] == "none" {
			t.Errorf("%s's run, then %s's: no alert (one run over both: %s)", order[0], order[1], verdictOf(batch, bob))
		}
	}
}
