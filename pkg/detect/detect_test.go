package detect

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Places with their real coordinates.
var (
	saoPaulo  = Where{IP: "187.45.12.9", Country: "BR", City: "São Paulo", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -23.5475, Lon: -46.6361, AccuracyKM: 20}
	saoPaulo2 = Where{IP: "187.45.99.1", Country: "BR", City: "São Paulo", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -23.5475, Lon: -46.6361, AccuracyKM: 20}
	office    = Where{IP: "200.160.2.3", Country: "BR", City: "São Paulo", ASN: 22548, Org: "NIC.BR", HasLoc: true, Lat: -23.55, Lon: -46.63, AccuracyKM: 20}
	rio       = Where{IP: "177.12.1.1", Country: "BR", City: "Rio de Janeiro", ASN: 26615, Org: "TIM S/A", HasLoc: true, Lat: -22.9068, Lon: -43.1729, AccuracyKM: 100}
	osaka     = Where{IP: "133.242.1.1", Country: "JP", City: "Osaka", ASN: 7684, Org: "SAKURA Internet Inc.", HasLoc: true, Lat: 34.6937, Lon: 135.5023, AccuracyKM: 50}
	moscow    = Where{IP: "95.165.1.1", Country: "RU", City: "Moscow", ASN: 25513, Org: "PJSC Moscow city telephone network", HasLoc: true, Lat: 55.7558, Lon: 37.6173, AccuracyKM: 50}
	moscow2   = Where{IP: "95.165.2.2", Country: "RU", City: "Moscow", ASN: 25513, Org: "PJSC Moscow city telephone network", HasLoc: true, Lat: 55.7558, Lon: 37.6173, AccuracyKM: 50}
	lisbon    = Where{IP: "188.80.1.1", Country: "PT", City: "Lisbon", ASN: 2860, Org: "NOS COMUNICACOES", HasLoc: true, Lat: 38.7167, Lon: -9.1333, AccuracyKM: 20}
	lagos     = Where{IP: "41.203.64.7", Country: "NG", City: "Lagos", ASN: 37148, Org: "Globacom Limited", HasLoc: true, Lat: 6.4541, Lon: 3.3947, AccuracyKM: 50}
	hanoi     = Where{IP: "118.69.77.12", Country: "VN", City: "Hanoi", ASN: 18403, Org: "FPT Telecom Company", HasLoc: true, Lat: 21.0285, Lon: 105.8542, AccuracyKM: 50}
	cloudBR   = Where{IP: "54.232.0.10", Country: "BR", City: "São Paulo", ASN: 16509, Org: "AMAZON-02", HasLoc: true, Lat: -23.5475, Lon: -46.6361, AccuracyKM: 20}
	vpnUS     = Where{IP: "165.225.1.1", Country: "US", City: "San Jose", ASN: 22616, Org: "ZSCALER-SJC1", HasLoc: true, Lat: 37.3382, Lon: -121.8863, AccuracyKM: 20}
	nowhere   = Where{IP: "198.18.0.1"} // nothing known
)

func trusted(w Where) Where { w.Trusted = true; return w }
func relay(w Where) Where   { w.Relay = true; return w }

// A roaming phone: its home carrier's address, located to the country only.
var roaming = Where{IP: "177.79.1.1", Country: "BR", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -22.8305, Lon: -43.2192, AccuracyKM: 1000}

// A home line located to its region only (200 km): vague, but held.
var homeLine = Where{IP: "187.8.20.30", Country: "BR", City: "São Paulo", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -23.5475, Lon: -46.6361, AccuracyKM: 200}

// The roaming phone again, attached anew abroad: another address.
var roaming2 = Where{IP: "177.79.8.9", Country: "BR", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -22.8305, Lon: -43.2192, AccuracyKM: 1000}

// And again, attached anew in another country.
var roaming3 = Where{IP: "177.79.30.4", Country: "BR", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -22.8305, Lon: -43.2192, AccuracyKM: 1000}

type ev struct {
	w    Where
	at   time.Duration // since t0
	n    int           // logins (default 1)
	fail int           // failures from w before it, a minute apart
}

var t0 = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// daily is a login from w every day at 8:00 and 18:00 for days days.
func daily(w Where, days int) []ev {
	var out []ev
	for d := range days {
		out = append(out, ev{w: w, at: time.Duration(d) * day}, ev{w: w, at: time.Duration(d)*day + 10*time.Hour})
	}
	return out
}

func judge(cfg Config, known []Known, evs []ev) Verdict {
	cfg = cfg.Defaults()
	site := NewSite(cfg)
	for _, e := range evs {
		for i := range e.fail {
			at := t0.Add(e.at - time.Duration(e.fail-i)*time.Minute)
			site.Failures.Add(e.w.IP, at, at, 1)
		}
	}
	a := NewAccount(&cfg, known, site)
	for _, e := range evs {
		w := e.w
		a.Login(&w, t0.Add(e.at), t0.Add(e.at), max(e.n, 1))
	}
	return a.Verdict()
}

// judgeCommon is the verdict on the logins evs of a new account of a site
// whose common places and exits are com.
func judgeCommon(cfg Config, com Common, evs []ev) Verdict {
	site := NewSite(cfg)
	site.SetCommon(com)
	a := NewAccount(&cfg, nil, site)
	for _, e := range evs {
		w := e.w
		a.Login(&w, t0.Add(e.at), t0.Add(e.at), 1)
	}
	return a.Verdict()
}

