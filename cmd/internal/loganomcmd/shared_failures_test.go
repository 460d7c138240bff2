package loganomcmd

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/report"
)

// failLine is a Postfix line of a failed login from ip.
func failLine(at time.Time, ip string) string {
	return fmt.Sprintf("%s mail postfix/submission/smtpd[4243]: warning: unknown[%s]: SASL LOGIN authentication failed: authentication failure\n",
		at.Format(time.Stamp), ip)
}

// TestFollowLearnsOtherServersFailures: two mail servers share a state.
// Ana logs in from home (São Paulo) through mx1, whose daemon has been
// following its log since before anything below. A bot guesses passwords
// from Osaka on mx2 (5 failed logins, recorded by mx2's run), then logs in
// as Ana from there through mx1, two hours later: failures, then success
// from a new country, which only the two servers' logs together show.
// mx1's daemon asks the state for the other servers' failed logins as it
// goes; before, it knew only those of the window before its first line,
// and saw a new country alone (no alert).
func TestFollowLearnsOtherServersFailures(t *testing.T) {
	pollFast(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			s := newTwoServers(t, backend)
			lines, stderr := s.daemon("mx1")
			st := s.store()
			ana := "ana@example.test"
			day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			s.append(s.log("mx1"), homeDays(ana, day, 5))
			waitFor(t, "mx1's logins recorded", func() bool { return historyCount(t, st, ana) == 5 })

			// the bot, on mx2: 5 failures a minute apart, the evening
			// after Ana's fifth day at home
			guess := day.Add(5*24*time.Hour + 12*time.Hour)
			var b strings.Builder
			for i := range 5 {
				b.WriteString(failLine(guess.Add(time.Duration(i)*time.Minute), osaka))
			}
			s.append(s.log("mx2"), b.String())
			if out := s.batch("mx2"); strings.Contains(out, `"severity"`) {
				t.Fatalf("mx2's run alerted:\n%s", out)
			}
			fs, err := st.Failures(context.Background(), guess.Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 1 || fs[0].Instance != "mx2" || fs[0].Count != 5 {
				t.Fatalf("the state holds %+v, want mx2's run of 5 failures", fs)
			}

			// the bot's login as Ana through mx1, two hours later (and
			// after the daemon may ask again: RecentEvery)
			time.Sleep(2 * report.RecentEvery)
			s.append(s.log("mx1"), liveLine(guess.Add(2*time.Hour), ana, osaka))
			a := nextSharedAlert(t, lines, stderr)
			if a.User != ana || a.Severity != "high" {
				t.Fatalf("alert %+v, want ana's, high", a)
			}
			var said string
			for _, r := range a.Reasons {
				if r.Detector == "failures_then_success" {
					said = r.Text
				}
			}
			if !strings.HasPrefix(said, "5 failed logins from "+osaka) {
				t.Errorf("reasons %+v: want mx2's 5 failed logins from %s, then the login", a.Reasons, osaka)
			}
		})
	}
}
