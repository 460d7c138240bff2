package reportcmd

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// A daemon whose state goes away (PostgreSQL stopped: each commit fails
// at once) tries again at each commit, every MinGap while logins come and
// every second or so while idle: it said the error, and "kept in
// memory", at each of them, two lines every 200 ms for as long as the
// state was down (thousands an hour in the journal, for one problem), and
// nothing when the state came back. Now the first failure is said, the
// next ones only once a minute (how many, since when), and the commit that
// succeeds again says that what was kept is recorded.
func TestLiveStateDownSaidOnce(t *testing.T) {
	dsn, down := pgtest.Downable(t, pgtest.DSN(t))
	st, stderr, log := openPG(t, dsn, "[GENERAL]\n")
	clock := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC)
	rep := report.NewLive(report.Rule{})
	lv, _ := startLiveDown(t, st, stderr, log, rep, func() time.Time { return clock })
	defer lv.Close()
	stage := &Stage{Live: lv}
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	login := func(i int) {
		t.Helper()
		if err := stage.Process(rlogin("bob@x.test", "200.158.1.34", "BR", 27699, -23.55, -46.63, t0.Add(time.Duration(i)*time.Second)), nil); err != nil {
			t.Fatal(err)
		}
	}
	login(0)
	clock = clock.Add(time.Second)
	lv.Idle(true)
	if s := stderr.String(); strings.Contains(s, "loganom: error: ") {
		t.Fatalf("the state up:\n%s", s)
	}

	down(true)
	for i := 1; i <= 20; i++ { // 20 commits over 10 s, each failing
		login(i)
		clock = clock.Add(500 * time.Millisecond)
		lv.Idle(true)
	}
	downLog := stderr.String()
	if n := strings.Count(downLog, "loganom: error: "); n != 1 {
		t.Errorf("20 failed commits in 10 s said %d errors, want 1:\n%s", n, downLog)
	}
	if n := strings.Count(downLog, "kept in memory"); n != 1 {
		t.Errorf("20 failed commits in 10 s said %d times what is kept, want 1:\n%s", n, downLog)
	}
	// a minute on: said again, once, with how many failed
	clock = clock.Add(time.Minute)
	login(21)
	lv.Idle(true)
	clock = clock.Add(500 * time.Millisecond)
	login(22)
	lv.Idle(true)
	if again := strings.TrimPrefix(stderr.String(), downLog); strings.Count(again, "still") != 1 || !strings.Contains(again, "21 commits failed") {
		t.Errorf("a minute on, want the failure said again once, with its count (21):\n%s", again)
	}

	down(false)
	clock = clock.Add(500 * time.Millisecond)
	login(23)
	lv.Idle(true)
	if s := stderr.String(); !strings.Contains(s, "the state answers again") {
		t.Errorf("the state back, nothing said:\n%s", s)
	}
	if n := historyLogins(t, st, "bob@x.test"); n != 24 {
		t.Errorf("the history holds %d logins of bob, want 24", n)
	}
}