func TestDetectors(t *testing.T) {
	home := daily(saoPaulo, 5) // five days at home: the first day is learned
	after := 5 * day           // the day after
	for _, c := range []struct {
		name string
		cfg  Config
		evs  []ev
		sev  Severity
		want []string // substrings of the reasons, in order
	}{
		{"home only", Config{}, home, None, nil},
		{"rotating home addresses", Config{}, append(home[:len(home):len(home)], ev{w: saoPaulo2, at: after}), None, nil},
		{"a new network at home is noted, not alerted", Config{}, append(home[:len(home):len(home)], ev{w: office, at: after}), None, nil},
		{"a phone's hub 360 km away, minutes apart: too short to judge", Config{},
			append(home[:len(home):len(home)], ev{w: rio, at: after}, ev{w: saoPaulo, at: after + 5*time.Minute}), None, nil},
		{"trip abroad the next day: low", Config{},
			append(home[:len(home):len(home)], ev{w: lisbon, at: after + 20*time.Hour}), Low,
			[]string{"new country PT, Lisbon (5 days in the logs read: BR only)"}},
		{"Osaka 20 minutes after home", Config{},
			append(home[:len(home):len(home)], ev{w: saoPaulo, at: after}, ev{w: osaka, at: after + 20*time.Minute}), High,
			[]string{"São Paulo, BR → Osaka, JP, 18,760 km in 20 min", "new country JP, Osaka"}},
		{"there and back is one finding, counted", Config{},
			append(home[:len(home):len(home)], ev{w: saoPaulo, at: after}, ev{w: osaka, at: after + 20*time.Minute}, ev{w: saoPaulo, at: after + 40*time.Minute}), High,
			[]string{"São Paulo, BR → Osaka, JP, 18,760 km in 20 min (2 times)"}},
		{"a faster plane allowed", Config{MaxSpeed: 60000},
			append(home[:len(home):len(home)], ev{w: saoPaulo, at: after}, ev{w: osaka, at: after + 20*time.Minute}), Low, []string{"new country JP"}},
		{"two addresses in one foreign country, the owner at home between", Config{},
			append(home[:len(home):len(home)], ev{w: moscow, at: after + 19*time.Hour}, ev{w: saoPaulo, at: after + 24*time.Hour}, ev{w: moscow2, at: after + 43*time.Hour}), High,
			[]string{"Moscow, RU → São Paulo, BR, 11,810 km in 5 h"}},
		{"failures from an address, then a login from it, from a new country", Config{},
			append(home[:len(home):len(home)], ev{w: moscow, at: after + 3*time.Hour, n: 300, fail: 4}), High,
			[]string{"4 failed logins from 95.165.1.1, then a login from there (new country RU, Moscow)", "new country RU"}},
		{"too few failures", Config{},
			append(home[:len(home):len(home)], ev{w: moscow, at: after + 3*time.Hour, fail: 2}), Low, []string{"new country RU"}},
		{"failures at home are typos", Config{},
			append(home[:len(home):len(home)], ev{w: saoPaulo, at: after, fail: 5}), None, nil},
		{"failures, then a new network at home: low", Config{},
			append(home[:len(home):len(home)], ev{w: office, at: after, fail: 3}), Low, []string{"3 failed logins from 200.160.2.3, then a login from there (new network AS22548 NIC.BR)"}},
		{"failures, then a data centre at home sending hundreds: a new network's burst", Config{},
			append(home[:len(home):len(home)], ev{w: cloudBR, at: after + 3*time.Hour, fail: 4}, ev{w: cloudBR, at: after + 4*time.Hour, n: 299}), Medium,
			[]string{"new network AS16509 AMAZON-02 (BR, São Paulo): 300 logins within 1 h 1 min (usually 2.0 in 24 h; 5 days in the logs read: BR only)",
				"4 failed logins from 54.232.0.10, then a login from there (new network AS16509 AMAZON-02)"}},
		{"a new network at home used as much as usual: no burst", Config{},
			append(home[:len(home):len(home)], ev{w: office, at: after, n: 3}, ev{w: office, at: after + 5*time.Hour, n: 3}), None, nil},
		{"botnet on a new account: many places at once", Config{},
			[]ev{{w: moscow, at: 0}, {w: lagos, at: time.Minute}, {w: hanoi, at: 2 * time.Minute}, {w: lisbon, at: 3 * time.Minute}}, High,
			[]string{"4 new countries (NG PT RU VN) and 4 new networks within 24 h"}},
		{"many places turned off", Config{ManyCountries: -1, ManyNetworks: -1},
			[]ev{{w: moscow, at: 0}, {w: lagos, at: time.Minute}, {w: hanoi, at: 2 * time.Minute}}, None, nil},
		{"one new country a night: the third night, as many places and travel", Config{},
			append(home[:len(home):len(home)], ev{w: moscow, at: after + 19*time.Hour}, ev{w: saoPaulo, at: after + 24*time.Hour},
				ev{w: lagos, at: after + 43*time.Hour}, ev{w: saoPaulo, at: after + 48*time.Hour}), High,
			[]string{"→"}},
		{"a VPN exit abroad used every day is usual", Config{},
			func() []ev {
				var out []ev
				for d := range 5 {
					out = append(out, ev{w: saoPaulo, at: time.Duration(d) * day}, ev{w: vpnUS, at: time.Duration(d)*day + 30*time.Minute})
				}
				return out
			}(), None, nil},
		{"home whitelisted is the home end of the trip", Config{},
			[]ev{{w: trusted(saoPaulo), at: 0}, {w: trusted(saoPaulo), at: 3 * day}, {w: osaka, at: 3*day + 20*time.Minute}}, High,
			[]string{"São Paulo, BR → Osaka, JP"}},
		{"a relay (Gmail's servers, whitelisted) is not the user's place: no trip to or from it", Config{},
			append(home[:len(home):len(home)], ev{w: relay(vpnUS), at: after}, ev{w: saoPaulo, at: after + 10*time.Minute}), None, nil},
		{"a relay is not usual either", Config{},
			[]ev{{w: relay(osaka), at: 0}, {w: relay(osaka), at: 2 * day}, {w: saoPaulo, at: 2*day + time.Hour}, {w: saoPaulo, at: 4 * day}, {w: osaka, at: 4*day + 20*time.Minute}}, High,
			[]string{"São Paulo, BR → Osaka, JP"}},
		// (a Gmail-only account: its first login not relayed, days
		// later, used to start its first day and be learnt as usual)
		{"the first day starts at the account's first login, a relay's too", Config{},
			[]ev{{w: relay(vpnUS), at: 0}, {w: relay(vpnUS), at: 2 * day}, {w: lagos, at: 4 * day}}, Low,
			[]string{"new country NG, Lagos (4 days in the logs read: through whitelisted providers only)"}},
		{"... and a thief's login after failures, on such an account, is found", Config{},
			[]ev{{w: relay(vpnUS), at: 0}, {w: relay(vpnUS), at: 2 * day}, {w: lagos, at: 4 * day, fail: 5}}, High,
			[]string{"5 failed logins from 41.203.64.7, then a login from there (new country NG, Lagos)"}},
		{"a location known to the country only is too vague for a trip", Config{},
			// (the phone attached anew abroad: another address than at home)
			append(daily(roaming, 3), ev{w: lisbon, at: 3*day + 2*time.Hour}, ev{w: roaming2, at: 3*day + 3*time.Hour}), Low,
			[]string{"new country PT"}},
		{"a quiet account's new country sending mail: burst", Config{},
			func() []ev {
				out := []ev{{w: saoPaulo, at: 0}, {w: saoPaulo, at: 3 * day}, {w: saoPaulo, at: 6 * day}}
				for i := range 12 {
					out = append(out, ev{w: lagos, at: 9*day + time.Duration(i)*10*time.Minute})
				}
				return out
			}(), Medium,
			[]string{"new country NG, Lagos: 12 logins within 1 h 51 min (usually 0.3 in 24 h; 9 days in the logs read: BR only)"}},
		{"a busy account abroad is no burst", Config{},
			func() []ev {
				var out []ev
				for d := range 6 {
					for h := range 8 {
						out = append(out, ev{w: saoPaulo, at: time.Duration(d)*day + time.Duration(h)*time.Hour})
					}
				}
				for i := range 12 {
					out = append(out, ev{w: lisbon, at: 7*day + time.Duration(i)*30*time.Minute})
				}
				return out
			}(), Low, []string{"new country PT, Lisbon (7 days in the logs read: BR only)"}},
		{"one quiet login long ago does not make a place usual", Config{},
			append(home[:len(home):len(home)], ev{w: osaka, at: 2 * day}, ev{w: saoPaulo, at: after}, ev{w: osaka, at: after + 20*time.Minute}), High,
			[]string{"São Paulo, BR → Osaka, JP"}},
		{"a place forgotten and used again is new for more than one login", Config{Learn: 3 * day},
			func() []ev {
				out := []ev{{w: saoPaulo, at: 0}, {w: lagos, at: day + time.Hour}, {w: lagos, at: 2 * day}, {w: saoPaulo, at: 3 * day}, {w: saoPaulo, at: 6 * day}, {w: saoPaulo, at: 9 * day}}
				for i := range 12 {
					out = append(out, ev{w: lagos, at: 9*day + 10*time.Hour + time.Duration(i)*time.Minute})
				}
				return out
			}(), Medium, []string{"new country NG, Lagos: 12 logins"}},
		{"the owner at home, a phone in between, Osaka: judged across the phone", Config{},
			append(append(home[:len(home):len(home)], daily(roaming, 5)...), ev{w: saoPaulo, at: after}, ev{w: roaming, at: after + 10*time.Minute}, ev{w: osaka, at: after + 20*time.Minute}), High,
			[]string{"São Paulo, BR → Osaka, JP, 18,760 km in 20 min"}},
		{"a hotel abroad, the roaming phone, then a login from the other side of the world: judged across the phone", Config{},
			append(append(home[:len(home):len(home)], daily(roaming, 5)...), ev{w: lisbon, at: after + 20*time.Hour},
				ev{w: roaming2, at: after + 20*time.Hour + 20*time.Minute}, ev{w: osaka, at: after + 20*time.Hour + 40*time.Minute}), High,
			[]string{"Lisbon, PT → Osaka, JP, 11,080 km in 40 min"}},
		{"a traveller's roaming phone between hotel logins: no trip", Config{},
			// (attached anew abroad: another address than at home)
			append(append(home[:len(home):len(home)], daily(roaming, 5)...), ev{w: saoPaulo, at: after}, ev{w: lisbon, at: after + 20*time.Hour},
				ev{w: roaming2, at: after + 21*time.Hour}, ev{w: lisbon, at: after + 22*time.Hour}, ev{w: roaming2, at: after + 23*time.Hour}), Low,
			[]string{"new country PT"}},
		{"a far login between uses of a line located vaguely, held for hours: the owner was at home", Config{},
			append(daily(homeLine, 5), ev{w: homeLine, at: after}, ev{w: hanoi, at: after + 3*time.Hour}, ev{w: homeLine, at: after + 4*time.Hour}), High,
			[]string{"São Paulo, BR → Hanoi, VN, 17,180 km in 3 h; meanwhile 187.8.20.30 (São Paulo, BR), in use for 5 days, before (2 times)", "new country VN"}},
		{"a far login minutes after a line located vaguely, held for hours, and nothing after: the owner was at home", Config{},
			append(daily(homeLine, 5), ev{w: homeLine, at: after}, ev{w: homeLine, at: after + 10*time.Hour}, ev{w: hanoi, at: after + 10*time.Hour + 4*time.Minute}), High,
			[]string{"São Paulo, BR → Hanoi, VN, 17,180 km in 4 min; meanwhile 187.8.20.30 (São Paulo, BR), in use for 5 days, before"}},
		{"a far login, then a line located vaguely first used minutes after and held for hours: the owner was at home", Config{},
			append(home[:len(home):len(home)], ev{w: hanoi, at: after + 20*time.Hour}, ev{w: homeLine, at: after + 20*time.Hour + 15*time.Minute}, ev{w: homeLine, at: after + 24*time.Hour}), High,
			[]string{"Hanoi, VN → São Paulo, BR, 17,180 km in 15 min; meanwhile 187.8.20.30 (São Paulo, BR), in use for 3 h 45 min, after"}},
		{"the same held for less than 3 hours: a phone's address, no trip", Config{},
			append(home[:len(home):len(home)], ev{w: hanoi, at: after + 20*time.Hour}, ev{w: homeLine, at: after + 20*time.Hour + 15*time.Minute}, ev{w: homeLine, at: after + 22*time.Hour}), Low,
			[]string{"new country VN"}},
		{"a line held for hours, then a far login a possible flight after: no trip", Config{},
			append(daily(homeLine, 5), ev{w: hanoi, at: 4*day + 10*time.Hour + 18*time.Hour}), Low,
			[]string{"new country VN"}},
		{"the same on a line just taken (a phone's address, held for minutes): no trip", Config{},
			// (a day after the line's last use: a possible flight from it)
			append(daily(homeLine, 5), ev{w: roaming2, at: after + 20*time.Hour}, ev{w: hanoi, at: after + 20*time.Hour + 20*time.Minute}, ev{w: roaming2, at: after + 20*time.Hour + 40*time.Minute}), Low,
			[]string{"new country VN"}},
		{"a new country a night, the owner at home between on a line located vaguely: the line is held across them", Config{},
			append(daily(homeLine, 5), ev{w: moscow, at: after + 19*time.Hour}, ev{w: homeLine, at: after + 24*time.Hour},
				ev{w: lagos, at: after + 44*time.Hour}, ev{w: homeLine, at: after + 49*time.Hour},
				ev{w: hanoi, at: after + 69*time.Hour}, ev{w: homeLine, at: after + 74*time.Hour}), High,
			[]string{"Moscow, RU → São Paulo, BR, 11,810 km in 5 h", "Lagos, NG → São Paulo, BR, 6,370 km in 5 h", "Hanoi, VN → São Paulo, BR, 17,180 km in 5 h;"}},
		{"a traveller in two countries whose roaming phone attached anew in each: no trip", Config{},
			append(append(home[:len(home):len(home)], daily(roaming, 5)...), ev{w: lisbon, at: after + 20*time.Hour},
				ev{w: roaming2, at: after + 21*time.Hour}, ev{w: lisbon, at: after + 22*time.Hour},
				ev{w: moscow, at: after + 50*time.Hour}, ev{w: roaming3, at: after + 51*time.Hour}, ev{w: moscow, at: after + 52*time.Hour}), Low,
			[]string{"new country PT"}},
		{"a line held before and after a trip to two countries: the trips were possible", Config{},
			append(daily(homeLine, 5), ev{w: lisbon, at: after + 20*time.Hour}, ev{w: moscow, at: after + 50*time.Hour},
				ev{w: homeLine, at: after + 80*time.Hour}, ev{w: homeLine, at: after + 90*time.Hour}), Low,
			[]string{"new country PT"}},
		{"a new network of the usual country located vaguely (a phone's carrier, at its gateway) is no trip's end", Config{},
			append(home[:len(home):len(home)], ev{w: saoPaulo, at: after},
				ev{w: Where{IP: "179.240.1.1", Country: "BR", City: "Manaus", ASN: 26615, Org: "TIM S/A", HasLoc: true, Lat: -3.119, Lon: -60.0217, AccuracyKM: 200}, at: after + 30*time.Minute},
				ev{w: saoPaulo, at: after + time.Hour}), None, nil},
		{"a place located to its country only is anywhere in it", Config{},
			append(home[:len(home):len(home)], ev{w: Where{IP: "198.51.100.7", Country: "US", ASN: 7018, HasLoc: true, Lat: 37.751, Lon: -97.822, AccuracyKM: 1000}, at: after},
				ev{w: vpnUS, at: after + 15*time.Minute}), Low, []string{"new country US"}},
		{"a whitelisted login is never a finding", Config{},
			append(home[:len(home):len(home)], ev{w: trusted(osaka), at: after}), None, nil},
		{"an address without a country is no country", Config{},
			[]ev{{w: moscow, at: 0}, {w: nowhere, at: time.Minute}, {w: lagos, at: 2 * time.Minute}}, None, nil},
		{"a place unused for longer than learn is new again", Config{Learn: 3 * day},
			append(daily(saoPaulo, 1), ev{w: lisbon, at: 5 * day}, ev{w: saoPaulo, at: 6 * day}), Low,
			[]string{"new country PT, Lisbon (3 days in the logs read: none)", "new country BR, São Paulo (3 days in the logs read: none)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkVerdict(t, judge(c.cfg, nil, c.evs), c.sev, c.want)
		})
	}
}

// checkVerdict: v has the severity sev, and its text holds the pieces
// want, in that order.
func checkVerdict(t *testing.T, v Verdict, sev Severity, want []string) {
	t.Helper()
	if v.Severity != sev {
		t.Errorf("severity %s, want %s: %s", v.Severity, sev, v)
	}
	text := v.String()
	for _, w := range want {
		i := strings.Index(text, w)
		if i < 0 {
			t.Errorf("verdict lacks %q: %s", w, text)
			continue
		}
		text = text[i+len(w):]
	}
}

// The history from the state: usual places and the last login before the
// run, which a trip starts from.
func TestHistory(t *testing.T) {
	cfg := Config{}.Defaults()
	known := []Known{
		{Where: saoPaulo, First: t0.Add(-20 * day), Last: t0.Add(-10 * time.Minute), Count: 80},
		{Where: vpnUS, First: t0.Add(-15 * day), Last: t0.Add(-2 * day), Count: 20},
	}
	a := NewAccount(&cfg, known, nil)
	a.Login(&osaka, t0.Add(10*time.Minute), t0.Add(10*time.Minute), 1)
	v := a.Verdict()
	if v.Severity != High || !strings.Contains(v.String(), "São Paulo, BR → Osaka, JP, 18,760 km in 20 min") ||
		!strings.Contains(v.String(), "new country JP, Osaka (20 days of history: BR US)") {
		t.Errorf("verdict: %s", v)
	}
	// The VPN exit is usual: no trip is judged between usual places.
	a = NewAccount(&cfg, known, nil)
	a.Login(&vpnUS, t0, t0, 1)
	if v := a.Verdict(); v.Severity != None {
		t.Errorf("usual places: %s", v)
	}
	// A history of less than a day is the account's first day: learned.
	young := []Known{{Where: moscow, First: t0.Add(-2 * time.Hour), Last: t0.Add(-time.Hour), Count: 3}}
	a = NewAccount(&cfg, young, nil)
	a.Login(&saoPaulo, t0.Add(5*time.Hour), t0.Add(5*time.Hour), 1)
	if v := a.Verdict(); v.Severity != None {
		t.Errorf("first day across runs: %s", v)
	}
	a.Login(&osaka, t0.Add(26*time.Hour), t0.Add(26*time.Hour), 1)
	if v := a.Verdict(); v.Severity != Low || !strings.Contains(v.String(), "less than a day of history") && !strings.Contains(v.String(), "1 day of history: BR RU") {
		t.Errorf("after the first day: %s", v)
	}
}

