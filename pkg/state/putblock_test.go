package state

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestPutBlock: PutBlock returns the block in force that it replaced:
// none for a first block, the one before, none after an unblock, none
// when the one before had ended by itself (at the new block's time).
func TestPutBlock(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b.dsn(t))
			steps := []struct {
				name   string
				block  Block
				unlift bool // RemoveBlock at block.Created instead
				want   string
			}{
				{"first", Block{User: "u", Reason: "a", By: "root", Created: at(0), Expires: at(time.Hour)}, false, "none"},
				{"replaces", Block{User: "u", Reason: "b", By: "api:ops", Created: at(time.Minute)}, false, "a by root 0s to 1h0m0s (manual)"},
				{"unbounded", Block{User: "u", Reason: "c", Source: "automatic", By: "loganom auto-block", Created: at(2 * time.Minute), Expires: at(3 * time.Minute)}, false, "b by api:ops 1m0s to - (manual)"},
				{"ended by itself", Block{User: "u", Reason: "d", By: "root", Created: at(3 * time.Minute)}, false, "none"},
				{"another account", Block{User: "v", Reason: "e", By: "root", Created: at(4 * time.Minute)}, false, "none"},
				{"unblocked", Block{User: "u", Created: at(5 * time.Minute)}, true, ""},
				{"after an unblock", Block{User: "u", Reason: "f", By: "root", Created: at(6 * time.Minute)}, false, "none"},
			}
			for _, st := range steps {
				if st.unlift {
					if ok, err := s.RemoveBlock(ctx, st.block.User, "root", "", st.block.Created); !ok || err != nil {
						t.Fatalf("%s: RemoveBlock = %v, %v", st.name, ok, err)
					}
					continue
				}
				old, err := s.PutBlock(ctx, st.block)
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if got := describeBlock(old); got != st.want {
					t.Errorf("%s: replaced %s, want %s", st.name, got, st.want)
				}
			}
			bl, err := s.Blocks(ctx, at(time.Hour))
			if err != nil || len(bl) != 2 || bl[0].Reason != "e" || bl[1].Reason != "f" {
				t.Errorf("blocks %+v, %v", bl, err)
			}
		})
	}
}

func describeBlock(b *Block) string {
	if b == nil {
		return "none"
	}
	end := "-"
	if !b.Expires.IsZero() {
		end = b.Expires.Sub(t0).String()
	}
	return fmt.Sprintf("%s by %s %v to %s (%s)", b.Reason, b.By, b.Created.Sub(t0), end, b.Source)
}

// TestPutBlockRace: PutBlocks (and RemoveBlocks) of one account at once,
// from several connections, on an account without a row at first (on
// PostgreSQL, inserts that meet on the unique index) and with one. Each
// PutBlock returns the block before it in the audit trail, none after an
// unblock: each block is replaced once at most, in the audit's order.
func TestPutBlockRace(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b.dsn(t))
			const rounds, puts = 8, 6
			type result struct {
				reason   string
				replaced *Block
			}
			var (
				mu      sync.Mutex
				results []result
				removed int
				errs    []error
			)
			for round := range rounds {
				var wg sync.WaitGroup
				for i := range puts {
					wg.Go(func() {
						reason := fmt.Sprintf("r%d.%d", round, i)
						old, err := s.PutBlock(ctx, Block{User: "u", Reason: reason, By: "root", Created: at(time.Duration(round*puts+i) * time.Second)})
						mu.Lock()
						defer mu.Unlock()
						results = append(results, result{reason, old})
						if err != nil {
							errs = append(errs, err)
						}
					})
				}
				// every other round, an unblock with them (the next
				// round then starts, or not, on an account without a row)
				if round%2 == 1 {
					wg.Go(func() {
						ok, err := s.RemoveBlock(ctx, "u", "root", "", at(time.Hour))
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							errs = append(errs, err)
						} else if ok {
							removed++
						}
					})
				}
				wg.Wait()
				if round%2 == 1 { // and one after, so the next round starts with none
					if _, err := s.RemoveBlock(ctx, "u", "root", "", at(time.Hour)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			au, err := s.BlockAudit(ctx, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			slices.Reverse(au)
			pos := map[string]int{}
			for i, c := range au {
				if c.Action == "block" {
					pos[c.Reason] = i
				}
			}
			if len(pos) != rounds*puts {
				t.Fatalf("%d blocks in the audit, want %d", len(pos), rounds*puts)
			}
			seen := map[string]string{}
			for _, r := range results {
				i := pos[r.reason]
				want := "none"
				if i > 0 && au[i-1].Action == "block" {
					c := au[i-1]
					want = describeBlock(&Block{Reason: c.Reason, By: c.By, Created: c.At, Source: c.Source})
				}
				if got := describeBlock(r.replaced); got != want {
					t.Errorf("%s (audit %d): replaced %s, want %s", r.reason, i, got, want)
				}
				if r.replaced != nil {
					if by, dup := seen[r.replaced.Reason]; dup {
						t.Errorf("%s replaced twice: by %s and %s", r.replaced.Reason, by, r.reason)
					}
					seen[r.replaced.Reason] = r.reason
				}
			}
		})
	}
}
