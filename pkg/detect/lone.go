package detect

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// A lone far login: a stolen password checked once. The checker logs in
// one time, from wherever its botnet is, and the owner keeps logging in
// from home; the password is then sold, and used days later. A login from
// a country new to the account, LoneFar km or more from the account's
// last login from a usual country, which came loneBefore or less before
// it (or, whenever it came, when one through a relay did: the Outlook
// app's, through Microsoft's servers), and then no other login from that
// country, or within loneNearKM of it, for the window (a day) after: no
// traveller's. A traveller who lands
// logs in again from there (the hotel, the next day's meeting), and his
// login minutes before from home was his phone, roaming home-routed; the
// checker's never comes back. The new country's low finding (NewPlace) is
// then medium: the account's password works from the other side of the
// world, and its owner did not use it there.
//
// Measured (scripts/bench-detect, country_ignore = DE): on held-out seeds
// 744 to 775 (64,000 accounts), the 4 thieves of one far login the other
// detectors missed, and 4 more false alarms (travellers whose phone
// roams); on 708 to 739, 6 of 7, 10 more; on 20 seeds picked for their
// misses, 10 of 13, 8 more. Only on networks no colleague stayed on: no
// better (and only on sites with a census). On the records of seeds 664
// to 671 (a script, before this code): "none from there in 6 h" instead
// of the day alerted 8 innocent accounts instead of 2; without the login
// just before, 126 (holiday makers log in once from the hotel). After a
// login through the site's exit (the company's VPN: its place is the
// VPN's) as after a relay's: on seeds 708 to 807, 1 more thief caught
// and 2 more false alarms, travellers whose one login from the hotel
// came between logins through the VPN; not kept.
//
// The verdict waits for the window to pass: a later login of the account
// decides it (Login; in a later run, from the history's rows: recallLone),
// and, without a state, the end of what a batch read or a live reader's
// clock (Until).

// loneBefore: the login from a usual country that a lone far login follows
// within this; loneNearKM: a login within this of a lone far login's
// place, within the window after it, is the same stay (a tour's next
// country).
const (
	loneBefore = time.Hour
	loneNearKM = 3000
	loneFarKM  = 5000
)

// lonely is a lone far login, its verdict pending.
type lonely struct {
	f        *finding // the country's NewPlace finding (nil: recalled, made when raised)
	at       time.Time
	ip       string
	where    string // its country and town, for a finding made when raised
	cc       string
	lat, lon float64
	acc      float64
	// why: the login before and the distance, in words
	why string
}

// noteUsual remembers a login from a usual country, located: a lone far
// login's login before.
func (a *Account) noteUsual(w *Where, last time.Time) {
	if a.cfg.LoneFar <= 0 || !w.HasLoc {
		return
	}
	a.lastUsual = login{Where: *w, at: last, valid: true}
}

// noteRelay remembers a login through a relay (Where.Relay: a provider's
// servers, the Outlook app's through Microsoft's): the owner's, from
// wherever he is; a lone far login's login before, far from the account's
// last place.
func (a *Account) noteRelay(w *Where, last time.Time) {
	if a.cfg.LoneFar > 0 {
		a.lastRelay = login{Where: *w, at: last, valid: true}
	}
}

// justBefore: l is a valid login loneBefore or less before t.
func justBefore(l *login, t time.Time) bool {
	return l.valid && !t.Before(l.at) && t.Sub(l.at) <= loneBefore
}

// maybeLone takes the first login from a new country (its finding f) as a
// lone far login, pending, when the account's last login from a usual
// country came loneBefore or less before it, from LoneFar km or more away
// (beyond both accuracy radii); or when one through a relay did, and that
// last login from a usual country, whenever it was, is as far.
func (a *Account) maybeLone(f *finding, w *Where, first time.Time, n int) {
	u := &a.lastUsual
	if a.cfg.LoneFar <= 0 || n != 1 || f.n != 1 || !w.HasLoc || w.Country == "" || !u.valid {
		return
	}
	by := u
	if !justBefore(u, first) {
		if by = &a.lastRelay; !justBefore(by, first) {
			return
		}
	}
	if !a.far(&u.Where, w) {
		return
	}
	a.lone = append(a.lone, a.lonely(f, w, first, &u.Where, &by.Where, by.at))
}

