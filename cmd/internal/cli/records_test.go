package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

func env(stdin string) (Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}, &out, &errb
}

// tag is a stage that adds a field the record type does not know, the way
// a later stage (or a user's jq) does.
var tag = record.Func(func(r *record.Record, emit record.Emit) error {
	r.Set("seen", []byte("true"))
	return emit(r)
})

// Records go through a stage and come out with unknown fields intact and
// the stage's field added.
func TestRunRecords(t *testing.T) {
	in := `{"type":"login","user":"a","mine":{"x":[1,2]}}` + "\n" + `{"type":"login","user":"b"}` + "\n"
	e, out, errb := env(in)
	log := &Logger{Prog: "loganom-test", W: e.Stderr}
	if code := RunRecords(e, log, nil, tag); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	want := `{"type":"login","user":"a","mine":{"x":[1,2]},"seen":true}` + "\n" + `{"type":"login","user":"b","seen":true}` + "\n"
	if out.String() != want {
		t.Errorf("got %s", out)
	}
}

// A malformed record is reported with its place and skipped; the others
// go through; the exit code says something was skipped. Each input with
// records skipped, and each that could not be read, is passed on as an
// input_error record after its records, as loganom-parse does, so that
// a report at the end of the pipe gives no all-clear.
func TestRunRecordsMalformed(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "events.ndjson")
	os.WriteFile(f, []byte("{\"type\":\"login\",\"user\":\"a\"}\n{\"user\":\n{\"type\":\"login\",\"user\":\"c\"}\n"), 0o644)
	e, out, errb := env("")
	log := &Logger{Prog: "loganom-test", W: e.Stderr}
	code := RunRecords(e, log, []string{f, filepath.Join(dir, "missing.ndjson")}, tag)
	if code != ExitError {
		t.Errorf("exit %d", code)
	}
	want := `{"type":"login","user":"a","seen":true}` + "\n" +
		`{"type":"login","user":"c","seen":true}` + "\n" +
		`{"type":"input_error","reason":"1 malformed record skipped (the first: ` + f + `:2: malformed record: offset 8: expected a value)","src":"` + f + `:3","seen":true}` + "\n" +
		`{"type":"input_error","reason":"open ` + filepath.Join(dir, "missing.ndjson") + `: no such file or directory","src":"` + filepath.Join(dir, "missing.ndjson") + `","seen":true}` + "\n"
	if out.String() != want {
		t.Errorf("out:\n%s\nwant:\n%s", out, want)
	}
	msg := errb.String()
	for _, want := range []string{
		"loganom-test: error: " + f + ":2: malformed record: ",
		"loganom-test: error: open " + filepath.Join(dir, "missing.ndjson") + ": no such file or directory",
		"loganom-test: error: skipped 1 malformed record\n",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
}

// A downstream stop (like head) stops the reading and is not an error.
func TestRunRecordsStop(t *testing.T) {
	in := strings.Repeat(`{"type":"login","user":"a"}`+"\n", 100000)
	r := &countingReader{r: strings.NewReader(in)}
	var out, errb bytes.Buffer
	e := Env{Stdin: r, Stdout: &out, Stderr: &errb}
	n := 0
	head := record.Func(func(rec *record.Record, emit record.Emit) error {
		if n == 3 {
			return record.ErrStop
		}
		n++
		return emit(rec)
	})
	if code := RunRecords(e, &Logger{Prog: "t", W: &errb}, nil, head); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if strings.Count(out.String(), "\n") != 3 || r.n.Load() > int64(len(in))/2 {
		t.Errorf("wrote %d records, read %d of %d bytes", strings.Count(out.String(), "\n"), r.n.Load(), len(in))
	}
}

// countingReader counts what was read of r, atomically: a stream is read
// ahead in a goroutine (record.IdleReader), which may still be reading
// when RunRecords has returned.
type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// held holds each record back until release is closed, as a stage with
// lookups in flight does (record.Idler).
type held struct {
	release chan struct{}
	q       []*record.Record
}

func (h *held) done() bool {
	select {
	case <-h.release:
		return true
	default:
		return false
	}
}

func (h *held) emitAll(emit record.Emit) error {
	for _, r := range h.q {
		if err := emit(r); err != nil {
			return err
		}
	}
	h.q = nil
	return nil
}

func (h *held) Process(r *record.Record, emit record.Emit) error {
	h.q = append(h.q, r)
	if h.done() {
		return h.emitAll(emit)
	}
	return nil
}

func (h *held) Flush(emit record.Emit) error { <-h.release; return h.emitAll(emit) }

func (h *held) Idle(emit record.Emit, wake func()) (bool, error) {
	if h.done() {
		return false, h.emitAll(emit)
	}
	if len(h.q) == 0 {
		return false, nil
	}
	go func() { <-h.release; wake() }()
	return true, nil
}

