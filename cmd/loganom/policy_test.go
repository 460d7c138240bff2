package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/blockcmd"
	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/loganomcmd"
	"github.com/loganom/loganom/pkg/postfixlab"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestPolicyRealPostfix: a real Postfix (scripts/postfix-lab) asks loganom
// serve at RCPT (check_policy_service, then permit_sasl_authenticated,
// reject): a blocked account is refused with the configured text, a free
// one accepted; unblocked, it is accepted again; with the state unreadable,
// mail flows (on_error = dunno), or is deferred (on_error = defer, here on
// a unix socket). It needs root, postfix and swaks; CI installs them and
// sets LOGANOM_REQUIRE_POSTFIX=1, so it does not skip there.
func TestPolicyRealPostfix(t *testing.T) {
	postfixlab.Require(t)
	root, _ := filepath.Abs("../..")
	dir := postfixlab.Dir(t)
	lab := filepath.Join(dir, "lab")
	base := postfixlab.PortBase(t)
	labCmd := func(args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(root, "scripts/postfix-lab"), args...)
		cmd.Env = append(os.Environ(), "LAB_PORT_BASE="+strconv.Itoa(base))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("postfix-lab %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	labCmd("start", lab)
	t.Cleanup(func() { exec.Command(filepath.Join(root, "scripts/postfix-lab"), "stop", lab).Run() })
	labCmd("adduser", lab, "bob@example.test", "bob-pw")
	labCmd("adduser", lab, "alice@example.test", "alice-pw")
	submission := strconv.Itoa(base + 587)

	db := filepath.Join(dir, "state.db")
	conf := filepath.Join(dir, "empty.ini")
	os.WriteFile(conf, nil, 0o644)
	loganom := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := loganomcmd.Main(cli.Env{Args: append(args, "--db", db, "-c", conf), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}); code != 0 {
			t.Fatalf("loganom %v: exit %d\n%s", args, code, errb.String())
		}
		return out.String()
	}
	loganom("block", "carol@example.test") // makes the state

	// serve runs loganom serve until stop.
	serve := func(flags blockcmd.PolicyFlags) (addr string, log *lockedBuf, stop func()) {
		t.Helper()
		log = &lockedBuf{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		c := &blockcmd.ServeCmd{Config: conf, DB: db, PolicyFlags: flags}
		go func() {
			done <- blockcmd.ServeContext(ctx, cli.Env{Stdout: log, Stderr: log, Getenv: func(string) string { return "" }}, &cli.Logger{Prog: "loganom", W: log}, c)
		}()
		stop = func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("serve: exit %d\n%s", code, log)
			}
		}
		re := regexp.MustCompile(`msg="policy: listening" addr=(\S+)`)
		deadline := time.Now().Add(20 * time.Second)
		for {
			if m := re.FindStringSubmatch(log.String()); m != nil {
				return m[1], log, stop
			}
			if time.Now().After(deadline) {
				t.Fatalf("serve never listened:\n%s", log)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// usePolicy points Postfix at the service, and reloads it: smtpd
	// processes started after read it.
	usePolicy := func(service string) {
		t.Helper()
		for _, args := range [][]string{
			{"postconf", "-c", filepath.Join(lab, "etc"), "-e", "smtpd_recipient_restrictions = check_policy_service " + service + ", permit_sasl_authenticated, reject"},
			{"postfix", "-c", filepath.Join(lab, "etc"), "reload"},
		} {
			if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
				t.Fatalf("%v: %v\n%s", args, err, out)
			}
		}
	}
	// send sends one mail authenticated as user, and returns swaks' transcript.
	send := func(user string) string {
		out, _ := exec.Command("swaks", "--server", "127.0.0.1", "--port", submission, "--helo", "pc.example.test",
			"--from", user+"@example.test", "--to", "friend@example.net",
			"--auth", "LOGIN", "--auth-user", user+"@example.test", "--auth-password", user+"-pw").CombinedOutput()
		return string(out)
	}
	accepted := regexp.MustCompile(`(?m)^<-  250 2\.0\.0 Ok: queued`)
	// expect sends as user until the transcript matches want, to a deadline
	// (a reload, a refresh of the blocks take a moment).
	expect := func(user string, want *regexp.Regexp) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			out := send(user)
			if want.MatchString(out) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("mail from %s: want %s, got:\n%s", user, want, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	const action = "REJECT 5.7.1 blocked by loganom: call the helpdesk"
	addr, log, stop := serve(blockcmd.PolicyFlags{Listen: "127.0.0.1:0", Action: action, Refresh: 200 * time.Millisecond})
	usePolicy("inet:" + addr)
	loganom("block", "Bob@example.test", "--reason", "botnet")
	refused := regexp.MustCompile(`(?m)^<\*\* +554 5\.7\.1 <friend@example\.net>: Recipient address rejected: blocked by loganom: call the helpdesk`)
	expect("bob", refused)
	if out := send("alice"); !accepted.MatchString(out) {
		t.Fatalf("alice, not blocked:\n%s", out)
	}
	// unblocked with the command: the next mail (after a refresh) passes
	loganom("unblock", "bob@example.test")
	expect("bob", accepted)

	// the state unreadable: the blocks table renamed away under the service
	loganom("block", "bob@example.test")
	expect("bob", refused)
	sqlExec(t, db, `ALTER TABLE blocks RENAME TO blocks_away`)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(log.String(), "cannot read the state") {
		if time.Now().After(deadline) {
			t.Fatalf("the service never failed to read:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out := send("alice"); !accepted.MatchString(out) { // on_error = dunno: mail flows
		t.Fatalf("alice, the state unreadable, on_error = dunno:\n%s", out)
	}
	stop()

	// on_error = defer, on a unix socket; the state still unreadable from
	// the start: DEFER_IF_PERMIT, then permit_sasl_authenticated: 450
	sock := filepath.Join(dir, "policy.sock")
	_, log, stop = serve(blockcmd.PolicyFlags{Listen: "unix:" + sock, OnError: "defer", Refresh: 200 * time.Millisecond})
	defer stop()
	usePolicy("unix:" + sock)
	expect("alice", regexp.MustCompile(`(?m)^<\*\* +450 4\.3\.0 <friend@example\.net>: Recipient address rejected: account check temporarily unavailable`))
	sqlExec(t, db, `ALTER TABLE blocks_away RENAME TO blocks`)
	expect("alice", accepted)
	expect("bob", regexp.MustCompile(`(?m)^<\*\* +554 5\.7\.1 <friend@example\.net>: Recipient address rejected: account temporarily blocked`))
	if !strings.Contains(log.String(), "the state is readable again") {
		t.Errorf("log:\n%s", log)
	}
	// Postfix's own log says who refused what
	maillog, _ := os.ReadFile(filepath.Join(lab, "maillog"))
	for _, want := range []string{
		`NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 554 5.7.1 <friend@example.net>: Recipient address rejected: blocked by loganom: call the helpdesk; from=<bob@example.test> to=<friend@example.net>`,
		`NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 450 4.3.0 <friend@example.net>: Recipient address rejected: account check temporarily unavailable; from=<alice@example.test>`,
	} {
		if !strings.Contains(string(maillog), want) {
			t.Errorf("the maillog lacks %q", want)
		}
	}
	if strings.Contains(string(maillog), "warning: problem talking to server") {
		t.Errorf("Postfix had trouble with the service:\n%s", maillog)
	}
}

func sqlExec(t *testing.T, db, q string) {
	t.Helper()
	d, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Exec(q); err != nil {
		t.Fatal(err)
	}
}
