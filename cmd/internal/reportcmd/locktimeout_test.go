package reportcmd

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/report"
)

// TestDeliverLockHeldLong: another run holds the delivery lock longer
// than statecmd.LockTimeout (its round is long: a script run per account,
// notices to users whose server is down, each with its tries). The state
// answered all along, a local SQLite file: the error must not say it did
// not, but that another run was delivering, and that the alerts are tried
// again. It said "the state did not answer within 10m0s".
func TestDeliverLockHeldLong(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	in := filepath.Join(dir, "in.json")
	attackFile(t, in, "bob@x.test")
	ini := "[WEBHOOK]\nenabled = true\nurl = http://127.0.0.1:9/never\n\n[NOTIFY]\nattempts = 1\n"
	cfg := loadINI(t, ini)
	cfgPath := filepath.Join(dir, "config.ini")
	if err := os.WriteFile(cfgPath, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	// a batch run: the webhook down, its alert stays pending
	if code := Main(cli.Env{Args: []string{"-c", cfgPath, "--db", db, "-q", in}, Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}); code != cli.ExitError {
		t.Fatalf("the first run: exit %d, want %d (the webhook down)", code, cli.ExitError)
	}
	stderr := &lockedBuf{}
	log := &cli.Logger{Prog: "loganom", W: stderr}
	open := func() *statecmd.State {
		st, err := statecmd.Open(context.Background(), &statecmd.Flags{DB: db}, cfg, log, false, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	other, st := open(), open()
	unlock, err := other.Store.LockDeliveries(context.Background(), other.Instance, "webhook") // another run delivering
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	defer func(d time.Duration) { statecmd.LockTimeout = d }(statecmd.LockTimeout)
	statecmd.LockTimeout = 300 * time.Millisecond
	n := webhookNotifier(t, "http://127.0.0.1:9/never")
	if n.Deliver(context.Background(), cli.Env{Stdout: io.Discard, Stderr: stderr}, log, "mx", st, 0, report.Gaps{}) {
		t.Fatalf("deliver said all went well, the lock held by another run")
	}
	out := stderr.String()
	if strings.Contains(out, "did not answer") || !strings.Contains(out, "another loganom run") || !strings.Contains(out, "tries again") {
		t.Errorf("stderr:\n%s", out)
	}
	t.Logf("%s", out)
}
