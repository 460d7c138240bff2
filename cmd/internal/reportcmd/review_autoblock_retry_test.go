package reportcmd

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// downStore is a real state that can be made unreachable (a PostgreSQL
// restarting, a disk full): its calls fail while down.
type downStore struct {
	state.Store
	down atomic.Bool
}

var errDown = errors.New("state down")

func (d *downStore) Blocks(ctx context.Context, now time.Time) ([]state.Block, error) {
	if d.down.Load() {
		return nil, errDown
	}
	return d.Store.Blocks(ctx, now)
}

func (d *downStore) PutBlockIf(ctx context.Context, b state.Block, ok func(*state.Block, *state.BlockChange) bool) (*state.Block, bool, error) {
	if d.down.Load() {
		return nil, false, errDown
	}
	return d.Store.PutBlockIf(ctx, b, ok)
}

func (d *downStore) BlockAudit(ctx context.Context, since time.Time) ([]state.BlockChange, error) {
	if d.down.Load() {
		return nil, errDown
	}
	return d.Store.BlockAudit(ctx, since)
}

func (d *downStore) Commit(ctx context.Context, run *state.Run) (*state.Outcome, error) {
	if d.down.Load() {
		return nil, errDown
	}
	return d.Store.Commit(ctx, run)
}

// An alert that passes [BLOCK] auto while the state is down: the block
// fails (said on stderr), and is made once the state is back (at the
// next commit that succeeds), as the alert itself is recorded then: the
// botnet is not left sending because the database restarted at the
// wrong second.
func TestReviewAutoBlockRetriedWhenStateBack(t *testing.T) {
	st := openState(t)
	ds := &downStore{Store: st.Store}
	st.Store = ds
	stderr := &lockedBuf{}
	log := &cli.Logger{Prog: "loganom", W: stderr}
	rep := report.NewLive(report.Rule{})
	rep.History = func(user string) ([]detect.Known, error) { return st.Known(context.Background(), user) }
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	recs := attack("bob@x.test", t0)
	clock := recs[len(recs)-1].Time.Add(time.Minute)
	now := func() time.Time { return clock }
	st.Now = now
	lv := &Live{Env: cli.Env{Stdout: io.Discard, Stderr: stderr}, Log: log, Rep: rep, St: st, Format: "json", Out: io.Discard,
		Now: now, Block: &AutoBlock{For: 24 * time.Hour, MinSeverity: detect.High, Now: now}}
	lv.Start()
	for _, r := range recs[:len(recs)-1] {
		if err := rep.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	ds.down.Store(true)
	for _, r := range recs[len(recs)-1:] {
		if err := rep.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if lv.Alerts() != 1 {
		t.Fatalf("%d alerts, want 1\n%s", lv.Alerts(), stderr)
	}
	ds.down.Store(false)
	clock = clock.Add(3 * time.Second)
	if err := lv.Idle(true); err != nil {
		t.Fatal(err)
	}
	blocks, err := st.Store.Blocks(context.Background(), clock)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 1 || blocks[0].User != "bob@x.test" || blocks[0].By != AutoBlockBy {
		t.Errorf("blocks once the state is back: %+v, want bob's\n%s", blocks, stderr)
	}
	lv.Close()
}
