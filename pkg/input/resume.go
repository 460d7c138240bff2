package input

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// FPLen is how many bytes of a log's uncompressed content its fingerprint
// covers, at most (a shorter file's fingerprint covers all of it).
//
// 1024 bytes are four to ten lines of a mail log, each with its timestamp
// to the second (often the microsecond), its host, its process id and
// queue id: two logs that start with the same 1024 bytes are the same log.
// More would not tell files apart any better, and would leave a file
// without a full fingerprint for longer; less would trust a single line.
// (Filebeat's fingerprint file identity uses the same length.) It is read
// once per run from the log, and, only after a rotation, from the start of
// each sibling examined: decompressing 1 KiB of a .gz costs next to
// nothing.
const FPLen = 1024

// A Mark is what is saved of a log between runs: which file was read, and
// how far.
type Mark struct {
	// Dev and Ino identify the file (zero where the system does not say).
	Dev, Ino uint64
	// Offset is the bytes of the uncompressed content consumed: whole
	// lines only, for the log still being written.
	Offset int64
	// Size is the file's size (as stored, compressed or not) when read.
	Size int64
	// FP is the hex SHA-256 of the first FPLen bytes of the uncompressed
	// content (FPLen = min(that content's length, the package's FPLen)).
	FP    string
	FPLen int64
	// Saved is when the log was read, up to the mark (zero: unknown); a
	// little before, not when the mark was saved, which comes after the
	// run's report. It tells, of a log found empty then (FPLen 0:
	// nothing to know it by), the rotated files made since:
	// copytruncate's copies of lines never read.
	Saved time.Time
}

// A Piece is a file to read, from an offset, to resume a log: the rest of
// the file read last time (perhaps rotated away, renamed or compressed),
// then any rotated since, whole, then the file now at the path.
type Piece struct {
	Name   string // the file's name
	Offset int64  // uncompressed bytes to skip: already read
	// AtPath is set for the file now at the log's path, still written
	// to: its last line without a newline is left for the next run.
	AtPath bool

	// The file opened by Plan (closed by ClosePieces), and what Plan saw
	// of it: its size and modification time when opened, identity, and
	// compression format.
	File     *os.File
	Size     int64
	ModTime  time.Time
	Dev, Ino uint64
	Kind     Kind

	hasID bool
}

// Mark returns the mark of p consumed up to offset (in its uncompressed
// content): its identity, size and fingerprint, read again now.
func (p *Piece) Mark(offset int64) Mark {
	n := int64(FPLen)
	if p.Kind == Plain {
		n = min(n, p.Size)
	}
	b, _ := head(p.File, n) // on an error, the fingerprint of what was read
	sum := sha256.Sum256(b)
	return Mark{Dev: p.Dev, Ino: p.Ino, Offset: offset, Size: p.Size, FP: hex.EncodeToString(sum[:]), FPLen: int64(len(b))}
}

// Fingerprint returns the fingerprint of the file name as a Mark would
// hold it: the hex SHA-256 of its first FPLen uncompressed bytes, and how
// many bytes that is.
func Fingerprint(name string) (fp string, n int64, err error) {
	p, err := openPiece(name)
	if err != nil {
		return "", 0, err
	}
	defer p.File.Close()
	m := p.Mark(0)
	return m.FP, m.FPLen, nil
}

// ClosePieces closes the files of pieces.
func ClosePieces(pieces []*Piece) {
	for _, p := range pieces {
		if p != nil && p.File != nil {
			p.File.Close()
		}
	}
}

// errNotRegular: only a regular file can be resumed.
var errNotRegular = errors.New("not a regular file")

// openPiece opens the regular file name.
func openPiece(name string) (*Piece, error) {
	fi, err := os.Stat(name) // not to open a FIFO, which would block
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", name, errNotRegular)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w", name, errNotRegular)
	}
	p := &Piece{Name: name, File: f, Size: fi.Size(), ModTime: fi.ModTime()}
	p.Dev, p.Ino, p.hasID = identity(fi)
	var magic [6]byte
	n, _ := f.ReadAt(magic[:], 0)
	p.Kind = Detect(magic[:n])
	return p, nil
}

