package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/loganomcmd"
	"github.com/loganom/loganom/pkg/state"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// The botnet's addresses: six countries in the bundled databases.
var botnet = []string{"92.36.10.20", "176.63.195.207", "188.76.17.119", "118.69.77.12", "41.203.64.7", "188.69.195.171"}

// stateLab is a mail log written in parts, the state, and a webhook that
// records what it receives, for loganom postfix-sasl --resume runs.
type stateLab struct {
	t        *testing.T
	dir      string
	log      string // the live log
	db       string
	cfg      string
	clock    time.Time
	written  map[string]int64 // logins written, per user
	hook     *hookRecorder
	instance string
}

func newStateLab(t *testing.T, db string) *stateLab {
	t.Helper()
	dir := t.TempDir()
	l := &stateLab{t: t, dir: dir, log: filepath.Join(dir, "mail.log"), db: db,
		// days ago, not a fixed date: [STATE] keep prunes what is older
		// than 180 days
		clock: time.Now().UTC().Truncate(time.Hour).Add(-10 * 24 * time.Hour), written: map[string]int64{}, hook: newHookRecorder(t)}
	if l.db == "" {
		l.db = filepath.Join(dir, "state.db")
	}
	l.writeConfig("mx1")
	if err := os.WriteFile(l.log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *stateLab) writeConfig(instance string) {
	l.t.Helper()
	root, _ := filepath.Abs("../..")
	l.instance = instance
	l.cfg = filepath.Join(l.dir, instance+".ini")
	cfg := fmt.Sprintf(`[ENRICH]
geoip = %[1]s/testdata/geo/example-city.mmdb
    %[1]s/testdata/geo/example-asn.mmdb
rdns = false
[WEBHOOK]
enabled = true
url = %[2]s
[NOTIFY]
attempts = 1
[STATE]
instance = %[3]s
`, root, l.hook.srv.URL, instance)
	if err := os.WriteFile(l.cfg, []byte(cfg), 0o600); err != nil {
		l.t.Fatal(err)
	}
}

// appendConfig adds text to the config.
func (l *stateLab) appendConfig(text string) {
	l.t.Helper()
	f, err := os.OpenFile(l.cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString(text)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		l.t.Fatal(err)
	}
}

// login appends a login line to the live log, a minute after the last.
func (l *stateLab) login(user, ip string) {
	l.t.Helper()
	l.loginTo(l.log, user, ip)
}

func (l *stateLab) loginTo(path, user, ip string) {
	l.t.Helper()
	l.clock = l.clock.Add(time.Minute)
	line := fmt.Sprintf("%s mail postfix/submission/smtpd[%d]: %X: client=unknown[%s]:%d, sasl_method=PLAIN, sasl_username=%s\n",
		l.clock.Format("2006-01-02T15:04:05.000000-07:00"), 1000+len(l.written), l.clock.UnixNano()&0xffffffffff, ip, 40000+l.clock.Minute(), user)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		l.t.Fatal(err)
	}
	if _, err := f.WriteString(line); err != nil {
		l.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		l.t.Fatal(err)
	}
	l.written[user]++
}

// part writes the logins of an ordinary hour: two users from one
// address each, the botnet with victim's password when victim is not
// empty.
func (l *stateLab) part(victims ...string) {
	l.login("carol@example.test", "187.45.12.9")
	l.login("dave@example.test", "177.66.162.138")
	for _, v := range victims {
		for _, ip := range botnet {
			l.login(v, ip)
		}
	}
	l.login("carol@example.test", "187.45.12.9")
}

// run runs loganom postfix-sasl --resume in-process.
func (l *stateLab) run(extra ...string) (int, string, string) {
	l.t.Helper()
	// Cron runs are minutes apart from the writes and rotations before
	// them, not microseconds as here: a mark says its log was read a
	// little earlier than it was (parse's readSlack, 20 ms, for the
	// files' coarse clock), and a rotated file last written within that
	// is taken for one written since (pkg/parse's logSim waits alike).
	time.Sleep(30 * time.Millisecond)
	var stdout, stderr bytes.Buffer
	args := append([]string{"postfix-sasl", "-c", l.cfg, "-l", l.log, "--resume", "--db", l.db, "--exit-code"}, extra...)
	code := loganomcmd.Main(cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: os.Getenv})
	return code, stdout.String(), stderr.String()
}

