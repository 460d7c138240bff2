//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package state

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// openLockFile opens the lock file at path, made, mode 0600, when
// missing. Made by root, it is given to the owner of the database at db,
// as SQLite gives it its -wal and -shm files: the units run loganom as a
// user of its own, which could not open a lock file that a run by root
// made, and failed.
func openLockFile(path, db string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil || os.Geteuid() != 0 {
		return f, err
	}
	dbi, err1 := os.Stat(db)
	fi, err2 := f.Stat()
	if err1 != nil || err2 != nil {
		return f, nil
	}
	want, ok1 := dbi.Sys().(*syscall.Stat_t)
	have, ok2 := fi.Sys().(*syscall.Stat_t)
	if ok1 && ok2 && (have.Uid != want.Uid || have.Gid != want.Gid) {
		f.Chown(int(want.Uid), int(want.Gid))
	}
	return f, nil
}

// lockFile takes flock(2)'s lock on path, exclusive or shared (made, mode
// 0600, when missing: openLockFile, db), trying again until ctx is done: a blocking flock could not be
// cancelled. The kernel releases it when the process dies. Each call opens
// the file anew: two Stores of one process exclude each other too.
func lockFile(ctx context.Context, path, db string, exclusive bool) (func(), error) {
	f, err := openLockFile(path, db)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	wait := time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, &os.PathError{Op: "flock", Path: path, Err: err}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			unix.Flock(int(f.Fd()), unix.LOCK_UN)
			f.Close()
		})
	}, nil
}

// tryLockLogFile tries flock(2)'s exclusive lock on path (made, mode
// 0600, when missing: openLockFile, db) without waiting. Taken, the file says holder and
// since (now), for another process to name it; else busy is what the
// file says of the process that holds it.
func tryLockLogFile(path, db, holder string, now time.Time) (unlock func(), busy *LogBusyError, err error) {
	f, err := openLockFile(path, db)
	if err != nil {
		return nil, nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		defer f.Close()
		return nil, holderOf(f), nil
	}
	if err != nil {
		f.Close()
		return nil, nil, &os.PathError{Op: "flock", Path: path, Err: err}
	}
	// what another process reads: whole, as one write after the truncation
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(holder+"\n"+now.UTC().Format(time.RFC3339)+"\n"), 0)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			unix.Flock(int(f.Fd()), unix.LOCK_UN)
			f.Close()
		})
	}, nil, nil
}

// holderOf reads what the holder of a log's lock file wrote: its name,
// and since when it holds it.
func holderOf(f *os.File) *LogBusyError {
	b := make([]byte, 4*maxHolder+64)
	n, _ := f.ReadAt(b, 0)
	lines := strings.SplitN(string(b[:n]), "\n", 3)
	busy := &LogBusyError{}
	if len(lines) >= 2 {
		busy.Holder = cutHolder(lines[0])
		busy.Since, _ = time.Parse(time.RFC3339, lines[1])
	}
	return busy
}
