package record

import (
	"io"
	"sync"
)

// IdleReader reads its input ahead in a goroutine, so that it knows when
// the input is idle: when a Read finds nothing read ahead, the operating
// system had nothing ready either (or the goroutine would be holding it),
// and the records already read must not wait for more. Idle is called
// then, before the Read blocks, and again whenever the channel it returned
// is ready while the input is still idle.
//
// That is idleness of the input, not a buffer boundary: a batch read of a
// file or a fast pipe keeps chunks ready and never calls Idle, so stages
// that gain from seeing many records at once (the lookups in flight of
// loganom-enrich) keep them.
type IdleReader struct {
	idle   func() (<-chan struct{}, error)
	chunks chan chunk
	free   chan []byte
	done   chan struct{}
	once   sync.Once

	cur []byte // what is left of the chunk being read
	buf []byte // the chunk's buffer, recycled when cur is empty
	err error  // the input's error, after cur
}

type chunk struct {
	b   []byte
	err error
}

// idleChunk is the size of a read ahead; idleAhead how many chunks are
// kept ready.
const (
	idleChunk = 64 << 10
	idleAhead = 4
)

// NewIdleReader reads r ahead. idle is called when no input is ready (see
// Pipeline.Idle, whose signature it has); nil only waits. An error of idle
// is returned from Read as an *IdleError.
func NewIdleReader(r io.Reader, idle func() (<-chan struct{}, error)) *IdleReader {
	ir := &IdleReader{
		idle:   idle,
		chunks: make(chan chunk, idleAhead),
		free:   make(chan []byte, idleAhead+2),
		done:   make(chan struct{}),
	}
	go ir.readAhead(r)
	return ir
}

func (ir *IdleReader) readAhead(r io.Reader) {
	empty := 0
	for {
		var b []byte
		select {
		case b = <-ir.free:
		default:
			b = make([]byte, idleChunk)
		}
		n, err := r.Read(b[:cap(b)])
		if n == 0 && err == nil {
			// as bufio does: a reader that keeps returning nothing
			if empty++; empty < 100 {
				select {
				case ir.free <- b:
				default:
				}
				continue
			}
			err = io.ErrNoProgress
		}
		empty = 0
		select {
		case ir.chunks <- chunk{b[:n], err}:
		case <-ir.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// IdleError is an error that the idle function returned (a write that
// failed, ErrStop from downstream): not the input's.
type IdleError struct{ Err error }

func (e *IdleError) Error() string { return e.Err.Error() }
func (e *IdleError) Unwrap() error { return e.Err }

// Read reads what was read ahead; when nothing is, it calls idle and
// waits.
func (ir *IdleReader) Read(p []byte) (int, error) {
	for len(ir.cur) == 0 {
		if ir.err != nil {
			return 0, ir.err
		}
		if ir.buf != nil {
			select {
			case ir.free <- ir.buf[:cap(ir.buf)]:
			default:
			}
			ir.buf = nil
		}
		var c chunk
		select {
		case c = <-ir.chunks:
		default:
			var err error
			if c, err = ir.wait(); err != nil {
				return 0, err
			}
		}
		ir.cur, ir.buf, ir.err = c.b, c.b, c.err
	}
	n := copy(p, ir.cur)
	ir.cur = ir.cur[n:]
	return n, nil
}

// wait calls idle and waits for input, calling idle again each time the
// channel it returned is ready.
func (ir *IdleReader) wait() (chunk, error) {
	for {
		var wake <-chan struct{}
		if ir.idle != nil {
			w, err := ir.idle()
			if err != nil {
				return chunk{}, &IdleError{err}
			}
			wake = w
		}
		select {
		case c := <-ir.chunks:
			return c, nil
		case <-wake: // nil: never
		}
	}
}

// Close stops the reading ahead once its current read returns; it does
// not close the input, and cannot interrupt a read that blocks.
func (ir *IdleReader) Close() error {
	ir.once.Do(func() { close(ir.done) })
	return nil
}
