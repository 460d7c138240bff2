package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLine is the longest record line a Reader accepts, its "\n" or "\r\n"
// not counted. loganom-parse writes no longer record (see parse.MaxEventLine).
const MaxLine = 1 << 20

var nl, cr = []byte{'\n'}, []byte{'\r'}

// LineError is a record line that could not be read. The Reader goes on
// after it.
type LineError struct {
	File string
	Line int64
	Err  error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: malformed record: %v", e.File, e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Reader reads NDJSON records with bounded memory.
type Reader struct {
	br   *bufio.Reader
	name string
	line int64
}

// NewReader reads records from r; name is used in errors.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), name: name}
}

// Next returns the next record, io.EOF at the end, a *LineError for a line
// that is not a record (call Next again to go on), or a read error.
// Blank lines are skipped.
func (rd *Reader) Next() (*Record, error) {
	line, err := rd.nextLine()
	if err != nil {
		return nil, err
	}
	r := new(Record)
	if derr := Decode(line, r); derr != nil {
		return nil, &LineError{rd.name, rd.line, derr}
	}
	return r, nil
}

// nextLine returns the next line that is not blank, trimmed, valid until
// the next call; io.EOF at the end, a *LineError for a line too long, or a
// read error. rd.line is its number.
func (rd *Reader) nextLine() ([]byte, error) {
	var long []byte // a line longer than the bufio buffer, up to MaxLine
	tooLong := false
	for {
		chunk, err := rd.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if !tooLong {
				// +1: a '\r' here may be part of the line's end.
				if len(long)+len(chunk) > MaxLine+1 {
					tooLong, long = true, nil
				} else {
					long = append(long, chunk...)
				}
			}
			continue
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if len(chunk) == 0 && err == io.EOF && long == nil && !tooLong {
			return nil, io.EOF
		}
		rd.line++
		line := chunk
		if long != nil {
			long = append(long, chunk...)
			line = long
		}
		if len(line) > MaxLine && len(bytes.TrimSuffix(bytes.TrimSuffix(line, nl), cr)) > MaxLine {
			tooLong = true
		}
		if tooLong {
			return nil, &LineError{rd.name, rd.line, fmt.Errorf("longer than %d bytes", MaxLine)}
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			if err == io.EOF {
				return nil, io.EOF
			}
			continue
		}
		return line, nil
	}
}

// ReaderSource is a Source over a Reader. Each malformed line is passed to
// OnError (which may count or print it) and skipped. Over an IdleReader,
// an error of its idle function comes back from Run as it was returned.
type ReaderSource struct {
	R       *Reader
	OnError func(*LineError)
	// Partial reads the records partially, for stages that are all
	// EnrichOnly: only type, ip and the enrich fields are decoded, the
	// others are written back by a Writer as they were read. A line that
	// is not as AppendJSON writes it is decoded whole.
	Partial bool
	// Workers, above 1, decode the lines in that many goroutines, a batch
	// at a time, while the records before them go through emit; the
	// order, the errors and their places are those of a reading line by
	// line. The input is then read ahead in a goroutine of its own: only
	// for an input that is never idle (a regular file), never under an
	// IdleReader, whose idle function must run in the goroutine of emit.
	Workers int
}

// Run reads every record and emits it.
func (s ReaderSource) Run(emit Emit) error {
	if s.Workers > 1 {
		return s.runParallel(emit, s.Workers)
	}
	for {
		r, err := s.next()
		if err == io.EOF {
			return nil
		}
		var le *LineError
		if errors.As(err, &le) {
			if s.OnError != nil {
				s.OnError(le)
			}
			continue
		}
		var ie *IdleError
		if errors.As(err, &ie) {
			return ie.Err // downstream's, as emit's would be
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.R.name, err)
		}
		if err := emit(r); err != nil {
			return err
		}
	}
}

// next returns the next record, as Reader.Next does, read partially when
// s.Partial.
func (s ReaderSource) next() (*Record, error) {
	if !s.Partial {
		return s.R.Next()
	}
	line, err := s.R.nextLine()
	if err != nil {
		return nil, err
	}
	r := new(Record)
	if err := decodeLine(r, bytes.Clone(line), s.R.name, s.R.line, true); err != nil {
		return nil, err
	}
	return r, nil
}

// decodeLine decodes a line into r, a zero Record, partially if it may; a
// partial record keeps line.
func decodeLine(r *Record, line []byte, name string, no int64, partial bool) *LineError {
	if partial && decodePartial(line, r, new(rawLine)) {
		return nil
	}
	if partial {
		*r = Record{}
	}
	if err := Decode(line, r); err != nil {
		return &LineError{name, no, err}
	}
	return nil
}

// Writer writes records as NDJSON through a buffer. Call Flush at the end,
// and when the input is idle (NewPipeline's flushSink).
type Writer struct {
	w   io.Writer
	bw  *bufio.Writer
	buf []byte
	enc Encoder

	bg *bgWriter // Background: the writes are made by a goroutine
}

// NewWriter writes records to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, bw: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes one record and a newline. It is an Emit: the Writer owns r
// from then on.
func (w *Writer) Write(r *Record) error {
	if w.bg != nil {
		return w.bg.write(r)
	}
	w.buf = w.enc.AppendJSON(w.buf[:0], r)
	r.written()
	w.buf = append(w.buf, '\n')
	_, err := w.bw.Write(w.buf)
	return err
}

// Flush writes out what is buffered. With Background, it returns once
// every record written before it is out, with the first error in writing.
func (w *Writer) Flush() error {
	if w.bg != nil {
		return w.bg.flush()
	}
	return w.bw.Flush()
}

// Background makes the writes to the underlying writer (the system
// calls, for a file) in a goroutine of the Writer's, while the caller
// goes on encoding the next records: for a batch run on more than one
// CPU. An error in writing is then returned by a later Write, and by
// Flush. Call Close at the end, after Flush, to stop the goroutine. Call
// Background before the first Write.
func (w *Writer) Background() {
	if w.bg != nil {
		return
	}
	w.bg = newBGWriter(w.w)
}

// Close stops the goroutine of Background; it does not flush.
func (w *Writer) Close() error {
	if w.bg != nil {
		w.bg.close()
	}
	return nil
}
