package detect

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// judgeHourlyCommon is judgeHourly on a site whose common places are com
// (the census of the site's other accounts).
func judgeHourlyCommon(cfg Config, com Common, evs []ev) Verdict {
	cfg = cfg.Defaults()
	rows := map[string]*Known{}
	var order []string
	var out Verdict
	var sh Sharing // what the state keeps of the account's sharing between runs
	for i := 0; i < len(evs); {
		hour := t0.Add(evs[i].at).Truncate(time.Hour)
		j := i
		for j < len(evs) && t0.Add(evs[j].at).Truncate(time.Hour).Equal(hour) {
			j++
		}
		var known []Known
		for _, ip := range order {
			known = append(known, *rows[ip])
		}
		site := NewSite(cfg)
		site.SetCommon(com)
		a := NewAccount(&cfg, known, site)
		a.KnowSharing(sh)
		for _, e := range evs[i:j] {
			w := e.w
			at := t0.Add(e.at)
			a.Login(&w, at, at, max(e.n, 1))
			k := rows[w.IP]
			if k == nil {
				k = &Known{First: at}
				rows[w.IP] = k
				order = append(order, w.IP)
			}
			k.Where, k.Last = w, at
			k.Count += int64(max(e.n, 1))
		}
		sh = sh.Merge(a.Sharing())
		v := a.Verdict()
		out.Severity = max(out.Severity, v.Severity)
		out.Reasons = append(out.Reasons, v.Reasons...)
		i = j
	}
	slices.SortStableFunc(out.Reasons, func(x, y Reason) int { return int(y.Severity) - int(x.Severity) })
	return out
}

// siteLinesFixture: TestSiteLines's line and phone, and the census of a
// site whose three accounts hold their lines all day.
func siteLinesFixture() (line func(u, d int) Where, phone func(i int) Where, com Common) {
	line = func(u, d int) Where {
		return Where{IP: fmt.Sprintf("189.100.%d.%d", d, u), Country: "BR", ASN: 28573, Org: "Claro NXT", HasLoc: true, Lat: -10, Lon: -55, AccuracyKM: 500}
	}
	phone = func(i int) Where {
		return Where{IP: fmt.Sprintf("177.79.%d.1", i), Country: "BR", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -22.8305, Lon: -43.2192, AccuracyKM: 1000}
	}
	var c Census
	addHeld(&c, line, "line", 0, 3)
	return line, phone, c.Common(Config{})
}

// An account that logs in once a day from its line and once from its
// phone: the line (a site's line), the phone ten minutes later, Osaka
// fifteen minutes after. One run judges the trip from the line (the
// owner's last home, lastHome); hourly runs, the line and the phone in
// the hour before, judged none: the history's last home was its last
// precise row only, never a line's, located vaguely.
func TestSiteLineLastHomeHourly(t *testing.T) {
	line, phone, com := siteLinesFixture()
	var evs []ev
	for d := range 5 {
		at := time.Duration(d) * day
		evs = append(evs, ev{w: line(50, d), at: at}, ev{w: phone(d % 7), at: at + 4*time.Hour})
	}
	after := 5*day + 40*time.Minute // 8:40
	evs = append(evs, ev{w: line(50, 5), at: after}, ev{w: phone(3), at: after + 10*time.Minute}, ev{w: osaka, at: after + 25*time.Minute})
	want := []string{"BR → Osaka, JP, 17,070 km in 25 min; 189.100.5.50 (BR) is on a line of AS28573 Claro NXT"}
	checkVerdict(t, judgeCommon(Config{}.Defaults(), com, evs), High, want)
	checkVerdict(t, judgeHourlyCommon(Config{}, com, evs), High, want)
}

