package reportcmd

import (
	"bytes"
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
	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// Two runs on one log that overlap: the one that records second finds
// the position moved (state.ErrConflict). It records nothing, sends
// nothing (the next run reads its lines again and alerts then), and ends
// in an error; the first run's alert went out once.
func TestConflictSendsNothing(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	dir := t.TempDir()
	ini := filepath.Join(dir, "config.ini")
	os.WriteFile(ini, []byte("[WEBHOOK]\nenabled = true\nurl = "+srv.URL+"\n[NOTIFY]\nattempts = 1\n"), 0o600)
	cfg, err := config.LoadConfig(ini)
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	log := &cli.Logger{Prog: "loganom", W: &stderr}
	env := cli.Env{Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: os.Getenv}
	n, err := (&NotifyFlags{}).Prepare(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := statecmd.Open(context.Background(), &statecmd.Flags{DB: filepath.Join(dir, "state.db")}, cfg, log, false, true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	newReport := func(user string) *report.Report {
		rep := report.New(report.Rule{Original: true}) // two addresses: an alert
		for _, ip := range []string{"192.0.2.1", "198.51.100.1"} {
			rep.Process(&record.Record{Type: record.TypeLogin, User: user, IP: ip, Time: time.Now()}, nil)
		}
		return rep
	}
	log1 := filepath.Join(dir, "mail.log")
	marks := map[string]input.Mark{log1: {Offset: 100, Size: 100}}
	none := map[string]state.Position{} // both runs started before either recorded

	flags := &ReportFlags{}
	rep := newReport("first@example.test")
	run, failed := Remember(log, st, rep, true, marks, none, n, false)
	if code := flags.Finish(env, log, rep, n, failed, st, run); code != cli.ExitOK || hits.Load() != 1 {
		t.Fatalf("first run: exit %d, %d requests, want 0 and 1\n%s", code, hits.Load(), &stderr)
	}
	stderr.Reset()
	rep = newReport("second@example.test")
	run, failed = Remember(log, st, rep, true, marks, none, n, false)
	code := flags.Finish(env, log, rep, n, failed, st, run)
	if code != cli.ExitError || hits.Load() != 1 {
		t.Errorf("second run: exit %d, %d requests, want 1 and still 1", code, hits.Load())
	}
	if !strings.Contains(stderr.String(), "another loganom run read the same log meanwhile") || !strings.Contains(stderr.String(), "nothing was sent") {
		t.Errorf("stderr:\n%s", &stderr)
	}
	s, err := st.Store.Stats(context.Background())
	if err != nil || s.Alerts != 1 || s.Accounts != 1 {
		t.Errorf("the second run recorded something: %+v, %v", s, err)
	}
}
