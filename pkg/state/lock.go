package state

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
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
	unlockAll, err := lockFile(ctx, s.path+".deliver.lock", s.path, false)
	if err != nil {
		return nil, s.wrap(err)
	}
	unlock, err := lockFile(ctx, deliverLockFile(s.path, instance, channel), s.path, true)
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
		unlock, err := lockFile(ctx, s.path+".run.lock", s.path, true)
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

// LogBusyError: another process holds the lock on a log (LockLogs).
type LogBusyError struct {
	Path string
	// Holder is how the other process named itself ("loganom
	// postfix-sasl --follow, pid 812 on mail1"); "" when unknown.
	Holder string
	// Since is when it took the lock; zero when unknown.
	Since time.Time
}

func (e *LogBusyError) Error() string {
	who := e.Holder
	if who == "" {
		who = "another loganom"
	}
	s := e.Path + " is being read by " + who
	if !e.Since.IsZero() {
		s += " since " + e.Since.Local().Format("2006-01-02 15:04:05 MST")
	}
	return s
}

// Daemon tells whether the holder follows the log (its name has
// --follow, as loganom names a daemon in Holder): it holds the lock for
// as long as it runs.
func (e *LogBusyError) Daemon() bool { return strings.Contains(e.Holder, "--follow") }

// logLockKey is the key of the PostgreSQL advisory lock on instance's
// log at path: the 64-bit FNV-1a hash of "loganom-log:", the instance,
// "\x00" and the path.
func logLockKey(instance, path string) int64 {
	h := fnv.New64a()
	h.Write([]byte("loganom-log:" + instance + "\x00" + path))
	return int64(h.Sum64())
}

// maxHolder caps Holder as kept: PostgreSQL's application_name keeps 63
// bytes.
const maxHolder = 63

// LockLogs: see Store.
func (s *store) LockLogs(ctx context.Context, instance string, paths []string, holder string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, s.wrap(err)
	}
	holder = cutHolder(holder)
	paths = slices.Clone(paths)
	slices.Sort(paths) // the same order in every process
	paths = slices.Compact(paths)
	var unlocks []func()
	unlockAll := func() {
		for _, u := range slices.Backward(unlocks) {
			u()
		}
	}
	for _, p := range paths {
		var unlock func()
		var busy *LogBusyError
		var err error
		if s.pg {
			unlock, busy, err = s.tryLockLogPG(ctx, logLockKey(instance, p), holder)
		} else {
			file := fmt.Sprintf("%s.log.%016x.lock", s.path, uint64(logLockKey(instance, p)))
			unlock, busy, err = tryLockLogFile(file, s.path, holder, time.Now())
		}
		if err != nil {
			unlockAll()
			return nil, s.wrap(err)
		}
		if busy != nil {
			unlockAll()
			busy.Path = p
			return nil, busy
		}
		unlocks = append(unlocks, unlock)
	}
	var once sync.Once
	return func() { once.Do(unlockAll) }, nil
}

// cutHolder keeps h as PostgreSQL keeps an application_name: printable
// ASCII (another byte becomes '?'), at most maxHolder bytes.
func cutHolder(h string) string {
	b := []byte(strings.ToValidUTF8(h, "?"))
	out := make([]byte, 0, min(len(b), maxHolder))
	for _, r := range string(b) {
		if len(out) == maxHolder {
			break
		}
		if r < 0x20 || r > 0x7e {
			r = '?'
		}
		out = append(out, byte(r))
	}
	return string(out)
}

// tryLockLogPG tries the session advisory lock key on a connection of
// its own, named holder (application_name), kept until unlock, which
// releases it and closes the connection (which releases it too, a
// moment later, when the unlock failed); meanwhile keepLogPG takes it
// again when that connection is lost. When another session holds it,
// busy names that session, as far as pg_stat_activity tells this user.
func (s *store) tryLockLogPG(ctx context.Context, key int64, holder string) (unlock func(), busy *LogBusyError, err error) {
	conn, pid, ok, err := s.takeLogPG(ctx, key, holder)
	if err != nil {
		return nil, nil, err
	}
	if ok {
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			conn, pid = s.keepLogPG(stop, conn, pid, key, holder)
		}()
		var once sync.Once
		return func() {
			once.Do(func() {
				close(stop)
				<-done
				if conn == nil {
					return
				}
				// released here, not when the server sees the connection
				// closed, a moment later: a run that starts right after
				// this one would find the log held by a process gone
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, key)
				discard(conn) // (and its application_name with it)
			})
		}, nil, nil
	}
	defer discard(conn)
	busy = &LogBusyError{}
	var name sql.NullString
	var since sql.NullTime
	// the bigint key is classid (its high half) and objid (its low one),
	// objsubid 1; since: the holder ran nothing after taking it
	err = conn.QueryRowContext(ctx, `SELECT a.application_name, a.query_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.classid = $1::bigint::oid AND l.objid = $2::bigint::oid
AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1`,
		int64(uint64(key)>>32), int64(uint64(key)&0xffffffff)).Scan(&name, &since)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, err
	}
	busy.Holder = name.String
	if since.Valid {
		busy.Since = since.Time
	}
	return nil, busy, nil
}

// takeLogPG tries the lock key on a connection of its own, named holder,
// which it returns with its backend's pid: kept when it took the lock
// (ok), else for the caller to discard.
func (s *store) takeLogPG(ctx context.Context, key int64, holder string) (conn *sql.Conn, pid int64, ok bool, err error) {
	conn, err = s.db.Conn(ctx)
	if err != nil {
		return nil, 0, false, err
	}
	if _, err := conn.ExecContext(ctx, `SELECT set_config('application_name', $1, false)`, holder); err != nil {
		discard(conn)
		return nil, 0, false, err
	}
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1), pg_backend_pid()`, key).Scan(&ok, &pid); err != nil {
		discard(conn)
		return nil, 0, false, err
	}
	return conn, pid, ok, nil
}

// keepLogPG checks, every LogLockCheck until stop, that the session pid
// still holds the lock key, from another connection (a query on conn
// would change its query_start, which says since when it holds it).
// When the session is gone (the server restarted, the session was
// ended), it takes the lock again on a new connection, as soon as the
// server answers and no other process took it meanwhile. It returns the
// connection that holds the lock, or nil.
func (s *store) keepLogPG(stop <-chan struct{}, conn *sql.Conn, pid, key int64, holder string) (*sql.Conn, int64) {
	hi, lo := int64(uint64(key)>>32), int64(uint64(key)&0xffffffff)
	for {
		select {
		case <-stop:
			return conn, pid
		case <-time.After(LogLockCheck):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		held := false
		err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1
AND objsubid = 1 AND classid = $2::bigint::oid AND objid = $3::bigint::oid)`, pid, hi, lo).Scan(&held)
		if err == nil && !held {
			if conn != nil {
				discard(conn)
				conn = nil
			}
			if c, p, ok, err := s.takeLogPG(ctx, key, holder); err == nil && ok {
				conn, pid = c, p
			} else if err == nil {
				discard(c)
			}
		}
		cancel()
	}
}

// LogLockCheck is how often a PostgreSQL log lock is checked, from
// another connection, and taken again when its connection was lost.
var LogLockCheck = time.Second
