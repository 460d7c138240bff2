package reportcmd

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
)

// hookServer is a loopback webhook that records what it was posted:
// each post's Idempotency-Key and its highest severity.
type hookServer struct {
	*httptest.Server
	mu    sync.Mutex
	posts []hookPost
}

type hookPost struct{ key, severity string }

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Severity string `json:"severity"`
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &body)
		h.mu.Lock()
		h.posts = append(h.posts, hookPost{r.Header.Get("Idempotency-Key"), body.Severity})
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) got() []hookPost {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookPost(nil), h.posts...)
}

// webhookNotifier is a Notifier with the webhook at url as its one channel.
func webhookNotifier(t *testing.T, url string) *Notifier {
	t.Helper()
	return iniNotifier(t, fmt.Sprintf("[WEBHOOK]\nenabled = true\nurl = %s\n\n[NOTIFY]\nattempts = 1\n", url), "")
}

// serveSMTP runs a real SMTP server (go-smtp) of backend b on loopback
// until the test ends; it returns its listener.
func serveSMTP(t *testing.T, b gosmtp.Backend) net.Listener {
	t.Helper()
	srv := gosmtp.NewServer(b)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln
}

// iniNotifier is the Notifier of the config ini, with the script exec
// ("": none).
func iniNotifier(t *testing.T, ini, exec string) *Notifier {
	t.Helper()
	cfgPath := filepath.Join(t.TempDir(), "config.ini")
	if err := os.WriteFile(cfgPath, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	n, err := (&NotifyFlags{}).Prepare(cfg, exec)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// feedAttack gives lv, as the pipeline's report stage, the logins of
// attack(user).
func feedAttack(t *testing.T, lv *Live, user string) {
	t.Helper()
	for _, r := range attack(user, time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)) {
		if err := (&Stage{Live: lv}).Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// attackFile writes the records of attack(user) to path, as NDJSON.
func attackFile(t *testing.T, path, user string) {
	t.Helper()
	var b []byte
	for _, r := range attack(user, time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)) {
		b = append(record.AppendJSON(b, r), '\n')
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// growing is five days at home, then a thief's address used again and
// again: with [DETECT] alert = low, a new country (low), then its burst
// makes the finding medium.
func growing(user string, t0 time.Time) []*record.Record {
	var recs []*record.Record
	for d := 0; d < 5; d++ {
		recs = append(recs, rlogin(user, "200.158.1.34", "BR", 27699, -23.55, -46.63, t0.Add(time.Duration(d)*24*time.Hour)))
	}
	at := t0.Add(5*24*time.Hour + 2*time.Hour)
	for i := 0; i < 15; i++ {
		recs = append(recs, rlogin(user, "176.63.95.227", "HU", 6830, 47.5, 19.04, at.Add(time.Duration(i)*5*time.Minute)))
	}
	return recs
}

// TestReviewLiveMoreSevereIsDelivered: the daemon alerts again when an
// account's verdict grows more severe (README, "Live"): without a state
// the channels get the second, more severe alert; with a state they must
// too, and under a key of its own (a receiver that drops duplicates by
// key must not drop it), and only once.
func TestReviewLiveMoreSevereIsDelivered(t *testing.T) {
	for _, withState := range []bool{false, true} {
		t.Run(fmt.Sprint("state=", withState), func(t *testing.T) {
			hook := newHookServer(t)
			stderr := &lockedBuf{}
			log := &cli.Logger{Prog: "loganom", W: stderr}
			rep := report.NewLive(report.Rule{Alert: detect.Low})
			lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, Format: "json", Out: io.Discard, RetryEvery: time.Hour}
			if withState {
				st := openState(t)
				lv.St = st
				rep.History = func(user string) ([]detect.Known, error) { return st.Known(t.Context(), user) }
			}
			lv.SetNotifier(webhookNotifier(t, hook.URL))
			lv.Start()
			for _, r := range growing("bob@x.test", time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)) {
				if err := (&Stage{Live: lv}).Process(r, nil); err != nil {
					t.Fatal(err)
				}
			}
			if lv.Alerts() != 2 {
				t.Fatalf("%d alerts, want 2 (low, then medium): the premise", lv.Alerts())
			}
			medium := func() bool {
				for _, p := range hook.got() {
					if p.severity == "medium" {
						return true
					}
				}
				return false
			}
			waitUntil(t, "the medium alert's post", medium)
			lv.Close()
			posts := hook.got()
			keys := map[string]bool{}
			for _, p := range posts {
				if p.key != "" && keys[p.key] {
					t.Errorf("two posts under the key %s: a receiver drops the second as a duplicate", p.key)
				}
				keys[p.key] = true
			}
			if len(posts) > 2 {
				t.Errorf("the webhook got %+v; want the low alert and the medium one, once each\n%s", posts, stderr)
			}
		})
	}
}

// TestReviewLiveNoStateQueuedAlertIsItsOwn: without a state, an alert
// waits in memory while the channel is busy (here: a slow webhook still
// taking the alert before it). The account it was made of goes on
// counting logins meanwhile; the alert sent must be the account as it
// was alerted, not as it is when the channel gets to it, and the
// delivery must not read what the reader writes (go test -race).
func TestReviewLiveNoStateQueuedAlertIsItsOwn(t *testing.T) {
	release := make(chan struct{})
	type acct struct {
		User     string `json:"user"`
		Logins   int    `json:"logins"`
		Severity string `json:"severity"`
		IPs      []struct {
			IP    string `json:"ip"`
			Count int    `json:"count"`
		} `json:"ips"`
	}
	var mu sync.Mutex
	var got []acct
	first := true
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Accounts []acct `json:"accounts"`
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &body)
		mu.Lock()
		got = append(got, body.Accounts...)
		wait := first
		first = false
		mu.Unlock()
		if wait {
			<-release
		}
	}))
	defer hook.Close()
	stderr := &lockedBuf{}
	log := &cli.Logger{Prog: "loganom", W: stderr}
	rep := report.NewLive(report.Rule{Alert: detect.Low})
	lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, Format: "json", Out: io.Discard, RetryEvery: time.Hour}
	lv.SetNotifier(webhookNotifier(t, hook.URL))
	lv.Start()
	feed := func(recs []*record.Record) {
		t.Helper()
		for _, r := range recs {
			if err := (&Stage{Live: lv}).Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	feed(attack("alice@x.test", t0))
	// the webhook holds alice's alert while bob's come and grow
	waitUntil(t, "alice's post", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) > 0 })
	feed(growing("bob@x.test", t0))
	close(release)
	bobs := func() []acct {
		mu.Lock()
		defer mu.Unlock()
		var out []acct
		for _, a := range got {
			if a.User == "bob@x.test" {
				out = append(out, a)
			}
		}
		return out
	}
	waitUntil(t, "bob's alerts", func() bool { return len(bobs()) >= 2 })
	lv.Close()
	b := bobs()
	if b[0].Severity != "low" || b[0].Logins != 1 || len(b[0].IPs) != 1 || b[0].IPs[0].Count != 1 {
		t.Errorf("bob's low alert was sent as %+v; it was made on his first login from abroad (1 login)", b[0])
	}
}

