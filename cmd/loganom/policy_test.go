package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
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
	"github.com/loganom/loganom/pkg/state/pgtest"
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
// reject): an account blocked through the HTTP API (a PUT with a token,
// served by the same loganom serve) is refused with the configured text,
// a free one accepted; unblocked with the command, it is accepted again;
// both with an SQLite and a PostgreSQL state; with the state unreadable,
// mail flows (on_error = dunno), or is deferred (on_error = defer, here on
// a unix socket). It needs root, postfix and swaks; CI installs them and
// sets LOGANOM_REQUIRE_POSTFIX=1, so it does not skip there.
func TestPolicyRealPostfix(t *testing.T) {
	postfixlab.Require(t)
	root, _ := filepath.Abs("../..")
	dir := postfixlab.Dir(t)
	lab := filepath.Join(dir, "lab")
	base, labCmd := postfixlab.Start(t, filepath.Join(root, "scripts/postfix-lab"), lab)
	labCmd("adduser", lab, "bob@example.test", "bob-pw")
	labCmd("adduser", lab, "alice@example.test", "alice-pw")
	submission := strconv.Itoa(base + 587)

	db := filepath.Join(dir, "state.db")
	conf := filepath.Join(dir, "empty.ini")
	os.WriteFile(conf, nil, 0o644)
	tokens := filepath.Join(dir, "api-tokens")
	const token = "postmaster-5f0c3b1e9a7d4c2b8e6f1a3d5c7b9e0f"
	if err := os.WriteFile(tokens, []byte("postmaster "+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	loganomDB := func(db string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := loganomcmd.Main(cli.Env{Args: append(args, "--db", db, "-c", conf), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}); code != 0 {
			t.Fatalf("loganom %v: exit %d\n%s", args, code, errb.String())
		}
		return out.String()
	}
	loganom := func(args ...string) string { t.Helper(); return loganomDB(db, args...) }
	loganom("block", "carol@example.test") // makes the state

	// serve runs loganom serve on db until stop; api, when it listens,
	// is the API's base URL.
	serve := func(db string, flags blockcmd.PolicyFlags, apiFlags blockcmd.APIFlags) (addr, api string, log *lockedBuf, stop func()) {
		t.Helper()
		log = &lockedBuf{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		c := &blockcmd.ServeCmd{Config: conf, DB: db, PolicyFlags: flags, APIFlags: apiFlags}
		go func() {
			done <- blockcmd.ServeContext(ctx, cli.Env{Stdout: log, Stderr: log, Getenv: func(string) string { return "" }}, &cli.Logger{Prog: "loganom", W: log}, c)
		}()
		stop = func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("serve: exit %d\n%s", code, log)
			}
		}
		re := regexp.MustCompile(`msg="policy: listening" prog=loganom addr=(\S+)`)
		reAPI := regexp.MustCompile(`msg="api: listening" prog=loganom addr=(\S+)`)
		deadline := time.Now().Add(20 * time.Second)
		for {
			m, ma := re.FindStringSubmatch(log.String()), reAPI.FindStringSubmatch(log.String())
			if m != nil && (ma != nil || !apiFlags.Enabled()) {
				if ma != nil {
					api = ma[1]
				}
				return m[1], api, log, stop
			}
			select {
			case code := <-done:
				t.Fatalf("serve exited with %d:\n%s", code, log)
			default:
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
	// call sends an API request with token ("": none).
	call := func(method, url, token, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	const action = "REJECT 5.7.1 blocked by loganom: call the helpdesk"
	refused := regexp.MustCompile(`(?m)^<\*\* +554 5\.7\.1 <friend@example\.net>: Recipient address rejected: blocked by loganom: call the helpdesk`)
	// bob blocked through the API, unblocked with the command: with each
	// backend of the state (PostgreSQL where the state's tests run it: with
	// LOGANOM_TEST_PG, and always in CI, where pgtest.DSN fails without it)
	backends := []string{"sqlite"}
	if os.Getenv(pgtest.Env) != "" || os.Getenv("CI") != "" {
		backends = append(backends, "postgres")
	} else {
		t.Logf("the API with PostgreSQL not tested: %s is not set", pgtest.Env)
	}
	for _, backend := range backends {
		func() {
			bdb := db
			if backend == "postgres" {
				bdb = pgtest.DSN(t)
				loganomDB(bdb, "db", "migrate")
			}
			addr, api, _, stop := serve(bdb, blockcmd.PolicyFlags{Listen: "127.0.0.1:0", Action: action, Refresh: 200 * time.Millisecond},
				blockcmd.APIFlags{APIListen: "127.0.0.1:0", APITokenFile: tokens})
			defer stop()
			usePolicy("inet:" + addr)
			if out := send("bob"); !accepted.MatchString(out) {
				t.Fatalf("bob, not blocked yet:\n%s", out)
			}
			// a wrong token changes nothing
			if code, body := call("PUT", api+"/v1/blocks/bob@example.test", "postmaster-wrong-token-0000000000000000", `{"reason":"x"}`); code != 401 {
				t.Fatalf("a wrong token: %d %s", code, body)
			}
			if code, body := call("PUT", api+"/v1/blocks/Bob@example.test", token, `{"reason":"botnet","for":"1h"}`); code != 201 {
				t.Fatalf("PUT: %d %s", code, body)
			}
			expect("bob", refused)
			if out := send("alice"); !accepted.MatchString(out) {
				t.Fatalf("alice, not blocked:\n%s", out)
			}
			// unblocked with the command: the next mail (after a refresh) passes
			loganomDB(bdb, "unblock", "bob@example.test", "--reason", "password changed")
			expect("bob", accepted)
			audit := loganomDB(bdb, "blocks", "--audit")
			if !regexp.MustCompile(`(?m)^\S+ \S+ unblock bob@example.test by \S+: password changed\n\S+ \S+ block bob@example.test by api:postmaster \(manual\), until \S+ \S+: botnet$`).MatchString(audit) {
				t.Errorf("%s: audit:\n%s", backend, audit)
			}
		}()
	}

	addr, _, log, stop := serve(db, blockcmd.PolicyFlags{Listen: "127.0.0.1:0", Action: action, Refresh: 200 * time.Millisecond}, blockcmd.APIFlags{})
	usePolicy("inet:" + addr)
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
	_, _, log, stop = serve(db, blockcmd.PolicyFlags{Listen: "unix:" + sock, OnError: "defer", Refresh: 200 * time.Millisecond}, blockcmd.APIFlags{})
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
	stop()

	// The unix socket as the README and the unit's comment set it up for
	// an smtpd chrooted in the queue directory (Debian's master.cf): in a
	// directory of its own under the queue directory, named in main.cf
	// relative to it, which smtpd's working directory is, chrooted or not
	// (this lab's smtpd is not).
	spool := filepath.Join(lab, "queue", "loganom")
	if err := os.Mkdir(spool, 0o750); err != nil {
		t.Fatal(err)
	}
	// install -d -g postfix -m 0750: Postfix may enter it, other users not
	grp, err := user.LookupGroup("postfix")
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(grp.Gid)
	if err := os.Chown(spool, -1, gid); err != nil {
		t.Fatal(err)
	}
	_, _, _, stop = serve(db, blockcmd.PolicyFlags{Listen: "unix:" + filepath.Join(spool, "policy"), Refresh: 200 * time.Millisecond}, blockcmd.APIFlags{})
	usePolicy("unix:loganom/policy")
	expect("alice", accepted)
	expect("bob", regexp.MustCompile(`(?m)^<\*\* +554 5\.7\.1 <friend@example\.net>: Recipient address rejected: account temporarily blocked`))
	if maillog, _ := os.ReadFile(filepath.Join(lab, "maillog")); strings.Contains(string(maillog), "warning: problem talking to server") || strings.Contains(string(maillog), "connect to loganom/policy") {
		t.Errorf("Postfix had trouble with the service on loganom/policy:\n%s", maillog)
	}

	// The service gone (stopped for a restart or an upgrade, a daemon
	// that waits for its log): Postfix's own default defers every
	// authenticated mail (451 4.3.5); with the README's default_action =
	// DUNNO, mail flows, as with on_error = dunno while the state cannot
	// be read.
	stop()
	expect("alice", regexp.MustCompile(`(?m)^<\*\* +451 4\.3\.5 `))
	usePolicy("{ unix:loganom/policy, default_action=DUNNO }")
	expect("alice", accepted)
	_, _, _, stop = serve(db, blockcmd.PolicyFlags{Listen: "unix:" + filepath.Join(spool, "policy"), Refresh: 200 * time.Millisecond}, blockcmd.APIFlags{})
	defer stop()
	expect("bob", regexp.MustCompile(`(?m)^<\*\* +554 5\.7\.1 <friend@example\.net>: Recipient address rejected: account temporarily blocked`))
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
