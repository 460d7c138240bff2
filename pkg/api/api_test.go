package api

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/state"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// The tokens of the tests' token file.
const (
	opsToken  = "ops-0123456789abcdef0123456789abcdef"
	deskToken = "desk-fedcba9876543210fedcba98765432"
)

// t0 is the tests' clock.
var t0 = time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)

type backend struct {
	name string
	dsn  func(t testing.TB) string
}

var backends = []backend{
	{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "state.db") }},
	{"postgres", pgtest.DSN},
}

func openState(t testing.TB, dsn string) state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), dsn, state.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func writeFile(t testing.TB, path, text string, mode os.FileMode) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return path
}

func tokenFile(t testing.TB) string {
	t.Helper()
	return writeFile(t, filepath.Join(t.TempDir(), "tokens"), "# who  token\nops "+opsToken+"\n\nhelpdesk "+deskToken+"\n", 0o600)
}

// syncBuf is a log that the server writes and the test reads.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// fixture is a running API on loopback, on a real state.
type fixture struct {
	t      *testing.T
	st     state.Store
	base   string
	client *http.Client
	log    *syncBuf
	srv    *Server
}

// start serves cfg (Store, TokenFile, Now filled in when unset) on
// 127.0.0.1, until the test ends.
func start(t *testing.T, cfg Config) *fixture {
	t.Helper()
	f := &fixture{t: t, st: nil, log: &syncBuf{}, client: &http.Client{Timeout: 30 * time.Second}}
	if cfg.Store == nil {
		cfg.Store = openState(t, filepath.Join(t.TempDir(), "state.db"))
	}
	if st, ok := cfg.Store.(state.Store); ok {
		f.st = st
	}
	if cfg.TokenFile == "" {
		cfg.TokenFile = tokenFile(t)
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return t0 }
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	cfg.Logger = slog.New(slog.NewTextHandler(f.log, nil))
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	ln, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	scheme := "http"
	if srv.TLS() {
		scheme = "https"
	}
	f.base = scheme + "://" + ln.Addr().String()
	return f
}

type answer struct {
	status int
	header http.Header
	body   []byte
	req    *http.Request
}

func (a answer) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("not JSON (%v): %q", err, a.body)
	}
	return m
}

// do sends a request; token "" sends no Authorization.
func (f *fixture) do(method, path, token, body string) answer {
	f.t.Helper()
	return f.doHeader(method, path, body, map[string]string{"Authorization": bearer(token)})
}

func bearer(token string) string {
	if token == "" {
		return ""
	}
	return "Bearer " + token
}

func (f *fixture) doHeader(method, path, body string, header map[string]string) answer {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.base+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, b, req}
}

// snapshot is what the state holds of the blocks: it must not change on
// a refused request.
func snapshot(t testing.TB, st state.Store) string {
	t.Helper()
	bl, err := st.Blocks(context.Background(), t0)
	if err != nil {
		t.Fatal(err)
	}
	au, err := st.BlockAudit(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%+v\n%+v", bl, au)
}

// TestAPI: each route, on each backend, as a client sees it, and what it
// leaves in the state.
func TestAPI(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testAPI(t, b) })
	}
}

