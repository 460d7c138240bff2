package detect

import (
	"testing"
	"time"
)

// A history row cut at a run's start (Known.Cut: the address was in use
// through then, used since by another server or read again) has no login
// at its Last. A traveller's hotel (two addresses of one range) and the
// conference (two of another), each used every 40 minutes, one after
// the other, recorded by the other server: their rows are cut at this
// run's start, all four ending then. Each was taken for a login at that
// time, the four taking turns three times, and the traveller's new
// country, from this run's logins 40 minutes apart, was medium at twice
// his pace.
func TestBurstTurnsCutRows(t *testing.T) {
	cfg := Config{}.Defaults()
	trip := 8*day - 4*time.Hour
	start := t0.Add(trip + 200*time.Minute) // this run's first login
	known := []Known{{Where: saoPaulo, First: t0.Add(4 * time.Hour), Last: t0.Add(6*day + 13*time.Hour), Count: 28}}
	hotel2, conf2 := moscow, moscow2
	hotel2.IP, conf2.IP = "95.165.1.9", "95.165.2.9"
	for i, w := range []Where{moscow, moscow2, hotel2, conf2} {
		known = append(known, Known{Where: w, First: t0.Add(trip + time.Duration(i)*40*time.Minute), Last: start, Count: 2, Cut: true})
	}
	a := NewAccount(&cfg, known, nil)
	// the run's first login: the account's provider relaying (the
	// history is cut there)
	r := relay(saoPaulo)
	a.Login(&r, start, start, 1)
	for i := range 4 { // the hotel, the conference, 40 minutes apart
		w := moscow
		if i%2 == 1 {
			w = moscow2
		}
		at := start.Add(20*time.Minute + time.Duration(i)*40*time.Minute)
		a.Login(&w, at, at, 1)
	}
	checkVerdict(t, a.Verdict(), Low, []string{"new country RU, Moscow"})
}
