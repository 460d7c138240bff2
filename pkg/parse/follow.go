package parse

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/record"
)

// JournalOptions say how FollowSource reads the journal.
type JournalOptions struct {
	// Command is journalctl (default: "journalctl" in PATH).
	Command string
	// Units (--unit, globs allowed: "postfix*") and Identifiers
	// (--identifier: "postfix/smtpd") select the entries.
	Units, Identifiers []string
	// Args are more arguments for journalctl.
	Args []string
	// Cursor, when set, resumes after that entry (a FollowSource's
	// Cursor saved earlier). Without one, FromStart reads the journal
	// from its start (what it still holds), then follows it; else it
	// starts at its end.
	Cursor string
	// CursorTime is when Cursor was saved (input.Journal's).
	CursorTime time.Time
	FromStart  bool
	// MinBackoff and MaxBackoff bound the pause before a journalctl that
	// died is started again (defaults 1s and 1m).
	MinBackoff, MaxBackoff time.Duration
}

// JournalName is the name of the journal in records (SrcFile).
const JournalName = "journal"

// FollowSource follows logs as they are written (input.Follower: one
// goroutine per file, across rotations) and the journal (input.Journal),
// parses each line as Source does (the same LineParser and Options: Loc,
// Year, OnlyLogins, OnFailure, Debug; the same Stats) and emits the
// records. It is a record.Source; Run emits on its own goroutine only,
// the records of each input in order.
//
// A classic syslog line is dated with the current year (the latest that
// does not put it more than a day in the future: a log read on 1 January
// dates its 31 December lines in the year before), a rotated file read at
// the start with the year of its modification time.
type FollowSource struct {
	// Files are the logs to follow, by name. Opts.Resume gives, by the
	// same names, the mark to start each from (across the rotations made
	// since, as input.Plan finds them); a log without one starts at its
	// end, or at its start with FromStart, or with Opts.Rotated at the
	// start of the files rotated from it (input.PlanRotated).
	Files []string
	// Journal, when set, follows the journal too.
	Journal *JournalOptions
	// Opts: Loc, Year, OnlyLogins, OnFailure, Debug, Warn, Now, Resume
	// and Rotated are used; Workers, Stdin and OnError are not.
	Opts      Options
	FromStart bool
	// Poll is the polling interval of the files (default 1s), NoNotify
	// polls without inotify.
	Poll     time.Duration
	NoNotify bool
	// Context stops Run when done (nil: never); Run then returns nil,
	// having emitted what was read and parsed.
	Context context.Context
	// OnIdle, when set, is called (on Run's goroutine, between records)
	// when every input was read to its end: flush what is buffered. An
	// error stops Run, which returns it.
	OnIdle func() error
	// OnTick, when set, is called every Tick (on Run's goroutine): save
	// the marks (Marks, Cursor), having flushed. An error stops Run.
	Tick   time.Duration
	OnTick func() error

	// Stats counts what was read, as Source's; written on Run's
	// goroutine (read it there, or after Run).
	Stats Stats

	mu     sync.Mutex
	marks  map[string]input.Mark
	cursor string
	src    Source // its pool of results, and its write for RunNDJSON
}

// followMsg is what an input's goroutine sends to Run's: a parsed
// delivery, or that the input is caught up.
type followMsg struct {
	input int
	idle  bool
	res   *result
	pl    *pipeline
	base  int64 // lines of the file read before these
	mark  input.Mark
	cur   string // the journal's cursor
	long  int64  // lines too long, skipped
	name  string // the log's name as given ("" for the journal)
	err   error  // the input's goroutine ended with it
	done  bool
}

// Marks returns the mark of each log followed, by its name as given:
// where the lines whose records were emitted end. Saved (after flushing
// what the records went to), and given back as Opts.Resume, the next run
// goes on from there, losing and repeating nothing. A log of which
// nothing was emitted yet has none. Safe to call from any goroutine.
func (s *FollowSource) Marks() map[string]input.Mark {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.marks)
}