// lonely is the pending lone far login from w at t, after the login by
// at: u's own, or a relay's (by.Relay), u then the account's last place.
func (a *Account) lonely(f *finding, w *Where, t time.Time, u, by *Where, at time.Time) lonely {
	km := thousands(int64(math.Round(Distance(u.Lat, u.Lon, w.Lat, w.Lon)/10) * 10))
	why := fmt.Sprintf("%s after one from %s (%s), %s km away", span(t.Sub(at)), placeName(u), a.network(u), km)
	if by.Relay {
		why = fmt.Sprintf("%s after one through %s (a provider's servers, which do not say where the owner is), %s km from the account's last place, %s (%s)",
			span(t.Sub(at)), a.network(by), km, placeName(u), a.network(u))
	}
	return lonely{f: f, at: t, ip: strings.Clone(w.IP), where: countryCity(w), cc: strings.Clone(w.Country), lat: w.Lat, lon: w.Lon, acc: float64(w.AccuracyKM), why: why}
}

// far: w is LoneFar km or more from u, beyond both accuracy radii.
func (a *Account) far(u, w *Where) bool {
	return Distance(u.Lat, u.Lon, w.Lat, w.Lon)-float64(u.AccuracyKM)-float64(w.AccuracyKM) >= a.cfg.LoneFar
}

// recallLone finds in the history's rows (Reset) the lone far logins an
// earlier run (an hourly one, the live reader's window before) left
// pending, as far as the rows tell: a row of one login, the first of its
// country, not whitelisted; a row of a usual country whose first or last
// login came loneBefore or less before it, far enough (or a relay's, and
// the last row of a usual country before it far enough); no row of that
// country, or near it, in use in the window after; and no row in use
// past that window (a run that read such a login judged it then). And
// the last login from a usual country (lastUsual), and through a relay
// (lastRelay), for a lone far login in the logins fed next.
func (a *Account) recallLone(known []Known) {
	if a.cfg.LoneFar <= 0 {
		return
	}
	// (a relay's rows too: its logins are the account's, and judge what
	// waits as any other does: Login; of a row cut, its first login: its
	// last is this run's time, not a login an earlier one read)
	var latest time.Time
	for i := range known {
		k := &known[i]
		last := k.Last
		if k.Cut {
			last = k.First
		}
		if last.After(latest) {
			latest = last
		}
	}
	// (as Login takes a login at at: through the exit, at at, or a
	// gate's address, whenever it became one, none from a usual country)
	usualRow := func(k *Known, at, t time.Time) bool {
		return !k.Relay && k.HasLoc && k.Country != "" && !a.site.exit(&k.Where, at) && !a.site.gate(k.IP, time.Time{}) &&
			(k.Trusted || a.countryUsual(k.Country, t))
	}
	for i := range known {
		k := &known[i]
		last := k.Last
		if k.Cut {
			last = k.First // (its cut is this run's time, no login)
		}
		if usualRow(k, last, last) && (!a.lastUsual.valid || last.After(a.lastUsual.at)) {
			a.noteUsual(&k.Where, last)
		}
		if k.Relay && (!a.lastRelay.valid || last.After(a.lastRelay.at)) {
			a.noteRelay(&k.Where, last)
		}
	}
rows:
	for i := range known {
		c := &known[i]
		t := c.First
		end := t.Add(a.cfg.Window)
		if c.Relay || c.Trusted || c.Cut || !c.HasLoc || c.Country == "" || c.Count != 1 || !c.Last.Equal(t) ||
			t.Before(a.learnTill) || !latest.Before(end) || a.site.exit(&c.Where, t) || a.site.gate(c.IP, time.Time{}) || a.site.commonCountry(c.Country, t) {
			continue // (a gate's address: an exit whenever it became one, as Login takes it)
		}
		var u, ref, relay *Known // just before; the last place before; a relay's just before
		var ut, refAt, relayAt time.Time
		for j := range known {
			k := &known[j]
			if j == i {
				continue
			}
			// (a relay's and an exit's logins, as Login takes them, say
			// nothing of where the owner is: a relay's row, or a gate's,
			// is none of the country's logins, nor a return there; an
			// exit's row is none of the country's logins when its first
			// was through the exit, and no return when its logins after
			// t were: the network an exit's at t, or at the row's first
			// login if later)
			via := k.Relay || a.site.gate(k.IP, time.Time{})
			if k.Country == c.Country && k.First.Before(t) && !via && !a.site.exit(&k.Where, k.First) {
				continue rows // not the country's first
			}
			if k.Last.After(t) && !k.First.After(end) && !via && !a.site.exit(&k.Where, later(k.First, t)) &&
				(k.Country == c.Country || k.HasLoc && Distance(c.Lat, c.Lon, k.Lat, k.Lon)-float64(c.AccuracyKM)-float64(k.AccuracyKM) < loneNearKM) {
				continue rows // back there within the window
			}
			last := k.Last
			if k.Cut {
				last = k.First
			}
			if k.Relay {
				for _, at := range [2]time.Time{k.First, last} {
					if !at.After(t) && t.Sub(at) <= loneBefore && at.After(relayAt) {
						relay, relayAt = k, at
					}
				}
				continue
			}
			for _, at := range [2]time.Time{k.First, last} {
				if !usualRow(k, at, t) {
					continue
				}
				if !at.After(t) && at.After(refAt) {
					ref, refAt = k, at
				}
				if !at.After(t) && t.Sub(at) <= loneBefore && at.After(ut) {
					u, ut = k, at
				}
			}
		}
		switch {
		case u != nil && a.far(&u.Where, &c.Where):
			a.lone = append(a.lone, a.lonely(nil, &c.Where, t, &u.Where, &u.Where, ut))
		case u == nil && relay != nil && ref != nil && a.far(&ref.Where, &c.Where):
			a.lone = append(a.lone, a.lonely(nil, &c.Where, t, &ref.Where, &relay.Where, relayAt))
		}
	}
}

