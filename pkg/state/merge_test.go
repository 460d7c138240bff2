package state

import (
	"testing"
	"time"
)

// TestMergeLoginsMethods: logins of one account and address in a run add
// up, their SASL mechanisms too (OR, as the history's upsert does),
// whichever came last.
func TestMergeLoginsMethods(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	for _, in := range [][]Login{
		{{User: "a", IP: "192.0.2.1", Count: 1, First: t0, Last: t0, Methods: 1}, {User: "a", IP: "192.0.2.1", Count: 2, First: t0.Add(time.Hour), Last: t0.Add(time.Hour), Methods: 2}},
		{{User: "a", IP: "192.0.2.1", Count: 2, First: t0.Add(time.Hour), Last: t0.Add(time.Hour), Methods: 2}, {User: "a", IP: "192.0.2.1", Count: 1, First: t0, Last: t0, Methods: 1}},
	} {
		out := mergeLogins(in)
		if len(out) != 1 || out[0].Count != 3 || !out[0].First.Equal(t0) || !out[0].Last.Equal(t0.Add(time.Hour)) || out[0].Methods != 3 {
			t.Errorf("mergeLogins = %+v", out)
		}
	}
}
