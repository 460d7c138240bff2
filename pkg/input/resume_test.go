package input

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestRotatedName(t *testing.T) {
	tests := []struct {
		name     string
		ok       bool
		numbered bool
		num      int
		date     string
	}{
		{"mail.log.1", true, true, 1, ""},
		{"mail.log.12.gz", true, true, 12, ""},
		{"mail.log.3.bz2", true, true, 3, ""},
		{"mail.log.3.xz", true, true, 3, ""},
		{"mail.log.3.zst", true, true, 3, ""},
		{"mail.log-20261127", true, false, 0, "20261127"},
		{"mail.log-20261127.gz", true, false, 0, "20261127"},
		{"mail.log-2026-11-27.gz", true, false, 0, "2026-11-27"},
		{"mail.log-20261127-1795873741.gz", true, false, 0, "20261127-1795873741"},
		{"mail.log.20261127", true, false, 0, "20261127"}, // dateformat .%Y%m%d
		{"mail.log", false, false, 0, ""},
		{"mail.log.gz", false, false, 0, ""},
		{"mail.log.bak", false, false, 0, ""},
		{"mail.log.1~", false, false, 0, ""},
		{"mail.log.1.lz4", false, false, 0, ""}, // not a format read
		{"mail.log-old", false, false, 0, ""},
		{"mail.logger.1", false, false, 0, ""},
		{"mail.log.", false, false, 0, ""},
		{"other.log.1", false, false, 0, ""},
	}
	for _, tt := range tests {
		s, ok := rotatedName("mail.log", tt.name)
		if ok != tt.ok || ok && (s.numbered != tt.numbered || s.num != tt.num || s.date != tt.date) {
			t.Errorf("rotatedName(%q) = %+v, %v; want ok %v numbered %v %d %q", tt.name, s, ok, tt.ok, tt.numbered, tt.num, tt.date)
		}
	}
}

// Siblings come oldest first by their names, whatever their modification
// times (logrotate may date a file by its compression); by time when the
// two kinds of names are mixed.
func TestSiblingsOrder(t *testing.T) {
	base := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		files []string // with mtimes base+0h, +1h, ... in this order
		want  []string
	}{
		{"numbered, compressed later", []string{"l.1", "l.2.gz", "l.3.gz", "x", "l"}, []string{"l.3.gz", "l.2.gz", "l.1"}},
		{"numbered beyond 9", []string{"l.2", "l.10", "l.9"}, []string{"l.10", "l.9", "l.2"}},
		{"dated", []string{"l-20261128.gz", "l-20261127.gz", "l-20261129"}, []string{"l-20261127.gz", "l-20261128.gz", "l-20261129"}},
		{"mixed: by time", []string{"l-20261127.gz", "l.2.gz", "l.1"}, []string{"l-20261127.gz", "l.2.gz", "l.1"}},
		// A copy being made (compress): the plain file holds it all.
		{"numbered, compression under way", []string{"l.2.gz", "l.1", "l.1.gz"}, []string{"l.2.gz", "l.1"}},
		{"dated, compression under way", []string{"l-20261127", "l-20261127.xz", "l-20261128"}, []string{"l-20261127", "l-20261128"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for i, f := range tt.files {
				p := filepath.Join(dir, f)
				if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
					t.Fatal(err)
				}
				mt := base.Add(time.Duration(i) * time.Hour)
				if err := os.Chtimes(p, mt, mt); err != nil {
					t.Fatal(err)
				}
			}
			os.Mkdir(filepath.Join(dir, "l.4"), 0o755) // not a regular file
			cur, err := openPiece(filepath.Join(dir, "l"))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if cur != nil {
				defer cur.File.Close()
				os.Link(filepath.Join(dir, "l"), filepath.Join(dir, "l.7")) // the log itself, under another name
			}
			var got []string
			for _, s := range siblings(filepath.Join(dir, "l"), cur) {
				got = append(got, filepath.Base(s.name))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("siblings %q, want %q", got, tt.want)
			}
		})
	}
}

