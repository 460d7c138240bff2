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

// lockAsync starts s.LockDeliveries(ctx, instance) and returns where its
// result will be.
func lockAsync(ctx context.Context, s Store, instance string) <-chan lockResult {
	ch := make(chan lockResult, 1)
	go func() {
		u, err := s.LockDeliveries(ctx, instance)
		ch <- lockResult{u, err}
	}()
	return ch
}

// mustNotLock asserts that s cannot take instance's lock now: a short
// deadline ends the wait with the context's error.
func mustNotLock(t *testing.T, s Store, instance string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	u, err := s.LockDeliveries(ctx, instance)
	if err == nil {
		u()
		t.Fatalf("LockDeliveries(%q) succeeded while the lock is held", instance)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockDeliveries(%q) = %v; want the context's deadline", instance, err)
	}
}

// Two Stores on one database: the second LockDeliveries waits until the
// first unlocks.
func testLockDeliveries(t *testing.T, b backend) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := b.dsn(t)
	s1, s2 := open(t, dsn), open(t, dsn)
	unlock1, err := s1.LockDeliveries(ctx, "mx1")
	if err != nil {
		t.Fatal(err)
	}
	mustNotLock(t, s2, "mx1")
	mustNotLock(t, s1, "mx1") // the same Store too: the lock is not reentrant

	if b.name == "postgres" { // per instance; SQLite has one for all
		u, err := s2.LockDeliveries(ctx, "mx2")
		if err != nil {
			t.Fatalf("another instance's lock: %v", err)
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
	u, err := s1.LockDeliveries(ctx, "mx1")
	if err != nil {
		t.Fatalf("after the second unlock: %v", err)
	}
	u()

	// A context already done: its error, at once.
	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	if _, err := s1.LockDeliveries(done, "mx1"); !errors.Is(err, context.Canceled) {
		t.Errorf("LockDeliveries(cancelled) = %v", err)
	}
	if b.name == "postgres" {
		// The waits that were cancelled left no lock behind nor a
		// connection holding one.
		u, err := s2.LockDeliveries(ctx, "mx1")
		if err != nil {
			t.Fatal(err)
		}
		u()
	}
}
