package blockcmd

import (
	"regexp"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
)

// loganom block, unblock and blocks on a PostgreSQL that accepts and never
// answers (a host frozen, a disk stalled under the database): each gives
// up after its deadline with an error that says so, and a non-zero exit.
// They used to wait for ever, saying nothing: the postmaster blocking a
// thief from a script (a helpdesk tool over ssh) hung with it.
func TestBlockCommandsStateHung(t *testing.T) {
	dsn, _, _ := hungServer(t)
	defer func(d time.Duration) { stateTimeout = d }(stateTimeout)
	stateTimeout = 2 * time.Second
	for _, c := range []struct {
		name string
		run  func(e envT) int
	}{
		{"block", func(e envT) int {
			return Block(e.env, e.log, &BlockCmd{Common: Common{DB: dsn}, User: "bob@example.test"})
		}},
		{"unblock", func(e envT) int {
			return Unblock(e.env, e.log, &UnblockCmd{Common: Common{DB: dsn}, User: "bob@example.test"})
		}},
		{"blocks", func(e envT) int { return Blocks(e.env, e.log, &BlocksCmd{Common: Common{DB: dsn}, Format: "text"}) }},
		{"blocks --audit", func(e envT) int {
			return Blocks(e.env, e.log, &BlocksCmd{Common: Common{DB: dsn}, Format: "text", Audit: true})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnvT()
			var code int
			within(t, 30*time.Second, c.name, func() error { code = c.run(e); return nil })
			if code == 0 {
				t.Errorf("exit 0 on a state that never answered:\n%s", e.errb.String())
			}
			if !regexp.MustCompile(`(?m)^loganom: error: .*did not answer within 2s`).MatchString(e.errb.String()) {
				t.Errorf("stderr:\n%s", e.errb.String())
			}
		})
	}
}

// envT is a command's environment, its stderr kept.
type envT struct {
	env  cli.Env
	log  *cli.Logger
	errb *syncBuf
}

func newEnvT() envT {
	e, _, errb := env()
	return envT{env: e, log: &cli.Logger{Prog: "loganom", W: errb}, errb: errb}
}
