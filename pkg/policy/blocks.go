package policy

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loganom/loganom/pkg/state"
)

// Source is where the blocks are read: a state.Store is one.
type Source interface {
	Blocks(ctx context.Context, now time.Time) ([]state.Block, error)
}

// snapshot is the blocks as last read: never changed once published.
type snapshot struct {
	blocks map[string]state.Block // by canonical user
	read   time.Time
}

// blockCache holds the blocks in memory for the lookups, which take no
// lock: Refresh replaces the snapshot.
type blockCache struct {
	src     Source
	now     func() time.Time
	timeout time.Duration

	snap    atomic.Pointer[snapshot]
	failing atomic.Bool // the last read failed
	mu      sync.Mutex  // one refresh at a time
	errs    int         // reads failed in a row
	lastErr error
}

// lookup returns the block of user in force at now.
func (c *blockCache) lookup(user string, now time.Time) (state.Block, bool) {
	sn := c.snap.Load()
	if sn == nil {
		return state.Block{}, false
	}
	b, ok := sn.blocks[user]
	if !ok || !b.Expires.IsZero() && !now.Before(b.Expires) {
		return state.Block{}, false
	}
	return b, true
}

// blocked is lookup for a user in bytes, without a copy.
func (c *blockCache) blocked(user []byte, now time.Time) bool {
	sn := c.snap.Load()
	if sn == nil {
		return false
	}
	b, ok := sn.blocks[string(user)]
	return ok && (b.Expires.IsZero() || now.Before(b.Expires))
}

// refresh reads the blocks. On an error the blocks last read stay (they
// expire by themselves) and failing is set; recovered tells the first
// success after failures, and fails how many there were.
func (c *blockCache) refresh(ctx context.Context) (err error, recovered bool, fails int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	now := c.now()
	bl, err := c.src.Blocks(ctx, now)
	if err != nil {
		c.errs++
		c.lastErr = err
		c.failing.Store(true)
		return fmt.Errorf("read the blocks: %w", err), false, c.errs
	}
	m := make(map[string]state.Block, len(bl))
	for _, b := range bl {
		m[b.User] = b
	}
	c.snap.Store(&snapshot{blocks: m, read: now})
	fails, c.errs = c.errs, 0
	c.failing.Store(false)
	return nil, fails > 0, fails
}
