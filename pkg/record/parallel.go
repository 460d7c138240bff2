package record

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// The parallel half of ReaderSource cuts the stream into batches that
// workers decode while the caller's goroutine goes on, and takes the
// batches back in their order: a producer sends each batch to the workers
// and, in the same order, to the one who consumes them. The background
// half of Writer writes full buffers in a goroutine of its own.

// inBatch is a run of lines read, to be decoded by a worker.
type inBatch struct {
	data  []byte   // the lines, one after another
	spans []inSpan // one per line, or per line error
	err   error    // the read error after the lines, or nil
	recs  []*Record
	ready chan struct{} // closed when recs are decoded

	// A partial reading's records are made in slab, with their raws; the
	// batch is used again once they are all written and the consumer
	// is done with it: pending counts them, and the consumer.
	slab    []Record
	raws    []rawLine
	pending atomic.Int32
	home    chan *inBatch // the free batches
}

// release is called once by the consumer and once for each partial record
// written; the last gives the batch back for reuse.
func (b *inBatch) release() {
	if b.pending.Add(-1) == 0 {
		select {
		case b.home <- b:
		default:
		}
	}
}

type inSpan struct {
	a, b int   // the line is data[a:b]
	line int64 // its number
	err  *LineError
}

// inBatchBytes is about the size of a batch of lines.
var inBatchBytes = 128 << 10 // a variable for the tests

func (s ReaderSource) runParallel(emit Emit, nw int) error {
	jobs := make(chan *inBatch, 2*nw)
	order := make(chan *inBatch, 2*nw)
	stop := make(chan struct{})
	free := make(chan *inBatch, 2*nw+2)
	produced := make(chan struct{})
	// Run returns once the producer has stopped: the caller may then
	// close the input. (A stop waits for the read under way.)
	defer func() { <-produced }()
	defer close(stop)
	go func() {
		defer close(produced)
		s.produce(jobs, order, stop, free)
	}()
	for i := 0; i < nw; i++ {
		go decodeBatches(jobs, s.R.name, stop, s.Partial)
	}
	for b := range order {
		<-b.ready
		for i, sp := range b.spans {
			if sp.err != nil {
				if s.OnError != nil {
					s.OnError(sp.err)
				}
				continue
			}
			r := b.recs[i]
			b.recs[i] = nil
			if err := emit(r); err != nil {
				return err
			}
		}
		if b.err != nil {
			return fmt.Errorf("%s: %w", s.R.name, b.err)
		}
		if s.Partial {
			b.release() // the last of its records written, it is free
			continue
		}
		select {
		case free <- b:
		default:
		}
	}
	return nil
}

// produce reads lines into batches until the end of the input, an error,
// or stop.
func (s ReaderSource) produce(jobs, order chan<- *inBatch, stop <-chan struct{}, free chan *inBatch) {
	defer close(order)
	defer close(jobs)
	rd := s.R
	var b *inBatch
	send := func() bool {
		b.ready = make(chan struct{})
		select {
		case order <- b:
		case <-stop:
			return false
		}
		select {
		case jobs <- b:
		case <-stop:
			return false
		}
		b = nil
		return true
	}
	for {
		if b == nil {
			select {
			case b = <-free:
				b.data, b.spans, b.err = b.data[:0], b.spans[:0], nil
			default:
				b = &inBatch{data: make([]byte, 0, inBatchBytes+4<<10), home: free}
			}
		}
		line, err := rd.nextLine()
		var le *LineError
		switch {
		case err == nil:
			a := len(b.data)
			b.data = append(b.data, line...)
			b.spans = append(b.spans, inSpan{a: a, b: len(b.data), line: rd.line})
		case errors.As(err, &le):
			b.spans = append(b.spans, inSpan{err: le})
		case err == io.EOF:
			if len(b.spans) > 0 {
				send()
			}
			return
		default:
			b.err = err
			send()
			return
		}
		// A batch goes when full (the input is a file, never idle: see
		// ReaderSource.Workers).
		if len(b.data) >= inBatchBytes || len(b.spans) >= 2048 {
			if !send() {
				return
			}
		}
	}
}

