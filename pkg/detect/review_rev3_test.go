package detect

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestApartOneNetwork's two colleagues on two providers, the first's
// Deutsche Telekom line located to Hanover on its first day only, and
// that day, between the line's morning and evening logins from that one
// address, a login from the office, also on Deutsche Telekom (located to
// Hamburg). One address located to Hanover is a day's mistake, however
// often it is used and whatever came between: the account is still
// shared, in one run as from the history's rows (a row per address,
// which Reset reads once) and in hourly runs.
func TestOneNetworkAddressOnce(t *testing.T) {
	officeDT := Where{IP: "217.6.12.1", Country: "DE", City: "Hamburg", ASN: 3320, Org: "Deutsche Telekom AG", HasLoc: true, Lat: 53.5511, Lon: 9.9937, AccuracyKM: 10}
	evs := twoProviders()
	evs = append(evs, ev{w: officeDT, at: 3 * time.Hour}, ev{w: dtLine(0, "Hanover"), at: 10 * time.Hour})
	slices.SortStableFunc(evs, func(x, y ev) int { return cmp.Compare(x.at, y.at) })
	thief := []ev{{w: dtLine(7, "Hamburg"), at: 7 * day}, {w: shanghai, at: 7*day + 4*time.Minute}}
	want := "weighed low: the account is used from several places at once"
	if v := judge(Config{}, rowsOf(evs, false), thief); !strings.Contains(v.String(), want) {
		t.Fatalf("from the history's rows: %s\nwant %q", v, want)
	}
	all := append(evs[:len(evs):len(evs)], thief...)
	if v := judge(Config{}, nil, all); !strings.Contains(v.String(), want) {
		t.Errorf("one run: %s\nwant %q", v, want)
	}
	if v := judgeHourly(Config{}, all); !strings.Contains(v.String(), want) {
		t.Errorf("hourly: %s\nwant %q", v, want)
	}
}

// TestApartOneNetwork's line and office, the line's address of each day
// located to Hamburg but, as GeoLite2 places each of a provider's blocks
// at its postal area, to other coordinates each day (a kilometre or two
// apart, well within the radius), and to Hanover on days 2 and 5: one
// town, the line's, however its addresses' coordinates differ, and the
// thief's trip from the line is high.
func TestOneNetworkTownCoordinates(t *testing.T) {
	line := func(d int, city string) Where {
		w := dtLine(d, city)
		if city == "Hamburg" {
			w.Lat, w.Lon = w.Lat+0.01*float64(d), w.Lon-0.01*float64(d)
		}
		return w
	}
	thief := commuteThief(line)
	if v := judge(Config{}, nil, thief); v.Severity != High || strings.Contains(v.String(), "weighed low") {
		t.Errorf("the line's addresses at coordinates of their postal areas: %s\nwant high", v)
	}
}
