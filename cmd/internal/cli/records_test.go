package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
// go through; the exit code says something was skipped.
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
	if strings.Count(out.String(), "\n") != 2 {
		t.Errorf("out %s", out)
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
	if strings.Count(out.String(), "\n") != 3 || r.n > int64(len(in))/2 {
		t.Errorf("wrote %d records, read %d of %d bytes", strings.Count(out.String(), "\n"), r.n, len(in))
	}
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
