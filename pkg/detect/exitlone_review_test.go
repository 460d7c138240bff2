package detect

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The company's VPN exit in Ashburn, used from the account's first day,
// its network common (an exit) from the third: a password checked once
// from Toronto 25 minutes after the owner's phone at home, then logins
// through the VPN 3 and 20 hours later, the owner's next login on Monday.
// One run takes the VPN's logins after the check, through the exit, for
// no return near Toronto (settleLone(nil, ...)): a lone far login.
// Hourly runs held the VPN's address in one row from the first day on,
// its first login before the network was an exit: recallLone took the
// whole row for the owner's, back near Toronto within the day.
func TestLoneExitRowBecameExitNoReturn(t *testing.T) {
	vpn := Where{IP: "52.4.10.1", Country: "US", City: "Ashburn", ASN: 14618, Org: "Amazon.com, Inc.", HasLoc: true, Lat: 39.04, Lon: -77.49, AccuracyKM: 20}
	toronto := Where{IP: "142.112.10.7", Country: "CA", City: "Toronto", ASN: 577, Org: "Bell Canada", HasLoc: true, Lat: 43.65, Lon: -79.38, AccuracyKM: 20}
	exits := Common{Networks: []uint32{vpn.ASN}, Exits: []uint32{vpn.ASN}, Since: map[string]time.Time{asKey(vpn.ASN): t0.Add(2 * day)}}
	var evs []ev
	for d := range 7 {
		at := time.Duration(d) * day
		evs = append(evs, ev{w: dtLine(d, "Hamburg"), at: at - 25*time.Minute}, ev{w: vpn, at: at + 2*time.Hour}, ev{w: o2Phone(d), at: at + 5*time.Hour})
	}
	check := 7*day + 9*time.Hour
	evs = append(evs, ev{w: o2Phone(7), at: check}, ev{w: toronto, at: check + 25*time.Minute},
		ev{w: vpn, at: check + 3*time.Hour}, ev{w: vpn, at: check + 20*time.Hour},
		ev{w: dtLine(10, "Hamburg"), at: 10*day - 25*time.Minute})
	cfg := Config{}.Defaults()
	const want = "its only login from there, 25 min after one from DE (AS6805 Telefonica Germany)"
	for _, hourly := range []bool{false, true} {
		v := judgeCommon(cfg, exits, evs)
		if hourly {
			v = judgeHourlyCommon(cfg, exits, evs)
		}
		if v.Severity != Medium || strings.Count(v.String(), want) != 1 {
			t.Errorf("hourly %v: got %s\nwant medium, once %q", hourly, v, want)
		}
	}
}

// The company's VPN gate in Frankfurt (an exit known by its address,
// Common.Gates), from a day after the account's week: Login takes a
// gate's address for an exit whenever it became one, and its logins for
// no login from a usual country (noteUsual), as of no place of the
// owner's. A login from Dallas 25 minutes after one through the gate, the
// owner's line at home 9 hours before: one run, no login from a usual
// country just before, no lone far login. Hourly runs, recalling the
// account's last login from a usual country from the history's rows,
// took the gate as of the row's time: the gate's login just before, a
// lone far login, medium.
func TestLoneGateRowNotUsualBeforeSince(t *testing.T) {
	gw := Where{IP: "87.128.5.9", Country: "DE", City: "Frankfurt am Main", ASN: 24940, Org: "Hetzner Online GmbH", HasLoc: true, Lat: 50.11, Lon: 8.68, AccuracyKM: 20}
	dallas := Where{IP: "23.95.10.7", Country: "US", City: "Dallas", ASN: 36352, Org: "ColoCrossing", HasLoc: true, Lat: 32.78, Lon: -96.8, AccuracyKM: 20}
	com := Common{Gates: map[netip.Prefix]time.Time{netip.MustParsePrefix("87.128.5.0/24"): t0.Add(30 * day)}}
	var evs []ev
	for d := range 7 {
		at := time.Duration(d) * day
		evs = append(evs, ev{w: dtLine(d, "Hamburg"), at: at}, ev{w: dtLine(d, "Hamburg"), at: at + 8*time.Hour})
	}
	evs = append(evs, ev{w: dtLine(7, "Hamburg"), at: 7 * day}, ev{w: gw, at: 7*day + 8*time.Hour + 50*time.Minute},
		ev{w: dallas, at: 7*day + 9*time.Hour + 15*time.Minute}, ev{w: dtLine(10, "Hamburg"), at: 10 * day})
	cfg := Config{}.Defaults()
	for _, hourly := range []bool{false, true} {
		v := judgeCommon(cfg, com, evs)
		if hourly {
			v = judgeHourlyCommon(cfg, com, evs)
		}
		if strings.Contains(v.String(), "its only login") || !strings.Contains(v.String(), "new country US, Dallas") {
			t.Errorf("hourly %v: got %s\nwant a new country, no lone far login", hourly, v)
		}
	}
}

// The company's VPN in Frankfurt, used from the account's first day, its
// network an exit from 17:15 on day 7: a login through it at 16:55, from
// a usual country (Germany, the line's), is the owner's, and a login from
// Dallas at 17:25 a lone far login, 30 minutes after it (Login takes the
// exit as of each login's time). Hourly runs, recalling the check from
// the history's rows, took the VPN's row as of the check's time: through
// the exit, no login before it, no lone far login.
func TestLoneUsualRowBeforeExit(t *testing.T) {
	vpn := Where{IP: "88.99.10.1", Country: "DE", City: "Frankfurt am Main", ASN: 24940, Org: "Hetzner Online GmbH", HasLoc: true, Lat: 50.11, Lon: 8.68, AccuracyKM: 20}
	dallas := Where{IP: "23.95.10.7", Country: "US", City: "Dallas", ASN: 36352, Org: "ColoCrossing", HasLoc: true, Lat: 32.78, Lon: -96.8, AccuracyKM: 20}
	exits := Common{Networks: []uint32{vpn.ASN}, Exits: []uint32{vpn.ASN}, Since: map[string]time.Time{asKey(vpn.ASN): t0.Add(7*day + 9*time.Hour + 15*time.Minute)}}
	var evs []ev
	for d := range 7 {
		at := time.Duration(d) * day
		evs = append(evs, ev{w: dtLine(d, "Hamburg"), at: at}, ev{w: vpn, at: at + 3*time.Hour})
	}
	evs = append(evs, ev{w: dtLine(7, "Hamburg"), at: 7 * day}, ev{w: vpn, at: 7*day + 8*time.Hour + 55*time.Minute},
		ev{w: dallas, at: 7*day + 9*time.Hour + 25*time.Minute}, ev{w: dtLine(10, "Hamburg"), at: 10 * day})
	cfg := Config{}.Defaults()
	const want = "its only login from there, 30 min after one from Frankfurt am Main, DE (AS24940 Hetzner Online GmbH)"
	for _, hourly := range []bool{false, true} {
		v := judgeCommon(cfg, exits, evs)
		if hourly {
			v = judgeHourlyCommon(cfg, exits, evs)
		}
		if v.Severity != Medium || strings.Count(v.String(), want) != 1 {
			t.Errorf("hourly %v: got %s\nwant medium, once %q", hourly, v, want)
		}
	}
}
