package loganomcmd

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/state"
	"github.com/loganom/loganom/pkg/state/pgtest"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the test's trigger
)

// TestFollowPrunes: loganom postfix-sasl --follow prunes its state by
// itself ([STATE] prune_every, here 100ms), on SQLite and PostgreSQL:
// while a trigger in the database refuses the delete, each prune is
// logged as an error with a hint and the daemon goes on following (a
// login read after raises its alert); once the trigger is gone, the
// next prune deletes the address last seen 200 days ago, says so, and
// keeps what the daemon recorded; the daemon ends with code 0.
func TestFollowPrunes(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			var dsn, driver string
			if backend == "sqlite" {
				dsn, driver = filepath.Join(dir, "state.db"), "sqlite"
			} else {
				dsn, driver = pgtest.DSN(t), "pgx"
			}
			cfg := filepath.Join(dir, "config.ini")
			liveConfig(t, cfg, "BR", "")
			f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("\n[STATE]\nprune_every = 100ms\n")
			f.Close()

			st, err := state.Open(ctx, dsn, state.Options{})
			if err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-200 * 24 * time.Hour)
			if _, err := st.Commit(ctx, &state.Run{Instance: "mx1", Now: old,
				Logins: []state.Login{{User: "old@example.test", IP: "192.0.2.1", Count: 1, First: old, Last: old, Country: "BR"}}}); err != nil {
				t.Fatal(err)
			}
			st.Close()
			rawDSN := dsn
			if driver == "sqlite" {
				// it waits for the lock that the daemon's commits and prunes take
				rawDSN = "file:" + dsn + "?_pragma=busy_timeout(20000)"
			}
			raw, err := sql.Open(driver, rawDSN)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			allow := pgtest.RefusePrune(t, raw, backend == "postgres")

			in, lines, stderr, code := runFollow(t, "-c", cfg, "--db", dsn)
			waitFor(t, "a prune that fails", func() bool {
				s := stderr.String()
				return strings.Contains(s, `level=ERROR msg="prune the state: state `) && strings.Contains(s, "no prune today") &&
					strings.Contains(s, `level=INFO msg="hint: nothing was pruned; tried again in 100ms ([STATE] prune_every), or by hand: loganom db prune"`)
			})
			// the daemon goes on
			t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
			var b strings.Builder
			for d := range 3 {
				b.WriteString(liveLine(t0.Add(time.Duration(d)*24*time.Hour), "ana@example.test", saoPaulo))
			}
			at := t0.Add(3*24*time.Hour + 8*time.Hour)
			b.WriteString(liveLine(at, "ana@example.test", saoPaulo) + liveLine(at.Add(20*time.Minute), "ana@example.test", osaka))
			if _, err := in.Write([]byte(b.String())); err != nil {
				t.Fatal(err)
			}
			if a := nextAlert(t, lines); a["user"] != "ana@example.test" {
				t.Fatalf("alert %v", a)
			}
			allow()
			waitFor(t, "a prune", func() bool {
				return strings.Contains(stderr.String(), `level=INFO msg="pruned 1 address, 0 closed alerts and 0 changes of the block audit last seen before `)
			})
			in.Close()
			select {
			case c := <-code:
				if c != 0 {
					t.Fatalf("exit %d\n%s", c, stderr)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("the daemon did not end with its input\n%s", stderr)
			}
			st, err = state.Open(ctx, dsn, state.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for user, want := range map[string]int{"old@example.test": 0, "ana@example.test": 2} {
				h, err := st.History(ctx, user)
				if err != nil {
					t.Fatal(err)
				}
				if len(h) != want {
					t.Errorf("history of %s: %d addresses, want %d\n%s", user, len(h), want, stderr)
				}
			}
		})
	}
}
