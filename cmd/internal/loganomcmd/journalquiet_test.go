package loganomcmd

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
	"github.com/loganom/loganom/pkg/state"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// The daemon on the journal, with a PostgreSQL state that does not
// answer once open (here: the positions held by another session's lock):
// reading the journal's position ends within statecmd.OpTimeout with an
// error that says so, and a non-zero exit for the unit's restart, as the
// files' does (State.Positions). It read it with no bound, and the daemon
// waited for ever, saying nothing.
func TestDaemonJournalPositionQuiet(t *testing.T) {
	dsn := pgtest.DSN(t)
	s, err := state.Open(context.Background(), dsn, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	pgtest.LockTable(t, dsn, "positions")
	defer func(d time.Duration) { statecmd.OpTimeout = d }(statecmd.OpTimeout)
	statecmd.OpTimeout = time.Second
	cfg := filepath.Join(t.TempDir(), "config.ini")
	liveConfig(t, cfg, "BR", "")

	stderr := &syncbuf.Buffer{}
	done := make(chan int, 1)
	args := []string{"postfix-sasl", "--follow", "--journal", "--journalctl", "/bin/false", "--resume", "-c", cfg, "--db", dsn,
		"--no-cache", "--no-rdns", "--format", "json"}
	go func() {
		done <- Main(cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: &syncbuf.Buffer{}, Stderr: stderr, Getenv: func(string) string { return "" }})
	}()
	select {
	case code := <-done:
		if code == cli.ExitOK || !strings.Contains(stderr.String(), "the state did not answer within 1s") {
			t.Errorf("exit %d; want an error that says the state did not answer; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("still waiting for the journal's position after 20 s (OpTimeout 1s)\n%s", stderr.String())
	}
}