func testAPI(t *testing.T, b backend) {
	st := openState(t, b.dsn(t))
	ctx := context.Background()
	// a history and an alert for bob, as a run records them
	yes := true
	_, err := st.Commit(ctx, &state.Run{Instance: "mx1", Now: t0.Add(-time.Hour), Channels: []string{"webhook"},
		Logins: []state.Login{
			{User: "bob@example.test", IP: "192.0.2.10", Count: 3, First: t0.Add(-48 * time.Hour), Last: t0.Add(-47 * time.Hour), Country: "DE", City: "Berlin", HasLoc: true, Lat: 52.5, Lon: 13.4, AccuracyKM: 20, ASN: 64500, Org: "Example Net", RDNS: "pc.example.test", RDNSVerified: &yes,
				Methods: detect.MethodPlain | detect.MethodLogin},
			{User: "bob@example.test", IP: "203.0.113.7", Count: 1, First: t0.Add(-2 * time.Hour), Last: t0.Add(-2 * time.Hour), Country: "BR"},
		},
		Anomalies: []state.Anomaly{{User: "bob@example.test", Last: t0.Add(-2 * time.Hour), Rule: "impossible travel", Payload: []byte(`{}`),
			Addresses: []state.Evidence{{IP: "203.0.113.7", Count: 1, First: t0.Add(-2 * time.Hour), Last: t0.Add(-2 * time.Hour), Country: "BR"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := start(t, Config{Store: st})
	check := func(name string, a answer, status int, want ...string) map[string]any {
		t.Helper()
		if a.status != status {
			t.Fatalf("%s: status %d, want %d: %s", name, a.status, status, a.body)
		}
		if ct := a.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
		if a.header.Get("X-Content-Type-Options") != "nosniff" || a.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", name, a.header)
		}
		for _, w := range want {
			if !strings.Contains(string(a.body), w) {
				t.Errorf("%s: the body lacks %s:\n%s", name, w, a.body)
			}
		}
		f.validate(name, a)
		return a.json(t)
	}

	check("no blocks", f.do("GET", "/v1/blocks", opsToken, ""), 200, `{"blocks":[]}`)
	// a new block: 201; the name made canonical
	check("block", f.do("PUT", "/v1/blocks/Bob@Example.TEST", opsToken, `{"reason":"botnet","for":"24h"}`), 201,
		`"block":{"user":"bob@example.test","reason":"botnet","source":"manual","by":"api:ops","created":"2026-11-28T14:00:00Z","expires":"2026-11-29T14:00:00Z"}`)
	// again, by another token, without a body: 200, with the block replaced
	m := check("block again", f.do("PUT", "/v1/blocks/bob@example.test", deskToken, ""), 200,
		`"block":{"user":"bob@example.test","reason":"","source":"manual","by":"api:helpdesk","created":"2026-11-28T14:00:00Z"}`,
		`"replaced":{"user":"bob@example.test","reason":"botnet"`)
	if _, ok := m["block"].(map[string]any)["expires"]; ok {
		t.Error("a block without for has expires")
	}
	check("block for 7d", f.do("PUT", "/v1/blocks/carol@example.test", opsToken, `{"for":"1.5d"}`), 201, `"expires":"2026-11-30T02:00:00Z"`)
	check("list", f.do("GET", "/v1/blocks", opsToken, ""), 200, `"user":"bob@example.test"`, `"user":"carol@example.test"`)

	m = check("account", f.do("GET", "/v1/accounts/BOB@example.test", opsToken, ""), 200,
		`"blocked":{"user":"bob@example.test","reason":"","source":"manual","by":"api:helpdesk"`,
		`{"ip":"203.0.113.7","count":1,"first":"2026-11-28T12:00:00Z","last":"2026-11-28T12:00:00Z","country":"BR"}`,
		`{"ip":"192.0.2.10","count":3,"first":"2026-11-26T14:00:00Z","last":"2026-11-26T15:00:00Z","country":"DE","city":"Berlin","lat":52.5,"lon":13.4,"accuracy_km":20,"asn":64500,"org":"Example Net","rdns":"pc.example.test","rdns_verified":true,"methods":["PLAIN","LOGIN"]}`)
	if n := len(m["addresses"].([]any)); n != 2 {
		t.Errorf("addresses: %d", n)
	}
	check("unknown account", f.do("GET", "/v1/accounts/nobody@example.test", opsToken, ""), 200, `{"user":"nobody@example.test","blocked":null,"addresses":[]}`)

	check("alerts", f.do("GET", "/v1/alerts", opsToken, ""), 200, `"user":"bob@example.test","instance":"mx1"`, `"rule":"impossible travel","open":true`,
		`"evidence":[{"ip":"203.0.113.7","count":1,`, `"deliveries":[{"channel":"webhook","status":"pending","failed_runs":0,`, `"truncated":false`)
	for _, x := range []struct{ q, want string }{
		{"?user=Bob@example.test", `"id":1`},
		{"?user=carol@example.test", `"alerts":[]`},
		{"?open=true&since=7d", `"id":1`},
		{"?open=false", `"alerts":[]`},
		{"?since=30m", `"alerts":[]`}, // opened an hour before t0
		{"?since=2026-11-28T12:00:00Z", `"id":1`},
		{"?since=2026-11-28T13:30:00Z", `"alerts":[]`},
	} {
		check("alerts"+x.q, f.do("GET", "/v1/alerts"+x.q, opsToken, ""), 200, x.want)
	}
	// a limit below the count: truncated
	_, err = st.Commit(ctx, &state.Run{Instance: "mx1", Now: t0, Anomalies: []state.Anomaly{{User: "dave@example.test", Last: t0, Rule: "many places", Payload: []byte(`{}`)}}})
	if err != nil {
		t.Fatal(err)
	}
	m = check("alerts?limit=1", f.do("GET", "/v1/alerts?limit=1", opsToken, ""), 200, `"truncated":true`, `"user":"dave@example.test"`)
	if n := len(m["alerts"].([]any)); n != 1 {
		t.Errorf("limit=1: %d alerts", n)
	}

	// unblock: with a reason in the body, or in the query; then 404
	check("unblock", f.do("DELETE", "/v1/blocks/BOB@example.test", deskToken, `{"reason":"password changed"}`), 200,
		`{"at":"2026-11-28T14:00:00Z","action":"unblock","user":"bob@example.test","by":"api:helpdesk","reason":"password changed"}`)
	check("unblock again", f.do("DELETE", "/v1/blocks/bob@example.test", deskToken, ""), 404, `{"error":"bob@example.test is not blocked"}`)
	check("unblock, query", f.do("DELETE", "/v1/blocks/carol@example.test?reason=false+alarm", opsToken, ""), 200, `"reason":"false alarm"`)
	check("list, empty", f.do("GET", "/v1/blocks", opsToken, ""), 200, `{"blocks":[]}`)
	// the unblock closed bob's alert
	check("alerts, closed", f.do("GET", "/v1/alerts?user=bob@example.test", opsToken, ""), 200, `"open":false`, `"close_reason":"unblocked","closed_by":"api:helpdesk"`)

	// the audit trail: who (the token's name), what, why
	au, err := st.BlockAudit(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range au {
		got = append(got, c.Action+" "+c.User+" by "+c.By+": "+c.Reason)
	}
	want := []string{
		"unblock carol@example.test by api:ops: false alarm",
		"unblock bob@example.test by api:helpdesk: password changed",
		"block carol@example.test by api:ops: ",
		"block bob@example.test by api:helpdesk: ",
		"block bob@example.test by api:ops: botnet",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(f.log.String(), `msg="api: blocked" user=bob@example.test by=api:ops for=24h reason=botnet`) {
		t.Errorf("log:\n%s", f.log)
	}
}

// No token, or a wrong one: 401 with WWW-Authenticate, on every route,
// and nothing changes.
func TestAuth(t *testing.T) {
	f := start(t, Config{})
	if err := f.st.AddBlock(context.Background(), state.Block{User: "bob@example.test", By: "root", Created: t0}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, f.st)
	for _, h := range []struct {
		name, auth, wantChallenge string
	}{
		{"none", "", `Bearer realm="loganom"`},
		{"basic", "Basic b3BzOm9wcw==", `Bearer realm="loganom"`},
		{"empty bearer", "Bearer ", `Bearer realm="loganom"`},
		{"wrong", "Bearer ops-0123456789abcdef0123456789abcdeX", `Bearer realm="loganom", error="invalid_token"`},
		{"a prefix", "Bearer " + opsToken[:20], `Bearer realm="loganom", error="invalid_token"`},
		{"longer", "Bearer " + opsToken + "0", `Bearer realm="loganom", error="invalid_token"`},
		{"the name", "Bearer ops", `Bearer realm="loganom", error="invalid_token"`},
		{"two tokens", "Bearer " + opsToken + " " + deskToken, `Bearer realm="loganom", error="invalid_token"`},
	} {
		for _, r := range []struct{ method, path, body string }{
			{"GET", "/v1/blocks", ""},
			{"PUT", "/v1/blocks/alice@example.test", `{"reason":"x"}`},
			{"DELETE", "/v1/blocks/bob@example.test", ""},
			{"GET", "/v1/accounts/bob@example.test", ""},
			{"GET", "/v1/alerts", ""},
			{"GET", "/v1/openapi.json", ""},
			{"GET", "/v1/nowhere", ""},
			{"POST", "/v1/blocks", ""},
		} {
			a := f.doHeader(r.method, r.path, r.body, map[string]string{"Authorization": h.auth})
			if a.status != 401 || a.header.Get("WWW-Authenticate") != h.wantChallenge || a.json(t)["error"] == nil {
				t.Errorf("%s: %s %s: %d %q %s", h.name, r.method, r.path, a.status, a.header.Get("WWW-Authenticate"), a.body)
			}
			if bytes.Contains(a.body, []byte("bob")) || bytes.Contains(a.body, []byte("openapi\":")) {
				t.Errorf("%s: %s %s: the 401 tells something: %s", h.name, r.method, r.path, a.body)
			}
		}
	}
	if after := snapshot(t, f.st); after != before {
		t.Errorf("the state changed:\n%s\nwas\n%s", after, before)
	}
	// the scheme's case does not matter (RFC 7235)
	if a := f.doHeader("GET", "/v1/blocks", "", map[string]string{"Authorization": "bearer " + opsToken}); a.status != 200 {
		t.Errorf("bearer in lower case: %d %s", a.status, a.body)
	}
	// logged, but not each of the many
	if n := strings.Count(f.log.String(), `msg="api: a request with a wrong token refused" remote=127.0.0.1:`); n < 1 || n >= 20 {
		t.Errorf("%d lines for %d wrong tokens:\n%s", n, 5*8, f.log)
	}
}

// match finds the token among many, and nothing else.
func TestMatch(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "t"), "a aaaaaaaaaaaaaaaaaaaa\nb bbbbbbbbbbbbbbbbbbbb\nc cccccccccccccccccccc\n", 0o600)
	toks, _, err := readTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct{ secret, name string }{
		{"aaaaaaaaaaaaaaaaaaaa", "a"}, {"bbbbbbbbbbbbbbbbbbbb", "b"}, {"cccccccccccccccccccc", "c"},
		{"", ""}, {"aaaaaaaaaaaaaaaaaaa", ""}, {"dddddddddddddddddddd", ""}, {"aaaaaaaaaaaaaaaaaaaaa", ""},
	} {
		tok, ok := match(toks, x.secret)
		if name := tok.name; name != x.name || ok != (x.name != "") {
			t.Errorf("match(%q) = %q, %v; want %q", x.secret, tok.name, ok, x.name)
		}
	}
}

// The token file: its format, and its mode, enforced.
func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	st := openState(t, filepath.Join(dir, "state.db"))
	for _, x := range []struct {
		name, text string
		mode       os.FileMode
		err, hint  string
		names      []string
	}{
		{"named", "# comment\n ops " + opsToken + " \n\nhelpdesk " + deskToken + "\n", 0o600, "", "", []string{"ops", "helpdesk"}},
		{"bare", opsToken + "\n", 0o600, "", "", []string{"default"}},
		{"read-only", opsToken, 0o400, "", "", []string{"default"}},
		{"group readable", opsToken, 0o640, "mode 0640: group or others may read or change it", "chmod 600 ", nil},
		{"world readable", opsToken, 0o604, "mode 0604: group or others may read or change it", "chmod 600 ", nil},
		{"group writable", opsToken, 0o620, "mode 0620", "chmod 600 ", nil},
		{"empty", "# nothing\n\n", 0o600, "holds no token", "openssl rand -hex 32", nil},
		{"short", "ops abc\n", 0o600, "line 1 (ops): the token is shorter than 16 characters", "openssl rand -hex 32", nil},
		{"bad character", "ops " + opsToken + "\"\n", 0o600, `line 1 (ops): the token holds a character other than`, "", nil},
		{"four fields", "ops " + opsToken + " read more\n", 0o600, "line 1: want NAME TOKEN, NAME TOKEN RIGHT, or a bare TOKEN", "", nil},
		{"bad name", "o'ps " + opsToken + "\n", 0o600, `line 1: the name "o'ps": want 1 to 64 of`, "", nil},
		{"same name", "ops " + opsToken + "\nops " + deskToken + "\n", 0o600, "line 2: the name ops is on line 1 too", "", nil},
		{"same token", "ops " + opsToken + "\ndesk " + opsToken + "\n", 0o600, "line 2 (desk): the same token as line 1", "a token of its own", nil},
		{"two bare", opsToken + "\n" + deskToken + "\n", 0o600, "line 2: the name default is on line 1 too", "", nil},
	} {
		t.Run(x.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(t.TempDir(), "tokens"), x.text, x.mode)
			_, err := New(Config{Store: st, Listen: "127.0.0.1:0", TokenFile: path})
			if x.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				toks, _, _ := readTokens(path)
				var names []string
				for _, k := range toks {
					names = append(names, k.name)
				}
				if fmt.Sprint(names) != fmt.Sprint(x.names) {
					t.Errorf("names %v, want %v", names, x.names)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != "token_file" || !strings.Contains(err.Error(), x.err) || !strings.HasPrefix(err.Error(), "[API] token_file "+path+": ") || !strings.Contains(ce.Hint, x.hint) {
				t.Fatalf("err = %v (hint %q); want %q, hint %q", err, hintOf(err), x.err, x.hint)
			}
			for _, secret := range []string{opsToken, deskToken} {
				if strings.Contains(err.Error()+ce.Hint, secret) {
					t.Errorf("the error shows a token: %v", err)
				}
			}
			if x.hint == "chmod 600 " && ce.Hint != "chmod 600 "+path {
				t.Errorf("hint %q", ce.Hint)
			}
		})
	}
	for _, x := range []struct{ name, path, err string }{
		{"unset", "", "[API] token_file: not set: every request needs a token"},
		{"missing", filepath.Join(dir, "nope"), "no such file or directory"},
		{"a directory", dir, "not a regular file"},
	} {
		_, err := New(Config{Store: st, TokenFile: x.path})
		if err == nil || !strings.Contains(err.Error(), x.err) {
			t.Errorf("%s: %v, want %q", x.name, err, x.err)
		}
	}
}

func hintOf(err error) string {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return ce.Hint
	}
	return ""
}

// The token file is read again when it changes: a token added works, one
// removed does not; a file made readable by others refuses everyone.
func TestTokenFileChanges(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "tokens"), "ops "+opsToken+"\n", 0o600)
	f := start(t, Config{TokenFile: path})
	if a := f.do("GET", "/v1/blocks", opsToken, ""); a.status != 200 {
		t.Fatalf("ops: %d", a.status)
	}
	if a := f.do("GET", "/v1/blocks", deskToken, ""); a.status != 401 {
		t.Fatalf("helpdesk, not yet in the file: %d", a.status)
	}
	// helpdesk added, ops revoked (a new file renamed over the old, as
	// an editor does)
	tmp := writeFile(t, path+".new", "helpdesk "+deskToken+"\n", 0o600)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if a := f.do("PUT", "/v1/blocks/bob", deskToken, ""); a.status != 201 {
		t.Errorf("helpdesk, added: %d %s", a.status, a.body)
	}
	if a := f.do("DELETE", "/v1/blocks/bob", opsToken, ""); a.status != 401 {
		t.Errorf("ops, revoked: %d %s", a.status, a.body)
	}
	// made readable by others: every request refused, until fixed
	os.Chmod(path, 0o644)
	for i := 0; i < 3; i++ {
		if a := f.do("GET", "/v1/blocks", deskToken, ""); a.status != 503 || !strings.Contains(string(a.body), "token file cannot be used") {
			t.Errorf("the file mode 0644: %d %s", a.status, a.body)
		}
	}
	if n := strings.Count(f.log.String(), "the token file cannot be used"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, f.log)
	}
	if !strings.Contains(f.log.String(), `hint="chmod 600 `+path+`"`) {
		t.Errorf("log:\n%s", f.log)
	}
	os.Chmod(path, 0o600)
	if a := f.do("GET", "/v1/blocks", deskToken, ""); a.status != 200 {
		t.Errorf("fixed: %d %s", a.status, a.body)
	}
	// removed: refused
	os.Remove(path)
	if a := f.do("GET", "/v1/blocks", deskToken, ""); a.status != 503 {
		t.Errorf("removed: %d %s", a.status, a.body)
	}
}

