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

// Two colleagues, in São Paulo and in Campinas (80 km), each on her own
// provider and a new address each day, logging in 10 minutes apart on two
// days: the account is shared. Days later, the Campinas colleague's
// provider locates one of her addresses to São Paulo. One run had not
// seen that when it counted the two days, and a run that rebuilds them
// from the history's rows (Reset, with no sharing kept by the state) must
// not take it for evidence either: Lisbon, then São Paulo an hour later,
// is one colleague travelling while the other is at home, weighed low.
func TestApartTownLocatedLater(t *testing.T) {
	campinas := Where{Country: "BR", City: "Campinas", ASN: 28126, Org: "BRISANET", HasLoc: true, Lat: -22.9056, Lon: -47.0608, AccuracyKM: 20}
	var evs []ev
	for d := range 6 {
		at := time.Duration(d) * day
		sp, cp := saoPaulo, campinas
		sp.IP = fmt.Sprintf("187.45.%d.9", 20+d)
		cp.IP = fmt.Sprintf("177.37.%d.1", 20+d)
		cpAt := at + 20*time.Hour
		if d < 2 {
			cpAt = at + 9*time.Hour + 10*time.Minute
		}
		evs = append(evs, ev{w: sp, at: at + 9*time.Hour}, ev{w: sp, at: at + 15*time.Hour}, ev{w: cp, at: cpAt})
	}
	inSP := campinas
	inSP.IP, inSP.City, inSP.Lat, inSP.Lon = "177.37.44.1", "São Paulo", -23.5475, -46.6361
	evs = append(evs, ev{w: inSP, at: 4*day + 20*time.Hour + 30*time.Minute})
	slices.SortStableFunc(evs, func(x, y ev) int { return cmp.Compare(x.at, y.at) })
	holiday := []ev{{w: lisbon, at: 6*day + 9*time.Hour}, {w: saoPaulo, at: 6*day + 10*time.Hour}}
	want := "weighed low: the account is used from several places at once (São Paulo, BR ↔ Campinas, BR, 80 km in 10 min; 2 days)"
	if v := judge(Config{}, nil, slices.Concat(evs, holiday)); !strings.Contains(v.String(), want) {
		t.Fatalf("one run: %s\nwant %q", v, want)
	}
	if v := judge(Config{}, rowsOf(evs, false), holiday); !strings.Contains(v.String(), want) {
		t.Errorf("from the history's rows: %s\nwant %q", v, want)
	}
}
