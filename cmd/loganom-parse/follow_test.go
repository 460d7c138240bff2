package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/syncbuf"
)

// loganomParseExe is this test binary under the name loganom-parse:
// testscript.Main (TestMain) runs loganom-parse for it.
func loganomParseExe(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "loganom-parse")
	if err := os.Symlink(self, exe); err != nil {
		t.Fatal(err)
	}
	return exe
}

// loganom-parse --follow --resume, stopped with SIGTERM while lines are
// written, three times, with rotations (rename+create, copytruncate)
// while stopped and while following: every login is out exactly once.
func TestFollowSIGTERMResume(t *testing.T) {
	exe := loganomParseExe(t)
	dir := t.TempDir()
	log, db := filepath.Join(dir, "mail.log"), filepath.Join(dir, "state.db")
	if err := os.WriteFile(log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var wmu sync.Mutex
	n := 0
	write := func(k int) {
		wmu.Lock()
		defer wmu.Unlock()
		f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		for range k {
			fmt.Fprintf(f, "2026-11-27T10:00:00.000000+00:00 mail postfix/smtpd[1]: %X: client=unknown[192.0.2.1], sasl_method=PLAIN, sasl_username=u%d\n", 0xAAAAAAAAA+n, n)
			n++
		}
	}
	rotate := func(copytruncate bool) {
		wmu.Lock()
		defer wmu.Unlock()
		// log.N becomes log.N+1, as logrotate does, the oldest first.
		k := 1
		for ; ; k++ {
			if _, err := os.Stat(fmt.Sprintf("%s.%d", log, k)); err != nil {
				break
			}
		}
		for ; k > 1; k-- {
			if err := os.Rename(fmt.Sprintf("%s.%d", log, k-1), fmt.Sprintf("%s.%d", log, k)); err != nil {
				t.Fatal(err)
			}
		}
		if copytruncate {
			b, err := os.ReadFile(log)
			if err == nil {
				err = os.WriteFile(log+".1", b, 0o644)
			}
			if err == nil {
				err = os.Truncate(log, 0)
			}
			if err != nil {
				t.Fatal(err)
			}
			return
		}
		if err := os.Rename(log, log+".1"); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(log, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The first run reads what is there, and saves its position.
	write(10)
	out, err := exec.Command(exe, "--resume", "--db", db, log).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	seen := map[string]int{}
	count := func(s string) {
		for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
			if i := strings.Index(l, `"user":"`); i >= 0 {
				u := l[i+len(`"user":"`):]
				seen[u[:strings.IndexByte(u, '"')]]++
			}
		}
	}
	count(string(out))
	for round := range 3 {
		cmd := exec.Command(exe, "--follow", "--resume", "--db", db, log)
		var stdout, stderr syncbuf.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		write(50)
		deadline := time.Now().Add(60 * time.Second)
		for strings.Count(stdout.String(), "\n") < 20 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: no output:\n%s", round, stderr.String())
			}
			time.Sleep(5 * time.Millisecond) // polling to the deadline
		}
		rotate(round == 1)
		done := make(chan struct{})
		go func() { write(200); close(done) }() // written while it stops
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("round %d: %v\n%s", round, err, stderr.String())
		}
		<-done
		if stderr.String() != "" {
			t.Errorf("round %d: stderr:\n%s", round, stderr.String())
		}
		count(stdout.String())
		rotate(round == 2) // while stopped
		write(10)
	}
	out, err = exec.Command(exe, "--resume", "--db", db, log).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	count(string(out))
	for i := range n {
		if c := seen[fmt.Sprintf("u%d", i)]; c != 1 {
			t.Errorf("u%d: out %d times, want 1", i, c)
		}
	}
}
