package record

import (
	"errors"
)

// Emit hands a record to what comes next. Ownership passes with the record:
// after Emit the caller must not read or change it. Emit returns ErrStop when
// nothing downstream wants more records (a `head` closed the pipe, a stage has
// had enough); the caller must then stop producing and return that error.
type Emit func(r *Record) error

// Stage is one step of a pipeline: a plain synchronous function of records.
// The framework (Run, Chain) owns the streaming, so the same Stage serves a
// pipe binary (NDJSON in, NDJSON out) and the in-process wrapper.
//
// Process consumes r (it owns it from then on) and emits zero or more
// records, now or later: a stage may hold records back, as an aggregating
// report or an order-keeping lookup window does. Flush is called once, at the
// end of the stream, to emit what was held back. Both return the first error
// of emit unchanged, ErrStop included. A stage that holds records back for
// work under way (lookups) rather than for more input is also an Idler, so
// that in a live pipe they leave as soon as that work is done.
type Stage interface {
	Process(r *Record, emit Emit) error
	Flush(emit Emit) error
}

// Source produces records, and stops as soon as emit returns an error.
type Source interface {
	Run(emit Emit) error
}

// ErrStop says that downstream wants no more records. It is not a failure.
var ErrStop = errors.New("record: downstream stopped")

// Func is a Stage with nothing to flush.
type Func func(r *Record, emit Emit) error

// Process calls f.
func (f Func) Process(r *Record, emit Emit) error { return f(r, emit) }

// Flush does nothing.
func (Func) Flush(Emit) error { return nil }

// Chain joins stages in order in front of sink. It returns the Emit that
// feeds the first stage and the function that flushes every stage, first to
// last, at the end of the stream. Once a stage has returned ErrStop, records
// sent to it are refused with ErrStop; the stages after it are still flushed.
// A source that can tell when its input is idle uses NewPipeline instead.
func Chain(sink Emit, stages ...Stage) (emit Emit, flush func() error) {
	p := NewPipeline(sink, nil, stages...)
	return p.Emit, p.flushStages
}

// Run feeds src through stages into sink and flushes the stages at the end,
// also when src failed part way (a report of what was read is still due).
// ErrStop is not an error.
func Run(src Source, sink Emit, stages ...Stage) error {
	emit, flush := Chain(sink, stages...)
	err := src.Run(emit)
	if errors.Is(err, ErrStop) {
		err = nil
	}
	return errors.Join(err, flush())
}