// Where it may listen: loopback, or anywhere with TLS; the TLS pair whole.
func TestListenConfig(t *testing.T) {
	st := openState(t, filepath.Join(t.TempDir(), "state.db"))
	toks := tokenFile(t)
	cert, key := selfSigned(t, t.TempDir(), "127.0.0.1")
	for _, x := range []struct {
		listen, cert, key string
		err               string
	}{
		{"127.0.0.1:8731", "", "", ""},
		{"[::1]:8731", "", "", ""},
		{"localhost:8731", "", "", ""},
		{"unix:/run/loganom/api.sock", "", "", ""},
		{"", "", "", ""}, // DefaultListen
		{"0.0.0.0:8731", "", "", "[API] listen 0.0.0.0:8731: not a loopback address, and no TLS"},
		{":8731", "", "", "[API] listen :8731: not a loopback address, and no TLS"},
		{"192.0.2.1:8731", "", "", "not a loopback address, and no TLS"},
		{"mail.example.test:8731", "", "", "not a loopback address, and no TLS"},
		{"0.0.0.0:8731", cert, key, ""},
		{"192.0.2.1:8731", cert, key, ""},
		{"127.0.0.1:8731", cert, "", "[API] key: not set, and [API] cert is"},
		{"127.0.0.1:8731", "", key, "[API] cert: not set, and [API] key is"},
		{"127.0.0.1:8731", key, cert, "[API] cert " + key + ": with [API] key " + cert},
		{"127.0.0.1:8731", cert + ".missing", key, "no such file"},
		{"nowhere", "", "", `[API] listen nowhere: want HOST:PORT`},
		{"127.0.0.1", "", "", `want HOST:PORT`},
	} {
		_, err := New(Config{Store: st, TokenFile: toks, Listen: x.listen, CertFile: x.cert, KeyFile: x.key})
		if x.err == "" && err != nil || x.err != "" && (err == nil || !strings.Contains(err.Error(), x.err)) {
			t.Errorf("listen %q cert %q key %q: %v; want %q", x.listen, x.cert, x.key, err, x.err)
		}
		if strings.Contains(x.err, "no TLS") && !strings.Contains(hintOf(err), "set [API] cert and key") {
			t.Errorf("listen %q: hint %q", x.listen, hintOf(err))
		}
	}
	// a token file is needed on any address, TLS or not
	if _, err := New(Config{Store: st, Listen: "0.0.0.0:8731", CertFile: cert, KeyFile: key}); err == nil || !strings.Contains(err.Error(), "token_file: not set") {
		t.Errorf("TLS without a token file: %v", err)
	}
}