// head returns the first n bytes of f's uncompressed content, fewer when
// it is shorter, and the error that cut it short, if any other than its
// end. It reads with ReadAt: f's offset is left alone.
func head(f *os.File, n int64) ([]byte, error) {
	if n <= 0 {
		return nil, nil
	}
	r, _, release, err := Decompress(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return nil, err
	}
	defer release()
	b := make([]byte, n)
	k, err := io.ReadFull(r, b)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		err = nil
	}
	return b[:k], err
}

// fpMatch says whether the content of p starts with the bytes m's
// fingerprint was taken of. A file shorter than that never matches.
func fpMatch(p *Piece, m *Mark) bool {
	if m.FPLen < 0 || m.FPLen > 1<<20 {
		return false
	}
	b, err := head(p.File, m.FPLen)
	if err != nil || int64(len(b)) < m.FPLen {
		return false
	}
	sum := sha256.Sum256(b)
	return strings.EqualFold(hex.EncodeToString(sum[:]), m.FP)
}

// sameID says whether p is the file m identifies by device and inode.
func (p *Piece) sameID(m *Mark) bool {
	return p.hasID && p.Dev == m.Dev && p.Ino == m.Ino
}

// holds says whether p may hold m.Offset bytes: always, compressed.
func (p *Piece) holds(m *Mark) bool {
	return p.Kind != Plain || p.Size >= m.Offset
}

