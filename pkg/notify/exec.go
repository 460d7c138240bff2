package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// DefaultExecTimeout is how long a script may run for one account.
const DefaultExecTimeout = time.Minute

// DefaultExecGrace is how long, once a script has ended, loganom still
// reads what it wrote: a process it left behind that holds its output
// does not keep the run waiting longer.
const DefaultExecGrace = 2 * time.Second

// Exec runs the postmaster's script once per account, in account order:
// the account's name as its only argument, the account as JSON (as
// loganom-report --format json writes it) on stdin, directly (no shell
// sees the name). Its output goes to Output.
//
// A script is run once and never again: it may have side effects (lock
// the account, open a ticket) that a second run would repeat, so SendAll
// does not retry it (Exec is Once). A script that fails, or outlives
// Timeout, is reported for its account; when it times out, its whole
// process group is killed.
type Exec struct {
	Path    string
	Timeout time.Duration // per account; 0: DefaultExecTimeout
	Grace   time.Duration // 0: DefaultExecGrace
	Output  io.Writer     // nil: discarded
}

// Name is "exec" and the script.
func (e *Exec) Name() string { return "exec " + e.Path }

// Once: a script is not retried.
func (e *Exec) Once() {}

// Preview lists the runs Send would make.
func (e *Exec) Preview(m *Message) (string, error) {
	var b strings.Builder
	for _, a := range m.Accounts {
		fmt.Fprintf(&b, "%s %s  (the account's JSON on stdin)\n", e.Path, strconv.Quote(a.User))
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// Send runs the script for each account, one after the other; a failure
// for one account does not keep the script from the next.
func (e *Exec) Send(ctx context.Context, m *Message) error {
	var errs AccountErrors
	for _, a := range m.Accounts {
		data, err := json.Marshal(a)
		if err == nil {
			err = e.run(ctx, a.User, append(data, '\n'))
		}
		if err != nil {
			errs = append(errs, AccountError{User: a.User, Err: err})
		}
	}
	if errs != nil {
		return errs
	}
	return nil
}

// onlyWriter hides an *os.File from os/exec, which would hand the file
// itself to the script: a process the script leaves behind would then
// hold our stderr open, and whoever reads it (cron, a pipe) would wait
// for that process. Through a pipe, WaitDelay can cut it off.
type onlyWriter struct{ io.Writer }

func (e *Exec) run(ctx context.Context, user string, stdin []byte) error {
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = DefaultExecTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.Path, user)
	cmd.Stdin = bytes.NewReader(stdin)
	out := e.Output
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = onlyWriter{out}, onlyWriter{out}
	ownGroup(cmd) // on timeout, the whole group is killed
	cmd.WaitDelay = e.Grace
	if cmd.WaitDelay <= 0 {
		cmd.WaitDelay = DefaultExecGrace
	}
	err := cmd.Run()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("timed out after %v; its process group was killed", timeout)
	case errors.Is(err, exec.ErrWaitDelay):
		// The script exited 0 but left a process holding its output:
		// not a failure, and not waited for.
		return nil
	}
	return err
}

// UnsafeError says why a file that loganom would run, or that names what
// it runs, is refused.
type UnsafeError struct {
	Path string
	Why  string
	Hint string // the command that mends it
}

func (e *UnsafeError) Error() string { return e.Path + ": " + e.Why }

// CheckPrivate refuses a file that others than its owner may change (its
// group or other write bit set), or whose owner is neither root nor the
// user running loganom, as ssh and sudo refuse such files: whoever can
// change it can make loganom run what they like.
func CheckPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return &UnsafeError{Path: path, Why: fmt.Sprintf("others than its owner can write to it (mode %04o)", perm),
			Hint: "chmod go-w " + shellQuote(path)}
	}
	if uid, ok := owner(fi); ok && uid != 0 && uid != os.Geteuid() {
		return &UnsafeError{Path: path, Why: fmt.Sprintf("it belongs to uid %d, neither root nor the user running loganom (uid %d)", uid, os.Geteuid()),
			Hint: "chown root " + shellQuote(path) + ", or run loganom as its owner"}
	}
	return nil
}

// Check finds the script (in $PATH when its name has no slash, as a
// shell would) and checks that it can be run and that only its owner can
// change it. It sets Path to what it found.
func (e *Exec) Check() error {
	if e.Timeout < 0 {
		return errors.New("the timeout must not be negative")
	}
	path := e.Path
	if !strings.ContainsRune(path, '/') {
		p, err := exec.LookPath(path)
		if err != nil {
			return &UnsafeError{Path: path, Why: "not found in $PATH", Hint: "name it with its directory, like ./" + path}
		}
		path = p
	}
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &UnsafeError{Path: path, Why: "no such file"}
	case err != nil:
		return err
	case fi.IsDir():
		return &UnsafeError{Path: path, Why: "is a directory"}
	case fi.Mode().Perm()&0o111 == 0:
		return &UnsafeError{Path: path, Why: "is not executable", Hint: "chmod u+x " + shellQuote(path)}
	}
	if err := CheckPrivate(path); err != nil {
		var ue *UnsafeError
		if errors.As(err, &ue) {
			ue.Why += "; it is not run"
		}
		return err
	}
	e.Path = path
	return nil
}

// shellQuote quotes a path for a hint line when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@,=") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
