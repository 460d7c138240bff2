package reportcmd

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// A daemon whose PostgreSQL state holds the history table locked (a state
// gone quiet for it) meets an account it had forgotten: a thief's login in
// Vietnam, then the owner at home 20 minutes later. Without its week at
// home, that is an account's first day, and nothing is alerted; once the
// table is free again, the next login read (another account's) has the
// account's logins judged again with its history, and the impossible trip
// goes to the webhook. Before, the account stayed judged as new.
func TestLiveHistoryAfterStateQuiet(t *testing.T) {
	dsn := pgtest.DSN(t)
	defer func(op, pause time.Duration) { statecmd.OpTimeout, statecmd.HistoryPause = op, pause }(statecmd.OpTimeout, statecmd.HistoryPause)
	statecmd.OpTimeout, statecmd.HistoryPause = time.Second, 100*time.Millisecond
	st, stderr, log := openPG(t, dsn, "[GENERAL]\n")
	hook := newHookServer(t)
	daemon := func() *Live {
		rep := report.NewLive(report.Rule{})
		rep.History = st.LiveHistory()
		lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, St: st,
			Format: "json", Out: io.Discard, RetryEvery: time.Hour}
		rep.OnError = func(err error) { log.Errorf("%v", err) }
		lv.SetNotifier(webhookNotifier(t, hook.URL))
		lv.Start()
		return lv
	}
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

	// a week at home, recorded
	lv := daemon()
	for d := 0; d < 7; d++ {
		if err := (&Stage{Live: lv}).Process(rlogin("bob@x.test", "200.158.1.34", "BR", 27699, -23.55, -46.63, t0.Add(time.Duration(d)*24*time.Hour)), nil); err != nil {
			t.Fatal(err)
		}
	}
	lv.Close()
	if lv.Failed() || len(hook.got()) != 0 {
		t.Fatalf("the week at home: failed %v, posts %v\n%s", lv.Failed(), hook.got(), stderr)
	}

	// the next run meets bob while the history does not answer
	lv = daemon()
	defer lv.Close()
	release := pgtest.LockTable(t, dsn, "history")
	trip := t0.Add(9 * 24 * time.Hour)
	stage := &Stage{Live: lv}
	if err := stage.Process(rlogin("bob@x.test", "118.69.201.136", "VN", 18403, 10.82, 106.63, trip), nil); err != nil {
		t.Fatal(err)
	}
	if err := stage.Process(rlogin("bob@x.test", "200.158.1.34", "BR", 27699, -23.55, -46.63, trip.Add(20*time.Minute)), nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "the state did not answer within 1s") {
		t.Fatalf("no error for the history:\n%s", stderr)
	}
	time.Sleep(500 * time.Millisecond)
	if p := hook.got(); len(p) != 0 {
		t.Fatalf("alerted without the history: %v; the test wants a case that an account's first day hides", p)
	}
	release()
	time.Sleep(report.HistoryRetry + 2*statecmd.HistoryPause) // asked again
	if err := stage.Process(rlogin("carol@x.test", "187.32.0.10", "BR", 28573, -23.56, -46.65, trip.Add(30*time.Minute)), nil); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("stderr:\n%s\nposts %v", stderr, hook.got())
		}
	}()
	waitUntil(t, "bob's alert on the webhook", func() bool {
		p := hook.got()
		return len(p) == 1 && p[0].severity == "high"
	})
	if n := strings.Count(stderr.String(), "did not answer"); n != 1 {
		t.Errorf("the failed history told %d times:\n%s", n, stderr)
	}
}
