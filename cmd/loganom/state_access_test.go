package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/loganomcmd"
)

// A postmaster who runs "loganom alerts" (or history, blocks, db stats,
// block) as himself, against a state that root or the user loganom
// owns, got "attempt to write a readonly database" and nothing more:
// SQLite writes the state even to read it. The error now says whose the
// state is and how to run. The command runs as nobody (a copy of this
// test binary, which runs loganom under that name), so the test needs
// root; CI runs as root.
func TestStateNotWritableHint(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs the tests as root; this one needs it")
		}
		t.Skip("needs root, to run loganom as nobody")
	}
	top, err := os.MkdirTemp("", "loganom-access-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(top) })
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(top, "loganom")
	copyFile(t, exe, bin, 0o755)
	stateDir := filepath.Join(top, "state")
	if err := os.Mkdir(stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(stateDir, "state.db")
	var errb bytes.Buffer
	if code := loganomcmd.Main(cli.Env{Args: []string{"block", "carol@example.test", "--db", db}, Stdout: io.Discard, Stderr: &errb, Getenv: func(string) string { return "" }}); code != 0 {
		t.Fatalf("block: exit %d\n%s", code, errb.String())
	}
	for _, p := range []string{top, stateDir} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	asNobody := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent", "TZ=UTC"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return stderr.String(), code
	}
	readable := "loganom: hint: " + db + " belongs to root (mode 0644), and this user may not write it; loganom writes the state (and the -wal and -shm files beside it) even to read it: run as root\n"
	for _, args := range [][]string{{"alerts"}, {"history", "bob@example.test"}, {"blocks"}, {"db", "stats"}, {"block", "x@example.test"}} {
		stderr, code := asNobody(append(args, "--db", db)...)
		if code != 1 || !strings.HasPrefix(stderr, "loganom: error: state "+db+": ") || !strings.HasSuffix(stderr, readable) {
			t.Errorf("%v as nobody, the state readable, not writable: exit %d\n%s", args, code, stderr)
		}
	}
	// a directory others may not enter: its owner and mode
	if err := os.Chmod(stateDir, 0o700); err != nil {
		t.Fatal(err)
	}
	stderr, code := asNobody("alerts", "--db", db)
	if want := "loganom: hint: " + stateDir + " belongs to root (mode 0700), and this user may not write it;"; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("alerts as nobody, the directory closed: exit %d\n%s\nwant %s", code, stderr, want)
	}
	// a state whose owner has no name here (a uid from another
	// machine's passwd, a restored backup): sudo -u takes a uid as #N
	if err := os.Chmod(stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	uid := 4321
	for ; ; uid++ {
		if _, err := user.LookupId(strconv.Itoa(uid)); err != nil {
			break
		}
	}
	if err := os.Chown(db, uid, -1); err != nil {
		t.Fatal(err)
	}
	stderr, code = asNobody("alerts", "--db", db)
	if want := fmt.Sprintf("loganom: hint: %s belongs to uid %d (mode 0644), and this user may not write it; loganom writes the state (and the -wal and -shm files beside it) even to read it: run as uid %d (sudo -u '#%d' loganom …) or as root\n", db, uid, uid, uid); code != 1 || !strings.HasSuffix(stderr, want) {
		t.Errorf("alerts as nobody, the state a nameless uid's: exit %d\n%s\nwant %s", code, stderr, want)
	}
	if err := os.Chown(db, 0, -1); err != nil {
		t.Fatal(err)
	}
	// a state on a read-only mount (a bind mount ro, a snapshot): no
	// user may write it, root no more than this one
	ro := filepath.Join(top, "ro")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "bind,ro", stateDir, ro).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("a read-only bind mount, which CI's machine makes: %v: %s", err, out)
		}
		t.Logf("no read-only bind mount here (%v: %s): not checked", err, out)
	} else {
		t.Cleanup(func() { exec.Command("umount", ro).Run() })
		rodb := filepath.Join(ro, "state.db")
		stderr, code := asNobody("alerts", "--db", rodb)
		if want := "loganom: hint: " + rodb + " is on a read-only file system;"; code != 1 || !strings.Contains(stderr, want) || strings.Contains(stderr, "run as root") {
			t.Errorf("alerts as nobody, the state on a read-only mount: exit %d\n%s\nwant %s", code, stderr, want)
		}
	}
	// root may: no hint
	var out bytes.Buffer
	errb.Reset()
	if code := loganomcmd.Main(cli.Env{Args: []string{"blocks", "--db", db}, Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}); code != 0 || !strings.Contains(out.String(), "carol@example.test") {
		t.Errorf("blocks as root: exit %d\n%s%s", code, out.String(), errb.String())
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}
