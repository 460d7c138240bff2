package input

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A follower stepped by hand (step, without Run: no inotify, no polling,
// no goroutine) between the file operations of three rotations, made in
// logrotate's order (strace of logrotate 3.21, create, compress and
// delaycompress: mail.log.1.gz created, gzip writing it, its times set
// to mail.log.1's, mail.log.1 unlinked, the numbered .gz shifted from the
// oldest, mail.log renamed to mail.log.1, mail.log created; the syslog
// daemon writes to the renamed file until it reopens the log); also
// compress without delay, dateext, copytruncate, delete and recreate.
// Every schedule of the follower's looks is tried: none from the first
// rotation to the last (rotations faster than it reads), before any one
// operation, before any two (on the longer files), before every one, and
// 50 pseudo-random ones (a fixed seed). Each delivers every line once,
// in order, without a warning, on files longer and shorter than a
// fingerprint (FPLen).
func TestFollowStepRotations(t *testing.T) {
	for _, v := range stepVariants {
		for _, lines := range []struct {
			name     string
			new, old int  // lines written to the new file, and to the rotated one before the writer reopens
			pairs    bool // schedules of two looks too (the time they take)
			empty    bool // the log empty when the follower starts
		}{
			{"long", 100, 20, true, false}, // 1,680 bytes a file: more than FPLen
			{"short", 3, 2, false, false},  // 70 bytes
			{"long from empty", 100, 20, false, true},
			{"short from empty", 3, 2, false, true},
		} {
			t.Run(v.name+"/"+lines.name, func(t *testing.T) {
				root := t.TempDir()
				events := threeRotations(v.events, lines.new, lines.old)
				runs := 0
				zw := gzip.NewWriter(nil)
				fails, kinds := 0, map[string]bool{}
				for _, sched := range stepSchedules(len(events), lines.pairs) {
					for i, e := range events {
						if e.name == v.look {
							sched[i] = true
						}
					}
					runs++
					dir := filepath.Join(root, fmt.Sprint(runs))
					must(t, os.Mkdir(dir, 0o755))
					first := lines.new
					if lines.empty {
						first = 0
					}
					if err := runStepSchedule(t, dir, zw, events, sched, first, -1); err != "" {
						var at []string
						for i, e := range events {
							if sched[i] {
								at = append(at, fmt.Sprintf("%d:%s", i, e.name))
							}
						}
						fails++
						// One message per kind of failure (what was
						// lost and doubled, or warned).
						kind := err[:strings.IndexAny(err+":", ":")]
						if kinds[kind] {
							continue
						}
						kinds[kind] = true
						t.Errorf("%s; the follower looking before %v", err, at)
					}
					must(t, os.RemoveAll(dir))
				}
				if fails > 0 {
					t.Errorf("%d schedules of %d failed; the events: %q", fails, runs, eventNames(events))
				}
			})
		}
	}
}

// A stepEvent is one file operation of a rotation, or a write.
type stepEvent struct {
	name string
	do   func(l *stepLab)
}

func eventNames(events []stepEvent) []string {
	var s []string
	for _, e := range events {
		s = append(s, e.name)
	}
	return s
}

// newStepLab is a lab for the log at path, its writer open.
func newStepLab(t *testing.T, path string, zw *gzip.Writer) *stepLab {
	l := &stepLab{t: t, path: path, gz: map[string][]byte{}, zw: zw}
	l.w = &logWriter{t: t, path: path}
	l.w.reopen()
	return l
}

// close closes the lab's writer.
func (l *stepLab) close() {
	if l.w.f != nil {
		l.w.f.Close()
	}
}

// stepLab is the log's directory, its writer, and a compression in
// progress.
type stepLab struct {
	t    *testing.T
	path string
	w    *logWriter
	gz   map[string][]byte // the rest of the compressed bytes not written yet, by file
	zw   *gzip.Writer      // reused: a new one costs more than the rest of a schedule
}

// write writes n lines in one write (the test's time goes to syscalls
// otherwise).
func (l *stepLab) write(n int) {
	l.w.mu.Lock()
	defer l.w.mu.Unlock()
	var b strings.Builder
	for range n {
		b.WriteString(l.w.line(l.w.next))
		l.w.next++
	}
	_, err := l.w.f.WriteString(b.String())
	must(l.t, err)
}

// compressStart starts compressing name to name.gz, as gzip does under
// logrotate: name.gz created, half of its bytes written, its
// modification time now's (later than name's). Nothing when name does
// not exist.
func (l *stepLab) compressStart(name string) {
	b, err := os.ReadFile(name)
	if os.IsNotExist(err) {
		return
	}
	must(l.t, err)
	var z bytes.Buffer
	l.zw.Reset(&z)
	_, err = l.zw.Write(b)
	must(l.t, err)
	must(l.t, l.zw.Close())
	half := z.Len() / 2
	must(l.t, os.WriteFile(name+".gz", z.Bytes()[:half], 0o600))
	fi, err := os.Stat(name)
	must(l.t, err)
	later := fi.ModTime().Add(time.Second)
	must(l.t, os.Chtimes(name+".gz", later, later))
	l.gz[name] = z.Bytes()[half:]
}

// compressEnd writes the rest of name.gz and gives it name's times, as
// logrotate does (which unlinks name next: another event).
func (l *stepLab) compressEnd(name string) {
	rest, ok := l.gz[name]
	if !ok {
		return
	}
	delete(l.gz, name)
	f, err := os.OpenFile(name+".gz", os.O_WRONLY|os.O_APPEND, 0)
	must(l.t, err)
	_, err = f.Write(rest)
	must(l.t, err)
	must(l.t, f.Close())
	fi, err := os.Stat(name)
	must(l.t, err)
	must(l.t, os.Chtimes(name+".gz", fi.ModTime(), fi.ModTime()))
}

func (l *stepLab) unlink(name string) {
	if err := os.Remove(name); err != nil && !os.IsNotExist(err) {
		l.t.Fatal(err)
	}
}

// shiftGz renames path.N.gz to path.N+1.gz, the oldest first.
func (l *stepLab) shiftGz() {
	for n := 9; n >= 1; n-- {
		from := fmt.Sprintf("%s.%d.gz", l.path, n)
		if err := os.Rename(from, fmt.Sprintf("%s.%d.gz", l.path, n+1)); err != nil && !os.IsNotExist(err) {
			l.t.Fatal(err)
		}
	}
}

func (l *stepLab) create() {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	must(l.t, err)
	must(l.t, f.Close())
}

// dated is the name dateext gives the k-th rotation.
func (l *stepLab) dated(k int) string { return fmt.Sprintf("%s-202611%02d", l.path, k) }

// stepVariants: ways of rotating, as a list of operations per rotation k.
var stepVariants = []struct {
	name   string
	events func(k, newLines, oldLines int) []stepEvent
	// look names the events before which the follower always looks:
	// what it never saw is lost to it (a file deleted before it opened
	// it). copytruncate has none: a copy of a file it read nothing of
	// is found among the rotated files (Follower.unreadCopies), and a
	// copy made but not truncated yet is read from the file itself.
	look string
}{
	{"create delaycompress", func(k, newLines, oldLines int) []stepEvent {
		return []stepEvent{
			{"gzip .1 started", func(l *stepLab) { l.compressStart(l.path + ".1") }},
			{"gzip .1 done", func(l *stepLab) { l.compressEnd(l.path + ".1") }},
			{"unlink .1", func(l *stepLab) { l.unlink(l.path + ".1") }},
			{"shift .N.gz", func(l *stepLab) { l.shiftGz() }},
			{"rename to .1", func(l *stepLab) { must(l.t, os.Rename(l.path, l.path+".1")) }},
			{"create", func(l *stepLab) { l.create() }},
			{"write to .1", func(l *stepLab) { l.write(oldLines) }},
			{"reopen", func(l *stepLab) { l.w.reopen() }},
			{"write", func(l *stepLab) { l.write(newLines) }},
		}
	}, ""},
	{"create compress", func(k, newLines, oldLines int) []stepEvent {
		return []stepEvent{
			{"shift .N.gz", func(l *stepLab) { l.shiftGz() }},
			{"rename to .1", func(l *stepLab) { must(l.t, os.Rename(l.path, l.path+".1")) }},
			{"create", func(l *stepLab) { l.create() }},
			{"write to .1", func(l *stepLab) { l.write(oldLines) }},
			{"reopen", func(l *stepLab) { l.w.reopen() }},
			{"gzip .1 started", func(l *stepLab) { l.compressStart(l.path + ".1") }},
			{"gzip .1 done", func(l *stepLab) { l.compressEnd(l.path + ".1") }},
			{"unlink .1", func(l *stepLab) { l.unlink(l.path + ".1") }},
			{"write", func(l *stepLab) { l.write(newLines) }},
		}
	}, ""},
	{"dateext delaycompress", func(k, newLines, oldLines int) []stepEvent {
		return []stepEvent{
			{"gzip the last dated started", func(l *stepLab) { l.compressStart(l.dated(k - 1)) }},
			{"gzip the last dated done", func(l *stepLab) { l.compressEnd(l.dated(k - 1)) }},
			{"unlink the last dated", func(l *stepLab) { l.unlink(l.dated(k - 1)) }},
			{"rename to dated", func(l *stepLab) { must(l.t, os.Rename(l.path, l.dated(k))) }},
			{"create", func(l *stepLab) { l.create() }},
			{"write to dated", func(l *stepLab) { l.write(oldLines) }},
			{"reopen", func(l *stepLab) { l.w.reopen() }},
			{"write", func(l *stepLab) { l.write(newLines) }},
		}
	}, ""},
	{"copytruncate delaycompress", func(k, newLines, oldLines int) []stepEvent {
		return []stepEvent{
			{"gzip .1 started", func(l *stepLab) { l.compressStart(l.path + ".1") }},
			{"gzip .1 done", func(l *stepLab) { l.compressEnd(l.path + ".1") }},
			{"unlink .1", func(l *stepLab) { l.unlink(l.path + ".1") }},
			{"shift .N.gz", func(l *stepLab) { l.shiftGz() }},
			{"copy to .1", func(l *stepLab) { copyFile(l.t, l.path, l.path+".1") }},
			{"truncate", func(l *stepLab) { must(l.t, os.Truncate(l.path, 0)) }},
			{"write", func(l *stepLab) { l.write(newLines + oldLines) }},
		}
	}, ""},
	{"copytruncate compress", func(k, newLines, oldLines int) []stepEvent {
		return []stepEvent{
			{"shift .N.gz", func(l *stepLab) { l.shiftGz() }},
			{"copy to .1", func(l *stepLab) { copyFile(l.t, l.path, l.path+".1") }},
			{"truncate", func(l *stepLab) { must(l.t, os.Truncate(l.path, 0)) }},
			{"gzip .1 started", func(l *stepLab) { l.compressStart(l.path + ".1") }},
			{"gzip .1 done", func(l *stepLab) { l.compressEnd(l.path + ".1") }},
			{"unlink .1", func(l *stepLab) { l.unlink(l.path + ".1") }},
			{"write", func(l *stepLab) { l.write(newLines + oldLines) }},
		}
	}, ""},
	{"copytruncate dateext", func(k, newLines, oldLines int) []stepEvent {
		return []stepEvent{
			{"copy to dated", func(l *stepLab) { copyFile(l.t, l.path, l.dated(k)) }},
			{"truncate", func(l *stepLab) { must(l.t, os.Truncate(l.path, 0)) }},
			{"write", func(l *stepLab) { l.write(newLines + oldLines) }},
		}
	}, ""},
	{"create plain", func(k, newLines, oldLines int) []stepEvent {
		return []stepEvent{
			{"shift .N", func(l *stepLab) {
				for n := 9; n >= 1; n-- {
					from := fmt.Sprintf("%s.%d", l.path, n)
					if err := os.Rename(from, fmt.Sprintf("%s.%d", l.path, n+1)); err != nil && !os.IsNotExist(err) {
						l.t.Fatal(err)
					}
				}
			}},
			{"rename to .1", func(l *stepLab) { must(l.t, os.Rename(l.path, l.path+".1")) }},
			{"create", func(l *stepLab) { l.create() }},
			{"write to .1", func(l *stepLab) { l.write(oldLines) }},
			{"reopen", func(l *stepLab) { l.w.reopen() }},
			{"write", func(l *stepLab) { l.write(newLines) }},
		}
	}, ""},
	{"delete and recreate", func(k, newLines, oldLines int) []stepEvent {
		return []stepEvent{
			{"delete", func(l *stepLab) { l.unlink(l.path) }},
			{"write to the deleted", func(l *stepLab) { l.write(oldLines) }},
			{"reopen", func(l *stepLab) { l.w.reopen() }},
			{"write", func(l *stepLab) { l.write(newLines) }},
		}
	}, "delete"},
}

// stepSchedules returns when the follower looks, for n events: sched[i]
// set, it steps before event i. Never between the first rotation and
// the last; before one event; before two, with pairs; before every one;
// and 50 pseudo-random schedules (a fixed seed).
func stepSchedules(n int, pairs bool) [][]bool {
	scheds := [][]bool{make([]bool, n)}
	for i := range n {
		s := make([]bool, n)
		s[i] = true
		scheds = append(scheds, s)
		for j := i + 1; j < n && pairs; j++ {
			s := make([]bool, n)
			s[i], s[j] = true, true
			scheds = append(scheds, s)
		}
	}
	all := make([]bool, n)
	for i := range all {
		all[i] = true
	}
	scheds = append(scheds, all)
	x := uint64(0x9e3779b97f4a7c15)
	for range 50 {
		s := make([]bool, n)
		for i := range s {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			s[i] = x%3 == 0
		}
		scheds = append(scheds, s)
	}
	return scheds
}

// runStepSchedule writes a log in dir, follows it from its start, makes
// the events with the follower stepping before those sched says, then
// lets it read the rest; it returns what went wrong ("": nothing).
//
// restart >= 0: before event restart, the follower is stopped, and
// another started from the mark of the last lines delivered (a restart
// of the daemon, mid-rotation).
func runStepSchedule(t *testing.T, dir string, zw *gzip.Writer, events []stepEvent, sched []bool, first, restart int) string {
	path := filepath.Join(dir, "mail.log")
	l := newStepLab(t, path, zw)
	defer l.close()
	l.write(first)
	c := &collector{}
	f := &Follower{Path: path, FromStart: true, OnLines: c.onLines, Warn: c.warn, MaxLine: 4096}
	f.init()
	defer f.closeAll()
	ctx := context.Background()
	step := func() string {
		if err := f.step(ctx); err != nil {
			return fmt.Sprintf("step: %v", err)
		}
		return ""
	}
	if err := step(); err != "" {
		return err
	}
	for i, e := range events {
		if i == restart {
			f.closeAll()
			m := c.lastMark()
			f = &Follower{Path: path, Start: &m, OnLines: c.onLines, Warn: c.warn, MaxLine: 4096}
			f.init()
			defer f.closeAll()
		}
		if sched[i] {
			if err := step(); err != "" {
				return err
			}
		}
		e.do(l)
	}
	for range 3 { // each step reads all it can: the later ones, nothing
		if err := step(); err != "" {
			return err
		}
	}
	if len(c.warns) > 0 {
		return fmt.Sprintf("warnings: %q", c.warns)
	}
	return sequenceError(numbers(t, c.data.Bytes()), l.w.written())
}

// sequenceError says how ns differs from 0, 1, …, n-1 ("": it does not):
// where it first does, and how many lines were lost, and doubled.
func sequenceError(ns []int, n int) string {
	seen := make([]int, n)
	doubled, other := 0, 0
	for _, k := range ns {
		if k < 0 || k >= n {
			other++
			continue
		}
		if seen[k]++; seen[k] > 1 {
			doubled++
		}
	}
	lost := 0
	for _, c := range seen {
		if c == 0 {
			lost++
		}
	}
	for i := range min(len(ns), n) {
		if ns[i] != i {
			return fmt.Sprintf("%d lines lost, %d doubled: delivery %d: line %d, want %d; around it: %v", lost, doubled, i, ns[i], i, ns[max(0, i-3):min(len(ns), i+4)])
		}
	}
	if lost > 0 || doubled > 0 || other > 0 {
		return fmt.Sprintf("%d lines lost, %d doubled, %d never written, of %d", lost, doubled, other, n)
	}
	return ""
}

// A file rotated after prev, empty when the follower looked, then written
// to within the same tick of the file system's clock (its mtime unchanged:
// Linux stamps files with a coarse clock, a few milliseconds): the next
// look reads it all the same. The follower used to remember the rotated
// files by name, identity and mtime only, and waited for the log's next
// line, which a quiet log may never write (a stall seen once in
// TestFollowRealLogrotate).
func TestFollowMovedOnSameMtime(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	write := func(name string, from, n int) {
		t.Helper()
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		must(t, err)
		for i := from; i < from+n; i++ {
			fmt.Fprintf(f, "%d line\n", i)
		}
		must(t, f.Close())
	}
	write(path, 0, 5)
	c := &collector{}
	f := &Follower{Path: path, FromStart: true, OnLines: c.onLines, Warn: c.warn, MaxLine: 4096}
	step := stepper(t, f)
	step()
	// Two rotations (create), the writer reopening after each, before it
	// writes again.
	must(t, os.Rename(path, path+".1"))
	write(path, 0, 0)
	step()
	must(t, os.Rename(path+".1", path+".2"))
	must(t, os.Rename(path, path+".1"))
	write(path, 0, 0)
	step()
	// The writer, still at the middle file, writes to it; its mtime is
	// what it was when the follower looked.
	fi, err := os.Stat(path + ".1")
	must(t, err)
	write(path+".1", 5, 7)
	must(t, os.Chtimes(path+".1", fi.ModTime(), fi.ModTime()))
	step()
	step()
	if msg := sequenceError(numbers(t, c.data.Bytes()), 12); msg != "" {
		t.Fatalf("%s (warnings: %q)", msg, c.warns)
	}
}

// A follower started from a mark after a copytruncate: Plan gives it the
// rest of the copy, then the log, found empty (it waits for it, the copy
// taken for the file its writer may still write to). The log is written,
// then copied again, not truncated yet, before the follower looks: the
// lines written are delivered once (they were delivered from the log's
// descriptor, then again from the log opened anew: the copy, taken for
// the log renamed, made the follower read the file at the path twice).
func TestFollowStartAfterCopytruncate(t *testing.T) {
	for _, n := range []int{10, 100} { // shorter than FPLen, and longer
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "mail.log")
			w := &logWriter{t: t, path: path}
			w.reopen()
			defer w.f.Close()
			w.write(n)
			m := markThenCopytruncate(t, path)
			c := &collector{}
			f := &Follower{Path: path, Start: &m, OnLines: c.onLines, Warn: c.warn, MaxLine: 4096}
			step := stepper(t, f)
			step()
			w.write(n)
			shift(t, path)
			copyFile(t, path, path+".1") // not truncated yet
			step()
			step()
			must(t, os.Truncate(path, 0))
			w.write(5)
			step()
			step()
			got := numbers(t, c.data.Bytes())
			for i := range got {
				got[i] -= n // the first n were read before the mark
			}
			if msg := sequenceError(got, n+5); msg != "" {
				t.Errorf("%s (warnings: %q)", msg, c.warns)
			}
		})
	}
}

