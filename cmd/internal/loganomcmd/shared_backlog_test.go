package loganomcmd

import (
	"strings"
	"testing"
	"time"
)

// TestFollowBacklogLearnsOtherServersLogins: two mail servers share a
// state. mx1's daemon was down; restarted (--resume), it reads what its
// log gained meanwhile: Ana at home at noon, and again at 14:20. Her
// stolen password was used from Osaka at 14:00 through mx2, whose run
// recorded it while mx1's daemon was down: when the daemon meets Ana at
// noon, her history already holds the thief's row, first seen after.
// A batch run over mx1's log alerts the impossible trip (Report.Know);
// the daemon must too. Before, the row was left out of her history (seen
// after her first login) and counted as read (inState): no alert.
func TestFollowBacklogLearnsOtherServersLogins(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			s := newTwoServers(t, backend)
			ana := "ana@example.test"
			day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			// mx1: five days at home, recorded by a run (its daemon's
			// position, for --resume)
			var b strings.Builder
			b.WriteString(homeDays(ana, day, 5))
			s.append(s.log("mx1"), b.String())
			if out := s.batch("mx1"); strings.Contains(out, `"severity"`) {
				t.Fatalf("mx1's history alone alerted:\n%s", out)
			}
			// while mx1's daemon is down: the thief through mx2, at 14:00
			// of the sixth day; Ana through mx1 at noon and 14:20
			thief := day.Add(5*24*time.Hour + 5*time.Hour)
			s.append(s.log("mx2"), liveLine(thief, ana, osaka))
			if out := s.batch("mx2"); strings.Contains(out, `"severity"`) {
				t.Fatalf("mx2's run alerted on its own; the test needs a thief's login that is no alert alone:\n%s", out)
			}
			s.append(s.log("mx1"), liveLine(thief.Add(-2*time.Hour), ana, saoPaulo)+liveLine(thief.Add(20*time.Minute), ana, saoPaulo))

			lines, stderr := s.daemon("mx1")
			a := nextSharedAlert(t, lines, stderr)
			if a.User != ana || a.Severity != "high" || len(a.Reasons) == 0 || a.Reasons[0].Detector != "impossible_travel" {
				t.Fatalf("alert %+v", a)
			}
			// her logins are recorded once each, the thief's not again
			st := s.store()
			waitFor(t, "mx1's backlog recorded", func() bool { return historyCount(t, st, ana) == 8 })
		})
	}
}