// Places that many of the site's accounts use for long are usual for all.
func TestCensus(t *testing.T) {
	var c Census
	for i, u := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		c.Add(u, &saoPaulo, t0, t0.Add(10*day))
		c.Add(u, &office, t0, t0.Add(10*day))
		if i < 3 {
			c.Add(u, &vpnUS, t0, t0.Add(9*day)) // a VPN's exit abroad, for three
		}
		if i == 3 || i == 4 {
			c.Add(u, &lagos, t0, t0.Add(3*day)) // two: a thief holding two accounts, not common
		}
		if i == 2 {
			c.Add(u, &osaka, t0, t0.Add(3*day)) // one: never common
		}
		if i < 5 {
			c.Add(u, &moscow, t0, t0.Add(time.Hour)) // five, for an hour: a campaign
		}
	}
	com := c.Common(Config{})
	if fmt.Sprint(com.Countries, com.Networks, com.Exits) != fmt.Sprint([]string{"BR"}, []uint32{office.ASN, vpnUS.ASN, saoPaulo.ASN}, []uint32{vpnUS.ASN}) ||
		!com.Since["BR"].Equal(t0.Add(day)) || !com.Since["AS22616"].Equal(t0.Add(day)) {
		t.Errorf("common: %+v", com)
	}
	// An office's network alone, everyone's: common, no exit.
	var c2 Census
	for _, u := range []string{"a", "b", "c"} {
		c2.Add(u, &office, t0, t0.Add(3*day))
	}
	if com2 := c2.Common(Config{}); fmt.Sprint(com2.Countries, com2.Networks, com2.Exits) != fmt.Sprint([]string{"BR"}, []uint32{office.ASN}, []uint32(nil)) {
		t.Errorf("common: %+v", com2)
	}
	// A mass compromise: every account's home network for days, and one
	// moment abroad for most of them. The home network stays home, not
	// an exit (which no trip would start from).
	var c3 Census
	for i, u := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		c3.Add(u, &saoPaulo, t0, t0.Add(10*day))
		if i < 7 {
			at := t0.Add(10*day + time.Duration(i)*time.Minute)
			c3.Add(u, &osaka, at, at)
		}
	}
	if com3 := c3.Common(Config{}); fmt.Sprint(com3.Countries, com3.Networks, com3.Exits) != fmt.Sprint([]string{"BR"}, []uint32{saoPaulo.ASN}, []uint32(nil)) {
		t.Errorf("a mass compromise: %+v", com3)
	}
	cfg := Config{}.Defaults()
	site := NewSite(cfg)
	site.SetCommon(com)
	// A new account at the office, then at a colleague's home network:
	// usual places of the site.
	a := NewAccount(&cfg, nil, site)
	for _, e := range append(daily(office, 3), ev{w: saoPaulo, at: 3 * day}) {
		w := e.w
		a.Login(&w, t0.Add(e.at), t0.Add(e.at), 1)
	}
	if v := a.Verdict(); v.Severity != None {
		t.Errorf("a common place is usual: %s", v)
	}
	// The VPN's exit is no trip's end: a VPN user at a hotel in Osaka,
	// one minute after the VPN; the office, 20 minutes before, is.
	a = NewAccount(&cfg, nil, site)
	for _, e := range append(daily(saoPaulo, 3), ev{w: vpnUS, at: 3*day + 20*time.Hour}, ev{w: osaka, at: 3*day + 20*time.Hour + time.Minute}) {
		w := e.w
		a.Login(&w, t0.Add(e.at), t0.Add(e.at), 1)
	}
	if v := a.Verdict(); v.Severity != Low {
		t.Errorf("a VPN's exit: %s", v)
	}
	a.Login(&office, t0.Add(5*day), t0.Add(5*day), 1)
	a.Login(&osaka, t0.Add(5*day+20*time.Minute), t0.Add(5*day+20*time.Minute), 1)
	if v := a.Verdict(); v.Severity != High {
		t.Errorf("from the office: %s", v)
	}
}

// A thief holding several accounts of a site, from one hosting network
// for days: the network becomes common (and an exit) only once three
// accounts have used it for a day, so the theft's first day is judged
// as it is, and every account is flagged.
func TestSharedThief(t *testing.T) {
	amsterdam := Where{IP: "185.1.1.1", Country: "NL", City: "Amsterdam", ASN: 43350, Org: "NForce Entertainment B.V.", HasLoc: true, Lat: 52.37, Lon: 4.89, AccuracyKM: 20}
	users := []string{"a", "b", "c"}
	for i := range 20 {
		users = append(users, fmt.Sprintf("u%d", i))
	}
	cfg := Config{}.Defaults()
	var c Census
	for _, u := range users {
		c.Add(u, &saoPaulo, t0, t0.Add(10*day))
	}
	for _, u := range users[:3] {
		c.Add(u, &amsterdam, t0.Add(5*day), t0.Add(7*day))
	}
	site := NewSite(cfg)
	com := c.Common(cfg)
	site.SetCommon(com)
	if !com.Since["AS43350"].Equal(t0.Add(6 * day)) {
		t.Errorf("common: %+v", com)
	}
	for _, u := range users[:3] {
		a := NewAccount(&cfg, nil, site)
		for _, e := range daily(saoPaulo, 5) {
			w := e.w
			a.Login(&w, t0.Add(e.at), t0.Add(e.at), 1)
		}
		for i := range 300 {
			at := t0.Add(5*day + time.Duration(i)*10*time.Minute)
			a.Login(&amsterdam, at, at, 1)
		}
		if v := a.Verdict(); v.Severity < Medium {
			t.Errorf("%s: %s", u, v)
		}
	}
}

func TestFailures(t *testing.T) {
	f := NewFailures(Config{Window: time.Hour})
	f.Add("192.0.2.1", t0, t0, 1)
	f.Add("192.0.2.1", t0.Add(10*time.Minute), t0.Add(20*time.Minute), 3)
	f.Add("192.0.2.1", t0.Add(5*time.Hour), t0.Add(5*time.Hour), 1) // a new run
	for _, c := range []struct {
		at   time.Duration
		want int
	}{{0, 0}, {time.Minute, 1}, {30 * time.Minute, 4}, {90 * time.Minute, 0}, {3 * time.Hour, 0}, {5*time.Hour + time.Second, 1}} {
		if got := f.Before("192.0.2.1", t0.Add(c.at)); got != c.want {
			t.Errorf("at +%s: %d, want %d", c.at, got, c.want)
		}
	}
	if got := f.Before("192.0.2.2", t0.Add(time.Hour)); got != 0 {
		t.Errorf("another address: %d", got)
	}
	f.Forget(t0.Add(3 * time.Hour))
	if f.Len() != 1 || f.Before("192.0.2.1", t0.Add(5*time.Hour+time.Second)) != 1 {
		t.Errorf("after Forget: %d addresses, %d", f.Len(), f.Before("192.0.2.1", t0.Add(5*time.Hour+time.Second)))
	}
	f.Forget(t0.Add(9 * time.Hour))
	if f.Len() != 0 {
		t.Errorf("all forgotten: %d left", f.Len())
	}
	// Deferred (a batch): noted, then filed for the addresses kept only.
	d := NewFailures(Config{Window: time.Hour})
	d.Deferred = true
	for i := range 10000 { // more than a block
		d.Add(fmt.Sprintf("198.51.%d.%d", i/250, i%250), t0, t0, 1)
	}
	d.Add("2001:db8::1", t0, t0, 2)
	d.Add("192.0.2.1", t0.Add(time.Minute), t0.Add(2*time.Minute), 3)
	if d.Len() != 0 {
		t.Errorf("filed before Keep: %d", d.Len())
	}
	d.Keep([]string{"192.0.2.1", "2001:db8::1", "198.51.39.249"})
	if d.Len() != 3 || d.Before("192.0.2.1", t0.Add(5*time.Minute)) != 3 || d.Before("2001:db8::1", t0.Add(time.Second)) != 2 ||
		d.Before("198.51.39.249", t0.Add(time.Second)) != 1 || d.Before("198.51.0.1", t0.Add(time.Second)) != 0 {
		t.Errorf("kept: %d addresses", d.Len())
	}
	// Before files what was noted, all of it, when Keep was not called.
	d.Add("203.0.113.9", t0, t0, 1)
	if d.Before("203.0.113.9", t0.Add(time.Second)) != 1 {
		t.Error("Before without Keep")
	}
	// However the producer spelled the address.
	for _, deferred := range []bool{false, true} {
		e := NewFailures(Config{Window: time.Hour})
		e.Deferred = deferred
		e.Add("2001:DB8::7", t0, t0, 2)
		e.Add("::ffff:198.51.100.7", t0, t0, 3)
		e.Keep([]string{"2001:db8::7", "198.51.100.7"})
		if e.Before("2001:db8:0:0::7", t0.Add(time.Second)) != 2 || e.Before("198.51.100.7", t0.Add(time.Second)) != 3 {
			t.Errorf("deferred %v: spelled otherwise", deferred)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b Where
		km   float64
	}{{saoPaulo, osaka, 18760}, {saoPaulo, lisbon, 7949}, {saoPaulo, rio, 360}, {saoPaulo, saoPaulo2, 0}} {
		if got := Distance(c.a.Lat, c.a.Lon, c.b.Lat, c.b.Lon); math.Abs(got-c.km) > 10 {
			t.Errorf("%s → %s: %.0f km, want %.0f", c.a.City, c.b.City, got, c.km)
		}
	}
}

func TestSeverityText(t *testing.T) {
	for _, s := range []Severity{None, Low, Medium, High} {
		b, _ := s.MarshalText()
		var back Severity
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("%s: %v %v", s, back, err)
		}
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("severe parsed")
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{30 * time.Second: "30 s", 20 * time.Minute: "20 min",
		5 * time.Hour: "5 h", 125 * time.Minute: "2 h 5 min", 72 * time.Hour: "3 days"} {
		if got := span(d); got != want {
			t.Errorf("span(%s) = %q, want %q", d, got, want)
		}
	}
	if got := thousands(18760); got != "18,760" {
		t.Errorf("thousands: %s", got)
	}
}

// BenchmarkLogin: the cost of judging one login, an account that goes
// between home, the office and a phone all day (the common case: each
// login a step to judge).
func BenchmarkLogin(b *testing.B) {
	cfg := Config{}.Defaults()
	places := []Where{saoPaulo, office, rio, saoPaulo2}
	a := NewAccount(&cfg, nil, NewSite(cfg))
	t := t0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t = t.Add(7 * time.Minute)
		a.Login(&places[i%len(places)], t, t, 1)
	}
}

// An exit (a VPN's, common on the site) is no trip's end, whether the trip
// is judged from the login just before or, across others, from the last
// place that was not usual: an account's first uses of the company's VPN
// exit abroad, between logins at home, are no impossible trip.
func TestExitNoTripEnd(t *testing.T) {
	vpnNL := Where{IP: "95.211.146.1", Country: "NL", City: "Amsterdam", ASN: 60781, Org: "LeaseWeb Netherlands B.V.", HasLoc: true, Lat: 52.37, Lon: 4.89, AccuracyKM: 20}
	cfg := Config{}.Defaults()
	for _, c := range []struct {
		name string
		com  Common
		sev  Severity
	}{
		{"an exit", Common{Networks: []uint32{vpnNL.ASN}, Exits: []uint32{vpnNL.ASN}}, None},
		{"nothing common: a trip", Common{}, High},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs := append(daily(saoPaulo, 5), ev{w: vpnNL, at: 5 * day}, ev{w: saoPaulo, at: 5*day + 5*time.Minute}, ev{w: saoPaulo2, at: 5*day + 12*time.Minute})
			if v := judgeCommon(cfg, c.com, evs); v.Severity != c.sev {
				t.Errorf("severity %s, want %s: %s", v.Severity, c.sev, v)
			}
		})
	}
}

