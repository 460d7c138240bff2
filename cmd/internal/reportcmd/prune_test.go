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
	"github.com/loganom/loganom/pkg/state"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// TestReportFollowPrunes: loganom-report --follow --db prunes its state
// by itself ([STATE] prune_every, here 100ms), on SQLite and PostgreSQL:
// the address last seen 200 days ago goes, the login it reads stays, and
// it says what it pruned.
func TestReportFollowPrunes(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			dsn := filepath.Join(dir, "state.db")
			if backend == "postgres" {
				dsn = pgtest.DSN(t)
			}
			cfg := filepath.Join(dir, "config.ini")
			if err := os.WriteFile(cfg, []byte("[STATE]\nprune_every = 100ms\n"), 0o600); err != nil {
				t.Fatal(err)
			}
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

			inR, inW := io.Pipe()
			stderr := &lockedBuf{}
			code := make(chan int, 1)
			go func() {
				code <- Main(cli.Env{Args: []string{"--follow", "-c", cfg, "--db", dsn}, Stdin: inR, Stdout: io.Discard, Stderr: stderr, Getenv: func(string) string { return "" }})
			}()
			rec := `{"type":"login","time":"2026-11-25T08:00:00-03:00","user":"dave@example.test","ip":"187.45.12.9","country":"BR","asn":26599}` + "\n"
			if _, err := io.WriteString(inW, rec); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(20 * time.Second)
			want := `level=INFO msg="pruned 1 address, 0 closed alerts and 0 changes of the block audit last seen before `
			for !strings.Contains(stderr.String(), want) {
				if time.Now().After(deadline) {
					t.Fatalf("no prune:\n%s", stderr)
				}
				time.Sleep(10 * time.Millisecond)
			}
			inW.Close()
			if c := <-code; c != 0 {
				t.Fatalf("exit %d\n%s", c, stderr)
			}
			st, err = state.Open(ctx, dsn, state.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for user, want := range map[string]int{"old@example.test": 0, "dave@example.test": 1} {
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