// settleLone judges the pending lone far logins at t: one whose window
// has passed is medium; one that a login at t comes back near is no
// longer pending.
func (a *Account) settleLone(w *Where, t time.Time) {
	if len(a.lone) == 0 {
		return
	}
	keep := a.lone[:0]
	for _, l := range a.lone {
		switch {
		case !t.Before(l.at.Add(a.cfg.Window)):
			a.raiseLone(&l)
		case w != nil && !t.Before(l.at) && (w.Country == l.cc || w.HasLoc && Distance(l.lat, l.lon, w.Lat, w.Lon)-l.acc-float64(w.AccuracyKM) < loneNearKM):
			// back there: a stay, not a check
		default:
			keep = append(keep, l)
		}
	}
	clear(a.lone[len(keep):])
	a.lone = keep
}

func (a *Account) raiseLone(l *lonely) {
	if l.f == nil {
		l.f = a.find(NewPlace, "c "+l.cc, Low, l.at, l.ip, "")
		if l.f.Text == "" {
			l.f.Text = "new country " + l.where + " (" + a.describe(l.at) + ")"
		}
	}
	l.f.lone = fmt.Sprintf("its only login from there, %s; none from there, nor within %s km, in the %s after",
		l.why, thousands(loneNearKM), span(a.cfg.Window))
}

// Reached tells the account, started again from its history's rows, that
// the logins read before (by the same reader) reached t: a lone far login
// that the rows leave pending (recallLone), its window passed by then, was
// judged then (Until), and is not again at the next login.
func (a *Account) Reached(t time.Time) {
	if len(a.lone) == 0 || t.IsZero() {
		return
	}
	keep := a.lone[:0]
	for _, l := range a.lone {
		if l.f != nil || t.Before(l.at.Add(a.cfg.Window)) {
			keep = append(keep, l)
		}
	}
	clear(a.lone[len(keep):])
	a.lone = keep
}

// Waiting tells whether a verdict waits for the window to pass (Until).
func (a *Account) Waiting() bool { return len(a.lone) > 0 }

// Until tells the account that the logins read reach t (a batch's last
// login, a live reader's clock): a lone far login whose window has passed
// by then is judged.
func (a *Account) Until(t time.Time) {
	if !t.IsZero() {
		a.settleLone(nil, t)
	}
}