// A shared mailbox: two people use it, one in São Paulo, one in Recife,
// often minutes apart. When one of them travels, the trip "from" the
// other's place is impossible for one person, not for two: it is weighed
// low, and the reason says why. The same trip on an account of one person
// is high.
func TestSharedMailbox(t *testing.T) {
	recife := Where{IP: "177.37.1.1", Country: "BR", City: "Recife", ASN: 28126, Org: "BRISANET", HasLoc: true, Lat: -8.0476, Lon: -34.877, AccuracyKM: 20}
	var both []ev
	for d := range 5 {
		at := time.Duration(d) * day
		both = append(both, ev{w: saoPaulo, at: at + 9*time.Hour}, ev{w: recife, at: at + 9*time.Hour + 20*time.Minute}, ev{w: saoPaulo, at: at + 15*time.Hour})
	}
	var one []ev
	for d := range 5 {
		at := time.Duration(d) * day
		one = append(one, ev{w: saoPaulo, at: at + 9*time.Hour}, ev{w: recife, at: at + 15*time.Hour + 20*time.Minute})
	}
	trip := []ev{{w: saoPaulo, at: 5*day + 9*time.Hour}, {w: lisbon, at: 5*day + 10*time.Hour}}
	for _, c := range []struct {
		name string
		evs  []ev
		sev  Severity
		want []string
	}{
		{"two people at once, one travels: low, and why", slices.Concat(both, trip), Low,
			[]string{"São Paulo, BR → Lisbon, PT, 7,950 km in 1 h; weighed low: the account is used from several places at once (São Paulo, BR ↔ Recife, BR, 2,130 km in 20 min; 5 days)"}},
		{"two people at once, a login out of reach of both: high, and why", slices.Concat(both, []ev{{w: saoPaulo, at: 5*day + 9*time.Hour}, {w: recife, at: 5*day + 9*time.Hour + 20*time.Minute}, {w: lisbon, at: 5*day + 9*time.Hour + 30*time.Minute}}), High,
			[]string{"Recife, BR → Lisbon, PT, 5,840 km in 10 min; the account is used from several places at once (São Paulo, BR ↔ Recife, BR, 2,130 km in 20 min; 6 days), and none of them was within reach"}},
		{"one person in two cities, hours apart: the trip is high", slices.Concat(one, trip), High,
			[]string{"São Paulo, BR → Lisbon, PT, 7,950 km in 1 h", "new country PT"}},
		{"a thief's place, usual after a day, makes no colleague: the owner alone, the trip is high", slices.Concat(one, []ev{{w: lisbon, at: 5 * day}, {w: lisbon, at: 6*day + 12*time.Hour}, {w: saoPaulo, at: 6*day + 12*time.Hour + 10*time.Minute}, {w: lisbon, at: 6*day + 12*time.Hour + 20*time.Minute}}), High,
			[]string{"Lisbon, PT → São Paulo, BR, 7,950 km in 10 min"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			checkVerdict(t, judge(Config{}, nil, c.evs), c.sev, c.want)
			checkVerdict(t, judgeHourly(Config{}, c.evs), c.sev, c.want)
		})
	}
}

// An account the config declares shared (SetShared) is weighed as one
// found shared, from its first login: one person's trip, high on an
// account of its own, is low, and says why; a login out of reach of each
// of its last places is still high; the other detectors are untouched.
func TestDeclaredShared(t *testing.T) {
	var one []ev
	for d := range 5 {
		at := time.Duration(d) * day
		one = append(one, ev{w: saoPaulo, at: at + 9*time.Hour}, ev{w: saoPaulo, at: at + 15*time.Hour})
	}
	trip := []ev{{w: saoPaulo, at: 5*day + 9*time.Hour}, {w: lisbon, at: 5*day + 10*time.Hour}}
	declared := func(evs []ev) Verdict {
		cfg := Config{}.Defaults()
		a := NewAccount(&cfg, nil, NewSite(cfg))
		a.SetShared()
		for _, e := range evs {
			w := e.w
			a.Login(&w, t0.Add(e.at), t0.Add(e.at), max(e.n, 1))
		}
		return a.Verdict()
	}
	evs := slices.Concat(one, trip)
	checkVerdict(t, judge(Config{}, nil, evs), High, []string{"São Paulo, BR → Lisbon, PT, 7,950 km in 1 h", "new country PT"})
	checkVerdict(t, declared(evs), Low, []string{"São Paulo, BR → Lisbon, PT, 7,950 km in 1 h; weighed low: the account is shared ([DETECT] shared)", "new country PT"})
	// out of reach of São Paulo and of Recife, each used minutes before:
	// nobody of the account could be in Lisbon
	recife := Where{IP: "177.37.1.1", Country: "BR", City: "Recife", ASN: 28126, Org: "BRISANET", HasLoc: true, Lat: -8.0476, Lon: -34.877, AccuracyKM: 20}
	var both []ev
	for d := range 5 {
		at := time.Duration(d) * day
		both = append(both, ev{w: saoPaulo, at: at + 9*time.Hour}, ev{w: recife, at: at + 15*time.Hour})
	}
	everywhere := slices.Concat(both, []ev{{w: saoPaulo, at: 5*day + 9*time.Hour}, {w: recife, at: 5*day + 9*time.Hour + 20*time.Minute}, {w: lisbon, at: 5*day + 9*time.Hour + 30*time.Minute}})
	v := declared(everywhere)
	if v.Severity != High || !strings.Contains(v.String(), "Recife, BR → Lisbon, PT, 5,840 km in 10 min; the account is shared ([DETECT] shared), and none of its last places was within reach") {
		t.Errorf("out of reach of each place: %s", v)
	}
	// a botnet on a declared account: many places, as on any
	var bot []ev
	for i, w := range []Where{hanoi, lagos, moscow, osaka} {
		bot = append(bot, ev{w: w, at: 5*day + 9*time.Hour + time.Duration(i)*time.Hour})
	}
	checkVerdict(t, declared(slices.Concat(one, bot)), High, []string{"4 new countries (JP NG RU VN) and 4 new networks within 24 h"})
}

// A corporate VPN's exit abroad on a provider too little used on the site
// to be a common network: found by its addresses (a /24 that three
// accounts use, each for days, from another country), it is no trip's
// end, and its country is not the account's: an account's first use of
// it, between logins at home, is no finding. An office's prefix (its
// users live in its country) is no exit.
func TestCensusGates(t *testing.T) {
	zurich := Where{IP: "178.197.0.1", Country: "CH", City: "Zurich", ASN: 3303, Org: "Swisscom (Schweiz) AG", HasLoc: true, Lat: 47.3769, Lon: 8.5417, AccuracyKM: 20}
	zurich2 := zurich
	zurich2.IP = "178.197.0.2"
	var c Census
	for i := range 200 { // three of 200: not a common network
		u := fmt.Sprintf("u%d", i)
		c.Add(u, &saoPaulo, t0, t0.Add(10*day))
		if i < 3 {
			c.Add(u, &zurich, t0.Add(time.Duration(i)*day), t0.Add(9*day))
			c.Add(u, &office, t0, t0.Add(9*day))
		}
	}
	com := c.Common(Config{})
	p, _ := gatePrefix(zurich.IP)
	op, _ := gatePrefix(office.IP)
	if since, ok := com.Gates[p]; !ok || !since.Equal(t0.Add(3*day)) || len(com.Exits) != 0 {
		t.Fatalf("gates: %+v", com)
	}
	if _, ok := com.Gates[op]; ok {
		t.Errorf("an office's prefix is no gate: %+v", com.Gates)
	}
	cfg := Config{}.Defaults()
	for _, cc := range []struct {
		name string
		com  Common
		sev  Severity
	}{
		{"a gate", com, None},
		{"nothing known: a trip", Common{}, High},
	} {
		t.Run(cc.name, func(t *testing.T) {
			evs := append(daily(saoPaulo, 5), ev{w: zurich2, at: 5 * day}, ev{w: saoPaulo, at: 5*day + 5*time.Minute}, ev{w: saoPaulo2, at: 5*day + 12*time.Minute})
			if v := judgeCommon(cfg, cc.com, evs); v.Severity != cc.sev {
				t.Errorf("severity %s, want %s: %s", v.Severity, cc.sev, v)
			}
		})
	}
}

// A VPN's exit in Zurich on a provider that also sells lines there: its
// network is common and an exit, and the exit is also found by its
// addresses (a gate); then only the gate is the exit, and the provider's
// other addresses are places in its country like any other: a hotel's
// line in Zurich 20 minutes after a login at home in São Paulo is an
// impossible trip, the VPN's exit is none.
func TestCensusGatedExit(t *testing.T) {
	vpnZurich := Where{IP: "178.197.0.1", Country: "CH", City: "Zurich", ASN: 3303, Org: "Swisscom (Schweiz) AG", HasLoc: true, Lat: 47.3769, Lon: 8.5417, AccuracyKM: 20}
	hotel := vpnZurich
	hotel.IP = "178.199.138.119"
	var c Census
	for i := range 10 {
		u := fmt.Sprintf("u%d", i)
		c.Add(u, &saoPaulo, t0, t0.Add(10*day))
		if i < 4 {
			c.Add(u, &vpnZurich, t0, t0.Add(9*day))
		}
	}
	com := c.Common(Config{})
	if fmt.Sprint(com.Exits, com.Gated) != fmt.Sprint([]uint32{3303}, []uint32{3303}) {
		t.Fatalf("exits, gated: %+v", com)
	}
	site := NewSite(Config{})
	site.SetCommon(com)
	if got := site.Common().Gated; fmt.Sprint(got) != fmt.Sprint([]uint32{3303}) {
		t.Errorf("Site.Common().Gated = %v", got)
	}
	cfg := Config{}.Defaults()
	for _, cc := range []struct {
		name string
		com  Common
		w    Where
		sev  Severity
		want string
	}{
		{"the gate is the exit: no trip", com, vpnZurich, None, ""},
		{"another address of the gate's network: a trip", com, hotel, High, "São Paulo, BR → Zurich, CH, 9,620 km in 20 min"},
		{"the network an exit by itself (no gate known): no trip", Common{Networks: com.Networks, Exits: com.Exits, Since: com.Since}, hotel, None, ""},
	} {
		t.Run(cc.name, func(t *testing.T) {
			evs := append(daily(saoPaulo, 5), ev{w: saoPaulo, at: 5 * day}, ev{w: cc.w, at: 5*day + 20*time.Minute}, ev{w: saoPaulo2, at: 5*day + 40*time.Minute})
			v := judgeCommon(cfg, cc.com, evs)
			if v.Severity != cc.sev || !strings.Contains(v.String(), cc.want) {
				t.Errorf("severity %s, want %s with %q: %s", v.Severity, cc.sev, cc.want, v)
			}
		})
	}
}