// TestReviewBatchMoreSevereIsDelivered: hourly runs with a state
// (loganom-report --db): the first flags bob medium (a new country, used
// again and again) and sends it; the next finds him high (from there to
// Vietnam in five minutes): sent again, under a key of its own, and
// counted as found (--exit-code's 3); a run that reads the same again
// sends nothing.
func TestReviewBatchMoreSevereIsDelivered(t *testing.T) {
	hook := newHookServer(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.ini")
	db := filepath.Join(dir, "state.db")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("[WEBHOOK]\nenabled = true\nurl = %s\n\n[NOTIFY]\nattempts = 1\n", hook.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	recs := growing("bob@x.test", t0)
	last := recs[len(recs)-1].Time
	run := func(name string, recs ...*record.Record) int {
		t.Helper()
		path := filepath.Join(dir, name)
		var b []byte
		for _, r := range recs {
			b = append(record.AppendJSON(b, r), '\n')
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		stderr := &lockedBuf{}
		code := Main(cli.Env{Args: []string{"-c", cfgPath, "--db", db, "--exit-code", "-q", path}, Stdin: nil, Stdout: io.Discard, Stderr: stderr, Getenv: func(string) string { return "" }})
		t.Logf("%s: exit %d\n%s", name, code, stderr)
		return code
	}
	if code := run("1.json", recs...); code != cli.ExitAnomalies {
		t.Fatalf("first run: exit %d, want %d", code, cli.ExitAnomalies)
	}
	vn := rlogin("bob@x.test", "118.69.201.136", "VN", 18403, 10.82, 106.63, last.Add(5*time.Minute))
	code := run("2.json", vn)
	again := run("3.json", vn)
	posts := hook.got()
	if len(posts) != 2 || posts[0].severity != "medium" || posts[1].severity != "high" || posts[0].key == posts[1].key {
		t.Errorf("the webhook got %+v; want medium, then high under a key of its own", posts)
	}
	if code != cli.ExitAnomalies || again != cli.ExitOK {
		t.Errorf("exit codes %d, %d; want %d (high: sent), %d (read again: nothing new)", code, again, cli.ExitAnomalies, cli.ExitOK)
	}
}

// refusingSMTP is a real SMTP server (go-smtp) on loopback that refuses
// gone@example.test for good and keeps each message's recipients.
type refusingSMTP struct {
	mu  sync.Mutex
	got [][]string
}

func (s *refusingSMTP) NewSession(*gosmtp.Conn) (gosmtp.Session, error) {
	return &refusingSession{s: s}, nil
}

type refusingSession struct {
	s     *refusingSMTP
	rcpts []string
}

func (x *refusingSession) Reset()                                 { x.rcpts = nil }
func (x *refusingSession) Logout() error                          { return nil }
func (x *refusingSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (x *refusingSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if to == "gone@example.test" {
		return &gosmtp.SMTPError{Code: 550, Message: "no such user"}
	}
	x.rcpts = append(x.rcpts, to)
	return nil
}
func (x *refusingSession) Data(r io.Reader) error {
	io.Copy(io.Discard, r)
	x.s.mu.Lock()
	x.s.got = append(x.s.got, x.rcpts)
	x.s.mu.Unlock()
	return nil
}

func (s *refusingSMTP) messages() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.got...)
}

// TestReviewSMTPOneRecipientGone: [SMTP] to names the postmaster and a
// colleague's address since removed (550): the postmaster gets the alert,
// once; the run says which address was refused (an error, exit 1); the
// next runs, and the daemon without a state, do not send it again.
func TestReviewSMTPOneRecipientGone(t *testing.T) {
	s := &refusingSMTP{}
	ln := serveSMTP(t, s)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.ini")
	ini := fmt.Sprintf("[SMTP]\nenabled = true\nfrom = loganom@example.test\nto = postmaster@example.test, gone@example.test\nhost = 127.0.0.1\nport = %d\n\n[NOTIFY]\nattempts = 2\nbackoff = 1ms\n", ln.Addr().(*net.TCPAddr).Port)
	if err := os.WriteFile(cfgPath, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("batch", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "state.db")
		in := filepath.Join(t.TempDir(), "in.json")
		attackFile(t, in, "bob@x.test")
		before := len(s.messages())
		for i, want := range []int{cli.ExitError, cli.ExitOK} {
			stderr := &lockedBuf{}
			code := Main(cli.Env{Args: []string{"-c", cfgPath, "--db", db, "-q", in}, Stdout: io.Discard, Stderr: stderr, Getenv: func(string) string { return "" }})
			if code != want || i == 0 && !strings.Contains(stderr.String(), "gone@example.test") {
				t.Errorf("run %d: exit %d, want %d; stderr:\n%s", i+1, code, want, stderr)
			}
		}
		if got := s.messages()[before:]; fmt.Sprint(got) != "[[postmaster@example.test]]" {
			t.Errorf("messages to %v; want one, to the postmaster", got)
		}
	})
	t.Run("live, no state", func(t *testing.T) {
		n := iniNotifier(t, ini, "")
		before := len(s.messages())
		stderr := &lockedBuf{}
		log := &cli.Logger{Prog: "loganom", W: stderr}
		lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: report.NewLive(report.Rule{}), Format: "json", Out: io.Discard, RetryEvery: time.Millisecond}
		lv.SetNotifier(n)
		lv.Start()
		feedAttack(t, lv, "carol@x.test")
		waitUntil(t, "the alert's mail", func() bool { return len(s.messages()) > before })
		// a few retry rounds (RetryEvery 1 ms) would send it again
		waitUntil(t, "the error said", func() bool { return strings.Contains(stderr.String(), "gone@example.test") })
		lv.Close()
		if got := s.messages()[before:]; fmt.Sprint(got) != "[[postmaster@example.test]]" {
			t.Errorf("messages to %v; want one, to the postmaster\n%s", got, stderr)
		}
	})
}

