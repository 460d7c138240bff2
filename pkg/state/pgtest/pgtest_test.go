package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that notes how DSN ended the test.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(f string, a ...any) {
	r.fatal = fmt.Sprintf(f, a...)
	runtime.Goexit()
}
func (r *recorder) Skipf(f string, a ...any) {
	r.skip = fmt.Sprintf(f, a...)
	runtime.Goexit()
}

func run(t *testing.T) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		DSN(r)
	}()
	<-done
	return r
}

// Without LOGANOM_TEST_PG: a skip, but a failure in CI.
func TestUnset(t *testing.T) {
	t.Setenv(Env, "")
	t.Setenv("CI", "")
	if r := run(t); r.skip == "" || r.fatal != "" {
		t.Errorf("outside CI: skip %q, fatal %q", r.skip, r.fatal)
	}
	t.Setenv("CI", "true")
	if r := run(t); r.fatal == "" || r.skip != "" || !strings.Contains(r.fatal, Env) {
		t.Errorf("in CI: skip %q, fatal %q", r.skip, r.fatal)
	}
}

// A database of its own, usable, and dropped at the end.
func TestDSN(t *testing.T) {
	var dsn string
	t.Run("make", func(t *testing.T) {
		dsn = DSN(t)
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var name string
		if err := db.QueryRowContext(context.Background(), `SELECT current_database()`).Scan(&name); err != nil || !strings.HasPrefix(name, "loganom_t_") {
			t.Fatalf("current_database() = %q, %v", name, err)
		}
	})
	if dsn == "" {
		return // skipped
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("the database is still there: %v", err)
	}
}
