package parse

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/record"
	"github.com/ulikunitz/xz"
)

// logSim writes a mail log in parts, rotates it as logrotate would, and
// reads it with Options.Resume between the parts, keeping the marks as a
// caller would save them. Each login line names a user of its own
// (u<N>@example.test), so that seen counts how often each was read.
type logSim struct {
	t        *testing.T
	dir      string
	path     string
	written  int            // login lines written: u0 .. u<written-1>
	seen     map[string]int // user -> times read
	marks    map[string]*input.Mark
	warnings []string
	runs     int
	last     *Source
	lastRecs []*record.Record
	// beforeSave, when set, is done between a run's reading and the
	// saving of its mark (the state's commit, after the report).
	beforeSave func()
	// rotated: Options.Rotated (a first run reads the rotated files too)
	rotated bool
}

func newLogSim(t *testing.T) *logSim {
	dir := t.TempDir()
	return &logSim{t: t, dir: dir, path: filepath.Join(dir, "mail.log"), seen: map[string]int{}, marks: map[string]*input.Mark{}}
}

// lines returns k login lines, each between two lines that are no events,
// the next users in turn.
func (l *logSim) lines(k int) string {
	var b strings.Builder
	for i := 0; i < k; i++ {
		n := l.written
		l.written++
		ts := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second).Format(time.Stamp)
		fmt.Fprintf(&b, "%s mail postfix/submission/smtpd[%d]: connect from localhost[127.0.0.1]\n", ts, 1000+n)
		fmt.Fprintf(&b, "%s mail postfix/submission/smtpd[%d]: %08X: client=host%d.example.net[192.0.2.%d], sasl_method=PLAIN, sasl_username=u%d@example.test\n", ts, 1000+n, n, n, n%250+1, n)
		fmt.Fprintf(&b, "%s mail postfix/submission/smtpd[%d]: disconnect from localhost[127.0.0.1] ehlo=1 auth=1 quit=1 commands=3\n", ts, 1000+n)
	}
	return b.String()
}

// write appends k login lines to the log (creating it).
func (l *logSim) write(k int) { l.appendText(l.lines(k)) }

func (l *logSim) appendText(s string) {
	l.t.Helper()
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		l.t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		l.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		l.t.Fatal(err)
	}
}

// run reads the log from its mark and saves the new mark. ndjson reads
// with RunNDJSON (the users are then taken from the NDJSON).
func (l *logSim) run(ndjson bool) *Source {
	l.t.Helper()
	l.runs++
	// Runs are minutes apart from what came before them, not
	// microseconds as here: the mark says the log was read a little
	// earlier than it was (readSlack), for the files' coarse clock.
	time.Sleep(readSlack + 10*time.Millisecond)
	src := &Source{Names: []string{l.path}, Opts: Options{
		Loc: time.UTC, Year: 2026, Resume: l.marks, Rotated: l.rotated, Workers: 2,
		Warn:    func(w string) { l.warnings = append(l.warnings, w) },
		OnError: func(err error) { l.t.Errorf("run %d: %v", l.runs, err) },
	}}
	l.lastRecs = nil
	if ndjson {
		var out bytes.Buffer
		if err := src.RunNDJSON(func(b []byte) error { out.Write(b); return nil }); err != nil {
			l.t.Fatalf("run %d: %v", l.runs, err)
		}
		for _, m := range userRE.FindAllStringSubmatch(out.String(), -1) {
			l.seen[m[1]]++
		}
	} else {
		err := src.Run(func(r *record.Record) error {
			l.seen[r.User]++
			l.lastRecs = append(l.lastRecs, r)
			return nil
		})
		if err != nil {
			l.t.Fatalf("run %d: %v", l.runs, err)
		}
	}
	marks := src.Marks()
	m, ok := marks[l.path]
	if !ok {
		l.t.Fatalf("run %d: no mark for %s: %v", l.runs, l.path, marks)
	}
	if l.beforeSave != nil {
		time.Sleep(20 * time.Millisecond)
		l.beforeSave()
		l.beforeSave = nil
	}
	if m.Saved.IsZero() {
		l.t.Fatalf("run %d: the mark does not say when the log was read", l.runs)
	}
	l.marks = map[string]*input.Mark{l.path: &m}
	l.last = src
	return src
}

var userRE = regexp.MustCompile(`"user":"([^"]+)"`)

