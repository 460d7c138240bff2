package policy

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/state"
)

var t0 = time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)

// clock is the tests' settable clock.
type clock struct{ ns atomic.Int64 }

func newClock() *clock                           { c := &clock{}; c.ns.Store(t0.UnixNano()); return c }
func (c *clock) now() time.Time                  { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) advance(d time.Duration)         { c.ns.Add(int64(d)) }
func (c *clock) set(t time.Time)                 { c.ns.Store(t.UnixNano()) }
func (c *clock) after(d time.Duration) time.Time { return c.now().Add(d) }

// logBuf is a log the tests read.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// count counts the log lines holding s.
func (l *logBuf) count(s string) int { return strings.Count(l.String(), s) }

// waitLog polls the log until it holds s, to a deadline.
func (l *logBuf) wait(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(l.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never said %q:\n%s", s, l.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newStore is a real SQLite state in a temporary directory.
func newStore(t *testing.T) (state.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := state.Open(context.Background(), path, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

type fixture struct {
	t     *testing.T
	srv   *Server
	store state.Store
	path  string
	clock *clock
	log   *logBuf
	addr  string
}

// start serves on a loopback port; cfg's Source, Now and Logger are
// filled in when unset.
func start(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: newClock(), log: &logBuf{}}
	if cfg.Source == nil {
		f.store, f.path = newStore(t)
		cfg.Source = f.store
	}
	if cfg.Now == nil {
		cfg.Now = f.clock.now
	}
	if cfg.Refresh == 0 {
		cfg.Refresh = time.Hour // the tests call Refresh
	}
	cfg.Logger = slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != ErrServerClosed {
			t.Errorf("Serve = %v", err)
		}
	})
	return f
}

func (f *fixture) block(user string, expires time.Time) {
	f.t.Helper()
	if err := f.store.AddBlock(context.Background(), state.Block{User: user, Reason: "test", Created: f.clock.now(), Expires: expires}); err != nil {
		f.t.Fatal(err)
	}
	f.refresh()
}

func (f *fixture) refresh() {
	f.t.Helper()
	if err := f.srv.Refresh(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

// client is one connection, as one smtpd process holds it.
type client struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func (f *fixture) dial() *client {
	f.t.Helper()
	c, err := net.Dial("tcp", f.addr)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &client{t: f.t, c: c, br: bufio.NewReader(c)}
}

func req(user, state string, extra ...string) string {
	var b strings.Builder
	b.WriteString("request=smtpd_access_policy\nprotocol_state=" + state + "\nclient_address=192.0.2.7\n")
	if user != "" {
		b.WriteString("sasl_method=PLAIN\nsasl_username=" + user + "\n")
	}
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatal(err)
	}
}

// answer reads one answer: "action=...", then an empty line.
func (c *client) answer() (string, error) {
	line, err := c.br.ReadString('\n')
	if err != nil {
		return line, err
	}
	empty, err := c.br.ReadString('\n')
	if err != nil {
		return line, err
	}
	if empty != "\n" {
		return line, fmt.Errorf("answer not ended by an empty line: %q", empty)
	}
	return strings.TrimSuffix(line, "\n"), nil
}

func (c *client) ask(r string) string {
	c.t.Helper()
	c.send(r)
	a, err := c.answer()
	if err != nil {
		c.t.Fatalf("no answer to %q: %q, %v", r, a, err)
	}
	return a
}

// closed checks that the server closed the connection without answering.
func (c *client) closed() {
	c.t.Helper()
	b, err := io.ReadAll(c.br)
	if errors.Is(err, syscall.ECONNRESET) {
		err = nil // closed with bytes unread: a reset
	}
	if err != nil || len(b) != 0 {
		c.t.Fatalf("want the connection closed without an answer; got %q, %v", b, err)
	}
}

func TestAnswers(t *testing.T) {
	f := start(t, Config{})
	f.block("bob@example.test", time.Time{})
	f.block("Case@example.test", time.Time{}) // stored as given: found only with case_sensitive_users
	f.block("änne@example.test", time.Time{})
	c := f.dial()
	// many requests on one connection, each stage, as Postfix sends them
	for _, x := range []struct{ req, want string }{
		{req("bob@example.test", "RCPT"), "action=" + DefaultAction},
		{req("BOB@Example.TEST", "RCPT"), "action=" + DefaultAction},
		{req("bob@example.test", "DATA"), "action=" + DefaultAction},
		{req("bob@example.test", "END-OF-MESSAGE"), "action=" + DefaultAction},
		{req("bob@example.test", "MAIL"), "action=" + DefaultAction},
		{req("alice@example.test", "RCPT"), "action=DUNNO"},
		{req("", "RCPT"), "action=DUNNO"},
		{req("", "CONNECT"), "action=DUNNO"},
		{req("bob@example.test.", "RCPT"), "action=DUNNO"},
		{req("case@example.test", "RCPT"), "action=DUNNO"},
		{req("ÄNNE@example.test", "RCPT"), "action=" + DefaultAction},
		{req("änne@example.test", "RCPT"), "action=" + DefaultAction},
		{postfixRequest, "action=" + DefaultAction}, // Bob@Example.test
	} {
		if got := c.ask(x.req); got != x.want {
			t.Errorf("%q: %q, want %q", x.req, got, x.want)
		}
	}
	// pipelined: three requests in one write, three answers in order
	c.send(req("alice@example.test", "RCPT") + req("bob@example.test", "RCPT") + req("", "RCPT"))
	for _, want := range []string{"action=DUNNO", "action=" + DefaultAction, "action=DUNNO"} {
		if got, err := c.answer(); got != want || err != nil {
			t.Errorf("pipelined: %q, %v; want %q", got, err, want)
		}
	}
	// (a request is counted once its answer is written: the client may
	// read the last answer before the server counts it)
	st := f.srv.Stats()
	for deadline := time.Now().Add(5 * time.Second); st.Requests < 16 && time.Now().Before(deadline); st = f.srv.Stats() {
		time.Sleep(time.Millisecond)
	}
	if st.Requests != 16 || st.Blocked != 9 || st.BadRequests != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestCustomActionAndCaseSensitive(t *testing.T) {
	f := start(t, Config{Action: "HOLD held by loganom", CaseSensitiveUsers: true})
	f.block("Bob@example.test", time.Time{})
	c := f.dial()
	for _, x := range []struct{ user, want string }{
		{"Bob@EXAMPLE.test", "action=HOLD held by loganom"},
		{"bob@example.test", "action=DUNNO"},
	} {
		if got := c.ask(req(x.user, "RCPT")); got != x.want {
			t.Errorf("%s: %q, want %q", x.user, got, x.want)
		}
	}
	for _, bad := range []Config{{Action: "REJECT a\nb"}, {Action: "OK"}, {OnError: "maybe"}} {
		bad.Source = f.store
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) accepted", bad)
		}
	}
}

// A block expires at its time, without waiting for the next read.
func TestExpiry(t *testing.T) {
	f := start(t, Config{})
	f.block("bob@example.test", t0.Add(time.Hour))
	f.block("carol@example.test", time.Time{})
	c := f.dial()
	if got := c.ask(req("bob@example.test", "RCPT")); got != "action="+DefaultAction {
		t.Fatalf("before expiry: %q", got)
	}
	f.clock.advance(time.Hour - time.Nanosecond)
	if got := c.ask(req("bob@example.test", "RCPT")); got != "action="+DefaultAction {
		t.Fatalf("just before expiry: %q", got)
	}
	f.clock.advance(time.Nanosecond)
	if got := c.ask(req("bob@example.test", "RCPT")); got != "action=DUNNO" {
		t.Fatalf("at expiry: %q", got)
	}
	if got := c.ask(req("carol@example.test", "RCPT")); got != "action="+DefaultAction {
		t.Fatalf("a block without end: %q", got)
	}
	// lifted in the state: gone at the next read
	if ok, err := f.store.RemoveBlock(context.Background(), "carol@example.test", "t", "", f.clock.now()); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if got := c.ask(req("carol@example.test", "RCPT")); got != "action="+DefaultAction {
		t.Fatalf("before the read: %q", got)
	}
	f.refresh()
	if got := c.ask(req("carol@example.test", "RCPT")); got != "action=DUNNO" {
		t.Fatalf("after the read: %q", got)
	}
}

// The refresher reads the state every Refresh by itself.
func TestRefreshLoop(t *testing.T) {
	f := start(t, Config{Refresh: 10 * time.Millisecond})
	c := f.dial()
	if got := c.ask(req("bob@example.test", "RCPT")); got != "action=DUNNO" {
		t.Fatal(got)
	}
	if err := f.store.AddBlock(context.Background(), state.Block{User: "bob@example.test", Created: t0}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.ask(req("bob@example.test", "RCPT")) != "action="+DefaultAction {
		if time.Now().After(deadline) {
			t.Fatal("the block was never read")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// RefreshSoon: the same, on demand (a signal)
	f.store.RemoveBlock(context.Background(), "bob@example.test", "t", "", t0)
	f.srv.RefreshSoon()
	for c.ask(req("bob@example.test", "RCPT")) != "action=DUNNO" {
		if time.Now().After(deadline) {
			t.Fatal("the unblock was never read")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// breakState makes the state unreadable (its blocks table renamed away,
// by another connection to the same file) or readable again.
func breakState(t *testing.T, path string, broken bool) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := `ALTER TABLE blocks RENAME TO blocks_away`
	if !broken {
		q = `ALTER TABLE blocks_away RENAME TO blocks`
	}
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}

func TestOnError(t *testing.T) {
	for _, c := range []struct {
		onError OnError
		want    string
	}{
		{"", "action=DUNNO"},
		{OnErrorDunno, "action=DUNNO"},
		{OnErrorDefer, "action=" + DefaultDeferAction},
	} {
		t.Run(string(c.onError), func(t *testing.T) {
			f := start(t, Config{OnError: c.onError})
			f.block("bob@example.test", time.Time{})
			cl := f.dial()
			breakState(t, f.path, true)
			if err := f.srv.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "blocks") {
				t.Fatalf("Refresh of a broken state: %v", err)
			}
			if !f.srv.Failing() {
				t.Error("not Failing")
			}
			// the blocks last read still apply; the others get on_error
			for _, x := range []struct{ req, want string }{
				{req("bob@example.test", "RCPT"), "action=" + DefaultAction},
				{req("alice@example.test", "RCPT"), c.want},
				{req("", "RCPT"), "action=DUNNO"},
			} {
				if got := cl.ask(x.req); got != x.want {
					t.Errorf("%q: %q, want %q", x.req, got, x.want)
				}
			}
			// the error is logged once a minute, with the count of the others
			f.srv.Refresh(context.Background())
			f.srv.Refresh(context.Background())
			if n := f.log.count("cannot read the state"); n != 1 {
				t.Errorf("logged %d times:\n%s", n, f.log)
			}
			f.clock.advance(time.Minute)
			f.srv.Refresh(context.Background())
			if n := f.log.count("cannot read the state"); n != 2 || f.log.count("failures=4 suppressed=2") != 1 {
				t.Errorf("after a minute:\n%s", f.log)
			}
			breakState(t, f.path, false)
			f.refresh()
			if f.srv.Failing() || f.log.count("the state is readable again") != 1 {
				t.Errorf("recovery:\n%s", f.log)
			}
			if got := cl.ask(req("alice@example.test", "RCPT")); got != "action=DUNNO" {
				t.Errorf("recovered: %q", got)
			}
		})
	}
}

// A state that cannot be read at the start: every authenticated request
// gets on_error.
func TestOnErrorFromTheStart(t *testing.T) {
	st, path := newStore(t)
	breakState(t, path, true)
	f := start(t, Config{Source: st, OnError: OnErrorDefer})
	c := f.dial()
	if got := c.ask(req("bob@example.test", "RCPT")); got != "action="+DefaultDeferAction {
		t.Errorf("%q", got)
	}
	// a closed store fails too (sql: database is closed)
	st.Close()
	if err := f.srv.Refresh(context.Background()); err == nil {
		t.Error("Refresh of a closed store succeeded")
	}
}

// Bad requests close the connection without an answer, with a log line,
// and do not disturb the other connections.
func TestBadRequests(t *testing.T) {
	f := start(t, Config{Limits: Limits{Line: 256, Request: 2048}})
	good := f.dial()
	for _, x := range []struct{ name, in, log string }{
		{"garbage", "GET / HTTP/1.0\r\n\r\n", "is not name=value"},
		{"binary", "\x00\x01\x02=\xff\n\n", "NUL"},
		{"no request", "sasl_username=bob\n\n", "no request attribute"},
		{"long line", "request=smtpd_access_policy\nx=" + strings.Repeat("y", 300) + "\n\n", "an attribute line is longer than 256 bytes"},
		{"long request", "request=smtpd_access_policy\n" + strings.Repeat("x=1234567890\n", 200), "the request is longer than 2048 bytes"},
		{"twice", "request=smtpd_access_policy\nsasl_username=a\nsasl_username=b\n\n", "given twice"},
		{"after a good one", req("bob", "RCPT") + "junk\n\n", "is not name=value"},
		{"half then close", "request=smtpd_access_policy\nsasl_user", "in the middle of a request"},
	} {
		t.Run(x.name, func(t *testing.T) {
			c := f.dial()
			c.send(x.in)
			if x.name == "after a good one" {
				if got, err := c.answer(); got != "action=DUNNO" || err != nil {
					t.Fatalf("the good request: %q, %v", got, err)
				}
			}
			if x.name == "half then close" {
				c.c.(*net.TCPConn).CloseWrite()
			}
			c.closed()
			f.log.wait(t, x.log)
			if got := good.ask(req("alice", "RCPT")); got != "action=DUNNO" {
				t.Errorf("the other connection: %q", got)
			}
		})
	}
	if st := f.srv.Stats(); st.BadRequests != 8 {
		t.Errorf("stats %+v", st)
	}
}

// Log lines for bad requests are limited: 10 a second, then a count.
func TestBadRequestLogLimit(t *testing.T) {
	f := start(t, Config{})
	for range 15 {
		c := f.dial()
		c.send("junk\n\n")
		c.closed()
	}
	deadline := time.Now().Add(10 * time.Second)
	for f.srv.Stats().BadRequests < 15 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := f.log.count("level=WARN"); n != 10 {
		t.Errorf("%d lines logged:\n%s", n, f.log)
	}
	f.clock.advance(time.Second)
	c := f.dial()
	c.send("junk\n\n")
	c.closed()
	f.log.wait(t, "suppressed=5")
}

// A client that starts a request and never finishes it (slowloris) is
// closed after RequestTimeout; one idle between requests after
// IdleTimeout; meanwhile the others are answered at once.
func TestSlowClients(t *testing.T) {
	f := start(t, Config{RequestTimeout: 300 * time.Millisecond, IdleTimeout: 600 * time.Millisecond})
	slow := f.dial()
	slow.send("request=smtpd_access_policy\nsasl_username=bo")
	idle := f.dial()
	if got := idle.ask(req("a", "RCPT")); got != "action=DUNNO" {
		t.Fatal(got)
	}
	// others are served while those two wait
	for range 20 {
		c := f.dial()
		if got := c.ask(req("bob", "RCPT")); got != "action=DUNNO" {
			t.Fatal(got)
		}
		c.c.Close()
	}
	startWait := time.Now()
	slow.closed()
	if d := time.Since(startWait); d > 5*time.Second {
		t.Errorf("the slow client was closed after %v", d)
	}
	f.log.wait(t, "request not finished in time")
	idle.closed()
	f.log.wait(t, "idle connection closed")
}

// At the limit, a new connection closes the one idle longest; when every
// connection is busy, the new one is closed. Both are logged.
func TestConnectionLimit(t *testing.T) {
	f := start(t, Config{MaxConnections: 3})
	var idle []*client
	for i := range 3 {
		c := f.dial()
		if got := c.ask(req(fmt.Sprint("u", i), "RCPT")); got != "action=DUNNO" {
			t.Fatal(got)
		}
		f.waitFor(func() bool { return f.srv.count(stateIdle) == i+1 })
		f.clock.advance(time.Second) // the next is idle for less time
		idle = append(idle, c)
	}
	// the fourth closes the first (idle longest), and is served
	fourth := f.dial()
	if got := fourth.ask(req("x", "RCPT")); got != "action=DUNNO" {
		t.Fatal(got)
	}
	idle[0].closed()
	f.log.wait(t, "connection limit reached: closed the connection idle longest")
	for _, c := range idle[1:] {
		if got := c.ask(req("y", "RCPT")); got != "action=DUNNO" {
			t.Fatalf("a connection not evicted: %q", got)
		}
	}
	// every connection busy (a request begun): the new one is refused
	for _, c := range append(idle[1:], fourth) {
		c.send("request=smtpd_access_policy\n")
	}
	f.waitFor(func() bool { return f.srv.count(stateBusy) == 3 })
	f.clock.advance(time.Minute) // the log's limit
	f.dial().closed()
	f.log.wait(t, "every connection is busy: refused a new one")
	if st := f.srv.Stats(); st.Refused != 1 || st.Evicted != 1 {
		t.Errorf("stats %+v", st)
	}
	// the busy ones finish their requests and are answered
	for _, c := range append(idle[1:], fourth) {
		c.send("\n")
		if got, err := c.answer(); got != "action=DUNNO" || err != nil {
			t.Errorf("a busy one: %q, %v", got, err)
		}
	}
}

// Shutdown closes the idle connections at once, lets a busy one finish
// its request and get its answer, then closes it.
func TestShutdown(t *testing.T) {
	st, _ := newStore(t)
	srv, err := New(Config{Source: st})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	f := &fixture{t: t, addr: ln.Addr().String()}
	idle, busy := f.dial(), f.dial()
	idle.ask(req("a", "RCPT"))
	busy.ask(req("a", "RCPT"))
	f.waitFor(func() bool { return srv.count(stateIdle) == 2 })
	busy.send("request=smtpd_access_policy\n")
	// wait until the server holds the begun request
	f.waitFor(func() bool { return srv.busy(1) })
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	idle.closed()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request unanswered", err)
	default:
	}
	busy.send("sasl_username=bob\n\n")
	if got, err := busy.answer(); got != "action=DUNNO" || err != nil {
		t.Fatalf("the busy one: %q, %v", got, err)
	}
	busy.closed()
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != ErrServerClosed {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", f.addr); err == nil {
		t.Error("still listening")
	}
}

// busy tells whether n connections are in the middle of a request.
func (s *Server) busy(n int) bool { return s.count(stateBusy) == n }

// count counts the connections in a state.
func (s *Server) count(state int32) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := 0
	for c := range s.conns {
		if c.state.Load() == state {
			k++
		}
	}
	return k
}

// waitFor polls cond to a deadline.
func (f *fixture) waitFor(cond func() bool) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			f.t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

// Shutdown's deadline closes what is left: a connection in the middle of
// a request. (It waits for the connection to be idle after a first
// request, then for the second to begin: a new connection is busy, the
// zero state, before it reads anything, and one that Shutdown finds so
// ends at once, which made Shutdown return nil now and then.)
func TestShutdownDeadline(t *testing.T) {
	f := start(t, Config{})
	c := f.dial()
	c.ask(req("", "RCPT"))
	f.waitFor(func() bool { return f.srv.count(stateIdle) == 1 })
	c.send("request=smtpd_access_policy\n")
	f.waitFor(func() bool { return f.srv.busy(1) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.srv.Shutdown(ctx); err != context.Canceled {
		t.Fatalf("Shutdown = %v", err)
	}
	c.closed()
}

func TestLoginEvents(t *testing.T) {
	var mu sync.Mutex
	var got []*record.Record
	f := start(t, Config{OnLogin: func(r *record.Record) { mu.Lock(); got = append(got, r); mu.Unlock() }})
	c := f.dial()
	// one mail to two recipients, then DATA: one login; the next mail another
	c.ask(req("Bob@Example.test", "RCPT", "instance=a1", "client_port=4711", "client_name=mail.example.net", "queue_id="))
	c.ask(req("Bob@Example.test", "RCPT", "instance=a1"))
	c.ask(req("Bob@Example.test", "DATA", "instance=a1"))
	c.ask(req("", "RCPT", "instance=a2"))
	f.clock.advance(time.Minute)
	c.ask(strings.Replace(req("bob@example.test", "END-OF-MESSAGE", "instance=a3", "queue_id=4XyZ1"), "192.0.2.7", "::ffff:198.51.100.9", 1))
	// without an instance (not Postfix): one per request
	c.ask(req("carol", "RCPT"))
	c.ask(req("carol", "RCPT"))
	mu.Lock()
	defer mu.Unlock()
	var lines []string
	for _, r := range got {
		lines = append(lines, fmt.Sprintf("%s %s %s %s %s %s %d %s %s %s", r.Type, r.Time.Format(time.TimeOnly), r.User, r.IP, r.Service, r.Command, r.Port, r.ClientName, r.QueueID, r.Method))
	}
	want := []string{
		"policy_login 14:00:00 bob@example.test 192.0.2.7 policy RCPT 4711 mail.example.net  PLAIN",
		"policy_login 14:01:00 bob@example.test 198.51.100.9 policy END-OF-MESSAGE 0  4XyZ1 PLAIN",
		"policy_login 14:01:00 carol 192.0.2.7 policy RCPT 0   PLAIN",
		"policy_login 14:01:00 carol 192.0.2.7 policy RCPT 0   PLAIN",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestListenUnix(t *testing.T) {
	dir, err := os.MkdirTemp("", "lp") // short: a socket path is limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "policy")
	ln, err := Listen("unix:" + path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o666 {
		t.Errorf("socket mode: %v %v", fi.Mode(), err)
	}
	if _, err := Listen("unix:" + path); err == nil || !strings.Contains(err.Error(), "another process is listening") {
		t.Errorf("a live socket: %v", err)
	}
	st, _ := newStore(t)
	st.AddBlock(context.Background(), state.Block{User: "bob", Created: t0})
	srv, _ := New(Config{Source: st})
	go srv.Serve(ln)
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	cl := &client{t: t, c: c, br: bufio.NewReader(c)}
	if got := cl.ask(req("bob", "RCPT")); got != "action="+DefaultAction {
		t.Errorf("over the socket: %q", got)
	}
	c.Close()
	srv.Shutdown(context.Background())
	// a socket left behind by a dead process is replaced; a file is not
	l2, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l2.(*net.UnixListener).SetUnlinkOnClose(false)
	l2.Close()
	ln, err = Listen("unix:" + path)
	if err != nil {
		t.Fatalf("a stale socket: %v", err)
	}
	ln.Close()
	os.WriteFile(path, nil, 0o600)
	if _, err := Listen("unix:" + path); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("a file: %v", err)
	}
	for _, a := range []string{"unix:", "10040", "127.0.0.1"} {
		if _, err := Listen(a); err == nil {
			t.Errorf("Listen(%q) accepted", a)
		}
	}
	for a, want := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "localhost:1": true, "unix:/x": true, "0.0.0.0:1": false, "192.0.2.1:1": false, ":1": false} {
		if Loopback(a) != want {
			t.Errorf("Loopback(%q) != %v", a, want)
		}
	}
}
