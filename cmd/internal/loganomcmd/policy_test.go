package loganomcmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
)

// botnet are addresses of the bundled example databases in six countries
// (BA, ES, HU, LT, PL, RS).
var botnet = []string{"92.36.10.20", "188.76.17.119", "176.63.195.207", "188.69.195.171", "195.242.178.3", "87.116.180.5"}

// policyClient is a Postfix smtpd asking the policy service.
type policyClient struct {
	t  *testing.T
	c  net.Conn
	rd *bufio.Reader
}

func dialPolicy(t *testing.T, addr string) *policyClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &policyClient{t: t, c: c, rd: bufio.NewReader(c)}
}

// ask sends one RCPT request and returns the action.
func (p *policyClient) ask(user, ip, instance string) string {
	p.t.Helper()
	req := fmt.Sprintf("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=%s\nclient_name=unknown\nsasl_method=LOGIN\nsasl_username=%s\ninstance=%s\nrecipient=someone@example.net\n\n", ip, user, instance)
	p.c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(p.c, req); err != nil {
		p.t.Fatal(err)
	}
	var action string
	for {
		l, err := p.rd.ReadString('\n')
		if err != nil {
			p.t.Fatal(err)
		}
		if l == "\n" {
			return action
		}
		action = strings.TrimPrefix(strings.TrimSpace(l), "action=")
	}
}

var listenRE = regexp.MustCompile(`policy: listening on ([0-9.:]+);`)

// startDaemon runs loganom postfix-sasl --follow with args, and returns its
// stdout's lines, stderr and exit code's channel once it follows.
func startDaemon(t *testing.T, args ...string) (<-chan string, *syncbuf.Buffer, <-chan int) {
	t.Helper()
	outR, outW := io.Pipe()
	stderr := &syncbuf.Buffer{}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	code := make(chan int, 1)
	args = append([]string{"postfix-sasl", "--follow", "--no-cache", "--no-rdns", "--format", "json"}, args...)
	go func() {
		c := Main(cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: outW, Stderr: stderr, Getenv: func(string) string { return "" }})
		outW.Close()
		code <- c
	}()
	waitFor(t, "the daemon to start", func() bool {
		select {
		case c := <-code:
			t.Fatalf("exit %d\n%s", c, stderr)
		default:
		}
		return strings.Contains(stderr.String(), "following")
	})
	return lines, stderr, code
}

func stopDaemon(t *testing.T, stderr *syncbuf.Buffer, code <-chan int) int {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "SIGTERM caught", func() bool { return strings.Contains(stderr.String(), "stopping") })
	select {
	case c := <-code:
		return c
	case <-time.After(30 * time.Second):
		t.Fatal("SIGTERM did not stop it")
	}
	return -1
}

