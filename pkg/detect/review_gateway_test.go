package detect

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// judgeHourly judges evs as hourly runs do: each hour's logins by an
// account made anew from the history of the hours before (a row per
// address, from its first login to its last, as the state keeps it),
// knowing what the hours before showed of several people sharing it
// (KnowSharing, as the report gives it from the state). It returns the findings of all the runs, the most severe first.
func judgeHourly(cfg Config, evs []ev) Verdict {
	return judgeHourlyCommon(cfg, Common{}, evs)
}

// A traveller's phone, roaming home-routed, gets another address of its
// gateway's range in one hourly run, then, in the next, the one it had
// used at home the day before: that one gave way (held.gaveWay), as in
// one run over the whole log, and is held from its use now, not from
// yesterday's; else it is "in use for 1 day", a line, and the hotel's
// login next to it an impossible trip.
func TestGatewayGaveWayBeforeThisRun(t *testing.T) {
	gate := func(i int) Where { // located to Brazil only
		return Where{IP: fmt.Sprintf("177.79.%d.1", i), Country: "BR", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -22.8305, Lon: -43.2192, AccuracyKM: 1000}
	}
	var evs []ev
	for d := range 5 {
		at := time.Duration(d) * day
		phone := gate(2) // the phone at noon, on the day before on another address
		if d == 4 {
			phone = gate(0)
		}
		evs = append(evs, ev{w: office, at: at}, ev{w: phone, at: at + 4*time.Hour}, ev{w: office, at: at + 10*time.Hour})
	}
	abroad := 5*day + 10*time.Hour
	evs = append(evs,
		ev{w: gate(1), at: abroad},                     // the phone, home-routed, attached anew
		ev{w: osaka, at: abroad + 30*time.Minute},      // the laptop on the hotel's line
		ev{w: gate(0), at: abroad + time.Hour},         // the phone, on yesterday's address again
		ev{w: osaka, at: abroad + 90*time.Minute},      // the laptop
		ev{w: gate(0), at: abroad + 2*time.Hour},       // the phone
		ev{w: osaka, at: abroad + 150*time.Minute + 1}, // the laptop
	)
	checkVerdict(t, judge(Config{}, nil, evs), Low, []string{"new country JP, Osaka"})
	checkVerdict(t, judgeHourly(Config{}, evs), Low, []string{"new country JP, Osaka"})
}

// A home line located to its region only, its address the same for
// days, and the office on the same provider's range, located precisely:
// the office's logins do not make the line give way in one run (pinUsual
// sees the usual places located vaguely only), so they do not from the
// history either; the line is held since the morning, and a login from
// Hanoi next to it is an impossible trip, in hourly runs as in one.
func TestLineKeptNextToPreciseOfItsRange(t *testing.T) {
	officeSP := Where{IP: "187.9.1.1", Country: "BR", City: "São Paulo", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -23.55, Lon: -46.63, AccuracyKM: 20}
	var evs []ev
	for d := range 5 { // the line at 8:00 and 20:00, the office at 10:00 and 16:00
		at := time.Duration(d) * day
		evs = append(evs, ev{w: homeLine, at: at}, ev{w: officeSP, at: at + 2*time.Hour}, ev{w: officeSP, at: at + 8*time.Hour}, ev{w: homeLine, at: at + 12*time.Hour})
	}
	// a Saturday at home: the line every hour, Hanoi at 12:20
	for h := range 5 {
		evs = append(evs, ev{w: homeLine, at: 5*day + time.Duration(h)*time.Hour})
	}
	evs = append(evs, ev{w: hanoi, at: 5*day + 4*time.Hour + 20*time.Minute}, ev{w: homeLine, at: 5*day + 4*time.Hour + 50*time.Minute},
		ev{w: homeLine, at: 5*day + 5*time.Hour + 50*time.Minute})
	want := []string{"São Paulo, BR → Hanoi, VN", "new country VN, Hanoi"}
	checkVerdict(t, judge(Config{}, nil, evs), High, want)
	checkVerdict(t, judgeHourly(Config{}, evs), High, want)
}

