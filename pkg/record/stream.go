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
		r := new(Record)
		if derr := Decode(line, r); derr != nil {
			return nil, &LineError{rd.name, rd.line, derr}
		}
		return r, nil
	}
}

// ReaderSource is a Source over a Reader. Each malformed line is passed to
// OnError (which may count or print it) and skipped. Over an IdleReader,
// an error of its idle function comes back from Run as it was returned.
type ReaderSource struct {
	R       *Reader
	OnError func(*LineError)
}

// Run reads every record and emits it.
func (s ReaderSource) Run(emit Emit) error {
	for {
		r, err := s.R.Next()
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

// Writer writes records as NDJSON through a buffer. Call Flush at the end,
// and when the input is idle (NewPipeline's flushSink).
type Writer struct {
	bw  *bufio.Writer
	buf []byte
	enc Encoder
}

// NewWriter writes records to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes one record and a newline. It is an Emit.
func (w *Writer) Write(r *Record) error {
	w.buf = w.enc.AppendJSON(w.buf[:0], r)
	w.buf = append(w.buf, '\n')
	_, err := w.bw.Write(w.buf)
	return err
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error { return w.bw.Flush() }
