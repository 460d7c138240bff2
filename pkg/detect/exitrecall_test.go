package detect

import (
	"strings"
	"testing"
	"time"
)

// The company's VPN exit in Ashburn, used every day, and a password
// checked once from a Dallas data centre 25 minutes after the owner's
// phone at home, his next login on Monday: one run takes Dallas for a new
// country (the exit's logins say nothing of the account's country) and
// the check for a lone far login. Hourly runs, which recall the pending
// check from the history's rows, took the exit's rows, from the US too,
// for the country's earlier logins: no lone far login. (helper-103's
// finding, on a login through the exit before the check; the same with
// the phone's.)
func TestLoneInExitCountryHourly(t *testing.T) {
	vpn := Where{IP: "52.4.10.1", Country: "US", City: "Ashburn", ASN: 14618, Org: "Amazon.com, Inc.", HasLoc: true, Lat: 39.04, Lon: -77.49, AccuracyKM: 20}
	dallas := Where{IP: "23.95.10.7", Country: "US", City: "Dallas", ASN: 36352, Org: "ColoCrossing", HasLoc: true, Lat: 32.78, Lon: -96.8, AccuracyKM: 20}
	exits := Common{Networks: []uint32{vpn.ASN}, Exits: []uint32{vpn.ASN}}
	var evs []ev
	for d := range 7 {
		at := time.Duration(d) * day
		evs = append(evs, ev{w: dtLine(d, "Hamburg"), at: at - 25*time.Minute}, ev{w: vpn, at: at + 2*time.Hour}, ev{w: o2Phone(d), at: at + 5*time.Hour})
	}
	check := 7*day + 9*time.Hour
	evs = append(evs, ev{w: o2Phone(7), at: check}, ev{w: dallas, at: check + 25*time.Minute},
		ev{w: dtLine(10, "Hamburg"), at: 10*day - 25*time.Minute}, ev{w: vpn, at: 10*day + 2*time.Hour})
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

// Logins through a relay (the Outlook app's, through Microsoft's servers,
// located in the US) or through the site's exit say nothing of where the
// owner is: one run neither takes them for the country's logins before a
// password checked once from there (a relay's country is never seen; an
// exit's is not), nor for a return there in the day after (settleLone).
// Hourly runs, recalling the check from the history's rows, must judge it
// alike, whether the relay's or the exit's logins come before the check,
// after it, or both.
func TestLoneRelayExitRowsNotThere(t *testing.T) {
	vpn := Where{IP: "52.4.10.1", Country: "US", City: "Ashburn", ASN: 14618, Org: "Amazon.com, Inc.", HasLoc: true, Lat: 39.04, Lon: -77.49, AccuracyKM: 20}
	dallas := Where{IP: "23.95.10.7", Country: "US", City: "Dallas", ASN: 36352, Org: "ColoCrossing", HasLoc: true, Lat: 32.78, Lon: -96.8, AccuracyKM: 20}
	exits := Common{Networks: []uint32{vpn.ASN}, Exits: []uint32{vpn.ASN}}
	check := 7*day + 9*time.Hour
	for _, c := range []struct {
		name          string
		via           Where
		before, after bool
	}{
		{"the Outlook app before", outlookApp, true, false},
		{"the Outlook app after", outlookApp, false, true},
		{"the exit before and after", vpn, true, true},
		{"the exit after", vpn, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var evs []ev
			for d := range 7 {
				at := time.Duration(d) * day
				evs = append(evs, ev{w: dtLine(d, "Hamburg"), at: at - 25*time.Minute}, ev{w: o2Phone(d), at: at + 5*time.Hour})
				if c.before || c.via.ASN == vpn.ASN {
					evs = append(evs, ev{w: c.via, at: at + 2*time.Hour})
				}
			}
			evs = append(evs, ev{w: o2Phone(7), at: check}, ev{w: dallas, at: check + 25*time.Minute})
			if c.after {
				evs = append(evs, ev{w: c.via, at: check + 3*time.Hour}, ev{w: c.via, at: check + 20*time.Hour})
			}
			evs = append(evs, ev{w: dtLine(10, "Hamburg"), at: 10*day - 25*time.Minute})
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
		})
	}
}
