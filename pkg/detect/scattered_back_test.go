package detect

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"
)

// A thief's new country a night, with the owner back at home in between:
// each night's country is measured from home, not only from the night
// before. Lagos and Accra are 400 km apart, a journey's next stop; but the
// owner logged in from São Paulo the day between, 6,000 km from Accra.
// (Seed 480 of scripts/bench-detect: TR, EG, BR, PK while the owner was at
// the office in Munich every day; Ankara and Alexandria are 1,000 km apart.)
func TestScatteredBackHome(t *testing.T) {
	accra := Where{IP: "154.160.1.1", Country: "GH", City: "Accra", ASN: 30986, Org: "Scancom PLC", HasLoc: true, Lat: 5.6037, Lon: -0.187, AccuracyKM: 50}
	// the owner at home for five days (the first is learned), then at
	// home at noon every other day; a thief's night (2:00, 2:20) on each
	// day between, far enough in time from the owner's logins that no
	// trip is impossible (São Paulo to Moscow, 11,800 km in 14 h)
	nights := func(owner Where, ws ...Where) []ev {
		evs := daily(saoPaulo, 5)
		for k, w := range ws {
			at := time.Duration(5+2*k)*day + 2*time.Hour - 8*time.Hour // (t0 is 8:00)
			evs = append(evs, ev{w: w, at: at}, ev{w: w, at: at + 20*time.Minute})
			evs = append(evs, ev{w: owner, at: time.Duration(6+2*k)*day + 4*time.Hour})
		}
		slices.SortStableFunc(evs, func(x, y ev) int { return cmp.Compare(x.at, y.at) })
		return evs
	}
	const want = "4 new countries in 6 days (NG → GH → RU → PT, 25,750 km between them in all), each used for less than 24 h and each 2,000 km or more from the one before (3 of them: from the usual place the account was back at in between, and their km counted from there)"
	back := nights(saoPaulo, lagos, accra, moscow, lisbon)
	if v := judge(Config{}, nil, back); v.Severity != Medium || !strings.Contains(v.String(), want) {
		t.Errorf("back home between nights: %s\nwant medium with %q", v, want)
	}
	// the owner's phone between, located to the country only: where he
	// was is not known, and Accra is a stop after Lagos
	if v := judge(Config{}, nil, nights(roaming, lagos, accra, moscow, lisbon)); v.Severity != Low || strings.Contains(v.String(), "no journey's stops") {
		t.Errorf("a phone between nights: %s; want low, not scattered", v)
	}
	// a traveller's tour from home: Lagos, Accra, then home for good
	if v := judge(Config{}, nil, nights(saoPaulo, lagos, accra)); v.Severity != Low || strings.Contains(v.String(), "no journey's stops") {
		t.Errorf("two countries: %s; want low", v)
	}
	// an hourly run: the first three nights and the owner's days are the
	// state's history, the fourth night is read now
	var known []Known
	var now []ev
	for _, e := range back {
		if at := t0.Add(e.at); e.at < 10*day {
			known = append(known, Known{Where: e.w, First: at, Last: at, Count: 1})
		} else {
			now = append(now, e)
		}
	}
	if v := judge(Config{}, known, now); v.Severity != Medium || !strings.Contains(v.String(), want) {
		t.Errorf("from the history: %s\nwant medium with %q", v, want)
	}
}

// Back at home in between, a thief's next country near home still counts
// when it is far from the one before: Buenos Aires is 1,700 km from the
// owner's São Paulo, but 7,900 from Lagos, two nights before; measured
// from home alone, the chain lost it (and Asunción after Moscow). (Seed 804 of scripts/bench-detect:
// IN, RU, CN, UA, TR a night each while the owner was at the office in
// Berlin every day; Kyiv is 1,200 km from Berlin, 7,000 from Nanjing.)
func TestScatteredBackHomeNear(t *testing.T) {
	buenosAires := Where{IP: "181.0.1.1", Country: "AR", City: "Buenos Aires", ASN: 7303, Org: "Telecom Argentina S.A.", HasLoc: true, Lat: -34.6037, Lon: -58.3816, AccuracyKM: 20}
	asuncion := Where{IP: "181.120.1.1", Country: "PY", City: "Asunción", ASN: 23201, Org: "Telecel S.A.", HasLoc: true, Lat: -25.2637, Lon: -57.5759, AccuracyKM: 20}
	evs := daily(saoPaulo, 5)
	for k, w := range []Where{lagos, buenosAires, moscow, asuncion} {
		at := time.Duration(5+2*k)*day + 2*time.Hour - 8*time.Hour // 2:00 (t0 is 8:00)
		evs = append(evs, ev{w: w, at: at}, ev{w: w, at: at + 20*time.Minute}, ev{w: saoPaulo, at: time.Duration(6+2*k)*day + 4*time.Hour})
	}
	slices.SortStableFunc(evs, func(x, y ev) int { return cmp.Compare(x.at, y.at) })
	const want = "4 new countries in 6 days (NG → AR → RU → PY, "
	if v := judge(Config{}, nil, evs); v.Severity != Medium || !strings.Contains(v.String(), want) || !strings.Contains(v.String(), "(1 of them: from the usual place") {
		t.Errorf("%s\nwant medium with %q, 1 of them from home", v, want)
	}
}
