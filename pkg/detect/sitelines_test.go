package detect

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// An account that logs in once a day never shows that it holds its
// line's addresses for hours, so a line located vaguely (its provider's
// range placed within 200 km, or to the country only) was a phone's
// carrier for it, anywhere: its home line 25 minutes before a login from
// Osaka made no trip. The site's accounts that log in all day show the
// range is lines (Common.Lines), and the trip is judged.
func TestSiteLines(t *testing.T) {
	line, phone, _ := siteLinesFixture()
	lineRange := LineRange{28573, netip.MustParsePrefix("189.96.0.0/12")}
	phoneRange := LineRange{26599, netip.MustParsePrefix("177.64.0.0/12")}
	// census: users on their lines from 8:00 to 18:00 each day, and on
	// their phones, an address for an hour or so, several a day
	census := func(lineUsers, phoneUsers int) Common {
		var c Census
		addHeld(&c, line, "line", 0, lineUsers)
		for u := range phoneUsers {
			for d := range 5 {
				for h := range 4 {
					at := t0.Add(time.Duration(d)*day + time.Duration(2*h)*time.Hour)
					c.Add(fmt.Sprint("phone", u), ptr(phone((u+d+h)%7)), at, at.Add(40*time.Minute))
				}
			}
		}
		return c.Common(Config{})
	}
	com := census(3, 4)
	if !slices.Contains(com.Lines, lineRange) || slices.Contains(com.Lines, phoneRange) {
		t.Fatalf("lines: %v", com.Lines)
	}
	if got := census(2, 4).Lines; len(got) != 0 {
		t.Errorf("two accounts made a range lines: %v", got)
	}
	// a range where more than one in four of those that used two
	// addresses hopped (a provider's lines and phones in one range)
	var mixed Census
	addHeld(&mixed, line, "line", 0, 4)
	addHopped(&mixed, line, "hop", 100, 2)
	if got := mixed.Common(Config{}).Lines; len(got) != 0 {
		t.Errorf("a range where two of six hop is lines: %v", got)
	}

	// the account: its line at 8:00 each day, then its line at 8:00 and
	// Osaka 25 minutes later
	seldom := func(extra ...ev) []ev {
		var out []ev
		for d := range 5 {
			out = append(out, ev{w: line(50, d), at: time.Duration(d) * day})
		}
		return append(out, extra...)
	}
	theft := seldom(ev{w: line(50, 5), at: 5 * day}, ev{w: osaka, at: 5*day + 25*time.Minute})
	cfg := Config{}.Defaults()
	checkVerdict(t, judgeCommon(cfg, com, theft), High,
		[]string{"BR → Osaka, JP, 17,070 km in 25 min; 189.100.5.50 (BR) is on a line of AS28573 Claro NXT: the site's accounts keep their addresses there all day", "new country JP, Osaka"})
	checkVerdict(t, judgeCommon(cfg, Common{}, theft), Low, []string{"new country JP, Osaka"})
	// a phone's carrier instead of the line: a traveller's roaming phone
	checkVerdict(t, judgeCommon(cfg, com, seldom(ev{w: phone(3), at: 5 * day}, ev{w: osaka, at: 5*day + 25*time.Minute})), Low,
		[]string{"new country JP, Osaka"})
	// the account itself went from one address of the range to another
	// within minutes: for it, the range is a phone's
	hops := seldom(ev{w: line(51, 4), at: 4*day + 20*time.Minute}, ev{w: line(50, 5), at: 5 * day}, ev{w: osaka, at: 5*day + 25*time.Minute})
	checkVerdict(t, judgeCommon(cfg, com, hops), Low, []string{"new country JP, Osaka"})
	// and back: Osaka, then the line 25 minutes later
	back := seldom(ev{w: osaka, at: 5 * day}, ev{w: line(50, 5), at: 5*day + 25*time.Minute})
	checkVerdict(t, judgeCommon(cfg, com, back), High, []string{"Osaka, JP → BR, 17,070 km in 25 min; 189.100.5.50 (BR) is on a line of AS28573"})
}

func ptr(w Where) *Where { return &w }

// addHeld adds to c n accounts (name0, name1, …) on their lines from
// 8:00 to 18:00 for five days, account u (from first on) on line(u, d)
// on day d.
func addHeld(c *Census, line func(u, d int) Where, name string, first, n int) {
	for u := range n {
		for d := range 5 {
			at := t0.Add(time.Duration(d) * day)
			c.Add(fmt.Sprint(name, u), ptr(line(first+u, d)), at, at.Add(10*time.Hour))
		}
	}
}

// addHopped adds to c n accounts that go from one address of line's
// range to another each hour, each used for 20 minutes.
func addHopped(c *Census, line func(u, d int) Where, name string, first, n int) {
	for u := range n {
		for h := range 4 {
			at := t0.Add(time.Duration(h) * time.Hour)
			c.Add(fmt.Sprint(name, u), ptr(line(first+u, h)), at, at.Add(20*time.Minute))
		}
	}
}
