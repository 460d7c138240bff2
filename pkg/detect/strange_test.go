package detect

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A new country's burst from networks that no other account of the site
// had used for long (strange) is judged as of its time, and needs three
// times the owner's pace: the census of a whole log made a traveller's
// hotel network familiar by his own stay there (or a colleague's later
// one), so batch runs said nothing where the live reader and hourly runs,
// whose census holds the past only, alerted on a traveller catching up on
// his mail at his own pace.
func TestBurstStrangeAsOfThen(t *testing.T) {
	hotel := Where{IP: "103.21.1.9", Country: "IN", City: "Mumbai", ASN: 17488, Org: "Hathway IP Over Cable Internet", HasLoc: true, Lat: 19.076, Lon: 72.8777, AccuracyKM: 20}
	// the owner: 6 logins a day at home for a week, then n logins from
	// the hotel within 12 hours, then days there
	trip := func(n int) []ev {
		var evs []ev
		for d := range 7 {
			for h := range 6 {
				evs = append(evs, ev{w: saoPaulo, at: time.Duration(d)*day + time.Duration(h)*time.Hour})
			}
		}
		for i := range n {
			evs = append(evs, ev{w: hotel, at: 8*day + time.Duration(i)*12*time.Hour/time.Duration(n)})
		}
		for d := 9; d < 12; d++ {
			evs = append(evs, ev{w: hotel, at: time.Duration(d) * day})
		}
		return evs
	}
	census := func(extra func(c *Census)) Common {
		var c Census
		for i := range 100 {
			c.Add(fmt.Sprintf("u%d", i), &saoPaulo, t0, t0.Add(12*day))
		}
		if extra != nil {
			extra(&c)
		}
		return c.Common(Config{})
	}
	own := census(func(c *Census) { c.Add("traveller", &hotel, t0.Add(8*day), t0.Add(11*day)) })
	later := census(func(c *Census) { c.Add("u7", &hotel, t0.Add(9*day), t0.Add(12*day)) })
	before := census(func(c *Census) { c.Add("u7", &hotel, t0, t0.Add(5*day)) })
	for _, c := range []struct {
		name string
		com  Common
		n    int
		sev  Severity
		want string
	}{
		{"his own pace, twice it: a traveller", own, 12, Low, "new country IN, Mumbai (8 days"},
		{"three times his pace: his own later stay does not make it familiar", own, 18, Medium, "new country IN, Mumbai: 19 logins within 24 h 1 min (usually 5.2 in 24 h; 8 days in the logs read: BR only), from networks no account of the site uses"},
		{"a colleague there only later", later, 18, Medium, "from networks no account of the site uses"},
		{"a colleague there for days before", before, 18, Low, "new country IN, Mumbai (8 days"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if v := judgeAs(c.com, "traveller", trip(c.n)); v.Severity != c.sev || !strings.Contains(v.String(), c.want) {
				t.Errorf("severity %s, want %s with %q: %s", v.Severity, c.sev, c.want, v)
			}
		})
	}
}
