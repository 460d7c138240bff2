package detect

import (
	"testing"
	"time"
)

// A home line's IPv6 /64 (located to its region only: held, see
// pinUsual), a privacy address each time, used on the first day and the
// fifth, the office (located precisely) on every other; eleven days on,
// a new address of the /64 at 13:05 and Hanoi at 13:35. One run over the
// log still holds the /64 since the first day (no other address of a
// usual place located vaguely was used meanwhile, nothing made it
// forget it) and judges the trip; so do hourly runs, whose history's
// rows of the /64 ended more than two windows before the account's last
// login (the office's): held from 13:05 only, it was no line, and the
// thief's login went unjudged (genlog seed 432, paul.becker).
func TestHeldFromHistoryAsOneRun(t *testing.T) {
	v6 := func(host string) Where {
		return Where{IP: "2804:14c:8a:1f00::" + host, Country: "BR", City: "São Paulo", ASN: 28573, Org: "Claro NXT", HasLoc: true, Lat: -23.5, Lon: -46.6, AccuracyKM: 200}
	}
	var evs []ev
	for d := range 11 {
		at := time.Duration(d) * day
		switch d {
		case 0:
			evs = append(evs, ev{w: v6("a"), at: at + 8*time.Hour})
		case 4:
			evs = append(evs, ev{w: v6("b"), at: at + 8*time.Hour})
		}
		evs = append(evs, ev{w: office, at: at + 10*time.Hour}, ev{w: office, at: at + 16*time.Hour})
	}
	evs = append(evs, ev{w: v6("c"), at: 11*day + 13*time.Hour + 5*time.Minute}, ev{w: hanoi, at: 11*day + 13*time.Hour + 35*time.Minute})
	want := []string{"São Paulo, BR → Hanoi, VN", "in use for 11 days, before"}
	checkVerdict(t, judge(Config{}, nil, evs), High, want)
	checkVerdict(t, judgeHourly(Config{}, evs), High, want)
}
