package detect

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// o2Phone is an O2 phone's address of session i, located to the middle of
// Germany, 500 km either way: it says nothing of where the phone is (it
// may roam abroad, home-routed).
func o2Phone(i int) Where {
	return Where{IP: fmt.Sprintf("176.1.%d.%d", 96+i/200, 10+i%200), Country: "DE", ASN: 6805, Org: "Telefonica Germany",
		HasLoc: true, Lat: 51.2993, Lon: 9.491, AccuracyKM: 500}
}

var (
	delhi   = Where{IP: "122.160.222.220", Country: "IN", City: "Delhi", ASN: 24560, Org: "Bharti Airtel", HasLoc: true, Lat: 28.6139, Lon: 77.209, AccuracyKM: 20}
	delhi2  = Where{IP: "122.161.3.7", Country: "IN", City: "Delhi", ASN: 24560, Org: "Bharti Airtel", HasLoc: true, Lat: 28.6139, Lon: 77.209, AccuracyKM: 20}
	colombo = Where{IP: "112.134.5.9", Country: "LK", City: "Colombo", ASN: 9329, Org: "Sri Lanka Telecom", HasLoc: true, Lat: 6.9271, Lon: 79.8612, AccuracyKM: 20}
	// the Outlook app's logins come from Microsoft's servers (pattern_org:
	// a relay), wherever its owner is
	outlookApp = Where{IP: "40.99.1.2", Country: "US", ASN: 8075, Org: "Microsoft Corporation", HasLoc: true, Lat: 47.6, Lon: -122.3, AccuracyKM: 1000, Relay: true}
	istanbl    = Where{IP: "88.230.1.2", Country: "TR", City: "Istanbul", ASN: 9121, Org: "Turk Telekom", HasLoc: true, Lat: 41.0082, Lon: 28.9784, AccuracyKM: 20}
)

// weekHome: a week of the home line in Hamburg at 7:35 and 19:00 and the
// phone at 13:00 (t0 is 8:00).
func weekHome() []ev {
	var evs []ev
	for d := range 7 {
		at := time.Duration(d) * day
		evs = append(evs, ev{w: dtLine(d, "Hamburg"), at: at - 25*time.Minute}, ev{w: o2Phone(d), at: at + 5*time.Hour},
			ev{w: dtLine(d, "Hamburg"), at: at + 11*time.Hour})
	}
	return evs
}