// The same on the account's own line (lineNet): the line of the day, the
// phone ten minutes later, Osaka fifteen minutes after, across an hour.
func TestLineNetLastHomeHourly(t *testing.T) {
	line := func(d int) Where {
		return Where{IP: fmt.Sprintf("189.100.%d.7", d), Country: "BR", ASN: 28573, Org: "Claro NXT", HasLoc: true, Lat: -10, Lon: -55, AccuracyKM: 500}
	}
	phone := func(i int) Where {
		return Where{IP: fmt.Sprintf("177.79.%d.1", i), Country: "BR", ASN: 26599, Org: "TELEFONICA BRASIL S.A", HasLoc: true, Lat: -22.8305, Lon: -43.2192, AccuracyKM: 1000}
	}
	var evs []ev
	for d := range 5 {
		at := time.Duration(d) * day
		evs = append(evs, ev{w: line(d), at: at}, ev{w: phone(100 + d), at: at + 4*time.Hour}, ev{w: line(d), at: at + 10*time.Hour})
	}
	after := 5*day + 12*time.Hour + 40*time.Minute // 20:40
	evs = append(evs, ev{w: line(5), at: after}, ev{w: phone(1), at: after + 10*time.Minute}, ev{w: osaka, at: after + 25*time.Minute})
	want := []string{"BR → Osaka, JP, 17,070 km in 25 min; 189.100.5.7 (BR) is on the account's line"}
	checkVerdict(t, judge(Config{}, nil, evs), High, want)
	checkVerdict(t, judgeHourly(Config{}, evs), High, want)
}

// A mailbox shared by one person in Brazil, on a line located to the
// country only, and one in Lisbon, each logging in daily, twenty minutes
// apart: the account is used from several places at once, as with a
// precise São Paulo. The line was a trip's end (a site's line, or the
// account's own) but no place in use at once (concurrent took precise
// places only): the Lisbon person's trip to Osaka, the line twenty
// minutes before, was a high impossible trip, where São Paulo's weighs
// low (the commit's "one more false alarm (a shared mailbox)").
func TestSharedMailboxOnLine(t *testing.T) {
	line, _, com := siteLinesFixture()
	want := []string{"BR → Osaka, JP, 17,070 km in 20 min", "weighed low: the account is used from several places at once ("}
	// the site's line: the person in Brazil logs in once a day
	var evs []ev
	for d := range 6 {
		at := time.Duration(d)*day + 4*time.Hour
		evs = append(evs, ev{w: line(60, d), at: at}, ev{w: lisbon, at: at + 20*time.Minute})
	}
	evs = append(evs, ev{w: line(60, 6), at: 6*day + 4*time.Hour}, ev{w: osaka, at: 6*day + 4*time.Hour + 20*time.Minute})
	checkVerdict(t, judgeCommon(Config{}.Defaults(), com, evs), Low, want)
	checkVerdict(t, judgeHourlyCommon(Config{}, com, evs), Low, want)
	// the account's own line (lineNet): held from 8:00 to 18:00
	evs = nil
	for d := range 6 {
		at := time.Duration(d) * day
		evs = append(evs, ev{w: line(60, d), at: at}, ev{w: lisbon, at: at + 4*time.Hour}, ev{w: line(60, d), at: at + 4*time.Hour + 20*time.Minute}, ev{w: line(60, d), at: at + 10*time.Hour})
	}
	evs = append(evs, ev{w: line(60, 6), at: 6*day + 4*time.Hour}, ev{w: osaka, at: 6*day + 4*time.Hour + 20*time.Minute})
	checkVerdict(t, judge(Config{}, nil, evs), Low, want)
	checkVerdict(t, judgeHourly(Config{}, evs), Low, want)
}