// Two addresses in a new country sending a few dozen mails within hours,
// on a busy account (less than five times its usual pace): a burst when
// no account of the site uses their networks for long (nobody of the
// company goes there: a thief's), not when a colleague's stay made them
// familiar (a holiday resort's provider), nor when the site was not
// counted, or is too small (fewer than 100 accounts) for it to tell.
func TestBurstUnfamiliar(t *testing.T) {
	var evs []ev
	for d := range 6 {
		for h := range 8 {
			evs = append(evs, ev{w: saoPaulo, at: time.Duration(d)*day + time.Duration(h)*time.Hour})
		}
	}
	home := len(evs)
	// two networks in Moscow, one after the other (a hotel's, a
	// conference's): no turns
	skynet := Where{IP: "5.18.1.1", Country: "RU", City: "Moscow", ASN: 35807, Org: "SkyNet Ltd.", HasLoc: true, Lat: 55.7558, Lon: 37.6173, AccuracyKM: 20}
	for i := range 24 {
		w := moscow
		if i >= 12 {
			w = skynet
		}
		evs = append(evs, ev{w: w, at: 7*day + time.Duration(i)*10*time.Minute})
	}
	// the same logins taking turns: two clients at once
	turns := slices.Clone(evs)
	for i := range 24 {
		turns[home+i].w = moscow
		if i%2 == 1 {
			turns[home+i].w = skynet
		}
	}
	var c Census
	for i := range 99 {
		c.Add(fmt.Sprintf("u%d", i), &saoPaulo, t0, t0.Add(10*day))
	}
	if small := c.Common(Config{}); small.Familiar != nil {
		t.Errorf("99 accounts: familiar counted: %v", small.Familiar)
	}
	c.Add("u99", &saoPaulo, t0, t0.Add(10*day))
	strange := c.Common(Config{})
	c.Add("u0", &moscow, t0.Add(2*day), t0.Add(5*day)) // a colleague's stay
	familiar := c.Common(Config{})
	if !slices.Contains(familiar.Familiar, moscow.ASN) || slices.Contains(strange.Familiar, moscow.ASN) {
		t.Fatalf("familiar: %v, %v", strange.Familiar, familiar.Familiar)
	}
	// a botnet's victim, its thieves in Moscow and two other countries
	// for a day and a half: nobody's stay
	var botnet Census
	for i := range 100 {
		botnet.Add(fmt.Sprintf("u%d", i), &saoPaulo, t0, t0.Add(10*day))
	}
	botnet.Add("u0", &moscow, t0.Add(2*day), t0.Add(3*day+12*time.Hour))
	botnet.Add("u0", &lagos, t0.Add(2*day+time.Hour), t0.Add(2*day+2*time.Hour))
	botnet.Add("u0", &hanoi, t0.Add(2*day+3*time.Hour), t0.Add(3*day))
	if com := botnet.Common(Config{}); slices.Contains(com.Familiar, moscow.ASN) || slices.Contains(com.Familiar, hanoi.ASN) {
		t.Errorf("a botnet's networks are familiar: %v", com.Familiar)
	}
	cfg := Config{}.Defaults()
	for _, c := range []struct {
		name string
		com  Common
		sev  Severity
		want string
	}{
		{"networks nobody uses", strange, Medium, "new country RU, Moscow: 24 logins within 3 h 51 min (usually 6.9 in 24 h; 7 days in the logs read: BR only), from networks no account of the site uses"},
		{"a colleague's network", familiar, Low, "new country RU, Moscow (7 days"},
		{"a botnet's victim's network", botnet.Common(Config{}), Medium, "from networks no account of the site uses"},
		{"not counted", Common{}, Low, "new country RU, Moscow (7 days"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if v := judgeCommon(cfg, c.com, evs); v.Severity != c.sev || !strings.Contains(v.String(), c.want) {
				t.Errorf("severity %s, want %s with %q: %s", v.Severity, c.sev, c.want, v)
			}
		})
	}
	// taking turns, a colleague's network or not: twice the account's pace
	// will do (found at the 14th login, its 12th turn)
	for _, com := range []Common{familiar, {}} {
		want := "new country RU, Moscow: 24 logins within 3 h 51 min (usually 6.9 in 24 h; 7 days in the logs read: BR only), from 2 address ranges taking turns (22 times within 15 min of another's login: two clients at once)"
		if v := judgeCommon(cfg, com, turns); v.Severity != Medium || !strings.Contains(v.String(), want) {
			t.Errorf("in turn: severity %s, want medium with %q: %s", v.Severity, want, v)
		}
	}
}

// The site's common country is no new place for many places, even on the
// first day of the logs read, before it became common (the census dates
// it from the day its use became long): a traveller who leaves on his
// first day is no botnet.
func TestManyPlacesCommonFromTheStart(t *testing.T) {
	cfg := Config{}.Defaults()
	evs := []ev{{w: saoPaulo, at: 0}, {w: osaka, at: 15 * time.Hour}, {w: lisbon, at: 20 * time.Hour}}
	for _, c := range []struct {
		name string
		com  Common
		sev  Severity
	}{
		{"BR common from the second day", Common{Countries: []string{"BR"}, Since: map[string]time.Time{"BR": t0.Add(day)}}, None},
		{"nothing common", Common{}, High},
	} {
		t.Run(c.name, func(t *testing.T) {
			if v := judgeCommon(cfg, c.com, evs); v.Severity != c.sev {
				t.Errorf("severity %s, want %s: %s", v.Severity, c.sev, v)
			}
		})
	}
}

// A detector started anew from the history (the live reader's next
// window, an hourly run) knows since when a line located vaguely has been
// in use, and that the account's usual places were in use at once.
func TestHistoryHeldAndShared(t *testing.T) {
	cfg := Config{}.Defaults()
	recife := Where{IP: "177.37.1.1", Country: "BR", City: "Recife", ASN: 28126, Org: "BRISANET", HasLoc: true, Lat: -8.0476, Lon: -34.877, AccuracyKM: 20}
	for _, c := range []struct {
		name  string
		known []Known
		evs   []ev
		sev   Severity
		want  string
	}{
		// (two rows of one address: as one run over their logins, the
		// line held since its first, nothing having made it forget it)
		{"the line held for days, Hanoi between its uses",
			[]Known{{Where: homeLine, First: t0, Last: t0.Add(4 * day)}, {Where: homeLine, First: t0.Add(5 * day), Last: t0.Add(5*day + 4*time.Hour)}},
			[]ev{{w: hanoi, at: 5*day + 4*time.Hour + 20*time.Minute}, {w: homeLine, at: 5*day + 4*time.Hour + 50*time.Minute}}, High,
			"meanwhile 187.8.20.30 (São Paulo, BR), in use for 5 days, before (2 times)"},
		{"an hourly run: the line and Hanoi in the last run, the line again in this one",
			[]Known{{Where: homeLine, First: t0, Last: t0.Add(4 * day)}, {Where: homeLine, First: t0.Add(5 * day), Last: t0.Add(5*day + 4*time.Hour)},
				{Where: hanoi, First: t0.Add(5*day + 4*time.Hour + 20*time.Minute), Last: t0.Add(5*day + 4*time.Hour + 20*time.Minute)}},
			[]ev{{w: homeLine, at: 5*day + 4*time.Hour + 50*time.Minute}}, High,
			"São Paulo, BR → Hanoi, VN, 17,180 km in 20 min; meanwhile 187.8.20.30 (São Paulo, BR), in use for 5 days, before and after"},
		{"usual places in use at once in the history: a trip is weighed low",
			[]Known{{Where: saoPaulo, First: t0, Last: t0.Add(4 * day)}, {Where: recife, First: t0.Add(3 * time.Hour), Last: t0.Add(4*day + 20*time.Minute)}},
			[]ev{{w: saoPaulo, at: 5 * day}, {w: lisbon, at: 5*day + time.Hour}}, Low,
			"weighed low: the account is used from several places at once (Recife, BR ↔ São Paulo, BR, 2,130 km in 20 min; 1 day)"},
		{"the same places hours apart: the trip is high",
			[]Known{{Where: saoPaulo, First: t0, Last: t0.Add(4 * day)}, {Where: recife, First: t0.Add(10 * time.Hour), Last: t0.Add(4*day + 10*time.Hour)}},
			[]ev{{w: saoPaulo, at: 5 * day}, {w: lisbon, at: 5*day + time.Hour}}, High,
			"São Paulo, BR → Lisbon, PT, 7,950 km in 1 h"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := NewAccount(&cfg, c.known, NewSite(cfg))
			for _, e := range c.evs {
				w := e.w
				a.Login(&w, t0.Add(e.at), t0.Add(e.at), 1)
			}
			if v := a.Verdict(); v.Severity != c.sev || !strings.Contains(v.String(), c.want) {
				t.Errorf("severity %s, want %s with %q: %s", v.Severity, c.sev, c.want, v)
			}
		})
	}
}

// The shortcut of impossible: the sum of the latitude's and the
// longitude's differences, in degrees of a great circle, is never less
// than the distance.
func TestDegreesBound(t *testing.T) {
	for i := range 100000 {
		f := func(k int) float64 { return math.Sin(float64(i*7919 + k*104729)) } // spread over [-1, 1]
		lat1, lon1, lat2, lon2 := 90*f(1), 180*f(2), 90*f(3), 180*f(4)
		if d, b := Distance(lat1, lon1, lat2, lon2), (math.Abs(lat1-lat2)+math.Abs(lon1-lon2))*kmPerDegree; b < d-1e-6 {
			t.Fatalf("(%v, %v)-(%v, %v): bound %v < distance %v", lat1, lon1, lat2, lon2, b, d)
		}
	}
}

// The settings that were constants: line_hold, shared_days, familiar_site.
func TestConfigConstants(t *testing.T) {
	home := daily(saoPaulo, 5)
	after := 5 * day
	// Hanoi, then a line first used 15 minutes after and held 1 h 45 min
	held := append(home[:len(home):len(home)], ev{w: hanoi, at: after + 20*time.Hour}, ev{w: homeLine, at: after + 20*time.Hour + 15*time.Minute}, ev{w: homeLine, at: after + 22*time.Hour})
	if v := judge(Config{}, nil, held); v.Severity != Low {
		t.Errorf("held 1 h 45 min, line_hold 3h: %s", v)
	}
	if v := judge(Config{LineHold: time.Hour}, nil, held); v.Severity != High || !strings.Contains(v.String(), "in use for 1 h 45 min, after") {
		t.Errorf("held 1 h 45 min, line_hold 1h: %s", v)
	}
	// two places in use at once on one day, then a trip: shared with
	// shared_days 1, not with 2
	recife := Where{IP: "177.37.1.1", Country: "BR", City: "Recife", ASN: 28126, Org: "BRISANET", HasLoc: true, Lat: -8.0476, Lon: -34.877, AccuracyKM: 20}
	once := append(home[:len(home):len(home)], ev{w: recife, at: 5 * time.Hour}, ev{w: recife, at: 3*day + 5*time.Hour})
	once = append(once, ev{w: saoPaulo, at: after + 9*time.Hour}, ev{w: recife, at: after + 9*time.Hour + 20*time.Minute},
		ev{w: saoPaulo, at: 7 * day}, ev{w: lisbon, at: 7*day + time.Hour})
	slices.SortStableFunc(once, func(x, y ev) int { return cmp.Compare(x.at, y.at) })
	if v := judge(Config{}, nil, once); v.Severity != Low || !strings.Contains(v.String(), "weighed low") {
		t.Errorf("shared_days 1: %s", v)
	}
	if v := judge(Config{SharedDays: 2}, nil, once); v.Severity != High {
		t.Errorf("shared_days 2: %s", v)
	}
	// a site of 99 accounts counts the familiar networks with
	// familiar_site 50, not with the default 100
	var c Census
	for i := range 99 {
		c.Add(fmt.Sprintf("u%d", i), &saoPaulo, t0, t0.Add(10*day))
	}
	if com := c.Common(Config{}); com.Familiar != nil {
		t.Errorf("familiar_site 100: %v", com.Familiar)
	}
	if com := c.Common(Config{FamiliarSite: 50}); !slices.Contains(com.Familiar, saoPaulo.ASN) {
		t.Errorf("familiar_site 50: %v", com.Familiar)
	}
}

