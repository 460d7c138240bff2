package detect

import (
	"fmt"
	"testing"
	"time"
)

// A home line's IPv6 /64 (located to its region only: held, see
// pinUsual), a privacy address each time, used on the first day and the
// fifth, the office (located precisely) on every other; eleven days on,
// a new address of the /64 at 13:05 and Hanoi at 13:35. One run over the
// log still holds the /64 since the first day (no other address of a
// usual place located vaguely was used meanwhile, nothing made it
// forget it) and judges the trip; so do hourly runs, whose history's
// rows of the /64 ended more than two windows before the account's last
// login (the office's): held from 13:05 only, it was no line, and the
// thief's login went unjudged (genlog seed 432, paul.becker).
func TestHeldFromHistoryAsOneRun(t *testing.T) {
	v6 := func(host string) Where {
		return Where{IP: "2804:14c:8a:1f00::" + host, Country: "BR", City: "São Paulo", ASN: 28573, Org: "Claro NXT", HasLoc: true, Lat: -23.5, Lon: -46.6, AccuracyKM: 200}
	}
	var evs []ev
	for d := range 11 {
		at := time.Duration(d) * day
		switch d {
		case 0:
			evs = append(evs, ev{w: v6("a"), at: at + 8*time.Hour})
		case 4:
			evs = append(evs, ev{w: v6("b"), at: at + 8*time.Hour})
		}
		evs = append(evs, ev{w: office, at: at + 10*time.Hour}, ev{w: office, at: at + 16*time.Hour})
	}
	evs = append(evs, ev{w: v6("c"), at: 11*day + 13*time.Hour + 5*time.Minute}, ev{w: hanoi, at: 11*day + 13*time.Hour + 35*time.Minute})
	want := []string{"São Paulo, BR → Hanoi, VN", "in use for 11 days, before"}
	checkVerdict(t, judge(Config{}, nil, evs), High, want)
	checkVerdict(t, judgeHourly(Config{}, evs), High, want)
}

// BenchmarkResetPhoneHistory: a detector started anew (each hourly run,
// per account) from a heavy phone user's half year of history: 4,000
// rows of carrier addresses located vaguely (each a held address, see
// recallHeld), a home line and the office.
func BenchmarkResetPhoneHistory(b *testing.B) {
	cfg := Config{}.Defaults()
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	var known []Known
	for i := range 4000 {
		at := t0.Add(time.Duration(i) * (180 * 24 * time.Hour / 4000))
		w := Where{IP: fmt.Sprintf("177.79.%d.%d", i/250, i%250+1), Country: "BR", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -22.8, Lon: -43.2, AccuracyKM: 1000}
		known = append(known, Known{Where: w, First: at, Last: at.Add(20 * time.Minute), Count: 2})
	}
	known = append(known, Known{Where: homeLine, First: t0, Last: t0.Add(180 * 24 * time.Hour), Count: 900},
		Known{Where: office, First: t0, Last: t0.Add(179 * 24 * time.Hour), Count: 1200})
	site := NewSite(cfg)
	var a Account
	b.ReportAllocs()
	for b.Loop() {
		a.Reset(&cfg, known, site)
	}
}

// A home line on both families: its IPv6 /64 every evening, a new
// privacy address each day (a row each), and its IPv4 address, used by
// one old device, on the first morning only and eleven days on, at
// 13:05; Hanoi at 13:35. One run holds the IPv4 address since the first
// day: the /64's new privacy addresses are no address first used (the
// /64 is held all along), so nothing made it forget the IPv4 one, and
// the trip is judged. Hourly runs took each privacy address's row as the
// /64's first use, forgot the IPv4 address two days after its use, held
// it from 13:05 only, and the thief's login was low.
func TestHeldNotForgotByItsPrivacyAddresses(t *testing.T) {
	v4 := Where{IP: "189.100.4.7", Country: "BR", City: "São Paulo", ASN: 28573, Org: "Claro NXT", HasLoc: true, Lat: -23.5, Lon: -46.6, AccuracyKM: 200}
	v6 := func(d int) Where {
		w := v4
		w.IP = fmt.Sprintf("2804:14c:8a:1f00::%x", 0x100+d)
		return w
	}
	evs := []ev{{w: v4, at: 8 * time.Hour}}
	for d := range 11 {
		at := time.Duration(d) * day
		evs = append(evs, ev{w: office, at: at + 10*time.Hour}, ev{w: office, at: at + 16*time.Hour}, ev{w: v6(d), at: at + 20*time.Hour})
	}
	evs = append(evs, ev{w: v4, at: 11*day + 13*time.Hour + 5*time.Minute}, ev{w: hanoi, at: 11*day + 13*time.Hour + 35*time.Minute})
	want := []string{"São Paulo, BR → Hanoi, VN", "in use for 11 days, before"}
	checkVerdict(t, judge(Config{}, nil, evs), High, want)
	checkVerdict(t, judgeHourly(Config{}, evs), High, want)
}