func fp(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// A Mark takes the fingerprint of the first FPLen bytes, all of a shorter
// file's, uncompressed; Plan reads a file it recognises from the offset.
func TestMarkAndPlanSameFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	long := []byte(strings.Repeat("Nov 27 10:32:16 mail postfix/smtpd[1]: a line of the log\n", 40))
	for _, tt := range []struct {
		name    string
		content []byte
		fpLen   int64
	}{
		{"empty", nil, 0},
		{"shorter than FPLen", long[:100], 100},
		{"longer than FPLen", long, FPLen},
		{"gzip", compress(t, long, Gzip), FPLen},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, tt.content, 0o644); err != nil {
				t.Fatal(err)
			}
			ps, err := Plan(path, nil, func(w string) { t.Errorf("warning %q", w) })
			if err != nil || len(ps) != 1 || ps[0].Offset != 0 || !ps[0].AtPath || ps[0].Name != path {
				t.Fatalf("first plan: %+v, %v", ps, err)
			}
			off := min(7, int64(len(tt.content)))
			m := ps[0].Mark(off)
			ClosePieces(ps)
			if m.FPLen != tt.fpLen || m.FP != fp(long[:tt.fpLen]) || m.Offset != off || m.Size != int64(len(tt.content)) || m.Ino == 0 {
				t.Errorf("mark %+v, want the fingerprint of %d bytes", m, tt.fpLen)
			}
			if f, n, err := Fingerprint(path); err != nil || f != m.FP || n != m.FPLen {
				t.Errorf("Fingerprint: %s %d %v", f, n, err)
			}
			ps, err = Plan(path, &m, func(w string) { t.Errorf("warning %q", w) })
			if err != nil || len(ps) != 1 || ps[0].Offset != off {
				t.Errorf("second plan: %+v, %v", ps, err)
			}
			ClosePieces(ps)
		})
	}
}

// Whatever the mark says, Plan never panics, and reads the log at the path
// (from the start when the mark does not fit it).
func TestPlanBadMarks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	content := []byte(strings.Repeat("a line\n", 300))
	os.WriteFile(path, content, 0o644)
	os.WriteFile(path+".1", []byte("x\n"), 0o644)
	good := Mark{FP: fp(content[:FPLen]), FPLen: FPLen}
	if ps, err := Plan(path, nil, nil); err == nil {
		good.Dev, good.Ino = ps[0].Dev, ps[0].Ino
		ClosePieces(ps)
	}
	for _, tt := range []struct {
		name   string
		m      Mark
		offset int64 // of the file at the path
		warn   bool
	}{
		{"good", good, 0, false},
		{"negative FPLen", Mark{Dev: good.Dev, Ino: good.Ino, FP: good.FP, FPLen: -5, Offset: 3}, 0, true},
		{"huge FPLen", Mark{Dev: good.Dev, Ino: good.Ino, FP: good.FP, FPLen: 1 << 40, Offset: 3}, 0, true},
		{"FPLen past the end", Mark{Dev: good.Dev, Ino: good.Ino, FP: good.FP, FPLen: int64(len(content)) + 1, Offset: 3}, 0, true},
		{"not hex", Mark{Dev: good.Dev, Ino: good.Ino, FP: "zz", FPLen: FPLen, Offset: 3}, 0, true},
		{"offset past the end", Mark{Dev: good.Dev, Ino: good.Ino, FP: good.FP, FPLen: FPLen, Offset: 1 << 50}, 0, true},
		{"negative offset", Mark{Dev: good.Dev, Ino: good.Ino, FP: good.FP, FPLen: FPLen, Offset: -1}, 0, false},
		{"another identity, same content", Mark{Dev: good.Dev + 1, Ino: good.Ino, FP: good.FP, FPLen: FPLen, Offset: 70}, 70, false},
		{"zero mark", Mark{}, 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var warnings []string
			ps, err := Plan(path, &tt.m, func(w string) { warnings = append(warnings, w) })
			if err != nil {
				t.Fatal(err)
			}
			defer ClosePieces(ps)
			if len(ps) != 1 || ps[0].Name != path || ps[0].Offset != tt.offset {
				t.Errorf("plan %+v, want %s from %d", ps, path, tt.offset)
			}
			if (len(warnings) > 0) != tt.warn {
				t.Errorf("warnings %q, want some: %v", warnings, tt.warn)
			}
		})
	}
}

