package sqlitex

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	sqlite3 "modernc.org/sqlite/lib"
)

// A real lock held by another connection: Busy, and RetryBusy gives up at
// its deadline with that error; other errors are not retried.
func TestBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	holder, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	ctx := context.Background()
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "CREATE TABLE t (x); BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	calls := 0
	start := time.Now()
	err = RetryBusy(ctx, 50*time.Millisecond, func() error {
		calls++
		_, err := other.ExecContext(ctx, "INSERT INTO t VALUES (1)")
		return err
	})
	if !Busy(err) || Code(err) != sqlite3.SQLITE_BUSY || calls < 2 || time.Since(start) < 50*time.Millisecond {
		t.Errorf("err %v (code %d), %d calls in %s", err, Code(err), calls, time.Since(start))
	}
	calls = 0
	plain := errors.New("not sqlite's")
	if err := RetryBusy(ctx, time.Second, func() error { calls++; return plain }); err != plain || calls != 1 || Busy(err) || Code(err) != 0 {
		t.Errorf("a plain error: %v after %d calls", err, calls)
	}
}
