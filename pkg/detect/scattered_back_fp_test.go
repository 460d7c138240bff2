package detect

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	bangkok   = Where{IP: "171.96.1.1", Country: "TH", City: "Bangkok", ASN: 17552, Org: "True Online", HasLoc: true, Lat: 13.7563, Lon: 100.5018, AccuracyKM: 20}
	kualaL    = Where{IP: "175.136.1.1", Country: "MY", City: "Kuala Lumpur", ASN: 4788, Org: "TM Net", HasLoc: true, Lat: 3.139, Lon: 101.6869, AccuracyKM: 20}
	singapore = Where{IP: "116.86.1.1", Country: "SG", City: "Singapore", ASN: 9506, Org: "Singtel Fibre", HasLoc: true, Lat: 1.3521, Lon: 103.8198, AccuracyKM: 20}
	jakarta   = Where{IP: "36.68.1.1", Country: "ID", City: "Jakarta", ASN: 7713, Org: "Telkom Indonesia", HasLoc: true, Lat: -6.2088, Lon: 106.8456, AccuracyKM: 20}
)

// A shared mailbox (info@, [DETECT] shared): one of its people travels,
// a country a day, each the next stop of the one before (Bangkok, Kuala
// Lumpur, Singapore, Jakarta), while the others use it at home in between.
// Their logins say nothing of where the traveller was: the countries are
// a journey's stops, not a thief's nights measured from home.
func TestScatteredBackShared(t *testing.T) {
	evs := daily(saoPaulo, 5)
	for k, w := range []Where{bangkok, kualaL, singapore, jakarta} {
		d := time.Duration(5+k) * day
		for h := range 4 { // 9:00 to 21:00 local
			evs = append(evs, ev{w: w, at: d - 6*time.Hour + time.Duration(h)*4*time.Hour})
		}
		evs = append(evs, ev{w: saoPaulo, at: d + 12*time.Hour}) // a colleague at home
	}
	slices.SortStableFunc(evs, func(x, y ev) int { return cmp.Compare(x.at, y.at) })
	cfg := Config{}.Defaults()
	a := NewAccount(&cfg, nil, NewSite(cfg))
	a.SetShared()
	for _, e := range evs {
		w := e.w
		a.Login(&w, t0.Add(e.at), t0.Add(e.at), 1)
	}
	if v := a.Verdict(); v.Severity != Low || strings.Contains(v.String(), "no journey's stops") {
		t.Errorf("a shared mailbox's traveller: %s\nwant low, not scattered", v)
	}
}
