package loganomcmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
)

// waitFor polls until cond holds, or fails the test after a while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// liveLine is a Postfix login line of the example geo database's
// addresses: São Paulo (BR) and Osaka (JP).
func liveLine(at time.Time, user, ip string) string {
	return fmt.Sprintf("%s mail postfix/submission/smtpd[4242]: 2C0430163C: client=unknown[%s], sasl_method=LOGIN, sasl_username=%s\n",
		at.Format(time.Stamp), ip, user)
}

const (
	saoPaulo = "200.158.1.34"
	osaka    = "60.56.35.37"
)

// liveConfig writes a config whose whitelist ignores countries, with the
// bundled example databases and a webhook.
func liveConfig(t *testing.T, path, countries, webhook string) {
	t.Helper()
	geo, err := filepath.Abs("../../../testdata/geo")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("[GENERAL]\ncountry_ignore = %s\n\n[ENRICH]\ngeoip = %s/example-city.mmdb\n    %s/example-asn.mmdb\n", countries, geo, geo)
	if webhook != "" {
		cfg += "\n[WEBHOOK]\nenabled = true\nurl = " + webhook + "\n"
	}
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runFollow starts loganom postfix-sasl --follow -l - on a pipe and
// returns its stdin, its stdout's lines as they come, its stderr and
// the channel of its exit code.
func runFollow(t *testing.T, args ...string) (io.WriteCloser, <-chan string, *syncbuf.Buffer, <-chan int) {
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
	args = append([]string{"postfix-sasl", "--follow", "-l", "-", "--no-cache", "--no-rdns", "--year", "2026", "--tz", "UTC", "--format", "json"}, args...)
	go func() {
		c := Main(cli.Env{Args: args, Stdin: inR, Stdout: outW, Stderr: stderr, Getenv: func(string) string { return "" }})
		outW.Close()
		code <- c
	}()
	waitFor(t, "the daemon to start", func() bool { return strings.Contains(stderr.String(), "following") })
	return inW, lines, stderr, code
}

// nextAlert returns the next alert printed, or fails after a while.
func nextAlert(t *testing.T, lines <-chan string) map[string]any {
	t.Helper()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatal("stdout closed, no alert")
		}
		var a map[string]any
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		return a
	case <-time.After(20 * time.Second):
		t.Fatal("no alert")
	}
	return nil
}

// TestFollowReload: an alert comes out as soon as its login is read, and
// reaches the webhook; SIGHUP reads the config again mid-run, and the
// whitelist it gives applies to the logins after it; SIGTERM stops.
func TestFollowReload(t *testing.T) {
	var mu sync.Mutex
	var hooked []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooked = append(hooked, string(b))
		mu.Unlock()
	}))
	defer hook.Close()
	cfg := filepath.Join(t.TempDir(), "config.ini")
	liveConfig(t, cfg, "BR", hook.URL)
	in, lines, stderr, code := runFollow(t, "-c", cfg, "--no-db")

	t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var b strings.Builder
	for d := 0; d < 3; d++ {
		for _, u := range []string{"ana@example.test", "lucas@example.test"} {
			b.WriteString(liveLine(t0.Add(time.Duration(d)*24*time.Hour), u, saoPaulo))
		}
	}
	// ana, at home, then in Osaka 20 minutes later
	at := t0.Add(3*24*time.Hour + 8*time.Hour)
	b.WriteString(liveLine(at, "ana@example.test", saoPaulo))
	b.WriteString(liveLine(at.Add(20*time.Minute), "ana@example.test", osaka))
	if _, err := io.WriteString(in, b.String()); err != nil {
		t.Fatal(err)
	}
	a := nextAlert(t, lines)
	if a["user"] != "ana@example.test" || a["severity"] != "high" {
		t.Fatalf("alert %v, want ana, high", a)
	}
	waitFor(t, "the webhook", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(hooked) == 1 && strings.Contains(hooked[0], "ana@example.test")
	})

	// JP is now home too: lucas in Osaka is no alert
	liveConfig(t, cfg, "BR, JP", hook.URL)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the config read again", func() bool { return strings.Contains(stderr.String(), "msg=\"SIGHUP: config") })
	b.Reset()
	b.WriteString(liveLine(at.Add(time.Hour), "lucas@example.test", saoPaulo))
	b.WriteString(liveLine(at.Add(time.Hour+20*time.Minute), "lucas@example.test", osaka))
	if _, err := io.WriteString(in, b.String()); err != nil {
		t.Fatal(err)
	}

	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// (once it is caught: the test process must not get it after the daemon stops)
	waitFor(t, "SIGTERM caught", func() bool { return strings.Contains(stderr.String(), "stopping") })
	in.Close()
	select {
	case c := <-code:
		if c != 0 {
			t.Fatalf("exit %d\n%s", c, stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("SIGTERM did not stop it")
	}
	for l := range lines {
		t.Errorf("another alert: %s\n%s", l, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hooked) != 1 {
		t.Errorf("webhook got %d alerts, want 1", len(hooked))
	}
	if !strings.Contains(stderr.String(), "level=INFO msg=\"alert: ana@example.test: high:") {
		t.Errorf("no structured line for the alert:\n%s", stderr)
	}
}
