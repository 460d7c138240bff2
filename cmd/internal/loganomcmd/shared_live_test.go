package loganomcmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// TestFollowLearnsOtherServersLogins: two mail servers share a state. Ana
// sends from home (São Paulo) through mx1, whose daemon holds her account
// in memory since her login of yesterday evening. Her stolen password is
// used from Osaka through mx2 (recorded there by a batch run: a new
// country, nothing more on its own, her last login 21 hours before). Her
// next login at home, 20 minutes after the thief's, makes an impossible
// trip that only the two servers' logins together show: mx1's daemon,
// which has read the rows mx2 recorded since it loaded her history, alerts
// with it. Before, it judged her with what it had read at her first login.
func TestFollowLearnsOtherServersLogins(t *testing.T) {
	defer func(e time.Duration) { report.RecentEvery = e }(report.RecentEvery)
	report.RecentEvery = 50 * time.Millisecond
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "state.db")
			if backend == "postgres" {
				db = pgtest.DSN(t)
			}
			cfg := map[string]string{}
			for _, mx := range []string{"mx1", "mx2"} {
				cfg[mx] = filepath.Join(dir, mx+".ini")
				liveConfig(t, cfg[mx], "BR", "")
				f, err := os.OpenFile(cfg[mx], os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteString("\n[STATE]\ninstance = " + mx + "\n")
				f.Close()
			}
			mx1 := filepath.Join(dir, "mx1.log")
			appendTo := func(path, s string) {
				t.Helper()
				f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteString(s); err != nil {
					t.Fatal(err)
				}
				f.Close()
			}
			appendTo(mx1, "")

			outR, outW, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer outR.Close()
			lines := outputLines(outR)
			stderr := &syncBuffer{}
			code := make(chan int, 1)
			go func() {
				code <- Main(cli.Env{Args: []string{"postfix-sasl", "--follow", "-c", cfg["mx1"], "-l", mx1, "--db", db, "--no-cache", "--no-rdns",
					"--year", "2026", "--tz", "UTC", "--format", "json"}, Stdin: strings.NewReader(""), Stdout: outW, Stderr: stderr, Getenv: func(string) string { return "" }})
				outW.Close()
			}()
			waitFor(t, "the daemon to start", func() bool { return strings.Contains(stderr.String(), "following") })
			defer func() {
				if c := stopDaemon(t, stderr, code); c != 0 {
					t.Errorf("mx1's daemon: exit %d\n%s", c, stderr)
				}
			}()

			st, err := state.Open(context.Background(), db, state.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			ana := "ana@example.test"
			day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			var b strings.Builder
			for d := 0; d < 5; d++ {
				b.WriteString(liveLine(day.Add(time.Duration(d)*24*time.Hour), ana, saoPaulo))
			}
			evening := day.Add(4*24*time.Hour + 8*time.Hour) // 17:00 of the fifth day
			b.WriteString(liveLine(evening, ana, saoPaulo))
			appendTo(mx1, b.String())
			waitFor(t, "mx1's logins recorded", func() bool { return historyCount(t, st, ana) == 6 })

			// the thief, through mx2, 21 hours later
			thief := evening.Add(21 * time.Hour)
			mx2 := filepath.Join(dir, "mx2.log")
			appendTo(mx2, liveLine(thief, ana, osaka))
			var out2, err2 strings.Builder
			if c := Main(cli.Env{Args: []string{"postfix-sasl", "--resume", "-c", cfg["mx2"], "-l", mx2, "--db", db, "--no-cache", "--no-rdns",
				"--year", "2026", "--tz", "UTC", "--format", "json"}, Stdin: strings.NewReader(""), Stdout: &out2, Stderr: &err2, Getenv: func(string) string { return "" }}); c != 0 {
				t.Fatalf("mx2's run: exit %d\n%s", c, err2.String())
			}
			if strings.Contains(out2.String(), `"severity"`) {
				t.Fatalf("mx2's run alerted on its own; the test needs a thief's login that is no alert alone:\n%s", out2.String())
			}
			if n := historyCount(t, st, ana); n != 7 {
				t.Fatalf("after mx2's run the history counts %d logins of ana, 7 written\n%s\n%s", n, out2.String(), err2.String())
			}

			// Ana at home, 20 minutes after the thief
			appendTo(mx1, liveLine(thief.Add(20*time.Minute), ana, saoPaulo))
			select {
			case l := <-lines:
				var a struct {
					User     string
					Severity string
					Reasons  []struct{ Detector, Text string }
				}
				if err := json.Unmarshal([]byte(l), &a); err != nil {
					t.Fatalf("%v: %s", err, l)
				}
				if a.User != ana || a.Severity != "high" || len(a.Reasons) == 0 || a.Reasons[0].Detector != "impossible_travel" {
					t.Fatalf("alert %s", l)
				}
				if !strings.Contains(a.Reasons[0].Text, "Osaka") {
					t.Errorf("the trip does not name the thief's place: %s", a.Reasons[0].Text)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("no alert from mx1's daemon\n%s", stderr)
			}
			// her logins are recorded once each: mx2's row is not told again
			waitFor(t, "mx1's last login recorded", func() bool { return historyCount(t, st, ana) == 8 })
			time.Sleep(200 * time.Millisecond)
			if n := historyCount(t, st, ana); n != 8 {
				t.Errorf("history counts %d logins of ana, 8 written", n)
			}
		})
	}
}
