package input

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rotateDelayCompress rotates the log at path as logrotate's create,
// compress and delaycompress do (Debian's rsyslog rotation): path.N.gz
// becomes path.N+1.gz, path.1 becomes path.2.gz (its time kept), path
// becomes path.1 and a new path is created; the writer goes on writing
// to path.1 until it reopens the log. With copy, as copytruncate does:
// path is copied to path.1 and truncated, the writer held meanwhile.
func rotateDelayCompress(t *testing.T, w *logWriter, path string, copy bool) {
	t.Helper()
	n := 1
	for ; ; n++ {
		if _, err := os.Stat(fmt.Sprintf("%s.%d.gz", path, n+1)); err != nil {
			break
		}
	}
	for ; n >= 1; n-- {
		if from := fmt.Sprintf("%s.%d.gz", path, n+1); fileExists(from) {
			must(t, os.Rename(from, fmt.Sprintf("%s.%d.gz", path, n+2)))
		}
	}
	if fileExists(path + ".1") {
		gzipAs(t, path+".1", path+".2.gz")
	}
	if copy {
		w.paused(func() {
			copyFile(t, path, path+".1")
			must(t, os.Truncate(path, 0))
		})
		return
	}
	must(t, os.Rename(path, path+".1"))
	must(t, os.WriteFile(path, nil, 0o644))
	w.write(20) // to the renamed file, until the writer reopens the log
	w.reopen()
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// gzipAs compresses from to to, with from's time, and removes from.
func gzipAs(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	must(t, err)
	defer in.Close()
	fi, err := in.Stat()
	must(t, err)
	out, err := os.Create(to)
	must(t, err)
	zw := gzip.NewWriter(out)
	_, err = io.Copy(zw, in)
	must(t, err)
	must(t, zw.Close())
	must(t, out.Close())
	must(t, os.Chtimes(to, fi.ModTime(), fi.ModTime()))
	must(t, os.Remove(from))
}

// TestFollowFirstStartRotated: a Follower with Rotated and no Start (a
// log followed for the first time, its history wanted) reads the files
// rotated from the log first (mail.log.3.gz, mail.log.2.gz, mail.log.1),
// each whole, the oldest first, then the log from its start; then it
// follows the log across the next rotation: every line once, in order,
// and no warning. A Follower started again from any mark delivered reads
// exactly the rest, the marks inside a compressed file too. Without
// Rotated, the same start reads from the end.
func TestFollowFirstStartRotated(t *testing.T) {
	for _, copy := range []bool{false, true} {
		name := "create"
		if copy {
			name = "copytruncate"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "mail.log")
			w := newLogWriter(t, path)
			w.pad = strings.Repeat(" ", 40) // files of several deliveries: marks inside each
			for range 3 {
				w.write(5000)
				rotateDelayCompress(t, w, path, copy)
			}
			w.write(5000)
			for _, f := range []string{".3.gz", ".2.gz", ".1"} {
				if !fileExists(path + f) {
					t.Fatalf("no %s after three rotations", path+f)
				}
			}
			atStart := w.written()

			fromEnd, stopEnd := follow(t, &Follower{Path: path, Poll: 5 * time.Millisecond})
			c, stop := follow(t, &Follower{Path: path, Rotated: true, Poll: 5 * time.Millisecond})
			waitFor(t, "the files on disk", func() bool { return c.count() >= atStart })
			rotateDelayCompress(t, w, path, copy)
			w.write(5000)
			n := w.written()
			waitFor(t, "the lines after the start", func() bool { return c.count() >= n })
			waitFor(t, "the lines after the start, from the end", func() bool { return fromEnd.count() >= n-atStart })
			stop()
			stopEnd()
			checkSequence(t, numbers(t, c.data.Bytes()), 0, n, nil)
			checkSequence(t, numbers(t, fromEnd.data.Bytes()), atStart, n, nil)
			if len(c.warns) > 0 {
				t.Errorf("warnings: %q", c.warns)
			}

			all := numbers(t, c.data.Bytes())
			step := max(1, len(c.marks)/30)
			for i := 0; i < len(c.marks); i += step {
				m := c.marks[i]
				c2, stop2 := follow(t, &Follower{Path: path, Start: &m, Poll: time.Hour, NoNotify: true})
				waitFor(t, "idle", func() bool { c2.mu.Lock(); defer c2.mu.Unlock(); return c2.idle > 0 })
				stop2()
				got := append(append([]int(nil), all[:c.counts[i]]...), numbers(t, c2.data.Bytes())...)
				checkSequence(t, got, 0, n, nil)
				if t.Failed() {
					t.Fatalf("from mark %d of %d (%+v, after line %d)", i, len(c.marks), m, c.counts[i])
				}
			}
		})
	}
}
