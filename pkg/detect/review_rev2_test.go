package detect

import (
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
