package detect

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rowsOf is the history a state keeps of evs: a row per address, its
// first and last login, how many, the enrichment as last seen; or, each
// true, a row per login.
func rowsOf(evs []ev, each bool) []Known {
	var known []Known
	idx := map[string]int{}
	for _, e := range evs {
		at := t0.Add(e.at)
		n := int64(max(e.n, 1))
		if i, ok := idx[e.w.IP]; ok && !each {
			k := &known[i]
			k.Last, k.Count, k.Where = at, k.Count+n, e.w
			continue
		}
		idx[e.w.IP] = len(known)
		known = append(known, Known{Where: e.w, First: at, Last: at, Count: n})
	}
	return known
}

// scatteredOf is the verdict's scattered finding, "" none.
func scatteredOf(v Verdict) string {
	for _, r := range v.Reasons {
		if strings.Contains(r.Text, "no journey's stops") {
			return r.Text
		}
	}
	return ""
}

// splitRuns judges evs once whole, and once for each cut up to the login
// that makes the whole run's scattered finding: the logins before the cut
// as the history (rowsOf), the rest now. It reports each cut whose
// finding differs. (A cut after that login leaves the finding to the
// run before.)
func splitRuns(t *testing.T, evs []ev, each bool) {
	t.Helper()
	whole := scatteredOf(judge(Config{}, nil, evs))
	if whole == "" {
		t.Fatalf("one run: no scattered finding: %s", judge(Config{}, nil, evs))
	}
	last := 0
	for last < len(evs) && scatteredOf(judge(Config{}, nil, evs[:last+1])) != whole {
		last++
	}
	for i := 1; i <= last; i++ {
		if evs[i].at == evs[i-1].at {
			continue
		}
		if got := scatteredOf(judge(Config{}, rowsOf(evs[:i], each), evs[i:])); got != whole {
			t.Errorf("history up to %s (%d logins), %d now: scattered %q\none run: %q", evs[i].at, i, len(evs)-i, got, whole)
		}
	}
}

// The owner at home every day, a thief's new country each night between
// (TestScatteredBackHome): an hourly run, or the daemon started anew,
// finds from its history what one run finds, at every cut.
func TestScatteredBackSplit(t *testing.T) {
	accra := Where{IP: "154.160.1.1", Country: "GH", City: "Accra", ASN: 30986, Org: "Scancom PLC", HasLoc: true, Lat: 5.6037, Lon: -0.187, AccuracyKM: 50}
	nights := func(home Where) []ev {
		evs := daily(home, 5)
		for k, w := range []Where{lagos, accra, moscow, lisbon} {
			at := time.Duration(5+2*k)*day + 2*time.Hour - 8*time.Hour
			evs = append(evs, ev{w: w, at: at}, ev{w: w, at: at + 20*time.Minute})
			evs = append(evs, ev{w: home, at: time.Duration(6+2*k)*day + 4*time.Hour})
		}
		slices.SortStableFunc(evs, func(x, y ev) int { return cmp.Compare(x.at, y.at) })
		return evs
	}
	// the history a row per login
	t.Run("each login", func(t *testing.T) { splitRuns(t, nights(saoPaulo), true) })
	// the home logins whitelisted (country_ignore = BR)
	t.Run("trusted home", func(t *testing.T) { splitRuns(t, nights(trusted(saoPaulo)), true) })
	// as the state keeps it, a row per address, of a home line whose
	// address changes every other day: each address is in use across a
	// night, and its row's first login is the owner's return before it
	t.Run("a row per address, a new one every other day", func(t *testing.T) {
		evs := daily(saoPaulo, 5)
		for k, w := range []Where{lagos, accra, moscow, lisbon} {
			at := time.Duration(5+2*k)*day + 2*time.Hour - 8*time.Hour
			evs = append(evs, ev{w: w, at: at}, ev{w: w, at: at + 20*time.Minute})
			home := saoPaulo
			home.IP = "187.45.12." + itoa(10+(k+1)/2)
			evs = append(evs, ev{w: home, at: time.Duration(6+2*k)*day + 4*time.Hour})
		}
		slices.SortStableFunc(evs, func(x, y ev) int { return cmp.Compare(x.at, y.at) })
		splitRuns(t, evs, false)
	})
	// (Not as the state keeps the history, a row per address, where the
	// owner uses one fixed address: its row's first and last login do not
	// say which nights he was back between, and an hourly run measures
	// from the country before only, as before place.back. The README's
	// "many_places, over days" row says so.)
}

// An account with a long history: a phone's address every 10 minutes (located
// vaguely, at home) and a precise home line over 30 days, and a
// traveller's 60 countries of a night or two each, not learned: Reset
// rebuilds each country's back from the rows.
func BenchmarkResetScatteredBack(b *testing.B) {
	cfg := Config{}.Defaults()
	site := NewSite(cfg)
	var known []Known
	start := t0.Add(-30 * day)
	for h := range 30 * 24 * 6 {
		at := start.Add(time.Duration(h) * 10 * time.Minute)
		w := roaming
		w.IP = "177.79." + itoa(h/250%250) + "." + itoa(h%250)
		known = append(known, Known{Where: w, First: at, Last: at.Add(8 * time.Minute), Count: 3})
		if h%24 == 0 {
			w := saoPaulo
			w.IP = "187.45." + itoa(h/250%250) + "." + itoa(h%250)
			known = append(known, Known{Where: w, First: at, Last: at.Add(3 * time.Hour), Count: 2})
		}
	}
	for c := range 60 {
		at := start.Add(2*day + time.Duration(c)*11*time.Hour)
		w := lagos
		w.Country = string(rune('A'+c/26)) + string(rune('A'+c%26))
		w.IP = "41.203." + itoa(c) + ".7"
		w.Lat += float64(c)
		known = append(known, Known{Where: w, First: at, Last: at.Add(time.Hour), Count: 2})
	}
	b.Logf("%d rows", len(known))
	var a Account
	b.ReportAllocs()
	for b.Loop() {
		a.Reset(&cfg, known, site)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
