package api

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/state"
)

// A token of the right read, for a SIEM.
const siemToken = "siem-00112233445566778899aabbccddeeff"

// rightsFile: ops without a right (a file of before: block), siem read,
// helpdesk block.
func rightsFile(t testing.TB) string {
	t.Helper()
	return writeFile(t, filepath.Join(t.TempDir(), "tokens"),
		"ops "+opsToken+"\nsiem "+siemToken+" read\nhelpdesk "+deskToken+" block\n", 0o600)
}

const insufficient = `Bearer realm="loganom", error="insufficient_scope", scope="block"`

// TestRights: a token of the right read reads every GET route, and is
// refused (403, nothing changed, its name logged) on PUT and DELETE,
// whatever their body; a token of the right block, or without a right,
// does all. WWW-Authenticate is on the 401 and the 403 only.
func TestRights(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testRights(t, b) })
	}
}

func testRights(t *testing.T, b backend) {
	st := openState(t, b.dsn(t))
	ctx := context.Background()
	_, err := st.Commit(ctx, &state.Run{Instance: "mx1", Now: t0.Add(-time.Hour),
		Logins:    []state.Login{{User: "bob@example.test", IP: "203.0.113.7", Count: 1, First: t0.Add(-2 * time.Hour), Last: t0.Add(-2 * time.Hour), Country: "BR"}},
		Anomalies: []state.Anomaly{{User: "bob@example.test", Last: t0.Add(-2 * time.Hour), Rule: "many places", Payload: []byte(`{}`)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddBlock(ctx, state.Block{User: "bob@example.test", Reason: "kept", By: "root", Created: t0.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// a clock that moves a minute at each reading: each refusal is logged
	// (TestRefusalLog: within a minute, one line and a count)
	f := start(t, Config{Store: st, TokenFile: rightsFile(t), Now: stepClock(RefusalEvery)})

	// read: every GET route
	for _, p := range []string{"/v1/blocks", "/v1/accounts/bob@example.test", "/v1/alerts?user=bob@example.test", "/v1/openapi.json"} {
		a := f.do("GET", p, siemToken, "")
		if a.status != 200 || !strings.Contains(string(a.body), "bob@example.test") && p != "/v1/openapi.json" {
			t.Errorf("siem: GET %s: %d %s", p, a.status, a.body)
		}
		if h := a.header.Get("WWW-Authenticate"); h != "" {
			t.Errorf("siem: GET %s: WWW-Authenticate %q on a 200", p, h)
		}
		if p != "/v1/openapi.json" {
			f.validate("siem GET "+p, a)
		}
	}

	// but no change: 403, before the body is read (a bad one, one too
	// large, an account not blocked: 403 all the same)
	before := snapshot(t, st)
	refused := []struct{ method, path, body, route string }{
		{"PUT", "/v1/blocks/alice@example.test", `{"reason":"x","for":"1h"}`, "PUT /v1/blocks/{user}"},
		{"PUT", "/v1/blocks/bob@example.test", "", "PUT /v1/blocks/{user}"},
		{"PUT", "/v1/blocks/alice@example.test", `not JSON`, "PUT /v1/blocks/{user}"},
		{"PUT", "/v1/blocks/alice@example.test", `{"reason":"` + strings.Repeat("x", DefaultMaxBody) + `"}`, "PUT /v1/blocks/{user}"},
		{"DELETE", "/v1/blocks/bob@example.test", `{"reason":"x"}`, "DELETE /v1/blocks/{user}"},
		{"DELETE", "/v1/blocks/nobody@example.test", "", "DELETE /v1/blocks/{user}"},
		{"DELETE", "/v1/blocks/bob@example.test?reason=x", "", "DELETE /v1/blocks/{user}"},
	}
	for _, r := range refused {
		a := f.do(r.method, r.path, siemToken, r.body)
		if a.status != 403 || a.json(t)["error"] != "the token siem has the right read: "+r.route+" needs the right block" {
			t.Errorf("siem: %s %s: %d %s", r.method, r.path, a.status, a.body)
			continue
		}
		if h := a.header.Get("WWW-Authenticate"); h != insufficient {
			t.Errorf("siem: %s %s: WWW-Authenticate %q, want %q", r.method, r.path, h, insufficient)
		}
		f.validate("siem "+r.method+" "+r.path, a)
	}
	if after := snapshot(t, st); after != before {
		t.Errorf("a token of the right read changed the state:\n%s\nwas\n%s", after, before)
	}
	// each refusal logged, with the token's name
	line := `level=WARN msg="api: a request refused: its token has not the right" token=siem right=read needs=block method=`
	if n := strings.Count(f.log.String(), line); n != len(refused) {
		t.Errorf("%d refusals logged, want %d:\n%s", n, len(refused), f.log)
	}
	if !strings.Contains(f.log.String(), line+`DELETE path=/v1/blocks/nobody@example.test remote=127.0.0.1:`) {
		t.Errorf("log:\n%s", f.log)
	}

	// block, and a line without a right: everything
	for _, x := range []struct{ token, who, user string }{{deskToken, "helpdesk", "alice@example.test"}, {opsToken, "ops", "carol@example.test"}} {
		a := f.do("PUT", "/v1/blocks/"+x.user, x.token, `{"reason":"r"}`)
		if a.status != 201 || !strings.Contains(string(a.body), `"by":"api:`+x.who+`"`) {
			t.Errorf("%s: PUT: %d %s", x.who, a.status, a.body)
		}
		if a := f.do("GET", "/v1/blocks", x.token, ""); a.status != 200 || !strings.Contains(string(a.body), x.user) {
			t.Errorf("%s: GET: %d %s", x.who, a.status, a.body)
		}
		if a := f.do("DELETE", "/v1/blocks/"+x.user, x.token, ""); a.status != 200 {
			t.Errorf("%s: DELETE: %d %s", x.who, a.status, a.body)
		}
	}
	for _, c := range auditOf(t, st, "alice@example.test") {
		if !strings.HasSuffix(c, " by api:helpdesk") {
			t.Errorf("alice: %s", c)
		}
	}

	// WWW-Authenticate on the 401 and the 403 only
	for _, x := range []struct {
		method, path, token string
		status              int
		challenge           string
	}{
		{"GET", "/v1/blocks", "", 401, `Bearer realm="loganom"`},
		{"PUT", "/v1/blocks/x", "wrong-wrong-wrong-wrong", 401, `Bearer realm="loganom", error="invalid_token"`},
		{"PUT", "/v1/blocks/x", siemToken, 403, insufficient},
		{"PUT", "/v1/blocks/x?for=1h", opsToken, 400, ""},
		{"GET", "/v1/alerts?limit=0", siemToken, 400, ""},
		{"DELETE", "/v1/blocks/nobody", opsToken, 404, ""},
		{"GET", "/v1/nowhere", siemToken, 404, ""},
		{"POST", "/v1/blocks", siemToken, 405, ""},
	} {
		a := f.do(x.method, x.path, x.token, "")
		if a.status != x.status || a.header.Get("WWW-Authenticate") != x.challenge {
			t.Errorf("%s %s: %d WWW-Authenticate %q; want %d %q", x.method, x.path, a.status, a.header.Get("WWW-Authenticate"), x.status, x.challenge)
		}
	}
}

// The right in the token file: read, block, or none (block); any other
// word refuses the file, with its line and the word (never a token).
func TestTokenFileRights(t *testing.T) {
	st := openState(t, filepath.Join(t.TempDir(), "state.db"))
	const t3 = "tok3-0123456789abcdef0123456789"
	for _, x := range []struct {
		name, text string
		rights     string // name:right, for a file that loads
		err, hint  string
	}{
		{"all kinds", "a " + opsToken + "\n b " + siemToken + "  read \nc " + deskToken + "\tblock\n" + t3 + "\n", "a:block b:read c:block default:block", "", ""},
		{"unknown", "ops " + opsToken + "\nsiem " + siemToken + " rw\n", "", `line 2 (siem): unknown right "rw": want read or block`, "read (the GET routes only) or block (every route"},
		{"a word of another API", "siem " + siemToken + " write\n", "", `line 1 (siem): unknown right "write"`, "without it, block"},
		{"upper case", "# tokens\nsiem " + siemToken + " READ\n", "", `line 2 (siem): unknown right "READ"`, ""},
		{"a list", "siem " + siemToken + " read,block\n", "", `line 1 (siem): unknown right "read,block"`, ""},
		{"a comment", "siem " + siemToken + " #read\n", "", `line 1 (siem): unknown right "#read"`, ""},
		{"control characters", "siem " + siemToken + " r\x1b[2Jd\n", "", `line 1 (siem): unknown right "r\x1b[2Jd"`, ""},
		{"swapped", "siem read " + siemToken + "\n", "", `line 1 (siem): the third field is not a right, and may be the token (not shown): want NAME TOKEN RIGHT, in that order`, ""},
		{"two tokens", "siem " + opsToken + " " + siemToken + "\n", "", `line 1 (siem): the third field is not a right, and may be the token (not shown)`, ""},
		{"a bare token's right", siemToken + " read\n", "", `line 1: a bare TOKEN has no right: want NAME TOKEN read`, ""},
		{"bad name first", "si'em " + siemToken + " rw\n", "", `line 1: the name "si'em"`, ""},
	} {
		t.Run(x.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(t.TempDir(), "tokens"), x.text, 0o600)
			_, err := New(Config{Store: st, Listen: "127.0.0.1:0", TokenFile: path})
			if x.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				toks, _, _ := readTokens(path)
				var got []string
				for _, k := range toks {
					got = append(got, k.name+":"+k.right.String())
				}
				if strings.Join(got, " ") != x.rights {
					t.Errorf("rights %v, want %s", got, x.rights)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), "[API] token_file "+path+": ") || !strings.Contains(err.Error(), x.err) || !strings.Contains(ce.Hint, x.hint) {
				t.Fatalf("err = %v (hint %q); want %q, hint %q", err, hintOf(err), x.err, x.hint)
			}
			for _, secret := range []string{opsToken, siemToken, deskToken} {
				if strings.Contains(err.Error()+ce.Hint, secret) {
					t.Errorf("the error shows a token: %v", err)
				}
			}
		})
	}
}

// The rights are read again with the file: a token made read is refused
// at once; a file with an unknown right refuses every request (503, no
// challenge: the client is not at fault) until it is fixed, and says
// why once in the log.
func TestRightsFileChanges(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "tokens"), "ops "+opsToken+"\n", 0o600)
	f := start(t, Config{TokenFile: path})
	replace := func(text string) {
		t.Helper()
		tmp := writeFile(t, path+".new", text, 0o600)
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	if a := f.do("PUT", "/v1/blocks/bob", opsToken, ""); a.status != 201 {
		t.Fatalf("ops: %d %s", a.status, a.body)
	}
	replace("ops " + opsToken + " read\n")
	if a := f.do("DELETE", "/v1/blocks/bob", opsToken, ""); a.status != 403 {
		t.Errorf("ops, made read: DELETE: %d %s", a.status, a.body)
	}
	if a := f.do("GET", "/v1/blocks", opsToken, ""); a.status != 200 || !strings.Contains(string(a.body), `"user":"bob"`) {
		t.Errorf("ops, made read: GET: %d %s", a.status, a.body)
	}
	replace("ops " + opsToken + " reed\n")
	for _, r := range [][2]string{{"GET", "/v1/blocks"}, {"DELETE", "/v1/blocks/bob"}, {"GET", "/v1/blocks"}} {
		a := f.do(r[0], r[1], opsToken, "")
		if a.status != 503 || !strings.Contains(string(a.body), "token file cannot be used") || a.header.Get("WWW-Authenticate") != "" {
			t.Errorf("an unknown right: %s %s: %d %q %s", r[0], r[1], a.status, a.header.Get("WWW-Authenticate"), a.body)
		}
	}
	if n := strings.Count(f.log.String(), `line 1 (ops): unknown right \"reed\": want read or block`); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, f.log)
	}
	replace("ops " + opsToken + " block\n")
	if a := f.do("DELETE", "/v1/blocks/bob", opsToken, ""); a.status != 200 {
		t.Errorf("fixed: DELETE: %d %s", a.status, a.body)
	}
	if bl, err := f.st.Blocks(context.Background(), t0); err != nil || len(bl) != 0 {
		t.Errorf("blocks %+v, %v", bl, err)
	}
}