// A record stage binary streams: a record written on a pipe comes out on
// stdout while stdin stays open, through a plain stage at once, and
// through a stage that holds it back (lookups in flight) as soon as that
// stage lets it go.
func TestRunRecordsStreams(t *testing.T) {
	for _, c := range []struct {
		name  string
		stage func() (record.Stage, func())
	}{
		{"plain", func() (record.Stage, func()) { return tag, func() {} }},
		{"held", func() (record.Stage, func()) {
			h := &held{release: make(chan struct{})}
			return h, func() { close(h.release) }
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			inR, inW := io.Pipe()
			outR, outW := io.Pipe()
			var errb bytes.Buffer
			e := Env{Stdin: inR, Stdout: outW, Stderr: &errb, Getenv: func(string) string { return "" }}
			st, release := c.stage()
			code := make(chan int, 1)
			go func() {
				code <- RunRecords(e, &Logger{Prog: "t", W: &errb}, nil, st)
				outW.Close()
			}()
			lines := make(chan string)
			go func() {
				sc := bufio.NewScanner(outR)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			if _, err := inW.Write([]byte(`{"type":"login","user":"a"}` + "\n")); err != nil {
				t.Fatal(err)
			}
			if c.name == "held" {
				select {
				case l := <-lines:
					t.Fatalf("a held record came out: %s", l)
				default:
				}
				release()
			}
			if l := recv(t, lines); !strings.Contains(l, `"user":"a"`) {
				t.Fatalf("got %q", l)
			}
			inW.Write([]byte(`{"type":"login","user":"b"}` + "\n"))
			if l := recv(t, lines); !strings.Contains(l, `"user":"b"`) {
				t.Fatalf("got %q", l)
			}
			inW.Close()
			if n := <-code; n != ExitOK {
				t.Errorf("exit %d: %s", n, errb.String())
			}
			if l, ok := <-lines; ok {
				t.Errorf("more output: %q", l)
			}
		})
	}
}

// recv waits for a line, failing the test after a long deadline rather
// than hanging it when the line never comes.
func recv(t *testing.T, lines <-chan string) string {
	t.Helper()
	select {
	case l := <-lines:
		return l
	case <-time.After(time.Minute):
		t.Fatal("no line on stdout with stdin open: the stage does not stream")
		return ""
	}
}

// enrichLike is an enrich-only stage (record.EnrichOnly), as the enricher
// is: it reads type and ip and sets the enrich fields.
type enrichLike struct{}

func (enrichLike) EnrichOnly() {}

func (enrichLike) Process(r *record.Record, emit record.Emit) error {
	if r.Type == record.TypeLogin && r.IP != "" {
		r.RDNS, r.RDNSVerified = "h-"+r.IP+".example", record.Bool(len(r.IP)%2 == 0)
		r.Country, r.City, r.ASN, r.Org = "BR", "São Paulo", 64500, `Example "Net"`
		r.HasLoc, r.Lat, r.Lon = true, -23.5, -46.25
	}
	return emit(r)
}

func (enrichLike) Flush(record.Emit) error { return nil }

// A regular file is read by workers, partially for enrich-only stages,
// and written in the background: the output, the messages and the exit
// code are those of the same records read from a pipe, one by one.
func TestRunRecordsFileSameAsPipe(t *testing.T) {
	defer runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), 2))
	var b strings.Builder
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, `{"type":"login","time":"2026-11-01T00:%02d:00Z","user":"u%d@example.com","ip":"192.0.2.%d","method":"PLAIN","src":"maillog:%d"}`+"\n", i%60, i%97, i%256, i+1)
		switch i % 1000 {
		case 10:
			b.WriteString("{\"user\":\n") // malformed
		case 20:
			fmt.Fprintf(&b, `{ "type":"login","ip":"192.0.2.%d","extra":[1, 2]}`+"\n", i%256) // not as loganom writes it
		case 30:
			b.WriteString(`{"type":"reject","ip":"192.0.2.9","user":"\u00e9\t","rdns":"old","country":"US"}` + "\n\n")
		}
	}
	in := b.String()
	f := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(f, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, stage := range []record.Stage{enrichLike{}, tag} {
		var fromFile, fromPipe [3]string
		{
			e, out, errb := env("")
			code := RunRecords(e, &Logger{Prog: "t", W: e.Stderr}, []string{f}, stage)
			// the input is named in the messages and in the input_error
			// record that says records were skipped
			fromFile = [3]string{strings.ReplaceAll(out.String(), f, "IN"), strings.ReplaceAll(errb.String(), f, "IN"), fmt.Sprint(code)}
		}
		{
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				io.WriteString(pw, in)
				pw.Close()
			}()
			e, out, errb := env("")
			e.Stdin = pr
			code := RunRecords(e, &Logger{Prog: "t", W: e.Stderr}, nil, stage)
			pr.Close()
			fromPipe = [3]string{strings.ReplaceAll(out.String(), "stdin", "IN"), strings.ReplaceAll(errb.String(), "stdin", "IN"), fmt.Sprint(code)}
		}
		if fromFile != fromPipe {
			t.Errorf("%T: from a file (%d bytes, exit %s):\n%s\nfrom a pipe (%d bytes, exit %s):\n%s", stage,
				len(fromFile[0]), fromFile[2], fromFile[1], len(fromPipe[0]), fromPipe[2], fromPipe[1])
		}
		if !strings.Contains(fromFile[1], "malformed record") || strings.Count(fromFile[0], "\n") < 4000 {
			t.Errorf("%T: too few records or no malformed one: %s", stage, fromFile[1])
		}
	}
}
