package parsecmd

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
	"github.com/loganom/loganom/pkg/state"
)

// loganom-parse --resume on a log a daemon follows refuses, and its hint
// gives a command that reads the log without the state: loganom-parse
// takes the log as an argument (it has no -l; the hint said
// "loganom-parse -l /var/log/mail.log", which fails with "unknown flag -l").
func TestResumeHeldHint(t *testing.T) {
	logf, db := heldLog(t, "loganom postfix-sasl --follow, pid 812")
	var stdout, stderr strings.Builder
	code := Main(cli.Env{Args: []string{"--resume", "--db", db, logf}, Stdin: strings.NewReader(""),
		Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
	if code != cli.ExitError || !strings.Contains(stderr.String(), "is being read by loganom postfix-sasl --follow") {
		t.Fatalf("exit %d; want 1 and the holder named; stderr:\n%s", code, stderr.String())
	}
	if want := "without the state: loganom-parse " + logf + ";"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr:\n%s\nwant a hint with %q", stderr.String(), want)
	}
}

// heldLog makes an empty log and a state in a temporary directory, and
// holds the log's lock there as holder ("on HOST" added) until the test
// ends.
func heldLog(t *testing.T, holder string) (logf, db string) {
	t.Helper()
	dir := t.TempDir()
	logf, db = filepath.Join(dir, "mail.log"), filepath.Join(dir, "state.db")
	if err := os.WriteFile(logf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(context.Background(), db, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	host, _ := os.Hostname()
	unlock, err := st.LockLogs(context.Background(), host, []string{logf}, holder+" on "+host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
	return logf, db
}

// loganom-parse --follow --resume stopped (SIGTERM) while it waits for
// the log another process holds stops as it does when following: exit
// 0, no error. It exited 1 with "error:" and the holder again, which
// systemd records as a failure.
func TestFollowStoppedWhileWaiting(t *testing.T) {
	logf, db := heldLog(t, "loganom postfix-sasl --resume, pid 4242")
	stderr := &syncbuf.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- Main(cli.Env{Args: []string{"--follow", "--resume", "--db", db, logf}, Stdin: strings.NewReader(""),
			Stdout: io.Discard, Stderr: stderr, Getenv: func(string) string { return "" }})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "waiting for it to stop") {
		if time.Now().After(deadline) {
			t.Fatalf("it did not say it waits:\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != cli.ExitOK || strings.Contains(stderr.String(), "error") {
			t.Errorf("stopped while waiting: exit %d; want 0 and no error; stderr:\n%s", code, stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("SIGTERM did not stop it:\n%s", stderr)
	}
}
