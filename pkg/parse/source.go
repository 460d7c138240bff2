package parse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/record"
)

// MaxLine is the longest line the parser keeps: a line of MaxLine bytes or
// more is counted in Stats.TooLong and skipped. It is also the size of the
// buffers a stream (stdin, a pipe, a decompressor) is read into.
const MaxLine = 1 << 20

// fileChunk is the unit of work of a regular file: small enough that what
// a worker reads is still in its cache when it scans it, and that its
// buffers stay small.
const fileChunk = 256 << 10

// maxLine and chunkSize are MaxLine and fileChunk, smaller in tests to
// exercise chunk boundaries. chunkSize must not exceed maxLine: a line that
// starts and ends within a chunk is then never too long.
var (
	maxLine   = MaxLine
	chunkSize = fileChunk
)

// Options configure a Source.
type Options struct {
	Loc  *time.Location // zone of timestamps without one; nil: local
	Year int            // year of classic-syslog timestamps; 0: inferred
	// Workers scan chunks in parallel; 0 means GOMAXPROCS.
	Workers int
	// Stdin is read for the name "-".
	Stdin io.Reader
	// OnError is told of each input that cannot be read, or fails part way;
	// the source goes on with the next input.
	OnError func(error)
	// Debug, when set, is told of each malformed line and of each input.
	Debug func(string)
	// OnlyLogins drops failures and rejects in the workers, for a reader
	// that wants nothing else (loganom postfix-sasl); they are still counted.
	OnlyLogins bool
	// OnFailure, with OnlyLogins, is told of each failed login's address
	// and time instead (in the order of the log, before the records of
	// the same stretch of it): a reader that wants no more of failures
	// than that (the detectors) spares them the way through the stages.
	OnFailure func(ip string, at time.Time)
	// Reuse, when set, is asked after the records of each stretch of the
	// input were emitted, and returns how many of the records emitted
	// last are still held downstream: it promises that nothing downstream
	// holds a record emitted before those (a pointer to it: its strings
	// are its own and may be kept), and lets the reader parse the next
	// records into their memory instead of allocating more. It fits a
	// consumer that lets records go in the order it got them (loganom
	// postfix-sasl: its stages keep no record once it has passed them,
	// except the enricher's window, first in, first out). Without it,
	// every record is allocated anew and left to the collector.
	Reuse func() (held int)
	// Poison, for tests, overwrites records with nonsense when they are
	// given back for reuse: a stage that kept one, breaking Reuse's
	// promise, then reads the nonsense and the test's output shows it.
	Poison bool
	// Now is the clock, for tests; nil means time.Now.
	Now func() time.Time
	// Resume, when not nil, reads only what is new in each named log
	// file: from its mark, by the log's name as given (a name without
	// one is read whole), across logrotate's rotations (input.Plan). The
	// records' SrcFile is then the file read (the log, or a rotated
	// sibling holding the rest of what was read last time), and SrcLine
	// counts the lines from where that file's reading began. The last
	// line of a log without its newline, still being written, is left
	// for the next run. Source.Marks gives the marks to save. Stdin and
	// what is not a regular file are read whole, as without Resume, and
	// get no mark.
	Resume map[string]*input.Mark
	// Rotated: with Resume, a log without a mark (read for the first
	// time) is read with the files rotated from it, the oldest first,
	// each whole, then the log (input.PlanRotated): the weeks already on
	// disk, which the detectors learn the accounts' usual places from.
	Rotated bool
	// Warn is told of what a resumed reading could not follow (the rest
	// of a rotated log not found, and so on); nil: nobody.
	Warn func(string)
	// Note is told of each rotation a follower follows (input.Follower's
	// Note); nil: nobody.
	Note func(string)
}

// Stats counts what a Source read.
type Stats struct {
	Inputs       int   // inputs opened
	Failed       int   // inputs that could not be read, or failed part way
	Lines        int64 // lines read
	Logins       int64
	AuthFailures int64
	Rejects      int64
	Malformed    int64 // lines that look like events but do not parse
	TooLong      int64 // lines of MaxLine bytes or more, skipped
	// MailLines counts lines seen to come from Postfix: every event, and
	// in each piece of input that a worker takes at once (256 KiB of a
	// file, up to 1 MiB of a stream) without one, the first line whose
	// program's name starts with "postfix" (written out as such). Most
	// lines are never looked at, so it is not how many there are; but it
	// is zero only when no line of the input came from a program so named
	// and none was an event: when the input does not look like a mail log.
	MailLines int64
}

// Events is the number of records emitted.
func (s Stats) Events() int64 { return s.Logins + s.AuthFailures + s.Rejects }

func (s *Stats) add(o Stats) {
	s.Lines += o.Lines
	s.Logins += o.Logins
	s.AuthFailures += o.AuthFailures
	s.Rejects += o.Rejects
	s.Malformed += o.Malformed
	s.TooLong += o.TooLong
	s.MailLines += o.MailLines
}

// InputsError says how many inputs failed; each was passed to OnError.
type InputsError struct{ Failed, Total int }

func (e *InputsError) Error() string {
	return fmt.Sprintf("%d of %d inputs could not be read in full", e.Failed, e.Total)
}

