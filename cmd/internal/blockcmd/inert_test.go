package blockcmd

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/loganom/loganom/pkg/report"
)

// loganom blocks --format json, and with --audit, on a terminal: a name
// or a reason holding a C1 control (U+009B is a CSI, as ESC [ is), a bidi
// control or a zero-width character is written as a \u escape, as the
// text shows it escaped; the JSON decodes to the names.
func TestBlocksJSONInert(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state.db")
	user, reason := "csi\u009b2j\u202e@example.test", "x\u0085y\u200bz"
	e := newEnvT()
	if code := Block(e.env, e.log, &BlockCmd{Common: Common{DB: db}, User: user, Reason: reason}); code != 0 {
		t.Fatalf("block: %d\n%s", code, e.errb)
	}
	for _, audit := range []bool{false, true} {
		e, out, errb := env()
		log := newEnvT().log
		log.W = errb
		if code := Blocks(e, log, &BlocksCmd{Common: Common{DB: db}, Format: "json", Audit: audit}); code != 0 {
			t.Fatalf("blocks: %d\n%s", code, errb)
		}
		s := out.String()
		for _, r := range s {
			if r != '\n' && (report.Suspicious(r) || r == utf8.RuneError) {
				t.Errorf("audit %v: %U raw in %+q", audit, r, s)
				break
			}
		}
		var got struct{ User, Reason string }
		if err := json.Unmarshal([]byte(strings.SplitN(s, "\n", 2)[0]), &got); err != nil || got.User != user || got.Reason != reason {
			t.Errorf("audit %v: decoded %+q %+q, %v", audit, got.User, got.Reason, err)
		}
	}
}
