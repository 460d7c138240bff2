package loganomcmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/state"
)

// TestFollowEarlierAddressReadAgainEvidence: mx1's daemon meets ana after
// her thief's login from Osaka through mx2 (recorded by mx2's batch run);
// her login at home makes the impossible trip, and the alert, and the
// incident's evidence, show Osaka as an earlier address (1 login). The
// thief then logs in twice from Osaka through mx1, each login recorded by
// a commit of its own: the incident's evidence counts 3 logins from Osaka,
// the one through mx2 and these two. The address, read by mx1 now, is no
// longer given as the history's row (1 login, from 10:00) but as mx1's
// logins (1, then 2, from 10:30): the second commit's 2 was taken for the
// logins already counted (its first not after the evidence's last), and
// the evidence stayed at 2.
func TestFollowEarlierAddressReadAgainEvidence(t *testing.T) {
	pollFast(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			s := newTwoServers(t, backend)
			st := s.store()
			ana := "ana@example.test"
			day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			var b strings.Builder
			b.WriteString(homeDays(ana, day, 5))
			evening := day.Add(4*24*time.Hour + 8*time.Hour)
			b.WriteString(liveLine(evening, ana, saoPaulo))
			thief := evening.Add(21 * time.Hour)
			b.WriteString(liveLine(thief, ana, osaka))
			s.append(s.log("mx2"), b.String())
			if out := s.batch("mx2"); strings.Contains(out, `"severity"`) {
				t.Fatalf("mx2's run alerted on its own:\n%s", out)
			}
			lines, stderr := s.daemon("mx1")

			// ana at home through mx1, 20 minutes after the thief
			s.append(s.log("mx1"), liveLine(thief.Add(20*time.Minute), ana, saoPaulo))
			a := nextSharedAlert(t, lines, stderr)
			if a.User != ana || a.Severity != "high" {
				t.Fatalf("alert %+v", a)
			}
			waitFor(t, "ana's login at home recorded", func() bool { return historyCount(t, st, ana) == 8 })
			if n := evidenceOf(t, st, ana, osaka); n != 1 {
				t.Fatalf("the incident's evidence counts %d logins from Osaka; want 1 (through mx2)", n)
			}
			// the thief through mx1, twice, each recorded on its own
			s.append(s.log("mx1"), liveLine(thief.Add(30*time.Minute), ana, osaka))
			waitFor(t, "the thief's first login through mx1 recorded", func() bool { return evidenceOf(t, st, ana, osaka) >= 2 })
			s.append(s.log("mx1"), liveLine(thief.Add(40*time.Minute), ana, osaka))
			waitFor(t, "the thief's second login through mx1 recorded", func() bool { return historyCount(t, st, ana) == 10 })
			// (the evidence with the same commit as the history)
			time.Sleep(200 * time.Millisecond)
			if n := evidenceOf(t, st, ana, osaka); n != 3 {
				t.Errorf("the incident's evidence counts %d logins from Osaka; want 3 (1 through mx2, 2 through mx1)", n)
			}
		})
	}
}

// TestFollowReusedAddressEvidence: a daemon alerts on ana (Osaka, then
// home 20 minutes later); the thief logs in from Osaka again 10 minutes
// later. Two days on, the incident still open, the daemon has forgotten
// Osaka (older than its window), and the thief uses it twice more, each
// login recorded on its own: the daemon counts it anew from its new first
// login (1, then 2), and the incident's evidence counts all 4. It counted
// 3: the second count was taken for logins already counted (its first
// not after the evidence's last), and the larger kept.
func TestFollowReusedAddressEvidence(t *testing.T) {
	pollFast(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			s := newTwoServers(t, backend)
			st := s.store()
			ana := "ana@example.test"
			day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			evening := day.Add(4*24*time.Hour + 8*time.Hour)
			lines, stderr := s.daemon("mx1")
			s.append(s.log("mx1"), homeDays(ana, day, 5)+liveLine(evening, ana, saoPaulo))
			waitFor(t, "ana's days at home recorded", func() bool { return historyCount(t, st, ana) == 6 })
			thief := evening.Add(21 * time.Hour)
			s.append(s.log("mx1"), liveLine(thief, ana, osaka)+liveLine(thief.Add(20*time.Minute), ana, saoPaulo))
			if a := nextSharedAlert(t, lines, stderr); a.User != ana || a.Severity != "high" {
				t.Fatalf("alert %+v", a)
			}
			s.append(s.log("mx1"), liveLine(thief.Add(30*time.Minute), ana, osaka))
			waitFor(t, "the thief's second login recorded", func() bool { return historyCount(t, st, ana) == 9 })
			waitFor(t, "its evidence", func() bool { return evidenceOf(t, st, ana, osaka) == 2 })

			later := thief.Add(48 * time.Hour)
			s.append(s.log("mx1"), liveLine(later, ana, saoPaulo)+liveLine(later.Add(10*time.Minute), ana, osaka))
			waitFor(t, "the thief's third login recorded", func() bool { return historyCount(t, st, ana) == 11 })
			waitFor(t, "its evidence", func() bool { return evidenceOf(t, st, ana, osaka) >= 3 })
			s.append(s.log("mx1"), liveLine(later.Add(20*time.Minute), ana, osaka))
			waitFor(t, "the thief's fourth login recorded", func() bool { return historyCount(t, st, ana) == 12 })
			// (the evidence with the same commit as the history)
			time.Sleep(200 * time.Millisecond)
			if n := evidenceOf(t, st, ana, osaka); n != 4 {
				t.Errorf("the incident's evidence counts %d logins from Osaka; want 4", n)
			}
		})
	}
}

// evidenceOf is the logins from ip that user's open incident counts.
func evidenceOf(t *testing.T, st state.Store, user, ip string) int64 {
	t.Helper()
	alerts, err := st.Alerts(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if a.User != user || !a.Closed.IsZero() {
			continue
		}
		for _, e := range a.Evidence {
			if e.IP == ip {
				return e.Count
			}
		}
	}
	return 0
}
