package statecmd

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/cmd/internal/syncbuf"
	"github.com/loganom/loganom/pkg/state"
	"github.com/loganom/loganom/pkg/state/pgtest"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for the test's trigger
)

// seedOld records, as of now, an address last seen 200 days ago and one
// seen yesterday; an alert opened and acknowledged 200 days ago and one
// 2 days ago; a block made and lifted 200 days ago and one made
// yesterday, still in force.
func seedOld(t *testing.T, st state.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	old, recent := now.Add(-200*24*time.Hour), now.Add(-24*time.Hour)
	for _, x := range []struct {
		user string
		at   time.Time
	}{{"old@example.test", old}, {"new@example.test", recent}} {
		an := state.Anomaly{User: x.user, Last: x.at, Rule: "test", Payload: []byte(`{}`),
			Addresses: []state.Evidence{{IP: "192.0.2.1", Count: 1, First: x.at, Last: x.at, Country: "BR"}}}
		run := &state.Run{Instance: "mx1", Now: x.at, Logins: []state.Login{{User: x.user, IP: "192.0.2.1", Count: 1, First: x.at, Last: x.at, Country: "BR"}},
			Anomalies: []state.Anomaly{an}}
		if _, err := st.Commit(ctx, run); err != nil {
			t.Fatal(err)
		}
		if ok, err := st.Ack(ctx, x.user, "root", x.at.Add(time.Hour)); err != nil || !ok {
			t.Fatalf("ack %s: %v %v", x.user, ok, err)
		}
		if err := st.AddBlock(ctx, state.Block{User: x.user, By: "root", Created: x.at}); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := st.RemoveBlock(ctx, "old@example.test", "root", "", old.Add(time.Hour)); err != nil || !ok {
		t.Fatalf("unblock: %v %v", ok, err)
	}
}

// TestStartPruning: a daemon's pruning, with an injected timer, on
// SQLite and PostgreSQL: nothing is pruned before the first tick (a
// minute after the start); the tick prunes the history, the closed alerts
// and the block audit older than [STATE] keep, keeps the recent ones, and
// says so; a prune that fails (a trigger in the database refuses the
// delete) is logged as an error with a hint and the pruner goes on: the
// next tick prunes; stop ends it.
func TestStartPruning(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			var dsn, driver string
			if backend == "sqlite" {
				dsn, driver = filepath.Join(t.TempDir(), "state.db"), "sqlite"
			} else {
				dsn, driver = pgtest.DSN(t), "pgx"
			}
			now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
			st, err := state.Open(ctx, dsn, state.Options{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			seedOld(t, st, now)
			raw, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()

			asked := make(chan time.Duration, 10)
			tick := make(chan time.Time)
			results := make(chan error, 10)
			var pruned []state.Pruned
			var mu sync.Mutex
			logs := &syncbuf.Buffer{}
			log := &cli.Logger{Prog: "loganom", W: logs}
			s := &State{Store: st, Instance: "mx1", Keep: DefaultKeep, RealertAfter: DefaultRealertAfter, Window: DefaultWindow,
				PruneEvery: DefaultPruneEvery, Now: func() time.Time { return now },
				PruneAfter: func(d time.Duration) <-chan time.Time { asked <- d; return tick },
				OnPrune: func(p state.Pruned, err error) {
					mu.Lock()
					pruned = append(pruned, p)
					mu.Unlock()
					results <- err
				}}
			stop := s.StartPruning(log)
			stopped := false
			defer func() {
				if !stopped {
					stop()
				}
			}()
			wait := func(want time.Duration) {
				t.Helper()
				select {
				case d := <-asked:
					if d != want {
						t.Fatalf("the pruner waits %s, want %s", d, want)
					}
				case <-time.After(30 * time.Second):
					t.Fatalf("the pruner did not wait for its timer")
				}
			}
			result := func() error {
				t.Helper()
				select {
				case err := <-results:
					return err
				case <-time.After(60 * time.Second):
					t.Fatalf("no prune")
				}
				return nil
			}
			count := func() (addresses, alerts, audit int) {
				t.Helper()
				stt, err := st.Stats(ctx)
				if err != nil {
					t.Fatal(err)
				}
				au, err := st.BlockAudit(ctx, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				return int(stt.Addresses), int(stt.Alerts), len(au)
			}

			wait(PruneDelay)
			if a, al, au := count(); a != 2 || al != 2 || au != 3 {
				t.Fatalf("before the first tick: %d addresses, %d alerts, %d audit rows; want 2, 2, 3 (nothing pruned)", a, al, au)
			}
			tick <- now
			if err := result(); err != nil {
				t.Fatalf("prune: %v", err)
			}
			if a, al, au := count(); a != 1 || al != 1 || au != 1 {
				t.Fatalf("after the prune: %d addresses, %d alerts, %d audit rows; want 1, 1, 1", a, al, au)
			}
			for user, want := range map[string]int{"old@example.test": 0, "new@example.test": 1} {
				h, err := st.History(ctx, user)
				if err != nil {
					t.Fatal(err)
				}
				if len(h) != want {
					t.Errorf("history of %s: %d rows, want %d", user, len(h), want)
				}
			}
			if al, err := st.Alerts(ctx, time.Time{}); err != nil || len(al) != 1 || al[0].User != "new@example.test" {
				t.Errorf("alerts kept: %+v %v; want new@example.test's", al, err)
			}
			wantMsg := "loganom: pruned 1 address, 1 closed alert and 2 changes of the block audit last seen before " + date(now.Add(-DefaultKeep)) + " ([STATE] keep = 180d)\n"
			if got := logs.String(); got != wantMsg {
				t.Fatalf("log:\n%s\nwant:\n%s", got, wantMsg)
			}
			wait(DefaultPruneEvery)

			// a prune that fails: a trigger refuses the history's delete
			old := now.Add(-300 * 24 * time.Hour)
			if _, err := st.Commit(ctx, &state.Run{Instance: "mx1", Now: old,
				Logins: []state.Login{{User: "older@example.test", IP: "192.0.2.9", Count: 1, First: old, Last: old}}}); err != nil {
				t.Fatal(err)
			}
			allow := pgtest.RefusePrune(t, raw, backend == "postgres")
			tick <- now
			err = result()
			if err == nil || !strings.Contains(err.Error(), "no prune today") {
				t.Fatalf("prune with the trigger: %v, want its error", err)
			}
			got := logs.String()
			for _, want := range []string{"loganom: error: prune the state: state ", "no prune today",
				"loganom: hint: nothing was pruned; tried again in 1d ([STATE] prune_every), or by hand: loganom db prune\n"} {
				if !strings.Contains(got, want) {
					t.Errorf("log lacks %q:\n%s", want, got)
				}
			}
			if h, err := st.History(ctx, "older@example.test"); err != nil || len(h) != 1 {
				t.Fatalf("history after the failed prune: %v %v, want the row kept (rolled back)", h, err)
			}
			// it goes on: the next tick prunes
			wait(DefaultPruneEvery)
			allow()
			tick <- now
			if err := result(); err != nil {
				t.Fatalf("prune after the failure: %v", err)
			}
			mu.Lock()
			last := pruned[len(pruned)-1]
			mu.Unlock()
			if last != (state.Pruned{Addresses: 1}) {
				t.Fatalf("the prune after the failure: %+v, want 1 address", last)
			}
			wait(DefaultPruneEvery)
			stop()
			stopped = true
		})
	}
}

// TestPruneEvery: [STATE] prune_every, its default and 0 (never: no
// timer is even asked for).
func TestPruneEvery(t *testing.T) {
	for _, c := range []struct {
		ini     string
		want    time.Duration
		wantErr string
	}{
		{"", DefaultPruneEvery, ""},
		{"prune_every = 6h\n", 6 * time.Hour, ""},
		{"prune_every = 2d\n", 48 * time.Hour, ""},
		{"prune_every = 0\n", 0, ""},
		{"prune_every = -1h\n", 0, `"-1h" is negative: want a time, like 24h, or 0 (off)`},
		{"prune_every = 6\n", 0, `"6" has no unit`},
		{"prune_every = daily\n", 0, "is not a duration"},
	} {
		path := filepath.Join(t.TempDir(), "config.ini")
		if err := os.WriteFile(path, []byte("[STATE]\n"+c.ini), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		s := &State{}
		err = s.settings(cfg)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%q: %v, want an error with %q", c.ini, err, c.wantErr)
			}
			continue
		}
		if err != nil || s.PruneEvery != c.want {
			t.Errorf("%q: %s %v, want %s", c.ini, s.PruneEvery, err, c.want)
		}
		if c.want == 0 {
			asked := false
			s.PruneAfter = func(time.Duration) <-chan time.Time { asked = true; return nil }
			s.StartPruning(&cli.Logger{Prog: "loganom", W: &syncbuf.Buffer{}})()
			if asked {
				t.Errorf("%q: the pruner started", c.ini)
			}
		}
	}
}

