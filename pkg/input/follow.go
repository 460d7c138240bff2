package input

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultMaxLine is the longest line a Follower delivers, unless told
// otherwise: a line of that many bytes or more (without its newline) is
// skipped and counted. It is parse.MaxLine.
const DefaultMaxLine = 1 << 20

// Lines is one delivery of a Follower or a Journal: whole lines, in the
// order they were written, and the position just after them.
type Lines struct {
	// Data holds whole lines, each ending in '\n'. It is valid only
	// during the call: copy what is kept.
	Data []byte
	// File is the file read, by the name it was opened under (a log
	// renamed since keeps the name it had); "journal" for a Journal.
	File string
	// First is set on the first delivery from a file opened (or from a
	// journalctl started): line numbers start again.
	First bool
	// Mark is the position after Data in File (a Follower's): saved,
	// and given back as Follower.Start, the next run reads what follows,
	// nothing twice, across rotations.
	Mark Mark
	// Cursor is the journal cursor of the last entry of Data (a
	// Journal's): given back as Journal.Cursor, the next run reads what
	// follows.
	Cursor string
	// TooLong counts the lines of MaxLine bytes or more skipped since
	// the last delivery, before Data (which may then be empty).
	TooLong int64
	// ModTime, for a file no longer at the log's path (a rotated file
	// read to its end), is its modification time: it dates the lines of
	// a classic syslog log, which carry no year. Zero for the live log.
	ModTime time.Time
}

// A Follower follows a log as `tail -F` does: it reads what is appended
// to the file at Path as it is written, and follows it across logrotate's
// rotations:
//
//   - rename and create (or delete and create): the file renamed (or
//     deleted), still open, is read to its end, including what its
//     writer appends to it until it reopens the log, that is until the
//     new file gets its first bytes (or a file rotated after it has
//     some: more than one rotation came while it was read); then the
//     files rotated after it, whole (found by identity, as Plan finds
//     them, a compressed copy of a file read from its descriptor
//     left out), then the new file, from its start;
//   - copytruncate (the file shorter than what was read, or its first
//     bytes rewritten): the rest of what was read, from the copy, found
//     by Plan among the rotated siblings, then the file from its start
//     (a file copied and truncated twice before any of it was read:
//     its first copy, found among the rotated files as a content none
//     of them had when the file was last found empty, whole);
//   - a file that does not exist (yet, or any more): it is waited for.
//
// It watches Path's directory with inotify (fsnotify), and polls every
// Poll as well, a safety net for what inotify misses (a network file
// system, a full event queue) and the fallback where inotify cannot be
// used.
type Follower struct {
	Path string
	// Start is where to start: a Mark saved from an earlier Lines. The
	// log is then read from there across the rotations made since, as
	// Plan finds them. Nil: at the end of the file now at Path (its last
	// whole line), or at its start with FromStart; a file that appears
	// later is read from its start.
	Start     *Mark
	FromStart bool
	// Rotated, with no Start (a log followed for the first time, its
	// history wanted), reads first the files rotated from Path, each
	// whole, oldest first, then the file at Path from its start, as
	// PlanRotated finds them; then follows it.
	Rotated bool
	// Poll is the polling interval (default 1s).
	Poll time.Duration
	// NoNotify polls only, without inotify.
	NoNotify bool
	// MaxLine bounds the lines delivered (default DefaultMaxLine).
	MaxLine int
	// Warn is told of what could not be followed, once per problem;
	// nil: nobody.
	Warn func(string)
	// Note is told of each rotation followed: another file at the path
	// (the log renamed, or deleted, and made anew), or the file
	// truncated (copytruncate); nil: nobody.
	Note func(string)
	// OnLines gets the lines read, with their position, in order. An
	// error stops Run, which returns it.
	OnLines func(Lines) error
	// OnIdle, when set, is called when all that could be read was
	// delivered (the caller flushes its output). An error stops Run.
	OnIdle func() error

	buf     []byte
	n       int // bytes of buf filled: the start of a line not yet whole
	warned  map[string]bool
	queue   []*tailed // rotated files to read to their end, oldest first
	prev    *tailed   // the file that was at Path, read until the next one has bytes
	cur     *tailed   // the file at Path, nil when there is none
	started bool
	last    *tailed // the file whose line not yet whole f.buf holds
	// looked is what movedOn last saw of the rotated files, to look
	// into them again only when they changed.
	looked string
	// contents: the rotated files' fingerprints (rotatedContents), as
	// they were when listed as contentsOf
	contents   map[string]bool
	contentsOf string
}

