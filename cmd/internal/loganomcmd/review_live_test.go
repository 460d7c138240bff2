package loganomcmd

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
	"github.com/loganom/loganom/pkg/enrich/dnstest"
)

// startFollow starts loganom with args (stdin a pipe) and returns its
// stdin, its stdout's lines, its stderr and the channel of its exit code.
func startFollow(t *testing.T, args ...string) (io.WriteCloser, <-chan string, *syncbuf.Buffer, <-chan int) {
	t.Helper()
	inR, inW := io.Pipe()
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
	go func() {
		c := Main(cli.Env{Args: args, Stdin: inR, Stdout: outW, Stderr: stderr, Getenv: func(string) string { return "" }})
		outW.Close()
		code <- c
	}()
	waitFor(t, "the daemon to start", func() bool { return strings.Contains(stderr.String(), "following") })
	return inW, lines, stderr, code
}

// anaTrip is ana's week at home, then Osaka 20 minutes after São Paulo.
func anaTrip() string {
	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var b strings.Builder
	for d := 0; d < 3; d++ {
		b.WriteString(liveLine(t0.Add(time.Duration(d)*24*time.Hour), "ana@example.test", saoPaulo))
	}
	at := t0.Add(3*24*time.Hour + 8*time.Hour)
	b.WriteString(liveLine(at, "ana@example.test", saoPaulo))
	b.WriteString(liveLine(at.Add(20*time.Minute), "ana@example.test", osaka))
	return b.String()
}

// TestReviewFollowStdinWithRDNS: with reverse DNS on (the default; a
// server answering after 50 ms), the login that makes ana anomalous must
// be judged once its lookup is done, not when the next line comes.
func TestReviewFollowStdinWithRDNS(t *testing.T) {
	srv, err := dnstest.Start(&dnstest.Zone{Delay: 50 * time.Millisecond, Synthesize: "example.net"}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg := filepath.Join(t.TempDir(), "config.ini")
	liveConfig(t, cfg, "XX", "")
	in, lines, stderr, code := startFollow(t, "postfix-sasl", "--follow", "-l", "-", "--no-cache", "--dns", srv.Addr,
		"--year", "2026", "--tz", "UTC", "--format", "json", "-c", cfg, "--no-db")
	if _, err := io.WriteString(in, anaTrip()); err != nil {
		t.Fatal(err)
	}
	select {
	case l := <-lines:
		if !strings.Contains(l, "ana@example.test") {
			t.Errorf("alert %s", l)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("no alert 5 s after the login (stdin still open)\n%s", stderr)
		in.Close()
		for l := range lines {
			t.Logf("once stdin is closed, the alert: %.80s", l)
		}
	}
	in.Close()
	<-code
}

// TestReviewFollowStdinMetrics: the metrics count the lines read and the
// alerts while the daemon runs, not only when it stops.
func TestReviewFollowStdinMetrics(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.ini")
	liveConfig(t, cfg, "XX", "")
	in, lines, stderr, code := startFollow(t, "postfix-sasl", "--follow", "-l", "-", "--no-cache", "--no-rdns",
		"--year", "2026", "--tz", "UTC", "--format", "json", "-c", cfg, "--no-db", "--metrics", "127.0.0.1:0")
	m := regexp.MustCompile(`metrics on (http://[0-9.:]+/metrics)`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no metrics address:\n%s", stderr)
	}
	if _, err := io.WriteString(in, anaTrip()); err != nil {
		t.Fatal(err)
	}
	nextAlert(t, lines)
	scrape := func() string {
		resp, err := http.Get(m[1])
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	deadline := time.Now().Add(5 * time.Second)
	var body string
	for time.Now().Before(deadline) {
		body = scrape()
		if strings.Contains(body, "loganom_lines_read_total 5") && strings.Contains(body, "loganom_alerts_total 1") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(body, "loganom_lines_read_total 5") || !strings.Contains(body, "loganom_alerts_total 1") {
		var got []string
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(l, "loganom_") {
				got = append(got, l)
			}
		}
		t.Errorf("5 lines read and an alert out, metrics say:\n%s", strings.Join(got, "\n"))
	}
	in.Close()
	<-code
}

// TestReviewFollowStdinSIGTERM: SIGTERM stops the daemon that reads a
// pipe (journalctl | loganom ... --follow -l -) whose writer goes on.
func TestReviewFollowStdinSIGTERM(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.ini")
	liveConfig(t, cfg, "XX", "")
	in, _, stderr, code := startFollow(t, "postfix-sasl", "--follow", "-l", "-", "--no-cache", "--no-rdns",
		"--year", "2026", "--tz", "UTC", "--format", "json", "-c", cfg, "--no-db")
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "SIGTERM caught", func() bool { return strings.Contains(stderr.String(), "stopping") })
	select {
	case <-code:
	case <-time.After(5 * time.Second):
		t.Errorf("still running 5 s after SIGTERM (stdin open)")
		in.Close()
		<-code
	}
}
