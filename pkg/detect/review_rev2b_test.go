package detect

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A quiet first day (2 logins) and, the next day, 13 logins from a
// hotel's network that no account of the site uses (strange): the pace
// is judged as 3 logins (paceLogins); 13 is not 5 times that, but it is
// 3 times, the strange network's threshold. The alert says why it fired
// (its note is decided by the pace judged, not by the 2.0 it shows).
func TestBurstQuietFirstDayStrangeNote(t *testing.T) {
	rotterdam := Where{IP: "77.164.4.22", Country: "NL", City: "Rotterdam", ASN: 1136, Org: "KPN B.V.", HasLoc: true, Lat: 51.9244, Lon: 4.4777, AccuracyKM: 20}
	var c Census
	for i := range 100 {
		c.Add(fmt.Sprintf("u%d", i), &saoPaulo, t0, t0.Add(3*day))
	}
	com := c.Common(Config{})
	evs := []ev{{w: saoPaulo, at: 0}, {w: saoPaulo, at: 2 * time.Hour}}
	for i := range 13 {
		evs = append(evs, ev{w: rotterdam, at: day + time.Duration(i)*45*time.Minute})
	}
	v := judgeAs(com, "traveller", evs)
	want := "new country NL, Rotterdam: 13 logins within 9 h 1 min (usually 2.0 in 24 h; 1 day in the logs read: BR only), from networks no account of the site uses"
	if v.Severity != Medium || !strings.Contains(v.String(), want) {
		t.Errorf("%s\nwant medium with %q", v, want)
	}
}