// selfSigned writes a self-signed certificate for host, and its key.
func selfSigned(t testing.TB, dir, host string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP(host)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, cert, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), 0o644)
	writeFile(t, key, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})), 0o600)
	return cert, key
}

func pool(t testing.TB, cert string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		t.Fatal("no certificate")
	}
	return p
}

// With a certificate, HTTPS: a client that trusts it works; plain HTTP
// gets no API; a renewed certificate is served without a restart.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir, "127.0.0.1")
	f := start(t, Config{CertFile: cert, KeyFile: key})
	if !strings.HasPrefix(f.base, "https://") {
		t.Fatal(f.base)
	}
	// not trusted: refused by the client
	if _, err := f.client.Get(f.base + "/v1/blocks"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an untrusted certificate: %v", err)
	}
	f.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool(t, cert)}}
	if a := f.do("PUT", "/v1/blocks/bob", opsToken, `{"reason":"over TLS"}`); a.status != 201 {
		t.Fatalf("PUT over TLS: %d %s", a.status, a.body)
	}
	if a := f.do("GET", "/v1/blocks", "", ""); a.status != 401 {
		t.Errorf("over TLS without a token: %d", a.status)
	}
	// plain HTTP to the TLS port: Go's server answers 400, no API
	resp, err := http.Get("http://" + strings.TrimPrefix(f.base, "https://") + "/v1/blocks")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || bytes.Contains(b, []byte("blocks")) {
			t.Errorf("plain HTTP: %d %s", resp.StatusCode, b)
		}
	}
	// the certificate renewed: the new one is served, trusted by its pool
	newDir := t.TempDir()
	cert2, key2 := selfSigned(t, newDir, "127.0.0.1")
	for _, p := range [][2]string{{cert2, cert}, {key2, key}} {
		b, _ := os.ReadFile(p[0])
		writeFile(t, p[1]+".new", string(b), 0o600)
		if err := os.Rename(p[1]+".new", p[1]); err != nil {
			t.Fatal(err)
		}
	}
	f.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool(t, cert2)}}
	if a := f.do("GET", "/v1/blocks", opsToken, ""); a.status != 200 || !strings.Contains(string(a.body), "over TLS") {
		t.Errorf("after the renewal: %d %s", a.status, a.body)
	}
	// a broken renewal: the last good certificate is still served, with an error logged
	writeFile(t, cert, "not a certificate", 0o644)
	f.client.CloseIdleConnections() // a new handshake
	if a := f.do("GET", "/v1/blocks", opsToken, ""); a.status != 200 {
		t.Errorf("a broken renewal: %d %s", a.status, a.body)
	}
	if !strings.Contains(f.log.String(), "the TLS certificate cannot be read again") {
		t.Errorf("log:\n%s", f.log)
	}
}

