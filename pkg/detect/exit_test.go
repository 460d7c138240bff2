package detect

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// The site's VPN exits and gates (Common.Exits, Common.Gates) and relays
// (Where.Relay) say nothing of where the owner is: one run over a log
// (Login) and hourly runs, which rebuild each account from the history's
// rows (Reset, recallLone), must judge their logins alike. Each test here
// judges the same logins both ways (bothRuns).

var (
	// the company's VPN exits: in Amsterdam, and in Ashburn
	vpnAMS = Where{IP: "95.211.146.1", Country: "NL", City: "Amsterdam", ASN: 60781, Org: "LeaseWeb Netherlands B.V.", HasLoc: true, Lat: 52.37, Lon: 4.89, AccuracyKM: 20}
	vpnIAD = Where{IP: "52.4.10.1", Country: "US", City: "Ashburn", ASN: 14618, Org: "Amazon.com, Inc.", HasLoc: true, Lat: 39.04, Lon: -77.49, AccuracyKM: 20}
	// thieves' data centres
	dcNL   = Where{IP: "185.107.56.7", Country: "NL", City: "Rotterdam", ASN: 43350, Org: "NForce Entertainment B.V.", HasLoc: true, Lat: 51.92, Lon: 4.48, AccuracyKM: 20}
	dallas = Where{IP: "23.95.10.7", Country: "US", City: "Dallas", ASN: 36352, Org: "ColoCrossing", HasLoc: true, Lat: 32.78, Lon: -96.8, AccuracyKM: 20}
)

// exitsOf: w's network an exit of the site, common since (zero: always).
func exitsOf(w Where, since time.Duration) Common {
	c := Common{Networks: []uint32{w.ASN}, Exits: []uint32{w.ASN}}
	if since != 0 {
		c.Since = map[string]time.Time{asKey(w.ASN): t0.Add(since)}
	}
	return c
}

// weekVia: a week of the home line in Hamburg at 7:35 and w at 10:00,
// then the phone (a new address each day) at 13:00, or w again at 16:00
// (t0 is 8:00).
func weekVia(w Where, phone bool) []ev {
	var evs []ev
	for d := range 7 {
		at := time.Duration(d) * day
		evs = append(evs, ev{w: dtLine(d, "Hamburg"), at: at - 25*time.Minute}, ev{w: w, at: at + 2*time.Hour})
		if phone {
			evs = append(evs, ev{w: o2Phone(d), at: at + 5*time.Hour})
		} else {
			evs = append(evs, ev{w: w, at: at + 8*time.Hour})
		}
	}
	return evs
}

// weekLine: a week of the home line in Hamburg at 8:00 and 16:00 (or at
// 8:00 and via at 11:00).
func weekLine(via *Where) []ev {
	var evs []ev
	for d := range 7 {
		at := time.Duration(d) * day
		if via != nil {
			evs = append(evs, ev{w: dtLine(d, "Hamburg"), at: at}, ev{w: *via, at: at + 3*time.Hour})
		} else {
			evs = append(evs, ev{w: dtLine(d, "Hamburg"), at: at}, ev{w: dtLine(d, "Hamburg"), at: at + 8*time.Hour})
		}
	}
	return evs
}

// bothRuns judges evs in one run and hour by hour, and reports what check
// finds wrong with either verdict.
func bothRuns(t *testing.T, com Common, evs []ev, check func(v Verdict) string) {
	t.Helper()
	cfg := Config{}.Defaults()
	for _, hourly := range []bool{false, true} {
		v := judgeCommon(cfg, com, evs)
		if hourly {
			v = judgeHourlyCommon(cfg, com, evs)
		}
		if msg := check(v); msg != "" {
			t.Errorf("hourly %v: got %s\nwant %s", hourly, v, msg)
		}
	}
}

// loneOnce: the verdict is medium and tells the lone far login once.
func loneOnce(want string) func(Verdict) string {
	return func(v Verdict) string {
		if v.Severity != Medium || strings.Count(v.String(), want) != 1 {
			return "medium, once " + want
		}
		return ""
	}
}

// noLone: the verdict tells no lone far login, and a new country when
// cc is given (none when it is empty).
func noLone(cc string) func(Verdict) string {
	return func(v Verdict) string {
		s := v.String()
		if strings.Contains(s, "its only login") || cc == "" && strings.Contains(s, "new country") || cc != "" && !strings.Contains(s, "new country "+cc) {
			return "no lone far login; new country: " + cc
		}
		return ""
	}
}