// tailed is a file being read.
type tailed struct {
	name     string
	f        *os.File
	r        io.Reader // the decompressor, for a compressed piece; nil: plain, read with ReadAt
	release  func()
	piece    *Piece // for a piece of Plan's: its mark
	dev, ino uint64
	hasID    bool
	modTime  time.Time // set for a file no longer at the path
	// byMtime: dated by its modification time as of each delivery (a
	// rotated file read whole that its writer may still write to)
	byMtime bool
	// off is where the lines delivered end; pos where reading goes on
	// (after a line not yet whole, or a too long line being skipped).
	off, pos int64
	head     []byte // the first FPLen bytes (or fewer) as read
	fp       string // of head, once head is whole (FPLen bytes)
	first    bool   // nothing delivered from it yet
	skipping bool   // in a line too long, dropped up to its newline
	tooLong  int64
	eof      bool // a compressed piece read to its end
	// seenEmpty: the contents of the rotated files (their fingerprints)
	// when the follower last found this file, at the path, with nothing
	// read from it; nil otherwise (see unreadCopies)
	seenEmpty map[string]bool
}

func (t *tailed) close() {
	if t.release != nil {
		t.release()
	}
	t.f.Close()
}

// errCancelled: the context was cancelled while reading.
var errCancelled = errors.New("cancelled")

// errRewritten: the file at the path was truncated, or rewritten.
var errRewritten = errors.New("rewritten")

// Run follows the log until ctx is done, then returns nil, having
// delivered what it read; or until OnLines or OnIdle fails, and returns
// that error.
func (f *Follower) Run(ctx context.Context) error {
	f.init()
	defer f.closeAll()
	poll := f.Poll
	if poll <= 0 {
		poll = time.Second
	}

	kick := make(chan struct{}, 1)
	var w *fsnotify.Watcher
	var dirs []string
	if !f.NoNotify {
		var err error
		if w, err = fsnotify.NewWatcher(); err != nil {
			f.Warn(fmt.Sprintf("%s: inotify cannot be used (%v): polling every %v", f.Path, err, poll))
		} else {
			defer w.Close()
			dirs = watchDirs(f.Path)
			names := map[string]bool{filepath.Clean(f.Path): true}
			if real, err := filepath.EvalSymlinks(f.Path); err == nil {
				names[real] = true
			}
			f.watch(w, dirs)
			go forward(w, names, kick, f.Warn)
		}
	}
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		err := f.step(ctx)
		if err == errCancelled || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if f.OnIdle != nil {
			if err := f.OnIdle(); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		case <-ticker.C:
			if w != nil && len(w.WatchList()) < len(dirs) {
				f.watch(w, dirs) // a directory created, or made again
			}
		}
	}
}

// init sets the defaults and the buffers: Run, or a test stepping the
// follower by hand (step), calls it first.
func (f *Follower) init() {
	if f.Warn == nil {
		f.Warn = func(string) {}
	}
	if f.MaxLine <= 0 {
		f.MaxLine = DefaultMaxLine
	}
	f.buf = make([]byte, f.MaxLine)
	f.warned = map[string]bool{}
}

