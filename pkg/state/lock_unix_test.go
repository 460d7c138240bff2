//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package state

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lockChildEnv, set, makes TestLockDeliveriesKilled the child process:
// it takes the lock of the SQLite database it names, says so, and waits
// to be killed.
const lockChildEnv = "LOGANOM_TEST_LOCK_CHILD"

// A process killed with SIGKILL while holding the lock releases it.
func TestLockDeliveriesKilled(t *testing.T) {
	if db := os.Getenv(lockChildEnv); db != "" {
		s, err := Open(context.Background(), db, Options{})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		if _, err := s.LockDeliveries(context.Background(), "mx1", "smtp"); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		io.Copy(io.Discard, os.Stdin) // until killed
		os.Exit(0)
	}
	db := filepath.Join(t.TempDir(), "state.db")
	s := open(t, db)
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockDeliveriesKilled$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+db)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("the child said %q, %v", line, err)
	}
	for _, f := range []string{db + ".deliver.lock", deliverLockFile(db, "mx1", "smtp")} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("the lock file %s: %v, %v", f, fi, err)
		}
	}
	mustNotLock(t, s, "mx1")
	waiting := lockAsync(context.Background(), s, "mx1")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	cmd.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	select {
	case r := <-waiting:
		if r.err != nil {
			t.Fatalf("after the kill: %v", r.err)
		}
		r.unlock()
	case <-ctx.Done():
		t.Fatal("the lock of the killed process was not released")
	}
}

// The lock files a run by root makes belong to the database's owner, as
// SQLite's -wal and -shm files do: a daemon that runs as that user (the
// units' loganom) could not open them, and failed to start.
func TestLockFilesOwnedAsDB(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	const uid, gid = 65534, 65534 // nobody, nogroup
	db := filepath.Join(t.TempDir(), "state.db")
	s := open(t, db)
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		if err := os.Chown(f, uid, gid); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	unlock, err := s.LockLogs(ctx, "mx1", []string{"/var/log/mail.log"}, "loganom postfix-sasl --resume, pid 1 on mx1")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if unlock, err = s.LockRun(ctx); err != nil {
		t.Fatal(err)
	}
	unlock()
	if unlock, err = s.LockDeliveries(ctx, "mx1", "smtp"); err != nil {
		t.Fatal(err)
	}
	unlock()
	locks, _ := filepath.Glob(db + ".*lock")
	if len(locks) != 4 {
		t.Fatalf("lock files %q; want the log's, the run's and the deliveries' two", locks)
	}
	for _, f := range locks {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != uid || st.Gid != gid {
			t.Errorf("%s is owned by %d:%d; want the database's owner, %d:%d", filepath.Base(f), st.Uid, st.Gid, uid, gid)
		}
	}
}
