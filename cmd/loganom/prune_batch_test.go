package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/loganomcmd"
	"github.com/loganom/loganom/pkg/state"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// TestBatchPrune: a batch run that writes the state (cron: with or
// without --resume) prunes it after its work when the last prune that the
// state records (by any process) is [STATE] prune_every old or older, or
// never was; never with prune_every = 0; not with --dry-run (it records
// nothing). It says so at debug level only (cron mails what a job prints).
// A prune that fails is an error with a hint, and the run's exit code
// stays what it was; the next run prunes. On SQLite and PostgreSQL.
func TestBatchPrune(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			db, driver := "", "sqlite"
			if backend == "postgres" {
				db, driver = pgtest.DSN(t), "pgx"
			}
			l := newStateLab(t, db) // its logins are dated 10 days ago
			config := func(keys string) {
				t.Helper()
				l.writeConfig("mx1")
				// the logins are older than keep (and learn as short: a
				// keep shorter than learn is warned of)
				l.appendConfig("keep = 5d\n" + keys + "[DETECT]\nlearn = 5d\n")
			}
			users := []string{"victim@example.test", "carol@example.test", "dave@example.test"}
			rows := func() int64 {
				t.Helper()
				var n int64
				for _, c := range l.history(users...) {
					n += c
				}
				return n
			}
			lastPrune := func() time.Time {
				t.Helper()
				st, err := state.Open(ctx, l.db, state.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				at, err := st.LastPrune(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return at
			}
			batch := func(name string, wantCode int, args ...string) string {
				t.Helper()
				var stdout, stderr bytes.Buffer
				args = append([]string{"postfix-sasl", "-c", l.cfg, "-l", l.log, "--db", l.db, "--exit-code"}, args...)
				code := loganomcmd.Main(cli.Env{Args: args, Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: os.Getenv})
				if code != wantCode {
					t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", name, code, wantCode, stdout.String(), stderr.String())
				}
				return stderr.String()
			}

			// prune_every = 0: the --resume run records its history, and
			// nothing prunes it
			config("prune_every = 0\n")
			l.part("victim@example.test")
			if e := batch("--resume, prune_every 0", cli.ExitAnomalies, "--resume"); e != "" {
				t.Errorf("stderr: %s", e)
			}
			if n := rows(); n != 9 {
				t.Fatalf("history after a run with prune_every = 0: %d logins, want 9 (not pruned)", n)
			}
			if at := lastPrune(); !at.IsZero() {
				t.Fatalf("last prune %s, want never", at)
			}

			// the default (24h), never pruned: a run without --resume
			// prunes, after its work, and says so at debug level only
			config("")
			start := time.Now()
			if e := batch("without --resume, never pruned", cli.ExitOK); e != "" {
				t.Errorf("stderr: %s", e)
			}
			if n := rows(); n != 0 {
				t.Fatalf("history after a run without --resume, due: %d logins, want 0 (pruned)", n)
			}
			if at := lastPrune(); at.Before(start.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
				t.Fatalf("last prune %s, want about %s", at, start)
			}

			// pruned a moment ago: the next --resume run records, and
			// does not prune
			l.part()
			batch("--resume, pruned a moment ago", cli.ExitOK, "--resume")
			if n := rows(); n != 3 {
				t.Fatalf("history after a run within prune_every: %d logins, want 3 (not pruned)", n)
			}

			// due again (the last prune made a day ago, as another server
			// or loganom db prune would have): --dry-run records nothing,
			// and prunes nothing
			raw, err := sql.Open(driver, l.db)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			setLast := func(at time.Time) {
				t.Helper()
				q := `UPDATE last_prune SET at = ?`
				if backend == "postgres" {
					q = `UPDATE last_prune SET at = $1`
				}
				if _, err := raw.ExecContext(ctx, q, at.UnixNano()); err != nil {
					t.Fatal(err)
				}
			}
			setLast(time.Now().Add(-25 * time.Hour))
			batch("--dry-run, due", cli.ExitAnomalies, "--dry-run") // a run that records nothing: every alert new
			if n := rows(); n != 3 {
				t.Fatalf("history after --dry-run: %d logins, want 3", n)
			}

			// a prune that fails (a trigger refuses the delete): an error
			// with a hint, the exit code of the run, nothing lost; the next
			// run prunes
			allow := pgtest.RefusePrune(t, raw, backend == "postgres")
			l.part("victim@example.test") // the open incident: exit 0
			e := batch("--resume, the prune fails", cli.ExitOK, "--resume")
			for _, want := range []string{"loganom: error: prune the state: state ", "no prune today",
				"loganom: hint: nothing was pruned, and this run's results are recorded; the next run tries again, or by hand: loganom db prune\n"} {
				if !strings.Contains(e, want) {
					t.Errorf("stderr lacks %q:\n%s", want, e)
				}
			}
			if n := rows(); n != 12 {
				t.Fatalf("history after the failed prune: %d logins, want 12 (this run's recorded, none pruned)", n)
			}
			allow()
			l.part()
			if e := batch("--resume, due after the failure", cli.ExitOK, "--resume"); e != "" {
				t.Errorf("stderr: %s", e)
			}
			if n := rows(); n != 0 {
				t.Fatalf("history after the run that followed the failure: %d logins, want 0 (pruned)", n)
			}
		})
	}
}