// watchDirs returns the directories to watch for path: its own, and its
// target's when it is a symbolic link.
func watchDirs(path string) []string {
	dirs := []string{filepath.Dir(filepath.Clean(path))}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		if d := filepath.Dir(real); d != dirs[0] {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// watch adds the directories not watched yet; one that does not exist
// is polled until it does.
func (f *Follower) watch(w *fsnotify.Watcher, dirs []string) {
	have := map[string]bool{}
	for _, d := range w.WatchList() {
		have[d] = true
	}
	for _, d := range dirs {
		if have[d] {
			continue
		}
		if err := w.Add(d); err != nil {
			f.warnOnce("watch "+d, fmt.Sprintf("%s: cannot watch the directory (%v): polling", d, err))
		} else {
			delete(f.warned, "watch "+d)
		}
	}
}

// forward turns the watcher's events about names into kicks: one
// pending kick stands for any number of events.
func forward(w *fsnotify.Watcher, names map[string]bool, kick chan<- struct{}, warn func(string)) {
	for {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			// The log, or a file rotated from it (renamed, its writer
			// may still write to it): by name.
			if !names[ev.Name] && !rotatedFrom(names, ev.Name) {
				continue
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				warn(fmt.Sprintf("inotify: %v", err))
			}
		}
		select {
		case kick <- struct{}{}:
		default:
		}
	}
}

// rotatedFrom says whether name is in the directory of one of names and
// starts with its base name.
func rotatedFrom(names map[string]bool, name string) bool {
	dir, base := filepath.Split(name)
	for n := range names {
		d, b := filepath.Split(n)
		if d == dir && strings.HasPrefix(base, b) {
			return true
		}
	}
	return false
}

func (f *Follower) note(msg string) {
	if f.Note != nil {
		f.Note(msg)
	}
}

func (f *Follower) warnOnce(key, msg string) {
	if !f.warned[key] {
		f.warned[key] = true
		f.Warn(msg)
	}
}

func (f *Follower) closeAll() {
	for _, t := range f.queue {
		t.close()
	}
	f.queue = nil
	if f.prev != nil {
		f.prev.close()
		f.prev = nil
	}
	if f.cur != nil {
		f.cur.close()
		f.cur = nil
	}
}

// begin opens what to read first: the pieces Plan finds from Start (or
// PlanRotated, with Rotated), or the file at Path from its end (or
// start).
func (f *Follower) begin() error {
	if f.Start != nil || f.Rotated {
		var pieces []*Piece
		var err error
		missing := "%s: does not exist, and neither does the rest of the file read last time: waiting for it"
		if f.Start != nil {
			pieces, err = Plan(f.Path, f.Start, f.Warn)
		} else {
			pieces, err = PlanRotated(f.Path, f.Warn)
			missing = "%s: does not exist, and no file rotated from it does: waiting for it"
		}
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			f.warnOnce("missing", fmt.Sprintf(missing, f.Path))
			return nil
		}
		for i, p := range pieces {
			t := fromPiece(p)
			if p.AtPath {
				t.modTime = time.Time{}
				f.cur = t
				if k := len(f.queue) - 1; k >= 0 && f.queue[k].piece.Kind == Plain {
					// The file read last time (with Rotated: the
					// last one rotated), renamed: its writer may not
					// have reopened the log yet.
					f.prev = f.queue[k]
					f.prev.modTime = time.Time{}
					// With Rotated, read whole: its lines may be
					// older than a year (a quiet log), dated by its
					// time, as Plan's reader dates them; the lines
					// its writer adds, by the time it has then.
					f.prev.byMtime = f.Start == nil
					f.queue = f.queue[:k]
				}
				continue
			}
			if i == len(pieces)-1 && p.Kind == Plain {
				// The rest of the file read last time, and no file
				// at the path: it may still be written to.
				t.modTime = time.Time{}
				t.byMtime = f.Start == nil
				f.cur = t
				continue
			}
			f.queue = append(f.queue, t)
		}
		f.unread(pieces)
		return nil
	}
	t, err := openTailed(f.Path)
	if err != nil {
		return err
	}
	if !f.FromStart {
		fi, err := t.f.Stat()
		if err != nil {
			t.close()
			return err
		}
		end, err := lastLineEnd(t.f, fi.Size())
		if err != nil {
			t.close()
			return err
		}
		t.off, t.pos = end, end
		t.fillHead()
	}
	f.cur = t
	return nil
}

// fromPiece makes a piece of Plan's a file to read.
func fromPiece(p *Piece) *tailed {
	t := &tailed{name: p.Name, f: p.File, piece: p, dev: p.Dev, ino: p.Ino, hasID: p.hasID,
		modTime: p.ModTime, off: p.Offset, pos: p.Offset, first: true}
	t.fillHead() // the start of what is not read again
	return t
}

// openTailed opens the plain or compressed regular file name, to read
// from its start.
func openTailed(name string) (*tailed, error) {
	p, err := openPiece(name)
	if err != nil {
		return nil, err
	}
	p.AtPath = true
	return fromPiece(p), nil
}

// prepare makes a compressed file ready to read from t.off: its
// decompressor, past what was read.
func (t *tailed) prepare() error {
	if t.piece == nil || t.piece.Kind == Plain || t.r != nil {
		return nil
	}
	r, _, release, err := Decompress(io.NewSectionReader(t.f, 0, 1<<62))
	if err != nil {
		return err
	}
	t.r, t.release = r, release
	if _, err := io.CopyN(io.Discard, r, t.off); err != nil {
		if err == io.EOF {
			t.eof = true
			return nil
		}
		return err
	}
	return nil
}

