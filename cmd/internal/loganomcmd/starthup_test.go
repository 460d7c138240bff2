package loganomcmd

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// A SIGHUP (systemctl reload) that comes while the daemon starts, here
// while it opens a state that does not answer, does not kill it (SIGHUP's
// default): the daemon goes on, and gives up on the state after
// statecmd.OpenTimeout, with its error and exit status 1. It used to die of
// the signal, saying nothing.
func TestDaemonSIGHUPWhileStarting(t *testing.T) {
	if os.Getenv("LOGANOM_TEST_DAEMON_CHILD") != "" {
		statecmd.OpenTimeout = 3 * time.Second
		args := []string{"postfix-sasl", "--follow", "--db", os.Getenv("LOGANOM_TEST_DSN"), "--no-cache", "--no-rdns",
			"-c", os.Getenv("LOGANOM_TEST_CONF"), "-l", os.Getenv("LOGANOM_TEST_LOG")}
		os.Exit(Main(cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: os.Stdout, Stderr: os.Stderr, Getenv: func(string) string { return "" }}))
	}
	dsn, accepted, _ := pgtest.Hung(t)
	dir := t.TempDir()
	conf, logf := filepath.Join(dir, "config.ini"), filepath.Join(dir, "mail.log")
	if err := os.WriteFile(conf, []byte("[GENERAL]\ncountry_ignore = BR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDaemonSIGHUPWhileStarting$")
	cmd.Env = append(os.Environ(), "LOGANOM_TEST_DAEMON_CHILD=1", "LOGANOM_TEST_DSN="+dsn, "LOGANOM_TEST_CONF="+conf, "LOGANOM_TEST_LOG="+logf)
	var mu sync.Mutex
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = lockedWriter{&mu, &out}, lockedWriter{&mu, &out}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-accepted: // the daemon is opening the state
	case err := <-exited:
		t.Fatalf("the daemon exited: %v\n%s", err, out.String())
	case <-time.After(30 * time.Second):
		t.Fatal("the daemon never connected to the state")
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		mu.Lock()
		defer mu.Unlock()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || !ee.Exited() || ee.ExitCode() != cli.ExitError || !strings.Contains(out.String(), "loganom: error: the state did not answer within 3s") {
			t.Errorf("the daemon ended with %v, want exit status 1 after the state's timeout:\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the daemon did not end after the state's timeout")
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
