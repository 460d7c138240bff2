package input

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond until it holds, or fails the test after a deadline
// generous enough for a loaded machine.
func waitFor(t *testing.T, what string, cond func() bool, more ...func() string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			for _, m := range more {
				what += ": " + m()
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // polling to the deadline
	}
}

// logWriter writes numbered lines to a log, as a syslog daemon does: to
// the file it opened, until told to reopen the log's path.
type logWriter struct {
	t    *testing.T
	path string
	mu   sync.Mutex
	f    *os.File
	next int // the number of the next line
	// long, when set, says which lines are written too long.
	long func(n int) bool
	pad  string
}

func newLogWriter(t *testing.T, path string) *logWriter {
	w := &logWriter{t: t, path: path}
	w.reopen()
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.f != nil {
			w.f.Close()
		}
	})
	return w
}

// reopen opens the log's path again (creating it), as after SIGHUP.
func (w *logWriter) reopen() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f != nil {
		w.f.Close()
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		w.t.Error(err)
		return
	}
	w.f = f
}

func (w *logWriter) line(n int) string {
	if w.long != nil && w.long(n) {
		return fmt.Sprintf("%08d %s\n", n, strings.Repeat("x", 200))
	}
	return fmt.Sprintf("%08d line%s\n", n, w.pad)
}

// write writes n lines, one write each.
func (w *logWriter) write(n int) {
	for range n {
		w.mu.Lock()
		_, err := w.f.WriteString(w.line(w.next))
		w.next++
		w.mu.Unlock()
		if err != nil {
			w.t.Error(err)
			return
		}
	}
}

// written returns how many lines were written.
func (w *logWriter) written() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.next
}

// paused runs fn with the writer stopped.
func (w *logWriter) paused(fn func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fn()
}

func tail(c *collector) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.data.Bytes()
	var ns []int
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		n, _ := strconv.Atoi(strings.Fields(l)[0])
		ns = append(ns, n)
	}
	var gaps []string
	for i := 1; i < len(ns); i++ {
		if ns[i] != ns[i-1]+1 {
			gaps = append(gaps, fmt.Sprintf("%d->%d", ns[i-1], ns[i]))
		}
	}
	return fmt.Sprintf("gaps %v files %v", gaps, c.files[max(0, len(c.files)-1):])
}

// collector is what a Follower delivered.
type collector struct {
	mu      sync.Mutex
	data    bytes.Buffer
	lines   int
	marks   []Mark
	counts  []int // the lines delivered up to each mark
	files   []string
	tooLong int64
	idle    int
	warns   []string
	notes   []string
}

func (c *collector) onLines(l Lines) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(l.Data) > 0 && l.Data[len(l.Data)-1] != '\n' {
		return fmt.Errorf("delivery not ending in a newline: %q", l.Data)
	}
	c.data.Write(l.Data)
	c.lines += bytes.Count(l.Data, []byte{'\n'})
	c.marks = append(c.marks, l.Mark)
	c.counts = append(c.counts, c.lines)
	c.files = append(c.files, l.File)
	c.tooLong += l.TooLong
	return nil
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lines
}

func (c *collector) lastMark() Mark {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.marks[len(c.marks)-1]
}

func (c *collector) warn(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.warns = append(c.warns, s)
}

// numbers returns the numbers of the lines delivered, in order.
func numbers(t *testing.T, data []byte) []int {
	t.Helper()
	var ns []int
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if l == "" {
			continue
		}
		n, err := strconv.Atoi(strings.Fields(l)[0])
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		ns = append(ns, n)
	}
	return ns
}

// checkSequence checks that ns is from, from+1, …, to-1, skipping the
// numbers skip says.
func checkSequence(t *testing.T, ns []int, from, to int, skip func(int) bool) {
	t.Helper()
	i := 0
	for want := from; want < to; want++ {
		if skip != nil && skip(want) {
			continue
		}
		if i >= len(ns) {
			t.Errorf("line %d never delivered (%d lines delivered)", want, len(ns))
			return
		}
		if ns[i] != want {
			t.Errorf("delivery %d: line %d, want %d (lost, doubled or out of order); around it: %v", i, ns[i], want, ns[max(0, i-3):min(len(ns), i+4)])
			return
		}
		i++
	}
	if i != len(ns) {
		t.Errorf("%d lines delivered after the last: %v", len(ns)-i, ns[i:min(len(ns), i+5)])
	}
}

