package main

import (
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
)

// TestHomeDataCentreAcrossRuns: with country_ignore = BR, a thief sending
// from a data centre of Brazil (a network the account never used) is
// found by hourly --resume runs as by one run over the whole log, though
// the run that sees the burst sees whitelisted logins only: the account's
// history from the state says the network is new to it (without it, the
// run would take the burst for the account's first day, and learn it).
func TestHomeDataCentreAcrossRuns(t *testing.T) {
	const user = "bob@example.test"
	write := func(l *stateLab, run func()) {
		// three days of ordinary life at home (AS26599), then, a day
		// later, 20 logins in 20 minutes from another network of Brazil
		// (AS28573)
		for range 3 {
			for range 3 {
				l.login(user, "187.45.12.9")
				l.clock = l.clock.Add(3 * time.Hour)
			}
			l.clock = l.clock.Add(15 * time.Hour)
		}
		run()
		l.clock = l.clock.Add(24 * time.Hour)
		for range 20 {
			l.login(user, "177.66.162.138")
		}
	}
	for _, hourly := range []bool{false, true} {
		l := newStateLab(t, "")
		l.appendConfig("[GENERAL]\ncountry_ignore = BR\n")
		write(l, func() {
			if !hourly {
				return
			}
			if code, stdout, stderr := l.run(); code != cli.ExitOK || stderr != "" {
				t.Fatalf("run 1: exit %d, want 0\n%s\n%s", code, stdout, stderr)
			}
		})
		code, stdout, stderr := l.run()
		if code != cli.ExitAnomalies || stderr != "" || !strings.Contains(stdout, "new network AS28573") || !strings.Contains(stdout, "177.66.162.138") {
			t.Errorf("hourly %v: exit %d, want 3 with the burst from AS28573\n%s\n%s", hourly, code, stdout, stderr)
		}
		if reqs, _ := l.hook.alerts(); reqs[user] != 1 {
			t.Errorf("hourly %v: alerts %v", hourly, reqs)
		}
		l.checkHistory()
	}
}
