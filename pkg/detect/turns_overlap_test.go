package detect

import (
	"testing"
	"time"
)

// A traveller going back and forth between the hotel's line and the
// conference's, a login every 25 minutes, one range then the other: no
// turns (each login 25 minutes after the other range's). The hotel's
// logins come two at a time, as one login's first and last: another
// server's row, or a batch run's step of another server's log (the
// conference's logins between went to the other server). The
// conference's login 50 minutes in is not within 15 minutes of the
// hotel's before it (25 minutes in), though the hotel's pair (25 and 75
// minutes in) ends after it: it was counted a turn, as was each such login, and the traveller's
// new country alerted at twice his pace. A thief's bots, 10 minutes
// apart, given so, still take turns.
func TestBurstTurnsOverlappingLogins(t *testing.T) {
	cfg := Config{}.Defaults()
	var owner []ev
	for d := range 7 {
		for _, h := range []time.Duration{4, 7, 10, 13} {
			owner = append(owner, ev{w: saoPaulo, at: time.Duration(d)*day + h*time.Hour})
		}
	}
	start := 8*day - 4*time.Hour
	// every: between a login and the other range's; pairs: the hotel's
	// logins two at a time
	run := func(every time.Duration, pairs bool) Verdict {
		a := NewAccount(&cfg, nil, nil)
		for _, e := range owner {
			w := e.w
			a.Login(&w, t0.Add(e.at), t0.Add(e.at), 1)
		}
		for i := range 8 { // the conference at 0, 2*every, ...; the hotel at every, 3*every, ...
			conf := moscow2
			at := start + time.Duration(2*i)*every
			a.Login(&conf, t0.Add(at), t0.Add(at), 1)
			if i%2 == 1 && pairs {
				continue // the hotel's second login of the pair, given with the first
			}
			hotel := moscow
			first := at + every
			if pairs {
				a.Login(&hotel, t0.Add(first), t0.Add(first+2*every), 2)
			} else {
				a.Login(&hotel, t0.Add(first), t0.Add(first), 1)
			}
		}
		return a.Verdict()
	}
	for _, pairs := range []bool{false, true} {
		checkVerdict(t, run(25*time.Minute, pairs), Low, []string{"new country RU, Moscow (7 days in the logs read: BR only)"})
		checkVerdict(t, run(10*time.Minute, pairs), Medium, []string{"new country RU, Moscow: 1", "from 2 address ranges taking turns"})
	}
}
