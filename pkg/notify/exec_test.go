//go:build unix

package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/report"
)

// script writes an executable shell script into a new directory.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "script.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// lockedBuffer is an Output that the test may read while a script writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func accounts(users ...string) *Message {
	m := &Message{}
	for _, u := range users {
		m.Accounts = append(m.Accounts, &report.Account{User: u, Logins: 2, IPs: []*report.IP{{IP: "192.0.2.1", Count: 2}}})
	}
	return m
}

// The script runs once per account, in order, with the name as its one
// argument and the account's JSON on stdin; a failure for one account
// does not keep it from the next, is reported per account, and is never
// retried.
func TestExec(t *testing.T) {
	dir := t.TempDir()
	calls := filepath.Join(dir, "calls")
	sh := script(t, `printf '%s|%s\n' "$1" "$(cat)" >> `+calls+`
echo "out for $1"; echo "err for $1" >&2
case "$1" in fail*) exit 7;; esac
`)
	var out lockedBuffer
	e := &Exec{Path: sh, Output: &out}
	m := accounts("$(touch pwned);x`id`@example.test", "fail@example.test", "carol@example.test")
	res := SendAll(context.Background(), []Channel{e}, m, fast)
	b, _ := os.ReadFile(calls)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d runs, want 3 (no retry):\n%s", len(lines), b)
	}
	for i, l := range lines {
		arg, stdin, _ := strings.Cut(l, "|")
		var a report.Account
		if arg != m.Accounts[i].User || json.Unmarshal([]byte(stdin), &a) != nil || a.User != arg || a.Logins != 2 {
			t.Errorf("run %d: %q", i, l)
		}
	}
	if _, err := os.Stat("pwned"); err == nil {
		t.Error("the name went through a shell")
	}
	if got := res[0].Lines(); len(got) != 1 || got[0] != "exec "+sh+" for fail@example.test: exit status 7" {
		t.Errorf("%q", got)
	}
	if !strings.Contains(out.String(), "out for carol@example.test\n") || !strings.Contains(out.String(), "err for fail@example.test\n") {
		t.Errorf("output:\n%s", out.String())
	}
}

