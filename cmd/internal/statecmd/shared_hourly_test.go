package statecmd

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
)

// A team's mailbox, used by two people in neighbouring towns at once (a
// few minutes apart, from Munich and Augsburg, every morning), then one
// of them abroad while the other is at home. One run over the week finds
// the account shared, and weighs the trip low: no alert. Runs of a day
// each (as hourly runs are) said high before the state kept what the
// logins showed: each run saw the two towns in use at once on its own day
// only, and the history's rows (each address's first and last logins, a
// morning apart from the other's) showed none of it.
func TestHourlySharedAsBatch(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	const team = "team@example.org"
	munich := func(at time.Time) *record.Record {
		return &record.Record{Type: record.TypeLogin, Time: at, User: team, IP: "79.192.10.1", Country: "DE", City: "Munich", ASN: 3320, Org: "Deutsche Telekom AG",
			HasLoc: true, Lat: 48.1374, Lon: 11.5755, AccuracyKM: 5}
	}
	augsburg := func(at time.Time) *record.Record {
		return &record.Record{Type: record.TypeLogin, Time: at, User: team, IP: "188.174.20.2", Country: "DE", City: "Augsburg", ASN: 8767, Org: "M-net Telekommunikations GmbH",
			HasLoc: true, Lat: 48.3705, Lon: 10.8978, AccuracyKM: 5}
	}
	lisbon := func(at time.Time) *record.Record {
		return &record.Record{Type: record.TypeLogin, Time: at, User: team, IP: "85.240.1.3", Country: "PT", City: "Lisbon", ASN: 3243, Org: "MEO",
			HasLoc: true, Lat: 38.7223, Lon: -9.1393, AccuracyKM: 5}
	}
	var days [][]*record.Record
	for d := range 5 {
		at := t0.Add(time.Duration(d) * day)
		// the first and last logins of each address hours apart from
		// the other's: the rows show no two places in use at once
		days = append(days, []*record.Record{munich(at.Add(7 * time.Hour)), augsburg(at.Add(10 * time.Hour)), munich(at.Add(10*time.Hour + 10*time.Minute)),
			augsburg(at.Add(10*time.Hour + 20*time.Minute)), augsburg(at.Add(12 * time.Hour)), munich(at.Add(18 * time.Hour))})
	}
	trip := t0.Add(5 * day)
	days = append(days, []*record.Record{munich(trip.Add(10 * time.Hour)), lisbon(trip.Add(10*time.Hour + 30*time.Minute))})
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
	batch := report.New(report.Rule{})
	for _, run := range days {
		for _, r := range run {
			if err := batch.Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if want := verdict(batch); want != "none" {
		t.Fatalf("one run over the week: %s; want no alert (the account is shared)", want)
	}
	s := sqliteState(t, nil)
	for i, run := range days {
		rep := report.New(report.Rule{})
		for _, r := range run {
			if err := rep.Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Recall(ctx, rep); err != nil {
			t.Fatal(err)
		}
		// (the commit judges the accounts, as a run does)
		if _, err := s.Commit(ctx, rep, true, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
		if got := verdict(rep); got != "none" {
			t.Errorf("the run of day %d: %s; want no alert, as one run over the week", i+1, got)
		}
	}
}

// The live reader records what the logins showed of several people using
// an account (report.Live.TakeSharing, CommitLive), and a reader started
// later (a restart of the daemon) reads it back (LiveSharing): the trip
// of one of the team's two people is weighed low, as one reader over the
// whole week weighs it.
func TestLiveSharingState(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	const team = "team@example.org"
	at := func(ip, cc, city string, asn uint32, lat, lon float64) func(time.Time) *record.Record {
		return func(t time.Time) *record.Record {
			return &record.Record{Type: record.TypeLogin, Time: t, User: team, IP: ip, Country: cc, City: city, ASN: asn, Org: fmt.Sprint("AS", asn),
				HasLoc: true, Lat: lat, Lon: lon, AccuracyKM: 5}
		}
	}
	munich := at("79.192.10.1", "DE", "Munich", 3320, 48.1374, 11.5755)
	augsburg := at("188.174.20.2", "DE", "Augsburg", 8767, 48.3705, 10.8978)
	lisbon := at("85.240.1.3", "PT", "Lisbon", 3243, 38.7223, -9.1393)
	var week []*record.Record
	for d := range 5 {
		a := t0.Add(time.Duration(d) * day)
		week = append(week, munich(a.Add(7*time.Hour)), augsburg(a.Add(10*time.Hour)), munich(a.Add(10*time.Hour+10*time.Minute)),
			augsburg(a.Add(10*time.Hour+20*time.Minute)), augsburg(a.Add(12*time.Hour)), munich(a.Add(18*time.Hour)))
	}
	trip := t0.Add(5 * day)
	last := []*record.Record{munich(trip.Add(10 * time.Hour)), lisbon(trip.Add(10*time.Hour + 30*time.Minute))}
	s := sqliteState(t, nil)
	reader := func(rs []*record.Record) (*report.Live, []string) {
		l := report.NewLive(report.Rule{})
		l.History, l.Sharing = s.LiveHistory(), s.LiveSharing()
		l.OnError = func(err error) { t.Error(err) }
		var alerts []string
		l.OnAlert = func(a *report.Account) error {
			alerts = append(alerts, a.Severity)
			return nil
		}
		for _, r := range rs {
			if err := l.Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.CommitLive(ctx, &Live{Deltas: l.TakeDeltas(), Sharing: l.TakeSharing(), Anomalies: l.Changed(), Rule: l.Rule.String()}); err != nil {
			t.Fatal(err)
		}
		return l, alerts
	}
	if _, alerts := reader(week); len(alerts) != 0 {
		t.Fatalf("the week alerted %v", alerts)
	}
	got, err := s.Store.SharingOf(ctx, []string{team})
	if err != nil || got[team].NearDays != 5 {
		t.Fatalf("the state holds %+v, %v; want 5 days by road", got, err)
	}
	if _, alerts := reader(last); len(alerts) != 0 {
		t.Errorf("a reader started on the last day alerted %v; want none, as one reader over the week", alerts)
	}
}
