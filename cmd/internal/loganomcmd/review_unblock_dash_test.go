package loganomcmd

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
)

// The lift command says "loganom unblock -- -NAME" for a name with a
// leading dash: it must unblock that name, not take it for a flag.
func TestReviewUnblockDashName(t *testing.T) {
	db := filepath.Join(t.TempDir(), "state.db")
	run := func(args ...string) (int, string) {
		var out, errb syncbuf.Buffer
		c := Main(cli.Env{Args: args, Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		return c, out.String() + errb.String()
	}
	if c, s := run("block", "--db", db, "--", "-rf@example.test"); c != 0 {
		t.Fatalf("block: %d %s", c, s)
	}
	if c, s := run("unblock", "--db", db, "--", "-rf@example.test"); c != 0 {
		t.Fatalf("unblock: %d %s", c, s)
	}
	if c, s := run("blocks", "--db", db); c != 0 || strings.Contains(s, "-rf@") {
		t.Fatalf("blocks: %d %s", c, s)
	}
}
