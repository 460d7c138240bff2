package state

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPutBlockIf: ok is given the block in force and the account's latest
// change in the audit trail (the one BlockAudit lists first); when it
// refuses, nothing is written (on an account without a row, the row
// inserted to take it goes too) and the block in force is returned.
func TestPutBlockIf(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b.dsn(t))
			latest := func() *BlockChange {
				t.Helper()
				au, err := s.BlockAudit(ctx, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				for i := range au {
					if au[i].User == "u" {
						return &au[i]
					}
				}
				return nil
			}
			steps := []struct {
				name    string
				block   Block
				unblock bool // RemoveBlock at block.Created instead
				allow   bool
				wantCur string // the block ok is given
				wantLa  string // the latest change ok is given: its reason
			}{
				{"none, refused", Block{User: "u", Reason: "a", Created: at(0)}, false, false, "none", "-"},
				{"none, allowed", Block{User: "u", Reason: "b", By: "root", Created: at(time.Minute), Expires: at(time.Hour)}, false, true, "none", "-"},
				{"one, refused", Block{User: "u", Reason: "c", Source: "automatic", Created: at(2 * time.Minute)}, false, false, "b by root 1m0s to 1h0m0s (manual)", "b"},
				{"one, allowed", Block{User: "u", Reason: "d", Source: "automatic", By: "auto", Created: at(3 * time.Minute), Expires: at(4 * time.Minute)}, false, true, "b by root 1m0s to 1h0m0s (manual)", "b"},
				{"ended by itself", Block{User: "u", Reason: "e", Created: at(5 * time.Minute)}, false, false, "none", "d"},
				{"another account", Block{User: "v", Reason: "f", Created: at(6 * time.Minute)}, false, true, "none", "-"},
				{"block", Block{User: "u", Reason: "g", By: "root", Created: at(7 * time.Minute)}, false, true, "none", "d"},
				{"unblock", Block{User: "u", Reason: "dealt with", Created: at(8 * time.Minute)}, true, false, "", ""},
				{"after an unblock", Block{User: "u", Reason: "h", Created: at(9 * time.Minute)}, false, false, "none", "dealt with"},
			}
			for _, st := range steps {
				if st.unblock {
					if ok, err := s.RemoveBlock(ctx, st.block.User, "root", st.block.Reason, st.block.Created); !ok || err != nil {
						t.Fatalf("%s: RemoveBlock = %v, %v", st.name, ok, err)
					}
					continue
				}
				before := snapshotBlocks(t, s)
				var want *BlockChange
				if st.block.User == "u" {
					want = latest()
				}
				calls := 0
				cur, put, err := s.PutBlockIf(ctx, st.block, func(cur *Block, la *BlockChange) bool {
					calls++
					if got := describeBlock(cur); got != st.wantCur {
						t.Errorf("%s: ok given the block %s, want %s", st.name, got, st.wantCur)
					}
					if got := changeReason(la); got != st.wantLa || !la.Same(want) {
						t.Errorf("%s: ok given the latest change %s (same as BlockAudit's: %v), want %s", st.name, got, la.Same(want), st.wantLa)
					}
					return st.allow
				})
				if err != nil || put != st.allow || calls == 0 {
					t.Fatalf("%s: put %v, err %v, ok called %d times; want put %v", st.name, put, err, calls, st.allow)
				}
				if got := describeBlock(cur); got != st.wantCur {
					t.Errorf("%s: returned the block %s, want %s", st.name, got, st.wantCur)
				}
				after := snapshotBlocks(t, s)
				if !st.allow && after != before {
					t.Errorf("%s: refused, yet written:\n%s\nwas\n%s", st.name, after, before)
				}
				if st.allow && after == before {
					t.Errorf("%s: allowed, nothing written", st.name)
				}
			}
			if (*BlockChange)(nil).Same(nil) != true || (&BlockChange{}).Same(&BlockChange{}) {
				t.Error("Same: want two nils the same, and two changes not read from the trail not")
			}
		})
	}
}

func changeReason(c *BlockChange) string {
	if c == nil {
		return "-"
	}
	return c.Reason
}