// Bad requests are refused with a JSON error, and change nothing.
func TestBadRequests(t *testing.T) {
	f := start(t, Config{})
	ctx := context.Background()
	if err := f.st.AddBlock(ctx, state.Block{User: "bob@example.test", Reason: "kept", By: "root", Created: t0}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, f.st)
	big := `{"reason":"` + strings.Repeat("x", DefaultMaxBody) + `"}`
	for _, x := range []struct {
		name, method, path, body string
		status                   int
		err                      string
	}{
		{"oversized", "PUT", "/v1/blocks/alice", big, 413, "the body is larger than 65536 bytes"},
		{"oversized unblock", "DELETE", "/v1/blocks/bob@example.test", big, 413, "larger than 65536"},
		{"not JSON", "PUT", "/v1/blocks/alice", `reason=botnet`, 400, "the body is not the JSON object wanted: a syntax error at byte 1"},
		{"cut short", "PUT", "/v1/blocks/alice", `{"reason":"bot`, 400, "it ends too soon"},
		{"an array", "PUT", "/v1/blocks/alice", `["botnet"]`, 400, "want an object"},
		{"unknown field", "PUT", "/v1/blocks/alice", `{"reason":"x","until":"2027-01-01"}`, 400, `unknown field \"until\"`},
		{"unknown field, unblock", "DELETE", "/v1/blocks/bob@example.test", `{"why":"x"}`, 400, `unknown field \"why\"`},
		{"two values", "PUT", "/v1/blocks/alice", `{"reason":"a"}{"reason":"b"}`, 400, "more than one JSON value"},
		{"for a number", "PUT", "/v1/blocks/alice", `{"for":86400}`, 400, `\"for\" wants a string`},
		{"for zero", "PUT", "/v1/blocks/alice", `{"for":"0"}`, 400, `want a time above zero`},
		{"for negative", "PUT", "/v1/blocks/alice", `{"for":"-1h"}`, 400, `want a time above zero`},
		{"for words", "PUT", "/v1/blocks/alice", `{"for":"a while"}`, 400, `want a time above zero`},
		{"for too long", "PUT", "/v1/blocks/alice", `{"for":"4000d"}`, 400, `longer than 3650 days`},
		{"for NaN", "PUT", "/v1/blocks/alice", `{"for":"NaN"}`, 400, `want a time above zero`},
		{"for Inf", "PUT", "/v1/blocks/alice", `{"for":"Inf"}`, 400, `longer than 3650 days`},
		{"reason too long", "PUT", "/v1/blocks/alice", `{"reason":"` + strings.Repeat("é", 600) + `"}`, 400, "the reason is longer than 1024 bytes"},
		{"reason NUL", "PUT", "/v1/blocks/alice", `{"reason":"a\u0000b"}`, 400, "the reason holds a NUL"},
		{"reason NUL, unblock", "DELETE", "/v1/blocks/bob@example.test?reason=a%00b", "", 400, "the reason holds a NUL"},
		{"two reasons", "DELETE", "/v1/blocks/bob@example.test?reason=a", `{"reason":"b"}`, 400, "a reason in the query and in the body"},
		{"query twice", "DELETE", "/v1/blocks/bob@example.test?reason=a&reason=b", "", 400, `the query parameter \"reason\" is given 2 times`},
		{"unknown query", "PUT", "/v1/blocks/alice?for=1h", "", 400, `unknown query parameter \"for\"`},
		{"bad query", "GET", "/v1/alerts?since=%zz", "", 400, "the query: "},
		{"user NUL", "PUT", "/v1/blocks/a%00b", "", 400, "the account's name holds a NUL"},
		{"user not UTF-8", "PUT", "/v1/blocks/a%ffb", "", 400, "the account's name is not valid UTF-8"},
		{"user too long", "PUT", "/v1/blocks/" + strings.Repeat("a", MaxUser+1), "", 400, "the account's name is longer than 512 bytes"},
		{"user too long, unblock", "DELETE", "/v1/blocks/" + strings.Repeat("a", MaxUser+1), "", 400, "longer than 512 bytes"},
		{"user too long, account", "GET", "/v1/accounts/" + strings.Repeat("a", MaxUser+1), "", 400, "longer than 512 bytes"},
		{"no user", "PUT", "/v1/blocks/", "", 404, "no such route"},
		{"alerts since", "GET", "/v1/alerts?since=yesterday", "", 400, `since \"yesterday\": want an age like 7d`},
		{"alerts limit", "GET", "/v1/alerts?limit=0", "", 400, `limit \"0\": want a number from 1 to 10000`},
		{"alerts limit big", "GET", "/v1/alerts?limit=10001", "", 400, `want a number from 1 to 10000`},
		{"alerts open", "GET", "/v1/alerts?open=maybe", "", 400, `open \"maybe\": want true or false`},
		{"alerts user", "GET", "/v1/alerts?user=", "", 400, `user: the account's name is empty`},
		{"alerts unknown", "GET", "/v1/alerts?sort=asc", "", 400, `unknown query parameter \"sort\"`},
		{"blocks query", "GET", "/v1/blocks?all=1", "", 400, `unknown query parameter \"all\"`},
		{"no such route", "GET", "/v1/users", "", 404, `no such route: see /v1/openapi.json`},
		{"not canonical", "GET", "/v1//blocks", "", 400, `the path is not canonical: /v1/blocks`},
		{"not canonical, dots", "DELETE", "/v1/blocks/x/../bob@example.test", "", 400, `the path is not canonical: /v1/blocks/bob@example.test`},
		{"not canonical, slashes", "PUT", "//v1/blocks/alice", "", 400, `the path is not canonical: /v1/blocks/alice`},
		{"no such method", "POST", "/v1/blocks/alice", `{}`, 405, `POST is not allowed here; allowed: `},
		{"PATCH", "PATCH", "/v1/blocks", "", 405, `PATCH is not allowed here; allowed: GET, HEAD`},
	} {
		a := f.do(x.method, x.path, opsToken, x.body)
		if a.status != x.status || !strings.Contains(string(a.body), x.err) || a.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %d %s; want %d %q", x.name, a.status, a.body, x.status, x.err)
			continue
		}
		var e struct{ Error string }
		if err := json.Unmarshal(a.body, &e); err != nil || e.Error == "" {
			t.Errorf("%s: not a JSON error: %s", x.name, a.body)
		}
		if x.status == 405 && a.header.Get("Allow") == "" {
			t.Errorf("%s: no Allow header", x.name)
		}
	}
	if after := snapshot(t, f.st); after != before {
		t.Errorf("the state changed:\n%s\nwas\n%s", after, before)
	}
}

