package reportcmd

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
)

// A daemon restarted while an account's incident is open, its automatic
// block expired meanwhile ([BLOCK] for), meets the thief again: the
// alert is one the incident holds (not told again), and the account is
// not blocked again: a block is made once per incident, as a batch run
// does for an account already alerted (AutoBlock.Retry).
func TestReview2RestartExpiredBlockNotMadeAgain(t *testing.T) {
	st := openState(t)
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	recs := attack("bob@x.test", t0)
	clock := recs[len(recs)-1].Time.Add(time.Minute)
	now := func() time.Time { return clock }
	st.Now = now
	daemon := func() (*Live, *bytes.Buffer, *lockedBuf) {
		stdout, stderr := &bytes.Buffer{}, &lockedBuf{}
		rep := report.NewLive(report.Rule{})
		rep.History = func(user string) ([]detect.Known, error) { return st.Known(context.Background(), user) }
		lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: &cli.Logger{Prog: "loganom", W: stderr}, Rep: rep, St: st,
			Format: "json", Out: stdout, Now: now, RetryEvery: time.Hour,
			Block: &AutoBlock{For: time.Hour, MinSeverity: detect.High, Now: now}}
		lv.Start()
		return lv, stdout, stderr
	}
	lv, _, stderr := daemon()
	for _, r := range recs {
		if err := (&Stage{Live: lv}).Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	lv.Close()
	if lv.Alerts() != 1 {
		t.Fatalf("the first run: %d alerts\n%s", lv.Alerts(), stderr)
	}
	audit := func() int {
		changes, err := st.Store.BlockAudit(context.Background(), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range changes {
			if c.User == "bob@x.test" && c.Action == "block" {
				n++
			}
		}
		return n
	}
	if audit() != 1 {
		t.Fatalf("the first run made %d blocks, want 1\n%s", audit(), stderr)
	}

	// two hours on: the block has expired; the daemon restarted meets the
	// thief from a third country, the incident still open
	clock = clock.Add(2 * time.Hour)
	lv, stdout, stderr := daemon()
	if err := (&Stage{Live: lv}).Process(rlogin("bob@x.test", "41.203.64.7", "NG", 37148, 6.45, 3.4, clock.Add(-time.Minute)), nil); err != nil {
		t.Fatal(err)
	}
	lv.Close()
	alerts, err := st.Store.Alerts(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 {
		t.Fatalf("alerts %+v, want the one incident", alerts)
	}
	if n := audit(); n != 1 {
		blocks, _ := st.Store.Blocks(context.Background(), clock)
		t.Errorf("the incident still open (alert #%d) was blocked %d times, want once; blocks now %+v\nstdout:\n%s\nstderr:\n%s",
			alerts[0].ID, n, blocks, stdout, stderr)
	}
}

// The same without a restart: the daemon forgets the account after a
// quiet window (24 h), and the thief comes back from three more countries
// (high again), his block expired, the incident still open (7 days): not
// blocked again.
func TestReview2ForgottenExpiredBlockNotMadeAgain(t *testing.T) {
	st := openState(t)
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	recs := attack("bob@x.test", t0)
	clock := recs[len(recs)-1].Time.Add(time.Minute)
	now := func() time.Time { return clock }
	st.Now = now
	stderr := &lockedBuf{}
	rep := report.NewLive(report.Rule{})
	rep.History = func(user string) ([]detect.Known, error) { return st.Known(context.Background(), user) }
	rep.Now = now
	lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: &cli.Logger{Prog: "loganom", W: stderr}, Rep: rep, St: st,
		Format: "json", Out: io.Discard, Now: now, RetryEvery: time.Hour,
		Block: &AutoBlock{For: time.Hour, MinSeverity: detect.High, Now: now}}
	lv.Start()
	defer lv.Close()
	s := &Stage{Live: lv}
	for _, r := range recs {
		if err := s.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if lv.Alerts() != 1 {
		t.Fatalf("%d alerts\n%s", lv.Alerts(), stderr)
	}
	// a day and more on: someone else logs in, bob is forgotten
	clock = clock.Add(26 * time.Hour)
	if err := s.Process(rlogin("carol@x.test", "200.158.1.34", "BR", 27699, -23.55, -46.63, clock.Add(-2*time.Minute)), nil); err != nil {
		t.Fatal(err)
	}
	if err := lv.Idle(true); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*record.Record{
		rlogin("bob@x.test", "203.2.218.214", "AU", 1221, -33.87, 151.21, clock.Add(-50*time.Minute)),
		rlogin("bob@x.test", "133.11.0.1", "JP", 2907, 35.68, 139.69, clock.Add(-30*time.Minute)),
		rlogin("bob@x.test", "63.245.208.1", "US", 36856, 37.39, -122.08, clock.Add(-10*time.Minute)),
		rlogin("bob@x.test", "41.203.64.7", "NG", 37148, 6.45, 3.4, clock.Add(-time.Minute)),
	} {
		if err := s.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	changes, err := st.Store.BlockAudit(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range changes {
		if c.User == "bob@x.test" && c.Action == "block" {
			n++
		}
	}
	alerts, err := st.Store.Alerts(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 {
		t.Fatalf("alerts %+v, want the one incident\n%s", alerts, stderr)
	}
	if n != 1 {
		t.Errorf("the incident still open was blocked %d times, want once\n%s", n, stderr)
	}
}

// The same restart, the state down at the thief's login: the alert is
// told (the state cannot say its incident is open) and its block fails;
// once the state answers, the commit that records the login finds the
// incident open, and its block, expired, is not made again.
func TestReview2RestartStateDownExpiredBlockNotMadeAgain(t *testing.T) {
	st := openState(t)
	ds := &downStore{Store: st.Store}
	st.Store = ds
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	recs := attack("bob@x.test", t0)
	clock := recs[len(recs)-1].Time.Add(time.Minute)
	now := func() time.Time { return clock }
	st.Now = now
	daemon := func() (*Live, *lockedBuf) {
		stderr := &lockedBuf{}
		rep := report.NewLive(report.Rule{})
		rep.History = func(user string) ([]detect.Known, error) { return st.Known(context.Background(), user) }
		lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: &cli.Logger{Prog: "loganom", W: stderr}, Rep: rep, St: st,
			Format: "json", Out: io.Discard, Now: now, RetryEvery: time.Hour,
			Block: &AutoBlock{For: time.Hour, MinSeverity: detect.High, Now: now}}
		lv.Start()
		return lv, stderr
	}
	lv, stderr := daemon()
	for _, r := range recs {
		if err := (&Stage{Live: lv}).Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	lv.Close()
	if lv.Alerts() != 1 {
		t.Fatalf("the first run: %d alerts\n%s", lv.Alerts(), stderr)
	}
	clock = clock.Add(2 * time.Hour)
	lv, stderr = daemon()
	s := &Stage{Live: lv}
	// the state's writes gone (downStore reads the history still)
	ds.down.Store(true)
	if err := s.Process(rlogin("bob@x.test", "41.203.64.7", "NG", 37148, 6.45, 3.4, clock.Add(-time.Minute)), nil); err != nil {
		t.Fatal(err)
	}
	ds.down.Store(false)
	if lv.Alerts() != 1 || !strings.Contains(stderr.String(), "not blocked yet") {
		t.Fatalf("the premise: the alert told, its block failed; %d alerts\n%s", lv.Alerts(), stderr)
	}
	clock = clock.Add(3 * time.Second)
	if err := lv.Idle(true); err != nil {
		t.Fatal(err)
	}
	lv.Close()
	changes, err := st.Store.BlockAudit(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range changes {
		if c.User == "bob@x.test" && c.Action == "block" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the incident still open was blocked %d times, want once\n%s", n, stderr)
	}
}