// check asserts that every login written was read exactly once.
func (l *logSim) check() {
	l.t.Helper()
	for i := 0; i < l.written; i++ {
		u := fmt.Sprintf("u%d@example.test", i)
		if n := l.seen[u]; n != 1 {
			l.t.Errorf("%s read %d times", u, n)
		}
	}
	if len(l.seen) != l.written {
		l.t.Errorf("%d users read, %d written", len(l.seen), l.written)
	}
}

// A compressor writes src compressed to dst, and removes src.
type compressor struct {
	name string
	ext  string
	bin  string // the program, when it is one: skipped when absent
	lib  func(io.Writer) (io.WriteCloser, error)
}

var compressors = []compressor{
	{name: "compress/gzip", ext: ".gz", lib: func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriter(w), nil }},
	{name: "gzip binary", ext: ".gz", bin: "gzip"},
	{name: "xz", ext: ".xz", lib: func(w io.Writer) (io.WriteCloser, error) { return xz.NewWriter(w) }},
	{name: "zstd", ext: ".zst", lib: func(w io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(w) }},
	{name: "bzip2 binary", ext: ".bz2", bin: "bzip2"},
}

func (c compressor) available() bool {
	if c.bin == "" {
		return true
	}
	_, err := exec.LookPath(c.bin)
	return err == nil
}