// TestFollowPolicyOnlyAutoBlock: with [POLICY] listen and no log named,
// the daemon reads no log: the policy service's logins (policy_login)
// are judged as the log's are; bob's mail from six countries raises a
// high alert, which blocks him at once ([BLOCK] auto), and the service,
// reading the blocks again every [POLICY] refresh, refuses his next mail
// with the configured action. The alert says he was blocked, until when
// and how to lift it.
func TestFollowPolicyOnlyAutoBlock(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.ini")
	liveConfig(t, cfg, "", "")
	extra := "\n[POLICY]\nlisten = 127.0.0.1:0\naction = 554 5.7.1 blocked by loganom\nrefresh = 200ms\n\n[BLOCK]\nauto = true\nfor = 2h\n"
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(extra)
	f.Close()
	db := filepath.Join(dir, "state.db")
	lines, stderr, code := startDaemon(t, "-c", cfg, "--db", db)
	m := listenRE.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no listening line:\n%s", stderr)
	}
	if !strings.Contains(stderr.String(), "no log read") {
		t.Errorf("the daemon does not say it reads no log:\n%s", stderr)
	}
	pc := dialPolicy(t, m[1])
	// alice sends from home: no alert, never blocked
	if a := pc.ask("alice@example.test", botnet[0], "a1"); a != "DUNNO" {
		t.Fatalf("alice: %q, want DUNNO", a)
	}
	for i, ip := range botnet {
		if a := pc.ask("bob@example.test", ip, fmt.Sprintf("b%d", i)); a != "DUNNO" {
			t.Fatalf("bob's mail %d: %q before any alert, want DUNNO\n%s", i, a, stderr)
		}
	}
	var alert map[string]any
	select {
	case l := <-lines:
		if err := json.Unmarshal([]byte(l), &alert); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no alert\n%s", stderr)
	}
	if alert["user"] != "bob@example.test" || alert["severity"] != "high" {
		t.Fatalf("alert %v, want bob, high", alert)
	}
	blocked, _ := alert["blocked"].(map[string]any)
	if blocked == nil || blocked["by"] != "loganom auto-block" || blocked["until"] == nil ||
		!strings.Contains(fmt.Sprint(blocked["lift"]), "loganom unblock bob@example.test") {
		t.Fatalf("the alert does not say bob was blocked: %v", alert)
	}
	until, err := time.Parse(time.RFC3339Nano, blocked["until"].(string))
	if err != nil || until.Before(time.Now().Add(time.Hour)) || until.After(time.Now().Add(2*time.Hour+time.Minute)) {
		t.Errorf("blocked until %v (%v), want about 2h from now", blocked["until"], err)
	}
	// the next mail is refused, within the refresh
	start := time.Now()
	for n := 0; ; n++ {
		a := pc.ask("bob@example.test", botnet[0], fmt.Sprintf("c%d", n))
		if a == "554 5.7.1 blocked by loganom" {
			break
		}
		if a != "DUNNO" || time.Since(start) > 10*time.Second {
			t.Fatalf("bob's next mail: %q after %s\n%s", a, time.Since(start), stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("refused %s after the alert", time.Since(start))
	if a := pc.ask("alice@example.test", botnet[0], "a2"); a != "DUNNO" {
		t.Errorf("alice: %q, want DUNNO", a)
	}
	if c := stopDaemon(t, stderr, code); c != 0 {
		t.Fatalf("exit %d\n%s", c, stderr)
	}
	if !strings.Contains(stderr.String(), `msg="auto-block: bob@example.test: blocked until`) {
		t.Errorf("no log line for the block:\n%s", stderr)
	}
	// the block is in the state, with its audit
	var out, errb syncbuf.Buffer
	if c := Main(cli.Env{Args: []string{"blocks", "--db", db, "--audit"}, Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}); c != 0 {
		t.Fatalf("blocks --audit: %d %s", c, &errb)
	}
	if !strings.Contains(out.String(), "block bob@example.test by loganom auto-block (automatic)") || strings.Contains(out.String(), "alice") {
		t.Errorf("audit:\n%s", &out)
	}
}

// plan: the policy service runs with --follow and [POLICY] listen; its
// logins are judged by default only when no log is read, and then no log
// is read at all.
func TestPolicyPlan(t *testing.T) {
	for _, c := range []struct {
		listen, logins   string
		follow, logNamed bool
		want             policyPlan
		bad              bool
	}{
		{"", "", true, false, policyPlan{}, false},
		{"127.0.0.1:10040", "", false, false, policyPlan{}, false}, // batch: no service
		{"127.0.0.1:10040", "", true, false, policyPlan{listen: true, logins: true, noLog: true}, false},
		{"127.0.0.1:10040", "auto", true, true, policyPlan{listen: true}, false},
		{"127.0.0.1:10040", "yes", true, true, policyPlan{listen: true, logins: true}, false},
		{"127.0.0.1:10040", "no", true, false, policyPlan{listen: true}, false},
		{"127.0.0.1:10040", "maybe", true, false, policyPlan{}, true},
	} {
		k := PolicyKeys{Logins: c.logins}
		k.Listen = c.listen
		got, err := k.plan(c.follow, c.logNamed)
		if (err != nil) != c.bad || !c.bad && got != c.want {
			t.Errorf("%+v: got %+v, %v; want %+v (error %v)", c, got, err, c.want, c.bad)
		}
	}
}

// [POLICY] logins = yes with a log: the log's logins and the policy
// service's meet in one detector, through the pipeline's lock: bob at
// home in the log, then mail from abroad through the service, is an
// impossible trip; he is blocked, and his next mail refused.
func TestFollowPolicyLoginsWithLog(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.ini")
	liveConfig(t, cfg, "", "")
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n[POLICY]\nlisten = 127.0.0.1:0\nlogins = yes\nrefresh = 100ms\n\n[BLOCK]\nauto = true\n")
	f.Close()
	now := time.Now().UTC()
	in, lines, stderr, code := runFollow(t, "-c", cfg, "--db", filepath.Join(dir, "state.db"), "--year", strconv.Itoa(now.Year()))
	m := listenRE.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no listening line:\n%s", stderr)
	}
	var b strings.Builder
	for d := 3; d >= 1; d-- {
		b.WriteString(liveLine(now.Add(-time.Duration(d)*24*time.Hour), "bob@example.test", saoPaulo))
	}
	b.WriteString(liveLine(now.Add(-10*time.Minute), "bob@example.test", saoPaulo))
	if _, err := io.WriteString(in, b.String()); err != nil {
		t.Fatal(err)
	}
	// the log's logins read and recorded, before the service's
	db := filepath.Join(dir, "state.db")
	waitFor(t, "the log's logins recorded", func() bool {
		var out, errb syncbuf.Buffer
		Main(cli.Env{Args: []string{"history", "bob@example.test", "--db", db, "--format", "json"}, Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		return strings.Contains(out.String(), `"count":4`)
	})
	pc := dialPolicy(t, m[1])
	if a := pc.ask("bob@example.test", osaka, "x1"); a != "DUNNO" {
		t.Fatalf("bob from Osaka: %q before the alert", a)
	}
	a := nextAlert(t, lines)
	if a["user"] != "bob@example.test" || a["severity"] != "high" || a["blocked"] == nil {
		t.Fatalf("alert %v: want bob, high, blocked", a)
	}
	waitFor(t, "bob's mail refused", func() bool {
		return pc.ask("bob@example.test", osaka, "x2") == "REJECT 5.7.1 account temporarily blocked"
	})
	in.Close()
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit %d\n%s", c, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("did not stop at the end of its input:\n%s", stderr)
	}
}