// A new country a night for a week is a thief, on an account whose owner's
// places are all located vaguely (no trip to judge); a traveller's tour is
// not: its countries are stays, or neighbours one after another.
func TestScattered(t *testing.T) {
	madrid := Where{IP: "80.58.1.1", Country: "ES", City: "Madrid", ASN: 3352, Org: "TELEFONICA DE ESPANA", HasLoc: true, Lat: 40.4168, Lon: -3.7038, AccuracyKM: 20}
	paris := Where{IP: "90.1.1.1", Country: "FR", City: "Paris", ASN: 3215, Org: "Orange", HasLoc: true, Lat: 48.8566, Lon: 2.3522, AccuracyKM: 20}
	amsterdam := Where{IP: "77.160.1.1", Country: "NL", City: "Amsterdam", ASN: 1136, Org: "KPN", HasLoc: true, Lat: 52.3676, Lon: 4.9041, AccuracyKM: 20}
	berlin := Where{IP: "93.192.1.1", Country: "DE", City: "Berlin", ASN: 3320, Org: "Deutsche Telekom AG", HasLoc: true, Lat: 52.52, Lon: 13.405, AccuracyKM: 20}
	// the owner's phone, located to its country only, another address
	// each time
	var owner []ev
	for k := range 40 {
		w := roaming
		w.IP = fmt.Sprintf("177.79.%d.%d", k/4, k%4+1)
		owner = append(owner, ev{w: w, at: time.Duration(k) * 8 * time.Hour})
	}
	// nights: a place each night (each every-th day) from day 5, a few
	// logins at 2:00 and 2:20, and one stay later
	nights := func(stay time.Duration, every int, ws ...Where) []ev {
		evs := slices.Clone(owner)
		for k, w := range ws {
			at := time.Duration(5+k*every)*day + 18*time.Hour
			evs = append(evs, ev{w: w, at: at}, ev{w: w, at: at + 20*time.Minute}, ev{w: w, at: at + stay})
		}
		slices.SortStableFunc(evs, func(x, y ev) int { return cmp.Compare(x.at, y.at) })
		return evs
	}
	for _, c := range []struct {
		name string
		cfg  Config
		evs  []ev
		sev  Severity
		want string
	}{
		{"a new country a night, four nights", Config{}, nights(time.Hour, 1, hanoi, lagos, moscow, osaka), Medium,
			"4 new countries in 3 days (VN → NG → RU → JP, 24,620 km between them in all)"},
		{"three nights", Config{}, nights(time.Hour, 1, hanoi, lagos, moscow), Low, ""},
		{"scattered = 0 (off)", Config{Scattered: -1}, nights(time.Hour, 1, hanoi, lagos, moscow, osaka), Low, ""},
		{"scattered = 5", Config{Scattered: 5}, nights(time.Hour, 1, hanoi, lagos, moscow, osaka), Low, ""},
		{"scattered_span = 2d", Config{ScatteredSpan: 2 * day}, nights(time.Hour, 1, hanoi, lagos, moscow, osaka), Low, ""},
		// a tour by road or rail, a country a night: neighbours
		{"a country a day through Europe", Config{}, nights(time.Hour, 1, lisbon, madrid, paris, amsterdam, berlin), Low, ""},
		// a tour by plane, each country a stay of more than a day
		{"a far tour of stays", Config{}, nights(day+2*time.Hour, 2, hanoi, lagos, moscow, osaka), Low, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := judge(c.cfg, nil, c.evs)
			if v.Severity != c.sev || !strings.Contains(v.String(), c.want) {
				t.Errorf("%s; want %s with %q", v, c.sev, c.want)
			}
			if c.want == "" && strings.Contains(v.String(), "no journey's stops") {
				t.Errorf("scattered found: %s", v)
			}
		})
	}
	// an hourly run: the first three nights are the state's history, the
	// fourth is read now
	var known []Known
	var now []ev
	for _, e := range nights(time.Hour, 1, hanoi, lagos, moscow, osaka) {
		if e.at < 8*day {
			at := t0.Add(e.at)
			known = append(known, Known{Where: e.w, First: at, Last: at, Count: 1})
		} else {
			now = append(now, e)
		}
	}
	if v := judge(Config{}, known, now); v.Severity != Medium || !strings.Contains(v.String(), "4 new countries in 3 days (VN → NG → RU → JP") {
		t.Errorf("from the history: %s", v)
	}
}

// Two colleagues in neighbouring towns (too near for impossible travel)
// whose home lines are used minutes apart, on two days or more, share the
// account: one of them on holiday while the other works is weighed low.
// One day is not enough (a line's address of a day may be located to
// another town of its region), nor are a dual-stack line's IPv4 and IPv6
// addresses located to two towns.
func TestSharedNearby(t *testing.T) {
	// Campinas is 85 km from São Paulo: 45 km net of the radii
	campinas := Where{IP: "177.37.9.1", Country: "BR", City: "Campinas", ASN: 28126, Org: "BRISANET", HasLoc: true, Lat: -22.9056, Lon: -47.0608, AccuracyKM: 20}
	campinas6 := campinas
	campinas6.IP = "2804:14c:1::1"
	colleagues := func(other Where, days int) []ev {
		var out []ev
		for d := range 6 {
			at := time.Duration(d) * day
			out = append(out, ev{w: saoPaulo, at: at + 9*time.Hour}, ev{w: saoPaulo, at: at + 15*time.Hour})
			if d < days {
				out = append(out, ev{w: other, at: at + 9*time.Hour + 10*time.Minute})
			} else {
				out = append(out, ev{w: other, at: at + 20*time.Hour})
			}
		}
		slices.SortStableFunc(out, func(x, y ev) int { return cmp.Compare(x.at, y.at) })
		return out
	}
	holiday := []ev{{w: lisbon, at: 6*day + 9*time.Hour}, {w: saoPaulo, at: 6*day + 10*time.Hour}}
	for _, c := range []struct {
		name string
		evs  []ev
		sev  Severity
		want string
	}{
		{"two towns minutes apart on six days: shared, the trip low", slices.Concat(colleagues(campinas, 6), holiday), Low,
			"Lisbon, PT → São Paulo, BR, 7,950 km in 1 h; weighed low: the account is used from several places at once (São Paulo, BR ↔ Campinas, BR, 80 km in 10 min; 6 days)"},
		{"on two days: shared", slices.Concat(colleagues(campinas, 2), holiday), Low, "(São Paulo, BR ↔ Campinas, BR, 80 km in 10 min; 2 days)"},
		{"on one day: not shared", slices.Concat(colleagues(campinas, 1), holiday), High, "Lisbon, PT → São Paulo, BR, 7,950 km in 1 h"},
		{"hours apart: not shared", slices.Concat(colleagues(campinas, 0), holiday), High, "Lisbon, PT → São Paulo, BR, 7,950 km in 1 h"},
		{"IPv6 in Campinas, IPv4 in São Paulo: one dual-stack line", slices.Concat(colleagues(campinas6, 6), holiday), High, "Lisbon, PT → São Paulo, BR, 7,950 km in 1 h"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := judge(Config{}, nil, c.evs)
			if v.Severity != c.sev || !strings.Contains(v.String(), c.want) {
				t.Errorf("%s; want %s with %q", v, c.sev, c.want)
			}
			if c.sev == High && strings.Contains(v.String(), "several places at once") {
				t.Errorf("shared: %s", v)
			}
		})
	}
}

// A home line located to its country only (as a phone's carrier is), its
// address changing each night and held all day: the network is the
// account's line, and its address of the day minutes before a login from
// Osaka is the owner at home, though it was used for minutes only that day.
func TestLineNetwork(t *testing.T) {
	// the line's address on day d (IPv4), located to Brazil only
	line := func(d int) Where {
		return Where{IP: fmt.Sprintf("189.100.%d.7", d), Country: "BR", ASN: 28573, Org: "Claro NXT", HasLoc: true, Lat: -10, Lon: -55, AccuracyKM: 500}
	}
	// a phone's carrier, located to Brazil only (a roaming phone looks so)
	phone := func(i int) Where {
		return Where{IP: fmt.Sprintf("177.79.%d.1", i), Country: "BR", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -22.8305, Lon: -43.2192, AccuracyKM: 1000}
	}
	// the line's address of the day at 8:00 and 18:00, the phone at noon
	home := func(days int) []ev {
		var out []ev
		for d := range days {
			at := time.Duration(d) * day
			out = append(out, ev{w: line(d), at: at}, ev{w: phone(100 + d), at: at + 4*time.Hour}, ev{w: line(d), at: at + 10*time.Hour})
		}
		return out
	}
	after := 5*day + 12*time.Hour // (26 hours after the line's last use: a flight away)
	for _, c := range []struct {
		name string
		evs  []ev
		sev  Severity
		want []string
	}{
		{"the line's address of the day, then Osaka 20 minutes later", slices.Concat(home(5),
			[]ev{{w: line(5), at: after}, {w: line(5), at: after + 10*time.Minute}, {w: osaka, at: after + 30*time.Minute}}), High,
			[]string{"BR → Osaka, JP, 17,070 km in 20 min; 189.100.5.7 (BR) is on the account's line, AS28573 Claro NXT: its addresses there last all day", "new country JP, Osaka"}},
		{"Osaka, then the line's address 20 minutes later", slices.Concat(home(5),
			[]ev{{w: osaka, at: after}, {w: line(5), at: after + 20*time.Minute}}), High,
			[]string{"Osaka, JP → BR", "in 20 min; 189.100.5.7 (BR) is on the account's line"}},
		{"the line, the phone, then Osaka: judged from the line", slices.Concat(home(5),
			[]ev{{w: line(5), at: after}, {w: phone(1), at: after + 20*time.Minute}, {w: osaka, at: after + 30*time.Minute}}), High,
			[]string{"BR → Osaka, JP", "in 30 min; 189.100.5.7 (BR) is on the account's line"}},
		{"a roaming phone's carrier, then Osaka: a traveller", slices.Concat(home(5),
			[]ev{{w: phone(1), at: after}, {w: phone(1), at: after + 10*time.Minute}, {w: osaka, at: after + 30*time.Minute}}), Low,
			[]string{"new country JP, Osaka"}},
		{"the line's network hops within minutes (a phone on it too): no line", slices.Concat(home(2),
			home(3)[6:7], []ev{{w: line(40), at: 2*day + 40*time.Minute}}, home(5)[7:],
			[]ev{{w: line(5), at: after}, {w: osaka, at: after + 30*time.Minute}}), Low,
			[]string{"new country JP, Osaka"}},
		{"never held for hours: no line", slices.Concat([]ev{{w: line(0), at: 0}, {w: line(1), at: day}, {w: line(2), at: 2 * day}, {w: line(3), at: 3 * day}, {w: line(4), at: 4 * day}},
			[]ev{{w: line(5), at: after}, {w: osaka, at: after + 30*time.Minute}}), Low,
			[]string{"new country JP, Osaka"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !slices.IsSortedFunc(c.evs, func(x, y ev) int { return cmp.Compare(x.at, y.at) }) {
				t.Fatal("events out of order")
			}
			checkVerdict(t, judge(Config{}, nil, c.evs), c.sev, c.want)
		})
	}
	// the line known from the history (an hourly run): its days' addresses
	// as the state keeps them, each from its first login to its last
	t.Run("the line from the history, then Osaka", func(t *testing.T) {
		var known []Known
		for d := range 5 {
			at := t0.Add(time.Duration(d) * day)
			known = append(known, Known{Where: line(d), First: at, Last: at.Add(10 * time.Hour), Count: 2},
				Known{Where: phone(100 + d), First: at.Add(4 * time.Hour), Last: at.Add(4 * time.Hour), Count: 1})
		}
		evs := []ev{{w: line(5), at: after}, {w: osaka, at: after + 20*time.Minute}}
		checkVerdict(t, judge(Config{}, known, evs), High, []string{"BR → Osaka, JP, 17,070 km in 20 min; 189.100.5.7 (BR) is on the account's line"})
		// and a phone's carrier in its place, hopping: none
		for i := range known {
			if known[i].IP == "189.100.2.7" {
				known = append(known, Known{Where: line(41), First: known[i].First.Add(time.Hour), Last: known[i].First.Add(time.Hour), Count: 1})
			}
		}
		checkVerdict(t, judge(Config{}, known, evs), Low, []string{"new country JP"})
	})
}