// Common.Lines as its words say: accounts that held their addresses
// (three at least) against those that hopped, one for every four at
// most; the accounts that did neither (logging in once a day) count for
// none (the words said "one in four of those that used two addresses",
// which three that held and one that hopped are, and which the once-a-day
// accounts would have diluted).
func TestSiteLinesRatio(t *testing.T) {
	line, _, _ := siteLinesFixture()
	census := func(held, hopped, seldom int) []LineRange {
		var c Census
		addHeld(&c, line, "held", 0, held)
		addHopped(&c, line, "hop", 100, hopped)
		for u := range seldom {
			for d := range 5 {
				at := t0.Add(time.Duration(d) * day)
				c.Add(fmt.Sprint("seldom", u), ptr(line(150+u, d)), at, at)
			}
		}
		return c.Common(Config{}).Lines
	}
	for _, c := range []struct {
		held, hopped, seldom int
		lines                bool
	}{
		{3, 0, 0, true}, {4, 1, 0, true}, {3, 1, 0, false}, {8, 2, 0, true}, {8, 3, 0, false},
		{3, 0, 20, true}, {4, 2, 20, false},
	} {
		if got := census(c.held, c.hopped, c.seldom); (len(got) > 0) != c.lines {
			t.Errorf("%d held, %d hopped, %d seldom: lines %v, want %v", c.held, c.hopped, c.seldom, got, c.lines)
		}
	}
}

// A shared mailbox's people on their lines in Brazil, the addresses of a
// day of each of their four lines (each person's two: IPv4 and IPv6)
// located to four towns of the region, and one in Lisbon, who flies to
// Osaka: the lines are compared with the precise places (concurrent), but
// are none of the places everywhere reads, else the four lines' logins
// within the hour before would push Lisbon out of them, and Osaka, out of
// reach of each, would not be weighed low (seed 301 of
// scripts/bench-detect, sales@, once the lines were first taken as
// concurrent's places).
func TestSharedMailboxLinesNotEverywhere(t *testing.T) {
	towns := []struct {
		city     string
		lat, lon float64
	}{{"Campinas", -22.9, -47.06}, {"Santos", -23.96, -46.33}, {"Sorocaba", -23.5, -47.46}, {"Jundiaí", -23.19, -46.88}}
	// line i's address on day d: 189.96/12, 189.112/12, … (four ranges,
	// the site's lines)
	line := func(i, d int) Where {
		t := towns[(i+d)%len(towns)]
		return Where{IP: fmt.Sprintf("189.%d.%d.%d", 96+16*i, d, 70+i), Country: "BR", City: t.city, ASN: 28573, Org: "Claro NXT", HasLoc: true, Lat: t.lat, Lon: t.lon, AccuracyKM: 200}
	}
	var c Census
	for u := range 3 {
		for i := range 4 {
			for d := range 5 {
				at := t0.Add(time.Duration(d) * day)
				w := line(i, d)
				w.IP = fmt.Sprintf("189.%d.%d.%d", 96+16*i, d, u)
				c.Add(fmt.Sprint("line", u), &w, at, at.Add(10*time.Hour))
			}
		}
	}
	com := c.Common(Config{})
	if len(com.Lines) != 4 {
		t.Fatalf("lines %v", com.Lines)
	}
	var evs []ev
	for d := range 3 {
		at := time.Duration(d)*day + 4*time.Hour
		evs = append(evs, ev{w: line(0, d), at: at}, ev{w: lisbon, at: at + 20*time.Minute})
	}
	// day 3: the four lines from 10:00 to 11:05, Osaka at 11:20
	at := 3*day + 2*time.Hour
	evs = append(evs, ev{w: line(0, 3), at: at}, ev{w: line(1, 3), at: at + 5*time.Minute},
		ev{w: line(2, 3), at: at + time.Hour}, ev{w: line(3, 3), at: at + time.Hour + 5*time.Minute},
		ev{w: osaka, at: at + time.Hour + 20*time.Minute})
	want := []string{"→ Osaka, JP", "weighed low: the account is used from several places at once ("}
	checkVerdict(t, judgeCommon(Config{}.Defaults(), com, evs), Low, want)
	checkVerdict(t, judgeHourlyCommon(Config{}, com, evs), Low, want)
}