// Untrusted text (names, reasons) round-trips exactly: JSON's escapes make
// it inert, and nothing is HTML.
func TestUntrustedText(t *testing.T) {
	f := start(t, Config{})
	for _, x := range []struct{ user, reason string }{
		{"evil\x1b]0;pwned\x07@example.test", "line one\nline two\r\n\ttabbed"},
		{"<script>alert(1)</script>@example.test", `"quoted" & <b>bold</b> \ backslash`},
		{"a/b@example.test", "slash in the name"},
		{"sp ace?x=1#frag@example.test", "\u2028\u2029\u202e reversed"},
		{"ünïcödé@example.test", "日本語"},
		{"%2f@example.test", "a percent in the name"},
	} {
		path := "/v1/blocks/" + url.PathEscape(x.user)
		body, _ := json.Marshal(map[string]string{"reason": x.reason})
		a := f.do("PUT", path, opsToken, string(body))
		if a.status != 201 {
			t.Errorf("%q: %d %s", x.user, a.status, a.body)
			continue
		}
		for _, c := range a.body {
			if c < 0x20 && c != '\n' || c == 0x7f {
				t.Errorf("%q: a raw control byte %#x in the answer %q", x.user, c, a.body)
			}
		}
		var resp struct{ Block BlockJSON }
		if err := json.Unmarshal(a.body, &resp); err != nil {
			t.Fatal(err)
		}
		if resp.Block.User != x.user || resp.Block.Reason != x.reason {
			t.Errorf("the answer: %q %q, want %q %q", resp.Block.User, resp.Block.Reason, x.user, x.reason)
		}
		bl, _ := f.st.Blocks(context.Background(), t0)
		found := false
		for _, b := range bl {
			found = found || b.User == x.user && b.Reason == x.reason
		}
		if !found {
			t.Errorf("%q: not in the state as sent: %+v", x.user, bl)
		}
		var acct struct{ Blocked *BlockJSON }
		json.Unmarshal(f.do("GET", "/v1/accounts/"+url.PathEscape(x.user), opsToken, "").body, &acct)
		if acct.Blocked == nil || acct.Blocked.User != x.user {
			t.Errorf("%q: GET accounts: %+v", x.user, acct.Blocked)
		}
	}
	a := f.do("GET", "/v1/blocks", opsToken, "")
	if !bytes.Contains(a.body, []byte(`"user":"<script>alert(1)</script>@example.test"`)) || !bytes.Contains(a.body, []byte(`"user":"evil\u001b]0;pwned\u0007@example.test"`)) {
		t.Errorf("the list: %s", a.body)
	}
	if !strings.Contains(f.log.String(), `user="evil\x1b]0;pwned\a@example.test"`) {
		t.Errorf("the log does not quote the name:\n%s", f.log)
	}
}

