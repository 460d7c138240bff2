package detect

import (
	"testing"
	"time"
)

// Logins read out of order (a late line: two logs read at once, a
// server's journal behind the other's) showing a day already counted
// do not count it again. Before, a pair of a day other than the last day
// counted was a day more: the team's two days by road read as three, and
// once more for each late pair.
func TestSharingOutOfOrder(t *testing.T) {
	cfg := Config{}.Defaults()
	a := NewAccount(&cfg, nil, nil)
	munich := Where{IP: "79.192.10.1", Country: "DE", City: "Munich", ASN: 3320, HasLoc: true, Lat: 48.1374, Lon: 11.5755, AccuracyKM: 5}
	augsburg := Where{IP: "188.174.20.2", Country: "DE", City: "Augsburg", ASN: 8767, HasLoc: true, Lat: 48.3705, Lon: 10.8978, AccuracyKM: 5}
	t0 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	login := func(w Where, at time.Time) { a.Login(&w, at, at, 1) }
	for d := range 2 {
		day := t0.Add(time.Duration(d) * 24 * time.Hour)
		login(munich, day.Add(10*time.Hour))
		login(augsburg, day.Add(10*time.Hour+5*time.Minute))
	}
	if got := a.Sharing().NearDays; got != 2 {
		t.Fatalf("in order: %d days by road; want 2", got)
	}
	// the first day's evening, read late
	login(munich, t0.Add(20*time.Hour))
	login(augsburg, t0.Add(20*time.Hour+5*time.Minute))
	if got := a.Sharing().NearDays; got != 2 {
		t.Errorf("a pair of the first day read late: %d days by road; want 2", got)
	}
}
