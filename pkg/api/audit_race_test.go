package api

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/state"
)

// tickClock is a clock that moves a second at each reading: each request
// takes a time of its own, in the order the handlers read it.
func tickClock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return t0.Add(time.Duration(n.Add(1)) * time.Second) }
}

// heldStore is the real state, with each PutBlock held until the test
// lets it go: a PUT that has taken its time waits there, and a DELETE
// begun after it commits first.
type heldStore struct {
	Store
	arrived chan struct{}
	release chan struct{}
}

func (h *heldStore) PutBlock(ctx context.Context, b state.Block) (*state.Block, error) {
	h.arrived <- struct{}{}
	<-h.release
	return h.Store.PutBlock(ctx, b)
}

// auditOf is user's changes in the audit trail, latest first, as
// "action by".
func auditOf(t testing.TB, st state.Store, user string) []string {
	t.Helper()
	au, err := st.BlockAudit(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range au {
		if c.User == user {
			out = append(out, c.Action+" by "+c.By)
		}
	}
	return out
}

// agrees checks that the audit's latest change of user is what the state
// ended in: a block when the account is blocked, an unblock when not.
func agrees(t testing.TB, st state.Store, user string, now time.Time) error {
	t.Helper()
	bl, err := st.Blocks(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	blocked := false
	for _, b := range bl {
		blocked = blocked || b.User == user
	}
	au := auditOf(t, st, user)
	if len(au) == 0 {
		return fmt.Errorf("no change of %s in the audit", user)
	}
	if latest := strings.HasPrefix(au[0], "block "); latest != blocked {
		return fmt.Errorf("blocked %v, but the audit's latest change is %q (latest first: %s)", blocked, au[0], strings.Join(au, "; "))
	}
	return nil
}

// TestAuditRace: a PUT and a DELETE on one account at once. The audit
// trail lists the changes in the order they took effect, whatever the
// times the requests took: its latest change is what the state ended in.
func TestAuditRace(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Run("held", func(t *testing.T) { testAuditRaceHeld(t, b) })
			t.Run("free", func(t *testing.T) { testAuditRaceFree(t, b) })
		})
	}
}

// The interleaving that misled the audit, made sure: the PUT takes its
// time (1s), the DELETE its own (2s) and commits, then the PUT commits.
// The account ends blocked, by the PUT, which replaced nothing.
func testAuditRaceHeld(t *testing.T, b backend) {
	st := openState(t, b.dsn(t))
	ctx := context.Background()
	if err := st.AddBlock(ctx, state.Block{User: "bob@example.test", Reason: "first", By: "root", Created: t0.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	held := &heldStore{Store: st, arrived: make(chan struct{}), release: make(chan struct{})}
	f := start(t, Config{Store: held, Now: tickClock()})
	put := make(chan answer, 1)
	go func() { put <- f.do("PUT", "/v1/blocks/bob@example.test", opsToken, `{"reason":"again"}`) }()
	select {
	case <-held.arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("the PUT never reached PutBlock")
	}
	if a := f.do("DELETE", "/v1/blocks/bob@example.test", deskToken, ""); a.status != 200 || !strings.Contains(string(a.body), `"at":"2026-11-28T14:00:02Z"`) {
		t.Fatalf("DELETE: %d %s", a.status, a.body)
	}
	close(held.release)
	// and the PUT replaced nothing: the DELETE had lifted the block it
	// found when it began
	if a := <-put; a.status != 201 || !strings.Contains(string(a.body), `"created":"2026-11-28T14:00:01Z"`) || strings.Contains(string(a.body), `"replaced"`) {
		t.Fatalf("PUT: %d %s; want 201, nothing replaced", a.status, a.body)
	}
	want := []string{"block by api:ops", "unblock by api:helpdesk", "block by root"}
	if got := auditOf(t, st, "bob@example.test"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit, latest first:\n%s\nwant (the order the changes took effect):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := agrees(t, st, "bob@example.test", t0.Add(time.Hour)); err != nil {
		t.Error(err)
	}
}

// Free races, as clients make them: in each round a PUT and a DELETE
// sent at once; whichever wins, the audit's latest change agrees with the
// state.
func testAuditRaceFree(t *testing.T, b backend) {
	st := openState(t, b.dsn(t))
	f := start(t, Config{Store: st, Now: tickClock()})
	const user = "bob@example.test"
	if a := f.do("PUT", "/v1/blocks/"+user, opsToken, ""); a.status != 201 {
		t.Fatalf("PUT: %d %s", a.status, a.body)
	}
	for round := 0; round < 20; round++ {
		var wg sync.WaitGroup
		var put, del answer
		wg.Add(2)
		go func() { defer wg.Done(); put = f.do("PUT", "/v1/blocks/"+user, opsToken, "") }()
		go func() { defer wg.Done(); del = f.do("DELETE", "/v1/blocks/"+user, deskToken, "") }()
		wg.Wait()
		if put.status != 200 && put.status != 201 || del.status != 200 && del.status != 404 {
			t.Fatalf("round %d: PUT %d %s, DELETE %d %s", round, put.status, put.body, del.status, del.body)
		}
		if err := agrees(t, st, user, t0.Add(time.Hour)); err != nil {
			t.Fatalf("round %d (PUT %d, DELETE %d): %v", round, put.status, del.status, err)
		}
		// blocked again for the next round
		if a := f.do("PUT", "/v1/blocks/"+user, opsToken, ""); a.status != 200 && a.status != 201 {
			t.Fatalf("PUT: %d %s", a.status, a.body)
		}
	}
}
