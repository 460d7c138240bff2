package parse

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/loganom/loganom/pkg/record"
	"github.com/ulikunitz/xz"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const logs = "../../testdata/logs"

// run reads names with a Source and returns the records as NDJSON. It
// reads them twice, as records (Run, what the wrapper uses) and encoded by
// the workers (RunNDJSON, what loganom-parse uses), and checks that both
// give the same bytes and counts.
func run(t *testing.T, opts Options, names ...string) (string, *Source, error) {
	t.Helper()
	if opts.Loc == nil {
		opts.Loc = time.UTC
	}
	stdin := opts.Stdin
	if stdin != nil {
		data, err := io.ReadAll(stdin)
		if err != nil {
			t.Fatal(err)
		}
		opts.Stdin = bytes.NewReader(data)
		defer func() { opts.Stdin = bytes.NewReader(data) }()
	}
	var buf bytes.Buffer
	w := record.NewWriter(&buf)
	src := &Source{Names: names, Opts: opts}
	err := record.Run(src, w.Write)
	w.Flush()

	if stdin != nil {
		opts.Stdin.(*bytes.Reader).Seek(0, io.SeekStart)
	}
	var enc bytes.Buffer
	opts.OnError = nil // the caller counts the first run's reports
	src2 := &Source{Names: names, Opts: opts}
	err2 := src2.RunNDJSON(func(b []byte) error { enc.Write(b); return nil })
	if enc.String() != buf.String() || (err == nil) != (err2 == nil) || src.Stats != src2.Stats {
		t.Errorf("RunNDJSON differs from Run: %v / %v, %+v / %+v\n%s", err, err2, src.Stats, src2.Stats, diff(buf.String(), enc.String()))
	}
	return buf.String(), src, err
}

// Real logs paired with the records they must give (mtail style): the
// golden files are the expected output, reviewed by hand; -update rewrites
// them after a deliberate change.
func TestGolden(t *testing.T) {
	t.Chdir(logs)
	for _, c := range []struct{ in, golden string }{
		{"postfix-3.7-real.log", "postfix-3.7-real.ndjson"},
		{"postfix-lab.log", "postfix-lab.ndjson"},
		{"formats.log", "formats.ndjson"},
		{"journal.json", "journal.ndjson"},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, _, err := run(t, Options{Year: 2026}, c.in)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("..", "golden", c.golden)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s:\n%s", c.in, path, diff(string(want), got))
			}
		})
	}
}

func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			b.WriteString("- " + wl + "\n+ " + gl + "\n")
		}
	}
	return b.String()
}

// The real Postfix log: exactly the logins and failures a person finds in it.
func TestRealLogCounts(t *testing.T) {
	_, src, err := run(t, Options{}, filepath.Join(logs, "postfix-3.7-real.log"))
	if err != nil {
		t.Fatal(err)
	}
	s := src.Stats
	if s.Lines != 42 || s.Logins != 11 || s.AuthFailures != 3 || s.Rejects != 0 || s.Malformed != 0 {
		t.Errorf("stats %+v", s)
	}
}