// Plan returns the pieces to read, in order, to read what is new in the
// log at path, given its mark from the last run (nil: never read; it is
// then read whole). The files are opened: ClosePieces closes them.
//
// It follows logrotate:
//   - the same file at path (identity and fingerprint, no shorter than
//     the offset): read from the offset;
//   - copytruncate (same file, shorter, or its start rewritten) and
//     rename+create (another file at path): the file read last time is
//     looked for among the rotated siblings (path.N, path.N.gz,
//     path-YYYYMMDD[.gz] and so on, compressed with gzip, bzip2, xz or
//     zstd), by identity when it is still the same plain file, else by
//     fingerprint; it is read from the offset, then the siblings rotated
//     after it (never read: two rotations between runs), whole, oldest
//     first (the newest left out when it is a copy of what the file at
//     path holds now: copied, not truncated yet), then the file at path
//     from the start. A copy of the file
//     read last time among them is not read again (compressed while it
//     was still there, plain: logrotate's compress makes the copy, then
//     unlinks the plain file); nor is a compressed copy being made next
//     to its plain file (siblings).
//   - the file read last time empty (nothing to know it by: FPLen 0,
//     not even its inode, which may have been given to a newer file),
//     when the mark says when it was saved: the rotated files written
//     since (copytruncate's copies, or the file itself rotated and
//     compressed), whole, oldest first, then the file at path (a copy
//     of what it holds now, copied but not truncated yet, left out);
//   - the file read last time not found: warn is told, and the file at
//     path is read from the start.
//
// With no file at path, the rest of the file read last time, if found,
// is still read; else the error is Open's. warn may be nil.
func Plan(path string, m *Mark, warn func(string)) ([]*Piece, error) {
	if warn == nil {
		warn = func(string) {}
	}
	if m != nil && m.Offset < 0 {
		mm := *m
		mm.Offset = 0
		m = &mm
	}
	cur, pathErr := openPiece(path)
	if pathErr != nil && (m == nil || !errors.Is(pathErr, fs.ErrNotExist)) {
		return nil, pathErr
	}
	if cur != nil {
		cur.AtPath = true
		if m == nil {
			return []*Piece{cur}, nil
		}
		if (cur.sameID(m) || !cur.hasID && m.Dev == 0 && m.Ino == 0) && cur.holds(m) && fpMatch(cur, m) {
			cur.Offset = m.Offset
			if m.FPLen == 0 && !m.Saved.IsZero() {
				// Found empty: its copies made since (copytruncate)
				// hold lines never read, first.
				return append(copiedSince(path, cur, m.Saved), cur), nil
			}
			return []*Piece{cur}, nil
		}
	}
	sibs := openSiblings(path, cur)
	used := make([]bool, len(sibs))
	defer func() {
		for i, s := range sibs {
			if !used[i] && s.p != nil {
				s.p.File.Close()
			}
		}
	}()
	oldAt := -1
	// The file read last time, still plain and under a new name (as
	// logrotate's delaycompress leaves it, or between its rename and its
	// compression), is the same inode; its fingerprint guards against an
	// inode number given again to another file. A file found empty has
	// no fingerprint to guard it: the number of the empty log, deleted
	// once compressed, is given again to the next file made (the next
	// mail.log, or the .gz of the rotation after), and that file would
	// pass for it, the files rotated before it skipped, their lines lost.
	// When the mark says when it was read, the files written since are
	// found by their times below; without, only a plain file is trusted
	// (a compressed one is always a new inode).
	if (m.Dev != 0 || m.Ino != 0) && (m.FPLen > 0 || m.Saved.IsZero()) {
		for i := len(sibs) - 1; i >= 0 && oldAt < 0; i-- {
			p := sibs[i].p
			if p != nil && p.sameID(m) && fpMatch(p, m) && (m.FPLen > 0 || p.Kind == Plain) {
				oldAt = i
			}
		}
	}
	if oldAt < 0 && cur != nil && m.FPLen > 0 && cur.holds(m) && fpMatch(cur, m) {
		// Another identity, the same content: the file was moved or
		// copied back in place, or its device was numbered anew.
		cur.Offset = m.Offset
		return []*Piece{cur}, nil
	}
	if oldAt < 0 && m.FPLen > 0 {
		// Compressed, or copied (copytruncate): by fingerprint, the most
		// recently rotated first.
		for i := len(sibs) - 1; i >= 0 && oldAt < 0; i-- {
			if p := sibs[i].p; p != nil && fpMatch(p, m) {
				oldAt = i
			}
		}
	}
	if oldAt < 0 && m.FPLen == 0 && !m.Saved.IsZero() {
		// Found empty, and rotated since (renamed, or compressed into
		// another inode): the rotated files written since hold it, and
		// what came after, whatever inode numbers they were given.
		pieces := copiedSince(path, cur, m.Saved)
		if cur != nil {
			pieces = append(pieces, cur)
		}
		if len(pieces) == 0 {
			return nil, pathErr
		}
		return pieces, nil
	}
	if oldAt < 0 && !m.Saved.IsZero() {
		// The file read last time is gone: deleted by logrotate's
		// rotate count while no run read (a server down for days), or
		// clobbered when logrotate's configuration changed (a plain
		// mail.log.1 renamed over by a compressing one's). What it held
		// after the mark is lost; the rotated files written since the
		// mark was read hold the rest, and are read first.
		pieces := copiedSince(path, cur, m.Saved)
		if cur != nil {
			pieces = append(pieces, cur)
		}
		if len(pieces) == 0 {
			return nil, pathErr
		}
		if n := len(pieces) - b2i(cur != nil); n > 0 {
			warn(fmt.Sprintf("%s: the rest of the rotated log was not found among its siblings; reading the %s rotated from it since, then %s from the start", path, plural(n, "file", "files"), path))
		} else {
			warn(fmt.Sprintf("%s: the rest of the rotated log was not found among its siblings; reading %s from the start", path, path))
		}
		return pieces, nil
	}
	if oldAt < 0 {
		if cur == nil {
			return nil, pathErr
		}
		warn(fmt.Sprintf("%s: the rest of the rotated log was not found among its siblings; reading %s from the start", path, path))
		return []*Piece{cur}, nil
	}
	old := sibs[oldAt].p
	used[oldAt] = true
	old.Offset = m.Offset
	pieces := []*Piece{old}
	for i, s := range sibs {
		// What was written since: the files rotated after the one read
		// last time (all made after it: renamed and compressed, they
		// keep their times). When the mark says when it was read, by
		// their times too: a file last written before the mark was read
		// and before the file read last time was sorts after it only
		// when logrotate's configuration changed and left the old
		// kind's files (a plain mail.log.2 next to compressed ones), or
		// one was put there by hand, and holds nothing new; a file
		// written since sorts before it when the new kind's numbers ran
		// apart from the old's (mail.log.4.gz, written since, and
		// mail.log.2, plain, read last time), and holds only new lines.
		since := i > oldAt
		if !m.Saved.IsZero() && i != oldAt {
			if i > oldAt {
				// (and before the file read last time was: a mark
				// taken while a daemon caught up, or saved with the
				// time of its commit, may be later than files
				// rotated after it and not read yet)
				since = s.mtime.After(m.Saved) || !s.mtime.Before(sibs[oldAt].mtime)
			} else {
				since = s.mtime.After(m.Saved)
			}
		}
		switch {
		case !since:
		case s.err != nil:
			warn(fmt.Sprintf("%s: rotated after the part of the log read last time, but cannot be read: %v", s.name, s.err))
		case m.FPLen > 0 && fpMatch(s.p, m):
			// Another copy of the file read last time (compressed while
			// it was there still, under another name): read once. (Not
			// by its inode: the number of a file deleted since is given
			// to the next file made, mail.log.)
		default:
			used[i] = true
			pieces = append(pieces, s.p)
		}
	}
	if k := len(pieces) - 1; k > 0 && cur != nil && copyOfFile(pieces[k].File, cur.File) {
		// The newest rotated file is a copy of what the log holds now
		// (copytruncate, copied, not truncated yet): the log is read,
		// whole, and the copy not.
		pieces[k].File.Close()
		pieces = pieces[:k]
	}
	if cur != nil {
		pieces = append(pieces, cur)
	}
	return pieces, nil
}

