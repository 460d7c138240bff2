package reportcmd

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// autoBlockStateAt is autoBlockState on the database db (an SQLite path
// or a PostgreSQL DSN).
func autoBlockStateAt(t *testing.T, ini, db string) (*ReportFlags, *statecmd.State) {
	t.Helper()
	cfg := loadINI(t, ini)
	var f ReportFlags
	if err := cfg.Fill(&f); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Rule(cfg); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	st, err := statecmd.Open(context.Background(), &statecmd.Flags{DB: db}, cfg, &cli.Logger{Prog: "loganom", W: &stderr}, false, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &f, st
}

// A manual unblock is not undone by reading again the logins the state
// had seen before it, whatever their time says: a log dated ahead of the
// clock (a mail server whose clock is fast, a time zone taken for UTC)
// has logins "later" than the unblock, yet they are the incident the
// postmaster dealt with. The live reader blocks before it commits, so
// the alert read again reaches Block, as it did the first time; only a
// login later than the incident the state recorded (the thief back after
// the unblock) blocks again. The same on SQLite and PostgreSQL, for a log
// ahead of the clock and one behind it, unblocked with the alert open or
// after it was acknowledged.
func TestAutoBlockUnblockedNotRedone(t *testing.T) {
	backends := []struct {
		name string
		db   func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "state.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.DSN(t) }},
	}
	for _, be := range backends {
		for _, c := range []struct {
			name  string
			ahead time.Duration // the log's time, from the clock
			ack   bool          // the alert acknowledged before the unblock
		}{
			{"log 2h ahead", 2 * time.Hour, false},
			{"log 10h ahead", 10 * time.Hour, false},
			{"log 2h ahead, acknowledged first", 2 * time.Hour, true},
			{"log 2h behind", -2 * time.Hour, false},
			{"log 2h behind, acknowledged first", -2 * time.Hour, true},
		} {
			t.Run(be.name+"/"+c.name, func(t *testing.T) {
				ctx := context.Background()
				f, st := autoBlockStateAt(t, "[BLOCK]\nauto = true\nfor = 24h\nmin_severity = high\n", be.db(t))
				now := time.Date(2026, 11, 28, 2, 48, 0, 0, time.UTC)
				st.Now = func() time.Time { return now }
				if err := f.Apply(st); err != nil {
					t.Fatal(err)
				}
				ab := f.AutoBlock()
				last := now.Add(c.ahead)
				alert := func(at time.Time) *report.Account {
					return &report.Account{User: "bob@example.test", Severity: "high", Countries: []string{"BA", "HU", "PL"}, Last: at,
						IPs: []*report.IP{{IP: "92.36.10.20", Count: 1, First: at, Last: at, Country: "BA"}}}
				}
				blocked := func() bool {
					t.Helper()
					bs, err := st.Store.Blocks(ctx, now)
					if err != nil {
						t.Fatal(err)
					}
					for _, b := range bs {
						if b.User == "bob@example.test" {
							return true
						}
					}
					return false
				}
				// the first reading: blocked as the alert is made, then
				// the alert is recorded (as the live reader does)
				first := alert(last)
				if made, err := ab.Block(ctx, st, first); err != nil || !made {
					t.Fatalf("first alert: made %v, err %v; want a block", made, err)
				}
				if _, _, err := st.CommitLive(ctx, &statecmd.Live{Anomalies: []*report.Account{first}, Rule: "test"}); err != nil {
					t.Fatal(err)
				}
				now = now.Add(5 * time.Minute)
				if c.ack {
					if ok, err := st.Store.Ack(ctx, "bob@example.test", "root", now); err != nil || !ok {
						t.Fatalf("ack: %v %v", ok, err)
					}
					now = now.Add(time.Minute)
				}
				if ok, err := st.Store.RemoveBlock(ctx, "bob@example.test", "root", "password changed", now); err != nil || !ok {
					t.Fatalf("unblock: %v %v", ok, err)
				}
				now = now.Add(5 * time.Minute)

				// the same logins read again: the alert made again, at the
				// incident's last login or at an earlier one of it
				for _, at := range []time.Time{last, last.Add(-time.Second)} {
					a := alert(at)
					made, err := ab.Block(ctx, st, a)
					if err != nil {
						t.Fatal(err)
					}
					if made || a.Blocked != nil || blocked() {
						t.Fatalf("read again (last login %s, unblocked at %s): made %v, mark %+v: the unblock was undone", at, now.Add(-5*time.Minute), made, a.Blocked)
					}
				}

				// the thief back after the unblock: a login later than the
				// incident the state recorded blocks again
				back := alert(maxTime(last, now).Add(10 * time.Minute))
				if made, err := ab.Block(ctx, st, back); err != nil || !made || !blocked() {
					t.Fatalf("a new login after the unblock: made %v, err %v; want a block", made, err)
				}
			})
		}
	}
}

// unblockStart is when blockThenUnblock's thief is blocked.
var unblockStart = time.Date(2026, 11, 28, 20, 0, 0, 0, time.UTC)

// blockThenUnblock: first (alice's alert for the thief's login) blocks
// her at unblockStart, the alert is recorded, and the postmaster
// unblocks her 5 minutes later. It returns the auto-blocker and the
// state, whose clock *now reads a minute after the unblock.
func blockThenUnblock(t *testing.T, first *report.Account) (*AutoBlock, *statecmd.State, *time.Time) {
	t.Helper()
	ctx := context.Background()
	f, st := autoBlockStateAt(t, "[BLOCK]\nauto = true\nfor = 24h\nmin_severity = high\n", filepath.Join(t.TempDir(), "state.db"))
	now := unblockStart
	st.Now = func() time.Time { return now }
	if err := f.Apply(st); err != nil {
		t.Fatal(err)
	}
	ab := f.AutoBlock()
	if made, err := ab.Block(ctx, st, first); err != nil || !made {
		t.Fatalf("the thief's login: made %v, err %v; want a block", made, err)
	}
	if _, _, err := st.CommitLive(ctx, &statecmd.Live{Anomalies: []*report.Account{first}, Rule: "test"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(5 * time.Minute)
	if ok, err := st.Store.RemoveBlock(ctx, "alice@example.test", "root", "password changed", now); err != nil || !ok {
		t.Fatalf("unblock: %v %v", ok, err)
	}
	now = now.Add(time.Minute)
	return ab, st, &now
}

// After an unblock, the owner's first login at home makes an impossible
// trip with the thief's login from before it: the same incident, which
// the postmaster dealt with, and the owner is not blocked again; the
// thief back on that address after the unblock is. (A helper driving two
// mail servers on one state saw alice blocked again by her next login.)
func TestAutoBlockOwnerAfterUnblockNotBlocked(t *testing.T) {
	ctx := context.Background()
	thief := unblockStart.Add(-time.Minute)
	alert := func(thiefLast, home time.Time) *report.Account {
		return &report.Account{User: "alice@example.test", Severity: "high", Countries: []string{"AR", "DE"}, Last: maxTime(thiefLast, home),
			IPs: []*report.IP{
				{IP: "181.0.150.84", Count: 1, First: thief, Last: thiefLast, Country: "AR"},
				{IP: "79.192.10.1", Count: 3, First: thief.Add(-48 * time.Hour), Last: home, Country: "DE"},
			},
			Reasons: []detect.Reason{{Detector: detect.ImpossibleTravel, Severity: detect.High, Text: "Munich, DE → Buenos Aires, AR", At: maxTime(thiefLast, home), IP: "181.0.150.84"}}}
	}
	ab, st, now := blockThenUnblock(t, alert(thief, thief.Add(-20*time.Minute)))
	// alice at home, after the unblock: the trip from the thief's login
	if made, err := ab.Block(ctx, st, alert(thief, *now)); err != nil || made {
		t.Fatalf("the owner at home after the unblock: made %v, err %v; want no block", made, err)
	}
	// the thief back on that address after the unblock
	*now = now.Add(time.Minute)
	if made, err := ab.Block(ctx, st, alert(*now, now.Add(-time.Minute))); err != nil || !made {
		t.Fatalf("the thief back after the unblock: made %v, err %v; want a block", made, err)
	}
}

// The thief back after the unblock from another address at the place the
// alert's reason names (a dynamic address changed): the detector keeps
// one finding per pair of places, naming the first address, and the
// thief's new one adds no reason; it is a new incident all the same, and
// blocks. (anomalousLast took the last use of the named address alone:
// before the unblock, so the block counted as lifted and none was made.)
func TestAutoBlockThiefBackFromAnotherAddressBlocked(t *testing.T) {
	thief := unblockStart.Add(-time.Minute)
	home := thief.Add(-20 * time.Minute)
	reasons := []detect.Reason{{Detector: detect.ImpossibleTravel, Severity: detect.High, Text: "Munich, DE → Buenos Aires, AR", At: thief, IP: "181.0.150.84"}}
	ips := []*report.IP{
		{IP: "181.0.150.84", Count: 1, First: thief, Last: thief, Country: "AR", City: "Buenos Aires", ASN: 7303},
		{IP: "79.192.10.1", Count: 3, First: home.Add(-48 * time.Hour), Last: home, Country: "DE", City: "Munich", ASN: 3320},
	}
	first := &report.Account{User: "alice@example.test", Severity: "high", Countries: []string{"AR", "DE"}, Last: thief, IPs: ips, Reasons: reasons}
	ab, st, now := blockThenUnblock(t, first)
	back := &report.Account{User: "alice@example.test", Severity: "high", Countries: []string{"AR", "DE"}, Last: *now,
		IPs:     append(slices.Clone(ips), &report.IP{IP: "181.0.151.7", Count: 2, First: now.Add(-30 * time.Second), Last: *now, Country: "AR", City: "Buenos Aires", ASN: 7303}),
		Reasons: reasons}
	if made, err := ab.Block(context.Background(), st, back); err != nil || !made {
		t.Fatalf("the thief back from another address after the unblock: made %v, err %v; want a block", made, err)
	}
}