// step reads all there is to read now, following rotations, and
// delivers it.
func (f *Follower) step(ctx context.Context) error {
	if !f.started {
		if err := f.begin(); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				f.warnOnce("open", fmt.Sprintf("%v: retrying", err))
				return nil
			}
			f.warnOnce("missing", fmt.Sprintf("%s: does not exist (yet): waiting for it", f.Path))
		}
		delete(f.warned, "open")
		f.started = true
	}
	for range 100 { // rotations seen in one step, at most
		if err := f.drainQueue(ctx); err != nil {
			return err
		}
		if f.prev != nil {
			if err := f.drainWarn(ctx, f.prev, false); err != nil {
				return err
			}
			f.refreshCur()
			if (f.cur == nil || size(f.cur) == 0) && !f.movedOn() {
				return nil // the writer still writes to prev, or nothing came yet
			}
			// The new file has bytes, or one rotated after prev: its
			// writer has left prev. What it wrote to prev before is
			// there now.
			if err := f.drainWarn(ctx, f.prev, true); err != nil {
				return err
			}
			f.next()
			continue // the files rotated in between first
		}
		if f.cur == nil {
			t, err := openTailed(f.Path)
			if err != nil {
				if !errors.Is(err, fs.ErrNotExist) {
					f.warnOnce("open", fmt.Sprintf("%v: retrying", err))
				}
				return nil
			}
			delete(f.warned, "open")
			delete(f.warned, "missing")
			f.cur = t
		}
		if f.cur.pos == 0 && (f.cur.piece == nil || f.cur.piece.Kind == Plain) && f.curAtPath() {
			// Nothing read from it: a copy made since it was last
			// found so (copytruncate, twice before it was read) holds
			// lines it never had; looked at before it is read, so
			// that one made after this look is not taken for known.
			// Only while it is still at the path: renamed (create),
			// the files rotated since are cur and those rotated after
			// it, new contents that are no copies, read after it
			// (next).
			rotated := f.rotatedContents(f.Path, f.cur)
			if copies := f.unreadCopies(rotated); len(copies) > 0 {
				f.cur.seenEmpty = nil
				f.queue = append(f.queue, copies...)
				f.unread(nil) // the copies read first
				continue
			}
			f.cur.seenEmpty = rotated
		}
		err := f.drainWarn(ctx, f.cur, false)
		if f.cur != nil && f.cur.pos > 0 {
			f.cur.seenEmpty = nil
		}
		if err == errRewritten {
			if err := f.truncated(ctx); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		fi, err := os.Stat(f.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil // renamed or deleted, no new file yet: f.cur may still grow
		case err != nil:
			f.warnOnce("stat", fmt.Sprintf("%v: retrying", err))
			return nil
		}
		delete(f.warned, "stat")
		if f.cur.same(fi) {
			if !f.rewritten() {
				return nil
			}
			if err := f.truncated(ctx); err != nil {
				return err
			}
			continue
		}
		// Another file at the path: the one read was renamed or deleted.
		f.note(fmt.Sprintf("%s: rotated (another file at its name): the rest of the one read is read, then the new one", f.Path))
		f.prev, f.cur = f.cur, nil
		f.refreshCur()
	}
	return nil
}

// curAtPath says whether f.cur is the file at the path (when files have
// no identity here, it is taken to be).
func (f *Follower) curAtPath() bool {
	if !f.cur.hasID {
		return true
	}
	fi, err := os.Stat(f.Path)
	return err == nil && f.cur.same(fi)
}

// rotatedContents returns the fingerprints of the rotated files of the
// log at path (as Mark holds them: FPLen, then the hex SHA-256), but
// cur's file.
func (f *Follower) rotatedContents(path string, cur *tailed) map[string]bool {
	// (looked at again only when their names, identities, sizes or
	// times changed: the log may stay empty for hours, polled)
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d", cur.dev, cur.ino)
	for _, s := range siblings(path, nil) {
		fmt.Fprintf(&b, " %s %d/%d %d %d", s.name, s.dev, s.ino, s.size, s.mtime.UnixNano())
	}
	if b.String() == f.contentsOf && f.contents != nil {
		return f.contents
	}
	out := map[string]bool{}
	defer func() { f.contentsOf, f.contents = b.String(), out }()
	for _, s := range openSiblings(path, nil) {
		if s.p == nil {
			continue
		}
		if !(cur.hasID && s.p.hasID && s.p.Dev == cur.dev && s.p.Ino == cur.ino) {
			m := s.p.Mark(0)
			out[fmt.Sprint(m.FPLen, m.FP)] = true
		}
		s.p.File.Close()
	}
	return out
}

// unreadCopies returns, opened to be read whole, the rotated files whose
// content none of the rotated files had when cur was last found at the
// path with nothing read (seenEmpty), and that are no copy of what cur
// holds now: copies of cur made then, whose file was truncated since and
// written again (copytruncate, twice between two looks: the first copy
// holds lines the follower never saw). Renamed and compressed files keep
// their content, and are known. None when cur was not found so.
func (f *Follower) unreadCopies(now map[string]bool) []*tailed {
	cur := f.cur
	if cur.seenEmpty == nil {
		return nil
	}
	fresh := false
	for k := range now {
		fresh = fresh || !cur.seenEmpty[k]
	}
	if !fresh {
		return nil
	}
	var out []*tailed
	for _, s := range openSiblings(f.Path, nil) {
		if s.p == nil {
			continue
		}
		m := s.p.Mark(0)
		if cur.seenEmpty[fmt.Sprint(m.FPLen, m.FP)] || cur.hasID && s.p.hasID && s.p.Dev == cur.dev && s.p.Ino == cur.ino {
			s.p.File.Close()
			continue
		}
		// a copy of what cur holds now (the copy of this rotation,
		// cur not truncated yet): read from cur itself
		if copyOfFile(s.p.File, cur.f) {
			s.p.File.Close()
			continue
		}
		if m.FPLen == 0 {
			s.p.File.Close() // empty: nothing to read
			continue
		}
		out = append(out, fromPiece(s.p))
	}
	return out
}