// snapshotBlocks is every row of blocks (ended or not) and of the audit.
func snapshotBlocks(t *testing.T, s *store) string {
	t.Helper()
	ctx := context.Background()
	bl, err := s.Blocks(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	au, err := s.BlockAudit(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%+v\n%+v", bl, au)
}

// TestPutBlockIfRace: conditional writes of one account at once with
// blocks by hand and unblocks, from several connections, on an account
// without a row at first (PostgreSQL: inserts that meet on the unique
// index) and with one. Each is decided against what was in force when it
// wrote: an automatic block made only when no block by hand was in force
// ("never replace a block by hand") is never after a block by hand in the
// audit trail without an unblock between; one made only when the
// account's latest change is still the one read before ("nothing changed
// since") is right after it in the audit trail. With ok decided on a read
// before the write's transaction, both fail.
func TestPutBlockIfRace(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b.dsn(t))
			const rounds = 16
			var (
				mu   sync.Mutex
				errs []error
				// seenBy: the change read before each "since" write
				// that was put, by its reason
				seenBy = map[string]*BlockChange{}
			)
			fail := func(err error) {
				mu.Lock()
				defer mu.Unlock()
				errs = append(errs, err)
			}
			for round := range rounds {
				user := fmt.Sprintf("u%d", round%4) // 4 accounts, each with a history
				if round%4 == 3 {
					if _, err := s.PutBlock(ctx, Block{User: user, Reason: fmt.Sprintf("r%d.seed", round), Source: "automatic", By: "auto", Created: at(time.Duration(round) * time.Minute)}); err != nil {
						t.Fatal(err)
					}
				}
				var wg sync.WaitGroup
				tm := at(time.Duration(round)*time.Minute + time.Second)
				for i := range 3 {
					wg.Go(func() {
						if _, err := s.PutBlock(ctx, Block{User: user, Reason: fmt.Sprintf("r%d.manual%d", round, i), By: "root", Created: tm}); err != nil {
							fail(err)
						}
					})
					wg.Go(func() {
						_, _, err := s.PutBlockIf(ctx, Block{User: user, Reason: fmt.Sprintf("r%d.auto%d", round, i), Source: "automatic", By: "auto", Created: tm},
							func(cur *Block, _ *BlockChange) bool { return cur == nil || cur.Source == "automatic" })
						if err != nil {
							fail(err)
						}
					})
					wg.Go(func() {
						seen, err := s.latestOf(ctx, user)
						if err != nil {
							fail(err)
							return
						}
						reason := fmt.Sprintf("r%d.since%d", round, i)
						_, put, err := s.PutBlockIf(ctx, Block{User: user, Reason: reason, Source: "automatic", By: "auto", Created: tm},
							func(_ *Block, la *BlockChange) bool { return la.Same(seen) })
						if err != nil {
							fail(err)
						}
						if put {
							mu.Lock()
							seenBy[reason] = seen
							mu.Unlock()
						}
					})
				}
				wg.Go(func() {
					if _, err := s.RemoveBlock(ctx, user, "root", fmt.Sprintf("r%d.unblock", round), tm); err != nil {
						fail(err)
					}
				})
				wg.Wait()
			}
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			au, err := s.BlockAudit(ctx, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			slices.Reverse(au)            // in the order they took effect
			manual := map[string]string{} // by user: the block by hand in force
			prev := map[string]*BlockChange{}
			for i := range au {
				c := &au[i]
				isAuto := c.Source == "automatic" && !isSeed(c.Reason)
				if isAuto && strings.Contains(c.Reason, ".auto") && manual[c.User] != "" {
					t.Errorf("%s: automatic block %s made over the block by hand %s", c.User, c.Reason, manual[c.User])
				}
				if seen, ok := seenBy[c.Reason]; ok && !prev[c.User].Same(seen) {
					t.Errorf("%s: %s made after %s, not after the change read before it (%s)", c.User, c.Reason, changeReason(prev[c.User]), changeReason(seen))
				}
				switch {
				case c.Action == "unblock":
					manual[c.User] = ""
				case c.Source == "manual":
					manual[c.User] = c.Reason
				default:
					manual[c.User] = ""
				}
				prev[c.User] = c
			}
			if len(seenBy) == 0 {
				t.Error("no write conditioned on the latest change was made: the test tested nothing of it")
			}
		})
	}
}

func isSeed(reason string) bool { return strings.HasSuffix(reason, ".seed") }

// latestOf is user's latest change, as a caller reads it before writing.
func (s *store) latestOf(ctx context.Context, user string) (*BlockChange, error) {
	au, err := s.BlockAudit(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	for i := range au {
		if au[i].User == user {
			return &au[i], nil
		}
	}
	return nil, nil
}
