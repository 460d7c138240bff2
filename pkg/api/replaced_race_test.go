package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPutReplacedRace: PUTs on one account at once (and DELETEs with
// them, in "deletes"). Each PUT answers the block its own write replaced:
// the change before it in the audit trail when that is a block (200,
// "replaced"), none when it is an unblock or there is none (201). So each
// block is replaced once at most, by the next block in the audit order,
// whatever the interleaving. (Read before the write, as it was, two PUTs
// at once both answered the block that was there before them.)
func TestPutReplacedRace(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Run("puts", func(t *testing.T) { testPutReplacedRace(t, b, false) })
			t.Run("deletes", func(t *testing.T) { testPutReplacedRace(t, b, true) })
		})
	}
}

// put is a PUT's answer: its block, and the one it replaced.
type put struct {
	status   int
	block    BlockJSON
	replaced *BlockJSON
}

func testPutReplacedRace(t *testing.T, b backend, deletes bool) {
	st := openState(t, b.dsn(t))
	f := start(t, Config{Store: st, Now: tickClock()})
	const user = "bob@example.test"
	const rounds, puts = 6, 6
	var (
		mu      sync.Mutex
		answers []put
		removed int // DELETEs that answered 200
		errs    []error
	)
	for round := range rounds {
		var wg sync.WaitGroup
		for i := range puts {
			wg.Go(func() {
				a, err := send(f, "PUT", "/v1/blocks/"+user, opsToken, fmt.Sprintf(`{"reason":"r%d.%d"}`, round, i))
				var p put
				if err == nil {
					p.status = a.status
					err = json.Unmarshal(a.body, &struct {
						Block    *BlockJSON  `json:"block"`
						Replaced **BlockJSON `json:"replaced"`
					}{&p.block, &p.replaced})
					if err == nil && a.status != 200 && a.status != 201 {
						err = fmt.Errorf("PUT: %d %s", a.status, a.body)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				answers = append(answers, p)
				if err != nil {
					errs = append(errs, err)
				}
			})
			if deletes && i%2 == 1 {
				wg.Go(func() {
					a, err := send(f, "DELETE", "/v1/blocks/"+user, deskToken, "")
					if err == nil && a.status != 200 && a.status != 404 {
						err = fmt.Errorf("DELETE: %d %s", a.status, a.body)
					}
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
					} else if a.status == 200 {
						removed++
					}
				})
			}
		}
		wg.Wait()
	}
	if len(errs) > 0 {
		t.Fatal(errs)
	}

	// the audit, in the order the changes took effect
	au, err := st.BlockAudit(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(au)
	pos := map[string]int{} // a block's reason: its place in au
	unblocks := 0
	for i, c := range au {
		if c.User != user {
			t.Fatalf("audit: %+v", c)
		}
		if c.Action == "unblock" {
			unblocks++
			if i == 0 || au[i-1].Action != "block" {
				t.Errorf("audit %d: an unblock not after a block", i)
			}
			continue
		}
		pos[c.Reason] = i
	}
	if len(pos) != rounds*puts || unblocks != removed {
		t.Fatalf("audit: %d blocks, %d unblocks; want %d, %d", len(pos), unblocks, rounds*puts, removed)
	}
	if !deletes && removed != 0 {
		t.Fatalf("%d DELETEs", removed)
	}
	replacedBy := map[string]string{}
	for _, p := range answers {
		i, ok := pos[p.block.Reason]
		if !ok {
			t.Errorf("PUT %q: not in the audit", p.block.Reason)
			continue
		}
		var want *BlockJSON // the block before it in force, if any
		if i > 0 && au[i-1].Action == "block" {
			c := au[i-1]
			want = &BlockJSON{User: c.User, Reason: c.Reason, Source: c.Source, By: c.By, Created: c.At}
		}
		got := "none"
		if p.replaced != nil {
			got = fmt.Sprintf("%s at %s", p.replaced.Reason, p.replaced.Created.Format(time.RFC3339))
			if prev, dup := replacedBy[p.replaced.Reason]; dup {
				t.Errorf("block %s replaced twice: by %s and %s", p.replaced.Reason, prev, p.block.Reason)
			}
			replacedBy[p.replaced.Reason] = p.block.Reason
		}
		switch {
		case want == nil && (p.replaced != nil || p.status != 201):
			t.Errorf("PUT %s (audit %d): %d, replaced %s; want 201, none", p.block.Reason, i, p.status, got)
		case want != nil && (p.replaced == nil || !sameBlock(p.replaced, want) || p.status != 200):
			t.Errorf("PUT %s (audit %d): %d, replaced %s; want 200, replaced %s at %s", p.block.Reason, i, p.status, got, want.Reason, want.Created.Format(time.RFC3339))
		}
	}
	if t.Failed() {
		var lines []string
		for _, c := range au {
			lines = append(lines, c.Action+" "+c.Reason+" "+c.At.Format(time.RFC3339))
		}
		t.Logf("audit, in order:\n%s", strings.Join(lines, "\n"))
	}
}

// sameBlock: a and b are one block (one write: its reason, author and
// time).
func sameBlock(a, b *BlockJSON) bool {
	return a.User == b.User && a.Reason == b.Reason && a.Source == b.Source && a.By == b.By && a.Created.Equal(b.Created) && a.Expires == nil && b.Expires == nil
}

// send is fixture.do for other goroutines than the test's: it returns its
// error.
func send(f *fixture, method, path, token, body string) (answer, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.base+path, rd)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", bearer(token))
	resp, err := f.client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{resp.StatusCode, resp.Header, b, req}, nil
}
