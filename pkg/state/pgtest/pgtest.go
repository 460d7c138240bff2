// Package pgtest gives tests a fresh PostgreSQL database of their own, on
// the server that the environment variable LOGANOM_TEST_PG names (the DSN
// of a role with CREATEDB; scripts/pg-lab start prints one).
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
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
