package loganomcmd

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestFollowLearnsOtherServersLogins: two mail servers share a state. Ana
// sends from home (São Paulo) through mx1, whose daemon holds her account
// in memory since her login of yesterday evening. Her stolen password is
// used from Osaka through mx2 (recorded there by a batch run: a new
// country, nothing more on its own, her last login 21 hours before). Her
// next login at home, 20 minutes after the thief's, makes an impossible
// trip that only the two servers' logins together show: mx1's daemon,
// which has read the rows mx2 recorded since it loaded her history, alerts
// with it. Before, it judged her with what it had read at her first login.
func TestFollowLearnsOtherServersLogins(t *testing.T) {
	pollFast(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			s := newTwoServers(t, backend)
			lines, stderr := s.daemon("mx1", "--metrics", "127.0.0.1:0")
			st := s.store()
			ana := "ana@example.test"
			day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			var b strings.Builder
			b.WriteString(homeDays(ana, day, 5))
			evening := day.Add(4*24*time.Hour + 8*time.Hour) // 17:00 of the fifth day
			b.WriteString(liveLine(evening, ana, saoPaulo))
			s.append(s.log("mx1"), b.String())
			waitFor(t, "mx1's logins recorded", func() bool { return historyCount(t, st, ana) == 6 })

			// the thief, through mx2, 21 hours later
			thief := evening.Add(21 * time.Hour)
			s.append(s.log("mx2"), liveLine(thief, ana, osaka))
			if out := s.batch("mx2"); strings.Contains(out, `"severity"`) {
				t.Fatalf("mx2's run alerted on its own; the test needs a thief's login that is no alert alone:\n%s", out)
			}
			if n := historyCount(t, st, ana); n != 7 {
				t.Fatalf("after mx2's run the history counts %d logins of ana, 7 written", n)
			}

			// Ana at home, 20 minutes after the thief
			s.append(s.log("mx1"), liveLine(thief.Add(20*time.Minute), ana, saoPaulo))
			a := nextSharedAlert(t, lines, stderr)
			if a.User != ana || a.Severity != "high" || len(a.Reasons) == 0 || a.Reasons[0].Detector != "impossible_travel" {
				t.Fatalf("alert %+v", a)
			}
			if !strings.Contains(a.Reasons[0].Text, "Osaka") {
				t.Errorf("the trip does not name the thief's place: %s", a.Reasons[0].Text)
			}
			// the metrics count the login learnt from mx2
			m := regexp.MustCompile(`metrics on http://([^/ ]+)/metrics`).FindStringSubmatch(stderr.String())
			if m == nil {
				t.Fatalf("no metrics address\n%s", stderr)
			}
			waitFor(t, "loganom_other_logins_total 1", func() bool {
				resp, err := http.Get("http://" + m[1] + "/metrics")
				if err != nil {
					return false
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				return strings.Contains(string(body), "\nloganom_other_logins_total 1\n")
			})
			// her logins are recorded once each: mx2's row is not told again
			waitFor(t, "mx1's last login recorded", func() bool { return historyCount(t, st, ana) == 8 })
			time.Sleep(200 * time.Millisecond)
			if n := historyCount(t, st, ana); n != 8 {
				t.Errorf("history counts %d logins of ana, 8 written", n)
			}
		})
	}
}
