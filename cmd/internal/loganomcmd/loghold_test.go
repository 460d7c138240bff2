package loganomcmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
	"github.com/loganom/loganom/pkg/state"
)

// A daemon that follows a log holds it: a postfix-sasl --resume run by
// hand on the same log and state refuses before reading (it used to read
// it all, then fail at its commit, and the daemon, overtaken, recorded
// none of its logins again until restarted), names the daemon and says
// what to do; once the daemon stops, it runs. A daemon that starts while
// a batch run holds the log waits for it, says so once, and follows once
// it is free.
func TestLogHeldByDaemon(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "mail.log")
	db := filepath.Join(dir, "state.db")
	cfg := filepath.Join(dir, "config.ini")
	liveConfig(t, cfg, "BR", "")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	if err := os.WriteFile(logf, []byte(liveLine(t0, "ana@example.test", saoPaulo)), 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"-c", cfg, "-l", logf, "--db", db, "--no-cache", "--no-rdns", "--year", "2026", "--tz", "UTC"}
	run := func(args ...string) (int, string, string) {
		var stdout, stderr strings.Builder
		code := Main(cli.Env{Args: append([]string{"postfix-sasl"}, append(args, common...)...), Stdin: strings.NewReader(""),
			Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
		return code, stdout.String(), stderr.String()
	}
	daemon := func() (*syncbuf.Buffer, <-chan int) {
		stderr := &syncbuf.Buffer{}
		code := make(chan int, 1)
		go func() {
			code <- Main(cli.Env{Args: append([]string{"postfix-sasl", "--follow", "--resume"}, common...), Stdin: strings.NewReader(""),
				Stdout: io.Discard, Stderr: stderr, Getenv: func(string) string { return "" }})
		}()
		return stderr, code
	}
	stop := func(stderr *syncbuf.Buffer, code <-chan int) {
		t.Helper()
		if c := stopDaemon(t, stderr, code); c != 0 {
			t.Fatalf("daemon exit %d\n%s", c, stderr)
		}
	}

	stderr, code := daemon()
	waitFor(t, "the daemon to follow", func() bool { return strings.Contains(stderr.String(), "following") })
	host, _ := os.Hostname()
	c, out, errs := run("--resume")
	if c != cli.ExitError || out != "" {
		t.Errorf("--resume beside the daemon: exit %d, stdout %q; want 1 and nothing", c, out)
	}
	want := regexp.MustCompile(`(?m)^loganom: error: ` + regexp.QuoteMeta(logf) + ` is being read by loganom postfix-sasl --follow, pid ` +
		fmt.Sprint(os.Getpid()) + ` on ` + regexp.QuoteMeta(host) + ` since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+\n` +
		`loganom: hint: that daemon reads this log and records what it finds \(loganom alerts lists it\); this run read nothing\n` +
		`loganom: hint: to look at the log without the state: loganom postfix-sasl --no-db -l ` + regexp.QuoteMeta(logf) + `; `)
	if !want.MatchString(errs) {
		t.Errorf("--resume beside the daemon said:\n%s\nwant to match %s", errs, want)
	}
	stop(stderr, code)
	if s := stderr.String(); strings.Contains(s, "meanwhile") || strings.Contains(s, "error") {
		t.Errorf("the daemon was disturbed:\n%s", s)
	}
	if c, _, errs := run("--resume"); c != cli.ExitOK {
		t.Errorf("--resume once the daemon stopped: exit %d\n%s", c, errs)
	}

	// a batch run holds the log (as one would): the daemon waits
	st, err := state.Open(context.Background(), db, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	unlock, err := st.LockLogs(context.Background(), host, []string{logf}, "loganom postfix-sasl --resume, pid 4242 on "+host)
	if err != nil {
		t.Fatal(err)
	}
	stderr, code = daemon()
	waitFor(t, "the daemon to wait", func() bool { return strings.Contains(stderr.String(), "waiting for it to stop") })
	time.Sleep(1500 * time.Millisecond) // LockPoll: it tried again, and waits on
	s := stderr.String()
	if strings.Contains(s, "following") || strings.Count(s, "waiting") != 1 ||
		!strings.Contains(s, "loganom: warning: "+logf+" is being read by loganom postfix-sasl --resume, pid 4242 on "+host+" since ") {
		t.Errorf("while a batch run holds the log, the daemon said:\n%s", s)
	}
	unlock()
	waitFor(t, "the daemon to follow", func() bool { return strings.Contains(stderr.String(), "following") })
	stop(stderr, code)
}