// drainWarn drains t; a read error is warned about (once) and is no
// error of Run's.
func (f *Follower) drainWarn(ctx context.Context, t *tailed, final bool) error {
	err := f.drain(ctx, t, final)
	if err == nil {
		delete(f.warned, "read "+t.name)
		return nil
	}
	if err == errCancelled || err == errRewritten || isCallback(err) {
		return unwrapCallback(err)
	}
	f.warnOnce("read "+t.name, fmt.Sprintf("%s: %v", t.name, err))
	return nil
}

// refreshCur opens the file at the path as the next one, while prev is
// read to its end: cur, still empty, is replaced when another file took
// its place.
func (f *Follower) refreshCur() {
	fi, err := os.Stat(f.Path)
	if err != nil {
		return
	}
	if f.cur != nil {
		if f.cur.same(fi) || size(f.cur) > 0 {
			return
		}
		f.cur.close()
		f.cur = nil
	}
	if t, err := openTailed(f.Path); err == nil {
		f.cur = t
	}
}

// next leaves prev, read to its end, for the files rotated after it,
// whole (more than one rotation may have come between two looks), then
// the file at the path.
//
// The files rotated after prev are the siblings after it, prev found
// among them by its identity, as Plan finds the file of a mark: its
// inode while it is plain, else its fingerprint (logrotate's compress
// makes a copy, a new inode, and unlinks prev; the copy's content starts
// as prev's). A copy of prev is never read again: prev was read from its
// descriptor. Neither is a copy of cur, the file that was at the path
// after prev (opened, not read yet): cur is read from its descriptor, in
// its copy's place. A compressed copy still being made is left out by
// siblings (the plain file is still there).
func (f *Follower) next() {
	prev := f.prev
	f.prev = nil
	defer prev.close()
	at, err := openPiece(f.Path)
	if err != nil {
		at = nil
	} else {
		at.AtPath = true
	}
	prevID := prev.identity()
	sibs, from := afterPrev(f.Path, at, prev, &prevID)
	used := make([]bool, len(sibs))
	defer func() {
		for i, s := range sibs {
			if !used[i] && s.p != nil {
				s.p.File.Close()
			}
		}
	}()
	cur := f.cur
	var curID Mark
	if cur != nil {
		curID = cur.identity()
	}
	isCur := func(p *Piece) bool { return cur != nil && cur.is(p, &curID) }
	if from < 0 {
		// prev is gone (deleted), without a trace: the files rotated
		// after it start with cur, if it is among them. (Any rotated
		// between prev and cur cannot be told from older ones.)
		for i, s := range sibs {
			if s.p != nil && isCur(s.p) {
				from = i
				break
			}
		}
	}
	var after []*tailed // the files rotated after prev, oldest first
	if from >= 0 {
		for i, s := range sibs[from:] {
			switch {
			case s.err != nil:
				f.Warn(fmt.Sprintf("%s: rotated after %s, but cannot be read: %v", s.name, prev.name, s.err))
			case prev.is(s.p, &prevID):
				// Another copy of prev.
			case isCur(s.p) && at != nil && cur.hasID && at.hasID && at.Dev == cur.dev && at.Ino == cur.ino:
				// A copy of cur, still at the path (copytruncate, copied,
				// not truncated yet): cur is read, once, at the path.
			case isCur(s.p):
				// cur, renamed (or its copy): read from its descriptor,
				// once.
				if f.cur != nil {
					f.cur = nil
					cur.modTime = s.p.ModTime
					after = append(after, cur)
				}
			default:
				used[from+i] = true
				after = append(after, fromPiece(s.p))
			}
		}
	}
	if c := f.cur; c != nil {
		if at != nil && c.hasID && at.hasID && at.Dev == c.dev && at.Ino == c.ino {
			// Still at the path: it is the file to follow.
			at.File.Close()
			at = nil
		} else {
			// Seen at the path, and gone from it (deleted) without
			// a trace among the siblings: still open, it is read
			// after them.
			after = append(after, c)
			f.cur = nil
		}
	}
	if at != nil {
		f.cur = fromPiece(at)
	}
	if f.cur != nil {
		f.cur.modTime = time.Time{}
	}
	f.unread(nil)
	if k := len(after) - 1; k >= 0 && after[k].piece.Kind == Plain {
		// The last rotated: its writer may not have reopened the log
		// yet, and write to it still.
		f.prev = after[k]
		f.prev.modTime = time.Time{}
		after = after[:k]
	}
	f.queue = append(f.queue, after...)
}

