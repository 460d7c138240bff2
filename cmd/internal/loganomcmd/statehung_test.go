package loganomcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// loganom postfix-sasl, from cron and as the daemon (--follow), on a
// PostgreSQL state that accepts connections and never answers (a frozen
// host, a stalled disk): it gives up after statecmd.OpenTimeout with an error
// that says so and a non-zero exit, for systemd's restart or the next
// cron run to try again. It used to wait for ever, saying nothing.
func TestStateOpenHung(t *testing.T) {
	dsn, _, _ := pgtest.Hung(t)
	defer func(d time.Duration) { statecmd.OpenTimeout = d }(statecmd.OpenTimeout)
	statecmd.OpenTimeout = time.Second
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.ini")
	logf := filepath.Join(dir, "mail.log")
	if err := os.WriteFile(cfg, []byte("[GENERAL]\ncountry_ignore = BR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, follow := range []bool{false, true} {
		args := []string{"postfix-sasl", "--db", dsn, "--no-cache", "--no-rdns", "-c", cfg, "-l", logf}
		if follow {
			args = append(args, "--follow")
		}
		name := "cron"
		if follow {
			name = "daemon"
		}
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := make(chan int, 1)
			go func() {
				code <- Main(cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
			}()
			select {
			case c := <-code:
				if c == cli.ExitOK || c == 3 {
					t.Errorf("exit %d on a state that never answered", c)
				}
				if !regexp.MustCompile(`(?m)^loganom: error: the state did not answer within 1s`).MatchString(errb.String()) {
					t.Errorf("stderr:\n%s", errb.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("still waiting after 30s (statecmd.OpenTimeout 1s)")
			}
		})
	}
}

// The state's commands (loganom db, history, alerts), on the same state:
// each gives up with an error that says so (statecmd.OpenTimeout for the
// open; loganom db migrate within statecmd.RunTimeout), where they waited
// for ever, and a cron job's loganom db prune with them.
func TestStateCommandsHung(t *testing.T) {
	dsn, _, _ := pgtest.Hung(t)
	defer func(o, r time.Duration) { statecmd.OpenTimeout, statecmd.RunTimeout = o, r }(statecmd.OpenTimeout, statecmd.RunTimeout)
	statecmd.OpenTimeout, statecmd.RunTimeout = time.Second, time.Second
	cfg := filepath.Join(t.TempDir(), "config.ini")
	if err := os.WriteFile(cfg, []byte("[GENERAL]\ncountry_ignore = BR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"db", "stats"}, {"db", "prune"}, {"db", "migrate"}, {"history", "bob@example.test"}, {"alerts"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			args := append(args, "-c", cfg, "--db", dsn)
			var out, errb bytes.Buffer
			code := make(chan int, 1)
			go func() {
				code <- Main(cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
			}()
			select {
			case c := <-code:
				if c != cli.ExitError {
					t.Errorf("exit %d on a state that never answered, want %d", c, cli.ExitError)
				}
				if !regexp.MustCompile(`(?m)^loganom: error: the state did not answer within 1s`).MatchString(errb.String()) {
					t.Errorf("stderr:\n%s", errb.String())
				}
				if out.Len() > 0 {
					t.Errorf("stdout:\n%s", out.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("still waiting after 30s (timeouts of 1s)")
			}
		})
	}
}
