package record

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readAll runs text through a ReaderSource (partial or not, with workers
// or not), a stage that changes records as enrich does, and a Writer
// (in the background or not); it returns the bytes written and the line
// errors, in order.
func readAll(t *testing.T, text string, partial bool, workers int, background bool) (string, []string) {
	t.Helper()
	var out bytes.Buffer
	var errs []string
	w := NewWriter(&out)
	if background {
		w.Background()
	}
	defer w.Close()
	src := ReaderSource{R: NewReader(strings.NewReader(text), "in"), Partial: partial, Workers: workers,
		OnError: func(le *LineError) { errs = append(errs, le.Error()) }}
	if err := Run(src, w.Write, Func(func(r *Record, emit Emit) error { enrichLike(r); return emit(r) })); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.String(), errs
}

// manyLines is an input of many batches: the lines of partialLines and of
// testdata/seed.ndjson over and over, blank lines, a line too long.
func manyLines(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "seed.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := 0; b.Len() < 600<<10; i++ {
		b.WriteString(strings.Join(partialLines, "\n"))
		b.WriteString("\n\n")
		b.Write(data)
		if i == 3 {
			b.WriteString(`{"user":"` + strings.Repeat("x", MaxLine) + `"}` + "\n")
		}
		fmt.Fprintf(&b, `{"type":"login","user":"u%d","ip":"192.0.2.%d","src":"f:%d"}`+"\n", i, i%256, i+1)
	}
	return b.String()
}

// Workers, a partial reading and a Writer in the background give the
// bytes and the errors of a reading line by line, decoded whole, in order.
func TestReaderSourceWorkers(t *testing.T) {
	defer func(n int) { inBatchBytes = n }(inBatchBytes)
	inBatchBytes = 16 << 10 // many batches, reused
	text := manyLines(t)
	wantOut, wantErrs := readAll(t, text, false, 1, false)
	if len(wantErrs) < 50 || !strings.Contains(strings.Join(wantErrs, "\n"), "longer than") {
		t.Fatalf("only %d malformed lines, or none too long", len(wantErrs))
	}
	for _, c := range []struct {
		partial    bool
		workers    int
		background bool
	}{
		{false, 2, false},
		{true, 1, false},
		{true, 2, true},
		{true, 4, false},
		{false, 3, true},
	} {
		gotOut, gotErrs := readAll(t, text, c.partial, c.workers, c.background)
		if gotOut != wantOut {
			t.Errorf("%+v: output differs from a reading line by line (%d bytes, want %d)", c, len(gotOut), len(wantOut))
		}
		if strings.Join(gotErrs, "\n") != strings.Join(wantErrs, "\n") {
			t.Errorf("%+v: errors differ:\n%s\nwant\n%s", c, strings.Join(gotErrs, "\n"), strings.Join(wantErrs, "\n"))
		}
	}
}

// A stage that stops the run (ErrStop) stops the workers too, and Run
// returns.
func TestReaderSourceWorkersStop(t *testing.T) {
	defer func(n int) { inBatchBytes = n }(inBatchBytes)
	inBatchBytes = 4 << 10
	text := manyLines(t)
	n := 0
	src := ReaderSource{R: NewReader(strings.NewReader(text), "in"), Partial: true, Workers: 2}
	err := Run(src, func(*Record) error { return nil }, Func(func(r *Record, emit Emit) error {
		if n++; n == 200 {
			return ErrStop
		}
		return emit(r)
	}))
	if err != nil || n != 200 {
		t.Fatalf("Run: %v after %d records, want nil after 200", err, n)
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n++; f.n > 1 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// A Writer in the background returns the error in writing from a later
// Write and from Flush.
func TestWriterBackgroundError(t *testing.T) {
	w := NewWriter(&failingWriter{})
	w.Background()
	defer w.Close()
	r := sample()
	var err error
	for i := 0; i < 10000 && err == nil; i++ {
		c := *r
		err = w.Write(&c)
	}
	if err == nil || err.Error() != "disk full" {
		t.Fatalf("Write: %v, want disk full", err)
	}
	if err := w.Flush(); err == nil || err.Error() != "disk full" {
		t.Fatalf("Flush: %v, want disk full", err)
	}
}

// Flush in the background returns once what was written before is out.
func TestWriterBackgroundFlush(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	w.Background()
	defer w.Close()
	want := string(AppendJSON(nil, sample())) + "\n"
	for i := 1; i <= 3; i++ {
		if err := w.Write(sample()); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != strings.Repeat(want, i) {
			t.Fatalf("after Flush %d: %q", i, got)
		}
	}
}

// FuzzWorkers: whatever the input, workers with a partial reading give
// the bytes and the errors of a reading line by line, decoded whole.
func FuzzWorkers(f *testing.F) {
	f.Add(strings.Join(partialLines, "\n"))
	f.Add(`{"ip":"192.0.2.1"}` + "\r\n\n" + `{"ip":"192.0.2.1",}` + "\n" + `{"a":"\xff"}`)
	f.Fuzz(func(t *testing.T, text string) {
		defer func(n int) { inBatchBytes = n }(inBatchBytes)
		inBatchBytes = 64 // a few lines a batch
		wantOut, wantErrs := readAll(t, text, false, 1, false)
		gotOut, gotErrs := readAll(t, text, true, 3, true)
		if gotOut != wantOut {
			t.Fatalf("%q:\n got %s\nwant %s", text, gotOut, wantOut)
		}
		if strings.Join(gotErrs, "\n") != strings.Join(wantErrs, "\n") {
			t.Fatalf("%q: errors\n%s\nwant\n%s", text, strings.Join(gotErrs, "\n"), strings.Join(wantErrs, "\n"))
		}
	})
}
