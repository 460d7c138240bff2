package state

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAuditOrder: BlockAudit lists the changes in the order they took
// effect, not by the times they carry. A change's time is taken by its
// caller before its transaction (the API's PUT and DELETE, loganom
// block, another instance with its own clock): a PUT whose time was
// taken before a DELETE's may commit after it, and the account ends
// blocked. Listed by time, the unblock would come last, as if the
// account were free.
func TestAuditOrder(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, b.dsn(t))
			// as the race ends: block (t0), then the DELETE made at
			// 2s commits, then the PUT made at 1s
			steps := []func() error{
				func() error { return s.AddBlock(ctx, Block{User: "u", Reason: "first", By: "api:ops", Created: at(0)}) },
				func() error {
					ok, err := s.RemoveBlock(ctx, "u", "api:desk", "lifted", at(2*time.Second))
					if err == nil && !ok {
						err = fmt.Errorf("not removed")
					}
					return err
				},
				func() error {
					return s.AddBlock(ctx, Block{User: "u", Reason: "again", By: "api:ops", Created: at(time.Second)})
				},
				// another account's change, made last: listed
				// first, whatever its time
				func() error {
					return s.AddBlock(ctx, Block{User: "v", By: "root", Created: at(1500 * time.Millisecond)})
				},
			}
			for i, f := range steps {
				if err := f(); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			bl, err := s.Blocks(ctx, at(time.Hour))
			if err != nil || len(bl) != 2 || bl[0].User != "u" || bl[0].Reason != "again" {
				t.Fatalf("blocks %+v, %v: want u (again) and v", bl, err)
			}
			a, err := s.BlockAudit(ctx, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range a {
				got = append(got, fmt.Sprintf("%s %s %s %v", c.Action, c.User, c.Reason, c.At.Sub(t0)))
			}
			want := []string{"block v  1.5s", "block u again 1s", "unblock u lifted 2s", "block u first 0s"}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("audit, latest first:\n%s\nwant (the order they took effect):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// since still selects by the time a change carries
			a, err = s.BlockAudit(ctx, at(time.Second))
			if err != nil || len(a) != 3 || a[0].User != "v" || a[2].Action != "unblock" {
				t.Errorf("since 1s: %+v, %v", a, err)
			}
		})
	}
}