// follow starts a Follower on path and returns what it delivers and how
// to stop it (which waits for Run to return).
func follow(t *testing.T, f *Follower) (*collector, func()) {
	t.Helper()
	c := &collector{}
	f.OnLines = c.onLines
	f.Warn = c.warn
	f.Note = func(msg string) {
		c.mu.Lock()
		c.notes = append(c.notes, msg)
		c.mu.Unlock()
	}
	f.OnIdle = func() error {
		c.mu.Lock()
		c.idle++
		c.mu.Unlock()
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return c, stop
}

// rotations: ways a log is rotated while it is written. rotate moves
// the log aside; the writer is told to reopen when the kind needs it.
var rotations = []struct {
	name string
	// rotate rotates the log at path, written by w (the writer goes on
	// writing meanwhile, except where the kind itself stops it).
	rotate func(t *testing.T, w *logWriter, path string, k int)
}{
	{"rename+create", func(t *testing.T, w *logWriter, path string, k int) {
		shift(t, path)
		must(t, os.Rename(path, path+".1"))
		must(t, os.WriteFile(path, nil, 0o644))
		// The writer goes on writing to the renamed file until it is
		// told to reopen (logrotate's postrotate).
		w.write(50) // and the writer goroutine, if any, meanwhile
		w.reopen()
	}},
	{"rename, created by the writer", func(t *testing.T, w *logWriter, path string, k int) {
		shift(t, path)
		must(t, os.Rename(path, path+".1"))
		w.write(50) // and the writer goroutine, if any, meanwhile
		w.reopen()
	}},
	{"delete+recreate", func(t *testing.T, w *logWriter, path string, k int) {
		must(t, os.Remove(path))
		w.write(50) // and the writer goroutine, if any, meanwhile
		w.reopen()
	}},
	{"copytruncate", func(t *testing.T, w *logWriter, path string, k int) {
		// logrotate's copytruncate loses, for every reader, what is
		// written between its copy and its truncate: the writer is
		// held in that window only. What the follower had not read
		// yet is in the copy; what comes after, in the truncated file.
		w.paused(func() {
			shift(t, path)
			copyFile(t, path, path+".1")
			must(t, os.Truncate(path, 0))
		})
	}},
}

// shift renames the rotated files of path as logrotate does: path.N
// becomes path.N+1, the oldest first.
func shift(t *testing.T, path string) {
	t.Helper()
	n := 1
	for ; ; n++ {
		if _, err := os.Stat(fmt.Sprintf("%s.%d", path, n)); err != nil {
			break
		}
	}
	for ; n > 1; n-- {
		must(t, os.Rename(fmt.Sprintf("%s.%d", path, n-1), fmt.Sprintf("%s.%d", path, n)))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	must(t, err)
	must(t, os.WriteFile(to, b, 0o644))
}

// markThenCopytruncate marks the end of the log at path, as a run that
// read it all would, then rotates it as copytruncate does: a copy to
// path.1, and the log emptied.
func markThenCopytruncate(t *testing.T, path string) Mark {
	t.Helper()
	p, err := openPiece(path)
	must(t, err)
	m := p.Mark(p.Size)
	p.File.Close()
	copyFile(t, path, path+".1")
	must(t, os.Truncate(path, 0))
	return m
}

// Each kind of rotation, five times, while lines are written without a
// pause, with inotify and with polling alone: every line is delivered
// once, in order.
func TestFollowRotations(t *testing.T) {
	for _, rot := range rotations {
		for _, notify := range []bool{true, false} {
			name := rot.name + "/inotify"
			if !notify {
				name = rot.name + "/polling"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "mail.log")
				w := newLogWriter(t, path)
				fl := &Follower{Path: path, FromStart: true, NoNotify: !notify}
				if notify {
					fl.Poll = time.Hour // inotify alone must see every change
				} else {
					fl.Poll = 5 * time.Millisecond
				}
				c, stop := follow(t, fl)
				const total = 6000
				done := make(chan struct{})
				stopWriting := make(chan struct{})
				go func() {
					defer close(done)
					for {
						select {
						case <-stopWriting:
							return
						default:
						}
						w.write(7)
						runtime.Gosched()
					}
				}()
				for k := 1; k <= 5; k++ {
					waitFor(t, "lines written", func() bool { return w.written() >= k*total/7 })
					// A file deleted before the follower opened it is
					// lost to it: rotations come hours apart, not
					// before the follower has seen the last file.
					at := w.written()
					waitFor(t, "the follower to catch up", func() bool { return c.count() >= at+10 })
					rot.rotate(t, w, path, k)
				}
				at := w.written()
				waitFor(t, "lines written after the last rotation", func() bool { return w.written() >= at+500 })
				close(stopWriting)
				<-done
				n := w.written()
				waitFor(t, fmt.Sprintf("%d lines delivered", n), func() bool { return c.count() >= n }, func() string { return fmt.Sprintf("%d delivered, warnings %q, last %q", c.count(), c.warns, tail(c)) })
				stop()
				checkSequence(t, numbers(t, c.data.Bytes()), 0, n, nil)
				if len(c.warns) > 0 {
					t.Errorf("warnings: %q", c.warns)
				}
				if c.idle == 0 {
					t.Error("OnIdle never called")
				}
				// each rotation said once, as what it is
				want := path + ": rotated (another file at its name)"
				if rot.name == "copytruncate" {
					want = path + ": truncated (copytruncate): the rest of what it held is read from " + path + ".1, then it from its start"
				}
				if len(c.notes) != 5 {
					t.Errorf("%d notes of 5 rotations: %q", len(c.notes), c.notes)
				}
				for _, n := range c.notes {
					if !strings.HasPrefix(n, want) {
						t.Errorf("note %q; want %q…", n, want)
					}
				}
			})
		}
	}
}