// PlanRotated is Plan for a log read for the first time (no mark) with
// the files rotated from it: each of them whole, the oldest first, then
// the file now at path, whole. A rotated file that cannot be opened is
// told to warn and left out; an empty one, or a copy of what the log
// holds now (copytruncate, copied, not truncated yet), is left out too.
// Without a file at path, the rotated ones are all there is (a log just
// rotated, not made again yet); without either, the error is path's.
func PlanRotated(path string, warn func(string)) ([]*Piece, error) {
	if warn == nil {
		warn = func(string) {}
	}
	cur, pathErr := openPiece(path)
	if pathErr != nil && !errors.Is(pathErr, fs.ErrNotExist) {
		return nil, pathErr
	}
	if cur != nil {
		cur.AtPath = true
	}
	var pieces []*Piece
	for _, s := range openSiblings(path, cur) {
		switch {
		case s.err != nil:
			warn(fmt.Sprintf("%s: rotated from the log, but cannot be read: %v", s.name, s.err))
		case s.size == 0 || cur != nil && copyOfFile(s.p.File, cur.File):
			s.p.File.Close()
		default:
			pieces = append(pieces, s.p)
		}
	}
	if cur == nil {
		if len(pieces) == 0 {
			return nil, pathErr
		}
		return pieces, nil
	}
	return append(pieces, cur), nil
}

// copiedSince returns, opened, the rotated files of the log at path
// modified after saved, not empty, that are no copy of what cur (the file
// at path) holds now (copied, not truncated yet): for a mark saved of cur
// while it was empty, the copies copytruncate made of it since, oldest
// first. A rotated file keeps its time when renamed, and logrotate gives
// a compressed one the time of the file it was made from. (A run made
// between create's rename and the writer's reopen, the new file still
// empty, leaves the old file, read to its end, open to the writer's last
// lines: written after the mark, it is read again whole, a double, never
// a loss. A file written within a few milliseconds of the mark may bear
// an earlier time, Linux stamping it with its coarse clock.)
func copiedSince(path string, cur *Piece, saved time.Time) []*Piece {
	var out []*Piece
	for _, s := range openSiblings(path, cur) {
		if s.p == nil {
			continue
		}
		if !s.mtime.After(saved) || s.size == 0 || cur != nil && copyOfFile(s.p.File, cur.File) {
			s.p.File.Close()
			continue
		}
		out = append(out, s.p)
	}
	return out
}