// Plan refuses what is not a regular file, and a missing log never read.
func TestPlanErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Plan(dir, nil, nil); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v", err)
	}
	missing := filepath.Join(dir, "missing")
	for _, m := range []*Mark{nil, {FPLen: 3, FP: fp([]byte("abc"))}} {
		if ps, err := Plan(missing, m, nil); !os.IsNotExist(err) || ps != nil {
			t.Errorf("missing, mark %v: %v, %v", m, ps, err)
		}
	}
}

// Resumed while logrotate compresses the file read last time (mail.log.1
// into mail.log.1.gz: delaycompress), Plan reads it once, from where it
// was left: from the plain file while it is there (the copy half made,
// or whole and dated as the plain file, before logrotate unlinks the
// plain file), then from the copy.
func TestPlanCompressionUnderWay(t *testing.T) {
	var old, live strings.Builder
	for i := range 100 {
		fmt.Fprintf(&old, "Nov 27 10:%02d:%02d mail postfix/smtpd[%d]: old line %d\n", i/60, i%60, 100+i, i)
		fmt.Fprintf(&live, "Nov 28 10:%02d:%02d mail postfix/smtpd[%d]: new line %d\n", i/60, i%60, 200+i, i)
	}
	gz := compress(t, []byte(old.String()), Gzip)
	for _, tt := range []struct {
		name  string
		gz    []byte // written to mail.log.1.gz (nil: none)
		plain bool   // mail.log.1 still there
		want  []string
	}{
		{"not started", nil, true, []string{"mail.log.1", "mail.log"}},
		{"half made", gz[:len(gz)/2], true, []string{"mail.log.1", "mail.log"}},
		{"whole", gz, true, []string{"mail.log.1", "mail.log"}},
		{"plain file unlinked", gz, false, []string{"mail.log.1.gz", "mail.log"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "mail.log")
			must(t, os.WriteFile(path+".1", []byte(old.String()), 0o644))
			p, err := openPiece(path + ".1")
			must(t, err)
			m := p.Mark(500)
			p.File.Close()
			plainTime := time.Now().Add(-time.Hour)
			must(t, os.Chtimes(path+".1", plainTime, plainTime))
			if tt.gz != nil {
				must(t, os.WriteFile(path+".1.gz", tt.gz, 0o600))
				if len(tt.gz) == len(gz) {
					must(t, os.Chtimes(path+".1.gz", plainTime, plainTime)) // as logrotate does
				}
			}
			if !tt.plain {
				must(t, os.Remove(path+".1"))
			}
			must(t, os.WriteFile(path, []byte(live.String()), 0o644))
			ps, err := Plan(path, &m, func(w string) { t.Errorf("warning %q", w) })
			must(t, err)
			defer ClosePieces(ps)
			var got []string
			for _, p := range ps {
				got = append(got, filepath.Base(p.Name))
			}
			if !slices.Equal(got, tt.want) || ps[0].Offset != 500 || ps[1].Offset != 0 {
				t.Errorf("plan %q from %d, %d; want %q from 500, 0", got, ps[0].Offset, ps[len(ps)-1].Offset, tt.want)
			}
		})
	}
}

