package detect

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// dtLine is a Deutsche Telekom home line's address of day d, in
// Hamburg's range located to Hamburg, or in another located to Hanover.
func dtLine(d int, city string) Where {
	w := Where{Country: "DE", City: "Hamburg", ASN: 3320, Org: "Deutsche Telekom AG", HasLoc: true, Lat: 53.5511, Lon: 9.9937, AccuracyKM: 10}
	w.IP = fmt.Sprintf("79.226.%d.%d", 100+d, 10+d)
	if city == "Hanover" {
		w.City, w.Lat, w.Lon = "Hanover", 52.3759, 9.732
		w.IP = fmt.Sprintf("79.233.%d.%d", 100+d, 10+d)
	}
	return w
}

var (
	officeHH = Where{IP: "80.146.112.1", Country: "DE", City: "Hamburg", ASN: 3209, Org: "Vodafone GmbH", HasLoc: true, Lat: 53.5511, Lon: 9.9937, AccuracyKM: 10}
	shanghai = Where{IP: "58.208.54.165", Country: "CN", City: "Shanghai", ASN: 4134, Org: "CHINANET-BACKBONE", HasLoc: true, Lat: 31.2304, Lon: 121.4737, AccuracyKM: 20}
)

// commuteThief: seven days of the line (line) at 7:35 and 19:00 and the
// office in Hamburg at 8:15 and 16:00 (t0 is 8:00), the line located to
// Hanover on days 2 and 5; on day 7, at home, located to Hanover, and
// Shanghai 4 minutes later.
func commuteThief(line func(d int, city string) Where) []ev {
	var evs []ev
	for d := range 7 {
		city := "Hamburg"
		if d%3 == 2 {
			city = "Hanover"
		}
		at := time.Duration(d) * day
		evs = append(evs, ev{w: line(d, city), at: at - 25*time.Minute}, ev{w: officeHH, at: at + 15*time.Minute},
			ev{w: officeHH, at: at + 8*time.Hour}, ev{w: line(d, city), at: at + 11*time.Hour})
	}
	at := 7*day + 3*time.Hour
	return append(evs, ev{w: line(7, "Hanover"), at: at}, ev{w: shanghai, at: at + 4*time.Minute},
		ev{w: line(7, "Hanover"), at: at + 9*time.Minute})
}

// twoProviders: two colleagues a week, one on Deutsche Telekom's line in
// Hamburg, one on Vodafone's in Hanover 40 minutes later each day; the
// first's line located to Hanover on day 0.
func twoProviders() []ev {
	hanoverVF := Where{Country: "DE", City: "Hanover", ASN: 3209, Org: "Vodafone GmbH", HasLoc: true, Lat: 52.3759, Lon: 9.732, AccuracyKM: 10}
	var evs []ev
	for d := range 7 {
		at := time.Duration(d) * day
		city := "Hamburg"
		if d == 0 {
			city = "Hanover"
		}
		b := hanoverVF
		b.IP = fmt.Sprintf("88.64.%d.%d", 100+d, 10+d)
		evs = append(evs, ev{w: dtLine(d, city), at: at}, ev{w: b, at: at + 40*time.Minute})
	}
	return evs
}

// A home line whose address of a day is located to Hamburg on most days
// and to Hanover (130 km away) on some, as GeoLite2 does with Deutsche
// Telekom's lines, and the office in Hamburg 40 minutes after home: one
// person going to work, not two people sharing the account. A thief's
// login from Shanghai minutes after the line's is an impossible trip,
// high, not "weighed low" (seed 513 of scripts/bench-detect:
// pierre.meyer). Two colleagues on that provider's lines in the two towns
// are on one network: they still share the account.
func TestApartOneNetwork(t *testing.T) {
	thief := commuteThief(dtLine)
	want := "Hanover, DE → Shanghai, CN, 8,610 km in 4 min"
	v := judge(Config{}, nil, thief)
	if v.Severity != High || !strings.Contains(v.String(), want) || strings.Contains(v.String(), "weighed low") {
		t.Errorf("one person, one line located to two towns: %s\nwant high with %q", v, want)
	}
	if v := judgeHourly(Config{}, thief); v.Severity != High || strings.Contains(v.String(), "weighed low") {
		t.Errorf("hourly: %s\nwant high", v)
	}

	// the line's addresses of the days located to Hamburg out of another
	// of the provider's ranges (91.0.0.0/12, not 79.224.0.0/12)
	var ranges []ev
	for _, e := range thief {
		if e.w.City == "Hamburg" && e.w.ASN == 3320 {
			e.w.IP = strings.Replace(e.w.IP, "79.226.", "91.9.", 1)
		}
		ranges = append(ranges, e)
	}
	if v := judge(Config{}, nil, ranges); v.Severity != High || strings.Contains(v.String(), "weighed low") {
		t.Errorf("the line's towns out of two ranges: %s\nwant high", v)
	}

	// two colleagues on Deutsche Telekom's lines, one in Hamburg, one in
	// Hanover, 40 minutes apart every day: the account is shared, and one
	// of them in Shanghai while the other is at home is weighed low
	var two []ev
	for d := range 7 {
		at := time.Duration(d) * day
		two = append(two, ev{w: dtLine(d, "Hamburg"), at: at}, ev{w: dtLine(d, "Hanover"), at: at + 40*time.Minute})
	}
	two = append(two, ev{w: dtLine(7, "Hamburg"), at: 7 * day}, ev{w: shanghai, at: 7*day + 4*time.Minute})
	if v := judge(Config{}, nil, two); !strings.Contains(v.String(), "weighed low: the account is used from several places at once") {
		t.Errorf("two colleagues on one provider: %s\nwant weighed low", v)
	}
	// two colleagues on two providers, one on Deutsche Telekom's line in
	// Hamburg, one on Vodafone's in Hanover; the first's line located to
	// Hanover on its first day only: a day's mistake, and still two
	// people
	other := twoProviders()
	other = append(other, ev{w: dtLine(7, "Hamburg"), at: 7 * day}, ev{w: shanghai, at: 7*day + 4*time.Minute})
	if v := judge(Config{}, nil, other); !strings.Contains(v.String(), "weighed low: the account is used from several places at once") {
		t.Errorf("two colleagues, one line located once to the other's town: %s\nwant weighed low", v)
	}
}