// Source reads log files (or stdin, named "-") in the order given and emits
// their events. It is a record.Source.
type Source struct {
	Names []string
	Opts  Options
	Stats Stats
	// Empty names, after Run, the inputs that had no line at all when no
	// input had one (a log not resumed, read from its start): a wrong
	// path, or a log just rotated. Each is passed on as an input_error
	// record whose reason is record.EmptyInput, and a report gives no
	// all-clear; an empty input beside one with lines is not named.
	Empty []string

	pool  chan []byte
	alloc int
	// spent holds results of encoded chunks, written out, for reuse: their
	// buffers are big, and fresh memory costs page faults.
	spent chan *result
	// write, when set (by RunNDJSON), receives the records already encoded
	// by the workers, a chunk at a time, instead of emit.
	write func([]byte) error
	// marks are the marks of the logs resumed, by name as given.
	marks map[string]input.Mark
	// slabs holds memory for records given back by the merger when
	// Options.Reuse lets go, for the workers to parse into again.
	slabs chan []record.Record
}

// Run reads every input. An input that cannot be read is reported to
// OnError, passed on as an input_error record, and the others are still
// read; Run then returns an *InputsError.
// When emit returns an error (record.ErrStop included), reading stops and
// that error is returned. emit, and Options.OnFailure and Options.Reuse,
// are called one at a time, in input order, but from the workers'
// goroutines (they merge), not Run's: a callback must return (a test's
// t.Fatal in one stops the run with an error, see pipeline.mergeHeld).
func (s *Source) Run(emit record.Emit) error {
	names := s.Names
	if len(names) == 0 {
		names = []string{"-"}
	}
	s.Empty = nil
	for _, name := range names {
		lines := s.Stats.Lines
		var err error
		resumed := s.resumes(name)
		if resumed {
			err = s.runResume(name, emit)
		} else {
			err = s.runOne(name, emit)
		}
		if derr, ok := fromDownstream(err); ok {
			return derr
		}
		if err == errReported {
			s.Stats.Failed++
			continue
		}
		if err != nil {
			s.Stats.Failed++
			if s.Opts.OnError != nil {
				s.Opts.OnError(err)
			}
			if err := s.inputError(name, s.Stats.Lines-lines, err, emit); err != nil {
				return err
			}
		} else if !resumed && s.Stats.Lines == lines {
			s.Empty = append(s.Empty, displayName(name))
		}
	}
	if s.Stats.Lines > 0 {
		s.Empty = nil // an input with lines: the run saw a log
	}
	for _, name := range s.Empty {
		if err := s.inputError(name, 0, errEmpty, emit); err != nil {
			return err
		}
	}
	if s.Stats.Failed > 0 {
		return &InputsError{s.Stats.Failed, len(names)}
	}
	return nil
}

// inputError passes on, in the stream of records, that an input could not
// be read in full: a record of type input_error (record.TypeInputError)
// naming the input, the lines read before the error and the error, so
// that a report at the end of a pipe knows what it did not see.
func (s *Source) inputError(name string, lines int64, err error, emit record.Emit) error {
	name = displayName(name)
	r := &record.Record{Type: record.TypeInputError, SrcFile: name, SrcLine: lines, Reason: err.Error()}
	if s.write != nil {
		return s.write(append(record.AppendJSON(nil, r), '\n'))
	}
	return emit(r)
}

// displayName is how an input is named in records and messages: stdin
// for "-".
func displayName(name string) string {
	if name == "-" {
		return "stdin"
	}
	return name
}

// errEmpty is the reason of the input_error record of an empty input
// (Source.Empty): record.EmptyInput.
var errEmpty = errors.New(record.EmptyInput)

// RunNDJSON reads every input, like Run, and writes the events as NDJSON
// (the same bytes record.Writer would write) to write, a chunk at a time.
// The workers encode the records they parse, so this is much cheaper than
// Run followed by a record.Writer: it is what loganom-parse does, having no
// stage after the parser. An error from write stops the reading and is
// returned.
func (s *Source) RunNDJSON(write func([]byte) error) error {
	s.write = write
	defer func() { s.write = nil }()
	return s.Run(nil)
}

// downstreamError is an error from emit or write, that is from downstream,
// not from reading an input: it stops the whole Source, and Run returns
// the error it wraps.
type downstreamError struct{ err error }

func (e downstreamError) Error() string { return e.err.Error() }
func (e downstreamError) Unwrap() error { return e.err }

// fromDownstream returns the error that downstreamError err wraps, and
// whether err is one.
func fromDownstream(err error) (error, bool) {
	var d downstreamError
	if errors.As(err, &d) {
		return d.err, true
	}
	return nil, false
}

func (s *Source) now() time.Time {
	if s.Opts.Now != nil {
		return s.Opts.Now()
	}
	return time.Now()
}