// TestReviewLiveNoStateScriptNotRunAgain: the daemon without a state runs
// the script ([EXEC]) per alert; it fails for one account (bad) and
// succeeds for the other (good), both alerted while the script was busy
// with a third, so that they go in one round. bad's is tried again; good's
// must never run again (a script locks the account, opens a ticket).
func TestReviewLiveNoStateScriptNotRunAgain(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	gate := filepath.Join(dir, "go")
	scriptPath := filepath.Join(dir, "script.sh")
	body := fmt.Sprintf(`#!/bin/sh
echo "$1" >> %[1]s
if [ "$1" = alice@x.test ]; then
	while [ ! -e %[2]s ]; do sleep 0.01; done
fi
[ "$1" != bad@x.test ]
`, runs, gate)
	if err := os.WriteFile(scriptPath, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	n := iniNotifier(t, "[EXEC]\ntimeout = 20s\n", scriptPath)
	count := func(user string) int {
		b, _ := os.ReadFile(runs)
		return strings.Count(string(b), user+"\n")
	}
	stderr := &lockedBuf{}
	log := &cli.Logger{Prog: "loganom", W: stderr}
	lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: report.NewLive(report.Rule{}), Format: "json", Out: io.Discard, RetryEvery: time.Millisecond}
	lv.SetNotifier(n)
	lv.Start()
	feedAttack(t, lv, "alice@x.test")
	waitUntil(t, "the script to run for alice", func() bool { return count("alice@x.test") == 1 })
	feedAttack(t, lv, "good@x.test")
	feedAttack(t, lv, "bad@x.test")
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "bad's script tried again", func() bool { return count("bad@x.test") >= 3 })
	lv.Close()
	if c := count("good@x.test"); c != 1 || count("alice@x.test") != 1 {
		t.Errorf("the script ran %d times for good, %d for alice; want once each\n%s", c, count("alice@x.test"), stderr)
	}
}

