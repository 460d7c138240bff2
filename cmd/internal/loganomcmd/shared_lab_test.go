package loganomcmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// twoServers is two mail servers, mx1 and mx2, sharing one state (an
// SQLite file, or a PostgreSQL database): each with its config (the
// bundled geo databases, country_ignore = BR, [STATE] instance) and its
// log, dir/MX.log.
type twoServers struct {
	t   *testing.T
	dir string
	db  string
	cfg map[string]string
}

func newTwoServers(t *testing.T, backend string) *twoServers {
	s := &twoServers{t: t, dir: t.TempDir(), cfg: map[string]string{}}
	s.db = filepath.Join(s.dir, "state.db")
	if backend == "postgres" {
		s.db = pgtest.DSN(t)
	}
	for _, mx := range []string{"mx1", "mx2"} {
		s.cfg[mx] = filepath.Join(s.dir, mx+".ini")
		liveConfig(t, s.cfg[mx], "BR", "")
		s.append(s.cfg[mx], "\n[STATE]\ninstance = "+mx+"\n")
		s.append(s.log(mx), "")
	}
	return s
}

// store opens the shared state, for the test to read; closed when the
// test ends.
func (s *twoServers) store() state.Store {
	st, err := state.Open(context.Background(), s.db, state.Options{})
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { st.Close() })
	return st
}

// log is mx's log file.
func (s *twoServers) log(mx string) string { return filepath.Join(s.dir, mx+".log") }

// append appends text to the file path (made if need be).
func (s *twoServers) append(path, text string) {
	s.t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		s.t.Fatal(err)
	}
}

// args are the flags of mx's runs, before extra.
func (s *twoServers) args(mx string, extra ...string) []string {
	return append([]string{"postfix-sasl", "--resume", "-c", s.cfg[mx], "-l", s.log(mx), "--db", s.db, "--no-cache", "--no-rdns",
		"--year", "2026", "--tz", "UTC", "--format", "json"}, extra...)
}

// batch runs mx's batch run (--resume) on its log, and returns its stdout.
func (s *twoServers) batch(mx string) string {
	s.t.Helper()
	var out, errs strings.Builder
	if c := Main(cli.Env{Args: s.args(mx), Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errs, Getenv: func(string) string { return "" }}); c != 0 {
		s.t.Fatalf("%s's run: exit %d\n%s", mx, c, errs.String())
	}
	return out.String()
}

// daemon starts mx's daemon (--follow --resume, and extra) on its log; it
// returns the lines of its stdout and its stderr. It is stopped (SIGTERM)
// at the end of the test, and must exit 0.
func (s *twoServers) daemon(mx string, extra ...string) (<-chan string, *syncbuf.Buffer) {
	s.t.Helper()
	outR, outW, err := os.Pipe()
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { outR.Close() })
	lines := outputLines(outR)
	stderr := &syncbuf.Buffer{}
	code := make(chan int, 1)
	go func() {
		code <- Main(cli.Env{Args: s.args(mx, append([]string{"--follow"}, extra...)...), Stdin: strings.NewReader(""), Stdout: outW, Stderr: stderr, Getenv: func(string) string { return "" }})
		outW.Close()
	}()
	waitFor(s.t, "the daemon to start", func() bool { return strings.Contains(stderr.String(), "following") })
	s.t.Cleanup(func() {
		if c := stopDaemon(s.t, stderr, code); c != 0 {
			s.t.Errorf("%s's daemon: exit %d\n%s", mx, c, stderr)
		}
	})
	return lines, stderr
}

// sharedAlert is an alert record of the daemon's JSON output.
type sharedAlert struct {
	User     string
	Severity string
	Reasons  []struct{ Detector, Text string }
}

// nextSharedAlert returns the next alert the daemon prints, or fails after
// 20 seconds.
func nextSharedAlert(t *testing.T, lines <-chan string, stderr *syncbuf.Buffer) sharedAlert {
	t.Helper()
	var a sharedAlert
	select {
	case l := <-lines:
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no alert from the daemon\n%s", stderr)
	}
	return a
}

// homeDays is user's logins from home (São Paulo) at day's hour on n days
// in a row.
func homeDays(user string, day time.Time, n int) string {
	var b strings.Builder
	for d := 0; d < n; d++ {
		b.WriteString(liveLine(day.Add(time.Duration(d)*24*time.Hour), user, saoPaulo))
	}
	return b.String()
}

// pollFast has the daemons ask the state for the rows written since every
// 50 ms (report.RecentEvery), until the test ends.
func pollFast(t *testing.T) {
	e := report.RecentEvery
	report.RecentEvery = 50 * time.Millisecond
	t.Cleanup(func() { report.RecentEvery = e })
}