// A log found empty when its mark was saved (nothing to know it by) and
// copytruncated since: the copies made after the mark hold lines never
// read, and are read first, oldest first; rotated files older than the
// mark (renamed, or compressed with their times kept, as logrotate does)
// are not read again, nor is a copy of what the log holds now (copied,
// not truncated yet).
func TestPlanEmptyMarkCopytruncate(t *testing.T) {
	lines := func(from, n int) []byte {
		var b strings.Builder
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&b, "%08d line\n", i)
		}
		return []byte(b.String())
	}
	old := time.Now().Add(-time.Hour)
	for _, c := range []struct {
		name string
		// after the mark: the log holds lines 100-119 when it is copied
		// (copies: how many times), truncated unless copiedOnly, then
		// lines 200-209
		copies     int
		copiedOnly bool
		compress   bool // the old .1 compressed to .2.gz (delaycompress)
		noSaved    bool // a mark without its time
		want       []string
	}{
		{"no rotation", 0, false, false, false, []string{"mail.log"}},
		{"copytruncate", 1, false, false, false, []string{"mail.log.1", "mail.log"}},
		{"copytruncate, the old copy compressed", 1, false, true, false, []string{"mail.log.1", "mail.log"}},
		{"copytruncate twice", 2, false, false, false, []string{"mail.log.2", "mail.log.1", "mail.log"}},
		{"copied, not truncated yet", 1, true, false, false, []string{"mail.log"}},
		{"a mark without its time: the copy is not looked for", 1, false, false, true, []string{"mail.log"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "mail.log")
			// read before: the old copy, and the log found empty
			must(t, os.WriteFile(path+".1", lines(0, 50), 0o644))
			must(t, os.Chtimes(path+".1", old, old))
			must(t, os.WriteFile(path, nil, 0o644))
			fi, err := os.Stat(path)
			must(t, err)
			dev, ino, _ := Identity(fi)
			sum := sha256.Sum256(nil)
			m := &Mark{Dev: dev, Ino: ino, FP: hex.EncodeToString(sum[:]), Saved: time.Now().Add(-time.Second)}
			if c.noSaved {
				m.Saved = time.Time{}
			}
			if c.compress {
				copyFile(t, path+".1", path+".2") // stands for mail.log.2.gz: content and times kept
				must(t, os.Chtimes(path+".2", old, old))
				must(t, os.Remove(path+".1"))
			}
			next := 100
			for k := range c.copies {
				f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
				must(t, err)
				_, err = f.Write(lines(next, 20))
				must(t, err)
				must(t, f.Close())
				next += 20
				shift(t, path)
				copyFile(t, path, path+".1")
				if c.copiedOnly && k == c.copies-1 {
					break
				}
				must(t, os.Truncate(path, 0))
			}
			if !c.copiedOnly {
				f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
				must(t, err)
				_, err = f.Write(lines(200, 10))
				must(t, err)
				must(t, f.Close())
			}
			pieces, err := Plan(path, m, func(w string) { t.Errorf("warning: %s", w) })
			must(t, err)
			defer ClosePieces(pieces)
			var got []string
			for _, p := range pieces {
				got = append(got, filepath.Base(p.Name))
				if p.Offset != 0 {
					t.Errorf("%s from %d, want its start", p.Name, p.Offset)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("pieces %q, want %q", got, c.want)
			}
		})
	}
}

// The log read to its end, then copytruncated, written, and copied again
// (the second copytruncate half made: not truncated yet) when the next run
// plans: the rest of the first copy, then the log. The second copy holds
// what the log holds now: read from the log, once (it was read from both,
// the lines between the two copies twice).
func TestPlanCopiedNotTruncatedYet(t *testing.T) {
	lines := func(from, n int) []byte {
		var b strings.Builder
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&b, "%08d line\n", i)
		}
		return []byte(b.String())
	}
	for _, n := range []int{50, 200} { // shorter than FPLen, and longer
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "mail.log")
			must(t, os.WriteFile(path, lines(0, n), 0o644))
			m := markThenCopytruncate(t, path)
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			must(t, err)
			_, err = f.Write(lines(1000, 20))
			must(t, err)
			must(t, f.Close())
			shift(t, path)
			copyFile(t, path, path+".1") // not truncated yet
			pieces, err := Plan(path, &m, func(w string) { t.Errorf("warning: %s", w) })
			must(t, err)
			defer ClosePieces(pieces)
			var got []string
			for _, p := range pieces {
				got = append(got, fmt.Sprintf("%s@%d", filepath.Base(p.Name), p.Offset))
			}
			want := []string{fmt.Sprintf("mail.log.2@%d", m.Offset), "mail.log@0"}
			if !slices.Equal(got, want) {
				t.Errorf("pieces %q, want %q", got, want)
			}
		})
	}
}