// afterPrev returns the rotated files of the log at path but at (the
// file at the path), opened (openSiblings), and the index of the first
// one rotated after prev: after the last that is prev or a copy of it
// (id: prev's identity); -1 when none is.
func afterPrev(path string, at *Piece, prev *tailed, id *Mark) ([]sibling, int) {
	sibs := openSiblings(path, at)
	from := -1
	for i, s := range sibs {
		if s.p != nil && prev.is(s.p, id) {
			from = i + 1
		}
	}
	return sibs, from
}

// movedOn says whether the writer has left prev, read to its end, while
// the file at the path has no bytes yet: a file rotated after prev has
// some (rotations came faster than prev was read, and the log is quiet
// since the last). The rotated files are looked into again only when
// their names, identities, sizes or times changed (prev's aside: written
// to). The size counts: a file's mtime comes from a coarse clock, and
// a write within the same tick leaves it as it was.
func (f *Follower) movedOn() bool {
	prev := f.prev
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d", prev.dev, prev.ino)
	for _, s := range siblings(f.Path, nil) {
		if !(s.hasID && prev.hasID && s.dev == prev.dev && s.ino == prev.ino) {
			fmt.Fprintf(&b, " %s %d/%d %d %d", s.name, s.dev, s.ino, s.size, s.mtime.UnixNano())
		}
	}
	if b.String() == f.looked {
		return false
	}
	f.looked = b.String()
	id := prev.identity()
	sibs, from := afterPrev(f.Path, nil, prev, &id)
	defer func() {
		for _, s := range sibs {
			if s.p != nil {
				s.p.File.Close()
			}
		}
	}()
	if from < 0 {
		return false // prev deleted, without a trace: still written to, perhaps
	}
	for _, s := range sibs[from:] {
		if s.p == nil || prev.is(s.p, &id) || f.cur != nil && f.cur.hasID && s.p.sameID(&Mark{Dev: f.cur.dev, Ino: f.cur.ino}) {
			continue
		}
		if s.p.Kind == Plain && s.p.Size > 0 {
			return true
		}
		if b, _ := head(s.p.File, 1); s.p.Kind != Plain && len(b) > 0 {
			return true // compressed, not empty
		}
	}
	return false
}

// identity returns what tells t's file, or a copy of it, among the
// rotated files: its device and inode, and the fingerprint of its first
// FPLen bytes (fewer in a shorter file): those read, completed by those
// it holds now when fewer were read (a file not read yet).
func (t *tailed) identity() Mark {
	if t.piece != nil && t.piece.Kind != Plain {
		return t.piece.Mark(t.off)
	}
	b := t.head
	if len(b) < FPLen {
		now := make([]byte, FPLen)
		n, _ := t.f.ReadAt(now, 0)
		if n > len(b) && bytes.HasPrefix(now[:n], b) {
			b = now[:n]
		}
	}
	sum := sha256.Sum256(b)
	return Mark{Dev: t.dev, Ino: t.ino, Offset: t.off, FP: hex.EncodeToString(sum[:]), FPLen: int64(len(b))}
}

// is says whether p is t's file, or a copy of it: the same device and
// inode (t's file is held open: its inode number is given to no other
// file), or content starting with the bytes id, t's identity, covers.
func (t *tailed) is(p *Piece, id *Mark) bool {
	if t.hasID && p.sameID(id) {
		return true
	}
	return id.FPLen > 0 && fpMatch(p, id)
}

// size returns the size of t's file now (0 when it cannot be told).
func size(t *tailed) int64 {
	fi, err := t.f.Stat()
	if err != nil {
		return 0
	}
	return fi.Size()
}

// same says whether fi is t's file.
func (t *tailed) same(fi os.FileInfo) bool {
	dev, ino, ok := identity(fi)
	return ok && t.hasID && dev == t.dev && ino == t.ino
}

// rewritten says whether the file at the path, still f.cur's, was
// truncated (copytruncate) or rewritten from its start since it was
// read: shorter than what was read, or starting with other bytes.
func (f *Follower) rewritten() bool { return f.cur.rewritten(f.cur.pos) }

// rewritten says whether t's file is shorter than pos, or starts with
// other bytes than those read.
func (t *tailed) rewritten(pos int64) bool {
	if t.r != nil || t.piece != nil && t.piece.Kind != Plain {
		return false
	}
	fi, err := t.f.Stat()
	if err != nil {
		return false
	}
	if fi.Size() < pos {
		return true
	}
	if len(t.head) == 0 {
		return false
	}
	var b [FPLen]byte
	n, _ := t.f.ReadAt(b[:len(t.head)], 0)
	return !bytes.Equal(b[:n], t.head)
}

