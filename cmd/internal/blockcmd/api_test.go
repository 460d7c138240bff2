package blockcmd

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/state"
)

const testToken = "0123456789abcdef0123456789abcdef"

func writeTokens(t *testing.T, dir string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, "api-tokens")
	if err := os.WriteFile(p, []byte("ops "+testToken+"\n"), mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, mode)
	return p
}

func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var apiListening = regexp.MustCompile(`msg="api: listening" prog=loganom addr=(\S+)`)

// loganom serve with the policy service and the API from the config: a
// block through the API is enforced by the policy service, and audited
// with the token's name; the unblock too.
func TestServeAPI(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(t.TempDir())
	db := filepath.Join(dir, "state.db")
	writeTokens(t, dir, 0o600)
	// token_file relative: to the config's directory
	conf := filepath.Join(dir, "config.ini")
	os.WriteFile(conf, []byte("[STATE]\ndb = "+db+"\n[POLICY]\nlisten = 127.0.0.1:0\nrefresh = 20ms\n[API]\nlisten = 127.0.0.1:0\ntoken_file = api-tokens\n"), 0o644)
	base, log, stop := serveUntil(t, &ServeCmd{Config: conf}, apiListening)
	m := regexp.MustCompile(`msg="policy: listening" prog=loganom addr=(\S+)`).FindStringSubmatch(log.String())
	if m == nil {
		t.Fatalf("no policy service:\n%s", log)
	}
	policyAddr := m[1]
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.Contains(log.String(), "tls=false token_file="+filepath.Join(dir, "api-tokens")) {
		t.Errorf("log:\n%s", log)
	}
	if code, body := call(t, "PUT", base+"/v1/blocks/bob@example.test", "", `{"reason":"x"}`); code != 401 {
		t.Errorf("no token: %d %s", code, body)
	}
	if got := ask(t, policyAddr, "bob@example.test"); got != "action=DUNNO" {
		t.Errorf("bob, after a refused PUT: %q", got)
	}
	if code, body := call(t, "PUT", base+"/v1/blocks/Bob@example.test", testToken, `{"reason":"botnet","for":"1h"}`); code != 201 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	waitAnswer(t, policyAddr, "bob@example.test", "action="+"REJECT 5.7.1 account temporarily blocked")
	if code, body := call(t, "DELETE", base+"/v1/blocks/bob@example.test", testToken, `{"reason":"password changed"}`); code != 200 {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	waitAnswer(t, policyAddr, "bob@example.test", "action=DUNNO")
	// loganom blocks --audit shows who
	out := run(t, func(e cli.Env, l *cli.Logger) int {
		return Blocks(e, l, &BlocksCmd{Common: Common{DB: db}, Audit: true, Format: "text"})
	})
	if !regexp.MustCompile(`(?m)^\S+ \S+ unblock bob@example.test by api:ops: password changed\n\S+ \S+ block bob@example.test by api:ops \(manual\), until \S+ \S+: botnet$`).MatchString(out) {
		t.Errorf("audit:\n%s", out)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d\n%s", code, log)
	}
	for _, want := range []string{`msg="api: stopping`, `msg="api: stopped"`, `msg="policy: stopped"`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	if _, err := http.Get(base + "/v1/blocks"); err == nil {
		t.Error("the API still listens after the stop")
	}
}

// The API alone, without the policy service, from the flags.
func TestServeAPIOnly(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tokens := writeTokens(t, dir, 0o600)
	db := filepath.Join(dir, "state.db")
	base, log, stop := serveUntil(t, &ServeCmd{DB: db, APIFlags: APIFlags{APIListen: "127.0.0.1:0", APITokenFile: tokens}}, apiListening)
	if strings.Contains(log.String(), "policy:") {
		t.Errorf("a policy service:\n%s", log)
	}
	if code, body := call(t, "PUT", base+"/v1/blocks/alice", testToken, ""); code != 201 {
		t.Fatalf("PUT: %d %s", code, body)
	}
	st, err := state.Open(context.Background(), db, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if bl, _ := st.Blocks(context.Background(), time.Now()); len(bl) != 1 || bl[0].User != "alice" || bl[0].By != "api:ops" {
		t.Errorf("blocks: %+v", bl)
	}
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// Settings that stop the start, each with its error and hint.
func TestServeAPIRefused(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	db := filepath.Join(dir, "state.db")
	good := writeTokens(t, dir, 0o600)
	open := writeTokens(t, t.TempDir(), 0o644)
	for _, x := range []struct {
		name string
		c    ServeCmd
		code int
		err  string
		hint string
	}{
		{"neither", ServeCmd{DB: db}, 2, "loganom: error: nothing to serve: neither [POLICY] listen nor [API] listen is set",
			"loganom: hint: [POLICY] listen = 127.0.0.1:10040 (or --listen) runs the policy service"},
		{"no token file", ServeCmd{DB: db, APIFlags: APIFlags{APIListen: "127.0.0.1:0"}}, 2, "loganom: error: [API] token_file: not set: every request needs a token",
			"loganom: hint: write one with: (umask 077; printf 'admin %s\\n' \"$(openssl rand -hex 32)\" > /etc/loganom/api-tokens)"},
		{"token file readable by others", ServeCmd{DB: db, APIFlags: APIFlags{APIListen: "127.0.0.1:0", APITokenFile: open}}, 2,
			"loganom: error: [API] token_file " + open + ": mode 0644: group or others may read or change it", "loganom: hint: chmod 600 " + open},
		{"not loopback, no TLS", ServeCmd{DB: db, APIFlags: APIFlags{APIListen: "0.0.0.0:8731", APITokenFile: good}}, 2,
			"loganom: error: [API] listen 0.0.0.0:8731: not a loopback address, and no TLS", "loganom: hint: listen on 127.0.0.1 (and reach it through a TLS proxy or an SSH tunnel), or set [API] cert and key"},
		{"half a TLS pair", ServeCmd{DB: db, APIFlags: APIFlags{APIListen: "127.0.0.1:0", APITokenFile: good, APICert: good}}, 2,
			"loganom: error: [API] key: not set, and [API] cert is", ""},
		// the policy service started first is stopped again
		{"policy and a bad API", ServeCmd{DB: db, PolicyFlags: PolicyFlags{Listen: "127.0.0.1:0"}, APIFlags: APIFlags{APIListen: "127.0.0.1:0"}}, 2, "[API] token_file: not set", ""},
	} {
		t.Run(x.name, func(t *testing.T) {
			e, _, errb := env()
			code := ServeContext(context.Background(), e, &cli.Logger{Prog: "loganom", W: e.Stderr}, &x.c)
			if code != x.code || !strings.Contains(errb.String(), x.err) || x.hint != "" && !strings.Contains(errb.String(), x.hint) {
				t.Errorf("exit %d, stderr:\n%s\nwant %d, %q, %q", code, errb, x.code, x.err, x.hint)
			}
			if strings.Contains(errb.String(), testToken) {
				t.Error("a token in the output")
			}
		})
	}
}