// Stopped at any moment, the log rotated while it is stopped (once,
// twice, by each kind), a follower started from the last mark delivered
// goes on where the first stopped: every line once, in order. (Not
// delete+recreate: the rest of a file deleted while nobody holds it open
// is gone.)
func TestFollowResumeAfterRotation(t *testing.T) {
	for _, rot := range rotations {
		if rot.name == "delete+recreate" {
			continue // what a stopped follower did not read of a deleted file is gone
		}
		for _, twice := range []bool{false, true} {
			name := rot.name
			if twice {
				name += "/twice"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "mail.log")
				w := newLogWriter(t, path)
				c1, stop1 := follow(t, &Follower{Path: path, FromStart: true, Poll: 5 * time.Millisecond})
				w.write(500)
				waitFor(t, "some lines delivered", func() bool { return c1.count() >= 200 })
				go w.write(300) // stopped while lines are written
				waitFor(t, "more lines delivered", func() bool { return c1.count() >= 600 })
				stop1()
				m := c1.lastMark()
				waitFor(t, "lines written", func() bool { return w.written() >= 800 })
				w.write(100)
				rot.rotate(t, w, path, 1)
				w.write(100)
				if twice {
					rot.rotate(t, w, path, 2)
					w.write(100)
				}
				c2, stop2 := follow(t, &Follower{Path: path, Start: &m, Poll: 5 * time.Millisecond})
				w.write(100)
				n := w.written()
				waitFor(t, "the rest delivered", func() bool { return c1.count()+c2.count() >= n })
				stop2()
				all := append(numbers(t, c1.data.Bytes()), numbers(t, c2.data.Bytes())...)
				checkSequence(t, all, 0, n, nil)
				if len(c2.warns) > 0 {
					t.Errorf("warnings: %q", c2.warns)
				}
			})
		}
	}
}

