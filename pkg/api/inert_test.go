package api

import (
	"encoding/json"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/loganom/loganom/pkg/report"
)

// The answers keep every control character inert, not only those below
// U+0020 that Go's encoder escapes: a name or reason holding a C1 control
// (U+009B is a CSI to a terminal, as ESC [ is: curl on a terminal shows
// the answer), a bidi control or a zero-width character comes back as a
// \u escape, and decodes to what was sent.
func TestAnswersInert(t *testing.T) {
	f := start(t, Config{})
	user := "csi\u009b2J\u202e@example.test"
	reason := "x\u0085y\u200bz\U000E0041"
	body, _ := json.Marshal(map[string]string{"reason": reason})
	a := f.do("PUT", "/v1/blocks/"+url.PathEscape(user), opsToken, string(body))
	if a.status != 201 {
		t.Fatalf("%d %s", a.status, a.body)
	}
	for _, a := range []answer{a, f.do("GET", "/v1/blocks", opsToken, ""), f.do("GET", "/v1/accounts/"+url.PathEscape(user), opsToken, ""),
		f.do("DELETE", "/v1/blocks/"+url.PathEscape(user), opsToken, string(body))} {
		for i := 0; i < len(a.body); {
			r, n := utf8.DecodeRune(a.body[i:])
			if r != '\n' && report.Suspicious(r) {
				t.Errorf("%s %s: %U raw in the answer %+q", a.req.Method, a.req.URL.Path, r, a.body)
				break
			}
			i += n
		}
	}
	var resp struct{ Blocks []BlockJSON }
	if err := json.Unmarshal(f.do("GET", "/v1/blocks", opsToken, "").body, &resp); err != nil {
		t.Fatal(err)
	}
	if len(resp.Blocks) != 0 {
		t.Errorf("still blocked: %+v", resp.Blocks)
	}
}
