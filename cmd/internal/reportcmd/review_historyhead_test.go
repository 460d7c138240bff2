package reportcmd

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// historyFails is a state whose history of one account cannot be read
// (a query that fails, or one too slow for OpTimeout: an account with a
// botnet's addresses), the others' can.
type historyFails struct {
	state.Store
	user string
}

func (s historyFails) History(ctx context.Context, user string) ([]state.Address, error) {
	if user == s.user {
		return nil, errors.New("the history of " + user + " cannot be read")
	}
	return s.Store.History(ctx, user)
}

// TestReviewLiveHistoryOneAccountFails: one account's history that always
// fails must not keep the others' from being read. The daemon asks the
// state again for the accounts met without theirs at the next login read,
// the first met first; when that one fails, LiveHistory asks for no
// history for HistoryPause, and so every account met was judged without
// its history, for as long as the daemon ran (before the accounts waiting
// were asked for again, the failing one failed once, when it was met).
func TestReviewLiveHistoryOneAccountFails(t *testing.T) {
	defer func(pause time.Duration) { statecmd.HistoryPause = pause }(statecmd.HistoryPause)
	statecmd.HistoryPause = 200 * time.Millisecond
	st := openState(t)
	stderr := &lockedBuf{}
	log := &cli.Logger{Prog: "loganom", W: stderr}
	daemon := func() *Live {
		rep := report.NewLive(report.Rule{})
		rep.History = st.LiveHistory()
		rep.OnError = func(err error) { log.Errorf("%v", err) }
		lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, St: st,
			Format: "json", Out: io.Discard, RetryEvery: time.Hour}
		lv.Start()
		return lv
	}
	process := func(lv *Live, r *record.Record) {
		t.Helper()
		if err := (&Stage{Live: lv}).Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	home := func(user string, at time.Time) *record.Record {
		return rlogin(user, "200.158.1.34", "BR", 27699, -23.55, -46.63, at)
	}
	t0 := time.Now().Add(-12 * 24 * time.Hour).Truncate(time.Hour)
	lv := daemon()
	for d := 0; d < 7; d++ {
		process(lv, home("carol@x.test", t0.Add(time.Duration(d)*24*time.Hour)))
	}
	lv.Close()

	st.Store = historyFails{Store: st.Store, user: "big@x.test"}
	lv = daemon()
	defer lv.Close()
	trip := t0.Add(9 * 24 * time.Hour)
	process(lv, home("big@x.test", trip))
	// carol's trip, well after the pause: her history is there
	for i := range 3 {
		time.Sleep(statecmd.HistoryPause + report.HistoryRetry)
		at := trip.Add(time.Duration(i) * time.Hour)
		process(lv, rlogin("carol@x.test", "118.69.201.136", "VN", 18403, 10.82, 106.63, at))
		process(lv, home("carol@x.test", at.Add(20*time.Minute)))
	}
	if lv.Alerts() == 0 {
		t.Errorf("carol's impossible trip not alerted: her history was not read\n%s", stderr)
	}
}

// quietStore is a state that fails, history and commits, while down.
type quietStore struct {
	state.Store
	down *atomic.Bool
}

func (s quietStore) History(ctx context.Context, user string) ([]state.Address, error) {
	if s.down.Load() {
		return nil, errors.New("the state is down")
	}
	return s.Store.History(ctx, user)
}

func (s quietStore) Commit(ctx context.Context, run *state.Run) (*state.Outcome, error) {
	if s.down.Load() {
		return nil, errors.New("the state is down")
	}
	return s.Store.Commit(ctx, run)
}

// TestReviewLiveHistoryLatePendingIncident: an account alerted high while
// the state is down (its incident not recorded: kept to be) is judged again
// once it answers, and found high again: one incident, one message.
func TestReviewLiveHistoryLatePendingIncident(t *testing.T) {
	st := openState(t)
	var down atomic.Bool
	st.Store = quietStore{Store: st.Store, down: &down}
	hook := newHookServer(t)
	stderr := &lockedBuf{}
	log := &cli.Logger{Prog: "loganom", W: stderr}
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	clock := t0
	daemon := func() *Live {
		rep := report.NewLive(report.Rule{})
		rep.Now = func() time.Time { return clock }
		rep.History = st.LiveHistory()
		lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, St: st,
			Format: "json", Out: io.Discard, RetryEvery: 50 * time.Millisecond, Now: func() time.Time { return clock }}
		lv.SetNotifier(webhookNotifier(t, hook.URL))
		lv.Start()
		return lv
	}
	process := func(lv *Live, r *record.Record) {
		t.Helper()
		if err := (&Stage{Live: lv}).Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	lv := daemon()
	for d := 0; d < 7; d++ {
		clock = t0.Add(time.Duration(d) * 24 * time.Hour)
		process(lv, rlogin("bob@x.test", "200.158.1.34", "BR", 27699, -23.55, -46.63, clock))
	}
	lv.Close()

	defer func(pause time.Duration) { statecmd.HistoryPause = pause }(statecmd.HistoryPause)
	statecmd.HistoryPause = 0
	lv = daemon()
	down.Store(true)
	at := t0.Add(9 * 24 * time.Hour)
	clock = at.Add(time.Hour)
	for i, r := range attack("bob@x.test", t0)[7:] {
		r.Time = at.Add(time.Duration(i) * 5 * time.Minute)
		process(lv, r)
	}
	for _, p := range [][2]any{{"105.112.9.241", "NG"}, {"36.110.1.1", "CN"}} {
		process(lv, rlogin("bob@x.test", p[0].(string), p[1].(string), 4134, 10, 10, at.Add(15*time.Minute)))
	}
	if lv.Alerts() == 0 {
		t.Fatalf("no alert without the history\n%s", stderr)
	}
	down.Store(false)
	clock = clock.Add(2 * report.HistoryRetry)
	process(lv, rlogin("carol@x.test", "187.32.0.10", "BR", 28573, -23.56, -46.65, at.Add(20*time.Minute)))
	clock = clock.Add(time.Minute)
	if err := lv.Idle(true); err != nil {
		t.Fatal(err)
	}
	lv.Close()
	alerts, err := st.Store.Alerts(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || len(hook.got()) != 1 || lv.Alerts() != 1 {
		t.Errorf("%d incidents, %d messages %v, %d alerts told; want 1 each\n%s", len(alerts), len(hook.got()), hook.got(), lv.Alerts(), stderr)
	}
}