const afterPhone = "its only login from there, 25 min after one from DE (AS6805 Telefonica Germany)"

// The exit's country is not the account's: an hourly run, which reads the
// account's logins through the company's VPN exit in Amsterdam from the
// history's rows, judges a thief's login from a Dutch data centre as one
// run over the log does: a new country.
func TestExitRowsCountryNotUsual(t *testing.T) {
	evs := append(weekVia(vpnAMS, false), ev{w: dcNL, at: 7*day + 3*time.Hour})
	bothRuns(t, exitsOf(vpnAMS, 0), evs, func(v Verdict) string {
		if v.Severity != Low || !strings.Contains(v.String(), "new country NL, Rotterdam") {
			return "low, new country NL, Rotterdam"
		}
		return ""
	})
}

// The VPN's network became common on the site (and so an exit) on the
// third day; the account used it from the first: one run took its first
// day's logins through it as from the Netherlands, the account's country
// (learned), and a Dutch data centre's login on day 7 as from a usual
// country. Hourly runs, whose history holds the VPN's address in one row
// from the first day on, took none of its country once the network was
// an exit: a new country (helper-103).
func TestExitRowsBeforeCommon(t *testing.T) {
	evs := append(weekVia(vpnAMS, false), ev{w: dcNL, at: 7*day + 3*time.Hour})
	bothRuns(t, exitsOf(vpnAMS, 2*day), evs, func(v Verdict) string {
		if strings.Contains(v.String(), "new country") {
			return "NL usual"
		}
		return ""
	})
}