// The follower restarted from its last mark before any one event of the
// rotations of TestFollowStepRotations, looking before every event, or
// before none but the restart's: every line is delivered once, in order,
// without a warning.
// (Not delete and recreate: a file deleted before the restart is gone.)
func TestFollowStepRestart(t *testing.T) {
	for _, v := range stepVariants {
		if v.look != "" {
			continue
		}
		for _, lines := range []struct {
			name     string
			new, old int
		}{{"long", 100, 20}, {"short", 3, 2}} {
			t.Run(v.name+"/"+lines.name, func(t *testing.T) {
				root := t.TempDir()
				events := threeRotations(v.events, lines.new, lines.old)
				zw := gzip.NewWriter(nil)
				runs, fails, kinds := 0, 0, map[string]bool{}
				for r := range events {
					for _, all := range []bool{false, true} {
						sched := make([]bool, len(events))
						for i, e := range events {
							sched[i] = all || i == r || e.name == v.look
						}
						runs++
						dir := filepath.Join(root, fmt.Sprint(runs))
						must(t, os.Mkdir(dir, 0o755))
						if err := runStepSchedule(t, dir, zw, events, sched, lines.new, r); err != "" {
							fails++
							kind := err[:strings.IndexAny(err+":", ":")]
							if !kinds[kind] {
								kinds[kind] = true
								t.Errorf("%s; restarted before %d:%s, looking before every event: %v", err, r, events[r].name, all)
							}
						}
						must(t, os.RemoveAll(dir))
					}
				}
				if fails > 0 {
					t.Errorf("%d schedules of %d failed; the events: %q", fails, runs, eventNames(events))
				}
			})
		}
	}
}

// stepper readies f to be stepped by hand (its files closed when the test
// ends) and returns its step, which fails the test on an error.
func stepper(t *testing.T, f *Follower) func() {
	t.Helper()
	f.init()
	t.Cleanup(f.closeAll)
	return func() {
		t.Helper()
		if err := f.step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// threeRotations is the events of three rotations of a kind, newLines
// written after each but the last (the log quiet after it: what was
// rotated is read all the same), oldLines to the rotated file.
func threeRotations(events func(k, newLines, oldLines int) []stepEvent, newLines, oldLines int) []stepEvent {
	var out []stepEvent
	for k := 1; k <= 3; k++ {
		n := newLines
		if k == 3 {
			n = 0
		}
		out = append(out, events(k, n, oldLines)...)
	}
	return out
}