// TestFmtAge: ages as a config writes them, in the prune's messages.
func TestFmtAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		180 * 24 * time.Hour: "180d", 24 * time.Hour: "1d", time.Hour: "1h", 6 * time.Hour: "6h",
		90 * time.Minute: "1h30m", 30 * time.Minute: "30m", 2*time.Hour + 10*time.Minute: "2h10m",
		45 * time.Second: "45s", 90 * time.Second: "1m30s", 0: "0s", 36 * time.Hour: "36h",
	} {
		if got := fmtAge(d); got != want {
			t.Errorf("fmtAge(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestPruneWordsQuiet: the open alerts a prune closed as quiet are said,
// and nothing of them when there were none.
func TestPruneWordsQuiet(t *testing.T) {
	before := time.Date(2026, 6, 2, 4, 0, 0, 0, time.Local)
	got := PruneWords(state.Pruned{Addresses: 120, Alerts: 3, Quiet: 2}, before, DefaultKeep)
	want := "pruned 120 addresses, 3 closed alerts and 0 changes of the block audit last seen before 2026-06-02 04:00 ([STATE] keep = 180d); 2 open alerts quiet since then closed (pruned in turn 180d from now)"
	if got != want {
		t.Errorf("PruneWords =\n%s\nwant\n%s", got, want)
	}
	if got := PruneWords(state.Pruned{Quiet: 1}, before, DefaultKeep); !strings.HasSuffix(got, "; 1 open alert quiet since then closed (pruned in turn 180d from now)") {
		t.Errorf("PruneWords = %s", got)
	}
	if got := PruneWords(state.Pruned{Alerts: 1}, before, DefaultKeep); strings.Contains(got, "open") {
		t.Errorf("PruneWords without quiet alerts = %s", got)
	}
}
