package loganomcmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/parse"
	"github.com/loganom/loganom/pkg/record"
)

// fileSource is the live input of --follow -l FILE...: one input.Follower
// per log (tail -F across rotations, from the end or from the saved
// position), whose lines are parsed and emitted on the pipeline's
// goroutine, in the order of each log. A log's mark moves on only once
// the records of its lines have been emitted, so that a position saved
// never covers a login not judged.
type fileSource struct {
	names  []string
	starts map[string]*input.Mark // by name as given; nil: from the end
	opts   parse.Options
	poll   time.Duration
	// journal, when set, is followed instead of files: names holds one
	// name, "journal:UNITS", under which its cursor is saved (Mark.FP).
	journal *input.Journal

	settle func() error // the pipeline's, when every log is caught up
	Stats  parse.Stats

	mu    sync.Mutex
	marks map[string]input.Mark

	ctx    context.Context
	cancel context.CancelFunc
}

// fileBatch is what a log's follower hands the pipeline's goroutine.
type fileBatch struct {
	log   string // the log's name as given
	lines input.Lines
	ack   chan struct{} // closed once the lines are parsed (their buffer may be reused)
	idle  bool          // the follower has caught up
	done  bool          // the follower has returned
	err   error
}

// newFileSource follows names, each from its mark in starts; a log
// without one from its end as it is now (its last whole line), so that
// what is written once the daemon has said it follows is read.
func newFileSource(names []string, starts map[string]*input.Mark, opts parse.Options) (*fileSource, error) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &fileSource{names: names, starts: map[string]*input.Mark{}, opts: opts, marks: map[string]input.Mark{}, ctx: ctx, cancel: cancel}
	for _, n := range names {
		if strings.HasPrefix(n, "journal:") {
			s.starts[n] = starts[n]
			continue
		}
		if m := starts[n]; m != nil {
			s.starts[n] = m
			continue
		}
		m, err := endMark(n)
		if err != nil {
			cancel()
			return nil, err
		}
		s.starts[n] = m
	}
	return s, nil
}

// endMark is the mark of the end of the log name's last whole line; nil
// when there is no log yet (it is read from its start when it comes).
func endMark(name string) (*input.Mark, error) {
	pieces, err := input.Plan(name, nil, nil)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer input.ClosePieces(pieces)
	p := pieces[len(pieces)-1]
	if p.Kind != input.Plain {
		return nil, fmt.Errorf("%s: a %s file cannot be followed", name, p.Kind)
	}
	end := p.Size
	const back = 64 << 10
	from := max(end-back, 0)
	buf := make([]byte, end-from)
	if _, err := p.File.ReadAt(buf, from); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		end = from + int64(i) + 1
	} else if from == 0 {
		end = 0
	} // else: a last line longer than 64 KiB, taken as whole
	m := p.Mark(end)
	return &m, nil
}

// stop ends Run once what was read is emitted.
func (s *fileSource) stop() { s.cancel() }

// Marks returns the positions reached, by the names given.
func (s *fileSource) Marks() map[string]input.Mark {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.marks)
}

