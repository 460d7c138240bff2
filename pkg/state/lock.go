package state

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"hash/fnv"
	"sync"
	"time"
)

// deliverLockKey is the key of instance's PostgreSQL advisory lock on
// deliveries: the 64-bit FNV-1a hash of "loganom-deliver:"+instance.
func deliverLockKey(instance string) int64 {
	h := fnv.New64a()
	h.Write([]byte("loganom-deliver:" + instance))
	return int64(h.Sum64())
}

// LockDeliveries: see Store.
func (s *store) LockDeliveries(ctx context.Context, instance string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, s.wrap(err)
	}
	if s.pg {
		return s.lockDeliveriesPG(ctx, instance)
	}
	unlock, err := lockFile(ctx, s.path+".deliver.lock")
	if err != nil {
		return nil, s.wrap(err)
	}
	return unlock, nil
}

// lockDeliveriesPG takes a session advisory lock on a connection kept
// until unlock: the server releases it when that connection dies.
func (s *store) lockDeliveriesPG(ctx context.Context, instance string) (func(), error) {
	key := deliverLockKey(instance)
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, s.wrap(err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		// Cancelled while waiting, the lock may have been granted all the
		// same: the connection is discarded, which releases it.
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
			var ok bool
			if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock($1)`, key).Scan(&ok); err != nil || !ok {
				discard(conn) // closing the session releases it
				return
			}
			conn.Close()
		})
	}, nil
}

// discard closes conn's connection instead of returning it to the pool.
func discard(conn *sql.Conn) {
	conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}