// Cursor returns the journal cursor of the last entry whose records were
// emitted ("" before any), for JournalOptions.Cursor. Safe to call from
// any goroutine.
func (s *FollowSource) Cursor() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor
}

// RunNDJSON follows, like Run, and writes the records as NDJSON (the
// bytes record.Writer would write) to write, a delivery at a time.
func (s *FollowSource) RunNDJSON(write func([]byte) error) error {
	s.src.write = write
	defer func() { s.src.write = nil }()
	return s.Run(nil)
}

// Run follows the inputs until Context is done (it returns nil) or emit
// (or OnIdle, OnTick) returns an error, which it returns. Once Context is
// done, what the inputs read meanwhile is emitted, and OnIdle and OnTick
// are not called again: the caller's last save follows Run.
func (s *FollowSource) Run(emit record.Emit) error {
	parent := s.Context
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	s.src.Opts = s.Opts
	if s.src.spent == nil {
		s.src.spent = make(chan *result, 16)
	}
	n := len(s.Files)
	if s.Journal != nil {
		n++
	}
	s.Stats.Inputs += n
	msgs := make(chan followMsg, 4*n+4)
	var wg sync.WaitGroup
	for i, name := range s.Files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.followFile(ctx, i, name, msgs)
		}()
	}
	if s.Journal != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.followJournal(ctx, n-1, msgs)
		}()
	}
	go func() {
		wg.Wait()
		close(msgs)
	}()
	var tick <-chan time.Time
	if s.OnTick != nil && s.Tick > 0 {
		t := time.NewTicker(s.Tick)
		defer t.Stop()
		tick = t.C
	}
	idle := make([]bool, n)
	idleCalled := false
	w := &pipeline{s: &s.src, encode: s.src.write != nil}
	var stopErr error
	stop := func(err error) {
		if stopErr == nil {
			stopErr = err
			cancel()
		}
	}
	for {
		var m followMsg
		var ok bool
		select {
		case m, ok = <-msgs:
		case <-tick:
			// stopped (Context done): what is left is drained, and
			// the caller's last save follows; a tick would be one
			// more (a commit on a state that does not answer takes
			// 30 s, a tick was picked again and again among the
			// messages left, and SIGTERM took minutes)
			if ctx.Err() == nil {
				if err := s.OnTick(); err != nil {
					stop(err)
				}
			}
			continue
		}
		if !ok {
			break
		}
		if stopErr != nil {
			continue // draining
		}
		switch {
		case m.done:
			if m.err != nil {
				stop(m.err)
			}
			continue
		case m.idle:
			idle[m.input] = true
		default:
			idle[m.input] = false
			idleCalled = false
			if err := s.emitParsed(w, m, emit); err != nil {
				stop(err)
				continue
			}
		}
		if !idleCalled && len(msgs) == 0 && allTrue(idle) && s.OnIdle != nil && ctx.Err() == nil {
			idleCalled = true
			if err := s.OnIdle(); err != nil {
				stop(err)
			}
		}
	}
	return stopErr
}

func allTrue(b []bool) bool {
	for _, v := range b {
		if !v {
			return false
		}
	}
	return true
}

// emitParsed emits (or writes) the records of one delivery, counts it,
// and then moves the input's mark (or the journal's cursor) past it.
func (s *FollowSource) emitParsed(w *pipeline, m followMsg, emit record.Emit) error {
	res := m.res
	s.Stats.Lines += m.long
	s.Stats.TooLong += m.long
	if res != nil {
		s.Stats.add(res.stats)
		if s.Opts.Debug != nil {
			for _, b := range res.bad {
				s.Opts.Debug(fmt.Sprintf("%s:%d: malformed line: %s", m.pl.name, m.base+b.line, b.why))
			}
		}
		for _, f := range res.fails {
			s.Opts.OnFailure(f.ip, f.at)
		}
		var err error
		if w.encode {
			err = w.writeEncoded(res, m.base)
		} else {
			err = emitRecords(res.recs, m.base, emit)
		}
		if err != nil {
			return err
		}
	}
	s.mu.Lock()
	if m.name != "" {
		if s.marks == nil {
			s.marks = map[string]input.Mark{}
		}
		s.marks[m.name] = m.mark
	} else if m.cur != "" {
		s.cursor = m.cur
	}
	s.mu.Unlock()
	return nil
}