// copyOfFile says whether the content of the rotated file r (plain or
// compressed) and that of the log's file cur start alike, over the first
// FPLen bytes of the shorter: r is a copy of cur (or cur a copy of r's
// start, written on). Both must have a byte.
func copyOfFile(r, cur *os.File) bool {
	var cb [FPLen]byte
	n, _ := cur.ReadAt(cb[:], 0)
	b, _ := head(r, FPLen)
	k := min(len(b), n)
	return k > 0 && bytes.Equal(b[:k], cb[:k])
}

// A sibling is a file rotated from a log, by its name.
type sibling struct {
	name     string
	mtime    time.Time
	size     int64
	dev, ino uint64
	hasID    bool
	// numbered: path.N[.gz] (N the number of rotations since: the
	// greater, the older); else dated: path-DATE[.gz], where DATE sorts
	// as the dates it stands for.
	numbered bool
	num      int
	date     string

	// Set by openSiblings: the file opened, or why it could not be.
	p   *Piece
	err error
}

// compressedExts are the extensions that logrotate's compressext may
// give a rotated log, of the formats Decompress reads.
var compressedExts = []string{".gz", ".bz2", ".xz", ".zst", ".zstd"}

// rotatedName says whether name is what logrotate makes of base, and
// how: numbered (base.N) or dated (dateext: base-YYYYMMDD and such).
func rotatedName(base, name string) (s sibling, ok bool) {
	rest, ok := strings.CutPrefix(name, base)
	if !ok {
		return s, false
	}
	for _, e := range compressedExts {
		if r, cut := strings.CutSuffix(rest, e); cut {
			rest = r
			break
		}
	}
	if len(rest) < 2 || rest[1] < '0' || rest[1] > '9' {
		return s, false
	}
	sep, stem := rest[0], rest[1:]
	if sep != '.' && sep != '-' && sep != '_' {
		return s, false
	}
	digits := true
	for i := 0; i < len(stem); i++ {
		switch c := stem[i]; {
		case c >= '0' && c <= '9':
		case c == '-' || c == '_' || c == '.':
			digits = false
		default:
			return s, false
		}
	}
	if sep == '.' && digits && len(stem) <= 5 {
		s.numbered = true
		s.num, _ = strconv.Atoi(stem)
		return s, true
	}
	s.date = stem
	return s, true
}

