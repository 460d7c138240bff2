package main

import (
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
)

// A burst from a new network split across two hourly --resume runs (8
// logins before one, 12 after) is found as one run over the whole log
// finds it: the logins of the run before count, from the state's
// history, in the burst's window.
func TestBurstAcrossRuns(t *testing.T) {
	const user = "bob@example.test"
	for _, ignore := range []string{"", "[GENERAL]\ncountry_ignore = BR\n"} {
		for _, hourly := range []bool{false, true} {
			l := newStateLab(t, "")
			if ignore != "" {
				l.appendConfig(ignore)
			}
			run := func(what string) {
				if !hourly {
					return
				}
				if code, stdout, stderr := l.run(); code != cli.ExitOK || stderr != "" {
					t.Fatalf("%s: exit %d, want 0\n%s\n%s", what, code, stdout, stderr)
				}
			}
			for range 3 {
				for range 3 {
					l.login(user, "187.45.12.9")
					l.clock = l.clock.Add(3 * time.Hour)
				}
				l.clock = l.clock.Add(15 * time.Hour)
			}
			run("run 1")
			l.clock = l.clock.Add(24 * time.Hour)
			for range 8 {
				l.login(user, "177.66.162.138")
				l.clock = l.clock.Add(time.Minute)
			}
			run("run 2")
			for range 12 {
				l.login(user, "177.66.162.138")
				l.clock = l.clock.Add(time.Minute)
			}
			code, stdout, stderr := l.run()
			if code != cli.ExitAnomalies || stderr != "" || !strings.Contains(stdout, "new network AS28573") || !strings.Contains(stdout, "20 logins within") {
				t.Errorf("country_ignore %v, hourly %v: exit %d, want 3 with the burst of 20 logins from AS28573\n%s\n%s", ignore != "", hourly, code, stdout, stderr)
			}
		}
	}
}