// A log found empty, then rotated twice before the next run (create,
// compress): the empty file's inode, deleted once compressed, is given
// again to a newer file, the next mail.log, its compressed copy, or (with
// delaycompress) a plain mail.log.1. That file is no sign of where the
// reading stopped: every file written since the mark is read, oldest
// first. (A CI run of TestResumeRealLogrotate lost the line of
// mail.log.2.gz when ext4 gave the number to mail.log.1.gz.)
func TestPlanEmptyMarkInodeReused(t *testing.T) {
	old := time.Now().Add(-time.Hour)
	for _, c := range []struct {
		name   string
		plain1 bool   // mail.log.1 left plain (delaycompress)
		reuse  string // the file given the empty log's inode number
		saved  bool   // the mark says when the log was read
		want   []string
		warned bool
	}{
		{"by mail.log.1.gz", false, "mail.log.1.gz", true, []string{"mail.log.2.gz", "mail.log.1.gz", "mail.log"}, false},
		{"by mail.log.1", true, "mail.log.1", true, []string{"mail.log.2.gz", "mail.log.1", "mail.log"}, false},
		{"by mail.log", false, "mail.log", true, []string{"mail.log.2.gz", "mail.log.1.gz", "mail.log"}, false},
		// A mark from before marks had their time: a compressed file is
		// never the empty log, and nothing tells which files are new.
		{"by mail.log.1.gz, a mark without its time", false, "mail.log.1.gz", false, []string{"mail.log"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "mail.log")
			// read before the mark: mail.log.3.gz, and the log found empty
			must(t, os.WriteFile(path+".3.gz", compress(t, []byte("Nov 27 10:00:00 mail postfix/smtpd[1]: read\n"), Gzip), 0o644))
			must(t, os.Chtimes(path+".3.gz", old, old))
			saved := time.Now().Add(-time.Second)
			// written since: two rotations
			must(t, os.WriteFile(path+".2.gz", compress(t, []byte("Nov 28 10:00:00 mail postfix/smtpd[2]: u32\n"), Gzip), 0o644))
			second := []byte("Nov 28 10:00:01 mail postfix/smtpd[3]: u33\nNov 28 10:00:02 mail postfix/smtpd[3]: u34\n")
			if c.plain1 {
				must(t, os.WriteFile(path+".1", second, 0o644))
			} else {
				must(t, os.WriteFile(path+".1.gz", compress(t, second, Gzip), 0o644))
			}
			must(t, os.WriteFile(path, nil, 0o644))
			fi, err := os.Stat(filepath.Join(dir, c.reuse))
			must(t, err)
			dev, ino, ok := Identity(fi)
			if !ok {
				t.Skip("no inode numbers here")
			}
			sum := sha256.Sum256(nil)
			m := &Mark{Dev: dev, Ino: ino, FP: hex.EncodeToString(sum[:])}
			if c.saved {
				m.Saved = saved
			}
			var warned []string
			pieces, err := Plan(path, m, func(w string) { warned = append(warned, w) })
			must(t, err)
			defer ClosePieces(pieces)
			var got []string
			for _, p := range pieces {
				got = append(got, filepath.Base(p.Name))
				if p.Offset != 0 {
					t.Errorf("%s from %d, want its start", p.Name, p.Offset)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("pieces %q, want %q", got, c.want)
			}
			if (len(warned) > 0) != c.warned {
				t.Errorf("warnings %q, want some: %v", warned, c.warned)
			}
		})
	}
}