// With the state unusable: 503, with the detail in the log only.
func TestStateFails(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "state.db")
	st := openState(t, dsn)
	f := start(t, Config{Store: st})
	st.Close()
	for _, r := range [][2]string{{"GET", "/v1/blocks"}, {"PUT", "/v1/blocks/bob"}, {"DELETE", "/v1/blocks/bob"}, {"GET", "/v1/accounts/bob"}, {"GET", "/v1/alerts"}} {
		a := f.do(r[0], r[1], opsToken, "")
		if a.status != 503 || !strings.Contains(string(a.body), `"error":"the state cannot be used now; try again later"`) {
			t.Errorf("%v: %d %s", r, a.status, a.body)
		}
	}
	if !strings.Contains(f.log.String(), `msg="api: the state failed" method=PUT path=/v1/blocks/bob err=`) {
		t.Errorf("log:\n%s", f.log)
	}
}

func TestParseFor(t *testing.T) {
	for _, x := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"24h", 24 * time.Hour, ""},
		{"90m", 90 * time.Minute, ""},
		{"7d", 7 * 24 * time.Hour, ""},
		{"1.5d", 36 * time.Hour, ""},
		{"3600", time.Hour, ""},
		{" 2h ", 2 * time.Hour, ""},
		{"3650d", MaxFor, ""},
		{"3651d", 0, "longer than 3650 days"},
		{"100000h", 0, "longer than 3650 days"},
		{"1e300", 0, "longer than 3650 days"},
		{"0", 0, "above zero"},
		{"0s", 0, "above zero"},
		{"-5m", 0, "above zero"},
		{"-1d", 0, "above zero"},
		{"", 0, "above zero"},
		{"d", 0, "above zero"},
		{"forever", 0, "above zero"},
		{"NaN", 0, "above zero"},
	} {
		d, err := ParseFor(x.in)
		if x.err == "" && (err != nil || d != x.want) || x.err != "" && (err == nil || !strings.Contains(err.Error(), x.err)) {
			t.Errorf("ParseFor(%q) = %v, %v; want %v %q", x.in, d, err, x.want, x.err)
		}
	}
}

