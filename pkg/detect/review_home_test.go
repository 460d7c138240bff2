package detect

import (
	"strings"
	"testing"
	"time"
)

// TestHomeNetworksNotManyPlaces: country_ignore's logins are watched for
// a burst and for failures first (Where.Home), not counted as new
// networks by many places: an account whose owner, at home in Germany
// (whitelisted by its country), used four networks of Germany new to it
// within a day (a train's, a hotel's, a conference's, a friend's), then
// logged in once from a new country, is a trip (low), as with its
// addresses whitelisted otherwise; not "1 new country and 5 new networks
// within 24 h" (high). Nor is a new account whose first day is five
// networks of Germany, all whitelisted by the country.
func TestHomeNetworksNotManyPlaces(t *testing.T) {
	home := Where{IP: "91.0.0.9", Country: "DE", City: "Munich", ASN: 3320, Org: "Deutsche Telekom AG", HasLoc: true, Lat: 48.14, Lon: 11.58, AccuracyKM: 20}
	others := []Where{
		{IP: "37.80.1.1", Country: "DE", ASN: 6805, Org: "Telefonica Germany"},
		{IP: "92.72.1.1", Country: "DE", ASN: 8881, Org: "1&1 Versatel"},
		{IP: "188.192.1.1", Country: "DE", ASN: 31334, Org: "Vodafone Kabel Deutschland"},
		{IP: "78.42.1.1", Country: "DE", ASN: 31334 + 1, Org: "Some German ISP"},
	}
	abroad := Where{IP: "81.56.1.1", Country: "FR", ASN: 12322, Org: "Free SAS"}
	for _, c := range []struct {
		name  string
		trust func(*Where)
	}{
		{"country_ignore", func(w *Where) { w.Trusted, w.Home = true, true }},
		{"ip_ignore", func(w *Where) { w.Trusted = true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var evs []ev
			for d := range 5 {
				for i := range 3 {
					h := home
					c.trust(&h)
					evs = append(evs, ev{w: h, at: time.Duration(d)*day + time.Duration(i)*3*time.Hour})
				}
			}
			for i, o := range others {
				c.trust(&o)
				evs = append(evs, ev{w: o, at: 6*day + time.Duration(i)*2*time.Hour})
			}
			evs = append(evs, ev{w: abroad, at: 6*day + 10*time.Hour})
			v := judge(Config{}, nil, evs)
			if v.Severity != Low || strings.Contains(v.String(), "many") {
				t.Errorf("severity %s, want low (a new country): %s", v.Severity, v)
			}
			// a new account's first day
			evs = nil
			for i, o := range append([]Where{home}, others...) {
				c.trust(&o)
				evs = append(evs, ev{w: o, at: time.Duration(i) * 2 * time.Hour})
			}
			if v := judge(Config{}, nil, evs); v.Severity != None {
				t.Errorf("first day, whitelisted only: severity %s, want none: %s", v.Severity, v)
			}
		})
	}
}
