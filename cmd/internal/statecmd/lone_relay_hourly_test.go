package statecmd

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// A password checked once (one login from Jakarta, ten minutes after the
// owner's phone in Germany), then only logins through Gmail's servers
// ("send mail as": pattern_org), for two days. One run over it all says
// medium, at the first login after the day that shows no return. Hourly
// runs said nothing: a run whose logins are all whitelisted judged the
// account only when a login not whitelisted fell within the window
// before them, and the check's verdict waits for the window to pass.
// The run that holds the first login after it now judges it, and the
// runs after do not again.
func TestHourlyLoneThroughRelays(t *testing.T) {
	const user = "bob@example.org"
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	home := placeOf(user, "79.192.10.1", "DE", "Munich", 3320, 48.1374, 11.5755)
	jakarta := placeOf(user, "36.64.157.213", "ID", "Jakarta", 7713, -6.2088, 106.8456)
	gmail := func(at time.Time, i int) *record.Record {
		r := placeOf(user, fmt.Sprintf("209.85.128.%d", i+1), "US", "", 15169, 37.751, -97.822)(at)
		r.FilteredBy = "pattern_org: AS15169"
		return r
	}
	whitelist := func(r *record.Record) string {
		if r.ASN == 15169 {
			return "pattern_org: AS15169"
		}
		return ""
	}
	// the owner's phone: its carrier's addresses, located to the country
	// only (no trip's end: impossible travel says nothing from there)
	phone := func(at time.Time, d int) *record.Record {
		r := placeOf(user, fmt.Sprintf("109.40.%d.10", d), "DE", "", 3209, 51.2993, 9.491)(at)
		r.AccuracyKM = 1000
		return r
	}
	var week []*record.Record
	for d := range 7 {
		day := t0.Add(time.Duration(d) * 24 * time.Hour)
		week = append(week, home(day.Add(7*time.Hour)), phone(day.Add(17*time.Hour), d))
	}
	check := t0.Add(7*24*time.Hour + 9*time.Hour + 10*time.Minute) // day 8, 09:10
	runs := [][]*record.Record{
		week,
		{phone(check.Add(-10*time.Minute), 7), jakarta(check)},
		{gmail(check.Add(3*time.Hour), 0)},
		{gmail(check.Add(23*time.Hour), 1)}, // the window not passed yet
		{gmail(check.Add(27*time.Hour), 2)}, // the first login after it
		{gmail(check.Add(30*time.Hour), 3)},
	}
	var shown []string // the addresses of bob's alert, at the last judge
	judge := func(s *State, rs []*record.Record) string {
		t.Helper()
		rep := batchRun(t, s, rs)
		shown = nil
		for _, a := range rep.Anomalies() {
			for _, ip := range a.IPs {
				if a.User == user {
					shown = append(shown, ip.IP)
				}
			}
		}
		return verdictOf(rep, user)
	}
	var all []*record.Record
	for _, rs := range runs {
		all = append(all, rs...)
	}
	one := judge(nil, all)
	if !strings.HasPrefix(one, "medium") || !strings.Contains(one, "its only login from there") {
		t.Fatalf("one run: %s; want medium, checked once", one)
	}
	s := sqliteState(t, nil)
	s.Whitelist = whitelist
	var got []string
	for i, rs := range runs {
		got = append(got, judge(s, rs))
		// (the check's address, and the phone's just before it, that
		// the reason cites; a run within the window after them shows
		// them so)
		if i == 4 && !(slices.Contains(shown, "36.64.157.213") && slices.Contains(shown, "109.40.7.10")) {
			t.Errorf("hourly run 4 shows %v; want the check's address and the phone's before it", shown)
		}
	}
	for i, v := range got {
		want := i == 4
		if alerted := strings.HasPrefix(v, "medium") && strings.Contains(v, "its only login from there"); alerted != want {
			t.Errorf("hourly run %d: %s; want the check alerted by run 4 alone", i, v)
		}
	}
}
