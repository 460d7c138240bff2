package detect

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A home line with a static address, located vaguely (a cable line
// located to its region, 200 km), used every day: while it is not yet
// proven a line, the trip to it from a thief's login elsewhere in the
// same country (a data centre in Los Angeles, located precisely) is kept
// (pinUsual), and judged once the address, held for hours, proves a line.
// The gateway rule (impossible: a place located vaguely within one
// country is anywhere in it, unless a line) must not drop that trip
// before the address could prove one.
func TestGatewayHeldLineSameCountry(t *testing.T) {
	nyLine := Where{IP: "66.109.105.84", Country: "US", City: "New York", ASN: 12271, Org: "TWC-12271-NYC", HasLoc: true, Lat: 40.7128, Lon: -74.006, AccuracyKM: 200}
	laDC := Where{IP: "104.200.1.9", Country: "US", City: "Los Angeles", ASN: 63949, Org: "Akamai Connected Cloud", HasLoc: true, Lat: 34.0522, Lon: -118.2437, AccuracyKM: 20}
	home := daily(nyLine, 5)
	after := 5*day + 4*time.Hour
	evs := append(home[:len(home):len(home)], ev{w: laDC, at: after}, ev{w: nyLine, at: after + 30*time.Minute})
	want := []string{"Los Angeles, US → New York, US"}
	t.Run("one run", func(t *testing.T) {
		checkVerdict(t, judge(Config{}, nil, evs), High, want)
	})
	t.Run("hourly", func(t *testing.T) {
		checkVerdict(t, judgeHourly(Config{}, evs), High, want)
	})
}

// TestFailuresUnfamiliarAsOfThen: failures, then a login, from a new
// network of the home country is medium when no other account of the
// site had used that network for long by then. The census of a batch
// holds the whole log: another victim of the same spray, staying there
// as long as this one, or a colleague who first went there after the
// theft, made it familiar only later; the live reader's census, at the
// thief's first login, knew neither. A colleague there for days before
// makes it low.
func TestFailuresUnfamiliarAsOfThen(t *testing.T) {
	home, dc, evs := dcTheft()
	for _, c := range []struct {
		name  string
		other func(c *Census)
		sev   Severity
	}{
		{"another victim of the spray", func(c *Census) { c.Add("victim2", &dc, t0.Add(7*day), t0.Add(7*day+40*time.Hour)) }, Medium},
		{"a colleague there after the theft", func(c *Census) { c.Add("u7", &dc, t0.Add(9*day), t0.Add(12*day)) }, Medium},
		{"a colleague there for days before", func(c *Census) { c.Add("u7", &dc, t0, t0.Add(12*day)) }, Low},
	} {
		t.Run(c.name, func(t *testing.T) {
			var census Census
			for i := range 100 {
				census.Add(fmt.Sprintf("u%d", i), &home, t0, t0.Add(10*day))
			}
			census.Add("victim", &home, t0, t0.Add(6*day))
			census.Add("victim", &dc, t0.Add(7*day), t0.Add(7*day+40*time.Hour))
			c.other(&census)
			if v := judgeAs(census.Common(Config{}), "victim", evs); v.Severity != c.sev || !strings.Contains(v.String(), "7 failed logins from 145.239.30.186") {
				t.Errorf("severity %s, want %s: %s", v.Severity, c.sev, v)
			}
		})
	}
}