// history sums the state's history per user.
func (l *stateLab) history(users ...string) map[string]int64 {
	l.t.Helper()
	st, err := state.Open(context.Background(), l.db, state.Options{})
	if err != nil {
		l.t.Fatal(err)
	}
	defer st.Close()
	got := map[string]int64{}
	for _, u := range users {
		addrs, err := st.History(context.Background(), u)
		if err != nil {
			l.t.Fatal(err)
		}
		for _, a := range addrs {
			got[u] += a.Count
		}
	}
	return got
}

func (l *stateLab) checkHistory() {
	l.t.Helper()
	var users []string
	for u := range l.written {
		users = append(users, u)
	}
	got := l.history(users...)
	for _, u := range users {
		if got[u] != l.written[u] {
			l.t.Errorf("history of %s: %d logins, want %d (the lines written)", u, got[u], l.written[u])
		}
	}
}

// hookRecorder is a webhook receiver: it records, per account, the alert
// keys (Idempotency-Key) it was sent, and can be set to fail.
type hookRecorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	down bool
	got  map[string][]string // user -> keys, one per request naming it
}

func newHookRecorder(t *testing.T) *hookRecorder {
	h := &hookRecorder{got: map[string][]string{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var body struct {
			Accounts []struct {
				User string `json:"user"`
			} `json:"accounts"`
		}
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &body); err != nil {
			t.Errorf("webhook: %v: %s", err, data)
		}
		for _, a := range body.Accounts {
			h.got[a.User] = append(h.got[a.User], r.Header.Get("Idempotency-Key"))
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookRecorder) setDown(down bool) {
	h.mu.Lock()
	h.down = down
	h.mu.Unlock()
}

// alerts returns, per user, how many requests named it and the distinct
// alert numbers among their keys ("alert-3-5.webhook": 3 and 5).
func (h *hookRecorder) alerts() (requests map[string]int, ids map[string][]string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	requests, ids = map[string]int{}, map[string][]string{}
	for u, keys := range h.got {
		requests[u] = len(keys)
		for _, k := range keys {
			k = strings.TrimSuffix(strings.TrimPrefix(k, "alert-"), ".webhook")
			for _, id := range strings.Split(k, "-") {
				if !slices.Contains(ids[u], id) {
					ids[u] = append(ids[u], id)
				}
			}
		}
	}
	return requests, ids
}

func rename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func gzipFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	if err := os.WriteFile(to, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// as logrotate does: the compressed file keeps the times of the one
	// it was made from (--resume tells the files written since by them)
	fi, err := os.Stat(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(to, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(from); err != nil {
		t.Fatal(err)
	}
}

// TestCronSimulation: a log written in six parts, rotated between runs
// by rename and create, by copytruncate and with delaycompress (and
// compress), read by six cron runs with --resume. Every login is counted
// once in the history; the account the botnet uses from the first part
// on is alerted once, in run 1; one compromised only in part 5 is
// alerted in run 5; accounts already alerted are marked in the report.
func TestCronSimulation(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			db := ""
			if backend == "postgres" {
				db = pgtest.DSN(t)
			}
			l := newStateLab(t, db)
			log1, log2gz := l.log+".1", l.log+".2.gz"
			type step struct {
				name   string
				before func() // writes the part, rotating on the way
				alerts map[string]int
			}
			steps := []step{
				{"first run reads the file whole", func() { l.part("victim@example.test") }, map[string]int{"victim@example.test": 1}},
				{"rename and create", func() {
					l.part("victim@example.test")
					rename(t, l.log, log1)
					l.part("victim@example.test")
				}, map[string]int{"victim@example.test": 1}},
				{"copytruncate", func() {
					l.part()
					data, err := os.ReadFile(l.log)
					if err != nil {
						t.Fatal(err)
					}
					os.WriteFile(log1, data, 0o644)
					os.Truncate(l.log, 0)
					l.part("victim@example.test")
				}, map[string]int{"victim@example.test": 1}},
				{"delaycompress", func() {
					l.part()
					gzipFile(t, log1, log2gz)
					rename(t, l.log, log1)
					l.part()
				}, map[string]int{"victim@example.test": 1}},
				{"delaycompress again, a new victim", func() {
					l.part("late@example.test")
					os.Remove(log2gz)
					gzipFile(t, log1, log2gz)
					rename(t, l.log, log1)
					l.part("late@example.test")
				}, map[string]int{"victim@example.test": 1, "late@example.test": 1}},
				{"appended", func() { l.part("victim@example.test", "late@example.test") }, map[string]int{"victim@example.test": 1, "late@example.test": 1}},
			}
			for i, s := range steps {
				s.before()
				code, stdout, stderr := l.run()
				if i == 0 || i == 4 {
					if code != cli.ExitAnomalies {
						t.Fatalf("run %d (%s): exit %d, want 3 (a new alert)\nstdout:\n%s\nstderr:\n%s", i+1, s.name, code, stdout, stderr)
					}
				} else if code != cli.ExitOK {
					t.Fatalf("run %d (%s): exit %d, want 0 (nothing new)\nstdout:\n%s\nstderr:\n%s", i+1, s.name, code, stdout, stderr)
				}
				if stderr != "" {
					t.Errorf("run %d (%s): stderr:\n%s", i+1, s.name, stderr)
				}
				reqs, ids := l.hook.alerts()
				for _, u := range []string{"victim@example.test", "late@example.test", "carol@example.test", "dave@example.test"} {
					if len(ids[u]) != s.alerts[u] || reqs[u] != s.alerts[u] {
						t.Errorf("after run %d (%s): %s alerted %d times (%d alerts), want %d", i+1, s.name, u, reqs[u], len(ids[u]), s.alerts[u])
					}
				}
				if i > 0 && strings.Contains(stdout, "victim@example.test:") && !strings.Contains(stdout, "already alerted") {
					t.Errorf("run %d: the victim, alerted in run 1, is not marked:\n%s", i+1, stdout)
				}
				l.checkHistory()
			}
		})
	}
}

// TestOutage: the notification channel is down in run 1 and up in run 2:
// the alert is kept pending, and arrives once, in run 2, which has no new
// line to read; a third run sends nothing.
func TestOutage(t *testing.T) {
	l := newStateLab(t, "")
	l.part("victim@example.test")
	l.hook.setDown(true)
	code, stdout, stderr := l.run()
	if code != cli.ExitAnomalies {
		t.Fatalf("run 1: exit %d, want 3\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "notify webhook") || !strings.Contains(stderr, "the next run tries again") {
		t.Errorf("run 1: stderr does not say the alert will be sent again:\n%s", stderr)
	}
	if reqs, _ := l.hook.alerts(); len(reqs) != 0 {
		t.Fatalf("run 1 delivered %v while the webhook was down", reqs)
	}
	l.hook.setDown(false)
	for run := 2; run <= 3; run++ {
		code, stdout, stderr = l.run()
		if code != cli.ExitOK || stderr != "" {
			t.Errorf("run %d: exit %d\n%s\n%s", run, code, stdout, stderr)
		}
		if reqs, ids := l.hook.alerts(); reqs["victim@example.test"] != 1 || len(ids["victim@example.test"]) != 1 {
			t.Errorf("after run %d: the victim was sent %d times, want once", run, reqs["victim@example.test"])
		}
	}
	var out bytes.Buffer
	if code := loganomcmd.Main(cli.Env{Args: []string{"alerts", "--db", l.db, "-c", l.cfg}, Stdout: &out, Stderr: &out, Getenv: os.Getenv}); code != 0 {
		t.Fatalf("loganom alerts: exit %d\n%s", code, &out)
	}
	if !strings.Contains(out.String(), "webhook: sent") {
		t.Errorf("loganom alerts does not show the delivery:\n%s", &out)
	}
}

// TestGiveUp: a channel down for longer than [NOTIFY] give_up_after: the
// alert is given up, said so, and not tried again.
func TestGiveUp(t *testing.T) {
	l := newStateLab(t, "")
	cfg, _ := os.ReadFile(l.cfg)
	os.WriteFile(l.cfg, bytes.Replace(cfg, []byte("[NOTIFY]\n"), []byte("[NOTIFY]\ngive_up_after = 1ms\n"), 1), 0o600)
	l.part("victim@example.test")
	l.hook.setDown(true)
	code, _, stderr1 := l.run()
	if code != cli.ExitAnomalies {
		t.Fatalf("run 1: exit %d\n%s", code, stderr1)
	}
	// The alert is given up at the first failure after it is 1 ms old:
	// in run 1 already, or in run 2.
	code, _, stderr2 := l.run()
	if !strings.Contains(stderr1+stderr2, "given up") {
		t.Errorf("neither run says the alert was given up:\n%s\n%s", stderr1, stderr2)
	}
	if strings.Contains(stderr1, "given up") && (code != cli.ExitOK || stderr2 != "") {
		t.Errorf("run 2, after the alert was given up: exit %d\n%s", code, stderr2)
	}
	l.hook.setDown(false)
	if code, _, stderr := l.run(); code != cli.ExitOK || stderr != "" {
		t.Errorf("run 3: exit %d\n%s", code, stderr)
	}
	if reqs, _ := l.hook.alerts(); len(reqs) != 0 {
		t.Errorf("a given-up alert was sent: %v", reqs)
	}
}

// loganomExe is this test binary under the name loganom: testscript.Main
// (TestMain) runs the loganom command for it, in a process of its own.
func loganomExe(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(t.TempDir(), "loganom")
	if err := os.Symlink(self, exe); err != nil {
		t.Fatal(err)
	}
	return exe
}

// TestKill9: runs killed with SIGKILL at random moments, 20 times, each
// followed by a normal run, over a log that grows between them with a
// new compromised account each time: no login is counted twice or lost,
// and every compromised account is alerted with exactly one alert (a
// resend after a kill between the webhook's answer and the recording of
// it carries the same key, which a receiver can tell).
func TestKill9(t *testing.T) {
	exe := loganomExe(t)
	l := newStateLab(t, "")
	cmd := func() *exec.Cmd {
		c := exec.Command(exe, "postfix-sasl", "-c", l.cfg, "-l", l.log, "--resume", "--db", l.db)
		c.Env = append(os.Environ(), "LOGLEVEL=")
		return c
	}
	// How long a run takes, to kill within it.
	l.part("victim0@example.test")
	start := time.Now()
	if out, err := cmd().CombinedOutput(); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	span := time.Since(start)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	killed := 0
	for i := 1; i <= 20; i++ {
		for range 20 {
			l.part()
		}
		l.part(fmt.Sprintf("victim%d@example.test", i))
		c := cmd()
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rng.Int64N(int64(span)))
		timer := time.AfterFunc(delay, func() { c.Process.Signal(syscall.SIGKILL) })
		err := c.Wait()
		if timer.Stop() {
			t.Logf("round %d: the run ended before its kill at %v", i, delay)
		} else {
			killed++
		}
		_ = err
		if out, err := cmd().CombinedOutput(); err != nil {
			t.Fatalf("round %d: the run after the kill: %v\n%s", i, err, out)
		}
	}
	t.Logf("%d of 20 runs killed (runs take about %v)", killed, span)
	l.checkHistory()
	reqs, ids := l.hook.alerts()
	for i := 0; i <= 20; i++ {
		u := fmt.Sprintf("victim%d@example.test", i)
		if len(ids[u]) != 1 {
			t.Errorf("%s: %d alerts (%v), want 1", u, len(ids[u]), ids[u])
		}
		if reqs[u] > 1 {
			t.Logf("%s: sent %d times with the same key (killed between the webhook's answer and the record of it)", u, reqs[u])
		}
	}
	for _, u := range []string{"carol@example.test", "dave@example.test"} {
		if reqs[u] != 0 {
			t.Errorf("%s alerted", u)
		}
	}
}

// TestTwoServersOnePostgres: two loganom processes, two mail servers'
// logs, one PostgreSQL, at the same time, five times over: the history is
// the union of the logs, and the account the botnet uses on both servers
// gets one alert.
func TestTwoServersOnePostgres(t *testing.T) {
	exe := loganomExe(t)
	for round := range 5 {
		dsn := pgtest.DSN(t)
		l := newStateLab(t, dsn)
		cfg1 := l.cfg
		l.writeConfig("mx2")
		cfg2 := l.cfg
		log2 := filepath.Join(l.dir, "mx2.log")
		for i := range 30 {
			l.loginTo(l.log, "carol@example.test", "187.45.12.9")
			l.loginTo(log2, "dave@example.test", "177.66.162.138")
			l.loginTo(l.log, "victim@example.test", botnet[i%3])
			l.loginTo(log2, "victim@example.test", botnet[3+i%3])
		}
		runTogether(t, exe, round,
			[]string{"postfix-sasl", "-c", cfg1, "-l", l.log, "--resume", "--db", dsn},
			[]string{"postfix-sasl", "-c", cfg2, "-l", log2, "--resume", "--db", dsn})
		l.checkHistory()
		st, err := state.Open(context.Background(), dsn, state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		addrs, err := st.History(context.Background(), "victim@example.test")
		st.Close()
		if err != nil || len(addrs) != 6 {
			t.Errorf("round %d: victim's history has %d addresses (%v), want the 6 of both servers", round, len(addrs), err)
		}
		if reqs, ids := l.hook.alerts(); reqs["victim@example.test"] != 1 || len(ids["victim@example.test"]) != 1 {
			t.Errorf("round %d: victim alerted %d times (%v), want once", round, reqs["victim@example.test"], ids["victim@example.test"])
		}
	}
}

// smtpSink is a real SMTP server (go-smtp) on loopback that counts the
// messages it accepts, by Message-ID.
type smtpSink struct {
	mu  sync.Mutex
	ids []string
}

func (s *smtpSink) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &sinkSession{s: s}, nil }

type sinkSession struct{ s *smtpSink }

func (*sinkSession) Reset()                                 {}
func (*sinkSession) Logout() error                          { return nil }
func (*sinkSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (*sinkSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (x *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	id := ""
	for _, line := range strings.Split(string(data), "\r\n") {
		if v, ok := strings.CutPrefix(line, "Message-ID: "); ok {
			id = v
		}
	}
	x.s.mu.Lock()
	x.s.ids = append(x.s.ids, id)
	x.s.mu.Unlock()
	return nil
}

// TestSMTPOutage: the mail server is down in run 1 (nothing listens on
// its port) and up in run 2: the alert's mail arrives once, in run 2.
func TestSMTPOutage(t *testing.T) {
	l := newStateLab(t, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // down: nothing listens
	cfg := fmt.Sprintf(`[ENRICH]
geoip = %[1]s/testdata/geo/example-city.mmdb
rdns = false
[SMTP]
enabled = true
host = 127.0.0.1
port = %[2]d
from = loganom@example.test
to = postmaster@example.test
[NOTIFY]
attempts = 1
`, mustAbs(t, "../.."), port)
	os.WriteFile(l.cfg, []byte(cfg), 0o600)
	l.part("victim@example.test")
	if code, _, stderr := l.run(); code != cli.ExitAnomalies || !strings.Contains(stderr, "notify smtp") {
		t.Fatalf("run 1: exit %d, want 3 and the failure on stderr:\n%s", code, stderr)
	}
	sink := &smtpSink{}
	srv := gosmtp.NewServer(sink)
	srv.Domain = "localhost"
	ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatalf("the port was taken meanwhile: %v", err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	if code, stdout, stderr := l.run(); code != cli.ExitOK || stderr != "" {
		t.Fatalf("run 2: exit %d\n%s\n%s", code, stdout, stderr)
	}
	l.run()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.ids) != 1 || !strings.HasPrefix(sink.ids[0], "<loganom.alert-") {
		t.Errorf("mails received: %q, want one, its Message-ID made of the alert", sink.ids)
	}
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestAttackAcrossRuns: a password used from one new address an hour,
// each hour read by its own --resume run: the second run sees one
// address only, but the history holds the first (within [REPORT] window),
// so the account is alerted then, and its report shows the earlier
// address, marked; a day later, outside the window, the same pattern
// starts afresh.
func TestAttackAcrossRuns(t *testing.T) {
	l := newStateLab(t, "")
	l.appendConfig("[REPORT]\nrule = original\n")
	l.login("slow@example.test", botnet[0])
	l.login("carol@example.test", "187.45.12.9")
	if code, stdout, stderr := l.run(); code != cli.ExitOK || stderr != "" {
		t.Fatalf("run 1: exit %d, want 0: one address is no anomaly\n%s\n%s", code, stdout, stderr)
	}
	l.clock = l.clock.Add(time.Hour)
	l.login("slow@example.test", botnet[1])
	code, stdout, stderr := l.run()
	if code != cli.ExitAnomalies || stderr != "" {
		t.Fatalf("run 2: exit %d, want 3\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "slow@example.test: 2 addresses") || !strings.Contains(stdout, botnet[0]+"*") || !strings.Contains(stdout, "* from the history") {
		t.Errorf("run 2's report does not show the earlier address:\n%s", stdout)
	}
	if reqs, _ := l.hook.alerts(); reqs["slow@example.test"] != 1 || reqs["carol@example.test"] != 0 {
		t.Errorf("alerts: %v", reqs)
	}
	l.checkHistory() // the recalled address is not counted again
	// Outside the window: carol's one address today and one two days ago
	// are no anomaly.
	l.clock = l.clock.Add(48 * time.Hour)
	l.login("carol@example.test", "177.66.162.138")
	if code, stdout, stderr := l.run(); code != cli.ExitOK || stderr != "" {
		t.Errorf("run 3: exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	l.checkHistory()
}

// TestDetectAcrossRuns: hourly --resume runs each see a piece of an
// attack; the detectors weigh the account's history from the state, so
// that the runs together judge as one run over the whole log would: a
// botnet's third new country in three hours, and a trip from the last
// login of the run before that no plane makes.
func TestDetectAcrossRuns(t *testing.T) {
	l := newStateLab(t, "")
	// Two days of ordinary life first: carol at home, slow at home.
	for range 2 {
		l.login("carol@example.test", "187.45.12.9")
		l.login("slow@example.test", "177.66.162.138")
		l.clock = l.clock.Add(24 * time.Hour)
	}
	if code, stdout, stderr := l.run(); code != cli.ExitOK || stderr != "" {
		t.Fatalf("run 1: exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	l.login("slow@example.test", botnet[0]) // Sarajevo
	if code, stdout, stderr := l.run(); code != cli.ExitOK || stderr != "" {
		t.Fatalf("run 2: exit %d, want 0: one new country is a trip\n%s\n%s", code, stdout, stderr)
	}
	l.clock = l.clock.Add(time.Hour)
	l.login("slow@example.test", botnet[1]) // Budapest, an hour later: a possible trip
	l.login("carol@example.test", "187.45.12.9")
	if code, stdout, stderr := l.run(); code != cli.ExitOK || stderr != "" {
		t.Fatalf("run 3: exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
	l.clock = l.clock.Add(time.Hour)
	l.login("slow@example.test", botnet[2])  // Madrid: the third new country in two hours
	l.login("carol@example.test", botnet[3]) // Ho Chi Minh City, minutes after São Paulo (run 3)
	code, stdout, stderr := l.run()
	if code != cli.ExitAnomalies || stderr != "" {
		t.Fatalf("run 4: exit %d, want 3\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"slow@example.test: 3 addresses",
		"many places (high): 3 new countries (BA ES HU) and 3 new networks within 24 h",
		"carol@example.test: 2 addresses", // her home, from the history, marked *
		"impossible travel (high): São Paulo, BR → Ho Chi Minh City, VN, 16,",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("run 4's report lacks %q:\n%s", want, stdout)
		}
	}
	if reqs, _ := l.hook.alerts(); reqs["slow@example.test"] != 1 || reqs["carol@example.test"] != 1 {
		t.Errorf("alerts: %v", reqs)
	}
	l.checkHistory()
}

// TestTwoRunsOneServer: two runs of one mail server (one state, one
// config) on two logs at once, five times over: each alert is sent once,
// though both runs see it pending (one delivers at a time, and the
// second finds it sent).
func TestTwoRunsOneServer(t *testing.T) {
	exe := loganomExe(t)
	for round := range 5 {
		l := newStateLab(t, "")
		log2 := filepath.Join(l.dir, "other.log")
		for i := range 30 {
			l.loginTo(l.log, "victim@example.test", botnet[i%3])
			l.loginTo(log2, "victim@example.test", botnet[3+i%3])
			l.loginTo(log2, fmt.Sprintf("bot%d@example.test", round), botnet[i%6])
		}
		runTogether(t, exe, round,
			[]string{"postfix-sasl", "-c", l.cfg, "-l", l.log, "--resume", "--db", l.db},
			[]string{"postfix-sasl", "-c", l.cfg, "-l", log2, "--resume", "--db", l.db})
		l.checkHistory()
		reqs, _ := l.hook.alerts()
		for _, u := range []string{"victim@example.test", fmt.Sprintf("bot%d@example.test", round)} {
			if reqs[u] != 1 {
				t.Errorf("round %d: %s sent %d times, want once", round, u, reqs[u])
			}
		}
	}
}

// runTogether runs loganom (exe) with each of args at the same time, in
// processes of their own, and fails the test if one fails.
func runTogether(t *testing.T, exe string, round int, args ...[]string) {
	t.Helper()
	var wg sync.WaitGroup
	outs := make([][]byte, len(args))
	errs := make([]error, len(args))
	for i, a := range args {
		wg.Go(func() {
			c := exec.Command(exe, a...)
			c.Env = append(os.Environ(), "LOGLEVEL=")
			outs[i], errs[i] = c.CombinedOutput()
		})
	}
	wg.Wait()
	for i := range args {
		if errs[i] != nil {
			t.Fatalf("round %d, run %d (%s): %v\n%s", round, i+1, strings.Join(args[i], " "), errs[i], outs[i])
		}
	}
}