// A stolen password checked once: one login from a far country new to the
// account, minutes after the owner's phone at home, and never again from
// there. The phone says nothing of where its owner is (a traveller's
// roams), so it is no impossible trip; the next day without a login from
// there says it was no traveller's landing. Medium, once the day has
// passed: by the account's next login, or by the end of the logs read
// (Until). A traveller who logs in again from there, or from the next
// country of his tour, stays low; so does a login from nearer, or long
// after home.
func TestLoneFar(t *testing.T) {
	check := 7*day + 5*time.Hour // the phone on day 7, at 13:00
	base := append(weekHome(), ev{w: o2Phone(7), at: check})
	with := func(evs ...ev) []ev { return append(base[:len(base):len(base)], evs...) }
	const want = "new country IN, Delhi (7 days in the logs read: DE only); its only login from there, 10 min after one from DE (AS6805 Telefonica Germany), 6,050 km away; none from there, nor within 3,000 km, in the 24 h after"
	for _, c := range []struct {
		name  string
		cfg   Config
		evs   []ev
		until time.Duration // Until(t0+until); 0: not called
		sev   Severity
		want  string
		// hourly: hourly runs (each hour's logins, with the history's
		// rows of the hours before) judge it the same; they have no
		// Until: a verdict pending waits for the account's next login
		hourly bool
	}{
		{"checked once, the owner at home the next days", Config{}, with(ev{w: delhi, at: check + 10*time.Minute},
			ev{w: dtLine(8, "Hamburg"), at: 8*day + 11*time.Hour}, ev{w: dtLine(9, "Hamburg"), at: 9*day + 11*time.Hour}), 0, Medium, want, true},
		{"checked once, no login after: the logs read end 2 days later", Config{}, with(ev{w: delhi, at: check + 10*time.Minute}), 9 * day, Medium, want, false},
		{"checked once, the logs read end an hour later: pending", Config{}, with(ev{w: delhi, at: check + 10*time.Minute}), check + time.Hour, Low, "new country IN", false},
		{"checked once, no Until", Config{}, with(ev{w: delhi, at: check + 10*time.Minute}), 0, Low, "new country IN", false},
		{"a traveller, again from there the next morning", Config{}, with(ev{w: delhi, at: check + 10*time.Minute},
			ev{w: delhi2, at: check + 20*time.Hour}, ev{w: dtLine(9, "Hamburg"), at: 9*day + 11*time.Hour}), 12 * day, Low, "new country IN", true},
		{"a traveller, the next country of a tour", Config{}, with(ev{w: delhi, at: check + 10*time.Minute},
			ev{w: colombo, at: check + 20*time.Hour}, ev{w: colombo, at: check + 40*time.Hour}, ev{w: dtLine(9, "Hamburg"), at: 9*day + 11*time.Hour}), 12 * day, Low, "new country IN", true},
		{"from nearer than 5,000 km", Config{}, with(ev{w: istanbl, at: check + 10*time.Minute}), 12 * day, Low, "new country TR", false},
		{"2 h after home", Config{}, with(ev{w: delhi, at: check + 2*time.Hour}, ev{w: dtLine(9, "Hamburg"), at: 9*day + 11*time.Hour}), 12 * day, Low, "new country IN", true},
		{"checked in the hour after the phone's", Config{}, with(ev{w: o2Phone(8), at: check + 40*time.Minute}, ev{w: delhi, at: check + 70*time.Minute},
			ev{w: dtLine(9, "Hamburg"), at: 9*day + 11*time.Hour}), 0, Medium, "its only login from there, 30 min after", true},
		{"checked once, 10 min after the Outlook app's login through Microsoft", Config{}, with(ev{w: outlookApp, at: check + 4*time.Hour},
			ev{w: delhi, at: check + 4*time.Hour + 10*time.Minute}, ev{w: dtLine(9, "Hamburg"), at: 9*day + 11*time.Hour}), 0, Medium,
			"its only login from there, 10 min after one through AS8075 Microsoft Corporation (a provider's servers, which do not say where the owner is), 6,050 km from the account's last place, DE (AS6805 Telefonica Germany)", true},
		{"a traveller, 10 min after the Outlook app's, again from there", Config{}, with(ev{w: outlookApp, at: check + 4*time.Hour},
			ev{w: delhi, at: check + 4*time.Hour + 10*time.Minute}, ev{w: delhi2, at: check + 20*time.Hour}, ev{w: dtLine(9, "Hamburg"), at: 9*day + 11*time.Hour}), 0, Low, "new country IN", true},
		{"turned off", Config{LoneFar: -1}, with(ev{w: delhi, at: check + 10*time.Minute}), 12 * day, Low, "new country IN", false},
		{"1,000 km set", Config{LoneFar: 1000}, with(ev{w: istanbl, at: check + 10*time.Minute}), 12 * day, Medium, "its only login from there", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg.Defaults()
			a := NewAccount(&cfg, nil, NewSite(cfg))
			for _, e := range c.evs {
				w := e.w
				a.Login(&w, t0.Add(e.at), t0.Add(e.at), 1)
			}
			if c.until != 0 {
				a.Until(t0.Add(c.until))
			}
			v := a.Verdict()
			if v.Severity != c.sev || !strings.Contains(v.String(), c.want) {
				t.Errorf("got %s\nwant %s with %q", v, c.sev, c.want)
			}
			if c.sev < Medium && strings.Contains(v.String(), "its only login") {
				t.Errorf("got %s\nwant no lone login", v)
			}
			if !c.hourly {
				return
			}
			v = judgeHourly(c.cfg, c.evs)
			// (the account's days are "of history" there; the hours'
			// reasons are all kept, the first hour's low one too)
			want := c.want
			if _, tail, ok := strings.Cut(want, "; "); ok {
				want = tail
			}
			if v.Severity != c.sev || !strings.Contains(v.String(), want) || strings.Count(v.String(), "its only login") != b2i(c.sev >= Medium) {
				t.Errorf("hourly: got %s\nwant %s with %q, once", v, c.sev, want)
			}
		})
	}
}