func TestCheckUser(t *testing.T) {
	for _, x := range []struct {
		in, err string
	}{
		{"bob@example.test", ""},
		{"evil\x1b@example.test", ""},
		{strings.Repeat("a", MaxUser), ""},
		{"", "empty"},
		{strings.Repeat("a", MaxUser+1), "longer than 512 bytes"},
		{"a\xffb", "not valid UTF-8"},
		{"a\x00b", "NUL"},
	} {
		err := CheckUser(x.in)
		if x.err == "" && err != nil || x.err != "" && (err == nil || !strings.Contains(err.Error(), x.err)) {
			t.Errorf("CheckUser(%q) = %v, want %q", x.in, err, x.err)
		}
	}
}

// A request begun when the stop comes is answered; then the listener is
// closed.
func TestStop(t *testing.T) {
	st := openState(t, filepath.Join(t.TempDir(), "state.db"))
	srv, err := New(Config{Store: st, TokenFile: tokenFile(t), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := srv.Listen()
	if err != nil {
		t.Fatal(err)
	}
	// Signalled once the handler runs, not at the connection's
	// StateActive: net/http drops a request whose headers it finishes
	// reading after Shutdown began, unanswered (a reset: 1 run in 300)
	active := make(chan struct{}, 1)
	inner := srv.srv.Handler
	srv.srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case active <- struct{}{}:
		default:
		}
		inner.ServeHTTP(w, r)
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	// a request whose body is still being sent when the stop comes
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PUT", "http://"+ln.Addr().String()+"/v1/blocks/bob", pr)
	req.Header.Set("Authorization", "Bearer "+opsToken)
	got := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- -1
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	pw.Write([]byte(`{"reason":`))
	select {
	case <-active: // the server reads the request
	case <-time.After(20 * time.Second):
		t.Fatal("the request never reached the server")
	}
	cancel()
	pw.Write([]byte(`"late"}`))
	pw.Close()
	if code := <-got; code != 201 {
		t.Errorf("the request begun: %d", code)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("still listening after the stop")
	}
}

// TestLogLimit: the wrong tokens' limiter logs a line a second at most,
// with the count of those held since its last line.
func TestLogLimit(t *testing.T) {
	l := refusalLog{every: BadTokenEvery}
	var got []string
	for _, ms := range []int{0, 10, 500, 999, 1000, 1001, 2500} {
		ok, n, _ := l.refuse("", 0, 0, "GET", "/v1/blocks", "127.0.0.1:1", t0.Add(time.Duration(ms)*time.Millisecond))
		got = append(got, fmt.Sprintf("%d:%v/%d", ms, ok, n))
	}
	want := "[0:true/0 10:false/0 500:false/0 999:false/0 1000:true/3 1001:false/0 2500:true/1]"
	if fmt.Sprint(got) != want {
		t.Errorf("%v, want %s", got, want)
	}
}
