package state

import (
	"context"
	"errors"
	"strings"
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
		return lockFile(ctx, s.path+".deliver.lock", s.path, true)
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

// Two Stores on one database: while the first holds a log's lock, the
// second cannot take it, nor any set of logs that has it, and is told
// who holds it and since when; another log, or another mail server's
// same log, is free; unlocked, it is free again.
func testLockLogs(t *testing.T, b backend) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := b.dsn(t)
	s1, s2 := open(t, dsn), open(t, dsn)
	before := time.Now().Add(-time.Second)
	holder := "loganom postfix-sasl --follow, pid 812 on mail1"
	unlock1, err := s1.LockLogs(ctx, "mx1", []string{"/var/log/mail.log", "/var/log/other.log"}, holder)
	if err != nil {
		t.Fatal(err)
	}
	for _, paths := range [][]string{{"/var/log/mail.log"}, {"/var/log/a.log", "/var/log/other.log"}} {
		u, err := s2.LockLogs(ctx, "mx1", paths, "loganom postfix-sasl --resume, pid 9 on mail1")
		var busy *LogBusyError
		if !errors.As(err, &busy) {
			if u != nil {
				u()
			}
			t.Fatalf("LockLogs(%q) while held = %v; want a *LogBusyError", paths, err)
		}
		if busy.Holder != holder || busy.Since.Before(before) || busy.Since.After(time.Now().Add(time.Second)) || !busy.Daemon() {
			t.Errorf("LockLogs(%q): busy = %+v; want holder %q, since now", paths, busy, holder)
		}
		if want := paths[len(paths)-1]; busy.Path != want && busy.Path != paths[0] {
			t.Errorf("busy.Path = %q; want one of %q", busy.Path, paths)
		}
		if !strings.Contains(err.Error(), "is being read by "+holder+" since ") {
			t.Errorf("error %q does not name the holder and since when", err)
		}
	}
	// a.log was free: the failed try above must not keep it
	u, err := s2.LockLogs(ctx, "mx1", []string{"/var/log/a.log"}, "x")
	if err != nil {
		t.Fatalf("a.log after a failed try of a set with it: %v", err)
	}
	u()
	u, err = s2.LockLogs(ctx, "mx2", []string{"/var/log/mail.log"}, "x")
	if err != nil {
		t.Fatalf("another mail server's log of the same name: %v", err)
	}
	u()
	unlock1()
	unlock1() // once only
	u, err = s2.LockLogs(ctx, "mx1", []string{"/var/log/mail.log", "/var/log/other.log"}, "mail\x1b[31m "+strings.Repeat("é", 60))
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	_, err = s1.LockLogs(ctx, "mx1", []string{"/var/log/mail.log"}, "y")
	var busy *LogBusyError
	if want := "mail?[31m " + strings.Repeat("?", 53); !errors.As(err, &busy) || busy.Holder != want {
		t.Fatalf("held by a long name: %v (%+v); want %q: printable ASCII, 63 bytes", err, busy, want)
	}
	u()
}

// A log's lock is free as soon as unlock returns: a run that starts
// right after another on the same log (two in a script, a daemon
// restarted) must not be told that the one that ended reads it.
func testLockLogsReleased(t *testing.T, b backend) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := b.dsn(t)
	s1, s2 := open(t, dsn), open(t, dsn)
	for i := range 50 {
		u1, err := s1.LockLogs(ctx, "mx1", []string{"/var/log/mail.log"}, "first")
		if err != nil {
			t.Fatalf("round %d: first: %v", i, err)
		}
		u1()
		u2, err := s2.LockLogs(ctx, "mx1", []string{"/var/log/mail.log"}, "second")
		if err != nil {
			t.Fatalf("round %d: right after the first unlocked: %v", i, err)
		}
		u2()
	}
}

// PostgreSQL: a log's lock lives as long as its connection. When that
// connection is lost (the server restarted, the session ended by an
// administrator or idle_session_timeout) while a daemon holds the lock,
// the daemon takes it again: else a batch run read the log beside it,
// and the daemon, overtaken, recorded nothing more until restarted.
func testLockLogsLost(t *testing.T, b backend) {
	if b.name != "postgres" {
		t.Skip("flock(2) is held by the process's file")
	}
	defer func(d time.Duration) { LogLockCheck = d }(LogLockCheck)
	LogLockCheck = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dsn := b.dsn(t)
	s1, s2 := open(t, dsn), open(t, dsn)
	holder := "loganom postfix-sasl --follow, pid 812 on mail1"
	unlock, err := s1.LockLogs(ctx, "mx1", []string{"/var/log/mail.log"}, holder)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	holders := func() (pids []int64) {
		rows, err := s2.db.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, holder)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var pid int64
			rows.Scan(&pid)
			pids = append(pids, pid)
		}
		return pids
	}
	was := holders()
	if len(was) != 1 {
		t.Fatalf("sessions named %q: %v; want one", holder, was)
	}
	if _, err := s2.db.ExecContext(ctx, `SELECT pg_terminate_backend($1)`, was[0]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if now := holders(); len(now) == 1 && now[0] != was[0] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("its session ended, the lock was not taken again")
		}
		time.Sleep(50 * time.Millisecond)
	}
	u, err := s2.LockLogs(ctx, "mx1", []string{"/var/log/mail.log"}, "loganom postfix-sasl --resume, pid 9 on mail1")
	var busy *LogBusyError
	if !errors.As(err, &busy) || busy.Holder != holder {
		if u != nil {
			u()
		}
		t.Fatalf("a batch run once the daemon's session ended: %v; want held by %q", err, holder)
	}
}