// idSink is a real SMTP server (go-smtp) that keeps each message's
// Message-ID.
type idSink struct {
	mu  sync.Mutex
	ids []string
}

func (s *idSink) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &idSession{s: s}, nil }

type idSession struct{ s *idSink }

func (x *idSession) Reset()                                 {}
func (x *idSession) Logout() error                          { return nil }
func (x *idSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (x *idSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (x *idSession) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, msg.Body)
	x.s.mu.Lock()
	x.s.ids = append(x.s.ids, msg.Header.Get("Message-ID"))
	x.s.mu.Unlock()
	return nil
}

// TestReviewKeysOfTwoStates: two mail servers, each with its own state
// (the default: an SQLite file), alert on two different accounts and mail
// the same postmaster, and post to the same webhook. Each state numbers
// its alerts from 1: the two alerts must not share a Message-ID (a
// mailbox that drops duplicates, as Gmail does, would drop the second,
// another account's alert) nor an Idempotency-Key (a receiver that drops
// duplicates by key, as the key is for, would drop it).
func TestReviewKeysOfTwoStates(t *testing.T) {
	sink := &idSink{}
	ln := serveSMTP(t, sink)
	hook := newHookServer(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "config.ini")
	ini := fmt.Sprintf("[SMTP]\nenabled = true\nfrom = loganom@example.test\nto = postmaster@example.test\nhost = 127.0.0.1\nport = %d\n\n[WEBHOOK]\nenabled = true\nurl = %s\n\n[NOTIFY]\nattempts = 1\n",
		ln.Addr().(*net.TCPAddr).Port, hook.URL)
	if err := os.WriteFile(cfgPath, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, user := range []string{"bob@x.test", "carol@x.test"} {
		in := filepath.Join(dir, fmt.Sprint(i, ".json"))
		attackFile(t, in, user)
		db := filepath.Join(dir, fmt.Sprint("mx", i, ".db")) // a state each
		stderr := &lockedBuf{}
		if code := Main(cli.Env{Args: []string{"-c", cfgPath, "--db", db, "-q", in}, Stdout: io.Discard, Stderr: stderr, Getenv: func(string) string { return "" }}); code != cli.ExitOK {
			t.Fatalf("mx%d: exit %d\n%s", i, code, stderr)
		}
	}
	sink.mu.Lock()
	ids := sink.ids
	sink.mu.Unlock()
	posts := hook.got()
	if len(ids) != 2 || ids[0] == ids[1] {
		t.Errorf("the two alerts' Message-IDs: %q; want two, apart", ids)
	}
	if len(posts) != 2 || posts[0].key == posts[1].key {
		t.Errorf("the two alerts' posts: %+v; want two, under keys apart", posts)
	}
}