// The real logrotate, with create, with copytruncate, and with create,
// compress and delaycompress, rotating a log being written, five times,
// without waiting for the follower once it has started (under load it
// lags by a rotation or two: the next rotation compresses the file it
// still reads): every line once, in order. TestFollowStepRotations tries every moment of the
// follower's looks.
func TestFollowRealLogrotate(t *testing.T) {
	bin := logrotateBin(t)
	for _, c := range []struct{ name, directives string }{
		{"create", "rotate 9\ncreate"},
		{"copytruncate", "rotate 9\ncopytruncate"},
		{"create delaycompress", "rotate 9\ncreate\ncompress\ndelaycompress"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "mail.log")
			conf := filepath.Join(dir, "logrotate.conf")
			must(t, os.WriteFile(conf, []byte(fmt.Sprintf("%s {\n%s\n}\n", path, c.directives)), 0o644))
			w := newLogWriter(t, path)
			col, stop := follow(t, &Follower{Path: path, FromStart: true, Poll: 20 * time.Millisecond})
			done := make(chan struct{})
			stopWriting := make(chan struct{})
			go func() {
				defer close(done)
				for {
					select {
					case <-stopWriting:
						return
					default:
					}
					w.write(5)
					runtime.Gosched()
				}
			}()
			copytruncate := strings.Contains(c.directives, "copytruncate")
			for k := 1; k <= 5; k++ {
				at := w.written()
				waitFor(t, "lines written", func() bool { return w.written() >= at+500 })
				// A file rotated before the follower started is not
				// its to read (it reads the file at the path from its
				// start): a slow machine (the race detector, CI) can
				// start it after the first rotation. Later, it may lag
				// rotations behind.
				if k == 1 {
					waitFor(t, "the follower to read the file at the path", func() bool { return col.count() > at })
				}
				run := func() {
					cmd := exec.Command(bin, "-s", filepath.Join(dir, "logrotate.state"), "-f", conf)
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("logrotate: %v\n%s", err, out)
					}
				}
				if copytruncate {
					// Lines written between its copy and its truncate are
					// lost to every reader: the writer waits meanwhile.
					w.paused(run)
				} else {
					run() // the writer writes to the renamed file meanwhile
					at := w.written()
					waitFor(t, "lines written to the rotated file", func() bool { return w.written() >= at+20 })
					w.reopen() // postrotate
				}
			}
			close(stopWriting)
			<-done
			n := w.written()
			waitFor(t, fmt.Sprintf("%d lines delivered", n), func() bool { return col.count() >= n }, func() string {
				col.mu.Lock()
				warns := col.warns
				col.mu.Unlock()
				return fmt.Sprintf("%d delivered, warnings %q, %s; files: %s", col.count(), warns, tail(col), listDir(dir))
			})
			stop()
			checkSequence(t, numbers(t, col.data.Bytes()), 0, n, nil)
			if len(col.warns) > 0 {
				t.Errorf("warnings: %q", col.warns)
			}
		})
	}
}

// listDir describes the files of dir: name, inode, size.
func listDir(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err.Error()
	}
	var s []string
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			continue
		}
		_, ino, _ := Identity(fi)
		s = append(s, fmt.Sprintf("%s(%d, %d bytes)", e.Name(), ino, fi.Size()))
	}
	return strings.Join(s, " ")
}

// logrotateBin returns the logrotate program: the test is skipped without
// it, except in CI (env CI set), where it fails.
func logrotateBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("logrotate"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/logrotate", "/sbin/logrotate"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("logrotate is not installed (Debian package logrotate)")
	}
	t.Skip("logrotate is not installed (Debian package logrotate)")
	return ""
}

// A log that does not exist yet is waited for, and read from its start;
// so is its directory.
func TestFollowMissing(t *testing.T) {
	for _, notify := range []bool{true, false} {
		t.Run(fmt.Sprint("inotify=", notify), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "log")
			path := filepath.Join(dir, "mail.log")
			poll := time.Hour
			if !notify {
				poll = 5 * time.Millisecond
			}
			fl := &Follower{Path: path, Poll: poll, NoNotify: !notify}
			c, stop := follow(t, fl)
			// The log is written once the follower has looked for it
			// (a follower that finds it at its start reads from its
			// end). Its warning says so; with inotify another comes
			// first, about the directory.
			missing := func(c *collector) func() bool {
				return func() bool {
					c.mu.Lock()
					defer c.mu.Unlock()
					for _, w := range c.warns {
						if strings.Contains(w, "does not exist") {
							return true
						}
					}
					return false
				}
			}
			waitFor(t, "the warning", missing(c))
			if notify {
				// The directory does not exist either: it is polled
				// for until it does, then watched.
				fl2 := &Follower{Path: path, Poll: 5 * time.Millisecond}
				c2, stop2 := follow(t, fl2)
				waitFor(t, "the warning", missing(c2))
				must(t, os.Mkdir(dir, 0o755))
				w := newLogWriter(t, path)
				w.write(10)
				waitFor(t, "10 lines", func() bool { return c2.count() >= 10 })
				stop2()
				checkSequence(t, numbers(t, c2.data.Bytes()), 0, 10, nil)
				stop()
				return
			}
			must(t, os.Mkdir(dir, 0o755))
			w := newLogWriter(t, path)
			w.write(10)
			waitFor(t, "10 lines", func() bool { return c.count() >= 10 })
			stop()
			checkSequence(t, numbers(t, c.data.Bytes()), 0, 10, nil)
			if !strings.Contains(c.warns[0], "does not exist") {
				t.Errorf("warning %q", c.warns[0])
			}
		})
	}
}

