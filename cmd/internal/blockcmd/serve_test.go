package blockcmd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func env(args ...string) (cli.Env, *syncBuf, *syncBuf) {
	var out, errb syncBuf
	return cli.Env{Args: args, Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}, &out, &errb
}

// serve runs loganom serve in the background until the test ends; it
// returns the address the policy service listens on, and its log.
func serve(t *testing.T, c *ServeCmd) (string, *syncBuf, func() int) {
	t.Helper()
	return serveUntil(t, c, regexp.MustCompile(`msg="policy: listening" prog=loganom addr=(\S+)`))
}

// serveUntil runs loganom serve until it logs re, whose first group it
// returns.
func serveUntil(t *testing.T, c *ServeCmd, re *regexp.Regexp) (string, *syncBuf, func() int) {
	t.Helper()
	e, _, log := env()
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() { code <- ServeContext(ctx, e, &cli.Logger{Prog: "loganom", W: e.Stderr}, c) }()
	stopped := false
	stop := func() int {
		if stopped {
			return -1
		}
		stopped = true
		cancel()
		return <-code
	}
	t.Cleanup(func() { stop() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := re.FindStringSubmatch(log.String()); m != nil {
			return m[1], log, stop
		}
		select {
		case n := <-code:
			t.Fatalf("serve exited with %d:\n%s", n, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never listened:\n%s", log)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ask(t *testing.T, addr, user string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=192.0.2.1\nsasl_username=%s\n\n", user)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	return strings.TrimSpace(line)
}

func waitAnswer(t *testing.T, addr, user, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := ask(t, addr, user)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q, never %q", user, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func run(t *testing.T, f func(cli.Env, *cli.Logger) int, args ...string) string {
	t.Helper()
	e, out, errb := env(args...)
	if code := f(e, &cli.Logger{Prog: "loganom", W: e.Stderr}); code != 0 {
		t.Fatalf("%v: exit %d\n%s", args, code, errb)
	}
	return out.String()
}

func block(t *testing.T, db string, args ...string) {
	t.Helper()
	c := &BlockCmd{}
	c.DB = db
	c.User = args[0]
	if len(args) > 1 {
		c.For = args[1]
	}
	run(t, func(e cli.Env, l *cli.Logger) int { return Block(e, l, c) })
}

// loganom serve enforces what loganom block and unblock write, within a
// refresh, and stops cleanly.
func TestServe(t *testing.T) {
	t.Chdir(t.TempDir()) // no ./config.ini
	db := filepath.Join(t.TempDir(), "state.db")
	block(t, db, "bob@example.test")
	c := &ServeCmd{DB: db, PolicyFlags: PolicyFlags{Listen: "127.0.0.1:0", Refresh: 20 * time.Millisecond, Action: "554 5.7.1 blocked by loganom"}}
	addr, log, stop := serve(t, c)
	if got := ask(t, addr, "BOB@example.test"); got != "action=554 5.7.1 blocked by loganom" {
		t.Errorf("bob: %q", got)
	}
	if got := ask(t, addr, "alice@example.test"); got != "action=DUNNO" {
		t.Errorf("alice: %q", got)
	}
	block(t, db, "alice@example.test")
	waitAnswer(t, addr, "alice@example.test", "action=554 5.7.1 blocked by loganom")
	u := &UnblockCmd{User: "bob@example.test"}
	u.DB = db
	run(t, func(e cli.Env, l *cli.Logger) int { return Unblock(e, l, u) })
	waitAnswer(t, addr, "bob@example.test", "action=DUNNO")
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{`msg="policy: stopping`, `msg="policy: stopped" prog=loganom connections=`, `state=` + db} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("still listening after the stop")
	}
}

// A state that cannot be opened (PostgreSQL down at boot): serve starts
// anyway and answers per on_error, logging why.
func TestServeStateUnreachable(t *testing.T) {
	t.Chdir(t.TempDir())
	// a port on loopback where nothing listens
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dsn := fmt.Sprintf("postgres://loganom@127.0.0.1:%d/loganom?connect_timeout=2", port)
	for _, x := range []struct{ onError, want string }{
		{"", "action=DUNNO"},
		{"defer", "action=DEFER_IF_PERMIT 4.3.0 account check temporarily unavailable"},
	} {
		addr, log, stop := serve(t, &ServeCmd{DB: dsn, PolicyFlags: PolicyFlags{Listen: "127.0.0.1:0", OnError: x.onError, Refresh: time.Hour}})
		if got := ask(t, addr, "bob@example.test"); got != x.want {
			t.Errorf("on_error %q: %q, want %q", x.onError, got, x.want)
		}
		if got := ask(t, addr, ""); got != "action=DUNNO" {
			t.Errorf("unauthenticated: %q", got)
		}
		if !strings.Contains(log.String(), "cannot read the state") || !strings.Contains(log.String(), "open the state: state postgres://loganom@127.0.0.1:") {
			t.Errorf("log:\n%s", log)
		}
		if code := stop(); code != 0 {
			t.Errorf("exit %d", code)
		}
	}
}

// Settings come from [POLICY]; a bad one stops the start.
func TestServeConfig(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	db := filepath.Join(dir, "state.db")
	block(t, db, "bob")
	os.WriteFile("config.ini", []byte("[STATE]\ndb = "+db+"\n[POLICY]\nlisten = 127.0.0.1:0\naction = HOLD held\non_error = defer\nmax_connections = 7\nrefresh = 2s\n"), 0o644)
	addr, log, _ := serve(t, &ServeCmd{})
	if got := ask(t, addr, "bob"); got != "action=HOLD held" {
		t.Errorf("bob: %q", got)
	}
	if !strings.Contains(log.String(), `action="HOLD held" on_error=defer max_connections=7`) {
		t.Errorf("log:\n%s", log)
	}
}
