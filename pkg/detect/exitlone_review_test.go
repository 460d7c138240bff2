package detect

import (
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
