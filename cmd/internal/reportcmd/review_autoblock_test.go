package reportcmd

import (
	"context"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/report"
)

// A log replayed long after it was written (a month-old maillog read by a
// first batch run, a backlog piped into --follow, a daemon resumed after
// days down): an alert whose last login is older than [BLOCK] for would
// have seen its block end already; it must not block the account now, for
// another full "for", for an incident long over (the password was likely
// changed since). A recent alert still blocks, until its last login + for
// at the latest; a log time ahead of the clock counts from now.
func TestReviewAutoBlockOldIncident(t *testing.T) {
	ctx := context.Background()
	f, st := autoBlockState(t, "[BLOCK]\nauto = true\nfor = 24h\nmin_severity = high\n")
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	st.Now = func() time.Time { return now }
	if err := f.Apply(st); err != nil {
		t.Fatal(err)
	}
	ab := f.AutoBlock()
	for _, c := range []struct {
		name  string
		last  time.Time
		made  bool
		until time.Time
	}{
		{"a month ago", now.AddDate(0, -1, 0), false, time.Time{}},
		{"25 hours ago", now.Add(-25 * time.Hour), false, time.Time{}},
		{"10 hours ago", now.Add(-10 * time.Hour), true, now.Add(14 * time.Hour)},
		{"now", now, true, now.Add(24 * time.Hour)},
		{"no time", time.Time{}, true, now.Add(24 * time.Hour)},
		{"ahead of the clock", now.Add(3 * time.Hour), true, now.Add(24 * time.Hour)},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := &report.Account{User: "u" + c.name + "@example.test", Severity: "high", Countries: []string{"BA", "ES"}, Last: c.last}
			made, err := ab.Block(ctx, st, a)
			if err != nil {
				t.Fatal(err)
			}
			if made != c.made || (a.Blocked != nil) != c.made {
				t.Fatalf("made %v, mark %+v; want made %v", made, a.Blocked, c.made)
			}
			blocks, err := st.Store.Blocks(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, b := range blocks {
				if b.User == a.User {
					found = true
					if !b.Expires.Equal(c.until) || !a.Blocked.Until.Equal(c.until) {
						t.Errorf("until %s (mark %s), want %s", b.Expires, a.Blocked.Until, c.until)
					}
				}
			}
			if found != c.made {
				t.Errorf("in the state: %v, want %v", found, c.made)
			}
		})
	}
}
