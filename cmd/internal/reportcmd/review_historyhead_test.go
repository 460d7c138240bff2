package reportcmd

import (
	"context"
	"errors"
	"io"
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
