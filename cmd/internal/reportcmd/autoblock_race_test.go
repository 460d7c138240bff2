package reportcmd

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
	"github.com/loganom/loganom/pkg/state/pgtest"
)

// raceStore is a real state whose writes of a block run other's change
// first, once (set per round): a change by hand that lands between the
// automatic block's reads and its write, held until it is made ("held")
// or made at the same moment, in another goroutine ("at once").
type raceStore struct {
	state.Store
	other atomic.Pointer[func()]
}

func (r *raceStore) before() {
	if f := r.other.Swap(nil); f != nil {
		(*f)()
	}
}

// AddBlock and PutBlockIf: any automatic write of a block.
func (r *raceStore) AddBlock(ctx context.Context, b state.Block) error {
	r.before()
	return r.Store.AddBlock(ctx, b)
}

func (r *raceStore) PutBlockIf(ctx context.Context, b state.Block, ok func(*state.Block, *state.BlockChange) bool) (*state.Block, bool, error) {
	r.before()
	return r.Store.PutBlockIf(ctx, b, ok)
}

var raceBackends = []struct {
	name string
	db   func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "state.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.DSN(t) }},
}

// raceModes: how the change by hand meets the automatic block.
var raceModes = []string{
	"held",    // made, to the commit, just before the automatic write starts
	"at once", // started as the automatic write starts, in another goroutine
	"start",   // started with Block, in another goroutine
}

// raceAlert is a live alert of user of severity sev, its last login a
// minute before now.
func raceAlert(user, sev string, now time.Time) *report.Account {
	last := now.Add(-time.Minute)
	return &report.Account{User: user, Severity: sev, Countries: []string{"BA", "HU", "PL"}, Last: last,
		IPs: []*report.IP{{IP: "92.36.10.20", Count: 1, First: last, Last: last, Country: "BA"}}}
}

// runRace runs the automatic block of alert against change, as mode says,

// raceSetup makes a state on db, at a fixed time now, behind a raceStore,
// and [BLOCK] auto for a day from medium.
func raceSetup(t *testing.T, db string) (*AutoBlock, *statecmd.State, *raceStore, time.Time) {
	t.Helper()
	f, st := autoBlockStateAt(t, "[BLOCK]\nauto = true\nfor = 24h\nmin_severity = medium\n", db)
	now := time.Date(2026, 11, 28, 2, 48, 0, 0, time.UTC)
	st.Now = func() time.Time { return now }
	if err := f.Apply(st); err != nil {
		t.Fatal(err)
	}
	rs := &raceStore{Store: st.Store}
	st.Store = rs
	return f.AutoBlock(), st, rs, now
}

// and returns what Block returned.
func runRace(t *testing.T, ab *AutoBlock, st *statecmd.State, rs *raceStore, mode string, a *report.Account, change func() error) (bool, error) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	var changeErr error
	run := func() { changeErr = change() }
	switch mode {
	case "held":
		rs.other.Store(&run)
	case "at once":
		f := func() { wg.Go(run) }
		rs.other.Store(&f)
	case "start":
		wg.Go(run)
	}
	made, err := ab.Block(ctx, st, a)
	rs.other.Store(nil)
	wg.Wait()
	if changeErr != nil {
		t.Fatal(changeErr)
	}
	return made, err
}

