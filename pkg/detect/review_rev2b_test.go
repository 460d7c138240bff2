package detect

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// A quiet first day (2 logins) and, the next day, 13 logins from a
// hotel's network that no account of the site uses (strange): the pace
// is judged as 3 logins (paceLogins); 13 is not 5 times that, but it is
// 3 times, the strange network's threshold. The alert says why it fired
// (its note is decided by the pace judged, not by the 2.0 it shows).
func TestBurstQuietFirstDayStrangeNote(t *testing.T) {
	rotterdam := Where{IP: "77.164.4.22", Country: "NL", City: "Rotterdam", ASN: 1136, Org: "KPN B.V.", HasLoc: true, Lat: 51.9244, Lon: 4.4777, AccuracyKM: 20}
	var c Census
	for i := range 100 {
		c.Add(fmt.Sprintf("u%d", i), &saoPaulo, t0, t0.Add(3*day))
	}
	com := c.Common(Config{})
	evs := []ev{{w: saoPaulo, at: 0}, {w: saoPaulo, at: 2 * time.Hour}}
	for i := range 13 {
		evs = append(evs, ev{w: rotterdam, at: day + time.Duration(i)*45*time.Minute})
	}
	v := judgeAs(com, "traveller", evs)
	want := "new country NL, Rotterdam: 13 logins within 9 h 1 min (usually 2.0 in 24 h; 1 day in the logs read: BR only), from networks no account of the site uses"
	if v.Severity != Medium || !strings.Contains(v.String(), want) {
		t.Errorf("%s\nwant medium with %q", v, want)
	}
}

// A thief's night in Lagos, then Accra (400 km on: a journey's next
// stop), then Moscow and Lisbon; the owner between them at the office,
// on a network used once four days before the first of its logins
// between Lagos and Accra: not usual then in one run (used once, not for
// longer than a window), so one run does not take that login for the
// owner back home, and Accra is no stop of the scattered chain. An
// hourly run reads the office's address as a row in use across Accra's
// first login, with logins after it that made the network usual for the
// whole history: its first login is no return home either.
func TestScatteredBackFirstNotUsualThen(t *testing.T) {
	accra := Where{IP: "154.160.1.1", Country: "GH", City: "Accra", ASN: 30986, Org: "Scancom PLC", HasLoc: true, Lat: 5.6037, Lon: -0.187, AccuracyKM: 50}
	evs := daily(saoPaulo, 5)
	once := office
	once.IP = "200.160.2.99"
	evs = append(evs, ev{w: once, at: 2*day + 4*time.Hour})
	for k, w := range []Where{lagos, accra, moscow, lisbon} {
		at := time.Duration(5+2*k)*day + 2*time.Hour - 8*time.Hour
		evs = append(evs, ev{w: w, at: at}, ev{w: w, at: at + 20*time.Minute})
		evs = append(evs, ev{w: office, at: time.Duration(6+2*k)*day + 4*time.Hour})
	}
	slices.SortStableFunc(evs, func(x, y ev) int { return cmp.Compare(x.at, y.at) })
	if got := scatteredOf(judge(Config{}, nil, evs)); got != "" {
		t.Fatalf("one run: %s", got)
	}
	if got := scatteredOf(judgeHourly(Config{}, evs)); got != "" {
		t.Errorf("hourly: %s\none run: none", got)
	}
}
