// Package sqlitex holds what the packages that keep an SQLite database
// (pkg/state, pkg/enrich's cache) share about its errors: the result code,
// and waiting out another process's lock.
package sqlitex

import (
	"context"
	"errors"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Code is the primary result code of an SQLite error (of an extended one:
// its primary), or 0.
func Code(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// Busy tells whether err is SQLite's "busy" or "locked": another
// connection holds the lock, and trying again later may succeed.
func Busy(err error) bool {
	c := Code(err)
	return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
}

// RetryBusy calls f until it returns an error that is not Busy, or until
// deadline has passed since the first call, or ctx is done, waiting 5 ms
// and then twice as long each time (at most 200 ms); it returns f's last
// error.
func RetryBusy(ctx context.Context, deadline time.Duration, f func() error) error {
	end := time.Now().Add(deadline)
	wait := 5 * time.Millisecond
	for {
		err := f()
		if !Busy(err) || time.Now().After(end) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}