func (s *Source) runOne(name string, emit record.Emit) error {
	in, err := input.Open(name, s.Opts.Stdin)
	if err != nil {
		return err
	}
	defer in.Close()
	// A regular file is dated by its modification time, and the workers
	// may read it themselves; a stream is dated now, and is live: what a
	// read brings is handed on at once.
	ref, live := s.now(), true
	if in.File != nil {
		ref, live = in.ModTime, false
	}
	display := in.Name
	s.Stats.Inputs++
	dr, kind, release, err := input.Decompress(in.R)
	if err != nil {
		return fmt.Errorf("%s: %w", display, err)
	}
	defer release()
	lp := LineParser{Loc: s.Opts.Loc, Year: s.Opts.Year, Ref: ref}
	before := s.Stats
	if kind == input.Plain && in.File != nil {
		_, err = s.scan(display, lp, emit, 0, func(pl *pipeline) (int64, error) { return 0, pl.planChunks(in.File, 0, in.Size) })
	} else {
		_, err = s.scan(display, lp, emit, 0, func(pl *pipeline) (int64, error) { return pl.readChunks(dr, live && kind == input.Plain) })
	}
	if s.Opts.Debug != nil {
		d := s.Stats
		s.Opts.Debug(fmt.Sprintf("%s: %s, %d lines, %d logins, %d auth failures, %d rejects, %d malformed, %d too long",
			display, kind, d.Lines-before.Lines, d.Logins-before.Logins, d.AuthFailures-before.AuthFailures,
			d.Rejects-before.Rejects, d.Malformed-before.Malformed, d.TooLong-before.TooLong))
	}
	if _, ok := fromDownstream(err); err != nil && !ok {
		return fmt.Errorf("%s: %w", display, err)
	}
	return err
}

// chunk is a run of whole lines handed to a worker. Either a reader has
// filled data (a stream), or the worker reads the lines that start in
// [off, end) of f itself (a plain regular file): then the workers read in
// parallel, each into its own buffer, and parse what is still in its cache.
type chunk struct {
	buf     []byte // the pooled buffer that data is in
	data    []byte
	skipped int64 // overlong lines the reader dropped just before data
	json    bool  // journald JSON: every line is parsed

	f              *os.File
	off, end, size int64

	// at is where a stream's chunk ends in the input: the bytes read
	// before its end, dropped overlong lines included.
	at int64

	res chan *result
}

type result struct {
	// recs and bad carry line numbers relative to the chunk (its first
	// line is 1): only the merger, taking chunks in order, knows how many
	// lines came before.
	recs []*record.Record
	// slabs are the slabs recs live in (with Options.Reuse).
	slabs [][]record.Record
	// enc holds the records as NDJSON, when encoding, each without its line
	// number: the record ends in `"src":"NAME"}`, and cuts[i] is where the
	// `"}` of record i starts, to be preceded by ":" and the line number
	// base+rels[i].
	enc   []byte
	cuts  []int
	rels  []int64
	stats Stats
	bad   []badLine
	fails []failure // with Options.OnFailure
	err   error     // reading the file failed
	// end is where the lines of a file chunk end in the file, -1 when
	// the chunk holds none.
	end int64
}

type badLine struct {
	line int64
	why  string
}