// A lone far login decided in an hourly run by the account's next login,
// a relayed one (webmail), is not found pending again in the run after,
// from the history's rows: the relay's row is a login of the account too.
func TestLoneDecidedByRelayOnce(t *testing.T) {
	check := 7*day + 5*time.Hour
	relay := Where{IP: "10.9.9.9", Relay: true}
	evs := append(weekHome(), ev{w: o2Phone(7), at: check}, ev{w: delhi, at: check + 10*time.Minute},
		ev{w: relay, at: check + 30*time.Hour}, ev{w: dtLine(10, "Hamburg"), at: 10*day + 11*time.Hour})
	v := judgeHourly(Config{}, evs)
	if n := strings.Count(v.String(), "its only login"); v.Severity != Medium || n != 1 {
		t.Errorf("hourly: got %s\nwant medium, its only login told once (%d)", v, n)
	}
}

// A run (hourly, --resume) whose history has a row in use since before
// this run's first login of the account (another mail server's logins,
// cut there: Report.Know, knownBefore) still finds the lone far login of
// an earlier run pending: the cut is this run's time, not a login an
// earlier run read past the window; this run's first login, the next day,
// decides it.
func TestLoneRecalledPastCutRow(t *testing.T) {
	cfg := Config{}.Defaults()
	check := 7*day + 5*time.Hour
	evs := append(weekHome(), ev{w: o2Phone(7), at: check}, ev{w: delhi, at: check + 10*time.Minute})
	start := t0.Add(9 * day)
	other := Where{IP: "80.187.1.1", Country: "DE", ASN: 3320, Org: "Deutsche Telekom", HasLoc: true, Lat: 53.55, Lon: 10.0, AccuracyKM: 20}
	known := append(rowsOf(evs, false), Known{Where: other, First: t0.Add(6 * day), Last: start, Count: 9, Cut: true})
	a := NewAccount(&cfg, known, NewSite(cfg))
	w := dtLine(9, "Hamburg")
	a.Login(&w, start, start, 1)
	if v := a.Verdict(); v.Severity != Medium || !strings.Contains(v.String(), "its only login") {
		t.Errorf("got %s\nwant medium, its only login", v)
	}
}

// A row cut at this run's first login of the account (Report.Know,
// knownBefore) is no login from a usual country at that time: the run's
// first login, from far, is no lone far login after it.
func TestLoneNotAfterCutRow(t *testing.T) {
	cfg := Config{}.Defaults()
	start := t0.Add(9 * day)
	other := Where{IP: "80.187.1.1", Country: "DE", ASN: 3320, Org: "Deutsche Telekom", HasLoc: true, Lat: 53.55, Lon: 10.0, AccuracyKM: 20}
	known := append(rowsOf(weekHome(), false), Known{Where: other, First: t0.Add(6 * day), Last: start, Count: 9, Cut: true})
	a := NewAccount(&cfg, known, NewSite(cfg))
	w := delhi
	a.Login(&w, start, start, 1)
	a.Until(start.Add(2 * day))
	if v := a.Verdict(); strings.Contains(v.String(), "its only login") {
		t.Errorf("got %s\nwant no lone far login", v)
	}
}
