package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/loganomcmd"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
	"github.com/loganom/loganom/pkg/enrich/dnstest"
	"github.com/loganom/loganom/pkg/postfixlab"
	"github.com/loganom/loganom/pkg/state"
)

// logWatch polls a log by its name, as it grows and across rotations,
// and tells when each login (by client address) first appeared in it.
type logWatch struct {
	mu   sync.Mutex
	seen map[string]time.Time
	stop chan struct{}
	done chan struct{}
}

var saslClient = regexp.MustCompile(`client=[^\[]*\[([^\]]+)\].*sasl_username=`)

func watchLog(path string) *logWatch {
	w := &logWatch{seen: map[string]time.Time{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		var off int64
		var ino uint64
		var part []byte
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			f, err := os.Open(path)
			if err != nil {
				continue
			}
			if fi, err := f.Stat(); err == nil {
				if st, ok := fi.Sys().(*syscall.Stat_t); ok && (st.Ino != ino || fi.Size() < off) {
					ino, off, part = st.Ino, 0, nil
				}
			}
			f.Seek(off, io.SeekStart)
			b, _ := io.ReadAll(f)
			f.Close()
			now := time.Now()
			off += int64(len(b))
			part = append(part, b...)
			for {
				i := bytes.IndexByte(part, '\n')
				if i < 0 {
					break
				}
				if m := saslClient.FindSubmatch(part[:i]); m != nil {
					w.mu.Lock()
					if _, ok := w.seen[string(m[1])]; !ok {
						w.seen[string(m[1])] = now
					}
					w.mu.Unlock()
				}
				part = part[i+1:]
			}
		}
	}()
	return w
}

func (w *logWatch) at(addr string) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.seen[addr]
	return t, ok
}

func (w *logWatch) close() {
	close(w.stop)
	<-w.done
}