// decodeBatches decodes the lines of the batches sent to it.
func decodeBatches(jobs <-chan *inBatch, name string, stop <-chan struct{}, partial bool) {
	for b := range jobs {
		select {
		case <-stop:
			close(b.ready)
			continue
		default:
		}
		if cap(b.recs) < len(b.spans) {
			b.recs = make([]*Record, len(b.spans))
		}
		b.recs = b.recs[:len(b.spans)]
		if partial {
			decodePartialBatch(b, name)
			close(b.ready)
			continue
		}
		for i := range b.spans {
			sp := &b.spans[i]
			if sp.err != nil {
				continue
			}
			r := new(Record)
			if err := decodeLine(r, b.data[sp.a:sp.b:sp.b], name, sp.line, false); err != nil {
				sp.err = err
				continue
			}
			b.recs[i] = r
		}
		close(b.ready)
	}
}

// decodePartialBatch reads the lines of b partially into its slab; a line
// that must be decoded whole gets a Record of its own, which is not the
// batch's to reuse.
func decodePartialBatch(b *inBatch, name string) {
	n := len(b.spans)
	if cap(b.slab) < n {
		b.slab, b.raws = make([]Record, n), make([]rawLine, n)
	} else {
		b.slab, b.raws = b.slab[:n], b.raws[:n]
		clear(b.slab)
	}
	partial := int32(0)
	for i := range b.spans {
		sp := &b.spans[i]
		if sp.err != nil {
			continue
		}
		line := b.data[sp.a:sp.b:sp.b]
		r, raw := &b.slab[i], &b.raws[i]
		raw.batch = b
		if decodePartial(line, r, raw) {
			partial++
			b.recs[i] = r
			continue
		}
		*r = Record{}
		r = new(Record)
		if err := Decode(line, r); err != nil {
			sp.err = &LineError{name, sp.line, err}
			continue
		}
		b.recs[i] = r
	}
	b.pending.Store(partial + 1) // and the consumer
}

// bgWriter encodes records into buffers in the caller's goroutine and
// writes the full buffers in a goroutine of its own, in order.
type bgWriter struct {
	enc  Encoder
	cur  []byte
	reqs chan bgReq
	free chan []byte
	done chan struct{} // closed when the goroutine ends
	err  atomic.Pointer[error]
}

// bgReq is a buffer to write, or (with ack) a request to be told when
// everything before it is written.
type bgReq struct {
	b   []byte
	ack chan struct{}
}

// bgBuffer is the size of a buffer written at once; bgBuffers how many
// there are.
const (
	bgBuffer  = 256 << 10
	bgBuffers = 3
)

func newBGWriter(w io.Writer) *bgWriter {
	b := &bgWriter{
		reqs: make(chan bgReq, bgBuffers),
		free: make(chan []byte, bgBuffers),
		done: make(chan struct{}),
	}
	for i := 0; i < bgBuffers; i++ {
		b.free <- make([]byte, 0, bgBuffer+4<<10)
	}
	go b.run(w)
	return b
}

func (b *bgWriter) run(w io.Writer) {
	defer close(b.done)
	for req := range b.reqs {
		if req.b != nil {
			if len(req.b) > 0 && b.err.Load() == nil {
				if _, err := w.Write(req.b); err != nil {
					b.err.Store(&err)
				}
			}
			b.free <- req.b[:0]
		}
		if req.ack != nil {
			close(req.ack)
		}
	}
}

func (b *bgWriter) failed() error {
	if p := b.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (b *bgWriter) write(r *Record) error {
	if b.cur == nil {
		if err := b.failed(); err != nil {
			return err
		}
		b.cur = <-b.free
	}
	b.cur = b.enc.AppendJSON(b.cur, r)
	r.written()
	b.cur = append(b.cur, '\n')
	if len(b.cur) >= bgBuffer {
		b.reqs <- bgReq{b: b.cur}
		b.cur = nil
	}
	return nil
}

func (b *bgWriter) flush() error {
	ack := make(chan struct{})
	if b.cur != nil {
		b.reqs <- bgReq{b: b.cur, ack: ack}
		b.cur = nil
	} else {
		b.reqs <- bgReq{ack: ack}
	}
	<-ack
	return b.failed()
}

func (b *bgWriter) close() {
	if b.cur != nil {
		b.free <- b.cur[:0]
		b.cur = nil
	}
	close(b.reqs)
	<-b.done
}