func (s *Source) workers() int {
	if s.Opts.Workers > 0 {
		return s.Opts.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// pipeline carries one input through the three parts of scan. The
// producer (readChunks for a stream, planChunks for a plain regular file)
// cuts the input into chunks and sends each to the workers and, in the
// same order, to the merger. The workers (worker.run) parse the chunks in
// parallel. The merger takes their results in input order and emits the
// records, or writes them when the workers encoded them: scan's goroutine
// (pipeline.merge), or, with stages to run (combine), the workers
// themselves (pipeline.pump), one at a time, and scan's goroutine what is
// left once they are done.
type pipeline struct {
	s          *Source
	name       string        // the input's name in records, valid UTF-8
	jobs       chan *chunk   // to the workers
	order      chan *chunk   // to the merger, in input order
	done       chan struct{} // closed when the merger stops early
	maxBufs    int           // buffers the producer may allocate, in all
	json       bool          // journald JSON, as far as the producer knows
	encode     bool          // the workers encode the records (RunNDJSON)
	onlyLogins bool          // the workers drop failures and rejects
	failures   bool          // … and collect the failures' address and time
	reuse      bool          // records' memory is reused (Options.Reuse)

	// Written by the producer, read by the merger once order is closed.
	tailLong int64 // overlong lines dropped after the last chunk
	readErr  error
	read     int64 // bytes a stream's producer read, in all

	// base is the offset in the input (uncompressed) that reading began
	// at; pos, the merger's, is where the lines of the chunks emitted
	// so far end, in the input.
	base, pos int64

	// combine: the workers merge (see pump), not scan's goroutine,
	// which only waits for them and merges what is left at the end.
	combine bool
	// merging is held by whoever merges: with combine, a worker that
	// finished a chunk; else scan's goroutine, throughout.
	merging sync.Mutex
	// parsed counts the chunks the workers have finished (combine), for
	// a worker that leaves the merge to tell whether it left one behind.
	parsed  atomic.Int64
	workers sync.WaitGroup

	// The merger's own (with merging held).
	emit    record.Emit
	head    *chunk // the next chunk to merge, taken from order, its result not in yet
	lines   int64  // lines of the input before the next chunk
	stopErr error  // from downstream, or reading a file chunk
	out     []byte // an encoded chunk with its line numbers spliced in
	// held are the slabs of the records emitted that downstream may
	// still hold (Options.Reuse), in the order emitted, each with the
	// count of records emitted up to the end of its chunk (emitted, then):
	// given back once downstream holds none of them.
	held    []heldSlab
	emitted int64 // records emitted, in all
}

// scan reads one input: produce cuts it into chunks in a goroutine of its
// own, workers parse them in parallel, and the merger emits their records
// in input order (see pipeline). produce returns the number of
// overlong lines it dropped at the very end of the input, and the read
// error, if any. Memory is bounded by the number of chunks in flight.
//
// base is the offset in the input that reading begins at; scan returns
// the pipeline, whose pos then says how far the lines emitted go.
func (s *Source) scan(name string, lp LineParser, emit record.Emit, base int64, produce func(*pipeline) (int64, error)) (*pipeline, error) {
	nw := s.workers()
	pl := s.newPipeline(name, nw)
	pl.base, pl.pos, pl.emit = base, base, emit
	go pl.produce(produce)
	pl.workers.Add(nw)
	for i := 0; i < nw; i++ {
		go (&worker{lp: lp}).run(pl)
	}
	if pl.combine {
		pl.workers.Wait()
	}
	pl.merging.Lock()
	defer pl.merging.Unlock()
	return pl, pl.merge()
}

// newPipeline makes the pipeline of one input, read by nw workers. The
// buffers of chunks and the results of encoded chunks are pooled in s,
// from one input to the next.
func (s *Source) newPipeline(name string, nw int) *pipeline {
	maxBufs := 2*nw + 2
	// Records handed to stages are merged by the workers (pump): a
	// worker that finishes the chunk next in order emits its records
	// while they are still in its core's cache, where a merger of its
	// own would take every record's lines from another core's (the
	// stages' cost per record, halved) and be woken for every chunk.
	// Encoded chunks cost the merger a copy: it stays apart.
	encode := s.write != nil
	combine := !encode && nw > 1
	// window: the chunks in flight, read and not yet merged. A stream's
	// are bounded by its buffers (maxBufs, of MaxLine bytes each); a
	// file's hold only their records. Workers that merge need room to
	// go on parsing while one of them merges a run of chunks: with 6 in
	// flight, one of the 2 cores of a VM idled for a quarter of the run
	// (GODEBUG=schedtrace), and the wrapper took 1.43 times loganom-parse
	// alone on the 300 MB log; with 24, 1.27; 48, 1.22; 96, 1.28
	// (scripts/benchcmp, 21 rounds), for 1 to 5 MB more. loganom-parse
	// alone did not change.
	window := maxBufs
	if combine {
		window = max(window, min(combineChunks*nw, 4*combineChunks))
	}
	if s.pool == nil {
		s.pool = make(chan []byte, maxBufs)
		s.spent = make(chan *result, window+nw)
	}
	reuse := s.Opts.Reuse != nil && !encode
	if reuse && s.slabs == nil {
		s.slabs = make(chan []record.Record, maxSlabs+4*window)
	}
	if !utf8.ValidString(name) {
		name = toValidUTF8(name) // as record.Encoder would write it
	}
	return &pipeline{
		s:          s,
		name:       name,
		jobs:       make(chan *chunk, window),
		order:      make(chan *chunk, window),
		done:       make(chan struct{}),
		maxBufs:    maxBufs,
		encode:     encode,
		combine:    combine,
		onlyLogins: s.Opts.OnlyLogins,
		failures:   s.Opts.OnFailure != nil,
		reuse:      reuse,
	}
}

// produce runs the producer, then tells the workers and the merger that
// no chunk follows.
func (pl *pipeline) produce(produce func(*pipeline) (int64, error)) {
	defer close(pl.order)
	defer close(pl.jobs)
	pl.tailLong, pl.readErr = produce(pl)
}

// buffer returns a pooled buffer of maxLine bytes for the producer to fill:
// a new one while fewer than maxBufs exist, else the next one the merger
// gives back; nil once the merger has stopped.
func (pl *pipeline) buffer() []byte {
	s := pl.s
	select {
	case b := <-s.pool:
		return b
	default:
	}
	if s.alloc < pl.maxBufs {
		s.alloc++
		return make([]byte, maxLine)
	}
	select {
	case b := <-s.pool:
		return b
	case <-pl.done:
		return nil
	}
}

// send hands c to the workers and, in the same order, to the merger. It is
// called by the producer only, which alone writes pl.json. It returns
// false when the merger has stopped.
func (pl *pipeline) send(c *chunk) bool {
	c.res = make(chan *result, 1)
	c.json = pl.json
	select {
	case pl.order <- c:
	case <-pl.done:
		return false
	}
	pl.jobs <- c
	return true
}

// worker parses chunks with a parser of its own, whose caches are written
// on every line: the padding keeps two workers' parsers off a shared cache
// line.
type worker struct {
	_   [64]byte
	lp  LineParser
	buf []byte // what file chunks are read into
	_   [64]byte
}

// run parses the chunks sent to the workers until there are no more, and
// hands each chunk's result to the merger through the chunk.
func (w *worker) run(pl *pipeline) {
	defer pl.workers.Done()
	for c := range pl.jobs {
		c.res <- w.parse(pl, c)
		if pl.combine {
			pl.parsed.Add(1)
			pl.pump()
		}
	}
}

// pump merges the chunks whose results are in, in order, up to the first
// still being parsed, unless another worker is merging: that one then
// merges this worker's chunk too, if it is next. A worker that leaves the
// merge looks again if a chunk was finished meanwhile, whose worker, not
// getting the merge, left it to this one.
func (pl *pipeline) pump() {
	for {
		if !pl.merging.TryLock() {
			return
		}
		seen := pl.parsed.Load()
		pl.mergeHeld()
		if pl.parsed.Load() == seen {
			return
		}
	}
}

// errLeft: a callback (emit, Options.OnFailure, Options.Reuse) called on a
// worker never returned to the merge.
var errLeft = errors.New("parse: a callback did not return (runtime.Goexit, or a panic)")

// mergeHeld is mergeReady, pl.merging held, and unlocks it. When the merge
// does not return, a callback having called runtime.Goexit (t.FailNow in a
// test's emit) or panicked on this worker, it stops the pipeline before
// unlocking: else the merge stayed locked, the other workers left every
// chunk to it, and Run waited for ever (a test that failed so hung until
// the test binary's timeout, its message lost).
func (pl *pipeline) mergeHeld() {
	returned := false
	defer func() {
		if !returned && pl.stopErr == nil {
			pl.stop(downstreamError{errLeft})
		}
		pl.merging.Unlock()
	}()
	pl.mergeReady()
	returned = true
}

// mergeReady merges, in order, the chunks whose results are in, without
// waiting for any.
func (pl *pipeline) mergeReady() {
	for {
		c := pl.head
		if c == nil {
			var ok bool
			select {
			case c, ok = <-pl.order:
				if !ok {
					return
				}
			default:
				return
			}
		}
		select {
		case res := <-c.res:
			pl.head = nil
			pl.mergeChunk(c, res)
		default:
			pl.head = c
			return
		}
	}
}

// parse reads c, when it is a range of a file, and parses it. Once the
// merger has stopped, it returns an empty result at once.
func (w *worker) parse(pl *pipeline, c *chunk) *result {
	select {
	case <-pl.done:
		return &result{}
	default:
	}
	data := c.data
	var long bool
	end := int64(-1)
	if c.f != nil {
		var err error
		data, long, end, err = readOwned(c, &w.buf)
		if err != nil {
			return &result{err: err}
		}
	}
	res := pl.newResult()
	res.end = end
	parseChunk(&w.lp, pl, data, c.json, res)
	if long {
		res.stats.Lines++
		res.stats.TooLong++
	}
	return res
}

// newResult returns an empty result for a worker to fill: one the merger
// has written out or emitted, if any, for its buffers (fresh memory costs
// page faults, and the collector's work).
func (pl *pipeline) newResult() *result {
	select {
	case res := <-pl.s.spent:
		return res
	default:
	}
	if !pl.encode {
		return new(result)
	}
	return &result{enc: make([]byte, 0, 64<<10)}
}

// recycle gives the result of a chunk whose records were emitted back for
// a worker to fill again (newResult), its slices emptied: the records
// themselves are downstream's (or the slabs', with Options.Reuse).
func (pl *pipeline) recycle(res *result) {
	clear(res.recs)
	clear(res.fails)
	recs, slabs := res.recs[:0], res.slabs[:0]
	res.reset()
	res.recs, res.slabs = recs, slabs
	select {
	case pl.s.spent <- res:
	default:
	}
}

// merge takes the results of the chunks in input order, as the producer
// sent them, and emits their records (or writes their bytes, when the
// workers encoded them) with line numbers made absolute. It adds up the
// stats of the input in s.Stats. It returns the first error, from
// downstream (a downstreamError) or from reading a file chunk, after which
// it stops the producer and the workers and drains what they had under
// way; else the producer's read error.
func (pl *pipeline) merge() error {
	s := pl.s
	if c := pl.head; c != nil { // (combine) the workers are done: its result is in
		pl.head = nil
		pl.mergeChunk(c, <-c.res)
	}
	for c := range pl.order {
		pl.mergeChunk(c, <-c.res)
	}
	if pl.stopErr != nil {
		return pl.stopErr
	}
	s.Stats.TooLong += pl.tailLong
	s.Stats.Lines += pl.tailLong
	return pl.readErr
}

// mergeChunk merges the chunk c, whose result is res, the chunks before
// it merged: see merge. The caller holds pl.merging.
func (pl *pipeline) mergeChunk(c *chunk, res *result) {
	s := pl.s
	if c.buf != nil {
		s.pool <- c.buf
	}
	if pl.stopErr != nil {
		return // draining after a stop
	}
	if res.err != nil {
		pl.stop(res.err)
		return
	}
	base := pl.lines + c.skipped
	s.Stats.Lines += c.skipped
	s.Stats.TooLong += c.skipped
	s.Stats.add(res.stats)
	if s.Opts.Debug != nil {
		for _, b := range res.bad {
			s.Opts.Debug(fmt.Sprintf("%s:%d: malformed line: %s", pl.name, base+b.line, b.why))
		}
	}
	lines, end := res.stats.Lines, res.end // writeEncoded resets res
	for _, f := range res.fails {
		s.Opts.OnFailure(f.ip, f.at)
	}
	var err error
	if pl.encode {
		err = pl.writeEncoded(res, base)
	} else {
		err = emitRecords(res.recs, base, pl.emit)
	}
	if err != nil {
		pl.stop(downstreamError{err})
		return
	}
	if pl.reuse {
		pl.giveBack(res)
	}
	if !pl.encode {
		pl.recycle(res)
	}
	pl.lines = base + lines
	switch {
	case c.f == nil:
		pl.pos = pl.base + c.at
	case end > pl.pos:
		pl.pos = end
	}
}

// giveBack adds the slabs of the records just emitted to those held,
// then hands the workers, for reuse, the slabs of every chunk whose
// records downstream no longer holds (Options.Reuse: it holds only the
// records emitted last). Past a bound, the oldest are left to the
// collector.
func (pl *pipeline) giveBack(res *result) {
	pl.emitted += int64(len(res.recs))
	for _, sl := range res.slabs {
		pl.held = append(pl.held, heldSlab{sl, pl.emitted})
	}
	clear(res.slabs)
	res.slabs = res.slabs[:0]
	free := pl.emitted - int64(max(pl.s.Opts.Reuse(), 0)) // records before this one are let go
	n := 0
	for n < len(pl.held) && pl.held[n].end <= free {
		sl := pl.held[n].sl
		if pl.s.Opts.Poison {
			poison(sl)
		}
		select {
		case pl.s.slabs <- sl:
		default: // the pool is full
		}
		n++
	}
	if over := len(pl.held) - n - cap(pl.s.slabs); over > 0 {
		n += over // the oldest still held, to the collector
	}
	m := copy(pl.held, pl.held[n:])
	clear(pl.held[m:])
	pl.held = pl.held[:m]
}

// combineChunks is the chunks in flight per worker when the workers
// merge (see newPipeline's window).
const combineChunks = 24

// maxSlabs bounds the slabs held (beyond those of the chunks in flight):
// enough for the records an enricher holds while it gathers addresses to
// ask its cache in one query (some 4,000: 40 chunks of a log of logins),
// about 3 MB.
const maxSlabs = 64

// heldSlab is a slab of records emitted, which downstream may still hold:
// end is the count of records emitted when its chunk's were.
type heldSlab struct {
	sl  []record.Record
	end int64
}

// poisoned is what Options.Poison writes over records given back.
var poisoned = record.Record{Type: record.TypeLogin, User: "poisoned@reused.invalid", IP: "192.0.2.254",
	Time: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), SrcFile: "poisoned", Country: "AQ", FilteredBy: "poisoned: reused"}

func poison(sl []record.Record) {
	for i := range sl {
		sl[i] = poisoned
	}
}

// slab returns memory for records, about n of them: a slab the merger
// gave back, when reusing and there is one, else a new one. Its records
// are not cleared: each is cleared as it is taken (next).
func (pl *pipeline) slab(n int, res *result) []record.Record {
	if !pl.reuse {
		return make([]record.Record, n)
	}
	var sl []record.Record
	select {
	case sl = <-pl.s.slabs:
		sl = sl[:cap(sl)]
	default:
		sl = make([]record.Record, n)
	}
	res.slabs = append(res.slabs, sl)
	return sl
}

// stop keeps the merger's first error and tells the producer and the
// workers to stop.
func (pl *pipeline) stop(err error) {
	pl.stopErr = err
	close(pl.done)
}

// emitRecords emits the records of a chunk, adding base, the lines of the
// input before the chunk, to their line numbers.
func emitRecords(recs []*record.Record, base int64, emit record.Emit) error {
	for _, rec := range recs {
		rec.SrcLine += base
		if err := emit(rec); err != nil {
			return err
		}
	}
	return nil
}

// writeEncoded splices the line numbers, base plus each record's line in
// the chunk, into the records a worker encoded, gives res back for reuse,
// and writes the chunk's bytes.
func (pl *pipeline) writeEncoded(res *result, base int64) error {
	out := pl.out[:0]
	prev := 0
	for i, cut := range res.cuts {
		out = append(out, res.enc[prev:cut]...)
		out = append(out, ':')
		out = strconv.AppendInt(out, base+res.rels[i], 10)
		prev = cut
	}
	out = append(out, res.enc[prev:]...)
	pl.out = out
	res.reset()
	select {
	case pl.s.spent <- res:
	default:
	}
	if len(out) == 0 {
		return nil
	}
	return pl.s.write(out)
}

// readChunks, the producer of a stream, fills chunks with whole lines from
// r and sends them, in order, to the workers and to the merger. It returns
// the number of overlong lines it dropped after the last chunk, and the
// read error, if any. A live input (a pipe) is handed on as soon as a read
// brings whole lines; a file or a decompressor fills whole chunks.
func (pl *pipeline) readChunks(r io.Reader, live bool) (int64, error) {
	var skipped int64 // overlong lines dropped since the last chunk
	buf := pl.buffer()
	if buf == nil {
		return 0, nil
	}
	n := 0
	skipping := false
	first := true
	send := func(cut int) bool {
		nb := pl.buffer()
		if nb == nil {
			return false
		}
		rest := copy(nb, buf[cut:n])
		c := &chunk{buf: buf, data: buf[:cut], skipped: skipped, at: pl.read - int64(n-cut)}
		skipped = 0
		if !pl.send(c) {
			return false
		}
		buf, n = nb, rest
		return true
	}
	for {
		space := len(buf) - n
		m, err := r.Read(buf[n:])
		n += m
		pl.read += int64(m)
		if skipping {
			i := bytes.IndexByte(buf[:n], '\n')
			if i >= 0 {
				n = copy(buf, buf[i+1:n])
				skipping = false
			} else {
				n = 0
			}
		}
		if first && n > 0 {
			if t := bytes.TrimLeft(buf[:n], " \t\r\n"); len(t) > 0 {
				first, pl.json = false, t[0] == '{'
			}
		}
		if err != nil {
			if n > 0 && !send(n) {
				return 0, nil
			}
			if err == io.EOF {
				err = nil
			}
			pl.s.pool <- buf
			return skipped, err
		}
		if skipping {
			continue
		}
		if n == len(buf) || live && m > 0 && m < space {
			last := bytes.LastIndexByte(buf[:n], '\n')
			switch {
			case last >= 0:
				if !send(last + 1) {
					return 0, nil
				}
			case n == len(buf): // a line longer than a chunk: drop it
				skipped++
				skipping = true
				n = 0
			}
		}
	}
}

// planChunks, the producer of a plain regular file, cuts the lines of the
// file that start in [start, size) into chunks that the workers read
// themselves. start is 0 or the start of a line; the file is not read
// past size.
func (pl *pipeline) planChunks(f *os.File, start, size int64) error {
	// journald JSON or not, from the first byte that is not white space,
	// as a stream is judged.
	head := make([]byte, 4096)
	for off := int64(0); off < size; {
		n, err := f.ReadAt(head, off)
		if err != nil && err != io.EOF {
			return err
		}
		if t := bytes.TrimLeft(head[:n], " \t\r\n"); len(t) > 0 {
			pl.json = t[0] == '{'
			break
		}
		if n == 0 {
			break
		}
		off += int64(n)
	}
	cs := int64(chunkSize)
	for off := start; off < size; off += cs {
		if !pl.send(&chunk{f: f, off: off, end: min(off+cs, size), size: size}) {
			return nil
		}
	}
	return nil
}

// readAhead is how far past its end a worker reads a file chunk to finish
// its last line, which starts in the chunk; a longer line is read again
// with a bigger buffer.
const readAhead = 16 << 10

// readOwned reads, into *buf, the lines of c.f whose first byte lies in
// [c.off, c.end): a line belongs to the chunk it starts in. It returns
// them, whether a last line of maxLine bytes or more was left out (to be
// counted as too long), and the offset in the file where the lines
// returned end (-1 when there are none).
func readOwned(c *chunk, buf *[]byte) (data []byte, long bool, end int64, err error) {
	start := c.off
	if start > 0 {
		start-- // to see whether a line starts at off
	}
	ahead := int64(min(readAhead, maxLine+1))
	for {
		want := min(c.end+ahead, c.size) - start
		if int64(cap(*buf)) < want {
			*buf = make([]byte, want)
		}
		b := (*buf)[:want]
		n, err := c.f.ReadAt(b, start)
		if err != nil && err != io.EOF {
			return nil, false, -1, err
		}
		b = b[:n]
		eof := start+int64(n) >= c.size || n < len(b) || err == io.EOF
		limit := int(c.end - start) // b[:limit] is the chunk itself
		if limit > n {
			limit = n
		}
		i := 0
		if c.off > 0 {
			// The first line starts after the first newline, which must
			// come before the chunk's end.
			j := bytes.IndexByte(b[:limit], '\n')
			if j < 0 || int64(j)+start >= c.end-1 {
				return nil, false, -1, nil // the chunk is inside a line started earlier
			}
			i = j + 1
		}
		// The last line is the one holding the chunk's last byte.
		ls := bytes.LastIndexByte(b[i:limit], '\n') + 1 + i
		if ls == limit {
			return b[i:limit], false, start + int64(limit), nil // the chunk ends with a newline
		}
		le := bytes.IndexByte(b[limit:], '\n')
		switch {
		case le >= 0 && limit+le-ls < maxLine:
			return b[i : limit+le+1], false, start + int64(limit+le+1), nil
		case le >= 0 || n-ls >= maxLine:
			return b[i:ls], true, start + int64(ls), nil
		case eof:
			return b[i:n], false, start + int64(n), nil // a last line without a newline
		}
		// The last line goes on past what was read: read enough to tell
		// whether it is too long.
		ahead = int64(maxLine) + 1
	}
}

// parseChunk, the work of a worker, parses with lp the lines of data (a
// chunk) that carry a marker (every line, for journald JSON), and counts
// all lines, into res: its records, encoded when pl.encode, and its
// stats. Line numbers are relative to the chunk.
func parseChunk(lp *LineParser, pl *pipeline, data []byte, json bool, res *result) {
	onlyLogins, failures := pl.onlyLogins, pl.failures
	// Encoded at once and cleared, a record may borrow the parser's memory.
	lp.borrow = pl.encode
	lp.dropOthers = onlyLogins
	defer func() { lp.borrow, lp.dropOthers = false, false }()
	var lineNo int64 // lines before counted
	counted := 0
	var slab []record.Record // records are allocated in slabs
	rec := &lp.rec           // encoded at once, one record will do
	if !pl.encode {
		// The first slab is about as large as the last chunk's records
		// (chunks are alike), the next ones a quarter of that: few
		// records allocated and left unused, which the collector would
		// still clear and scan.
		before := len(res.recs)
		defer func() { lp.recs = len(res.recs) - before }()
		slab = pl.slab(max(8, lp.recs+lp.recs/8+1), res)
		rec = &slab[0]
		slab = slab[1:]
		if pl.reuse {
			*rec = record.Record{}
		}
	}
	handle := func(ls, le int) {
		lineNo += int64(bytes.Count(data[counted:ls], nl))
		lineNo++
		counted = min(le+1, len(data))
		switch kind, why := lp.Parse(data[ls:le], rec); kind {
		case Event:
			res.stats.MailLines++
			switch rec.Type {
			case record.TypeLogin:
				res.stats.Logins++
			case record.TypeAuthFailure:
				res.stats.AuthFailures++
			case record.TypeReject:
				res.stats.Rejects++
			}
			if onlyLogins && rec.Type != record.TypeLogin {
				if failures && rec.Type == record.TypeAuthFailure && rec.IP != "" {
					// (the record borrowed the parser's memory)
					res.fails = append(res.fails, failure{strings.Clone(rec.IP), rec.Time})
				}
				*rec = record.Record{}
				return
			}
			if pl.encode {
				// Without its line number, the record ends in
				// `"src":"NAME"}`; the merger puts the number in.
				rec.SrcFile = pl.name
				res.enc = lp.enc.AppendJSON(res.enc, rec)
				res.cuts = append(res.cuts, len(res.enc)-2)
				res.rels = append(res.rels, lineNo)
				res.enc = append(res.enc, '\n')
				*rec = record.Record{}
				return
			}
			rec.SrcFile, rec.SrcLine = pl.name, lineNo
			res.recs = append(res.recs, rec)
			if len(slab) == 0 {
				slab = pl.slab(max(8, lp.recs/4), res)
			}
			rec = &slab[0]
			slab = slab[1:]
			if pl.reuse {
				*rec = record.Record{} // a slab given back holds old records
			}
		case Malformed:
			res.stats.Malformed++
			res.bad = append(res.bad, badLine{lineNo, why})
			*rec = record.Record{}
		default:
			*rec = record.Record{}
		}
	}
	if json {
		for pos := 0; pos < len(data); {
			le := lineEnd(data, pos)
			handle(pos, le)
			pos = le + 1
		}
	} else {
		var m markerScan
		for pos := 0; pos < len(data); {
			best := m.next(data, pos)
			if best < 0 {
				break
			}
			ls := lastNewline(data[pos:best]) + 1 + pos
			le := lineEnd(data, best)
			handle(ls, le)
			pos = le + 1
		}
	}
	if res.stats.MailLines == 0 && lp.postfixLine(data) {
		res.stats.MailLines++
	}
	lineNo += int64(bytes.Count(data[counted:], nl))
	if counted < len(data) && data[len(data)-1] != '\n' {
		lineNo++ // a last line without a newline, not handled above
	}
	res.stats.Lines = lineNo
}

// postfixLine says whether a line of data comes from a program whose name
// starts with "postfix". In a mail log the first line does, and the search
// ends there.
func (p *LineParser) postfixLine(data []byte) bool {
	for i := 0; i < len(data); {
		k := indexPostfix(data, i)
		if k < 0 {
			return false
		}
		ls := lastNewline(data[i:k]) + 1 + i // i is a line start
		le := lineEnd(data, k)
		var h header
		if p.header(bytes.TrimRight(data[ls:le], "\r"), &h) && bytes.HasPrefix(h.prog, postfixName) {
			return true
		}
		i = le + 1
	}
	return false
}

var postfixName = []byte("postfix")

// indexPostfix returns the index of the first "postfix" at or after from
// in data, or -1. It looks for the 'x', rarer in logs than the 'p' that
// bytes.Index would look for, and fast to find.
func indexPostfix(data []byte, from int) int {
	const n = len("postfix")
	for i := from + n - 1; i < len(data); {
		k := bytes.IndexByte(data[i:], 'x')
		if k < 0 {
			return -1
		}
		i += k
		if string(data[i-n+1:i+1]) == "postfix" {
			return i - n + 1
		}
		i++
	}
	return -1
}

// reset empties a result for reuse, keeping its buffers.
func (r *result) reset() {
	*r = result{enc: r.enc[:0], cuts: r.cuts[:0], rels: r.rels[:0], bad: r.bad[:0], fails: r.fails[:0]}
}

// failure is a failed login, for Options.OnFailure.
type failure struct {
	ip string
	at time.Time
}

var nl = []byte{'\n'}

// lineEnd returns the index of the newline that ends the line holding
// data[i], or len(data).
func lineEnd(data []byte, i int) int {
	if le := bytes.IndexByte(data[i:], '\n'); le >= 0 {
		return i + le
	}
	return len(data)
}
