package statecmd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/loganom/loganom/pkg/state"
)

// The same log named through a symlink is the same log: a --resume run
// on /var/log/maillog -> mail.log beside the daemon that follows
// mail.log read it all again, recorded its logins twice and sent its
// alerts again. It is refused, and the error names the log as it was
// named. A log whose name is a symlink to a file that changes (rotated
// by date) stays locked by its name too.
func TestLockLogsSymlink(t *testing.T) {
	dir := t.TempDir()
	logf, link := filepath.Join(dir, "mail.log"), filepath.Join(dir, "maillog")
	if err := os.WriteFile(logf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("mail.log", link); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "state.db")
	ctx := context.Background()
	open := func(holder string) *State {
		st, err := state.Open(ctx, db, state.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s := &State{Store: st, Instance: "mx1", Keep: DefaultKeep, RealertAfter: DefaultRealertAfter, Window: DefaultWindow, Holder: holder}
		t.Cleanup(func() { s.Close() })
		return s
	}
	daemon := open("loganom postfix-sasl --follow")
	if _, err := daemon.Saved(ctx, []string{logf}); err != nil {
		t.Fatal(err)
	}
	// the same process asks again (a lock is not reentrant): its own
	// lock is no other's
	if _, err := daemon.Saved(ctx, []string{logf, link}); err != nil {
		t.Fatalf("Saved again by the process that holds the lock: %v", err)
	}
	_, err := open("loganom postfix-sasl --resume").Saved(ctx, []string{link})
	var busy *state.LogBusyError
	if !errors.As(err, &busy) || busy.Path != link || !busy.Daemon() {
		t.Fatalf("%s beside a daemon on %s: %v; want a *state.LogBusyError that names %s", link, logf, err, link)
	}
	daemon.Close()

	// the symlink's target changes: the name holds it still
	daemon = open("loganom postfix-sasl --follow")
	if _, err := daemon.Saved(ctx, []string{link}); err != nil {
		t.Fatal(err)
	}
	next := filepath.Join(dir, "mail.log-2")
	if err := os.WriteFile(next, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("mail.log-2", link); err != nil {
		t.Fatal(err)
	}
	if _, err = open("loganom postfix-sasl --resume").Saved(ctx, []string{link}); !errors.As(err, &busy) {
		t.Fatalf("%s, moved to another file, beside a daemon on it: %v; want a *state.LogBusyError", link, err)
	}
}