// OnlyLogins with OnFailure: the records are the logins, and each failure
// is told by address and time, in the log's order, as the golden records
// have them (Run and RunNDJSON alike).
func TestOnFailure(t *testing.T) {
	var got []string
	out, src, err := run(t, Options{OnlyLogins: true, OnFailure: func(ip string, at time.Time) {
		got = append(got, ip+" "+at.UTC().Format(time.RFC3339))
	}}, filepath.Join(logs, "postfix-3.7-real.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, `"type":"login"`); n != 11 || strings.Contains(out, "auth_failure") || src.Stats.AuthFailures != 3 {
		t.Errorf("%d logins, failures in the records: %v\n%s", n, strings.Contains(out, "auth_failure"), out)
	}
	golden, err := os.ReadFile(filepath.Join("..", "..", "testdata", "golden", "postfix-3.7-real.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, line := range strings.Split(string(golden), "\n") {
		if !strings.Contains(line, `"type":"auth_failure"`) {
			continue
		}
		var r struct {
			IP   string    `json:"ip"`
			Time time.Time `json:"time"`
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r.IP+" "+r.Time.UTC().Format(time.RFC3339))
	}
	want = append(want, want...) // run reads twice: records, and NDJSON
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(want) != 6 {
		t.Errorf("failures told:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The log of scripts/postfix-lab's scenario, written by a real Postfix.
func TestLabLogCounts(t *testing.T) {
	_, src, err := run(t, Options{}, filepath.Join(logs, "postfix-lab.log"))
	if err != nil {
		t.Fatal(err)
	}
	s := src.Stats
	if s.Logins != 9 || s.AuthFailures != 3 || s.Rejects != 3 || s.Malformed != 0 {
		t.Errorf("stats %+v", s)
	}
}

// Compressed inputs are recognised by content, whatever their name.
func TestCompressed(t *testing.T) {
	plain, err := os.ReadFile(filepath.Join(logs, "postfix-3.7-real.log"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, f func(io.Writer) io.WriteCloser) string {
		var buf bytes.Buffer
		w := f(&buf)
		w.Write(plain)
		w.Close()
		p := filepath.Join(dir, name)
		os.WriteFile(p, buf.Bytes(), 0o644)
		return p
	}
	inputs := []string{
		write("maillog.1.gz", func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) }),
		write("maillog.2", func(w io.Writer) io.WriteCloser { z, _ := xz.NewWriter(w); return z }),
		write("maillog.3.log", func(w io.Writer) io.WriteCloser { z, _ := zstd.NewWriter(w); return z }),
		filepath.Join(logs, "postfix-3.7-real.log.bz2"),
	}
	// two gzip members in one file, as `cat a.gz b.gz` makes
	var two bytes.Buffer
	for i := 0; i < 2; i++ {
		zw := gzip.NewWriter(&two)
		zw.Write(plain)
		zw.Close()
	}
	os.WriteFile(filepath.Join(dir, "two.gz"), two.Bytes(), 0o644)

	want, _, _ := run(t, Options{Year: 2026}, filepath.Join(logs, "postfix-3.7-real.log"))
	want = stripSrcFile(want)
	for _, in := range inputs {
		got, src, err := run(t, Options{Year: 2026}, in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if stripSrcFile(got) != want {
			t.Errorf("%s: records differ from the plain file", in)
		}
		if src.Stats.Lines != 42 {
			t.Errorf("%s: %d lines", in, src.Stats.Lines)
		}
	}
	got, src, err := run(t, Options{Year: 2026}, filepath.Join(dir, "two.gz"))
	if err != nil || src.Stats.Logins != 22 || !strings.Contains(got, `"src":"`+filepath.Join(dir, "two.gz")+`:83"}`) {
		t.Errorf("concatenated gzip: %v %+v", err, src.Stats)
	}
}

func stripSrcFile(ndjson string) string {
	var b strings.Builder
	for _, l := range strings.Split(ndjson, "\n") {
		if i := strings.Index(l, `"src":"`); i >= 0 {
			j := strings.LastIndexByte(l, ':')
			l = l[:i+7] + l[j:]
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// A truncated gzip file (a log being rotated) is an error naming the file,
// after the records that could be read.
func TestTruncatedGzip(t *testing.T) {
	plain, _ := os.ReadFile(filepath.Join(logs, "postfix-3.7-real.log"))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(plain)
	zw.Close()
	p := filepath.Join(t.TempDir(), "cut.gz")
	os.WriteFile(p, buf.Bytes()[:buf.Len()*2/3], 0o644)
	var reported []error
	_, src, err := run(t, Options{OnError: func(e error) { reported = append(reported, e) }}, p)
	var ie *InputsError
	if !errors.As(err, &ie) || len(reported) != 1 || !strings.Contains(reported[0].Error(), "cut.gz") {
		t.Fatalf("err %v, reported %v", err, reported)
	}
	if src.Stats.Logins == 0 {
		t.Error("no records before the cut")
	}
	// the input_error record says how many lines were read before the cut
	var last *record.Record
	(&Source{Names: []string{p}, Opts: Options{Loc: time.UTC}}).Run(func(r *record.Record) error { last = r; return nil })
	if last.Type != record.TypeInputError || last.SrcFile != p || last.SrcLine != src.Stats.Lines || !strings.Contains(last.Reason, "unexpected EOF") {
		t.Errorf("last record %+v, want an input_error after %d lines", last, src.Stats.Lines)
	}
}

// A missing file is reported, naming it, and the other files are read.
func TestMissingFile(t *testing.T) {
	var reported []error
	real := filepath.Join(logs, "postfix-3.7-real.log")
	got, src, err := run(t, Options{OnError: func(e error) { reported = append(reported, e) }}, "nonexistent.log", real, t.TempDir())
	var ie *InputsError
	if !errors.As(err, &ie) || ie.Failed != 2 || ie.Total != 3 {
		t.Fatalf("err %v", err)
	}
	if len(reported) != 2 || !strings.Contains(reported[0].Error(), "nonexistent.log") || !strings.Contains(reported[1].Error(), "is a directory") {
		t.Errorf("reported %v", reported)
	}
	if src.Stats.Logins != 11 || strings.Count(got, "\n") != 16 {
		t.Errorf("other file not read: %+v", src.Stats)
	}
	// each failure is passed on in the stream, in its place, for the report
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if !strings.HasPrefix(lines[0], `{"type":"input_error","reason":"open nonexistent.log: no such file or directory","src":"nonexistent.log"}`) ||
		!strings.Contains(lines[15], `"type":"input_error","reason":"`) || !strings.Contains(lines[15], `: is a directory"`) {
		t.Errorf("input_error records: first %s, last %s", lines[0], lines[15])
	}
}

// A line of 1 MiB or more is skipped and counted; it does not stop the
// stream, and line numbers after it stay right.
func TestLongLine(t *testing.T) {
	login := "Nov 27 10:32:16 mail postfix/smtpd[1]: CEED5BA1AA: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username="
	in := login + "before\n" + login + strings.Repeat("x", 3*MaxLine) + "\n" + login + "after\n" + strings.Repeat("y", MaxLine+5)
	// As a stream, and as a file read in chunks much shorter than the line.
	file := filepath.Join(t.TempDir(), "maillog")
	if err := os.WriteFile(file, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"-", file} {
		got, src, err := run(t, Options{Stdin: strings.NewReader(in), Year: 2026}, name)
		if err != nil {
			t.Fatal(err)
		}
		if src.Stats.TooLong != 2 || src.Stats.Lines != 4 || src.Stats.Logins != 2 {
			t.Errorf("%s: stats %+v", name, src.Stats)
		}
		display := map[string]string{"-": "stdin", file: file}[name]
		lines := strings.Split(strings.TrimSpace(got), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], `"user":"before"`) || !strings.HasSuffix(lines[0], `"src":"`+display+`:1"}`) ||
			!strings.Contains(lines[1], `"user":"after"`) || !strings.HasSuffix(lines[1], `"src":"`+display+`:3"}`) {
			t.Errorf("%s: got %s", name, got)
		}
	}
}

// countingReader counts what was read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// A stop downstream (head) stops the reading.
func TestStopStopsReading(t *testing.T) {
	line := "Nov 27 10:32:16 mail postfix/smtpd[1]: CEED5BA1AA: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username=u\n"
	total := int64(len(line)) * 200000 // about 20 MB
	cr := &countingReader{r: io.LimitReader(repeatReader(line), total)}
	n := 0
	src := &Source{Opts: Options{Stdin: cr}}
	err := record.Run(src, func(*record.Record) error {
		n++
		if n == 10 {
			return record.ErrStop
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cr.n > total/2 {
		t.Errorf("read %d of %d bytes after the stop", cr.n, total)
	}
}

// An error from downstream (emit, or write for RunNDJSON) stops the whole
// Source and is returned as it is: it is not an input's failure, and the
// inputs after the one being read are not opened.
func TestDownstreamErrorStops(t *testing.T) {
	file := filepath.Join(logs, "postfix-3.7-real.log")
	plain, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("downstream broke")
	for _, tt := range []struct {
		name  string
		first string // the input being read when downstream fails
	}{
		{"regular file, read by the workers", file},
		{"stream, read by one reader", "-"},
	} {
		for _, encoded := range []bool{false, true} {
			var reported []error
			src := &Source{Names: []string{tt.first, file}, Opts: Options{
				Loc: time.UTC, Stdin: bytes.NewReader(plain), Workers: 2,
				OnError: func(e error) { reported = append(reported, e) },
			}}
			calls := 0
			var err error
			if encoded {
				err = src.RunNDJSON(func([]byte) error { calls++; return boom })
			} else {
				err = src.Run(func(*record.Record) error { calls++; return boom })
			}
			if err != boom || calls != 1 {
				t.Errorf("%s, encoded %v: err %v after %d calls, want %v after 1", tt.name, encoded, err, calls, boom)
			}
			if src.Stats.Inputs != 1 || src.Stats.Failed != 0 || len(reported) != 0 {
				t.Errorf("%s, encoded %v: stats %+v, reported %v; want one input opened, none failed", tt.name, encoded, src.Stats, reported)
			}
		}
	}
}

func repeatReader(s string) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		n := 0
		for n+len(s) <= len(p) {
			n += copy(p[n:], s)
		}
		if n == 0 {
			n = copy(p, s)
		}
		return n, nil
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// A pipe that delivers a little at a time (a live log) gets its events out
// as soon as their lines are complete, not when a chunk is full.
func TestLiveInput(t *testing.T) {
	for _, encoded := range []bool{false, true} {
		pr, pw := io.Pipe()
		got := make(chan string, 10)
		go func() {
			src := &Source{Opts: Options{Stdin: pr, Loc: time.UTC}}
			if encoded { // as loganom-parse reads it
				src.RunNDJSON(func(b []byte) error {
					for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
						var r record.Record
						if err := record.Decode([]byte(l), &r); err != nil {
							t.Error(err)
							return err
						}
						got <- r.User
					}
					return nil
				})
			} else {
				record.Run(src, func(r *record.Record) error { got <- r.User; return nil })
			}
			close(got)
		}()
		line := "Nov 27 10:32:16 mail postfix/smtpd[1]: CEED5BA1AA: client=h[192.0.2.1], sasl_method=PLAIN, sasl_username="
		for _, u := range []string{"first", "second"} {
			pw.Write([]byte(line + u + "\n"))
			select {
			case g := <-got:
				if g != u {
					t.Fatalf("got %q, want %q", g, u)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("encoded %v: %s: not emitted while the pipe stays open", encoded, u)
			}
		}
		pw.Close()
		if _, ok := <-got; ok {
			t.Error("extra record")
		}
	}
}

// A journald export that starts with more blank space than one read is
// still recognised, from a file as from a stream.
func TestJournalAfterBlankSpace(t *testing.T) {
	journal, err := os.ReadFile(filepath.Join(logs, "journal.json"))
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Repeat(" \n", 5000) + string(journal)
	file := filepath.Join(t.TempDir(), "journal")
	if err := os.WriteFile(file, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	want, wantSrc, err := run(t, Options{Year: 2026}, filepath.Join(logs, "journal.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"-", file} {
		got, src, err := run(t, Options{Stdin: strings.NewReader(in), Year: 2026}, name)
		if err != nil {
			t.Fatal(err)
		}
		// Every entry, those whose MESSAGE is an array of bytes included.
		if src.Stats.Events() != wantSrc.Stats.Events() || strings.Count(got, "\n") != strings.Count(want, "\n") {
			t.Errorf("%s: %+v, want the events of %+v", name, src.Stats, wantSrc.Stats)
		}
	}
}

// MailLines is zero exactly when no line came from a program named
// postfix… and none was an event, whatever the format, wherever the line.
func TestMailLines(t *testing.T) {
	other := strings.Repeat("Nov 27 10:00:00 host sshd[1]: Accepted publickey for root from 192.0.2.1 port 22 ssh2\n"+
		"Nov 27 10:00:01 host systemd[1]: Started postfix.service - Postfix Mail Transport Agent.\n"+
		"Nov 27 10:00:02 host CRON[7]: (root) CMD (postfix flush)\n", 8000) // 2 MiB: several chunks
	half := len(other) / 2
	half += strings.IndexByte(other[half:], '\n') + 1
	qmgr := "Nov 27 10:00:03 host postfix/qmgr[12]: 4AB3C2D1E0F: removed\n"
	cut := "<22>1 2026-11-27T10:29:38Z mail postfix 5753 - - 5A1C2E0B1C: client=h[203.0.113.7], sasl_method=PLAIN, sasl_username=bob\n"
	journal := func(id, msg string) string {
		return `{"__REALTIME_TIMESTAMP":"1764239536000000","_HOSTNAME":"mail","SYSLOG_IDENTIFIER":"` + id + `","MESSAGE":"` + msg + `"}` + "\n"
	}
	for _, c := range []struct {
		name, in string
		mail     bool
	}{
		{"other programs only", other, false},
		{"one Postfix line in the middle, no event", other[:half] + qmgr + other[half:], true},
		{"one Postfix line at the end, without a newline", other + strings.TrimSuffix(qmgr, "\n"), true},
		{"an event from a program cut to postfix", other[:half] + cut + other[half:], true},
		{"an event whatever the program", other + strings.Replace(cut, "postfix", "mta", 1), true},
		{"journald, other programs", strings.Repeat(journal("systemd", "Started postfix.service"), 100), false},
		{"journald, Postfix", strings.Repeat(journal("systemd", "Started postfix.service"), 100) + journal("postfix/qmgr", "4AB3C2D1E0F: removed"), true},
		{"empty", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "log")
			if err := os.WriteFile(file, []byte(c.in), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{file, "-"} {
				_, src, err := run(t, Options{Stdin: strings.NewReader(c.in)}, name)
				if err != nil {
					t.Fatal(err)
				}
				if got := src.Stats.MailLines > 0; got != c.mail {
					t.Errorf("%s: %d mail lines, want some: %v", name, src.Stats.MailLines, c.mail)
				}
			}
		})
	}
	_, src, err := run(t, Options{}, filepath.Join(logs, "postfix-3.7-real.log"))
	if err != nil || src.Stats.MailLines == 0 {
		t.Errorf("the real log: %+v, %v", src.Stats, err)
	}
}

func TestIndexPostfix(t *testing.T) {
	for _, s := range []string{"", "x", "postfix", "postfi", "ostfix", "xpostfix", "postfipostfix", "a\npostfix/smtpd", "xxxxxxxpostfixx"} {
		for from := 0; from <= len(s); from++ {
			want := strings.Index(s[from:], "postfix")
			if want >= 0 {
				want += from
			}
			if got := indexPostfix([]byte(s), from); got != want {
				t.Errorf("indexPostfix(%q, %d) = %d, want %d", s, from, got, want)
			}
		}
	}
}

// The workers merge the chunks themselves (pipeline.pump): whichever
// finishes the chunk next in order emits it, and the chunks after it that
// are ready. Downstream must still see one record at a time, in the
// input's order, with the line numbers of one worker's run, however long
// emit takes (here, now and then, long enough for the other workers to
// finish several chunks), from a file read by the workers and from a
// stream; and a stop part way stops them all.
func TestWorkersMergeInOrder(t *testing.T) {
	var log bytes.Buffer
	for i := range 3000 {
		fmt.Fprintf(&log, "Mar  1 10:%02d:%02d mx postfix/submission/smtpd[%d]: 4F1%05X: client=host[192.0.2.%d]:5%04d, sasl_method=PLAIN, sasl_username=user%d@example.org\n",
			i/60%60, i%60, 100+i%7, i, 1+i%250, i, i%97)
	}
	file := filepath.Join(t.TempDir(), "mail.log")
	if err := os.WriteFile(file, log.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	old := chunkSize
	chunkSize = 4096 // some 150 chunks
	defer func() { chunkSize = old }()
	run := func(name string, workers int, stopAt int) ([]string, error) {
		var got []string
		var busy atomic.Int32
		src := &Source{Names: []string{name}, Opts: Options{Loc: time.UTC, Year: 2026, Workers: workers, Stdin: bytes.NewReader(log.Bytes())}}
		err := src.Run(func(r *record.Record) error {
			if busy.Add(1) != 1 {
				t.Errorf("emit called while another call is under way")
			}
			defer busy.Add(-1)
			if len(got)%400 == 7 {
				time.Sleep(5 * time.Millisecond)
			}
			got = append(got, fmt.Sprintf("%d %s %s", r.SrcLine, r.User, r.IP))
			if len(got) == stopAt {
				return record.ErrStop
			}
			return nil
		})
		return got, err
	}
	for _, name := range []string{file, "-"} {
		want, err := run(name, 1, -1)
		if err != nil || len(want) != 3000 {
			t.Fatalf("%s, one worker: %d records, %v", name, len(want), err)
		}
		for _, workers := range []int{2, 4} {
			got, err := run(name, workers, -1)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("%s, %d workers: %v, records differ from one worker's:\n%s", name, workers, err, diff(strings.Join(want, "\n"), strings.Join(got, "\n")))
			}
			got, err = run(name, workers, 1234)
			if !errors.Is(err, record.ErrStop) || !slices.Equal(got, want[:1234]) {
				t.Errorf("%s, %d workers, stopped at 1234: %d records, %v", name, workers, len(got), err)
			}
		}
	}
}

// A callback that never returns to the merge, as t.FailNow in a test's
// emit does (runtime.Goexit, on the worker goroutine that merges), must
// not leave the other workers, and Run, waiting for the merge for ever:
// Run returns an error, and the callbacks are not called again. (Before,
// TestReuse, failing, hung until the test binary's timeout, its message
// lost.)
func TestCallbackGoexitEndsRun(t *testing.T) {
	real, err := os.ReadFile(filepath.Join(logs, "postfix-3.7-real.log"))
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat(real, 60)
	file := filepath.Join(t.TempDir(), "mail.log")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	old := chunkSize
	chunkSize = 1024
	defer func() { chunkSize = old }()
	for _, name := range []string{file, "-"} {
		for _, where := range []string{"emit", "OnFailure", "Reuse"} {
			for _, workers := range []int{2, 3} {
				var calls, after atomic.Int32
				var exited atomic.Bool
				call := func() {
					if exited.Load() {
						after.Add(1)
						return
					}
					if calls.Add(1) == 20 {
						exited.Store(true)
						runtime.Goexit() // what t.FailNow does
					}
				}
				opts := Options{Loc: time.UTC, Workers: workers, Stdin: bytes.NewReader(data), OnlyLogins: true,
					OnFailure: func(string, time.Time) {}}
				switch where {
				case "OnFailure":
					opts.OnFailure = func(string, time.Time) { call() }
				case "Reuse":
					opts.Reuse = func() int { call(); return 0 }
				}
				src := &Source{Names: []string{name, file}, Opts: opts}
				// (the callback may run on Run's goroutine too, merging the
				// last chunks: the goroutine then exits, as before)
				var err error
				returned := false
				done := make(chan struct{})
				go func() {
					defer close(done)
					err = src.Run(func(*record.Record) error {
						if where == "emit" {
							call()
						}
						return nil
					})
					returned = true
				}()
				select {
				case <-done:
					if returned && err == nil || after.Load() != 0 {
						t.Errorf("%s, %s exits, %d workers: Run returned %v, %d calls after the exit", name, where, workers, err, after.Load())
					}
				case <-time.After(30 * time.Second):
					t.Fatalf("%s, %s exits, %d workers: Run did not return", name, where, workers)
				}
			}
		}
	}
}
