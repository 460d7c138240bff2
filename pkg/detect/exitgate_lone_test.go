package detect

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// A login through the company's VPN gate in Singapore (an exit known by
// its addresses, Common.Gates), the account's only one there, before the
// gate's third user made it one (its since): Login takes a gate's address
// for an exit whenever it became one (Site.gate with zero time), no new
// country and no lone far login. Hourly runs, recalling the pending lone
// far logins from the history's rows, took the gate as of the login's
// time: a lone far login, medium.
func TestLoneNotGateBeforeSince(t *testing.T) {
	gw := Where{IP: "103.6.150.9", Country: "SG", City: "Singapore", ASN: 133165, Org: "DigitalOcean, LLC", HasLoc: true, Lat: 1.29, Lon: 103.85, AccuracyKM: 20}
	com := Common{Gates: map[netip.Prefix]time.Time{netip.MustParsePrefix("103.6.150.0/24"): t0.Add(30 * day)}}
	var evs []ev
	for d := range 7 {
		at := time.Duration(d) * day
		evs = append(evs, ev{w: dtLine(d, "Hamburg"), at: at}, ev{w: dtLine(d, "Hamburg"), at: at + 8*time.Hour})
	}
	evs = append(evs, ev{w: dtLine(7, "Hamburg"), at: 7*day + 8*time.Hour}, ev{w: gw, at: 7*day + 8*time.Hour + 25*time.Minute},
		ev{w: dtLine(9, "Hamburg"), at: 9 * day})
	cfg := Config{}.Defaults()
	for _, hourly := range []bool{false, true} {
		v := judgeCommon(cfg, com, evs)
		if hourly {
			v = judgeHourlyCommon(cfg, com, evs)
		}
		if strings.Contains(v.String(), "its only login") || strings.Contains(v.String(), "new country") {
			t.Errorf("hourly %v: got %s\nwant no new country, no lone far login", hourly, v)
		}
	}
}