// A login through the company's VPN gate in Singapore (an exit known by
// its addresses, Common.Gates), the account's only one there, before the
// gate's third user made it one (its since): Login takes a gate's address
// for an exit whenever it became one (Site.gate with zero time), no new
// country and no lone far login. Hourly runs, recalling the pending lone
// far logins from the history's rows, took the gate as of the login's
// time: a lone far login, medium (helper-103).
func TestLoneNotGateBeforeSince(t *testing.T) {
	gw := Where{IP: "103.6.150.9", Country: "SG", City: "Singapore", ASN: 133165, Org: "DigitalOcean, LLC", HasLoc: true, Lat: 1.29, Lon: 103.85, AccuracyKM: 20}
	com := Common{Gates: map[netip.Prefix]time.Time{netip.MustParsePrefix("103.6.150.0/24"): t0.Add(30 * day)}}
	evs := append(weekLine(nil), ev{w: dtLine(7, "Hamburg"), at: 7*day + 8*time.Hour}, ev{w: gw, at: 7*day + 8*time.Hour + 25*time.Minute},
		ev{w: dtLine(9, "Hamburg"), at: 9 * day})
	bothRuns(t, com, evs, noLone(""))
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
// lone far login, medium (helper-104).
func TestLoneGateRowNotUsualBeforeSince(t *testing.T) {
	gw := Where{IP: "87.128.5.9", Country: "DE", City: "Frankfurt am Main", ASN: 24940, Org: "Hetzner Online GmbH", HasLoc: true, Lat: 50.11, Lon: 8.68, AccuracyKM: 20}
	com := Common{Gates: map[netip.Prefix]time.Time{netip.MustParsePrefix("87.128.5.0/24"): t0.Add(30 * day)}}
	evs := append(weekLine(nil), ev{w: dtLine(7, "Hamburg"), at: 7 * day}, ev{w: gw, at: 7*day + 8*time.Hour + 50*time.Minute},
		ev{w: dallas, at: 7*day + 9*time.Hour + 15*time.Minute}, ev{w: dtLine(10, "Hamburg"), at: 10 * day})
	bothRuns(t, com, evs, noLone("US, Dallas"))
}

// The company's VPN in Frankfurt, used from the account's first day, its
// network an exit from 17:15 on day 7: a login through it at 16:55, from
// a usual country (Germany, the line's), is the owner's, and a login from
// Dallas at 17:25 a lone far login, 30 minutes after it (Login takes the
// exit as of each login's time). Hourly runs, recalling the check from
// the history's rows, took the VPN's row as of the check's time: through
// the exit, no login before it, no lone far login (helper-104).
func TestLoneUsualRowBeforeExit(t *testing.T) {
	vpn := Where{IP: "88.99.10.1", Country: "DE", City: "Frankfurt am Main", ASN: 24940, Org: "Hetzner Online GmbH", HasLoc: true, Lat: 50.11, Lon: 8.68, AccuracyKM: 20}
	evs := append(weekLine(&vpn), ev{w: dtLine(7, "Hamburg"), at: 7 * day}, ev{w: vpn, at: 7*day + 8*time.Hour + 55*time.Minute},
		ev{w: dallas, at: 7*day + 9*time.Hour + 25*time.Minute}, ev{w: dtLine(10, "Hamburg"), at: 10 * day})
	bothRuns(t, exitsOf(vpn, 7*day+9*time.Hour+15*time.Minute), evs,
		loneOnce("its only login from there, 30 min after one from Frankfurt am Main, DE (AS24940 Hetzner Online GmbH)"))
}

// The company's VPN exit in Ashburn, used every day, and a password
// checked once from a Dallas data centre 25 minutes after the owner's
// phone at home, his next login on Monday: one run takes Dallas for a new
// country (the exit's logins say nothing of the account's country) and
// the check for a lone far login. Hourly runs, which recall the pending
// check from the history's rows, took the exit's rows, from the US too,
// for the country's earlier logins: no lone far login (helper-103's
// finding, on a login through the exit before the check; the same with
// the phone's).
func TestLoneInExitCountryHourly(t *testing.T) {
	check := 7*day + 9*time.Hour
	evs := append(weekVia(vpnIAD, true), ev{w: o2Phone(7), at: check}, ev{w: dallas, at: check + 25*time.Minute},
		ev{w: dtLine(10, "Hamburg"), at: 10*day - 25*time.Minute}, ev{w: vpnIAD, at: 10*day + 2*time.Hour})
	bothRuns(t, exitsOf(vpnIAD, 0), evs, loneOnce(afterPhone))
}

// The company's VPN exit in Ashburn, used from the account's first day,
// its network common (an exit) from the third: a password checked once
// from Toronto 25 minutes after the owner's phone at home, then logins
// through the VPN 3 and 20 hours later, the owner's next login on Monday.
// One run takes the VPN's logins after the check, through the exit, for
// no return near Toronto (settleLone(nil, ...)): a lone far login.
// Hourly runs held the VPN's address in one row from the first day on,
// its first login before the network was an exit: recallLone took the
// whole row for the owner's, back near Toronto within the day
// (helper-104).
func TestLoneExitRowBecameExitNoReturn(t *testing.T) {
	toronto := Where{IP: "142.112.10.7", Country: "CA", City: "Toronto", ASN: 577, Org: "Bell Canada", HasLoc: true, Lat: 43.65, Lon: -79.38, AccuracyKM: 20}
	check := 7*day + 9*time.Hour
	evs := append(weekVia(vpnIAD, true), ev{w: o2Phone(7), at: check}, ev{w: toronto, at: check + 25*time.Minute},
		ev{w: vpnIAD, at: check + 3*time.Hour}, ev{w: vpnIAD, at: check + 20*time.Hour},
		ev{w: dtLine(10, "Hamburg"), at: 10*day - 25*time.Minute})
	bothRuns(t, exitsOf(vpnIAD, 2*day), evs, loneOnce(afterPhone))
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
	check := 7*day + 9*time.Hour
	for _, c := range []struct {
		name          string
		via           Where
		before, after bool
	}{
		{"the Outlook app before", outlookApp, true, false},
		{"the Outlook app after", outlookApp, false, true},
		{"the exit before and after", vpnIAD, true, true},
		{"the exit after", vpnIAD, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var evs []ev
			for d := range 7 {
				at := time.Duration(d) * day
				evs = append(evs, ev{w: dtLine(d, "Hamburg"), at: at - 25*time.Minute}, ev{w: o2Phone(d), at: at + 5*time.Hour})
				if c.before || c.via.ASN == vpnIAD.ASN {
					evs = append(evs, ev{w: c.via, at: at + 2*time.Hour})
				}
			}
			evs = append(evs, ev{w: o2Phone(7), at: check}, ev{w: dallas, at: check + 25*time.Minute})
			if c.after {
				evs = append(evs, ev{w: c.via, at: check + 3*time.Hour}, ev{w: c.via, at: check + 20*time.Hour})
			}
			evs = append(evs, ev{w: dtLine(10, "Hamburg"), at: 10*day - 25*time.Minute})
			bothRuns(t, exitsOf(vpnIAD, 0), evs, loneOnce(afterPhone))
		})
	}
}
