package state

import (
	"context"
	"errors"
	"testing"
	"time"
)

type lockResult struct {
	unlock func()
	err    error
}

// lockAsync starts s.LockDeliveries(ctx, instance, "smtp") and returns
// where its result will be.
func lockAsync(ctx context.Context, s Store, instance string) <-chan lockResult {
	ch := make(chan lockResult, 1)
	go func() {
		u, err := s.LockDeliveries(ctx, instance, "smtp")
		ch <- lockResult{u, err}
	}()
	return ch
}

// mustNotLock asserts that s cannot take the lock on instance's
// deliveries on smtp now: a short deadline ends the wait with the
// context's error.
func mustNotLock(t *testing.T, s Store, instance string) {
	t.Helper()
	mustNotLockOn(t, s, instance, "smtp")
}

func mustNotLockOn(t *testing.T, s Store, instance, channel string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	u, err := s.LockDeliveries(ctx, instance, channel)
	if err == nil {
		u()
		t.Fatalf("LockDeliveries(%q, %q) succeeded while the lock is held", instance, channel)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockDeliveries(%q, %q) = %v; want the context's deadline", instance, channel, err)
	}
}

// Two Stores on one database: the second LockDeliveries waits until the
// first unlocks.
func testLockDeliveries(t *testing.T, b backend) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := b.dsn(t)
	s1, s2 := open(t, dsn), open(t, dsn)
	unlock1, err := s1.LockDeliveries(ctx, "mx1", "smtp")
	if err != nil {
		t.Fatal(err)
	}
	mustNotLock(t, s2, "mx1")
	mustNotLock(t, s1, "mx1") // the same Store too: the lock is not reentrant

	// per instance and channel: another's is free
	for _, ic := range [][2]string{{"mx2", "smtp"}, {"mx1", "teams"}, {"mx1", "exec /etc/loganom/alert.sh"}} {
		u, err := s2.LockDeliveries(ctx, ic[0], ic[1])
		if err != nil {
			t.Fatalf("the lock of %s on %s, another's held: %v", ic[0], ic[1], err)
		}
		u()
	}

	waiting := lockAsync(ctx, s2, "mx1")
	select {
	case r := <-waiting:
		t.Fatalf("the second LockDeliveries returned while the first holds the lock: %v", r.err)
	default:
	}
	unlock1()
	unlock1() // twice: nothing
	r := <-waiting
	if r.err != nil {
		t.Fatalf("after unlock: %v", r.err)
	}
	mustNotLock(t, s1, "mx1")
	r.unlock()
	u, err := s1.LockDeliveries(ctx, "mx1", "smtp")
	if err != nil {
		t.Fatalf("after the second unlock: %v", err)
	}
	u()

	// A context already done: its error, at once.
	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	if _, err := s1.LockDeliveries(done, "mx1", "smtp"); !errors.Is(err, context.Canceled) {
		t.Errorf("LockDeliveries(cancelled) = %v", err)
	}
	if b.name == "postgres" {
		// The waits that were cancelled left no lock behind nor a
		// connection holding one.
		u, err := s2.LockDeliveries(ctx, "mx1", "smtp")
		if err != nil {
			t.Fatal(err)
		}
		u()
	}
}

// oldLock takes the lock a loganom before per-channel locks took on
// instance's deliveries, alone: <db>.deliver.lock, or the instance's
// advisory lock.
func oldLock(ctx context.Context, s *store, instance string) (func(), error) {
	if !s.pg {
		return lockFile(ctx, s.path+".deliver.lock", true)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, deliverLockKey(instance)); err != nil {
		discard(conn)
		return nil, err
	}
	return func() { discard(conn) }, nil
}

// While a loganom of before per-channel locks delivers, a new one waits
// (it could send the same alerts); and that one waits while a new one
// holds a channel's lock.
func testLockDeliveriesOld(t *testing.T, b backend) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := b.dsn(t)
	s1, s2 := open(t, dsn), open(t, dsn)
	unlockOld, err := oldLock(ctx, s1, "mx1")
	if err != nil {
		t.Fatal(err)
	}
	mustNotLockOn(t, s2, "mx1", "smtp")
	mustNotLockOn(t, s2, "mx1", "teams")
	unlockOld()
	u, err := s2.LockDeliveries(ctx, "mx1", "teams")
	if err != nil {
		t.Fatalf("once the old one unlocked: %v", err)
	}
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if unlock, err := oldLock(short, s1, "mx1"); err == nil {
		unlock()
		t.Fatal("the old lock was taken while a channel's is held")
	}
	u()
	unlockOld, err = oldLock(ctx, s1, "mx1")
	if err != nil {
		t.Fatalf("the old lock, the channel's unlocked: %v", err)
	}
	unlockOld()
}
