// Package pgtest gives tests a fresh PostgreSQL database of their own, on
// the server that the environment variable LOGANOM_TEST_PG names (the DSN
// of a role with CREATEDB; scripts/pg-lab start prints one).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// Env is the variable that names the test server.
const Env = "LOGANOM_TEST_PG"

// DSN creates the database loganom_t_<random> on the server that
// LOGANOM_TEST_PG names and returns its DSN; the database is dropped when
// the test ends. Without LOGANOM_TEST_PG the test is skipped, or fails
// when the environment variable CI is set: CI must run it.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set, and CI is: the PostgreSQL tests must run (scripts/pg-lab start prints the DSN)", Env)
		}
		t.Skipf("%s is not set (scripts/pg-lab start prints the DSN)", Env)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "loganom_t_" + hex.EncodeToString(b[:])

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		admin.Close()
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE ends the test's own connections, but not a server
		// process of another role that may be at work in the database for
		// a moment (autovacuum): that is waited out, to a deadline. A
		// database that still cannot be dropped is left, and said so; it
		// says nothing of what the test checked.
		for {
			_, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
			if err == nil {
				return
			}
			select {
			case <-ctx.Done():
				t.Logf("pgtest: database %s left behind: %v", name, err)
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	u.Path = "/" + name
	return u.String()
}

// RefusePrune makes every delete from the history table fail with "no
// prune today" (a trigger, on SQLite or, when postgres is set, on
// PostgreSQL), through raw, a connection of the test's own to the state:
// the way the tests make a prune fail. allow drops the trigger.
func RefusePrune(t testing.TB, raw *sql.DB, postgres bool) (allow func()) {
	t.Helper()
	ctx := context.Background()
	create, drop := `CREATE TRIGGER no_prune BEFORE DELETE ON history BEGIN SELECT RAISE(ABORT, 'no prune today'); END`, `DROP TRIGGER no_prune`
	if postgres {
		if _, err := raw.ExecContext(ctx, `CREATE OR REPLACE FUNCTION no_prune() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no prune today'; END $$`); err != nil {
			t.Fatal(err)
		}
		create, drop = `CREATE TRIGGER no_prune BEFORE DELETE ON history FOR EACH STATEMENT EXECUTE FUNCTION no_prune()`, `DROP TRIGGER no_prune ON history`
	}
	if _, err := raw.ExecContext(ctx, create); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if _, err := raw.ExecContext(ctx, drop); err != nil {
			t.Fatal(err)
		}
	}
}

// LockTable holds table of the database dsn in another session's
// transaction, in ACCESS EXCLUSIVE mode, until release or the test's end:
// a state that answers, but never about that table (as one gone quiet).
// The table must exist (the state opened once).
func LockTable(t testing.TB, dsn, table string) (release func()) {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback(); db.Close() }) }
	t.Cleanup(release) // the lock goes, whatever the test's end
	if _, err := tx.Exec(`LOCK TABLE ` + table + ` IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	return release
}

// Hung is a PostgreSQL that accepts connections and never answers (a
// frozen host, a stalled disk): a TCP listener on loopback. accepted gets
// a value when a connection comes; count is how many came. The
// connections are closed at the test's end (an open still waiting then
// fails).
func Hung(t testing.TB) (dsn string, accepted <-chan struct{}, count func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	acc := make(chan struct{}, 1)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case acc <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	count = func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(conns)
	}
	return "postgres://loganom@" + ln.Addr().String() + "/loganom?sslmode=disable", acc, count
}

// Downable relays a PostgreSQL DSN through a loopback listener that can
// be taken down (its connections closed, new ones closed at once: the
// server stopped, a link that refuses) and brought back.
func Downable(t testing.TB, dsn string) (relayed string, down func(bool)) {
	t.Helper()
	u, ln := relayListener(t, dsn)
	t.Cleanup(func() { ln.Close() })
	target := u.Host
	var mu sync.Mutex
	isDown := false
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			if isDown {
				mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				mu.Unlock()
				c.Close()
				continue
			}
			conns = append(conns, c, up)
			mu.Unlock()
			go relay(up, c)
			go relay(c, up)
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	u.Host = ln.Addr().String()
	return u.String(), func(d bool) {
		mu.Lock()
		defer mu.Unlock()
		isDown = d
		if d {
			for _, c := range conns {
				c.Close()
			}
			conns = nil
		}
	}
}

// relayListener parses dsn and opens the loopback listener of a relay to
// its server (Downable, Freezable).
func relayListener(t testing.TB, dsn string) (*url.URL, net.Listener) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return u, ln
}

// relay copies from to to, by hand: io.Copy between two TCP connections
// splices, which hangs on some kernels (a sandbox's).
func relay(to, from net.Conn) {
	defer to.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			if _, err := to.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Freezable is the PostgreSQL database dsn (DSN's) behind a TCP relay on
// loopback: it answers as the server does until freeze, and from then on
// holds every connection, old and new, open and silent (a host gone
// quiet, a link that drops everything). It returns the relay's DSN. The
// connections are closed at the test's end.
func Freezable(t testing.TB, dsn string) (relayed string, freeze func()) {
	t.Helper()
	u, ln := relayListener(t, dsn)
	var mu sync.Mutex
	var conns []net.Conn
	frozen := make(chan struct{})
	var once sync.Once
	keep := func(c net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		conns = append(conns, c)
	}
	// pipe copies from to to until frozen, then reads nothing more
	pipe := func(to, from net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := from.Read(buf)
			select {
			case <-frozen:
				return // what was read is dropped; from stays open
			default:
			}
			if n > 0 {
				if _, werr := to.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				to.Close()
				return
			}
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			keep(c)
			select {
			case <-frozen:
				continue // accepted, never answered
			default:
			}
			s, err := net.Dial("tcp", u.Host)
			if err != nil {
				c.Close()
				continue
			}
			keep(s)
			go pipe(s, c)
			go pipe(c, s)
		}
	}()
	t.Cleanup(func() {
		once.Do(func() { close(frozen) })
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	r := *u
	r.Host = ln.Addr().String()
	return r.String(), func() { once.Do(func() { close(frozen) }) }
}
