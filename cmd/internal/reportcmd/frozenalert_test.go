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

// Once a commit ran out of time (a frozen PostgreSQL), an alert does not
// wait OpTimeout again for the commit it makes first (to learn whether the
// account's incident is open): it is told at once, as after that commit
// failed, and recorded with the next commit that goes through. Each alert
// held the reader 30 s, and the one read after SIGTERM held the stop as
// long before its last commit: 81 s with systemd's TimeoutStopSec=60s.
func TestLiveAlertStateFrozen(t *testing.T) {
	f := startFrozen(t)
	if err := f.stage.Process(rlogin("bob@x.test", "200.158.1.34", "BR", 27699, -23.55, -46.63, f.t0.Add(time.Minute)), nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	f.lv.commit(false, true) // times out: the state does not answer
	if d := time.Since(start); d < statecmd.OpTimeout {
		t.Fatalf("the commit on the frozen state took %v", d)
	}
	// carol (history not asked: paused) is robbed
	if took := f.rob(t); took >= statecmd.OpTimeout {
		t.Errorf("carol's alert waited %v for the frozen state (OpTimeout %v)", took, statecmd.OpTimeout)
	}
	// stopped now (SIGTERM came while the reader waited for the commit
	// that failed): no other commit waits as long again, past
	// TimeoutStopSec with the one before
	f.stopAtOnce(t, "is not recorded")
}

// When the first call to run out of time after the state froze is a new
// account's history read (no commit failed yet: the log was quiet), the
// alert that follows makes no commit of its own either: it waited
// OpTimeout for the history, then as long again for that commit (60 s
// before the postmaster heard of a theft). Nor does the stop right after:
// the read and a last commit were 60 s, TimeoutStopSec.
func TestLiveAlertHistoryFrozen(t *testing.T) {
	f := startFrozen(t)
	// carol, robbed: her history is asked for (the first call to the
	// frozen state), and runs out of time
	took := f.rob(t)
	if took < statecmd.OpTimeout {
		t.Fatalf("carol's history was not asked for: %v", took)
	}
	if took >= statecmd.OpTimeout*3/2 {
		t.Errorf("carol's alert waited %v for the frozen state: her history, then a commit (OpTimeout %v)", took, statecmd.OpTimeout)
	}
	f.stopAtOnce(t, "did not answer a read")
}

// frozen is a live reader on a PostgreSQL state (OpTimeout 2 s) that
// recorded bob's login, then froze (accepts, never answers).
type frozen struct {
	lv             *Live
	stage          *Stage
	stderr, stdout *lockedBuf
	t0             time.Time
}

func startFrozen(t *testing.T) *frozen {
	t.Helper()
	dsn, freeze := pgtest.Freezable(t, pgtest.DSN(t))
	o, p := statecmd.OpTimeout, statecmd.HistoryPause
	t.Cleanup(func() { statecmd.OpTimeout, statecmd.HistoryPause = o, p })
	statecmd.OpTimeout, statecmd.HistoryPause = 2*time.Second, time.Minute
	st, stderr, log := openPG(t, dsn, "[GENERAL]\n")
	rep := report.NewLive(report.Rule{})
	rep.History = st.LiveHistory()
	stdout := &lockedBuf{}
	lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, St: st,
		Format: "json", Out: stdout, RetryEvery: 300 * time.Millisecond}
	lv.SetNotifier(webhookNotifier(t, "http://127.0.0.1:9/never"))
	lv.Start()
	stage := &Stage{Live: lv}
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	if err := stage.Process(rlogin("bob@x.test", "200.158.1.34", "BR", 27699, -23.55, -46.63, t0), nil); err != nil {
		t.Fatal(err)
	}
	lv.Idle(true)
	freeze()
	return &frozen{lv, stage, stderr, stdout, t0}
}

// rob reads carol's theft until it is alerted, and says how long that took.
func (f *frozen) rob(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	for i, r := range attack("carol@x.test", f.t0.Add(time.Hour)) {
		if err := f.stage.Process(r, nil); err != nil {
			t.Fatal(err)
		}
		if f.lv.Alerts() > 0 {
			t.Logf("alerted at the %d-th login", i+1)
			break
		}
	}
	took := time.Since(start)
	if f.lv.Alerts() != 1 || !strings.Contains(f.stdout.String(), "carol@x.test") {
		t.Fatalf("%d alerts; stdout:\n%s", f.lv.Alerts(), f.stdout)
	}
	return took
}

// stopAtOnce stops the reader, which must try no commit (OpTimeout more),
// say why, and fail; said is what the stop's error says.
func (f *frozen) stopAtOnce(t *testing.T, said string) {
	t.Helper()
	before := f.stderr.String()
	start := time.Now()
	f.lv.Close()
	if d := time.Since(start); d >= statecmd.OpTimeout/2 {
		t.Errorf("the stop took %v (OpTimeout %v)", d, statecmd.OpTimeout)
	}
	if at := strings.TrimPrefix(f.stderr.String(), before); !strings.Contains(at, said) || !strings.Contains(at, "the alerts pending delivery are sent by the next start") {
		t.Errorf("the stop said:\n%s", at)
	}
	if !f.lv.Failed() {
		t.Errorf("the run did not fail")
	}
}
