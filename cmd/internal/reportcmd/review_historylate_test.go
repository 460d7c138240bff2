package reportcmd

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
)

// TestReviewLiveHistoryLateSpansWindow: the state gives no history for more
// than a day; bob's logins meanwhile (a thief's in Vietnam, the owner at
// home 20 minutes later, then home again the next day) are judged again
// once it answers. The impossible trip is alerted on an old login of the
// replay, and the alert's commit calls Tick, which must not forget bob (he
// logged in minutes ago): forgotten, bob is met again as a new account,
// and the thief's next trip (Nigeria, then home) is alerted a second time,
// where with the history from the start it adds to the incident alerted.
func TestReviewLiveHistoryLateSpansWindow(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	trip := t0.Add(9 * 24 * time.Hour)
	home := func(at time.Time) *record.Record {
		return rlogin("bob@x.test", "200.158.1.34", "BR", 27699, -23.55, -46.63, at)
	}
	run := func(downDuring bool) int {
		down := false
		st := openState(t)
		stderr := &lockedBuf{}
		log := &cli.Logger{Prog: "loganom", W: stderr}
		clock := t0
		daemon := func() *Live {
			rep := report.NewLive(report.Rule{})
			rep.Now = func() time.Time { return clock }
			rep.History = func(user string) ([]detect.Known, error) {
				if down {
					return nil, errors.New("the state did not answer")
				}
				return st.Known(context.Background(), user)
			}
			lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, St: st,
				Format: "json", Out: io.Discard, RetryEvery: time.Hour, Now: func() time.Time { return clock }}
			lv.Start()
			return lv
		}
		process := func(lv *Live, r *record.Record) {
			t.Helper()
			if err := (&Stage{Live: lv}).Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
		// a week at home, recorded
		lv := daemon()
		for d := 0; d < 7; d++ {
			clock = t0.Add(time.Duration(d) * 24 * time.Hour)
			process(lv, home(clock))
		}
		lv.Close()

		down = downDuring
		lv = daemon()
		defer lv.Close()
		clock = trip.Add(27 * time.Hour) // the log read as it is written
		process(lv, rlogin("bob@x.test", "118.69.201.136", "VN", 18403, 10.82, 106.63, trip))
		process(lv, home(trip.Add(20*time.Minute)))
		process(lv, home(trip.Add(12*time.Hour)))
		process(lv, home(trip.Add(25*time.Hour)))
		down = false // the state answers again
		clock = clock.Add(2 * report.HistoryRetry)
		process(lv, rlogin("carol@x.test", "187.32.0.10", "BR", 28573, -23.56, -46.65, trip.Add(25*time.Hour+40*time.Minute)))
		// the thief again, from Nigeria, then the owner at home
		process(lv, rlogin("bob@x.test", "105.112.9.241", "NG", 36873, 6.45, 3.39, trip.Add(26*time.Hour)))
		process(lv, home(trip.Add(26*time.Hour+20*time.Minute)))
		t.Logf("state down %v: %d alerts\n%s", downDuring, lv.Alerts(), stderr)
		return lv.Alerts()
	}
	want := run(false)
	if want != 1 {
		t.Fatalf("with the history from the start: %d alerts, want 1", want)
	}
	if got := run(true); got != want {
		t.Errorf("judged again once the state answers: %d alerts; with the history from the start %d", got, want)
	}
}
