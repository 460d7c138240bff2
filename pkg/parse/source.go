package parse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
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
	// Now is the clock, for tests; nil means time.Now.
	Now func() time.Time
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

	pool  chan []byte
	alloc int
	// spent holds results of encoded chunks, written out, for reuse: their
	// buffers are big, and fresh memory costs page faults.
	spent chan *result
	// write, when set (by RunNDJSON), receives the records already encoded
	// by the workers, a chunk at a time, instead of emit.
	write func([]byte) error
}

// Run reads every input. An input that cannot be read is reported to
// OnError, passed on as an input_error record, and the others are still
// read; Run then returns an *InputsError.
// When emit returns an error (record.ErrStop included), reading stops and
// that error is returned.
func (s *Source) Run(emit record.Emit) error {
	names := s.Names
	if len(names) == 0 {
		names = []string{"-"}
	}
	for _, name := range names {
		lines := s.Stats.Lines
		err := s.runOne(name, emit)
		if errors.Is(err, errEmit) {
			return errors.Unwrap(err)
		}
		if err != nil {
			s.Stats.Failed++
			if s.Opts.OnError != nil {
				s.Opts.OnError(err)
			}
			if err := s.inputError(name, s.Stats.Lines-lines, err, emit); err != nil {
				return err
			}
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
	if name == "-" {
		name = "stdin"
	}
	r := &record.Record{Type: record.TypeInputError, SrcFile: name, SrcLine: lines, Reason: err.Error()}
	if s.write != nil {
		return s.write(append(record.AppendJSON(nil, r), '\n'))
	}
	return emit(r)
}

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

// errEmit wraps an error that came from downstream, not from an input.
var errEmit = errors.New("emit")

type emitError struct{ err error }

func (e emitError) Error() string   { return e.err.Error() }
func (e emitError) Unwrap() error   { return e.err }
func (e emitError) Is(t error) bool { return t == errEmit }

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
		err = s.scan(display, lp, emit, func(p *pipe) (int64, error) { return 0, p.plan(in.File, in.Size) })
	} else {
		err = s.scan(display, lp, emit, func(p *pipe) (int64, error) { return p.read(dr, live && kind == input.Plain) })
	}
	if s.Opts.Debug != nil {
		d := s.Stats
		s.Opts.Debug(fmt.Sprintf("%s: %s, %d lines, %d logins, %d auth failures, %d rejects, %d malformed, %d too long",
			display, kind, d.Lines-before.Lines, d.Logins-before.Logins, d.AuthFailures-before.AuthFailures,
			d.Rejects-before.Rejects, d.Malformed-before.Malformed, d.TooLong-before.TooLong))
	}
	if err != nil && !errors.Is(err, errEmit) {
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

	res chan *result
}

type result struct {
	// recs and bad carry line numbers relative to the chunk (its first
	// line is 1): only the merger, taking chunks in order, knows how many
	// lines came before.
	recs []*record.Record
	// enc holds the records as NDJSON, when encoding, each without its line
	// number: the record ends in `"src":"NAME"}`, and cuts[i] is where the
	// `"}` of record i starts, to be preceded by ":" and the line number
	// base+rels[i].
	enc   []byte
	cuts  []int
	rels  []int64
	stats Stats
	bad   []badLine
	err   error // reading the file failed
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

// pipe is what the producer of chunks (a reader or a planner) shares with
// the workers and the merger of one input.
type pipe struct {
	s           *Source
	name        string
	jobs, order chan *chunk
	done        chan struct{} // closed when the merger stops early
	get         func() []byte // a pooled buffer; nil after done
	json        bool          // journald JSON, as far as the producer knows
	enc         bool          // encode the records (RunNDJSON)
}

// send hands c to the workers and, in the same order, to the merger. It is
// called by the producer only, which alone writes p.json.
func (p *pipe) send(c *chunk) bool {
	c.res = make(chan *result, 1)
	c.json = p.json
	select {
	case p.order <- c:
	case <-p.done:
		return false
	}
	p.jobs <- c
	return true
}

// scan has produce cut the input into chunks, workers parse them in
// parallel, and emits their records in input order from this goroutine.
// produce returns the number of overlong lines it dropped at the very end
// of the input, and the read error, if any. Memory is bounded by the
// number of chunks in flight.
func (s *Source) scan(name string, lp LineParser, emit record.Emit, produce func(*pipe) (int64, error)) error {
	nw := s.workers()
	maxBufs := 2*nw + 2
	if s.pool == nil {
		s.pool = make(chan []byte, maxBufs)
		s.spent = make(chan *result, maxBufs+nw)
	}
	if !utf8.ValidString(name) {
		name = toValidUTF8(name) // as record.Encoder would write it
	}
	p := &pipe{
		s:     s,
		name:  name,
		jobs:  make(chan *chunk, maxBufs),
		order: make(chan *chunk, maxBufs),
		done:  make(chan struct{}),
		enc:   s.write != nil,
	}
	p.get = func() []byte {
		select {
		case b := <-s.pool:
			return b
		default:
		}
		if s.alloc < maxBufs {
			s.alloc++
			return make([]byte, maxLine)
		}
		select {
		case b := <-s.pool:
			return b
		case <-p.done:
			return nil
		}
	}
	var readErr error
	var tailLong int64
	go func() { // producer
		defer close(p.order)
		defer close(p.jobs)
		tailLong, readErr = produce(p)
	}()
	onlyLogins := s.Opts.OnlyLogins
	for i := 0; i < nw; i++ {
		// Each worker has its own parser (its caches are written on every
		// line), padded so that two never share a cache line.
		w := &struct {
			_   [64]byte
			p   LineParser
			buf []byte // for file chunks
			_   [64]byte
		}{p: lp}
		go func() {
			for c := range p.jobs {
				select {
				case <-p.done:
					c.res <- &result{}
					continue
				default:
				}
				data := c.data
				var long bool
				if c.f != nil {
					var err error
					data, long, err = readOwned(c, &w.buf)
					if err != nil {
						c.res <- &result{err: err}
						continue
					}
				}
				var res *result
				if p.enc {
					select {
					case res = <-s.spent:
					default:
						res = &result{enc: make([]byte, 0, 64<<10)}
					}
				} else {
					res = new(result)
				}
				work(&w.p, p, data, c.json, res, onlyLogins)
				if long {
					res.stats.Lines++
					res.stats.TooLong++
				}
				c.res <- res
			}
		}()
	}

	var stopErr error // from downstream, or reading a file
	stop := func(err error) {
		stopErr = err
		close(p.done)
	}
	var base int64 // lines of the input before the chunk
	var out []byte
	for c := range p.order {
		res := <-c.res
		if c.buf != nil {
			s.pool <- c.buf
		}
		if stopErr != nil {
			continue // draining after a stop
		}
		if res.err != nil {
			stop(res.err)
			continue
		}
		base += c.skipped
		s.Stats.Lines += c.skipped
		s.Stats.TooLong += c.skipped
		s.Stats.add(res.stats)
		if s.Opts.Debug != nil {
			for _, b := range res.bad {
				s.Opts.Debug(fmt.Sprintf("%s:%d: malformed line: %s", name, base+b.line, b.why))
			}
		}
		if p.enc {
			out = out[:0]
			prev := 0
			for i, cut := range res.cuts {
				out = append(out, res.enc[prev:cut]...)
				out = append(out, ':')
				out = strconv.AppendInt(out, base+res.rels[i], 10)
				prev = cut
			}
			out = append(out, res.enc[prev:]...)
			base += res.stats.Lines
			res.reset()
			select {
			case s.spent <- res:
			default:
			}
			if len(out) > 0 {
				if err := s.write(out); err != nil {
					stop(emitError{err})
				}
			}
			continue
		}
		for _, rec := range res.recs {
			rec.SrcLine += base
			if err := emit(rec); err != nil {
				stop(emitError{err})
				break
			}
		}
		base += res.stats.Lines
	}
	if stopErr != nil {
		return stopErr
	}
	s.Stats.TooLong += tailLong
	s.Stats.Lines += tailLong
	return readErr
}

// read fills chunks with whole lines from r and sends them, in order, to
// the workers and to the merger. It returns the number of overlong lines it
// dropped after the last chunk, and the read error, if any. A live input (a
// pipe) is handed on as soon as a read brings whole lines; a file or a
// decompressor fills whole chunks.
func (p *pipe) read(r io.Reader, live bool) (int64, error) {
	var skipped int64 // overlong lines dropped since the last chunk
	buf := p.get()
	if buf == nil {
		return 0, nil
	}
	n := 0
	skipping := false
	first := true
	send := func(cut int) bool {
		nb := p.get()
		if nb == nil {
			return false
		}
		rest := copy(nb, buf[cut:n])
		c := &chunk{buf: buf, data: buf[:cut], skipped: skipped}
		skipped = 0
		if !p.send(c) {
			return false
		}
		buf, n = nb, rest
		return true
	}
	for {
		space := len(buf) - n
		m, err := r.Read(buf[n:])
		n += m
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
				first, p.json = false, t[0] == '{'
			}
		}
		if err != nil {
			if n > 0 && !send(n) {
				return 0, nil
			}
			if err == io.EOF {
				err = nil
			}
			p.s.pool <- buf
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

// plan cuts a regular file of the given size into chunks that the workers
// read themselves.
func (p *pipe) plan(f *os.File, size int64) error {
	// journald JSON or not, from the first byte that is not white space,
	// as a stream is judged.
	head := make([]byte, 4096)
	for off := int64(0); off < size; {
		n, err := f.ReadAt(head, off)
		if err != nil && err != io.EOF {
			return err
		}
		if t := bytes.TrimLeft(head[:n], " \t\r\n"); len(t) > 0 {
			p.json = t[0] == '{'
			break
		}
		if n == 0 {
			break
		}
		off += int64(n)
	}
	cs := int64(chunkSize)
	for off := int64(0); off < size; off += cs {
		if !p.send(&chunk{f: f, off: off, end: min(off+cs, size), size: size}) {
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
// them, and whether a last line of maxLine bytes or more was left out
// (to be counted as too long).
func readOwned(c *chunk, buf *[]byte) (data []byte, long bool, err error) {
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
			return nil, false, err
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
				return nil, false, nil // the chunk is inside a line started earlier
			}
			i = j + 1
		}
		// The last line is the one holding the chunk's last byte.
		ls := bytes.LastIndexByte(b[i:limit], '\n') + 1 + i
		if ls == limit {
			return b[i:limit], false, nil // the chunk ends with a newline
		}
		le := bytes.IndexByte(b[limit:], '\n')
		switch {
		case le >= 0 && limit+le-ls < maxLine:
			return b[i : limit+le+1], false, nil
		case le >= 0 || n-ls >= maxLine:
			return b[i:ls], true, nil
		case eof:
			return b[i:n], false, nil // a last line without a newline
		}
		// The last line goes on past what was read: read enough to tell
		// whether it is too long.
		ahead = int64(maxLine) + 1
	}
}

// work parses the lines of one chunk that carry a marker (every line, for
// journald JSON) and counts all lines. Line numbers are relative to the
// chunk.
func work(p *LineParser, pp *pipe, data []byte, json bool, res *result, onlyLogins bool) {
	// Encoded at once and cleared, a record may borrow the parser's memory.
	p.borrow = pp.enc
	defer func() { p.borrow = false }()
	var lineNo int64 // lines before counted
	counted := 0
	var slab []record.Record // records are allocated in slabs
	rec := &p.rec            // encoded at once, one record will do
	if !pp.enc {
		slab = make([]record.Record, 64)
		rec = &slab[0]
		slab = slab[1:]
	}
	handle := func(ls, le int) {
		lineNo += int64(bytes.Count(data[counted:ls], nl))
		lineNo++
		counted = min(le+1, len(data))
		switch kind, why := p.Parse(data[ls:le], rec); kind {
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
				*rec = record.Record{}
				return
			}
			if pp.enc {
				// Without its line number, the record ends in
				// `"src":"NAME"}`; the merger puts the number in.
				rec.SrcFile = pp.name
				res.enc = p.enc.AppendJSON(res.enc, rec)
				res.cuts = append(res.cuts, len(res.enc)-2)
				res.rels = append(res.rels, lineNo)
				res.enc = append(res.enc, '\n')
				*rec = record.Record{}
				return
			}
			rec.SrcFile, rec.SrcLine = pp.name, lineNo
			res.recs = append(res.recs, rec)
			if len(slab) == 0 {
				slab = make([]record.Record, 2*cap(res.recs))
			}
			rec = &slab[0]
			slab = slab[1:]
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
	if res.stats.MailLines == 0 && p.postfixLine(data) {
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
		k := bytes.Index(data[i:], postfixName)
		if k < 0 {
			return false
		}
		k += i
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

// reset empties a result for reuse, keeping its buffers.
func (r *result) reset() {
	*r = result{enc: r.enc[:0], cuts: r.cuts[:0], rels: r.rels[:0], bad: r.bad[:0]}
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