// A block by hand (loganom block, the API's PUT) is never replaced by an
// automatic one, whichever comes first: the automatic block decides
// against the account's row in its write's transaction, not against a
// read before it. Rounds of a high alert's block, on an account free or
// blocked automatically for a medium alert (which the high one may
// replace), against a block by hand: the block by hand is in force at the
// end, and an automatic block Block says it made is before it in the
// audit trail; one it did not make is marked with the block by hand. With
// the read before the write, "held" fails every round.
func TestAutoBlockManualRace(t *testing.T) {
	const rounds = 12
	for _, be := range raceBackends {
		for _, mode := range raceModes {
			t.Run(be.name+"/"+mode, func(t *testing.T) {
				ctx := context.Background()
				ab, st, rs, now := raceSetup(t, be.db(t))
				for round := range rounds {
					user := fmt.Sprintf("u%d@example.test", round)
					seeded := round%2 == 1
					if seeded { // blocked for a medium alert a minute ago
						if made, err := ab.Block(ctx, st, raceAlert(user, "medium", now.Add(-time.Minute))); err != nil || !made {
							t.Fatalf("%s: the medium alert: made %v, %v", user, made, err)
						}
					}
					manual := state.Block{User: user, Reason: "helpdesk ticket 42", By: "api:helpdesk", Created: now}
					a := raceAlert(user, "high", now)
					made, err := runRace(t, ab, st, rs, mode, a, func() error {
						_, err := st.Store.PutBlock(ctx, manual)
						return err
					})
					if err != nil {
						t.Fatalf("%s: %v", user, err)
					}
					blocks, err := st.Store.Blocks(ctx, now)
					if err != nil {
						t.Fatal(err)
					}
					var in *state.Block
					for i := range blocks {
						if blocks[i].User == user {
							in = &blocks[i]
						}
					}
					if in == nil || in.By != manual.By || in.Source != "manual" {
						t.Fatalf("%s (seeded %v): block in force %+v, want the block by hand: the automatic block (made %v) replaced it\naudit:\n%s",
							user, seeded, in, made, auditLines(t, st.Store, user))
					}
					audit := auditLines(t, st.Store, user)
					switch {
					case made && (a.Blocked == nil || !a.Blocked.New):
						t.Errorf("%s: made, mark %+v", user, a.Blocked)
					case made && !madeBefore(t, st.Store, user):
						t.Errorf("%s: made, but not before the block by hand:\n%s", user, audit)
					case !made && (a.Blocked == nil || a.Blocked.By != manual.By || a.Blocked.New):
						t.Errorf("%s: not made, mark %+v, want the block by hand's", user, a.Blocked)
					}
				}
			})
		}
	}
}

// An unblock (the postmaster has dealt with the incident) that lands
// after the automatic block read the audit trail is not undone by it:
// rounds of an account blocked automatically for a medium alert, whose
// high alert (which would replace that block) meets the unblock. The
// account is free at the end, whichever came first. With the audit
// trail read before the write and not checked in it, "held" fails every
// round.
func TestAutoBlockUnblockRace(t *testing.T) {
	const rounds = 12
	for _, be := range raceBackends {
		for _, mode := range raceModes {
			t.Run(be.name+"/"+mode, func(t *testing.T) {
				ctx := context.Background()
				ab, st, rs, now := raceSetup(t, be.db(t))
				for round := range rounds {
					user := fmt.Sprintf("u%d@example.test", round)
					if made, err := ab.Block(ctx, st, raceAlert(user, "medium", now.Add(-time.Minute))); err != nil || !made {
						t.Fatalf("%s: the medium alert: made %v, %v", user, made, err)
					}
					a := raceAlert(user, "high", now)
					made, err := runRace(t, ab, st, rs, mode, a, func() error {
						ok, err := st.Store.RemoveBlock(ctx, user, "root", "dealt with", now)
						if err == nil && !ok {
							err = fmt.Errorf("%s: the unblock found no block", user)
						}
						return err
					})
					if err != nil {
						t.Fatalf("%s: %v", user, err)
					}
					blocks, err := st.Store.Blocks(ctx, now)
					if err != nil {
						t.Fatal(err)
					}
					for _, b := range blocks {
						if b.User == user {
							t.Fatalf("%s: blocked at the end (%s, made %v): the unblock was undone\naudit:\n%s", user, b.Reason, made, auditLines(t, st.Store, user))
						}
					}
					if !made && a.Blocked != nil {
						t.Errorf("%s: not made, yet marked blocked: %+v", user, a.Blocked)
					}
				}
			})
		}
	}
}

// madeBefore tells whether user's automatic block of severity high is
// before the block by hand in the audit trail.
func madeBefore(t *testing.T, st state.Store, user string) bool {
	t.Helper()
	changes, err := st.BlockAudit(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	manual := false // seen, the latest first
	for _, c := range changes {
		if c.User != user {
			continue
		}
		if c.Source == "manual" {
			manual = true
		}
		if c.Source == "automatic" && strings.HasPrefix(c.Reason, "automatic: severity high") {
			return manual
		}
	}
	return false
}

func auditLines(t *testing.T, st state.Store, user string) string {
	t.Helper()
	changes, err := st.BlockAudit(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var s string
	for _, c := range changes {
		if c.User == user {
			s += fmt.Sprintf("  %s by %s: %s\n", c.Action, c.By, c.Reason)
		}
	}
	return s
}
