package blockcmd

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
)

// A SIGHUP (systemctl reload: the unit's ExecReload) that comes while
// loganom serve starts, here while it waits for a PostgreSQL that does not
// answer yet, is taken as a reload once it runs: it used to kill the
// process (SIGHUP's default action, before serve listened for it), and
// Postfix's policy requests were refused until systemd started it again.
// The child process is loganom serve (Serve, with its own signal handling).
func TestServeSIGHUPWhileStarting(t *testing.T) {
	if os.Getenv("LOGANOM_TEST_SERVE_CHILD") != "" {
		c := &ServeCmd{Config: os.Getenv("LOGANOM_TEST_CONF"), DB: os.Getenv("LOGANOM_TEST_DSN"), PolicyFlags: PolicyFlags{Listen: "127.0.0.1:0"}}
		os.Exit(Serve(cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}, &cli.Logger{Prog: "loganom", W: os.Stderr}, c))
	}
	dsn, accepted, _ := hungServer(t)
	conf := filepath.Join(t.TempDir(), "empty.ini")
	if err := os.WriteFile(conf, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeSIGHUPWhileStarting$")
	cmd.Env = append(os.Environ(), "LOGANOM_TEST_SERVE_CHILD=1", "LOGANOM_TEST_CONF="+conf, "LOGANOM_TEST_DSN="+dsn)
	var out syncBuf
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	select {
	case <-accepted: // serve is opening the state
	case err := <-exited:
		t.Fatalf("serve exited: %v\n%s", err, out.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve never connected to the state:\n%s", out.String())
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// the reload is done once serve runs (the open given up after its
	// 10 s, the service up, answering per on_error)
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(out.String(), "policy: SIGHUP: reading the blocks"); time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("serve ended on the SIGHUP: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never took the SIGHUP:\n%s", out.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		if err != nil {
			t.Fatalf("serve stopped by SIGTERM: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not stop on SIGTERM:\n%s", out.String())
	}
}
