package parsecmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/state"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// loganom-parse --journal --resume on a PostgreSQL state that
// does not answer once open (here: the positions held by another
// session's lock): reading the journal's position ends within
// statecmd.OpTimeout with an error that says so, as the files' does
// (State.Positions). It read it with no bound, and waited for ever.
func TestFollowJournalPositionQuiet(t *testing.T) {
	dsn := pgtest.DSN(t)
	s, err := state.Open(context.Background(), dsn, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	pgtest.LockTable(t, dsn, "positions")
	defer func(d time.Duration) { statecmd.OpTimeout = d }(statecmd.OpTimeout)
	statecmd.OpTimeout = time.Second

	var stdout, stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- Main(cli.Env{Args: []string{"--resume", "--journal", "--journalctl", "/bin/false", "--db", dsn},
			Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
	}()
	select {
	case code := <-done:
		if code == cli.ExitOK || !strings.Contains(stderr.String(), "the state did not answer within 1s") {
			t.Errorf("exit %d; want an error that says the state did not answer; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		// (Main follows the journal from then on: it is left running, to
		// the test binary's end)
		t.Fatalf("still waiting for the journal's position after 20 s (OpTimeout 1s)")
	}
}
