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
	const team = "team@example.org"
	at := func(ip, cc, city string, asn uint32, lat, lon float64) func(time.Time) *record.Record {
		return func(t time.Time) *record.Record {
			return &record.Record{Type: record.TypeLogin, Time: t, User: team, IP: ip, Country: cc, City: city, ASN: asn, Org: "AS",
				HasLoc: true, Lat: lat, Lon: lon, AccuracyKM: 5}
		}
	}
	munich := at("79.192.10.1", "DE", "Munich", 3320, 48.1374, 11.5755)
	augsburg := at("188.174.20.2", "DE", "Augsburg", 8767, 48.3705, 10.8978)
	lisbon := at("85.240.1.3", "PT", "Lisbon", 3243, 38.7223, -9.1393)
	var log []*record.Record // two days of the two towns in use at once
	for d := range 2 {
		a := t0.Add(time.Duration(d) * day)
		log = append(log, munich(a.Add(7*time.Hour)), augsburg(a.Add(10*time.Hour)), munich(a.Add(10*time.Hour+10*time.Minute)),
			augsburg(a.Add(10*time.Hour+20*time.Minute)), augsburg(a.Add(12*time.Hour)), munich(a.Add(18*time.Hour)))
	}
	trip := t0.Add(2 * day)
	last := []*record.Record{munich(trip.Add(10 * time.Hour)), lisbon(trip.Add(10*time.Hour + 30*time.Minute))}
	rule := report.Rule{Detect: detect.Config{SharedDays: 2}}
	verdict := func(rep *report.Report) string {
		for _, a := range rep.Anomalies() {
			if a.User == team {
				var rs []string
				for _, r := range a.Reasons {
					rs = append(rs, report.ReasonText(r))
				}
				return a.Severity + ": " + strings.Join(rs, "; ")
			}
		}
		return "none"
	}
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
	want := verdict(batch)
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
		return verdict(rep)
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