// Without Start, the follower starts at the end of the file's last whole
// line; a line being written is delivered when its newline comes, and
// never in parts.
func TestFollowStartAtEnd(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	must(t, os.WriteFile(path, []byte("old 1\nold 2\nhalf"), 0o644))
	c, stop := follow(t, &Follower{Path: path, Poll: 5 * time.Millisecond})
	waitFor(t, "idle", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.idle > 0 })
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	defer f.Close()
	for _, s := range []string{" a line", " and more", "\nnew", " 2\n"} {
		_, err := f.WriteString(s)
		must(t, err)
		waitFor(t, "idle", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.idle > 0 })
	}
	waitFor(t, "2 lines", func() bool { return c.count() >= 2 })
	stop()
	if got, want := c.data.String(), "half a line and more\nnew 2\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	m := c.lastMark()
	fi, _ := os.Stat(path)
	if m.Offset != fi.Size() {
		t.Errorf("mark at %d, file of %d bytes", m.Offset, fi.Size())
	}
}

// Lines of MaxLine bytes or more are skipped and counted, whether they
// come whole in one read or across many; the marks go on past them.
func TestFollowTooLong(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	w := newLogWriter(t, path)
	w.long = func(n int) bool { return n%7 == 3 }
	c, stop := follow(t, &Follower{Path: path, FromStart: true, Poll: 5 * time.Millisecond, MaxLine: 64})
	w.write(100)
	long := 0
	for n := range 100 {
		if w.long(n) {
			long++
		}
	}
	waitFor(t, "all lines", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.lines+int(c.tooLong) >= 100 })
	stop()
	checkSequence(t, numbers(t, c.data.Bytes()), 0, 100, w.long)
	if c.tooLong != int64(long) {
		t.Errorf("%d too long, want %d", c.tooLong, long)
	}
	fi, _ := os.Stat(path)
	if m := c.lastMark(); m.Offset != fi.Size() {
		t.Errorf("mark at %d, file of %d bytes", m.Offset, fi.Size())
	}
}

// Each mark delivered, given back as Start, resumes right after the
// lines delivered with it: a run stopped anywhere loses and repeats
// nothing, on a log shorter than a fingerprint and longer.
func TestFollowMarks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	w := newLogWriter(t, path)
	w.pad = strings.Repeat(" ", 20)
	c, stop := follow(t, &Follower{Path: path, FromStart: true, Poll: 5 * time.Millisecond})
	for range 60 { // one line at a time: a delivery per line, most likely
		w.write(1)
		n := w.written()
		waitFor(t, "the line", func() bool { return c.count() >= n })
	}
	stop()
	data := c.data.Bytes()
	for i, m := range c.marks {
		if int(m.Offset) > len(data) {
			t.Fatalf("mark %d: offset %d past the %d bytes delivered", i, m.Offset, len(data))
		}
		c2, stop2 := follow(t, &Follower{Path: path, Start: &m, Poll: time.Hour, NoNotify: true})
		want := data[m.Offset:]
		waitFor(t, "idle", func() bool { c2.mu.Lock(); defer c2.mu.Unlock(); return c2.idle > 0 })
		stop2()
		if !bytes.Equal(c2.data.Bytes(), want) {
			t.Fatalf("from mark %d (%+v): got %d bytes, want %d", i, m, c2.data.Len(), len(want))
		}
	}
}

// An error from OnLines stops Run, which returns it.
func TestFollowCallbackError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	must(t, os.WriteFile(path, []byte("a\nb\n"), 0o644))
	boom := errors.New("boom")
	f := &Follower{Path: path, FromStart: true, OnLines: func(Lines) error { return boom }}
	if err := f.Run(context.Background()); err != boom {
		t.Errorf("Run: %v, want %v", err, boom)
	}
}