// deadlineWait polls cond until it holds or d has passed.
func deadlineWait(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// TestLivePostfix runs the daemon, loganom postfix-sasl --follow, on the
// maillog_file of a real Postfix (scripts/postfix-lab) with a webhook on
// loopback: bob, whose history (three days of logins from home in São
// Paulo) a batch run over an older log put in the state, logs in from home
// through swaks, then from six countries (XCLIENT claims the addresses);
// Postfix's own rotation (postfix logrotate: rename, then gzip) comes
// after the third. The webhook must have bob's alert within 2 s of the
// login line that made him anomalous, and so within 2 s of the sixth;
// after SIGTERM the state's history counts each login swaks made once.
// It needs root, postfix and swaks; CI installs them and sets
// LOGANOM_REQUIRE_POSTFIX=1, so that it fails there instead of skipping.
func TestLivePostfix(t *testing.T) {
	postfixlab.Require(t)
	bin, err := exec.LookPath("loganom") // clitest.Main puts the test binary on $PATH under that name
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../..")
	dir := postfixlab.Dir(t)
	lab := filepath.Join(dir, "lab")
	_, labCmd := postfixlab.Start(t, filepath.Join(root, "scripts/postfix-lab"), lab)
	labCmd("adduser", lab, "bob@example.test", "bob-pw")
	maillog := filepath.Join(lab, "maillog")

	var mu sync.Mutex
	var posts []time.Time
	var bodies []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posts = append(posts, now)
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	dns, err := dnstest.Start(&dnstest.Zone{}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	config := filepath.Join(dir, "config.ini")
	os.WriteFile(config, []byte(fmt.Sprintf(`[ENRICH]
geoip = %[1]s/testdata/geo/example-city.mmdb
    %[1]s/testdata/geo/example-asn.mmdb
dns = %[2]s

[WEBHOOK]
enabled = true
url = %[3]s
`, root, dns.Addr, hook.URL)), 0o644)
	db := filepath.Join(dir, "state.db")
	const bob = "bob@example.test"
	home := "187.45.12.9" // São Paulo

	// bob's history: a batch run (--resume: it records its history) over a log of his logins from home on
	// the three days before (in the local time zone, as Postfix writes)
	now := time.Now()
	var seed strings.Builder
	for d := 3; d >= 1; d-- {
		fmt.Fprintf(&seed, "%s mail postfix/submission/smtpd[4242]: 2C0430163C: client=unknown[%s], sasl_method=LOGIN, sasl_username=%s\n",
			now.Add(-time.Duration(d)*24*time.Hour).Format(time.Stamp), home, bob)
	}
	seedLog := filepath.Join(dir, "seed.log")
	os.WriteFile(seedLog, []byte(seed.String()), 0o644)
	var sout, serr bytes.Buffer
	if code := loganomcmd.Main(cli.Env{Args: []string{"postfix-sasl", "-c", config, "-l", seedLog, "--resume", "--db", db, "--no-cache",
		"--year", strconv.Itoa(now.Year()), "--format", "json"}, Stdout: &sout, Stderr: &serr, Getenv: func(string) string { return "" }}); code != 0 {
		t.Fatalf("the seeding run: exit %d\n%s", code, serr.String())
	}
	if sout.Len() != 0 {
		t.Fatalf("the seeding run reported:\n%s", sout.String())
	}
	before := historyCount(t, db, bob)
	if before != 3 {
		t.Fatalf("the seeded history counts %d logins of bob, want 3", before)
	}

	// the daemon
	var stdout, stderr syncbuf.Buffer
	cmd := exec.Command(bin, "postfix-sasl", "--follow", "-l", maillog, "--db", db, "-c", config, "--no-cache", "--format", "json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()
	started := deadlineWait(20*time.Second, func() bool {
		select {
		case err := <-exited:
			exited <- err
			return true
		default:
		}
		return strings.Contains(stderr.String(), `msg="following`)
	})
	select {
	case err := <-exited:
		t.Fatalf("the daemon exited (%v) before following:\n%s", err, stderr.String())
	default:
	}
	if !started {
		t.Fatalf("the daemon did not start following:\n%s", stderr.String())
	}
	watch := watchLog(maillog)
	defer watch.close()

	login := func(addr string) time.Time {
		t.Helper()
		labCmd("login", lab, bob, "bob-pw", addr)
		var at time.Time
		if !deadlineWait(10*time.Second, func() bool {
			var ok bool
			at, ok = watch.at(addr)
			return ok
		}) {
			t.Fatalf("swaks's login from %s is not in %s", addr, maillog)
		}
		return at
	}
	logged := map[string]time.Time{}
	logged[home] = login(home)
	// six countries: BA, HU, ES, VN, NG, LT; Postfix rotates its log after the third
	far := []string{"92.36.10.20", "176.63.195.207", "188.76.17.119", "118.69.77.12", "41.203.64.7", "188.69.195.171"}
	var sixth time.Time
	for i, a := range far {
		if i == 3 {
			old, err := os.Stat(maillog)
			if err != nil {
				t.Fatal(err)
			}
			labCmd("logrotate", lab)
			// postfix logrotate renames the maillog, then reloads the
			// master; postlogd makes a new maillog at the first line it
			// writes after it reopened it, which may be the next login's
			// (the reload's own lines may go to the renamed file, as
			// under load they did, and then no new file came within
			// 60 s): the logins go on once the old one is renamed
			if !deadlineWait(60*time.Second, func() bool {
				fi, err := os.Stat(maillog)
				return errors.Is(err, fs.ErrNotExist) || err == nil && !os.SameFile(fi, old)
			}) {
				t.Fatalf("postfix logrotate did not rename %s", maillog)
			}
		}
		sixth = login(a)
		logged[a] = sixth
	}
	got := func() (time.Time, string, bool) {
		mu.Lock()
		defer mu.Unlock()
		for i, b := range bodies {
			if strings.Contains(b, `"user":"bob@example.test"`) {
				return posts[i], b, true
			}
		}
		return time.Time{}, "", false
	}
	var hookAt time.Time
	var body string
	if !deadlineWait(time.Until(sixth.Add(2*time.Second)), func() bool {
		var ok bool
		hookAt, body, ok = got()
		return ok
	}) {
		t.Fatalf("no alert for bob within 2 s of his sixth login\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	// the login that made him anomalous: the last one logged before the alert came
	var trigger string
	var trigAt time.Time
	for a, at := range logged {
		if !at.After(hookAt) && at.After(trigAt) {
			trigger, trigAt = a, at
		}
	}
	t.Logf("bob's alert reached the webhook %s after the login from %s appeared in the log", hookAt.Sub(trigAt).Round(time.Millisecond), trigger)
	if trigger == home {
		t.Errorf("the alert came after the login from home, before any from abroad:\n%s", body)
	}
	if d := hookAt.Sub(trigAt); d > 2*time.Second {
		t.Errorf("the alert reached the webhook %s after the login that made bob anomalous, want within 2 s", d)
	}
	var p struct {
		Severity string `json:"severity"`
		Accounts []struct {
			User     string `json:"user"`
			Severity string `json:"severity"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil || len(p.Accounts) != 1 || p.Accounts[0].User != bob || p.Severity != "high" {
		t.Errorf("webhook payload (%v): want bob, high:\n%s", err, body)
	}

	// SIGTERM: the rest is read and recorded
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("the daemon's exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("SIGTERM did not stop the daemon\n%s", stderr.String())
	}
	rotated, _ := filepath.Glob(maillog + ".*")
	if len(rotated) != 1 {
		t.Fatalf("postfix logrotate made %v, want one rotated log", rotated)
	}
	made := maillogLogins(t, bob, maillog, rotated[0])
	if made != 1+len(far) {
		t.Fatalf("Postfix logged %d logins of bob, swaks made %d", made, 1+len(far))
	}
	if after := historyCount(t, db, bob); after-before != int64(made) {
		t.Errorf("the history counts %d new logins of bob, Postfix logged %d (across its rotation)\nstderr:\n%s", after-before, made, stderr.String())
	}
	if !strings.Contains(stderr.String(), `level=INFO msg="alert: bob@example.test: high:`) {
		t.Errorf("no structured line for the alert:\n%s", stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	for _, b := range bodies {
		if !strings.Contains(b, `"user":"bob@example.test"`) {
			t.Errorf("an alert for another account:\n%s", b)
		}
	}
}

// historyCount adds up the logins of user in the state's history.
func historyCount(t *testing.T, db, user string) int64 {
	t.Helper()
	ctx := context.Background()
	st, err := state.Open(ctx, db, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.History(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, r := range rows {
		n += r.Count
	}
	return n
}

// maillogLogins counts user's logins in the logs (gzip or plain).
func maillogLogins(t *testing.T, user string, logs ...string) int {
	t.Helper()
	n := 0
	for _, name := range logs {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = f
		if strings.HasSuffix(name, ".gz") {
			gz, err := gzip.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			r = gz
		}
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "sasl_username="+user) {
				n++
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return n
}
