package detect

import (
	"fmt"
	"testing"
	"time"
)

// A new country's burst that goes on across two hourly runs: the first
// hour's logins, from a hotel network a colleague had used for days, are
// the history's rows in the second run. The burst is strange (all its
// logins from networks nobody else had used) in neither run: one run over
// the whole log says it is not, from the first hour's logins; an hourly
// run must say so too, from the history's rows.
func TestBurstStrangeAcrossRuns(t *testing.T) {
	hotel := Where{IP: "103.21.1.9", Country: "IN", City: "Mumbai", ASN: 17488, Org: "Hathway IP Over Cable Internet", HasLoc: true, Lat: 19.076, Lon: 72.8777, AccuracyKM: 20}
	phone := Where{IP: "117.200.3.4", Country: "IN", City: "Mumbai", ASN: 9829, Org: "National Internet Backbone", HasLoc: true, Lat: 19.076, Lon: 72.8777, AccuracyKM: 20}
	census := func(from time.Time) Common {
		var c Census
		for i := range 100 {
			c.Add(fmt.Sprintf("u%d", i), &saoPaulo, t0, t0.Add(12*day))
		}
		c.Add("u7", &hotel, from, from.Add(5*day)) // a colleague's stay
		return c.Common(Config{})
	}
	// the owner: 6 logins a day at home for a week; on day 8, 9 logins
	// from the hotel within the first hour, then 9 from a phone network
	// that nobody uses within the next hours
	var home, atHotel, onPhone []ev
	for d := range 7 {
		for h := range 6 {
			home = append(home, ev{w: saoPaulo, at: time.Duration(d)*day + time.Duration(h)*time.Hour})
		}
	}
	for i := range 9 {
		atHotel = append(atHotel, ev{w: hotel, at: 8*day + time.Duration(i)*5*time.Minute})
		onPhone = append(onPhone, ev{w: phone, at: 8*day + 2*time.Hour + time.Duration(i)*20*time.Minute})
	}
	cfg := Config{}.Defaults()
	run := func(com Common, known []Known, evs []ev) Verdict {
		site := NewSite(cfg)
		site.SetCommon(com)
		a := NewAccount(&cfg, known, site)
		a.SetUser("traveller")
		for _, e := range evs {
			w := e.w
			a.Login(&w, t0.Add(e.at), t0.Add(e.at), 1)
		}
		return a.Verdict()
	}
	for _, c := range []struct {
		name string
		from time.Time // the colleague's stay's first day
	}{
		{"a colleague there for days before", t0},
		// long (familiar) from 8 days 30 min on: the hotel's last
		// logins, after, are not strange
		{"a colleague's stay long from within the hotel's hour", t0.Add(7*day + 30*time.Minute)},
	} {
		t.Run(c.name, func(t *testing.T) {
			com := census(c.from)
			batch := run(com, nil, append(append(append([]ev(nil), home...), atHotel...), onPhone...))
			// the hourly run of the phone's logins: the rest is history
			hist := []Known{
				{Where: saoPaulo, First: t0, Last: t0.Add(6*day + 5*time.Hour), Count: int64(len(home))},
				{Where: hotel, First: t0.Add(atHotel[0].at), Last: t0.Add(atHotel[len(atHotel)-1].at), Count: int64(len(atHotel))},
			}
			hourly := run(com, hist, onPhone)
			if batch.Severity != hourly.Severity {
				t.Errorf("one run over the log: %s: %s\nthe hourly run: %s: %s", batch.Severity, batch, hourly.Severity, hourly)
			}
			if batch.Severity >= Medium {
				t.Errorf("a colleague's hotel, then the phone, at the owner's pace: %s", batch)
			}
		})
	}
}
