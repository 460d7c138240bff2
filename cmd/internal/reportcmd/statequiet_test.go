package reportcmd

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// A PostgreSQL state that goes quiet while a daemon runs (its host
// frozen, a link that drops everything): reading what is pending delivery
// and an account's history each fail within statecmd.OpTimeout, with an
// error that says so, and the daemon goes on (its deliveries are tried
// again; the account is judged without its history, and the next ones
// met within statecmd.HistoryPause too, at once). They used to have
// no deadline: the daemon's deliveries, and its reader at the next new
// account, waited for ever.
func TestStateGoneQuiet(t *testing.T) {
	dsn, freeze := pgtest.Freezable(t, pgtest.DSN(t))
	defer func(d time.Duration) { statecmd.OpTimeout = d }(statecmd.OpTimeout)
	statecmd.OpTimeout = time.Second
	st, stderr, log := openPG(t, dsn, "[GENERAL]\ncountry_ignore = BR\n")
	n := webhookNotifier(t, "http://127.0.0.1:9/never")
	env := cli.Env{Stdout: io.Discard, Stderr: stderr}
	// answering: nothing pending, no history
	if _, err := st.Known(context.Background(), "bob@x.test"); err != nil {
		t.Fatalf("history, the state answering: %v", err)
	}
	if !n.Deliver(context.Background(), env, log, "mx", st, 0, report.Gaps{}) {
		t.Fatalf("deliver, the state answering: %s", stderr)
	}
	freeze()
	done := make(chan struct{})
	var knownErr error
	var delivered bool
	start := time.Now()
	history := st.LiveHistory() // a live reader's
	var liveErr, pausedErr error
	var paused time.Duration
	go func() {
		defer close(done)
		_, knownErr = st.Known(context.Background(), "bob@x.test")
		delivered = n.Deliver(context.Background(), env, log, "mx", st, 0, report.Gaps{})
		_, liveErr = history("alice@x.test")
		// the next new account: not asked for, at once
		at := time.Now()
		_, pausedErr = history("carol@x.test")
		paused = time.Since(at)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("still waiting for the quiet state after 30 s (OpTimeout 1s)")
	}
	t.Logf("all failed after %v", time.Since(start).Round(time.Millisecond))
	if knownErr == nil || !strings.Contains(knownErr.Error(), "the state did not answer within 1s") {
		t.Errorf("history: %v", knownErr)
	}
	if liveErr == nil || !strings.Contains(liveErr.Error(), "the state did not answer within 1s") || !strings.Contains(liveErr.Error(), "judged without their history, and again with it once the state answers") {
		t.Errorf("live history: %v", liveErr)
	}
	if !errors.Is(pausedErr, report.ErrHistoryLater) || paused > 200*time.Millisecond {
		t.Errorf("live history just after a failure: %v after %v; want ErrHistoryLater, at once", pausedErr, paused)
	}
	if delivered {
		t.Errorf("deliver said all went well")
	}
	if !strings.Contains(stderr.String(), "loganom: error: the state did not answer within 1s") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

// openPG opens the PostgreSQL state dsn as the programs do, with the
// config ini, for a test: what it says goes to stderr, through log. It is
// closed at the test's end.
func openPG(t *testing.T, dsn, ini string) (st *statecmd.State, stderr *lockedBuf, log *cli.Logger) {
	t.Helper()
	stderr = &lockedBuf{}
	log = &cli.Logger{Prog: "loganom", W: stderr}
	st, err := statecmd.Open(context.Background(), &statecmd.Flags{DB: dsn}, loadINI(t, ini), log, false, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, stderr, log
}
