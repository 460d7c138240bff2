package detect

import (
	"strings"
	"testing"
	"time"
)

// A first day that happened to be quiet (2 logins) says little of the
// account's pace: the next day's 13 logins from a hotel abroad are a
// traveller catching up, not 5 times the pace (seed 487 of
// scripts/bench-detect: heike.maier, "13 logins within 10 h 52 min
// (usually 2.0 in 24 h; 1 day in the logs read)"). A thief sending more
// than 5 times the pace of 3 logins is still found, and an account whose
// history holds 3 logins or more is judged by its own pace.
func TestBurstQuietFirstDay(t *testing.T) {
	rotterdam := Where{IP: "77.164.4.22", Country: "NL", City: "Rotterdam", ASN: 1136, Org: "KPN B.V.", HasLoc: true, Lat: 51.9244, Lon: 4.4777, AccuracyKM: 20}
	abroad := func(first []time.Duration, n int) []ev {
		var evs []ev
		for _, at := range first {
			evs = append(evs, ev{w: saoPaulo, at: at})
		}
		for i := range n {
			evs = append(evs, ev{w: rotterdam, at: 24*time.Hour + time.Duration(i)*45*time.Minute})
		}
		return evs
	}
	burst := "new country NL, Rotterdam:"
	for _, c := range []struct {
		name  string
		first []time.Duration // the home logins of the first day
		n     int             // then logins from Rotterdam, 45 min apart
		sev   Severity
	}{
		{"2 logins, then 13: a traveller", []time.Duration{0, 2 * time.Hour}, 13, Low},
		{"2 logins, then 16: more than 5 times 3", []time.Duration{0, 2 * time.Hour}, 16, Medium},
		{"no login before, then 13", nil, 13, Low},
		{"3 logins, then 13: its own pace", []time.Duration{0, time.Hour, 2 * time.Hour}, 13, Low},
		{"3 logins, then 16", []time.Duration{0, time.Hour, 2 * time.Hour}, 16, Medium},
	} {
		t.Run(c.name, func(t *testing.T) {
			// (no login before: the first day is learned from Rotterdam's)
			evs := abroad(c.first, c.n)
			v := judge(Config{}, nil, evs)
			found := strings.Contains(v.String(), burst)
			if c.first == nil {
				found = v.Severity >= Medium
			}
			if found != (c.sev == Medium) {
				t.Errorf("%s; want %s", v, c.sev)
			}
		})
	}
}