// truncated follows a copytruncate: what was read last is looked for
// among the rotated siblings (the copy), by Plan, as a run resuming from
// the current mark would; its rest is read, then the file at the path
// from its start.
func (f *Follower) truncated(ctx context.Context) error {
	t := f.cur
	f.n = 0 // a line not yet whole is read again from the copy
	m := t.mark(t.off)
	t.close()
	f.cur = nil
	pieces, err := Plan(f.Path, &m, f.Warn)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			f.warnOnce("open", fmt.Sprintf("%v: retrying", err))
		}
		return nil
	}
	// (Plan leaves out a copy of what the file at the path holds now,
	// copied, not truncated yet: it is read from the file, once.)
	var copies []string
	for _, p := range pieces {
		if !p.AtPath {
			copies = append(copies, p.Name)
		}
	}
	if len(copies) > 0 {
		f.note(fmt.Sprintf("%s: truncated (copytruncate): the rest of what it held is read from %s, then it from its start", f.Path, strings.Join(copies, ", ")))
	} else {
		f.note(fmt.Sprintf("%s: truncated (copytruncate): read from its start", f.Path))
	}
	for _, p := range pieces {
		nt := fromPiece(p)
		if p.AtPath {
			nt.modTime = time.Time{}
			f.cur = nt
		} else {
			f.queue = append(f.queue, nt)
		}
	}
	f.unread(pieces)
	return nil
}

// unread readies cur, the file at the path, when nothing is read from it
// yet and other files are read first (pieces, the rotated files before
// it; the files rotated after prev): a copytruncate made meanwhile
// copies lines of it that it holds no more. The rotated files known now
// (seenEmpty) are those listed but the copies of what cur holds now
// (read from cur while it holds them), and pieces; one made later is
// found by unreadCopies.
func (f *Follower) unread(pieces []*Piece) {
	c := f.cur
	if c == nil || c.pos != 0 || c.piece != nil && c.piece.Kind != Plain || !f.curAtPath() {
		return
	}
	known := map[string]bool{}
	for _, p := range pieces {
		if !p.AtPath {
			m := p.Mark(0)
			known[fmt.Sprint(m.FPLen, m.FP)] = true
		}
	}
	for _, s := range openSiblings(f.Path, nil) {
		if s.p == nil {
			continue
		}
		if !(c.hasID && s.p.hasID && s.p.Dev == c.dev && s.p.Ino == c.ino) && !copyOfFile(s.p.File, c.f) {
			m := s.p.Mark(0)
			known[fmt.Sprint(m.FPLen, m.FP)] = true
		}
		s.p.File.Close()
	}
	c.seenEmpty = known
}

// drainQueue reads the rotated files of the queue to their end.
func (f *Follower) drainQueue(ctx context.Context) error {
	for len(f.queue) > 0 {
		q := f.queue[0]
		if err := f.drain(ctx, q, true); err != nil {
			if err == errCancelled || isCallback(err) {
				return unwrapCallback(err)
			}
			f.Warn(fmt.Sprintf("%s: %v: the rest of it is not read", q.name, err))
		}
		q.close()
		f.queue = f.queue[1:]
	}
	return nil
}

// callbackError wraps an error of OnLines.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

func isCallback(err error) bool {
	_, ok := err.(callbackError)
	return ok
}

func unwrapCallback(err error) error {
	if c, ok := err.(callbackError); ok {
		return c.err
	}
	return err
}

// drain reads t from where it was left to its current end and delivers
// the whole lines. final: t is read for the last time (a rotated file,
// or the one the writer left): a last line without its newline is
// delivered too, as a line.
func (f *Follower) drain(ctx context.Context, t *tailed, final bool) error {
	if f.last != t {
		// f.buf holds the start of a line of another file: it is read
		// again from that file when its turn comes.
		if l := f.last; l != nil && f.n > 0 && l.r == nil {
			l.pos -= int64(f.n)
		}
		f.n = 0
		f.last = t
	}
	if err := t.prepare(); err != nil {
		return err
	}
	for {
		if ctx.Err() != nil {
			return errCancelled
		}
		var k int
		var err error
		switch {
		case t.eof:
			err = io.EOF
		case t.r != nil:
			k, err = t.r.Read(f.buf[f.n:])
		default:
			k, err = t.f.ReadAt(f.buf[f.n:], t.pos)
		}
		if err != nil && err != io.EOF {
			return err
		}
		if k > 0 && t == f.cur && t.rewritten(t.pos) {
			// Truncated (copytruncate) before this read, perhaps
			// written again: what was read is not the log's rest.
			f.n -= k
			return errRewritten
		}
		if k > 0 {
			t.noteHead(f.buf[f.n:f.n+k], t.pos)
		}
		t.pos += int64(k)
		f.n += k
		if err := f.deliver(t, false); err != nil {
			return err
		}
		if err == io.EOF && t.r != nil {
			t.eof = true
		}
		if err == io.EOF || k == 0 {
			if final {
				return f.deliver(t, true)
			}
			return nil
		}
	}
}

