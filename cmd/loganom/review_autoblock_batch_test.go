package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/loganomcmd"
)

// A batch run (cron) whose automatic block fails after its alert was
// recorded (the state's blocks cannot be written at that moment: a
// PostgreSQL restarting, an SQLite busy past its timeout) says so, and the
// next run, the state back, makes the block: the alert is no longer new,
// but its incident never got its block. (It used to be left unblocked for
// good: the next runs took the account as "alerted before: blocked then,
// if at all", and the thief went on sending.) An incident whose block
// was made, or lifted by hand, is not blocked again (autoblock.txtar).
func TestReviewAutoBlockBatchRetried(t *testing.T) {
	root, _ := filepath.Abs("../..")
	dir := t.TempDir()
	raw, err := os.ReadFile(filepath.Join(root, "testdata/logs/postfix-3.7-real.log"))
	if err != nil {
		t.Fatal(err)
	}
	// the log dated an hour ago (local time, as syslog writes it)
	hour := time.Now().Add(-time.Hour).Format("Jan _2 15") + ":"
	log := regexp.MustCompile(`(?m)^Nov 27 10:`).ReplaceAll(raw, []byte(hour))
	maillog := filepath.Join(dir, "maillog")
	if err := os.WriteFile(maillog, log, 0o644); err != nil {
		t.Fatal(err)
	}
	conf, err := os.ReadFile(filepath.Join(root, "testdata/example/config.ini"))
	if err != nil {
		t.Fatal(err)
	}
	ini := strings.ReplaceAll(string(conf), "../geo/", filepath.Join(root, "testdata/geo")+"/") +
		"\n[STATE]\nkeep = 36500d\n\n[BLOCK]\nauto = true\nfor = 24h\n"
	config := filepath.Join(dir, "config.ini")
	if err := os.WriteFile(config, []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "state.db")
	run := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := loganomcmd.Main(cli.Env{Args: append(args, "--db", db, "-c", config), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
		return code, out.String(), errb.String()
	}
	if code, _, errs := run("db", "migrate"); code != 0 {
		t.Fatalf("db migrate: %d\n%s", code, errs)
	}
	// the blocks cannot be written: the table renamed away
	sqlExec(t, db, `ALTER TABLE blocks RENAME TO blocks_away`)
	code, out, errs := run("postfix-sasl", "-l", maillog, "--format", "json")
	if code == 0 || !strings.Contains(out, `"user":"bob@example.test"`) || !regexp.MustCompile(`(?m)^loganom: error: auto-block bob@example.test: `).MatchString(errs) {
		t.Fatalf("the run whose block fails: exit %d, want an error for it\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	sqlExec(t, db, `ALTER TABLE blocks_away RENAME TO blocks`)

	// the next run: the alert is not new, the block is made
	code, out, errs = run("postfix-sasl", "-l", maillog, "--format", "json")
	if code != 0 || !strings.Contains(out, `"already_alerted"`) {
		t.Fatalf("the next run: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if !regexp.MustCompile(`(?m)^loganom: auto-block: bob@example.test: blocked until `).MatchString(errs) ||
		!regexp.MustCompile(`"user":"bob@example.test".*"blocked":\{"until":"[^"]+","by":"loganom auto-block","new":true`).MatchString(out) {
		t.Errorf("the next run did not block bob:\nstdout:\n%s\nstderr:\n%s", out, errs)
	}
	if _, blocks, _ := run("blocks"); !regexp.MustCompile(`(?m)^bob@example.test: blocked .* by loganom auto-block \(automatic\), until `).MatchString(blocks) {
		t.Errorf("loganom blocks:\n%s", blocks)
	}

	// and once only: the run after leaves it as it is
	if code, _, errs = run("postfix-sasl", "-l", maillog, "--format", "json"); code != 0 || strings.Contains(errs, "auto-block") {
		t.Errorf("the third run: exit %d\n%s", code, errs)
	}
	// lifted by hand, it stays lifted
	if code, _, errs = run("unblock", "bob@example.test"); code != 0 {
		t.Fatalf("unblock: %d\n%s", code, errs)
	}
	if code, _, errs = run("postfix-sasl", "-l", maillog, "--format", "json"); code != 0 || strings.Contains(errs, "auto-block") {
		t.Errorf("after the unblock: exit %d\n%s", code, errs)
	}
	if _, blocks, _ := run("blocks"); strings.Contains(blocks, "bob@example.test") {
		t.Errorf("bob blocked again after the unblock:\n%s", blocks)
	}
	if _, audit, _ := run("blocks", "--audit"); strings.Count(audit, " block bob@example.test") != 1 || strings.Count(audit, " unblock bob@example.test") != 1 {
		t.Errorf("audit:\n%s", audit)
	}
}