// Run follows every log until stop, or until a log cannot be followed or
// emit fails.
func (s *fileSource) Run(emit record.Emit) error {
	ch := make(chan fileBatch, len(s.names))
	type follower interface{ Run(context.Context) error }
	for _, name := range s.names {
		var f follower
		var onLines *func(input.Lines) error
		var onIdle *func() error
		if s.journal != nil {
			j := *s.journal
			j.MaxLine, j.Warn = parse.MaxLine, s.opts.Warn
			if m := s.starts[name]; m != nil {
				j.Cursor = m.FP
			}
			f, onLines, onIdle = &j, &j.OnLines, &j.OnIdle
		} else {
			fl := &input.Follower{Path: name, Start: s.starts[name], Poll: s.poll, MaxLine: parse.MaxLine, Warn: s.opts.Warn}
			f, onLines, onIdle = fl, &fl.OnLines, &fl.OnIdle
		}
		*onLines = func(l input.Lines) error {
			ack := make(chan struct{})
			select {
			case ch <- fileBatch{log: name, lines: l, ack: ack}:
			case <-s.ctx.Done():
				return s.ctx.Err()
			}
			<-ack // always closed by the loop below, also when stopping
			return nil
		}
		*onIdle = func() error {
			select {
			case ch <- fileBatch{log: name, idle: true}:
			case <-s.ctx.Done():
			}
			return nil
		}
		go func() {
			err := f.Run(s.ctx)
			ch <- fileBatch{log: name, done: true, err: err}
		}()
	}
	parsers := map[string]*parse.LineParser{}
	lineNo := map[string]int64{}
	caughtUp := map[string]bool{}
	alive := len(s.names)
	var failed error
	// caught up, the pipeline is settled again every second: what was
	// read is recorded, and the metrics brought up to date, whether the
	// follower calls again or not (a journal)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	settle := func() {
		if failed != nil || len(ch) > 0 || s.settle == nil {
			return
		}
		for _, n := range s.names {
			if !caughtUp[n] {
				return
			}
		}
		if err := s.settle(); err != nil {
			failed = err
			s.cancel()
		}
	}
	for alive > 0 {
		var b fileBatch
		select {
		case b = <-ch:
		case <-tick.C:
			settle()
			continue
		}
		switch {
		case b.done:
			alive--
			if b.err != nil && !errors.Is(b.err, context.Canceled) && failed == nil {
				failed = b.err
				s.cancel()
			}
		case b.idle:
			caughtUp[b.log] = true
			settle()
		default:
			caughtUp[b.log] = false
			if failed == nil {
				lp := parsers[b.log]
				if lp == nil {
					lp = &parse.LineParser{Loc: s.opts.Loc, Year: s.opts.Year}
					parsers[b.log] = lp
				}
				if b.lines.First {
					lineNo[b.log] = 0
				}
				n := lineNo[b.log]
				if err := s.lines(lp, &b.lines, &n, emit); err != nil {
					failed = err
					s.cancel()
				} else {
					m := b.lines.Mark
					if s.journal != nil {
						m = input.Mark{FP: b.lines.Cursor} // the journal's cursor
					}
					s.mu.Lock()
					s.marks[b.log] = m
					s.mu.Unlock()
				}
				lineNo[b.log] = n
			}
			close(b.ack)
		}
	}
	if errors.Is(failed, record.ErrStop) {
		return nil
	}
	return failed
}

// lines parses one delivery and emits its records.
func (s *fileSource) lines(lp *parse.LineParser, l *input.Lines, n *int64, emit record.Emit) error {
	lp.Ref = l.ModTime // a rotated file's lines are dated by its time
	if lp.Ref.IsZero() {
		if s.opts.Now != nil {
			lp.Ref = s.opts.Now()
		} else {
			lp.Ref = time.Now()
		}
	}
	s.Stats.TooLong += l.TooLong
	data := l.Data
	s.Stats.Lines += int64(bytes.Count(data, nl))
	base := *n
	*n += int64(bytes.Count(data, nl))
	counted, before := 0, int64(0) // lines before data[counted:]
	for pos := 0; pos < len(data); {
		// only the lines that carry an event's marker are parsed (a
		// line without one is no event, nor malformed): most of a mail
		// log is skipped at the speed of a byte search
		k := nextMarker(data, pos)
		if k < 0 {
			break
		}
		ls := bytes.LastIndexByte(data[:k], '\n') + 1
		le := bytes.IndexByte(data[k:], '\n')
		if le < 0 {
			le = len(data)
		} else {
			le += k
		}
		before += int64(bytes.Count(data[counted:ls], nl))
		counted = ls
		lineNo := base + before + 1
		line := data[ls:le]
		pos = le + 1
		var rec record.Record
		kind, why := lp.Parse(line, &rec)
		switch kind {
		case parse.Malformed:
			s.Stats.Malformed++
			if s.opts.Debug != nil {
				s.opts.Debug(l.File + ": line " + itoa(lineNo) + ": " + why)
			}
			continue
		case parse.Event:
		default:
			continue
		}
		s.Stats.MailLines++
		switch rec.Type {
		case record.TypeLogin:
			s.Stats.Logins++
		case record.TypeAuthFailure:
			s.Stats.AuthFailures++
			if s.opts.OnFailure != nil && rec.IP != "" {
				s.opts.OnFailure(rec.IP, rec.Time)
			}
			continue
		default:
			s.Stats.Rejects++
			continue
		}
		rec.SrcFile, rec.SrcLine = l.File, lineNo
		if err := emit(&rec); err != nil {
			return err
		}
	}
	return nil
}

var (
	nl      = []byte{'\n'}
	markers = [][]byte{[]byte("sasl_username="), []byte(" authentication failed"), []byte(": reject: ")}
)

// nextMarker is where the next marker of an event is in data from pos
// (-1: none).
func nextMarker(data []byte, pos int) int {
	best := -1
	for _, m := range markers {
		lim := len(data)
		if best >= 0 {
			lim = min(best+len(m), len(data)) // only nearer ones matter
		}
		if i := bytes.Index(data[pos:lim], m); i >= 0 && (best < 0 || pos+i < best) {
			best = pos + i
		}
	}
	return best
}