// A login from a new place with a SASL mechanism the account never used
// is corroborated: its low finding is medium. A new mechanism alone, an
// unknown one, a young account's, or a shared account's is not.
func TestNewClient(t *testing.T) {
	m := func(w Where, bits uint8) Where { w.Methods = bits; return w }
	plain := func(evs []ev) []ev {
		for i := range evs {
			evs[i].w.Methods |= MethodPlain
		}
		return evs
	}
	home := plain(daily(saoPaulo, 8)) // 16 logins over 8 days, PLAIN
	after := 8 * day
	with := func(evs ...ev) []ev { return append(slices.Clone(home), evs...) }
	for _, c := range []struct {
		name  string
		known []Known
		evs   []ev
		sev   Severity
		want  []string
	}{
		{"new country, new mechanism: medium", nil,
			with(ev{w: m(lisbon, MethodLogin), at: after + 20*time.Hour}), Medium,
			[]string{"new country PT, Lisbon (8 days in the logs read: BR only); new client: SASL LOGIN, where the account used PLAIN only (8 days, 16 logins)"}},
		{"two addresses in one foreign country, the second's mechanism new", nil,
			with(ev{w: m(moscow, MethodPlain), at: after + 20*time.Hour}, ev{w: m(moscow2, MethodLogin), at: after + 21*time.Hour}), Medium,
			[]string{"new country RU, Moscow", "new client: SASL LOGIN"}},
		{"new country, the account's mechanism: low", nil,
			with(ev{w: m(lisbon, MethodPlain), at: after + 20*time.Hour}), Low, []string{"new country PT, Lisbon (8 days in the logs read: BR only)"}},
		{"new country, mechanism unknown: low", nil,
			with(ev{w: lisbon, at: after + 20*time.Hour}), Low, []string{"new country PT"}},
		{"a new mechanism at home (a new phone) is nothing", nil,
			with(ev{w: m(saoPaulo, MethodLogin), at: after}, ev{w: m(office, MethodLogin), at: after + time.Hour}), None, nil},
		{"too young an account: low", nil,
			plain([]ev{{w: saoPaulo}, {w: saoPaulo, at: time.Hour}, {w: m(lisbon, MethodLogin), at: 30 * time.Hour}}), Low, []string{"new country PT"}},
		{"a quiet account: 7 logins with a known mechanism over 4 days: medium", nil,
			append(plain(daily(saoPaulo, 4))[:7], ev{w: m(lisbon, MethodLogin), at: 5 * day}), Medium,
			[]string{"new country PT, Lisbon (5 days in the logs read: BR only); new client: SASL LOGIN, where the account used PLAIN only (5 days, 7 logins)"}},
		{"too few logins with a known mechanism: low", nil,
			append(plain(daily(saoPaulo, 3)), ev{w: m(lisbon, MethodLogin), at: 5 * day}), Low, []string{"new country PT"}},
		{"a mechanism the account used at home: low", nil,
			with(ev{w: m(saoPaulo, MethodLogin), at: after - 2*day}, ev{w: m(lisbon, MethodLogin), at: after + 20*time.Hour}), Low, []string{"new country PT"}},
		{"the history's mechanisms count", []Known{
			{Where: m(saoPaulo, MethodPlain), First: t0.Add(-20 * day), Last: t0.Add(-time.Hour), Count: 212},
			// a thief's earlier login from a place new then teaches nothing
			{Where: m(moscow, MethodLogin), First: t0.Add(-3 * day), Last: t0.Add(-3 * day), Count: 1}},
			[]ev{{w: m(lisbon, MethodLogin), at: 20 * time.Hour}}, Medium,
			[]string{"new country PT, Lisbon (20 days of history: BR only); new client: SASL LOGIN, where the account used PLAIN only (20 days, 212 logins)"}},
		// a state upgraded from schema 3: the home row learnt PLAIN from
		// its logins since, the office's laptop (LOGIN, unused since)
		// knows none: its client may be the traveller's
		{"a usual place whose mechanisms are unknown holds it back", []Known{
			{Where: m(saoPaulo, MethodPlain), First: t0.Add(-300 * day), Last: t0.Add(-time.Hour), Count: 5000},
			{Where: office, First: t0.Add(-200 * day), Last: t0.Add(-2 * day), Count: 3000}},
			[]ev{{w: m(lisbon, MethodLogin), at: 20 * time.Hour}}, Low, []string{"new country PT"}},
		{"... until that place is forgotten", []Known{
			{Where: m(saoPaulo, MethodPlain), First: t0.Add(-300 * day), Last: t0.Add(-time.Hour), Count: 5000},
			{Where: office, First: t0.Add(-200 * day), Last: t0.Add(-40 * day), Count: 3000}},
			[]ev{{w: m(lisbon, MethodLogin), at: 20 * time.Hour}}, Medium, []string{"new country PT", "new client: SASL LOGIN"}},
		{"old history rows (mechanism unknown) say nothing", []Known{
			{Where: saoPaulo, First: t0.Add(-20 * day), Last: t0.Add(-time.Hour), Count: 212}},
			[]ev{{w: m(lisbon, MethodLogin), at: 20 * time.Hour}}, Low, []string{"new country PT"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := judge(Config{}, c.known, c.evs)
			if v.Severity != c.sev {
				t.Fatalf("severity %s, want %s: %s", v.Severity, c.sev, v)
			}
			s := v.String()
			for _, w := range c.want {
				if !strings.Contains(s, w) {
					t.Errorf("%q missing from %s", w, s)
				}
			}
			if c.sev < Medium && strings.Contains(s, "new client") {
				t.Errorf("new client said: %s", s)
			}
		})
	}
	// A shared account (its people in São Paulo and Lisbon at once) is
	// corroborated as any other: each of its people's clients showed from
	// their usual places. One whose people's clients differ knows both.
	for _, c := range []struct {
		lisbon uint8
		sev    Severity
	}{{MethodPlain, Medium}, {MethodLogin, Low}} {
		var evs []ev
		for d := range 8 {
			evs = append(evs, ev{w: m(saoPaulo, MethodPlain), at: time.Duration(d) * day}, ev{w: m(lisbon, c.lisbon), at: time.Duration(d)*day + 20*time.Minute})
		}
		evs = append(evs, ev{w: m(osaka, MethodLogin), at: 8*day + 12*time.Hour})
		v := judge(Config{}, nil, evs)
		s := v.String()
		if v.Severity != c.sev || !strings.Contains(s, "new country JP") || strings.Contains(s, "new client") != (c.sev == Medium) {
			t.Errorf("shared, Lisbon's mechanism %s: %s; want %s", MethodNames(c.lisbon), v, c.sev)
		}
		cfg := Config{}.Defaults()
		a := NewAccount(&cfg, nil, nil)
		for _, e := range evs {
			a.Login(&e.w, t0.Add(e.at), t0.Add(e.at), 1)
		}
		if !a.shared() {
			t.Errorf("not shared: %s", v)
		}
	}
	if got := MethodNames(MethodPlain | MethodLogin | MethodSCRAM); got != "PLAIN, LOGIN and SCRAM" {
		t.Errorf("MethodNames: %q", got)
	}
	for name, bit := range map[string]uint8{"": 0, "plain": MethodPlain, "LOGIN": MethodLogin, "SCRAM-SHA-256": MethodSCRAM, "XOAUTH2": MethodOAuth, "FOO": MethodOther} {
		if MethodBit(name) != bit {
			t.Errorf("MethodBit(%q) = %d, want %d", name, MethodBit(name), bit)
		}
	}
}

// country_ignore whitelists the home country, not what happens there: a
// new network of the home country sending far more than the account ever
// did is found (a thief in a data centre there), as it is with no
// whitelist; a new network there at the account's pace is not, and an
// address whitelisted otherwise (ip_ignore) is never judged.
func TestHomeNetworkBurst(t *testing.T) {
	home := Where{IP: "91.0.0.9", Country: "DE", City: "Munich", ASN: 3320, Org: "Deutsche Telekom AG", HasLoc: true, Lat: 48.14, Lon: 11.58, AccuracyKM: 20}
	dc := Where{IP: "51.68.33.65", Country: "DE", City: "Limburg an der Lahn", ASN: 16276, Org: "OVH SAS", HasLoc: true, Lat: 50.38, Lon: 8.06, AccuracyKM: 20}
	events := func(trust func(*Where), dcLogins, fails int) []ev {
		h, d := home, dc
		trust(&h)
		trust(&d)
		var evs []ev
		for day_ := range 5 {
			for i := range 3 {
				evs = append(evs, ev{w: h, at: time.Duration(day_)*day + time.Duration(i)*3*time.Hour})
			}
		}
		for i := range dcLogins {
			e := ev{w: d, at: 6*day + time.Duration(i)*5*time.Minute}
			if i == 0 {
				e.fail = fails
			}
			evs = append(evs, e)
		}
		return evs
	}
	none := func(*Where) {}
	country := func(w *Where) { w.Trusted, w.Home = true, true }
	address := func(w *Where) { w.Trusted = true }
	for _, c := range []struct {
		name           string
		trust          func(*Where)
		logins, fails  int
		sev            Severity
		want, wantNone string
	}{
		{"no whitelist", none, 150, 5, Medium, "new network AS16276 OVH SAS (DE, Limburg an der Lahn): 150 logins", ""},
		{"country_ignore", country, 150, 5, Medium, "new network AS16276 OVH SAS (DE, Limburg an der Lahn): 150 logins", ""},
		{"country_ignore, failures only", country, 2, 5, Low, "5 failed logins from 51.68.33.65, then a login from there (new network AS16276 OVH SAS)", "new country"},
		{"country_ignore, the account's pace", country, 2, 0, None, "", "new network"},
		{"ip_ignore", address, 150, 5, None, "", "OVH"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := judge(Config{}, nil, events(c.trust, c.logins, c.fails))
			if v.Severity != c.sev || c.want != "" && !strings.Contains(v.String(), c.want) || c.wantNone != "" && strings.Contains(v.String(), c.wantNone) {
				t.Errorf("severity %s, want %s with %q: %s", v.Severity, c.sev, c.want, v)
			}
			for _, r := range v.Reasons {
				if r.IP != dc.IP {
					t.Errorf("a reason names %s: %+v", r.IP, r)
				}
			}
		})
	}
}

// dcTheft is an owner's week at home (a line of the home country,
// whitelisted by its country), then a thief's 7 failed logins from a data
// centre of that country, and 30 logins from there over 40 hours (fewer
// than five times the owner's pace).
func dcTheft() (home, dc Where, evs []ev) {
	home = Where{IP: "91.0.0.9", Country: "DE", City: "Munich", ASN: 3320, Org: "Deutsche Telekom AG", HasLoc: true, Lat: 48.14, Lon: 11.58, AccuracyKM: 20, Trusted: true, Home: true}
	dc = Where{IP: "145.239.30.186", Country: "DE", City: "Limburg an der Lahn", ASN: 16276, Org: "OVH SAS", HasLoc: true, Lat: 50.38, Lon: 8.06, AccuracyKM: 20, Trusted: true, Home: true}
	for d := range 6 {
		for h := range 10 {
			evs = append(evs, ev{w: home, at: time.Duration(d)*day + time.Duration(h)*time.Hour})
		}
	}
	for i := range 30 {
		e := ev{w: dc, at: 7*day + time.Duration(i)*80*time.Minute}
		if i == 0 {
			e.fail = 7
		}
		evs = append(evs, e)
	}
	return home, dc, evs
}

// judgeAs is the verdict on the logins evs (and their failures) of the
// account user of a site whose common places are com.
func judgeAs(com Common, user string, evs []ev) Verdict {
	cfg := Config{}.Defaults()
	site := NewSite(cfg)
	site.SetCommon(com)
	for _, e := range evs {
		for i := range e.fail {
			at := t0.Add(e.at - time.Duration(e.fail-i)*time.Minute)
			site.Failures.Add(e.w.IP, at, at, 1)
		}
	}
	a := NewAccount(&cfg, nil, site)
	a.SetUser(user)
	for _, e := range evs {
		w := e.w
		a.Login(&w, t0.Add(e.at), t0.Add(e.at), 1)
	}
	return a.Verdict()
}