// noteHead keeps the first FPLen bytes of t read, for its fingerprint.
func (t *tailed) noteHead(b []byte, at int64) {
	if at >= FPLen || int64(len(t.head)) != at {
		return
	}
	if n := FPLen - len(t.head); len(b) > n {
		b = b[:n]
	}
	t.head = append(t.head, b...)
}

// fillHead reads the first bytes of t's file, up to FPLen and no further
// than what was read, when it has fewer: for a file read from an offset.
// Then reads from the start keep it (noteHead): it is what was read,
// whatever the file holds later (a copytruncate rewrites it).
func (t *tailed) fillHead() {
	if len(t.head) >= FPLen || t.r != nil || t.piece != nil && t.piece.Kind != Plain {
		return
	}
	n := min(int64(FPLen), t.pos)
	if n <= int64(len(t.head)) {
		return
	}
	b := make([]byte, n)
	k, _ := t.f.ReadAt(b, 0)
	if k > len(t.head) {
		t.head = append(t.head[:0], b[:k]...)
	}
}

// deliver hands on the whole lines of f.buf[:f.n] (all of it when final),
// and keeps the start of a line not yet whole. A line that fills the
// buffer without its newline is too long: it is dropped up to its
// newline, and counted.
func (f *Follower) deliver(t *tailed, final bool) error {
	data := f.buf[:f.n]
	if t.skipping {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			t.off += int64(len(data))
			f.n = 0
			if final {
				t.skipping = false
				return f.send(t, nil, 0)
			}
			return nil
		}
		t.skipping = false
		t.off += int64(i + 1)
		data = data[i+1:]
	}
	end := bytes.LastIndexByte(data, '\n') + 1
	if end == 0 && len(data) == len(f.buf) {
		// No newline in a full buffer: a line too long.
		t.tooLong++
		t.skipping = true
		t.off += int64(len(data))
		f.n = 0
		if final {
			t.skipping = false
			return f.send(t, nil, 0)
		}
		return nil
	}
	lines, consumed := data[:end], int64(end)
	if final && end < len(data) {
		// The last line of a file left behind, without its newline.
		lines = append(data[:len(data):len(data)], '\n')
		consumed = int64(len(data))
	}
	if consumed > 0 || t.tooLong > 0 {
		if err := f.send(t, lines, consumed); err != nil {
			return err
		}
	}
	f.n = copy(f.buf, data[consumed:]) // after the send: lines is in f.buf
	return nil
}

// send delivers lines of t, which take consumed bytes of the file after
// t.off.
func (f *Follower) send(t *tailed, lines []byte, consumed int64) error {
	t.off += consumed
	l := Lines{Data: lines, File: t.name, First: t.first, Mark: t.mark(t.off), TooLong: t.tooLong, ModTime: t.modTime}
	if t.byMtime {
		if fi, err := t.f.Stat(); err == nil {
			l.ModTime = fi.ModTime()
		}
	}
	t.first = false
	t.tooLong = 0
	if err := f.OnLines(l); err != nil {
		return callbackError{err}
	}
	return nil
}

// mark returns the mark of t read up to off.
func (t *tailed) mark(off int64) Mark {
	if t.piece != nil && t.piece.Kind != Plain {
		return t.piece.Mark(off)
	}
	if t.fp == "" {
		sum := sha256.Sum256(t.head)
		fp := hex.EncodeToString(sum[:])
		if len(t.head) < FPLen {
			return Mark{Dev: t.dev, Ino: t.ino, Offset: off, Size: max(t.pos, off), FP: fp, FPLen: int64(len(t.head))}
		}
		t.fp = fp // whole: it changes no more
	}
	return Mark{Dev: t.dev, Ino: t.ino, Offset: off, Size: max(t.pos, off), FP: t.fp, FPLen: int64(len(t.head))}
}

// lastLineEnd returns where the last whole line of f in [0, size) ends:
// after its last newline, or 0 when there is none.
func lastLineEnd(f *os.File, size int64) (int64, error) {
	buf := make([]byte, 64<<10)
	for end := size; end > 0; {
		start := max(0, end-int64(len(buf)))
		b := buf[:end-start]
		n, err := f.ReadAt(b, start)
		if err != nil && err != io.EOF {
			return 0, err
		}
		if i := bytes.LastIndexByte(b[:n], '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}
