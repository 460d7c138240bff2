package detect

import (
	"testing"
	"time"
)

// A thief's two bots in one foreign country, each behind its own line,
// taking turns: the account's owner (4 logins a day at home in São
// Paulo for a week) is away; then 14 logins in 2 hours from Moscow, from
// two lines of one provider, each 10 minutes after the other's. Less
// than five times the owner's pace (a traveller catching up on mail from
// a hotel sends as much), but twice it, taking turns: medium, in one run
// as in hourly runs (whose history holds a row per address, its first
// and last login).
//
// Not so for one client: a hotel behind a few addresses of one range,
// a dual-stack line's IPv4 and IPv6 addresses, two networks one after
// the other (a hotel's, then a conference's), or a traveller going from
// the one to the other and back, 40 minutes each time, or a phone going
// from the hotel's Wi-Fi to its mobile data and back (a carrier's address,
// located vaguely, takes no turns); nor for a shared mailbox, whose people
// may travel together.
func TestBurstInTurn(t *testing.T) {
	var owner []ev
	for d := range 7 {
		for _, h := range []time.Duration{4, 7, 10, 13} { // 12:00 to 21:00 UTC
			owner = append(owner, ev{w: saoPaulo, at: time.Duration(d)*day + h*time.Hour})
		}
	}
	sameRange := moscow
	sameRange.IP = "95.165.1.77"
	v6 := moscow
	v6.IP = "2a02:2698:20:1::5"
	thief := func(a, b Where, inTurn bool, every time.Duration) []ev {
		evs := append([]ev(nil), owner...)
		for i := range 14 {
			w := a
			if inTurn && i%2 == 1 || !inTurn && i >= 7 {
				w = b
			}
			evs = append(evs, ev{w: w, at: 8*day - 4*time.Hour + time.Duration(i)*every})
		}
		return evs
	}
	turns := thief(moscow, moscow2, true, 10*time.Minute)
	want := []string{"new country RU, Moscow: 14 logins within 2 h 11 min (usually 3.7 in 24 h; 7 days in the logs read: BR only), from 2 address ranges taking turns (12 times within 15 min of another's login: two clients at once)"}
	checkVerdict(t, judge(Config{}, nil, turns), Medium, want)
	// hourly: the turns of the hours before, from their rows
	checkVerdict(t, judgeHourly(Config{}, turns), Medium, []string{"new country RU, Moscow:", "from 2 address ranges taking turns"})
	// three logins an hour, ten minutes apart, for five hours: an hour's
	// run alone sees one turn; with its rows' (each address's first and
	// last login), the fourth hour's sees three
	hourly := append([]ev(nil), owner...)
	for h := range 5 {
		for i, w := range []Where{moscow, moscow2, moscow} {
			hourly = append(hourly, ev{w: w, at: 8*day - 4*time.Hour + time.Duration(h)*time.Hour + time.Duration(i)*10*time.Minute})
		}
	}
	checkVerdict(t, judge(Config{}, nil, hourly), Medium, []string{"new country RU, Moscow: 15 logins within 4 h 21 min", "from 2 address ranges taking turns (9 times"})
	checkVerdict(t, judgeHourly(Config{}, hourly), Medium, []string{"new country RU, Moscow: 12 logins within 3 h 21 min", "from 2 address ranges taking turns (3 times"})

	for _, c := range []struct {
		name string
		evs  []ev
	}{
		{"one range", thief(moscow, sameRange, true, 10*time.Minute)},
		{"dual-stack", thief(moscow, v6, true, 10*time.Minute)},
		{"one after the other", thief(moscow, moscow2, false, 10*time.Minute)},
		{"a traveller going back and forth", thief(moscow, moscow2, true, 40*time.Minute)},
		// a phone on the hotel's Wi-Fi, then on a local SIM's mobile data
		// (located to the country only), and back, minutes apart
		{"the hotel's Wi-Fi and a carrier's", thief(moscow, Where{IP: "217.118.64.5", Country: "RU", ASN: 3216, Org: "PJSC Vimpelcom", HasLoc: true, Lat: 55.7386, Lon: 37.6068, AccuracyKM: 1000}, true, 10*time.Minute)},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkVerdict(t, judge(Config{}, nil, c.evs), Low, []string{"new country RU, Moscow (7 days in the logs read: BR only)"})
			checkVerdict(t, judgeHourly(Config{}, c.evs), Low, []string{"new country RU, Moscow"})
		})
	}
	t.Run("shared", func(t *testing.T) {
		cfg := Config{}.Defaults()
		a := NewAccount(&cfg, nil, nil)
		a.SetShared()
		for _, e := range turns {
			w := e.w
			a.Login(&w, t0.Add(e.at), t0.Add(e.at), 1)
		}
		checkVerdict(t, a.Verdict(), Low, []string{"new country RU, Moscow (7 days"})
	})
}

// A burst's finding names the login's address, located vaguely or not:
// only the turns leave a carrier's address out. A thief's data centre in
// the whitelisted home country, which GeoIP locates to the country only,
// sending far more than the owner does: the new network's finding (made
// by the burst itself: no other finding names the network) names it.
func TestBurstVagueNamesAddress(t *testing.T) {
	home, _, _ := dcTheft()
	dc := Where{IP: "145.239.30.186", Country: "DE", ASN: 16276, Org: "OVH SAS", Trusted: true, Home: true}
	var evs []ev
	for d := range 6 {
		for h := range 10 {
			evs = append(evs, ev{w: home, at: time.Duration(d)*day + time.Duration(h)*time.Hour})
		}
	}
	for i := range 60 {
		evs = append(evs, ev{w: dc, at: 7*day + time.Duration(i)*2*time.Minute})
	}
	v := judge(Config{}, nil, evs)
	checkVerdict(t, v, Medium, []string{"new network AS16276 OVH SAS"})
	for _, r := range v.Reasons {
		if r.IP != dc.IP {
			t.Errorf("a reason names %q, want %s: %+v", r.IP, dc.IP, r)
		}
	}
}
