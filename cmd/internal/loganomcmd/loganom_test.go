package loganomcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loganom/loganom/cmd/internal/cli"
)

// Without -l, the first default log that exists is read; with none, the
// error names them all and hints at -l.
func TestLogsOrDefault(t *testing.T) {
	dir := t.TempDir()
	maillog, maildotlog := filepath.Join(dir, "maillog"), filepath.Join(dir, "mail.log")
	saved := defaultLogs
	defer func() { defaultLogs = saved }()
	defaultLogs = []string{maillog, maildotlog}
	var stderr bytes.Buffer
	log := &cli.Logger{Prog: "loganom", W: &stderr}

	if got := logsOrDefault([]string{"x.log", "-"}, log); strings.Join(got, " ") != "x.log -" {
		t.Errorf("named logs: got %q", got)
	}
	if got := logsOrDefault(nil, log); got != nil {
		t.Errorf("no default log exists: got %q, want nil", got)
	}
	if !strings.Contains(stderr.String(), "loganom: error: no log named and none of "+maillog+", "+maildotlog+" exists") ||
		!strings.Contains(stderr.String(), "loganom: hint: name the Postfix log with -l FILE") {
		t.Errorf("stderr: %s", stderr.String())
	}
	if err := os.WriteFile(maildotlog, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := logsOrDefault(nil, log); len(got) != 1 || got[0] != maildotlog {
		t.Errorf("only mail.log exists: got %q", got)
	}
	if err := os.WriteFile(maillog, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := logsOrDefault(nil, log); len(got) != 1 || got[0] != maillog {
		t.Errorf("both exist: got %q, want maillog first", got)
	}
}
