package state

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"
)

// deliverLockKey is the key of a PostgreSQL advisory lock on deliveries:
// the 64-bit FNV-1a hash of "loganom-deliver:"+instance, the instance's
// (taken shared: a loganom before per-channel locks took it alone), then
// "\x00"+channel for the channel's.
func deliverLockKey(instance string, channel ...string) int64 {
	h := fnv.New64a()
	h.Write([]byte("loganom-deliver:" + instance))
	for _, c := range channel {
		h.Write([]byte("\x00" + c))
	}
	return int64(h.Sum64())
}

// deliverLockFile is the file of the SQLite database at path whose flock
// is the lock on instance's deliveries on channel: <db>.deliver.<hash>.lock,
// the hash (FNV-1a, 64 bits, in hex) of the instance and the channel,
// whose name may be a script's path.
func deliverLockFile(path, instance, channel string) string {
	return fmt.Sprintf("%s.deliver.%016x.lock", path, uint64(deliverLockKey(instance, channel)))
}

// LockDeliveries: see Store.
func (s *store) LockDeliveries(ctx context.Context, instance, channel string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, s.wrap(err)
	}
	if s.pg {
		return s.lockDeliveriesPG(ctx, instance, channel)
	}
	// <db>.deliver.lock shared, as a loganom before per-channel locks
	// took it alone: it waits for that one, and that one for all of these
	unlockAll, err := lockFile(ctx, s.path+".deliver.lock", false)
	if err != nil {
		return nil, s.wrap(err)
	}
	unlock, err := lockFile(ctx, deliverLockFile(s.path, instance, channel), true)
	if err != nil {
		unlockAll()
		return nil, s.wrap(err)
	}
	return func() { unlock(); unlockAll() }, nil
}

// lockDeliveriesPG takes two session advisory locks on a connection kept
// until unlock (the server releases them when that connection dies): the
// instance's, shared (see deliverLockKey), then the channel's.
func (s *store) lockDeliveriesPG(ctx context.Context, instance, channel string) (func(), error) {
	return s.sessionLock(ctx, `SELECT pg_advisory_lock_shared($1), pg_advisory_lock($2)`,
		`SELECT pg_advisory_unlock($2), pg_advisory_unlock_shared($1)`, 2, deliverLockKey(instance), deliverLockKey(instance, channel))
}

// sessionLock takes PostgreSQL session advisory locks (lock, with args) on
// a connection of its own, kept until the unlock it returns (once; more
// calls do nothing) runs unlock, with the same args, which selects n
// booleans, one per lock released; when one is false, or it fails, the
// connection is closed instead, which releases them. A wait cancelled
// (ctx) may have had a lock granted all the same: the connection is
// discarded then too.
func (s *store) sessionLock(ctx context.Context, lock, unlock string, n int, args ...any) (func(), error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, s.wrap(err)
	}
	if _, err := conn.ExecContext(ctx, lock, args...); err != nil {
		discard(conn)
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, s.wrap(err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ok := make([]bool, n)
			dest := make([]any, n)
			for i := range ok {
				dest[i] = &ok[i]
			}
			if err := conn.QueryRowContext(ctx, unlock, args...).Scan(dest...); err != nil || slices.Contains(ok, false) {
				discard(conn) // closing the session releases them
				return
			}
			conn.Close()
		})
	}, nil
}

// runLockKey is the key of the PostgreSQL advisory lock of LockRun.
func runLockKey() int64 {
	h := fnv.New64a()
	h.Write([]byte("loganom-run"))
	return int64(h.Sum64())
}

// LockRun: see Store.
func (s *store) LockRun(ctx context.Context) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, s.wrap(err)
	}
	if !s.pg {
		unlock, err := lockFile(ctx, s.path+".run.lock", true)
		if err != nil {
			return nil, s.wrap(err)
		}
		return unlock, nil
	}
	return s.sessionLock(ctx, `SELECT pg_advisory_lock($1)`, `SELECT pg_advisory_unlock($1)`, 1, runLockKey())
}

// discard closes conn's connection instead of returning it to the pool.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}
