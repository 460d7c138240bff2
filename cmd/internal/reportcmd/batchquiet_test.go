package reportcmd

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// A batch run (cron's) whose PostgreSQL state goes quiet (a host frozen,
// a link that drops everything): reading the accounts' history and
// recording the run each end within statecmd.RunTimeout with an error
// that says so, and the run goes on without the state: it notifies the
// account it found, and ends in an error. It used to wait for ever, and
// the next hour's run behind it. Opening a state gone quiet ends the same
// way (within statecmd.OpenTimeout: loganom-report's open had no bound;
// the wrapper's had).
func TestBatchStateGoneQuiet(t *testing.T) {
	dsn, freeze := pgtest.Freezable(t, pgtest.DSN(t))
	defer func(d, o time.Duration) { statecmd.RunTimeout, statecmd.OpenTimeout = d, o }(statecmd.RunTimeout, statecmd.OpenTimeout)
	statecmd.RunTimeout, statecmd.OpenTimeout = time.Second, time.Second
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	ini := filepath.Join(t.TempDir(), "config.ini")
	if err := os.WriteFile(ini, []byte("[WEBHOOK]\nenabled = true\nurl = "+srv.URL+"\n[NOTIFY]\nattempts = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadConfig(ini)
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
	rep := report.New(report.Rule{Original: true}) // two addresses: an alert
	for _, ip := range []string{"192.0.2.1", "198.51.100.1"} {
		rep.Process(&record.Record{Type: record.TypeLogin, User: "bob@example.test", IP: ip, Time: time.Now()}, nil)
	}
	freeze()

	done := make(chan struct{})
	var code int
	var openErr error
	start := time.Now()
	go func() {
		defer close(done)
		run, failed := Remember(log, st, rep, true, nil, nil, n, false)
		code = (&ReportFlags{}).Finish(env, log, rep, n, failed, st, run)
		_, openErr = statecmd.Open(context.Background(), &statecmd.Flags{DB: dsn}, cfg, log, false, true)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("still waiting for the quiet state after 30 s (RunTimeout and OpenTimeout 1s)")
	}
	t.Logf("done after %v", time.Since(start).Round(time.Millisecond))
	out := stderr.String()
	for _, want := range []string{
		"loganom: error: the state did not answer within 1s", // the history, then the commit
		"without the state, this run notifies every account it found",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	if code != cli.ExitError || hits.Load() != 1 {
		t.Errorf("exit %d, %d posts to the webhook; want %d and 1 (notified all the same)", code, hits.Load(), cli.ExitError)
	}
	if openErr == nil || !strings.Contains(openErr.Error(), "the state did not answer within 1s") {
		t.Errorf("opening the quiet state: %v", openErr)
	}
}
