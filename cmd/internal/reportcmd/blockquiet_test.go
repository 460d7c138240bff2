package reportcmd

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// A batch run with [BLOCK] auto whose PostgreSQL state goes quiet once
// the run is recorded (a host frozen, a link that drops everything): the
// automatic block gives up within statecmd.OpTimeout with an error that
// says so, and the run ends (in an error, as when the block fails on a
// state down: a later run that finds the account alerted makes it,
// AutoBlock.Retry). It waited for ever: the block had no bound, where the
// history's reading, the commit and the deliveries each had one.
func TestBatchBlockStateGoneQuiet(t *testing.T) {
	dsn, freeze := pgtest.Freezable(t, pgtest.DSN(t))
	defer func(d time.Duration) { statecmd.OpTimeout = d }(statecmd.OpTimeout)
	statecmd.OpTimeout = time.Second
	cfg := loadINI(t, "[REPORT]\nrule = original\n[BLOCK]\nauto = true\nmin_countries = 2\n")
	var f ReportFlags
	if err := cfg.Fill(&f); err != nil {
		t.Fatal(err)
	}
	rule, err := f.Rule(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuf{}
	log := &cli.Logger{Prog: "loganom", W: stderr}
	env := cli.Env{Stdout: &lockedBuf{}, Stderr: stderr, Getenv: os.Getenv}
	n, err := (&NotifyFlags{}).Prepare(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := statecmd.Open(context.Background(), &statecmd.Flags{DB: dsn}, cfg, log, false, true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := f.Apply(st); err != nil {
		t.Fatal(err)
	}
	rep := report.New(rule)
	for _, x := range []struct{ ip, country string }{{"192.0.2.1", "DE"}, {"198.51.100.1", "FR"}} {
		rep.Process(&record.Record{Type: record.TypeLogin, User: "bob@example.test", IP: x.ip, Country: x.country, Time: time.Now()}, nil)
	}
	run, failed := Remember(log, st, rep, true, nil, nil, n, false)
	if run == nil || run.New != 1 {
		t.Fatalf("the run recorded %+v; want a new alert\n%s", run, stderr.String())
	}
	freeze()

	done := make(chan int, 1)
	go func() { done <- f.Finish(env, log, rep, n, failed, st, run) }()
	select {
	case code := <-done:
		if code != cli.ExitError {
			t.Errorf("exit %d; want %d", code, cli.ExitError)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the automatic block still waits for the quiet state after 30s (OpTimeout 1s)")
	}
	if out := stderr.String(); !strings.Contains(out, "the state did not answer within 1s: auto-block bob@example.test") {
		t.Errorf("stderr:\n%s", out)
	}
}
