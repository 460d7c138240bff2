package record

import (
	"context"
	"errors"
)

// Idler is a Stage that holds records back for work it has started
// (lookups in flight), not only for more input: in a live pipe such a
// record must leave as soon as that work is done, input or no input.
//
// Idle is called when no input is ready. It emits, in order, the records
// that may leave now, without waiting for anything, and tells whether it
// still holds some back for work under way; if so, it calls wake (from any
// goroutine, at least once, maybe more) when more may leave, and is then
// called again. It returns the first error of emit unchanged, ErrStop
// included. Records it holds only for more input (an aggregating report)
// are not its business: it says held = false for those.
type Idler interface {
	Idle(emit Emit, wake func()) (held bool, err error)
}

// Drainer is a stage that must know when every record read has reached
// it: a live report that then saves the positions read, all of whose
// records have been judged. Pipeline.Idle calls Drained when no stage
// before it holds a record back (after idling them), with the stage's
// emit; it returns the first error of emit unchanged, ErrStop included.
type Drainer interface {
	Drained(emit Emit) error
}

// Pipeline is stages chained in front of a sink, for a source that can
// tell when its input is idle: a reader of a pipe that finds nothing ready
// (IdleReader), a follower that has caught up with its log. The source
// calls Emit for each record, Idle whenever it has nothing ready (and then
// waits for input or for the channel Idle returned), and Flush at the
// end. A Pipeline is used from one goroutine.
type Pipeline struct {
	emits     []Emit // emits[i] feeds stages[i]; emits[len(stages)] is the sink
	stages    []Stage
	stopped   []bool
	flushSink func() error
	wake      chan struct{}
	wakeFn    func()
}

// NewPipeline joins stages in order in front of sink, as Chain does.
// flushSink, when not nil, writes out what the sink buffers (a
// Writer's Flush): Idle and Flush call it after the stages.
func NewPipeline(sink Emit, flushSink func() error, stages ...Stage) *Pipeline {
	p := &Pipeline{
		emits:     make([]Emit, len(stages)+1),
		stages:    stages,
		stopped:   make([]bool, len(stages)),
		flushSink: flushSink,
		wake:      make(chan struct{}, 1),
	}
	p.wakeFn = func() {
		select {
		case p.wake <- struct{}{}:
		default: // a wake is pending already
		}
	}
	p.emits[len(stages)] = sink
	for i := len(stages) - 1; i >= 0; i-- {
		st, next := stages[i], p.emits[i+1]
		p.emits[i] = func(r *Record) error {
			if p.stopped[i] {
				return ErrStop
			}
			err := st.Process(r, next)
			if errors.Is(err, ErrStop) {
				p.stopped[i] = true
			}
			return err
		}
	}
	return p
}

// Emit feeds a record to the first stage (the sink when there is none).
// Once a stage has returned ErrStop, records sent to it are refused with
// ErrStop.
func (p *Pipeline) Emit(r *Record) error { return p.emits[0](r) }

// Idle is what a source calls when no input is ready: each stage that is
// an Idler, first to last, emits what it may now; each Drainer that no
// stage before it holds a record from is told so; and the sink is
// flushed. When a stage still holds records back for work under way, Idle
// returns a channel that becomes ready when more may leave: the source
// waits on it along with its input and calls Idle again when it is ready.
// nil means that nothing is held back that will leave without more input
// (every record read has reached every stage).
//
// Idle never waits. Its error is the first a stage or the sink returned;
// ErrStop (downstream wants no more) after the other stages were idled.
func (p *Pipeline) Idle() (wake <-chan struct{}, err error) {
	select {
	case <-p.wake: // a stale wake: the stages are asked afresh below
	default:
	}
	held := false
	var stop error
	for i, st := range p.stages {
		if p.stopped[i] {
			continue
		}
		var err error
		if d, ok := st.(Drainer); ok && !held {
			err = d.Drained(p.emits[i+1])
		}
		if id, ok := st.(Idler); ok && err == nil {
			var h bool
			h, err = id.Idle(p.emits[i+1], p.wakeFn)
			held = held || h
		}
		if errors.Is(err, ErrStop) {
			p.stopped[i] = true
			stop = err
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	if p.flushSink != nil {
		if err := p.flushSink(); err != nil {
			return nil, err
		}
	}
	if stop != nil {
		return nil, stop
	}
	if !held {
		return nil, nil
	}
	return p.wake, nil
}

// Settle calls Idle until no stage holds a record back for work under
// way, waiting in between: what a source calls before it blocks when it
// cannot wait on Idle's channel together with its input (and before it
// saves a position that must cover every record emitted). ctx ends the
// wait early with its error.
func (p *Pipeline) Settle(ctx context.Context) error {
	for {
		wake, err := p.Idle()
		if err != nil || wake == nil {
			return err
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Flush flushes every stage, first to last, at the end of the stream
// (stages after one that stopped too), then the sink. ErrStop is not an
// error here.
func (p *Pipeline) Flush() error {
	if err := p.flushStages(); err != nil {
		return err
	}
	if p.flushSink != nil {
		return p.flushSink()
	}
	return nil
}

func (p *Pipeline) flushStages() error {
	for i, st := range p.stages {
		if err := st.Flush(p.emits[i+1]); err != nil && !errors.Is(err, ErrStop) {
			return err
		}
	}
	return nil
}

// RunPipeline feeds src through p and flushes p at the end, also when src
// failed part way, as Run does. ErrStop is not an error. The source calls
// p.Idle (or p.Settle) itself when its input is idle.
func RunPipeline(src Source, p *Pipeline) error {
	err := src.Run(p.Emit)
	if errors.Is(err, ErrStop) {
		err = nil
	}
	return errors.Join(err, p.Flush())
}
