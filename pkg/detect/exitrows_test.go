package detect

import (
	"strings"
	"testing"
	"time"
)

// The exit's country is not the account's: an hourly run, which reads the
// account's logins through the company's VPN exit in Amsterdam from the
// history's rows, judges a thief's login from a Dutch data centre as one
// run over the log does: a new country.
func TestExitRowsCountryNotUsual(t *testing.T) {
	vpn := Where{IP: "95.211.146.1", Country: "NL", City: "Amsterdam", ASN: 60781, Org: "LeaseWeb Netherlands B.V.", HasLoc: true, Lat: 52.37, Lon: 4.89, AccuracyKM: 20}
	dc := Where{IP: "185.107.56.7", Country: "NL", City: "Rotterdam", ASN: 43350, Org: "NForce Entertainment B.V.", HasLoc: true, Lat: 51.92, Lon: 4.48, AccuracyKM: 20}
	exits := Common{Networks: []uint32{vpn.ASN}, Exits: []uint32{vpn.ASN}}
	var evs []ev
	for d := range 7 {
		at := time.Duration(d) * day
		evs = append(evs, ev{w: dtLine(d, "Hamburg"), at: at - 25*time.Minute}, ev{w: vpn, at: at + 2*time.Hour}, ev{w: vpn, at: at + 8*time.Hour})
	}
	evs = append(evs, ev{w: dc, at: 7*day + 3*time.Hour})
	cfg := Config{}.Defaults()
	checkVerdict(t, judgeCommon(cfg, exits, evs), Low, []string{"new country NL, Rotterdam"})
	checkVerdict(t, judgeHourlyCommon(cfg, exits, evs), Low, []string{"new country NL, Rotterdam"})
}

// The VPN's network became common on the site (and so an exit) on the
// third day; the account used it from the first: one run took its first
// day's logins through it as from the Netherlands, the account's country
// (learned), and a Dutch data centre's login on day 7 as from a usual
// country. Hourly runs, whose history holds the VPN's address in one row
// from the first day on, took none of its country once the network was
// an exit: a new country.
func TestExitRowsBeforeCommon(t *testing.T) {
	vpn := Where{IP: "95.211.146.1", Country: "NL", City: "Amsterdam", ASN: 60781, Org: "LeaseWeb Netherlands B.V.", HasLoc: true, Lat: 52.37, Lon: 4.89, AccuracyKM: 20}
	dc := Where{IP: "185.107.56.7", Country: "NL", City: "Rotterdam", ASN: 43350, Org: "NForce Entertainment B.V.", HasLoc: true, Lat: 51.92, Lon: 4.48, AccuracyKM: 20}
	exits := Common{Networks: []uint32{vpn.ASN}, Exits: []uint32{vpn.ASN}, Since: map[string]time.Time{asKey(vpn.ASN): t0.Add(2 * day)}}
	var evs []ev
	for d := range 7 {
		at := time.Duration(d) * day
		evs = append(evs, ev{w: dtLine(d, "Hamburg"), at: at - 25*time.Minute}, ev{w: vpn, at: at + 2*time.Hour}, ev{w: vpn, at: at + 8*time.Hour})
	}
	evs = append(evs, ev{w: dc, at: 7*day + 3*time.Hour})
	cfg := Config{}.Defaults()
	one, hourly := judgeCommon(cfg, exits, evs), judgeHourlyCommon(cfg, exits, evs)
	if strings.Contains(one.String(), "new country") {
		t.Fatalf("one run: %s\nwant NL usual", one)
	}
	if one.Severity != hourly.Severity || strings.Contains(hourly.String(), "new country") {
		t.Errorf("hourly: %s\none run: %s", hourly, one)
	}
}