// An address held anew after it gave way (held.gaveWay) starts a new
// hold: the new countries and the trips kept during the one before are
// not its. A traveller's phone, roaming home-routed, is on one of its
// gateway's addresses in Osaka, then on another in Seoul: no address was
// held across the two countries, no trip is judged (not "Seoul, KR → BR,
// in 1 h"); and back home a week later, one of them held for 3 h 30 min
// with no far login near it is no line whose trip from Osaka, days
// before, is impossible ("in use for 3 h 30 min, after"). One run says
// so as hourly runs do.
func TestGatewayHeldAnewForgets(t *testing.T) {
	gate := func(i int) Where { // located to Brazil only
		return Where{IP: fmt.Sprintf("177.79.%d.1", i), Country: "BR", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -22.8305, Lon: -43.2192, AccuracyKM: 1000}
	}
	seoul := Where{IP: "211.234.1.1", Country: "KR", City: "Seoul", ASN: 9644, Org: "SK Telecom", HasLoc: true, Lat: 37.5665, Lon: 126.978, AccuracyKM: 50}
	var home []ev // the office at 8:00 and 18:00, the phone at noon on one of 3 addresses in turn
	for d := range 6 {
		at := time.Duration(d) * day
		home = append(home, ev{w: office, at: at}, ev{w: gate(d % 3), at: at + 4*time.Hour}, ev{w: office, at: at + 10*time.Hour})
	}
	// the office, a flight, the laptop at the hotel in Osaka, the phone
	japan := []ev{{w: office, at: 6 * day}, {w: osaka, at: 6*day + 20*time.Hour}, {w: gate(0), at: 6*day + 21*time.Hour}}
	t.Run("two countries, a gateway's address in each", func(t *testing.T) {
		evs := slices.Concat(home, japan, []ev{{w: seoul, at: 9 * day}, {w: gate(1), at: 9*day + time.Hour}})
		checkVerdict(t, judge(Config{}, nil, evs), Low, []string{"new country JP, Osaka", "new country KR, Seoul"})
		checkVerdict(t, judgeHourly(Config{}, evs), Low, []string{"new country JP, Osaka", "new country KR, Seoul"})
	})
	t.Run("back home, the address of Osaka held for hours", func(t *testing.T) {
		var back []ev
		for d := 12; d < 14; d++ {
			at := time.Duration(d) * day
			back = append(back, ev{w: office, at: at}, ev{w: gate(d%2 + 1), at: at + 4*time.Hour}, ev{w: office, at: at + 10*time.Hour})
		}
		evs := slices.Concat(home, japan, back, []ev{{w: gate(0), at: 14*day + 4*time.Hour}, {w: gate(0), at: 14*day + 7*time.Hour + 30*time.Minute}})
		checkVerdict(t, judge(Config{}, nil, evs), Low, []string{"new country JP, Osaka"})
		checkVerdict(t, judgeHourly(Config{}, evs), Low, []string{"new country JP, Osaka"})
	})
}

// A home line that keeps its address for days, once a friend's line of
// the same provider's range was used: one run holds it anew at its next
// use, and it is a line again by the far login days later; hourly runs,
// from its history's row (which spans both), held it from its last use
// only, in every run, and the login from Hanoi next to it was low.
func TestStableLineAfterFriendHourly(t *testing.T) {
	friend := Where{IP: "187.9.1.1", Country: "BR", City: "São Paulo", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -23.5475, Lon: -46.6361, AccuracyKM: 200}
	var evs []ev
	for d := range 5 {
		at := time.Duration(d) * day
		evs = append(evs, ev{w: homeLine, at: at}, ev{w: homeLine, at: at + 12*time.Hour})
		if d == 2 {
			evs = append(evs, ev{w: friend, at: at + 14*time.Hour})
		}
	}
	for h := range 5 {
		evs = append(evs, ev{w: homeLine, at: 5*day + time.Duration(h)*time.Hour})
	}
	evs = append(evs, ev{w: hanoi, at: 5*day + 4*time.Hour + 20*time.Minute}, ev{w: homeLine, at: 5*day + 4*time.Hour + 50*time.Minute},
		ev{w: homeLine, at: 5*day + 5*time.Hour + 50*time.Minute})
	want := []string{"São Paulo, BR → Hanoi, VN"}
	checkVerdict(t, judge(Config{}, nil, evs), High, want)
	checkVerdict(t, judgeHourly(Config{}, evs), High, want)
}
