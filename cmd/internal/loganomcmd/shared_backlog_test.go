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
	"github.com/loganom/loganom/pkg/state"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// TestFollowBacklogLearnsOtherServersLogins: two mail servers share a
// state. mx1's daemon was down; restarted (--resume), it reads what its
// log gained meanwhile: Ana at home at noon, and again at 14:20. Her
// stolen password was used from Osaka at 14:00 through mx2, whose run
// recorded it while mx1's daemon was down: when the daemon meets Ana at
// noon, her history already holds the thief's row, first seen after.
// A batch run over mx1's log alerts the impossible trip (Report.Know);
// the daemon must too. Before, the row was left out of her history (seen
// after her first login) and counted as read (inState): no alert.
func TestFollowBacklogLearnsOtherServersLogins(t *testing.T) {
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
			batch := func(mx, log string) string {
				t.Helper()
				var out, errs strings.Builder
				if c := Main(cli.Env{Args: []string{"postfix-sasl", "--resume", "-c", cfg[mx], "-l", log, "--db", db, "--no-cache", "--no-rdns",
					"--year", "2026", "--tz", "UTC", "--format", "json"}, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errs, Getenv: func(string) string { return "" }}); c != 0 {
					t.Fatalf("%s's run: exit %d\n%s", mx, c, errs.String())
				}
				return out.String()
			}
			ana := "ana@example.test"
			day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			// mx1: five days at home, recorded by a run (its daemon's
			// position, for --resume)
			mx1 := filepath.Join(dir, "mx1.log")
			var b strings.Builder
			for d := 0; d < 5; d++ {
				b.WriteString(liveLine(day.Add(time.Duration(d)*24*time.Hour), ana, saoPaulo))
			}
			appendTo(mx1, b.String())
			if out := batch("mx1", mx1); strings.Contains(out, `"severity"`) {
				t.Fatalf("mx1's history alone alerted:\n%s", out)
			}
			// while mx1's daemon is down: the thief through mx2, at 14:00
			// of the sixth day; Ana through mx1 at noon and 14:20
			thief := day.Add(5*24*time.Hour + 5*time.Hour)
			mx2 := filepath.Join(dir, "mx2.log")
			appendTo(mx2, liveLine(thief, ana, osaka))
			if out := batch("mx2", mx2); strings.Contains(out, `"severity"`) {
				t.Fatalf("mx2's run alerted on its own; the test needs a thief's login that is no alert alone:\n%s", out)
			}
			appendTo(mx1, liveLine(thief.Add(-2*time.Hour), ana, saoPaulo)+liveLine(thief.Add(20*time.Minute), ana, saoPaulo))

			outR, outW, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer outR.Close()
			lines := make(chan string, 100)
			go func() {
				buf := make([]byte, 1<<16)
				var acc strings.Builder
				for {
					n, err := outR.Read(buf)
					acc.Write(buf[:n])
					for {
						s := acc.String()
						i := strings.IndexByte(s, '\n')
						if i < 0 {
							break
						}
						lines <- s[:i]
						acc.Reset()
						acc.WriteString(s[i+1:])
					}
					if err != nil {
						close(lines)
						return
					}
				}
			}()
			stderr := &syncBuffer{}
			code := make(chan int, 1)
			go func() {
				code <- Main(cli.Env{Args: []string{"postfix-sasl", "--follow", "--resume", "-c", cfg["mx1"], "-l", mx1, "--db", db, "--no-cache", "--no-rdns",
					"--year", "2026", "--tz", "UTC", "--format", "json"}, Stdin: strings.NewReader(""), Stdout: outW, Stderr: stderr, Getenv: func(string) string { return "" }})
				outW.Close()
			}()
			waitFor(t, "the daemon to start", func() bool { return strings.Contains(stderr.String(), "following") })
			defer func() {
				if c := stopDaemon(t, stderr, code); c != 0 {
					t.Errorf("mx1's daemon: exit %d\n%s", c, stderr)
				}
			}()
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
			case <-time.After(10 * time.Second):
				t.Fatalf("no alert from mx1's daemon\n%s", stderr)
			}
			// her logins are recorded once each, the thief's not again
			st, err := state.Open(context.Background(), db, state.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			waitFor(t, "mx1's backlog recorded", func() bool { return historyCount(t, st, ana) == 8 })
		})
	}
}
