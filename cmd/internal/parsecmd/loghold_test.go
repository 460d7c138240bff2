package parsecmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/state"
)

// loganom-parse --resume on a log a daemon follows refuses, and its hint
// gives a command that reads the log without the state: loganom-parse
// takes the log as an argument (it has no -l; the hint said
// "loganom-parse -l /var/log/mail.log", which fails with "unknown flag -l").
func TestResumeHeldHint(t *testing.T) {
	dir := t.TempDir()
	logf, db := filepath.Join(dir, "mail.log"), filepath.Join(dir, "state.db")
	if err := os.WriteFile(logf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(context.Background(), db, state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	host, _ := os.Hostname()
	unlock, err := st.LockLogs(context.Background(), host, []string{logf}, "loganom postfix-sasl --follow, pid 812 on "+host)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var stdout, stderr strings.Builder
	code := Main(cli.Env{Args: []string{"--resume", "--db", db, logf}, Stdin: strings.NewReader(""),
		Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }})
	if code != cli.ExitError || !strings.Contains(stderr.String(), "is being read by loganom postfix-sasl --follow") {
		t.Fatalf("exit %d; want 1 and the holder named; stderr:\n%s", code, stderr.String())
	}
	if want := "without the state: loganom-parse " + logf + ";"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr:\n%s\nwant a hint with %q", stderr.String(), want)
	}
}
