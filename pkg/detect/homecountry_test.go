package detect

import (
	"fmt"
	"testing"
	"time"
)

// A holiday's hotel on a network located to its country only (Portugal),
// used for a day and more, so that Portugal has become a usual country:
// a login from Hanoi 7 minutes after the hotel's is an impossible trip.
// A place located vaguely in a usual country is no trip's start when it
// may be the owner's phone roaming home-routed, which keeps its home
// carrier's addresses anywhere in the world: the carrier of a country
// the account has used for a week or more (its home), not of a country
// of a few days' stay, whose networks' addresses place the device there
// (genlog seed 443, elias.hartmann: his hotel in France, then Hanoi).
// The same with a Portuguese phone (another address each time), and
// from the hotel's line. Moved to Portugal for good (a week and more
// there), the phone's carrier may be its own: roaming, anywhere.
func TestVagueHotelAbroadStartsATrip(t *testing.T) {
	hotel := Where{IP: "82.154.1.1", Country: "PT", ASN: 3243, Org: "MEO", HasLoc: true, Lat: 39.5, Lon: -8.0, AccuracyKM: 500}
	home := daily(saoPaulo, 10)
	// the hotel's line; or (phone) a Portuguese carrier's, another
	// address each time
	place := func(phone bool, i int) Where {
		w := hotel
		if phone {
			w.IP = fmt.Sprintf("82.154.%d.1", i)
		}
		return w
	}
	stayAs := func(phone bool, days int) []ev {
		evs := append([]ev(nil), home...)
		for d := range days {
			evs = append(evs, ev{w: place(phone, 2*d), at: (10+time.Duration(d))*day + 8*time.Hour}, ev{w: place(phone, 2*d+1), at: (10+time.Duration(d))*day + 20*time.Hour})
		}
		last := (10+time.Duration(days-1))*day + 20*time.Hour
		return append(evs, ev{w: hanoi, at: last + 7*time.Minute})
	}
	want := []string{"PT → Hanoi, VN, 10,"}
	for _, phone := range []bool{false, true} {
		checkVerdict(t, judge(Config{}, nil, stayAs(phone, 2)), High, want)
		checkVerdict(t, judgeHourly(Config{}, stayAs(phone, 2)), High, want)
	}
	if v := judge(Config{}, nil, stayAs(true, 9)); v.Severity == High {
		t.Errorf("moved to Portugal (9 days there), a Portuguese phone, then Hanoi: %s", v)
	}
}
