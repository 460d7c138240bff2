package loganomcmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
)

// In the policy-only mode (no log read), the service's logins are
// recorded in the state while the daemon runs, within a couple of
// seconds, also the last of a burst with nothing after it (a quiet
// night): not only when the daemon stops. Recorded only then, a crash
// (kill -9, the OOM killer, a power cut) loses them, and `loganom
// history` and the API's accounts do not show them meanwhile.
func TestReviewPolicyOnlyLoginsRecordedWhileRunning(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.ini")
	liveConfig(t, cfg, "", "")
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n[POLICY]\nlisten = 127.0.0.1:0\nrefresh = 100ms\n")
	f.Close()
	db := filepath.Join(dir, "state.db")
	_, stderr, code := startDaemon(t, "-c", cfg, "--db", db)
	m := listenRE.FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no listening line:\n%s", stderr)
	}
	pc := dialPolicy(t, m[1])
	// a burst: the second mail comes right after the first's commit
	for _, inst := range []string{"a1", "a2"} {
		if a := pc.ask("alice@example.test", botnet[0], inst); a != "DUNNO" {
			t.Fatalf("alice: %q, want DUNNO", a)
		}
	}
	waitFor(t, "alice's two logins recorded while the daemon runs", func() bool {
		var out, errb syncbuf.Buffer
		Main(cli.Env{Args: []string{"history", "alice@example.test", "--db", db, "--format", "json"}, Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		return strings.Contains(out.String(), `"count":2`)
	})
	if c := stopDaemon(t, stderr, code); c != 0 {
		t.Fatalf("exit %d\n%s", c, stderr)
	}
}