func historyLogins(t *testing.T, st *statecmd.State, user string) int64 {
	t.Helper()
	h, err := st.Store.History(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, a := range h {
		n += a.Count
	}
	return n
}

// A daemon stopped while its state does not answer (SIGTERM, the state
// down): the last commit fails, and there is no next one. It said "kept
// in memory; recorded with the next commit", which the process exiting
// made untrue; then, the failure said once a minute, nothing at all when
// it came within the minute. Now the stop says what is not recorded.
func TestLiveStateDownAtStop(t *testing.T) {
	dsn, down := pgtest.Downable(t, pgtest.DSN(t))
	st, stderr, log := openPG(t, dsn, "[GENERAL]\n")
	rep := report.NewLive(report.Rule{})
	lv, _ := startLiveDown(t, st, stderr, log, rep, nil)
	stage := &Stage{Live: lv}
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	down(true)
	for i := 0; i < 2; i++ {
		if err := stage.Process(rlogin("bob@x.test", "200.158.1.34", "BR", 27699, -23.55, -46.63, t0.Add(time.Duration(i)*time.Second)), nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(MinGap)
		lv.Idle(true)
	}
	before := stderr.String()
	lv.Close()
	at := strings.TrimPrefix(stderr.String(), before)
	if strings.Contains(at, "recorded with the next commit") || !strings.Contains(at, "is not recorded") {
		t.Errorf("the stop, the state down, said:\n%s\n(before:\n%s)", at, before)
	}
	if !lv.Failed() {
		t.Errorf("the run did not fail")
	}
}

// A daemon stopped while its state does not answer at all (a frozen
// host: each operation waits statecmd.OpTimeout, 30 s). The stop used to
// spend that wait three times over, past systemd's TimeoutStopSec (60 s),
// which then killed it before it said what was not recorded: reading the
// history of the accounts met meanwhile (the pause after a failed history
// read had run out, though every commit since had failed), the last
// commit, and a last round of deliveries that read what is pending. Now a
// failed commit pauses the history reads as a failed read does, and no
// last round follows a last commit that failed: the next start sends what
// is pending. The stop waits for the last commit alone.
func TestLiveStateFrozenAtStop(t *testing.T) {
	dsn, freeze := pgtest.Freezable(t, pgtest.DSN(t))
	defer func(o, p time.Duration) { statecmd.OpTimeout, statecmd.HistoryPause = o, p }(statecmd.OpTimeout, statecmd.HistoryPause)
	statecmd.OpTimeout, statecmd.HistoryPause = time.Second, 1500*time.Millisecond
	st, stderr, log := openPG(t, dsn, "[GENERAL]\n")
	rep := report.NewLive(report.Rule{})
	var histories, slow atomic.Int32
	live := st.LiveHistory()
	rep.History = func(user string) ([]detect.Known, error) {
		at := time.Now()
		k, err := live(user)
		histories.Add(1)
		if time.Since(at) >= statecmd.OpTimeout/2 {
			slow.Add(1) // it asked the state, and waited
		}
		return k, err
	}
	lv, rounds := startLiveDown(t, st, stderr, log, rep, nil)
	stage := &Stage{Live: lv}
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	login := func(user string, i int) {
		t.Helper()
		if err := stage.Process(rlogin(user, "200.158.1.34", "BR", 27699, -23.55, -46.63, t0.Add(time.Duration(i)*time.Second)), nil); err != nil {
			t.Fatal(err)
		}
	}
	login("bob@x.test", 0)
	lv.Idle(true)
	freeze()
	login("carol@x.test", 1) // her history: waits, fails; carol is judged again once it comes
	if slow.Load() != 1 {
		t.Fatalf("carol's history: %d slow reads, want 1", slow.Load())
	}
	// the pause after that failure runs out while the commits fail
	for i := 2; i < 5; i++ {
		time.Sleep(statecmd.HistoryPause / 2)
		login("bob@x.test", i)
		lv.Idle(true)
	}
	before, slowBefore, roundsBefore := stderr.String(), slow.Load(), rounds.Load()
	start := time.Now()
	if err := stage.Flush(nil); err != nil {
		t.Fatal(err)
	}
	lv.Close()
	took := time.Since(start)
	at := strings.TrimPrefix(stderr.String(), before)
	if s := slow.Load() - slowBefore; s != 0 {
		t.Errorf("the stop read a history from the frozen state (%d reads waited %s)", s, statecmd.OpTimeout)
	}
	if r := rounds.Load() - roundsBefore; r != 0 {
		t.Errorf("the stop made %d last rounds of deliveries on the frozen state", r)
	}
	if !strings.Contains(at, "is not recorded") || !strings.Contains(at, "the alerts pending delivery are sent by the next start") {
		t.Errorf("the stop said:\n%s", at)
	}
	if !lv.Failed() {
		t.Errorf("the run did not fail")
	}
	t.Logf("stopped in %v (OpTimeout %v; %d history calls)", took.Round(time.Millisecond), statecmd.OpTimeout, histories.Load())
}

// startLiveDown starts a live report on st whose webhook never answers,
// with an hour between rounds of deliveries (now: its clock; nil, the
// real one), once the first rounds (nothing pending) have read the
// state: their errors are theirs, not the commits'. rounds counts the
// rounds made.
func startLiveDown(t *testing.T, st *statecmd.State, stderr *lockedBuf, log *cli.Logger, rep *report.Live, now func() time.Time) (lv *Live, rounds *atomic.Int32) {
	t.Helper()
	lv = &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, St: st,
		Format: "json", Out: io.Discard, RetryEvery: time.Hour, Now: now}
	n := webhookNotifier(t, "http://127.0.0.1:9/never")
	rounds = new(atomic.Int32)
	lv.OnDelivered = func(string, bool) { rounds.Add(1) }
	lv.SetNotifier(n)
	lv.Start()
	waitUntil(t, "the first deliveries", func() bool { return int(rounds.Load()) >= len(n.DeliveryRounds()) })
	return lv, rounds
}