// gone says whether a process has ended (or is a zombie no one reaped).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) != nil
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && (f[0] == "Z" || f[0] == "X")
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pid in %s", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A script that outlives its timeout is killed with everything it
// started (its process group), and reported.
func TestExecTimeoutKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	sh := script(t, "sleep 600 &\necho $! > "+pidFile+".tmp; mv "+pidFile+".tmp "+pidFile+"\nwait\n")
	e := &Exec{Path: sh, Timeout: 2 * time.Second}
	start := time.Now()
	err := e.Send(context.Background(), accounts("bob@example.test"))
	var ae AccountErrors
	if !errors.As(err, &ae) || len(ae) != 1 || ae[0].Err.Error() != "timed out after 2s; its process group was killed" {
		t.Fatalf("%v", err)
	}
	if d := time.Since(start); d > 60*time.Second {
		t.Errorf("took %v", d)
	}
	pid := readPID(t, pidFile)
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	deadline := time.Now().Add(20 * time.Second)
	for !gone(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the script's child %d still runs", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A script that exits but leaves a process holding its output does not
// keep the run waiting for that process.
func TestExecOrphanHoldsOutput(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	sh := script(t, "sleep 600 &\necho $! > "+pidFile+"\necho done\nexit 0\n")
	var out lockedBuffer
	e := &Exec{Path: sh, Grace: 100 * time.Millisecond, Output: &out}
	done := make(chan error, 1)
	go func() { done <- e.Send(context.Background(), accounts("bob@example.test")) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("still waiting for the script's orphan")
	}
	pid := readPID(t, pidFile)
	syscall.Kill(pid, syscall.SIGKILL)
	if out.String() != "done\n" {
		t.Errorf("output %q", out.String())
	}
}

// Check finds what cannot or must not be run before any log is read.
func TestExecCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
		return p
	}
	ok := write("ok.sh", 0o755)
	groupW := write("group.sh", 0o775)
	otherW := write("other.sh", 0o757)
	noExec := write("noexec.sh", 0o644)
	for _, tc := range []struct {
		path, want, hint string
	}{
		{ok, "", ""},
		{groupW, groupW + ": others than its owner can write to it (mode 0775); it is not run", "chmod go-w " + groupW},
		{otherW, otherW + ": others than its owner can write to it (mode 0757); it is not run", "chmod go-w " + otherW},
		{noExec, noExec + ": is not executable", "chmod u+x " + noExec},
		{filepath.Join(dir, "missing.sh"), filepath.Join(dir, "missing.sh") + ": no such file", ""},
		{dir, dir + ": is a directory", ""},
		{"loganom-no-such-script", "loganom-no-such-script: not found in $PATH", "name it with its directory, like ./loganom-no-such-script"},
	} {
		err := (&Exec{Path: tc.path}).Check()
		got, hint := "", ""
		if err != nil {
			got = err.Error()
			var ue *UnsafeError
			if errors.As(err, &ue) {
				hint = ue.Hint
			}
		}
		if got != tc.want || hint != tc.hint {
			t.Errorf("%s: %q, hint %q; want %q, hint %q", tc.path, got, hint, tc.want, tc.hint)
		}
	}
	// a name without a slash is looked up in $PATH, as a shell would
	t.Setenv("PATH", dir)
	e := &Exec{Path: "ok.sh"}
	if err := e.Check(); err != nil || e.Path != ok {
		t.Errorf("%v, %s", err, e.Path)
	}
	// a path that needs quoting in the hint
	odd := write("it's odd.sh", 0o777)
	var ue *UnsafeError
	if err := CheckPrivate(odd); !errors.As(err, &ue) || ue.Hint != `chmod go-w '`+dir+`/it'\''s odd.sh'` {
		t.Errorf("%v, %+v", err, ue)
	}
}

// Preview says what would run, and runs nothing.
func TestExecPreview(t *testing.T) {
	calls := filepath.Join(t.TempDir(), "calls")
	sh := script(t, "echo run >> "+calls+"\n")
	p, err := (&Exec{Path: sh}).Preview(accounts("bob@example.test", `a"b`))
	if err != nil || p != sh+` "bob@example.test"  (the account's JSON on stdin)`+"\n"+sh+` "a\"b"  (the account's JSON on stdin)` {
		t.Errorf("%v:\n%s", err, p)
	}
	if _, err := os.Stat(calls); err == nil {
		t.Error("Preview ran the script")
	}
}

// The script reads the account's severity and reasons in its JSON, the
// hostile names in them quoted by JSON, not cleaned: it gets the data.
func TestExecReasons(t *testing.T) {
	out := filepath.Join(t.TempDir(), "stdin")
	sh := script(t, `cat > `+out+"\n")
	m := hostileMessage(t)
	if res := SendAll(context.Background(), []Channel{&Exec{Path: sh}}, m, fast); res[0].Err != nil {
		t.Fatal(res[0].Error())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var a struct {
		User     string `json:"user"`
		Severity string `json:"severity"`
		Reasons  []struct {
			Detector, Severity, Text, IP string
		} `json:"reasons"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("%v:\n%s", err, b)
	}
	want := m.Accounts[0].Reasons
	if a.User != "bob@example.test" || a.Severity != "high" || len(a.Reasons) != len(want) {
		t.Fatalf("%s", b)
	}
	for i, r := range a.Reasons {
		w := want[i]
		if r.Detector != w.Detector || r.Severity != w.Severity.String() || r.Text != strings.ToValidUTF8(w.Text, "\ufffd") || r.IP != w.IP {
			t.Errorf("reason %d: %+v, want %+v", i, r, w)
		}
	}
	if bytes.Contains(b, []byte("\x1b")) || bytes.Count(b, []byte("\n")) != 1 {
		t.Errorf("not one line of JSON with escapes quoted:\n%q", b)
	}
}
