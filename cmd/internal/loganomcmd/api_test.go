package loganomcmd

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
)

var apiListenRE = regexp.MustCompile(`api: listening on ([0-9.:]+)`)

// TestFollowAPI: with [API] listen, the daemon serves the HTTP API in its
// own process, on its state: a block made through it (with a token) is
// enforced by the daemon's policy service, a request without the token
// changes nothing, and the audit names the token.
func TestFollowAPI(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.ini")
	liveConfig(t, cfg, "", "")
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("ops s3cret-token-for-the-test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	extra := "\n[POLICY]\nlisten = 127.0.0.1:0\naction = 554 5.7.1 blocked by loganom\nrefresh = 100ms\n\n[API]\nlisten = 127.0.0.1:0\ntoken_file = " + tokens + "\n"
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(extra)
	f.Close()
	db := filepath.Join(dir, "state.db")
	_, stderr, code := startDaemon(t, "-c", cfg, "--db", db)
	pm, am := listenRE.FindStringSubmatch(stderr.String()), apiListenRE.FindStringSubmatch(stderr.String())
	if pm == nil || am == nil {
		t.Fatalf("no listening lines:\n%s", stderr)
	}
	pc := dialPolicy(t, pm[1])
	put := func(token string) int {
		req, err := http.NewRequest(http.MethodPut, "http://"+am[1]+"/v1/blocks/bob@example.test", strings.NewReader(`{"reason":"stolen","for":"1h"}`))
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := put(""); c != http.StatusUnauthorized {
		t.Fatalf("no token: %d, want 401", c)
	}
	if c := put("wrong"); c != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d, want 401", c)
	}
	time.Sleep(300 * time.Millisecond) // three refreshes: nothing blocked
	if a := pc.ask("bob@example.test", "192.0.2.1", "a1"); a != "DUNNO" {
		t.Fatalf("bob before the block: %q, want DUNNO", a)
	}
	if c := put("s3cret-token-for-the-test"); c != http.StatusCreated && c != http.StatusOK {
		t.Fatalf("block: %d", c)
	}
	start := time.Now()
	for n := 0; ; n++ {
		a := pc.ask("bob@example.test", "192.0.2.1", "b"+string(rune('a'+n%26)))
		if a == "554 5.7.1 blocked by loganom" {
			break
		}
		if a != "DUNNO" || time.Since(start) > 10*time.Second {
			t.Fatalf("bob after the block: %q after %s\n%s", a, time.Since(start), stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if c := stopDaemon(t, stderr, code); c != 0 {
		t.Fatalf("exit %d\n%s", c, stderr)
	}
	var out, errb syncbuf.Buffer
	if c := Main(cli.Env{Args: []string{"blocks", "--db", db, "--audit"}, Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}); c != 0 {
		t.Fatalf("blocks --audit: %d %s", c, &errb)
	}
	if !strings.Contains(out.String(), "block bob@example.test by api:ops") || strings.Count(out.String(), "block bob") != 1 {
		t.Errorf("audit:\n%s", &out)
	}
}

// With --no-db there is nothing for the API to serve: a usage error.
func TestFollowAPINoState(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.ini")
	liveConfig(t, cfg, "", "")
	tokens := filepath.Join(dir, "tokens")
	os.WriteFile(tokens, []byte("ops tok\n"), 0o600)
	f, _ := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("\n[API]\nlisten = 127.0.0.1:0\ntoken_file = " + tokens + "\n")
	f.Close()
	log := filepath.Join(dir, "maillog")
	os.WriteFile(log, nil, 0o644)
	var out, errb syncbuf.Buffer
	c := Main(cli.Env{Args: []string{"postfix-sasl", "--follow", "--no-db", "--no-cache", "--no-rdns", "-c", cfg, "-l", log},
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	if c != cli.ExitUsage || !strings.Contains(errb.String(), `msg="api: [API] listen needs the state`) || !strings.Contains(errb.String(), "hint:") {
		t.Errorf("exit %d\n%s", c, &errb)
	}
}