// TestFailuresUnfamiliarNetwork: failures, then a login, from a new
// network of the home country (country_ignore) is low where colleagues
// log in from that network (the owner mistypes at a customer's, a hotel),
// medium where no other account of the site used it for long: a data
// centre's, guessed and then used. The thief who stays there longer than
// the window does not make it familiar to his victim.
func TestFailuresUnfamiliarNetwork(t *testing.T) {
	home, dc, evs := dcTheft()
	census := func(colleague bool) Common {
		var c Census
		for i := range 100 {
			c.Add(fmt.Sprintf("u%d", i), &home, t0, t0.Add(10*day))
		}
		c.Add("victim", &home, t0, t0.Add(6*day))
		c.Add("victim", &dc, t0.Add(7*day), t0.Add(7*day+40*time.Hour)) // the thief's stay
		if colleague {
			c.Add("u7", &dc, t0, t0.Add(9*day)) // a colleague's server there
		}
		return c.Common(Config{})
	}
	alone, shared := census(false), census(true)
	stay := FamiliarUse{"victim", t0.Add(8 * day)}
	if fmt.Sprint(alone.FamiliarBy[dc.ASN]) != fmt.Sprint([]FamiliarUse{stay}) ||
		fmt.Sprint(shared.FamiliarBy[dc.ASN]) != fmt.Sprint([]FamiliarUse{{"u7", t0.Add(day)}, stay}) || !slices.Contains(shared.Familiar, dc.ASN) {
		t.Fatalf("familiar by: %v, %v", alone.FamiliarBy, shared.FamiliarBy)
	}
	// through Common and back, as the live path gives it
	var site Site
	site.SetCommon(alone)
	if got := site.Common(); fmt.Sprint(got.FamiliarBy[dc.ASN]) != fmt.Sprint([]FamiliarUse{stay}) {
		t.Errorf("SetCommon, then Common: familiar by %v", got.FamiliarBy)
	}
	for _, c := range []struct {
		name string
		com  Common
		user string
		sev  Severity
		want string
	}{
		{"used by the thief alone", alone, "victim", Medium, "7 failed logins from 145.239.30.186, then a login from there (new network AS16276 OVH SAS, that no account of the site uses)"},
		{"the account not named", alone, "", Low, "(new network AS16276 OVH SAS)"},
		{"a colleague's network", shared, "victim", Low, "(new network AS16276 OVH SAS)"},
		{"not counted", Common{}, "victim", Low, "(new network AS16276 OVH SAS)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if v := judgeAs(c.com, c.user, evs); v.Severity != c.sev || !strings.Contains(v.String(), c.want) {
				t.Errorf("severity %s, want %s with %q: %s", v.Severity, c.sev, c.want, v)
			}
		})
	}
}

// TestGatewayInCountry: within one country, a login located vaguely (a
// mobile network's gateway, or a line located to its region) is anywhere
// in it: someone of São Paulo who goes home to New York, whose phone on
// T-Mobile is located to Seattle an hour after his cable line in New
// York, made no impossible trip. Located precisely, the same two are one.
func TestGatewayInCountry(t *testing.T) {
	newYork := Where{IP: "66.109.105.84", Country: "US", City: "New York", ASN: 12271, Org: "TWC-12271-NYC", HasLoc: true, Lat: 40.7128, Lon: -74.006, AccuracyKM: 200}
	seattle := Where{IP: "2607:fb90:2f2:5097::1", Country: "US", City: "Seattle", ASN: 21928, Org: "T-MOBILE-AS21928", HasLoc: true, Lat: 47.6062, Lon: -122.3321, AccuracyKM: 100}
	precise := func(w Where) Where { w.AccuracyKM = 5; return w }
	home := daily(saoPaulo, 5)
	after := 6 * day
	for _, c := range []struct {
		name   string
		ny, se Where
		travel bool
	}{
		{"a cable line and a phone, located vaguely", newYork, seattle, false},
		{"the phone located vaguely", precise(newYork), seattle, false},
		{"both located precisely", precise(newYork), precise(seattle), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs := append(home[:len(home):len(home)], ev{w: c.ny, at: after}, ev{w: c.se, at: after + 53*time.Minute})
			v := judge(Config{}, nil, evs)
			got := strings.Contains(v.String(), "New York, US → Seattle, US")
			if got != c.travel {
				t.Errorf("impossible travel %v, want %v: %s", got, c.travel, v)
			}
			// the country is new all the same
			if !strings.Contains(v.String(), "new country US") {
				t.Errorf("no new country: %s", v)
			}
		})
	}
}

// Reset makes of an account that judged another (the batch report judges
// its accounts in one each) the account NewAccount makes: nothing of the
// one before is left, in its fields or in its verdict.
func TestResetIsNew(t *testing.T) {
	cfg := Config{}.Defaults()
	site := NewSite(cfg)
	home := daily(saoPaulo, 5)
	after := 5 * day
	plain := saoPaulo
	plain.Methods = MethodBit("PLAIN")
	known := []Known{
		{Where: plain, First: t0.Add(-20 * day), Last: t0.Add(-10 * time.Minute), Count: 80},
		{Where: vpnUS, First: t0.Add(-15 * day), Last: t0.Add(-2 * day), Count: 20},
		{Where: rio, First: t0.Add(-3 * day), Last: t0.Add(-1 * day), Count: 7},
	}
	accounts := []struct {
		known []Known
		evs   []ev
	}{
		{nil, append(home[:len(home):len(home)], ev{w: saoPaulo, at: after}, ev{w: osaka, at: after + 20*time.Minute}, ev{w: moscow, at: after + time.Hour, n: 300, fail: 4})},
		{known, []ev{{w: osaka, at: 10 * time.Minute}, {w: lisbon, at: 30 * time.Hour}}},
		{nil, home},
		{known, []ev{{w: vpnUS}, {w: saoPaulo2, at: time.Hour}}},
		{nil, append(home[:len(home):len(home)], ev{w: rio, at: after}, ev{w: office, at: after + time.Hour})},
	}
	var reused Account
	for round := range 2 {
		for i, acc := range accounts {
			fresh := NewAccount(&cfg, acc.known, site)
			reused.Reset(&cfg, acc.known, site)
			if !reflect.DeepEqual(fresh, &reused) {
				t.Errorf("round %d, account %d: after Reset, before any login: %+v, want %+v", round, i, reused, *fresh)
			}
			for _, e := range acc.evs {
				w := e.w
				at := t0.Add(e.at)
				fresh.Login(&w, at, at, max(e.n, 1))
				w = e.w
				reused.Login(&w, at, at, max(e.n, 1))
			}
			if got, want := reused.Verdict(), fresh.Verdict(); !reflect.DeepEqual(got, want) {
				t.Errorf("round %d, account %d: verdict %s, want %s", round, i, got, want)
			}
		}
	}
}

// A burst whose first logins an earlier run saw (they are in the history:
// 8 logins in an hourly run, 12 in the next) is judged at the account's
// pace before its first login, as one run over the whole log judges it:
// not with the thief's first logins, which the history's total holds, nor
// with the owner's own logins since, in this run or in the history.
func TestBurstFromHistory(t *testing.T) {
	cfg := Config{}.Defaults()
	dc := Where{IP: "177.66.162.138", Country: "BR", City: "São Paulo", ASN: 28573, Org: "Claro", HasLoc: true, Lat: -23.5, Lon: -46.6, AccuracyKM: 20}
	T := t0.Add(4 * day)
	home := Known{Where: saoPaulo, First: t0, Last: t0.Add(2*day + 6*time.Hour), Count: 9}
	for _, owner := range []string{"none", "in this run", "in the history"} {
		t.Run("owner "+owner, func(t *testing.T) {
			// one run over it all
			one := NewAccount(&cfg, []Known{home}, nil)
			w := dc
			one.Login(&w, T, T.Add(14*time.Minute), 8)
			if owner != "none" {
				w = saoPaulo
				one.Login(&w, T.Add(15*time.Minute), T.Add(15*time.Minute), 10)
			}
			w = dc
			one.Login(&w, T.Add(16*time.Minute), T.Add(38*time.Minute), 12)
			// the second of two runs
			known := []Known{home, {Where: dc, First: T, Last: T.Add(14 * time.Minute), Count: 8}}
			if owner == "in the history" {
				// another address of the owner's, first used after the thief's
				at := saoPaulo
				at.IP = "187.45.12.10"
				known = append(known, Known{Where: at, First: T.Add(15 * time.Minute), Last: T.Add(15 * time.Minute), Count: 10})
			}
			two := NewAccount(&cfg, known, nil)
			if owner == "in this run" {
				w = saoPaulo
				two.Login(&w, T.Add(15*time.Minute), T.Add(15*time.Minute), 10)
			}
			w = dc
			two.Login(&w, T.Add(16*time.Minute), T.Add(38*time.Minute), 12)
			v1, v2 := one.Verdict(), two.Verdict()
			if v1.Severity != Medium || !strings.Contains(v1.String(), "20 logins within 39 min (usually 2.2 in 24 h") {
				t.Errorf("one run: %s", v1)
			}
			if v2.String() != v1.String() {
				t.Errorf("two runs: %s\nwant, as one run: %s", v2, v1)
			}
		})
	}
}

// A phone's carrier gateway has a few addresses that come back in turn:
// one seen on two days, others of its range in between, was not held for
// days. A traveller whose phone roams home-routed (located at home) while
// the laptop uses the hotel's line abroad is no impossible trip; a line's
// address held for hours next to a far login still is one.
func TestGatewayComesBack(t *testing.T) {
	gate := func(i int) Where { // located to Brazil only
		return Where{IP: fmt.Sprintf("177.79.%d.1", i), Country: "BR", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -22.8305, Lon: -43.2192, AccuracyKM: 1000}
	}
	var home []ev // the office's line at 8:00 and 18:00, the phone at noon on one of 3 addresses in turn
	for d := range 5 {
		at := time.Duration(d) * day
		home = append(home, ev{w: office, at: at}, ev{w: gate(d % 3), at: at + 4*time.Hour}, ev{w: office, at: at + 10*time.Hour})
	}
	abroad := 6*day + 10*time.Hour // (a flight to Osaka and more after the office)
	trip := slices.Concat(home, []ev{
		{w: gate(0), at: abroad},                     // the phone, home-routed
		{w: osaka, at: abroad + 30*time.Minute},      // the laptop on the hotel's line
		{w: gate(0), at: abroad + time.Hour},         // the phone again
		{w: osaka, at: abroad + 90*time.Minute},      // the laptop
		{w: gate(0), at: abroad + 2*time.Hour},       // and the phone
		{w: osaka, at: abroad + 150*time.Minute + 1}, // (4 h 30 after it was first seen that day: were it held)
	})
	checkVerdict(t, judge(Config{}, nil, trip), Low, []string{"new country JP, Osaka"})

	// the same address held for 4 hours on its own (no other of its
	// range in between), then Osaka: a line, and an impossible trip
	held := slices.Concat(home, []ev{
		{w: gate(7), at: abroad},
		{w: gate(7), at: abroad + 4*time.Hour},
		{w: osaka, at: abroad + 4*time.Hour + 20*time.Minute},
	})
	checkVerdict(t, judge(Config{}, nil, held), High, []string{"BR → Osaka, JP", "new country JP, Osaka"})
}

// The same from the history (an hourly run): each address's row spans
// all its uses; the gateway's address that came back was held since the
// last use of another of its range, not since its first.
func TestGatewayComesBackHistory(t *testing.T) {
	gate := func(i int) Where {
		return Where{IP: fmt.Sprintf("177.79.%d.1", i), Country: "BR", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -22.8305, Lon: -43.2192, AccuracyKM: 1000}
	}
	abroad := 6*day + 10*time.Hour
	known := []Known{{Where: office, First: t0, Last: t0.Add(4*day + 10*time.Hour), Count: 10}}
	for i := range 3 { // the phone's 3 addresses at noon in turn, the first also abroad
		k := Known{Where: gate(i), First: t0.Add(time.Duration(i)*day + 4*time.Hour), Last: t0.Add(time.Duration(i+3)*day + 4*time.Hour), Count: 2}
		if i == 0 {
			k.Last, k.Count = t0.Add(abroad), 3
		}
		known = append(known, k)
	}
	evs := []ev{
		{w: osaka, at: abroad + 30*time.Minute},
		{w: gate(0), at: abroad + time.Hour},
		{w: osaka, at: abroad + 90*time.Minute},
		{w: gate(0), at: abroad + 2*time.Hour},
	}
	checkVerdict(t, judge(Config{}, known, evs), Low, []string{"new country JP, Osaka"})
}
