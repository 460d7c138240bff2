package reportcmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// gateStore is a real state whose first Commit runs before() first.
type gateStore struct {
	state.Store
	once   sync.Once
	before func()
}

func (g *gateStore) Commit(ctx context.Context, run *state.Run) (*state.Outcome, error) {
	g.once.Do(g.before)
	return g.Store.Commit(ctx, run)
}

// Two mail servers share one PostgreSQL state, and their hourly runs
// start at the same moment (cron's "15 * * * *" on both). The account
// logs in on mx1 from one address and on mx2 from another: two addresses
// (rule original), an alert that only the two servers' logins together
// show. The run of mx2 went through, its history read and its record
// made, while the run of mx1 was between reading the history and
// recording: each judged its own login alone, and the account was never
// alerted, by either (seen driving two servers' hourly runs started
// together: a home login on one, a far login on the other 20 minutes
// later, alerted when the runs took turns and never when they started
// together). The runs of the servers sharing a state now take turns from
// the reading of the history to the record: the second reads the first's
// logins.
func TestSharedRunsOverlapJudgedTogether(t *testing.T) {
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	open := func(instance string) *statecmd.State {
		ini := filepath.Join(dir, instance+".ini")
		os.WriteFile(ini, []byte("[STATE]\ninstance = "+instance+"\n"), 0o600)
		cfg, err := config.LoadConfig(ini)
		if err != nil {
			t.Fatal(err)
		}
		st, err := statecmd.Open(context.Background(), &statecmd.Flags{DB: dsn}, cfg, &cli.Logger{Prog: "loganom", W: &bytes.Buffer{}}, false, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	mx1, mx2 := open("mx1"), open("mx2")
	at := time.Now().Add(-time.Hour).Truncate(time.Second)
	user := "bob@example.test"
	run := func(st *statecmd.State, ip string, t0 time.Time) {
		var stderr bytes.Buffer
		log := &cli.Logger{Prog: "loganom", W: &stderr}
		rep := report.New(report.Rule{Original: true}) // two addresses: an alert
		rep.Process(&record.Record{Type: record.TypeLogin, User: user, IP: ip, Time: t0}, nil)
		marks := map[string]input.Mark{filepath.Join(dir, st.Instance, "mail.log"): {Offset: 100, Size: 100}}
		if _, failed := Remember(log, st, rep, true, marks, map[string]state.Position{}, nil, false); failed {
			t.Errorf("%s: the run failed:\n%s", st.Instance, &stderr)
		}
	}
	atCommit, mx2Done := make(chan struct{}), make(chan struct{})
	mx1.Store = &gateStore{Store: mx1.Store, before: func() {
		close(atCommit)
		select { // mx2's run, if it can run meanwhile
		case <-mx2Done:
		case <-time.After(2 * time.Second):
		}
	}}
	go func() {
		<-atCommit
		run(mx2, "198.51.100.7", at.Add(20*time.Minute))
		close(mx2Done)
	}()
	run(mx1, "192.0.2.1", at)
	<-mx2Done

	alerts, err := mx1.Store.Alerts(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].User != user {
		t.Fatalf("alerts %+v, want one, of %s: the two servers' logins together are two addresses", alerts, user)
	}
	h, err := mx1.Store.History(context.Background(), user)
	if err != nil || len(h) != 2 {
		t.Errorf("history %+v, %v: want both logins", h, err)
	}
}
