package parse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// ChunkSize is the unit of work, and the longest line the parser keeps: a
// longer line is counted in Stats.TooLong and skipped.
const ChunkSize = 1 << 20

// chunkSize is ChunkSize, smaller in tests to exercise chunk boundaries.
var chunkSize = ChunkSize

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
	TooLong      int64 // lines of ChunkSize or more, skipped
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
	encs  sync.Pool // *[]byte buffers for encoded chunks
	// write, when set (by RunNDJSON), receives the records already encoded
	// by the workers, a chunk at a time, instead of emit.
	write func([]byte) error
}

// Run reads every input. An input that cannot be read is reported to
// OnError and the others are still read; Run then returns an *InputsError.
// When emit returns an error (record.ErrStop included), reading stops and
// that error is returned.
func (s *Source) Run(emit record.Emit) error {
	names := s.Names
	if len(names) == 0 {
		names = []string{"-"}
	}
	for _, name := range names {
		err := s.runOne(name, emit)
		if errors.Is(err, errEmit) {
			return errors.Unwrap(err)
		}
		if err != nil {
			s.Stats.Failed++
			if s.Opts.OnError != nil {
				s.Opts.OnError(err)
			}
		}
	}
	if s.Stats.Failed > 0 {
		return &InputsError{s.Stats.Failed, len(names)}
	}
	return nil
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
	var r io.Reader
	ref := s.now()
	live := true
	display := name
	if name == "-" {
		display = "stdin"
		r = s.Opts.Stdin
		if r == nil {
			r = os.Stdin
		}
	} else {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return fmt.Errorf("%s: is a directory", name)
		}
		if fi.Mode().IsRegular() {
			ref, live = fi.ModTime(), false
		}
		r = f
	}
	s.Stats.Inputs++
	dr, kind, release, err := Decompress(r)
	if err != nil {
		return fmt.Errorf("%s: %w", display, err)
	}
	defer release()
	lp := LineParser{Loc: s.Opts.Loc, Year: s.Opts.Year, Ref: ref}
	before := s.Stats
	err = s.scan(dr, live && kind == Plain, display, lp, emit)
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

// chunk is a run of whole lines handed to a worker.
type chunk struct {
	buf   []byte // the pooled buffer that data is in
	data  []byte
	name  string // of the input, for src
	first int64  // lines of the input before data
	json  bool   // journald JSON: every line is parsed
	enc   bool   // encode the records (RunNDJSON) instead of keeping them
	res   chan *result
}

type result struct {
	recs  []*record.Record
	enc   []byte // the records as NDJSON, when the chunk says enc
	stats Stats
	bad   []badLine
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

// scan reads r in chunks of whole lines, has workers parse them in
// parallel, and emits their records in input order from this goroutine.
// Memory is bounded by the pool of chunk buffers.
func (s *Source) scan(r io.Reader, live bool, name string, lp LineParser, emit record.Emit) error {
	nw := s.workers()
	maxBufs := 2*nw + 2
	if s.pool == nil {
		s.pool = make(chan []byte, maxBufs)
	}
	jobs := make(chan *chunk, maxBufs)
	order := make(chan *chunk, maxBufs)
	done := make(chan struct{})
	var readErr error
	var tooLong int64

	get := func() []byte {
		select {
		case b := <-s.pool:
			return b
		default:
		}
		if s.alloc < maxBufs {
			s.alloc++
			return make([]byte, chunkSize)
		}
		select {
		case b := <-s.pool:
			return b
		case <-done:
			return nil
		}
	}

	onlyLogins := s.Opts.OnlyLogins
	go func() { // reader
		defer close(order)
		defer close(jobs)
		tooLong, readErr = s.read(r, live, name, get, jobs, order)
	}()
	for i := 0; i < nw; i++ {
		// Each worker has its own parser (its caches are written on every
		// line), padded so that two never share a cache line.
		w := &struct {
			_ [64]byte
			p LineParser
			_ [64]byte
		}{p: lp}
		go func() {
			for c := range jobs {
				select {
				case <-done:
					c.res <- &result{}
				default:
					var enc []byte
					if c.enc {
						if b, ok := s.encs.Get().(*[]byte); ok {
							enc = (*b)[:0]
						} else {
							enc = make([]byte, 0, chunkSize/2)
						}
					}
					c.res <- work(&w.p, c, enc, onlyLogins)
				}
			}
		}()
	}

	var emitErr error
	stop := func(err error) {
		emitErr = err
		close(done)
	}
	for c := range order {
		res := <-c.res
		s.pool <- c.buf
		if emitErr != nil {
			continue // draining after a stop
		}
		s.Stats.add(res.stats)
		if s.Opts.Debug != nil {
			for _, b := range res.bad {
				s.Opts.Debug(fmt.Sprintf("%s:%d: malformed line: %s", name, b.line, b.why))
			}
		}
		if c.enc {
			if len(res.enc) > 0 {
				if err := s.write(res.enc); err != nil {
					stop(err)
				}
			}
			s.encs.Put(&res.enc)
			continue
		}
		for _, rec := range res.recs {
			if err := emit(rec); err != nil {
				stop(err)
				break
			}
		}
	}
	if emitErr != nil {
		return emitError{emitErr}
	}
	s.Stats.TooLong += tooLong
	s.Stats.Lines += tooLong
	return readErr
}

// read fills chunks with whole lines and sends them, in order, to the
// workers and to the merger. It returns the number of overlong lines it
// dropped, and the read error, if any. A live input (a pipe) is handed on as
// soon as a read brings whole lines; a file or a decompressor fills whole
// chunks.
func (s *Source) read(r io.Reader, live bool, name string, get func() []byte, jobs, order chan *chunk) (int64, error) {
	var tooLong, skipped int64
	var lines int64 // lines before buf
	buf := get()
	if buf == nil {
		return 0, nil
	}
	n := 0
	skipping := false
	first := true
	jsonMode := false
	send := func(cut int) bool {
		nb := get()
		if nb == nil {
			return false
		}
		rest := copy(nb, buf[cut:n])
		data := buf[:cut]
		lines += skipped
		c := &chunk{buf: buf, data: data, name: name, first: lines, json: jsonMode, enc: s.write != nil, res: make(chan *result, 1)}
		// Counting here, in order, lets the workers number lines absolutely.
		lines += int64(bytes.Count(data, nl))
		if data[len(data)-1] != '\n' {
			lines++
		}
		skipped = 0
		order <- c
		jobs <- c
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
				first, jsonMode = false, t[0] == '{'
			}
		}
		if err != nil {
			if n > 0 && !send(n) {
				return tooLong, nil
			}
			if err == io.EOF {
				err = nil
			}
			s.pool <- buf
			return tooLong, err
		}
		if skipping {
			continue
		}
		if n == len(buf) || live && m > 0 && m < space {
			last := bytes.LastIndexByte(buf[:n], '\n')
			switch {
			case last >= 0:
				if !send(last + 1) {
					return tooLong, nil
				}
			case n == len(buf): // a line longer than a chunk: drop it
				tooLong++
				skipped++
				skipping = true
				n = 0
			}
		}
	}
}