func (c compressor) compress(t *testing.T, src, dst string) {
	t.Helper()
	if c.bin != "" {
		out, err := os.Create(dst)
		if err != nil {
			t.Fatal(err)
		}
		in, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(c.bin, "-c")
		var stderr bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v %s", c.bin, err, stderr.Bytes())
		}
		in.Close()
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	} else {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		w, err := c.lib(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// as logrotate does: the compressed file gets the times of the file
	// it was made from
	fi, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(dst, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
}

// rotation is what logrotate does to the log, as configured.
type rotation struct {
	copytruncate bool
	comp         *compressor // nil: no compress
	delay        bool        // delaycompress
	date         string      // dateext: the date, else numbered
}

// rotate rotates the log as logrotate would.
func (l *logSim) rotate(r rotation) {
	t := l.t
	t.Helper()
	ext := ""
	if r.comp != nil {
		ext = r.comp.ext
	}
	var dst string
	if r.date != "" {
		dst = l.path + "-" + r.date
	} else {
		// shift path.N[ext] to path.N+1[ext], the oldest first
		for i := 9; i >= 1; i-- {
			for _, e := range []string{"", ext} {
				old := fmt.Sprintf("%s.%d%s", l.path, i, e)
				if _, err := os.Stat(old); err == nil {
					if err := os.Rename(old, fmt.Sprintf("%s.%d%s", l.path, i+1, e)); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if r.comp != nil && r.delay {
			if p := l.path + ".2"; exists(p) {
				r.comp.compress(t, p, p+ext)
			}
		}
		dst = l.path + ".1"
	}
	if r.copytruncate {
		data, err := os.ReadFile(l.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(l.path, 0); err != nil {
			t.Fatal(err)
		}
	} else {
		if err := os.Rename(l.path, dst); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(l.path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if r.comp != nil && (!r.delay || r.date != "") {
		r.comp.compress(t, dst, dst+ext)
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// Each of logrotate's ways, and runs between them: every login is read
// exactly once over the runs, and what each run read is what was new.
func TestResumeRotations(t *testing.T) {
	gz := &compressors[0]
	W := func(k int) step { return step{write: k, run: -1} }
	R := func(want int) step { return step{run: want} }
	Rot := func(r rotation) step { return step{rotate: &r, run: -1} }
	tests := []struct {
		name  string
		steps []step
	}{
		{"append only", []step{W(5), R(5), W(3), R(3), R(0), W(1), R(1)}},
		{"first run of an empty log", []step{W(-1), R(0), W(4), R(4)}},
		{"rename and create", []step{W(5), R(5), W(3), Rot(rotation{}), W(4), R(7), W(2), R(2)}},
		{"rename and create, nothing new in the old file", []step{W(5), R(5), Rot(rotation{}), W(4), R(4)}},
		{"rename and create, nothing yet in the new file", []step{W(5), R(5), W(2), Rot(rotation{}), R(2), W(3), R(3)}},
		{"copytruncate", []step{W(5), R(5), W(3), Rot(rotation{copytruncate: true}), W(4), R(7), W(2), R(2)}},
		{"copytruncate, the new content longer than the old", []step{W(2), R(2), W(1), Rot(rotation{copytruncate: true}), W(9), R(10)}},
		{"copytruncate, nothing written since", []step{W(5), R(5), W(3), Rot(rotation{copytruncate: true}), R(3), W(1), R(1)}},
		{"compress at once", []step{W(5), R(5), W(3), Rot(rotation{comp: gz}), W(4), R(7)}},
		{"delaycompress across three runs", []step{
			W(5), R(5), W(3), Rot(rotation{comp: gz, delay: true}), W(4), R(7),
			W(2), Rot(rotation{comp: gz, delay: true}), W(6), R(8),
			W(1), Rot(rotation{comp: gz, delay: true}), W(3), R(4)}},
		{"two rotations between runs", []step{
			W(5), R(5), W(3), Rot(rotation{}), W(4), Rot(rotation{}), W(2), R(9), W(1), R(1)}},
		{"two rotations between runs, compressed", []step{
			W(5), R(5), W(3), Rot(rotation{comp: gz}), W(4), Rot(rotation{comp: gz}), W(2), R(9)}},
		{"two rotations between runs, delaycompress", []step{
			W(5), R(5), W(3), Rot(rotation{comp: gz, delay: true}), W(4), Rot(rotation{comp: gz, delay: true}), W(2), R(9)}},
		{"three rotations between runs, copytruncate", []step{
			W(5), R(5), W(3), Rot(rotation{copytruncate: true}), W(4), Rot(rotation{copytruncate: true}), W(2),
			Rot(rotation{copytruncate: true, comp: gz}), W(1), R(10)}},
		{"dateext", []step{W(5), R(5), W(3), Rot(rotation{date: "20261127"}), W(4), R(7), W(1), Rot(rotation{date: "20261128"}), R(1)}},
		{"dateext, compressed, two rotations between runs", []step{
			W(5), R(5), W(3), Rot(rotation{date: "20261127", comp: gz}), W(4), Rot(rotation{date: "20261128", comp: gz}), W(2), R(9)}},
	}
	for _, small := range []bool{false, true} {
		if small {
			// Chunks of 100 bytes: reading from an offset in the middle
			// of a file cut in many chunks.
			oldMax, oldChunk := maxLine, chunkSize
			maxLine, chunkSize = 4096, 100
			defer func() { maxLine, chunkSize = oldMax, oldChunk }()
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/small chunks=%v", tt.name, small), func(t *testing.T) {
				testResumeSteps(t, tt.steps)
			})
		}
	}
}

type step struct {
	write  int
	rotate *rotation
	run    int // -1: no run; else the logins the run must read
}

func testResumeSteps(t *testing.T, steps []step) {
	l := newLogSim(t)
	for i, st := range steps {
		switch {
		case st.write < 0:
			l.appendText("")
		case st.write > 0:
			l.write(st.write)
		case st.rotate != nil:
			l.rotate(*st.rotate)
		default:
			before := len(l.seen)
			src := l.run(i%2 == 1)
			if got := int64(len(l.seen) - before); got != int64(st.run) || src.Stats.Logins != got {
				t.Errorf("step %d: %d new logins read (%d in stats), want %d", i, got, src.Stats.Logins, st.run)
			}
		}
	}
	if len(l.warnings) > 0 {
		t.Errorf("warnings: %q", l.warnings)
	}
	l.check()
}

// A rotated log compressed by each compressor, logrotate's and the
// libraries', is found by the fingerprint of its content.
func TestResumeCompressedSibling(t *testing.T) {
	for _, c := range compressors {
		t.Run(c.name, func(t *testing.T) {
			if !c.available() {
				if os.Getenv("CI") != "" && c.bin == "gzip" {
					t.Fatalf("%s is not installed", c.bin)
				}
				t.Skipf("%s is not installed", c.bin)
			}
			l := newLogSim(t)
			l.write(40) // more than FPLen bytes
			l.run(false)
			l.write(3)
			l.rotate(rotation{comp: &c})
			if !exists(l.path + ".1" + c.ext) {
				t.Fatalf("no %s", l.path+".1"+c.ext)
			}
			l.write(4)
			l.run(false)
			if n := l.last.Stats.Logins; n != 7 {
				t.Errorf("second run read %d logins, want 7", n)
			}
			srcs := map[string]bool{}
			for _, r := range l.lastRecs {
				srcs[r.SrcFile] = true
			}
			if !srcs[l.path+".1"+c.ext] || !srcs[l.path] || len(srcs) != 2 {
				t.Errorf("records from %v", srcs)
			}
			l.check()
		})
	}
}

// The rest of the old file gone (deleted, or rotated elsewhere): a
// warning, and the new file read from its start; nothing read twice.
func TestResumeOldFileMissing(t *testing.T) {
	for _, how := range []string{"deleted", "copytruncate, copy deleted", "renamed away"} {
		t.Run(how, func(t *testing.T) {
			l := newLogSim(t)
			l.write(5)
			l.run(false)
			l.write(3) // lost
			switch how {
			case "deleted":
				if err := os.Remove(l.path); err != nil {
					t.Fatal(err)
				}
			case "copytruncate, copy deleted":
				if err := os.Truncate(l.path, 0); err != nil {
					t.Fatal(err)
				}
			case "renamed away":
				if err := os.Rename(l.path, filepath.Join(l.dir, "archive")); err != nil {
					t.Fatal(err)
				}
			}
			l.write(4)
			l.run(false)
			want := []string{l.path + ": the rest of the rotated log was not found among its siblings; reading " + l.path + " from the start"}
			if !slices.Equal(l.warnings, want) {
				t.Errorf("warnings %q, want %q", l.warnings, want)
			}
			for i := 0; i < l.written; i++ {
				u := fmt.Sprintf("u%d@example.test", i)
				want := 1
				if i >= 5 && i < 8 {
					want = 0
				}
				if l.seen[u] != want {
					t.Errorf("%s read %d times, want %d", u, l.seen[u], want)
				}
			}
		})
	}
}

// A last line without its newline is left for the next run, and read once,
// whole, when it is done; so across a rotation.
func TestResumePartialLine(t *testing.T) {
	for _, c := range []struct {
		name   string
		rotate *rotation
	}{
		{"no rotation", nil},
		{"rename and create", &rotation{}},
		{"copytruncate", &rotation{copytruncate: true}},
		{"compress", &rotation{comp: &compressors[0]}},
	} {
		rotate := c.rotate
		t.Run(c.name, func(t *testing.T) {
			l := newLogSim(t)
			l.write(2)
			last := l.lines(1)
			cut := strings.Index(last, "sasl_username=") + 16 // in the login line
			l.appendText(last[:cut])
			src := l.run(false)
			if src.Stats.Logins != 2 || src.Stats.Lines != 7 {
				t.Errorf("first run: %+v, want 2 logins in 7 lines", src.Stats)
			}
			if st, _ := os.Stat(l.path); l.marks[l.path].Offset >= st.Size() || l.marks[l.path].Size != st.Size() {
				t.Errorf("mark %+v: offset past the whole lines of %d bytes", *l.marks[l.path], st.Size())
			}
			src = l.run(true) // still incomplete: nothing
			if src.Stats.Lines != 0 {
				t.Errorf("second run read %d lines", src.Stats.Lines)
			}
			l.appendText(last[cut:])
			if rotate != nil {
				l.rotate(*rotate)
			}
			l.write(1)
			src = l.run(false)
			if src.Stats.Logins != 2 || src.Stats.Lines != 5 {
				t.Errorf("third run: %+v, want 2 logins in 5 lines", src.Stats)
			}
			l.check()
		})
	}
}

// With the log at its path gone (rotated, not yet created again), the rest
// of the old one is still read, and the next run goes on from there.
func TestResumeNoFileAtPath(t *testing.T) {
	l := newLogSim(t)
	l.write(5)
	l.run(false)
	l.write(3)
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		t.Fatal(err)
	}
	l.run(false)
	if l.last.Stats.Logins != 3 {
		t.Errorf("read %d logins from the rotated file, want 3", l.last.Stats.Logins)
	}
	l.run(false)
	if l.last.Stats.Logins != 0 {
		t.Errorf("read %d logins again", l.last.Stats.Logins)
	}
	l.write(2)
	l.run(false)
	l.check()
	if len(l.warnings) > 0 {
		t.Errorf("warnings: %q", l.warnings)
	}

	// Never read, and not there: the error of a missing file, no mark.
	src := &Source{Names: []string{filepath.Join(l.dir, "none")}, Opts: Options{Resume: map[string]*input.Mark{}}}
	var errs []error
	src.Opts.OnError = func(err error) { errs = append(errs, err) }
	err := src.Run(func(*record.Record) error { return nil })
	if err == nil || len(errs) != 1 || !os.IsNotExist(errs[0]) || len(src.Marks()) != 0 {
		t.Errorf("missing log: %v, %v, marks %v", err, errs, src.Marks())
	}
}

// Without Resume, nothing changes: no marks; stdin is read whole in
// resume mode and has no mark.
func TestResumeOff(t *testing.T) {
	l := newLogSim(t)
	l.write(3)
	src := &Source{Names: []string{l.path}, Opts: Options{Loc: time.UTC}}
	if err := src.Run(func(*record.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if src.Stats.Logins != 3 || len(src.Marks()) != 0 {
		t.Errorf("%+v, marks %v", src.Stats, src.Marks())
	}
	src = &Source{Names: []string{"-"}, Opts: Options{Loc: time.UTC, Stdin: strings.NewReader(l.lines(2)), Resume: map[string]*input.Mark{}}}
	if err := src.Run(func(*record.Record) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if src.Stats.Logins != 2 || len(src.Marks()) != 0 {
		t.Errorf("stdin: %+v, marks %v", src.Stats, src.Marks())
	}
}

// An unchanged log costs next to nothing: no byte of it is parsed, only
// its fingerprint and its last bytes are read.
func TestResumeUnchangedReadsNothing(t *testing.T) {
	l := newLogSim(t)
	l.write(20000) // about 4 MB
	l.run(false)
	var debug []string
	src := &Source{Names: []string{l.path}, Opts: Options{Loc: time.UTC, Resume: l.marks,
		Debug: func(s string) { debug = append(debug, s) }}}
	if err := src.Run(func(*record.Record) error { t.Error("a record"); return nil }); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(l.path)
	want := fmt.Sprintf("%s: plain from byte %d to %d, 0 lines", l.path, st.Size(), st.Size())
	if len(debug) != 1 || !strings.HasPrefix(debug[0], want) {
		t.Errorf("debug %q, want one starting %q", debug, want)
	}
	was, now := *l.marks[l.path], src.Marks()[l.path]
	was.Saved, now.Saved = time.Time{}, time.Time{} // when each run read it
	if src.Stats.Lines != 0 || now != was {
		t.Errorf("%+v; mark %+v, was %+v", src.Stats, src.Marks()[l.path], was)
	}
}

// BenchmarkResumeUnchanged: resuming an unchanged 64 MB log against reading
// an empty one (the target: at most twice the time).
func BenchmarkResumeUnchanged(b *testing.B) {
	dir := b.TempDir()
	big, empty := filepath.Join(dir, "big.log"), filepath.Join(dir, "empty.log")
	l := &logSim{t: &testing.T{}}
	var data strings.Builder
	for data.Len() < 64<<20 {
		data.WriteString(l.lines(1000))
	}
	os.WriteFile(big, []byte(data.String()), 0o644)
	os.WriteFile(empty, nil, 0o644)
	for _, name := range []string{empty, big} {
		src := &Source{Names: []string{name}, Opts: Options{Resume: map[string]*input.Mark{}}}
		src.Run(func(*record.Record) error { return nil })
		m := src.Marks()[name]
		b.Run(filepath.Base(name), func(b *testing.B) {
			for b.Loop() {
				src := &Source{Names: []string{name}, Opts: Options{Resume: map[string]*input.Mark{name: &m}}}
				if err := src.Run(func(*record.Record) error { return nil }); err != nil || src.Stats.Lines != 0 {
					b.Fatal(err, src.Stats)
				}
			}
		})
	}
}

// A rotated file that fails part way (a truncated .gz) is reported, as
// an input_error record too, and the files after it are still read; the
// mark is the log's, and the next run reads nothing twice.
func TestResumeBrokenSibling(t *testing.T) {
	l := newLogSim(t)
	l.write(40)
	l.run(false)
	l.write(30)
	l.rotate(rotation{comp: &compressors[0]})
	gzName := l.path + ".1.gz"
	data, err := os.ReadFile(gzName)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(gzName, data[:len(data)*3/4], 0o644); err != nil {
		t.Fatal(err)
	}
	l.write(4)
	var errs []string
	var inputErrors []*record.Record
	src := &Source{Names: []string{l.path}, Opts: Options{Loc: time.UTC, Resume: l.marks,
		OnError: func(err error) { errs = append(errs, err.Error()) }}}
	err = src.Run(func(r *record.Record) error {
		if r.Type == record.TypeInputError {
			inputErrors = append(inputErrors, r)
			return nil
		}
		l.seen[r.User]++
		return nil
	})
	var ie *InputsError
	if !errors.As(err, &ie) || ie.Failed != 1 || ie.Total != 1 || src.Stats.Failed != 1 {
		t.Errorf("Run: %v, %+v", err, src.Stats)
	}
	if len(errs) != 1 || !strings.HasPrefix(errs[0], gzName+": ") || len(inputErrors) != 1 || inputErrors[0].SrcFile != gzName {
		t.Errorf("errors %q, input_error records %+v", errs, inputErrors)
	}
	for i := 70; i < 74; i++ {
		if u := fmt.Sprintf("u%d@example.test", i); l.seen[u] != 1 {
			t.Errorf("%s, in the new file, read %d times", u, l.seen[u])
		}
	}
	m := src.Marks()[l.path]
	if st, _ := os.Stat(l.path); m.Offset != st.Size() {
		t.Errorf("mark %+v, want the end of %s (%d bytes)", m, l.path, st.Size())
	}
	l.marks = map[string]*input.Mark{l.path: &m}
	l.write(1)
	l.run(false)
	for u, n := range l.seen {
		if n != 1 {
			t.Errorf("%s read %d times", u, n)
		}
	}
	if l.seen["u74@example.test"] != 1 || l.seen["u39@example.test"] != 1 {
		t.Errorf("the last run did not read the new line")
	}
}

// The log itself failing part way (a truncated .gz at its path) is marked
// up to what was emitted: the next run emits nothing of it again.
func TestResumeBrokenLog(t *testing.T) {
	l := newLogSim(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(l.lines(60)))
	zw.Close()
	if err := os.WriteFile(l.path, buf.Bytes()[:buf.Len()*3/4], 0o644); err != nil {
		t.Fatal(err)
	}
	var first int
	for run := 0; run < 2; run++ {
		var errs []error
		src := &Source{Names: []string{l.path}, Opts: Options{Loc: time.UTC, Resume: l.marks,
			OnError: func(err error) { errs = append(errs, err) }}}
		var n int
		src.Run(func(r *record.Record) error {
			if r.Type == record.TypeLogin {
				l.seen[r.User]++
				n++
			}
			return nil
		})
		if len(errs) != 1 || !errors.Is(errs[0], io.ErrUnexpectedEOF) {
			t.Errorf("run %d: errors %v", run, errs)
		}
		m, ok := src.Marks()[l.path]
		if !ok {
			t.Fatalf("run %d: no mark", run)
		}
		l.marks = map[string]*input.Mark{l.path: &m}
		if run == 0 {
			first = n
			if n == 0 || m.Offset == 0 {
				t.Errorf("first run: %d logins, mark %+v", n, m)
			}
		} else if n != 0 {
			t.Errorf("second run read %d logins again", n)
		}
	}
	for u, n := range l.seen {
		if n != 1 {
			t.Errorf("%s read %d times", u, n)
		}
	}
	if len(l.seen) != first {
		t.Errorf("%d users, %d logins", len(l.seen), first)
	}
}

// A log named through a symbolic link: after a rotation, the rest of the
// old file is found next to the link's target, where logrotate put it.
func TestResumeSymlink(t *testing.T) {
	l := newLogSim(t)
	logs := filepath.Join(l.dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(logs, "mail.log")
	link := l.path
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	l.path = real // write through the target
	l.write(5)
	l.path = link // read through the link
	l.run(false)
	l.path = real
	l.write(3)
	if err := os.Rename(real, real+".1"); err != nil {
		t.Fatal(err)
	}
	l.write(4)
	l.path = link
	l.run(false)
	if len(l.warnings) != 0 {
		t.Errorf("warnings: %q", l.warnings)
	}
	l.check()
}

// A run finds the log empty; before its mark is saved (the state commits
// after the report is made: seconds, minutes with deliveries waiting), the
// log is written, copied and truncated (copytruncate). The next run reads
// the copy's lines: the mark's Saved is when the log was read, not when
// the mark was saved (positions.updated was the commit's time: the copy,
// older than that, was left out by Plan, its lines lost without a word).
func TestResumeEmptyLogRotatedBeforeSave(t *testing.T) {
	for _, r := range []struct {
		name string
		rot  rotation
	}{
		{"copytruncate", rotation{copytruncate: true}},
		{"create compress", rotation{comp: &compressors[0]}},
	} {
		t.Run(r.name, func(t *testing.T) {
			l := newLogSim(t)
			l.write(2)
			l.run(false)
			l.rotate(r.rot)
			l.beforeSave = func() {
				l.write(3)
				l.rotate(r.rot)
			}
			l.run(false) // finds the log empty; saved after the rotation
			l.run(false)
			l.write(1)
			l.run(false)
			l.check()
			if len(l.warnings) > 0 {
				t.Errorf("warnings: %q", l.warnings)
			}
		})
	}
}

// A run between logrotate's create and the writer's reopen (postrotate's
// HUP to syslog) reads the rest of the rotated file and finds the new log
// empty; the writer's last lines still go to the rotated file. The next
// run reads those lines, and nothing of the rotated file twice. (The mark
// of the empty log, which has no bytes to know it by, made the next run
// read the rotated file again whole: written after the mark, or within
// readSlack before it, it was taken for a copy made since. Driven with
// the real logrotate and a writer that appended while hourly runs went on,
// a tenth of the logins were counted twice.)
func TestResumeRunBeforeWriterReopens(t *testing.T) {
	for _, r := range []struct {
		name string
		rot  rotation
	}{
		{"create", rotation{}},
		{"create delaycompress", rotation{comp: &compressors[0], delay: true}},
		{"dateext", rotation{date: "20261127"}},
	} {
		t.Run(r.name, func(t *testing.T) {
			l := newLogSim(t)
			l.write(2)
			l.run(false)
			l.write(2)
			l.rotate(r.rot) // renamed, and a new log made: empty
			rotated := l.path + ".1"
			if r.rot.date != "" {
				rotated = l.path + "-" + r.rot.date
			}
			l.beforeSave = func() {
				// the writer, not told yet, still appends to the rotated file
				f, err := os.OpenFile(rotated, os.O_WRONLY|os.O_APPEND, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteString(l.lines(1)); err != nil {
					t.Fatal(err)
				}
				f.Close()
			}
			l.run(false) // the rest of the rotated file, the new log empty
			l.write(1)   // reopened: the new log
			l.run(false)
			l.check()
			// A quiet server: the log rotated empty (ifempty), twice,
			// a run after each, then a line.
			for _, date := range []string{"20261128", "20261129"} {
				if r.rot.date != "" {
					r.rot.date = date
				}
				l.rotate(r.rot)
				l.run(false)
			}
			l.write(1)
			l.run(false)
			l.check()
			if len(l.warnings) > 0 {
				t.Errorf("warnings: %q", l.warnings)
			}
		})
	}
}

// A log read for the first time with Options.Rotated: the files rotated
// from it (delaycompress: mail.log.3.gz, mail.log.2.gz, mail.log.1), each
// whole, the oldest first, then the log; then only what is new, across
// the next rotation. Without it the first run read the log alone: the
// weeks on disk taught the detectors nothing.
func TestResumeFirstRunRotated(t *testing.T) {
	for _, rotated := range []bool{true, false} {
		t.Run(fmt.Sprint("rotated=", rotated), func(t *testing.T) {
			l := newLogSim(t)
			l.rotated = rotated
			gz := compressors[0]
			for range 3 {
				l.write(40)
				l.rotate(rotation{comp: &gz, delay: true})
			}
			l.write(5)
			l.run(false)
			var users []string
			for _, r := range l.lastRecs {
				users = append(users, r.User)
			}
			want := []string{}
			from := 120
			if rotated {
				from = 0
			}
			for i := from; i < 125; i++ {
				want = append(want, fmt.Sprintf("u%d@example.test", i))
			}
			if !slices.Equal(users, want) {
				t.Fatalf("first run read %d logins (%v … ), want %d, in order", len(users), users[:min(3, len(users))], len(want))
			}
			l.write(3)
			l.rotate(rotation{comp: &gz, delay: true})
			l.write(2)
			l.run(false)
			if n := l.last.Stats.Logins; n != 5 {
				t.Errorf("second run read %d logins, want 5", n)
			}
			if rotated {
				l.check()
			}
			if len(l.warnings) > 0 {
				t.Errorf("warnings: %q", l.warnings)
			}
		})
	}
}
