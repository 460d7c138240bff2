package state

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// evidenceCounts is the open incident's evidence of u, count by address.
func evidenceCounts(t *testing.T, s Store, u string) map[string]int64 {
	t.Helper()
	alerts, err := s.Alerts(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, a := range alerts {
		if a.User == u && a.Closed.IsZero() {
			for _, e := range a.Evidence {
				out[e.IP] = e.Count
			}
		}
	}
	return out
}

// A sender that counts on from the same first login adds the logins it
// counted since, each once:
//
//   - an address of an open incident that a daemon forgot (older than its
//     window), used again: the daemon counts it anew from its new first
//     login, 1 then 2; the incident had 1 from before: 2 then 3 (the
//     larger count kept 2);
//   - an address given first as an earlier one (from the history: 1 login
//     at 10:00), then read by the daemon itself from 10:30: 1, then 2;
//     the evidence 2 then 3;
//   - the same count sent again (a commit retried, a log read again from
//     the same line) adds nothing; nor does a smaller one from another
//     first login (another process's, partly counted).
func TestEvidenceCountsOnFromItsFirst(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			s := open(t, b.dsn(t))
			step := func(now time.Duration, e ...Evidence) {
				t.Helper()
				commit(t, s, &Run{Now: at(now), Channels: []string{"mail"}, Anomalies: []Anomaly{anomaly("u", e...)}})
			}
			check := func(what string, want map[string]int64) {
				t.Helper()
				if got := evidenceCounts(t, s, "u"); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s: %v; want %v", what, got, want)
				}
			}
			// opened: A once at 10:00, B (an earlier address) once at 9:00
			step(11*time.Hour, ev("192.0.2.1", 1, 10*time.Hour, 10*time.Hour, "RU"), ev("198.51.100.7", 1, 9*time.Hour, 9*time.Hour, "RU"))
			check("opened", map[string]int64{"192.0.2.1": 1, "198.51.100.7": 1})

			// A forgotten, used again the next day
			step(day+12*time.Hour, ev("192.0.2.1", 1, day+11*time.Hour, day+11*time.Hour, "RU"))
			check("A used again", map[string]int64{"192.0.2.1": 2, "198.51.100.7": 1})
			step(day+13*time.Hour, ev("192.0.2.1", 2, day+11*time.Hour, day+12*time.Hour, "RU"))
			check("A used again, twice", map[string]int64{"192.0.2.1": 3, "198.51.100.7": 1})

			// B read by the daemon from 9:30
			step(day+14*time.Hour, ev("198.51.100.7", 1, 9*time.Hour+30*time.Minute, 9*time.Hour+30*time.Minute, "RU"))
			check("B read", map[string]int64{"192.0.2.1": 3, "198.51.100.7": 2})
			step(day+15*time.Hour, ev("198.51.100.7", 2, 9*time.Hour+30*time.Minute, 10*time.Hour, "RU"))
			check("B read again", map[string]int64{"192.0.2.1": 3, "198.51.100.7": 3})

			// the same counts again; a smaller one from another first login
			step(day+16*time.Hour, ev("192.0.2.1", 2, day+11*time.Hour, day+12*time.Hour, "RU"), ev("198.51.100.7", 2, 9*time.Hour+30*time.Minute, 10*time.Hour, "RU"))
			step(day+17*time.Hour, ev("192.0.2.1", 1, day+11*time.Hour+30*time.Minute, day+12*time.Hour, "RU"))
			check("sent again", map[string]int64{"192.0.2.1": 3, "198.51.100.7": 3})
			// and the sender it came from counts on
			step(day+18*time.Hour, ev("192.0.2.1", 3, day+11*time.Hour, day+17*time.Hour, "RU"))
			check("counted on", map[string]int64{"192.0.2.1": 4, "198.51.100.7": 3})
		})
	}
}

// Evidence written by schema 7, without the count last merged: the larger
// count stays, as it did, until a count after its last login is added;
// the sender of that one then counts on.
func TestEvidenceUpgradeFrom7(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.dsn(t)
			openAtSchema(t, dsn, 7).Close()
			from, to, err := Migrate(context.Background(), dsn)
			if err != nil || from != 7 || to != SchemaVersion() {
				t.Fatalf("Migrate = %d, %d, %v", from, to, err)
			}
			s := open(t, dsn)
			commit(t, s, &Run{Now: at(6 * time.Hour), Channels: []string{"mail"}, Anomalies: []Anomaly{anomaly("u", ev("192.0.2.1", 7, 0, 5*time.Hour, "RU"))}})
			// as schema 7 wrote it: the new columns' default
			if _, err := s.db.Exec(`UPDATE evidence SET sent_first = 0, sent_logins = 0`); err != nil {
				t.Fatal(err)
			}
			step := func(now time.Duration, e Evidence, want int64) {
				t.Helper()
				commit(t, s, &Run{Now: at(now), Channels: []string{"mail"}, Anomalies: []Anomaly{anomaly("u", e)}})
				if got := evidenceCounts(t, s, "u")["192.0.2.1"]; got != want {
					t.Errorf("after %v: %d; want %d", e, got, want)
				}
			}
			step(7*time.Hour, ev("192.0.2.1", 5, 0, 5*time.Hour, "RU"), 7)                        // the larger
			step(8*time.Hour, ev("192.0.2.1", 1, 7*time.Hour, 7*time.Hour, "RU"), 8)              // after: added
			step(9*time.Hour, ev("192.0.2.1", 3, 7*time.Hour, 8*time.Hour+time.Minute, "RU"), 10) // counted on
		})
	}
}
