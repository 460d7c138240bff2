package statecmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
)

// The sharing tests' mailbox: two people on one account, in Munich and in
// Augsburg (55 km apart), in use at once every morning; then one of them
// in Lisbon.
const team = "team@example.org"

// placeOf makes user's logins from one address, located precisely.
func placeOf(user, ip, cc, city string, asn uint32, lat, lon float64) func(time.Time) *record.Record {
	return func(t time.Time) *record.Record {
		return &record.Record{Type: record.TypeLogin, Time: t, User: user, IP: ip, Country: cc, City: city, ASN: asn, Org: "AS",
			HasLoc: true, Lat: lat, Lon: lon, AccuracyKM: 5}
	}
}

var (
	teamMunich   = placeOf(team, "79.192.10.1", "DE", "Munich", 3320, 48.1374, 11.5755)
	teamAugsburg = placeOf(team, "188.174.20.2", "DE", "Augsburg", 8767, 48.3705, 10.8978)
	teamLisbon   = placeOf(team, "85.240.1.3", "PT", "Lisbon", 3243, 38.7223, -9.1393)
)

// teamDay is the team's logins of the day that starts at a: Munich and
// Augsburg minutes apart mid-morning (in use at once), each address's
// first and last logins hours apart from the other's (the history's rows,
// which keep those, show no two places in use at once).
func teamDay(a time.Time) []*record.Record {
	return []*record.Record{teamMunich(a.Add(7 * time.Hour)), teamAugsburg(a.Add(10 * time.Hour)), teamMunich(a.Add(10*time.Hour + 10*time.Minute)),
		teamAugsburg(a.Add(10*time.Hour + 20*time.Minute)), teamAugsburg(a.Add(12 * time.Hour)), teamMunich(a.Add(18 * time.Hour))}
}

// teamTrip is the day that starts at a: Munich at 10:00, Lisbon half an
// hour later (1,960 km: one of the two abroad, the other at home).
func teamTrip(a time.Time) []*record.Record {
	return []*record.Record{teamMunich(a.Add(10 * time.Hour)), teamLisbon(a.Add(10*time.Hour + 30*time.Minute))}
}

// verdictOf is the report's verdict on user, in words; "none" when it is
// not reported.
func verdictOf(rep *report.Report, user string) string {
	for _, a := range rep.Anomalies() {
		if a.User == user {
			var rs []string
			for _, r := range a.Reasons {
				rs = append(rs, report.ReasonText(r))
			}
			return a.Severity + ": " + strings.Join(rs, "; ")
		}
	}
	return "none"
}

// feedLive has the live reader l read rs.
func feedLive(t *testing.T, l *report.Live, rs ...*record.Record) {
	t.Helper()
	for _, r := range rs {
		if err := l.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// commitLive records in s what the live reader l read since its last
// commit, as the daemon's commit does.
func commitLive(t *testing.T, s *State, l *report.Live) {
	t.Helper()
	if _, _, err := s.CommitLive(context.Background(), &Live{Deltas: l.TakeDeltas(), Sharing: l.TakeSharing(), Failures: l.TakeFailures(), Anomalies: l.Changed(), Rule: l.Rule.String()}); err != nil {
		t.Fatal(err)
	}
}
