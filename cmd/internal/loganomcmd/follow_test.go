package loganomcmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
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
	"github.com/loganom/loganom/pkg/state"
)

// TestFollowFile: loganom postfix-sasl --follow on a log file, with a
// state: a login appended is judged at once (the alert on stdout, the
// metrics counting it), a rotation (rename and create) in the middle
// loses no login, and after SIGTERM a restart with --resume reads on from
// where it stopped: the state's history counts every login written once.
func TestFollowFile(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "mail.log")
	db := filepath.Join(dir, "state.db")
	cfg := filepath.Join(dir, "config.ini")
	liveConfig(t, cfg, "BR", "")
	if err := os.WriteFile(logf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	appendLog := func(s string) {
		t.Helper()
		f, err := os.OpenFile(logf, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	start := func() (<-chan string, *syncbuf.Buffer, <-chan int) {
		outR, outW := io.Pipe()
		stderr := &syncbuf.Buffer{}
		lines := outputLines(outR)
		code := make(chan int, 1)
		args := []string{"postfix-sasl", "--follow", "--resume", "-c", cfg, "-l", logf, "--db", db, "--no-cache", "--no-rdns",
			"--year", "2026", "--tz", "UTC", "--format", "json", "--metrics", "127.0.0.1:0"}
		go func() {
			c := Main(cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: outW, Stderr: stderr, Getenv: func(string) string { return "" }})
			outW.Close()
			code <- c
		}()
		waitFor(t, "the daemon to start", func() bool { return strings.Contains(stderr.String(), "following") })
		return lines, stderr, code
	}
	stop := func(stderr *syncbuf.Buffer, code <-chan int) {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case c := <-code:
			if c != 0 {
				t.Fatalf("exit %d\n%s", c, stderr)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("SIGTERM did not stop it\n%s", stderr)
		}
	}

	lines, stderr, code := start()
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	written := 0
	var b strings.Builder
	for d := 0; d < 3; d++ {
		for _, u := range []string{"ana@example.test", "lucas@example.test"} {
			b.WriteString(liveLine(t0.Add(time.Duration(d)*24*time.Hour), u, saoPaulo))
			written++
		}
	}
	appendLog(b.String())
	// rotated as logrotate does: renamed, a new file created (the
	// lines above read before or after the rename: both are read)
	if err := os.Rename(logf, logf+".1"); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(3*24*time.Hour + 8*time.Hour)
	appendLog(liveLine(at, "ana@example.test", saoPaulo) + liveLine(at.Add(20*time.Minute), "ana@example.test", osaka))
	written += 2
	select {
	case l := <-lines:
		if !strings.Contains(l, `"user":"ana@example.test"`) || !strings.Contains(l, `"severity":"high"`) {
			t.Fatalf("alert %s", l)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no alert\n%s", stderr)
	}
	// the metrics count what was read
	m := regexp.MustCompile(`metrics on http://([^/ ]+)/metrics`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no metrics address\n%s", stderr)
	}
	waitFor(t, "the metrics", func() bool {
		resp, err := http.Get("http://" + m[1] + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(body), `loganom_events_total{type="login"} `+strconv.Itoa(written)) &&
			strings.Contains(string(body), "loganom_alerts_total 1")
	})
	stop(stderr, code)

	// written while stopped, read on with --resume
	appendLog(liveLine(at.Add(time.Hour), "lucas@example.test", saoPaulo))
	written++
	lines, stderr, code = start()
	appendLog(liveLine(at.Add(2*time.Hour), "lucas@example.test", saoPaulo))
	written++
	st, err := state.Open(context.Background(), db, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	count := func() int64 { return historyCount(t, st, "ana@example.test", "lucas@example.test") }
	waitFor(t, "every login recorded", func() bool { return count() >= int64(written) })
	// rotated again while it follows: said once, for the journal (a
	// daemon used to say none)
	for _, r := range [][2]string{{logf + ".1", logf + ".2"}, {logf, logf + ".1"}} {
		if err := os.Rename(r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	appendLog(liveLine(at.Add(3*time.Hour), "lucas@example.test", saoPaulo))
	written++
	waitFor(t, "every login recorded", func() bool { return count() >= int64(written) })
	if n := strings.Count(stderr.String(), logf+": rotated (another file at its name)"); n != 1 {
		t.Errorf("the rotation said %d times:\n%s", n, stderr)
	}
	stop(stderr, code)
	if n := count(); n != int64(written) {
		t.Errorf("history counts %d logins, %d written", n, written)
	}
	for l := range lines {
		t.Errorf("another alert after the restart: %s", l)
	}
}

// outputLines sends each line read from r, as soon as it is whole, and
// closes the channel at the end (or an error).
func outputLines(r io.Reader) <-chan string {
	lines := make(chan string, 100)
	go func() {
		buf := make([]byte, 64<<10)
		var acc strings.Builder
		for {
			n, err := r.Read(buf)
			acc.Write(buf[:n])
			for {
				s := acc.String()
				i := strings.IndexByte(s, '\n')
				if i < 0 {
					break
				}
				lines <- s[:i]
				acc.Reset()
				acc.WriteString(s[i+1:])
			}
			if err != nil {
				close(lines)
				return
			}
		}
	}()
	return lines
}

// historyCount is how many logins the state's history counts for users.
func historyCount(t *testing.T, st state.Store, users ...string) (n int64) {
	t.Helper()
	for _, u := range users {
		h, err := st.History(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range h {
			n += a.Count
		}
	}
	return n
}

// TestFollowJournal: --follow --journal runs journalctl (here a recorded
// `journalctl -o json` stream, printed by a script in its place: this
// machine has no journal), alerts on its entries, and with --resume starts
// it again after the cursor saved.
func TestFollowJournal(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	cfg := filepath.Join(dir, "config.ini")
	liveConfig(t, cfg, "BR", "")
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var entries strings.Builder
	n := 0
	entry := func(at time.Time, user, ip string) {
		n++
		fmt.Fprintf(&entries, `{"__CURSOR":"s=abc;i=%d","__REALTIME_TIMESTAMP":"%d","_HOSTNAME":"mail","SYSLOG_IDENTIFIER":"postfix/submission/smtpd","_PID":"8251","MESSAGE":"CEED5BA1AA: client=unknown[%s], sasl_method=PLAIN, sasl_username=%s"}`+"\n",
			n, at.UnixMicro(), ip, user)
	}
	for d := 0; d < 3; d++ {
		entry(t0.Add(time.Duration(d)*24*time.Hour), "ana@example.test", saoPaulo)
	}
	at := t0.Add(3*24*time.Hour + 8*time.Hour)
	entry(at, "ana@example.test", saoPaulo)
	entry(at.Add(20*time.Minute), "ana@example.test", osaka)
	if err := os.WriteFile(filepath.Join(dir, "entries"), []byte(entries.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "journalctl")
	body := "#!/bin/sh\necho \"$@\" >> " + dir + "/args\ncase \"$*\" in *--after-cursor*|*--lines=0*) ;; *) cat " + dir + "/entries ;; esac\nexec sleep 600\n"
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	run := func() (*syncbuf.Buffer, <-chan int, *syncbuf.Buffer) {
		stderr, stdout := &syncbuf.Buffer{}, &syncbuf.Buffer{}
		code := make(chan int, 1)
		args := []string{"postfix-sasl", "--follow", "--journal", "--journalctl", script, "--resume", "-c", cfg, "--db", db,
			"--no-cache", "--no-rdns", "--format", "json"}
		go func() {
			code <- Main(cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr, Getenv: func(string) string { return "" }})
		}()
		waitFor(t, "the daemon to start", func() bool { return strings.Contains(stderr.String(), "following the journal") })
		return stderr, code, stdout
	}
	stop := func(stderr *syncbuf.Buffer, code <-chan int) {
		t.Helper()
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case c := <-code:
			if c != 0 {
				t.Fatalf("exit %d\n%s", c, stderr)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("SIGTERM did not stop it\n%s", stderr)
		}
	}
	stderr, code, stdout := run()
	waitFor(t, "the alert", func() bool { return strings.Contains(stdout.String(), `"user":"ana@example.test"`) })
	if !strings.Contains(stderr.String(), "following the journal (postfix*), from its start (no position saved yet)") {
		t.Errorf("the first start does not say it reads the journal from its start:\n%s", stderr)
	}
	host, _ := os.Hostname()
	waitFor(t, "the cursor saved", func() bool {
		st, err := state.Open(context.Background(), db, state.Options{})
		if err != nil {
			return false
		}
		defer st.Close()
		p, err := st.Positions(context.Background(), host, []string{"journal:unit=postfix*"})
		return err == nil && p["journal:unit=postfix*"].FP == "s=abc;i=5"
	})
	stop(stderr, code)
	stderr, code, _ = run()
	waitFor(t, "journalctl started again", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "args"))
		return strings.Count(string(b), "\n") == 2
	})
	stop(stderr, code)
	b, _ := os.ReadFile(filepath.Join(dir, "args"))
	args := strings.Split(strings.TrimSpace(string(b)), "\n")
	if !strings.Contains(args[0], "--follow --output=json") || !strings.Contains(args[0], "--unit=postfix*") || !strings.Contains(args[0], "--no-tail") {
		t.Errorf("first journalctl (--resume, no cursor saved: from the journal's start): %s", args[0])
	}
	if !strings.Contains(args[1], "--after-cursor=s=abc;i=5") {
		t.Errorf("journalctl after --resume: %s, want --after-cursor=s=abc;i=5", args[1])
	}
}