// send hands m to Run's goroutine, unless ctx is done.
func send(ctx context.Context, msgs chan<- followMsg, m followMsg) error {
	select {
	case msgs <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// parser parses the deliveries of one input, on its goroutine: each
// file's lines are numbered from where its reading began.
type parser struct {
	s     *FollowSource
	lp    LineParser
	pl    *pipeline
	lines int64 // lines of the current file before
}

func (s *FollowSource) newParser() *parser {
	return &parser{s: s, lp: LineParser{Loc: s.Opts.Loc, Year: s.Opts.Year}}
}

// parse parses the lines of l into a message for Run's goroutine.
func (p *parser) parse(i int, name string, l input.Lines) followMsg {
	s := p.s
	if l.First || p.pl == nil || p.pl.name != validName(l.File) {
		p.pl = &pipeline{s: &s.src, name: validName(l.File), encode: s.src.write != nil,
			onlyLogins: s.Opts.OnlyLogins, failures: s.Opts.OnFailure != nil}
		p.lines = 0
	}
	// A file no longer written is dated by its modification time; the
	// live log by now.
	p.lp.Ref = l.ModTime
	if p.lp.Ref.IsZero() && s.Opts.Now != nil {
		p.lp.Ref = s.Opts.Now()
	}
	m := followMsg{input: i, pl: p.pl, mark: l.Mark, cur: l.Cursor, long: l.TooLong, name: name}
	p.lines += l.TooLong
	m.base = p.lines
	if len(l.Data) > 0 {
		res := p.pl.newResult()
		t := bytes.TrimLeft(l.Data, " \t\r\n")
		parseChunk(&p.lp, p.pl, l.Data, len(t) > 0 && t[0] == '{', res)
		p.lines += res.stats.Lines
		m.res = res
	}
	return m
}

func validName(name string) string {
	if !utf8.ValidString(name) {
		return toValidUTF8(name)
	}
	return name
}

// followFile follows the log name, the input i.
func (s *FollowSource) followFile(ctx context.Context, i int, name string, msgs chan<- followMsg) {
	p := s.newParser()
	f := &input.Follower{Path: name, Start: s.Opts.Resume[name], FromStart: s.FromStart, Rotated: s.Opts.Rotated, Poll: s.Poll,
		NoNotify: s.NoNotify, MaxLine: maxLine, Warn: s.Opts.Warn, Note: s.Opts.Note,
		OnLines: func(l input.Lines) error { return send(ctx, msgs, p.parse(i, name, l)) },
		OnIdle:  func() error { return send(ctx, msgs, followMsg{input: i, idle: true}) },
	}
	err := f.Run(ctx)
	if ctx.Err() != nil {
		err = nil
	}
	send(ctx, msgs, followMsg{input: i, done: true, err: err})
}

// followJournal follows the journal, the input i.
func (s *FollowSource) followJournal(ctx context.Context, i int, msgs chan<- followMsg) {
	p := s.newParser()
	o := s.Journal
	j := &input.Journal{Command: o.Command, Units: o.Units, Identifiers: o.Identifiers, Args: o.Args,
		Cursor: o.Cursor, CursorTime: o.CursorTime, FromStart: s.FromStart || o.FromStart, MaxLine: maxLine, MinBackoff: o.MinBackoff, MaxBackoff: o.MaxBackoff,
		Warn:    s.Opts.Warn,
		OnLines: func(l input.Lines) error { return send(ctx, msgs, p.parse(i, "", l)) },
		OnIdle:  func() error { return send(ctx, msgs, followMsg{input: i, idle: true}) },
	}
	err := j.Run(ctx)
	if ctx.Err() != nil {
		err = nil
	}
	send(ctx, msgs, followMsg{input: i, done: true, err: err})
}