// RotatedFrom says whether the file name is, by its name, one that
// logrotate makes of the log at path (path.1, path.2.gz, path-20261128
// and so on, in the log's directory): a sibling that Plan reads after a
// rotation. Symbolic links to the directories are followed, as Plan
// follows the log's.
func RotatedFrom(path, name string) bool {
	dir := func(p string) string {
		d := filepath.Dir(p)
		if real, err := filepath.EvalSymlinks(d); err == nil {
			d = real
		}
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		return d
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if dir(path) != dir(name) {
		return false
	}
	_, ok := rotatedName(filepath.Base(path), filepath.Base(name))
	return ok
}

// siblings returns the regular files rotated from the log at path, the
// oldest first, leaving out cur (the file now at path) under any name.
// They are ordered by their names, which logrotate keeps in order
// whatever the modification times (a file compressed later may bear the
// time of its compression); by modification time when names of both
// kinds are mixed.
func siblings(path string, cur *Piece) []sibling {
	// A log named through a symbolic link (/etc/maillog -> /var/log/mail.log)
	// is rotated where it lives: its siblings are those of the target.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var sibs []sibling
	numbered, dated := 0, 0
	for _, e := range entries {
		s, ok := rotatedName(base, e.Name())
		if !ok {
			continue
		}
		s.name = filepath.Join(dir, e.Name())
		fi, err := os.Stat(s.name)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		s.mtime, s.size = fi.ModTime(), fi.Size()
		s.dev, s.ino, s.hasID = identity(fi)
		if cur != nil && cur.hasID && s.hasID && s.dev == cur.Dev && s.ino == cur.Ino {
			continue
		}
		if s.numbered {
			numbered++
		} else {
			dated++
		}
		sibs = append(sibs, s)
	}
	// A compressed file next to the plain file of its name is being
	// made from it (logrotate's compress unlinks the plain file once the
	// copy is whole, and gives it the plain file's times): the plain file
	// holds all of it, the copy perhaps half. Unless they start apart:
	// a plain mail.log.2 left by logrotate's configuration before
	// compress was set, next to the mail.log.2.gz of another rotation.
	plain := map[string]bool{}
	for _, s := range sibs {
		plain[s.name] = true
	}
	kept := sibs[:0]
	for _, s := range sibs {
		if ext := filepath.Ext(s.name); slices.Contains(compressedExts, ext) && plain[strings.TrimSuffix(s.name, ext)] && beingMade(s.name, strings.TrimSuffix(s.name, ext)) {
			continue
		}
		kept = append(kept, s)
	}
	sibs = kept
	byTime := numbered > 0 && dated > 0
	sort.SliceStable(sibs, func(i, j int) bool {
		a, b := &sibs[i], &sibs[j]
		switch {
		case !byTime && a.numbered && a.num != b.num:
			return a.num > b.num
		case !byTime && !a.numbered && a.date != b.date:
			return a.date < b.date
		case !a.mtime.Equal(b.mtime):
			return a.mtime.Before(b.mtime)
		}
		return a.name < b.name
	})
	return sibs
}

// beingMade says whether the compressed file z may be a copy of the
// plain file named as it is without its extension, being made: nothing
// of it can be read yet, or it starts as the plain file does. A plain
// file that cannot be read, or is empty, makes nothing.
func beingMade(z, plain string) bool {
	pf, err := os.Open(plain)
	if err != nil {
		return false
	}
	defer pf.Close()
	var pb [FPLen]byte
	n, _ := pf.ReadAt(pb[:], 0)
	if n == 0 {
		return false
	}
	zf, err := os.Open(z)
	if err != nil {
		return true // gone: it does not matter
	}
	defer zf.Close()
	zb, _ := head(zf, FPLen)
	k := min(len(zb), n)
	return k == 0 || bytes.Equal(zb[:k], pb[:k])
}

// openSiblings returns the siblings of the log at path (as siblings
// does), each opened (p), or with the error that prevented it (err). The
// files opened are those listed: when one was renamed or deleted in
// between (a rotation under way), they are listed and opened again, a
// few times.
func openSiblings(path string, cur *Piece) []sibling {
	for try := 1; ; try++ {
		sibs := siblings(path, cur)
		again := false
		for i := range sibs {
			s := &sibs[i]
			s.p, s.err = openPiece(s.name)
			if s.err == nil && s.hasID && !(s.p.hasID && s.p.Dev == s.dev && s.p.Ino == s.ino) {
				// Another file took the name since it was listed.
				s.p.File.Close()
				s.p, s.err = nil, fmt.Errorf("%s: %w (renamed while it was opened)", s.name, fs.ErrNotExist)
			}
			if s.err != nil && errors.Is(s.err, fs.ErrNotExist) && try < 10 {
				again = true
				break
			}
		}
		if !again {
			return sibs
		}
		for _, s := range sibs {
			if s.p != nil {
				s.p.File.Close()
			}
		}
		time.Sleep(time.Duration(try) * time.Millisecond) // the rotation's next step
	}
}

// Identity returns a file's device and inode, where the system has them.
func Identity(fi os.FileInfo) (dev, ino uint64, ok bool) { return identity(fi) }

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// plural is n and the word for it: "1 file", "2 files".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