// Markers that every event line carries, each found by a fast search for
// one rare byte of it (the anchor) and then compared in full. Lines without
// any marker are never parsed: that is what keeps the parser near memory
// speed on a log that is mostly delivery traffic.
var markers = []finder{
	{pat: []byte("sasl_username="), off: 4}, // '_'
	{pat: []byte("SASL "), off: 3},          // 'L'
	{pat: []byte("reject: "), off: 2},       // 'j'
}

type finder struct {
	pat []byte
	off int
}

// find returns the index of the first match at or after from, or -1.
func (f *finder) find(data []byte, from int) int {
	a := f.pat[f.off]
	for i := from + f.off; i < len(data); {
		k := bytes.IndexByte(data[i:], a)
		if k < 0 {
			return -1
		}
		p := i + k - f.off
		if p+len(f.pat) <= len(data) && bytes.Equal(data[p:p+len(f.pat)], f.pat) {
			return p
		}
		i += k + 1
	}
	return -1
}

// work parses the lines of one chunk that carry a marker (every line, for
// journald JSON) and counts all lines.
func work(p *LineParser, c *chunk, enc []byte, onlyLogins bool) *result {
	res := &result{enc: enc}
	// Encoded at once and cleared, a record may borrow the parser's memory.
	p.borrow = c.enc
	defer func() { p.borrow = false }()
	data := c.data
	lineNo := c.first // lines before counted
	counted := 0
	slab := make([]record.Record, 64) // records are allocated in slabs
	rec := &slab[0]
	slab = slab[1:]
	handle := func(ls, le int) {
		lineNo += int64(bytes.Count(data[counted:ls], nl))
		lineNo++
		counted = min(le+1, len(data))
		switch kind, why := p.Parse(data[ls:le], rec); kind {
		case Event:
			rec.SrcFile, rec.SrcLine = c.name, lineNo
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
			if c.enc {
				res.enc = record.AppendJSON(res.enc, rec)
				res.enc = append(res.enc, '\n')
				*rec = record.Record{}
				return
			}
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
	if c.json {
		for pos := 0; pos < len(data); {
			le := lineEnd(data, pos)
			handle(pos, le)
			pos = le + 1
		}
	} else {
		var next [3]int
		for k := range next {
			next[k] = -2 // not searched yet
		}
		for pos := 0; pos < len(data); {
			best := -1
			for k := range markers {
				if next[k] != -1 && next[k] < pos {
					next[k] = markers[k].find(data, pos)
				}
				if next[k] >= 0 && (best < 0 || next[k] < best) {
					best = next[k]
				}
			}
			if best < 0 {
				break
			}
			ls := bytes.LastIndexByte(data[pos:best], '\n') + 1 + pos
			le := lineEnd(data, best)
			handle(ls, le)
			pos = le + 1
		}
	}
	lineNo += int64(bytes.Count(data[counted:], nl))
	if counted < len(data) && data[len(data)-1] != '\n' {
		lineNo++ // a last line without a newline, not handled above
	}
	res.stats.Lines = lineNo - c.first
	return res
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
