package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/record"
)

// recordFiles is a Source of NDJSON records from files (compressed or not)
// or stdin ("-", or no file), read in order. A malformed record is
// reported with its file and line, counted, and skipped.
type recordFiles struct {
	names     []string
	stdin     io.Reader
	log       *Logger
	malformed int
	failed    int
	read      int64 // records and malformed lines of the input being read
	// idle is called when a stream (a pipe, a terminal) has nothing
	// ready: see record.IdleReader. Regular files are never idle.
	idle func() (<-chan struct{}, error)
	// partial: the stages are all record.EnrichOnly, and the records of
	// a regular file are read partially (record.ReaderSource.Partial).
	partial bool
	// workers decode the records of a regular file (see
	// record.ReaderSource.Workers); 0 or 1: none, the reading goroutine
	// decodes them.
	workers int
}

func (s *recordFiles) Run(emit record.Emit) error {
	names := s.names
	if len(names) == 0 {
		names = []string{"-"}
	}
	for _, name := range names {
		s.read = 0
		err := s.one(name, emit)
		if errors.Is(err, record.ErrStop) {
			return err
		}
		var ee downstreamErr
		if errors.As(err, &ee) {
			return ee.err
		}
		if err != nil {
			s.failed++
			reason := err.Error()
			if err == errNotRecords {
				reason = "this is a log, not loganom records (NDJSON)"
			} else {
				s.log.Errorf("%v", err)
			}
			// as loganom-parse does: the stages after, and a report at
			// the end of the pipe, know what was not read
			if err := s.inputError(name, s.read, reason, emit); err != nil {
				return err
			}
		}
	}
	return nil
}

// inputError passes on, as a record of type input_error
// (record.TypeInputError), that the input name could not be read in full,
// after lines records: a report names it and gives no all-clear.
func (s *recordFiles) inputError(name string, lines int64, reason string, emit record.Emit) error {
	if name == "-" {
		name = "stdin"
	}
	err := emit(&record.Record{Type: record.TypeInputError, SrcFile: name, SrcLine: lines, Reason: reason})
	if err == nil {
		return nil
	}
	var ee downstreamErr
	if errors.As(err, &ee) {
		return ee.err
	}
	return err
}

// downstreamErr is an error that a stage after the source returned (an
// output that cannot be written): it stops the run, where an input that
// cannot be read only fails that input.
type downstreamErr struct{ err error }

// errNotRecords is an input that is a log, reported with a hint already.
var errNotRecords = errors.New("not records")

// looksLikeLog tells whether the start of an input is a syslog or journal
// line rather than a JSON record: its first line, when it is not JSON,
// has a syslog priority, an RFC 3339 date or a month name, and says
// postfix.
func looksLikeLog(head []byte) bool {
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 || head[0] == '{' {
		return false
	}
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	return bytes.Contains(head, []byte("postfix")) || bytes.Contains(head, []byte("smtpd["))
}

func (e downstreamErr) Error() string { return e.err.Error() }

// firstLine peeks at the start of an input: its first line, or its first
// 512 bytes. It waits for no more than that: in a live pipe the first
// record must go through before a second one comes.
func firstLine(br *bufio.Reader) []byte {
	for n := 1; ; {
		head, err := br.Peek(n)
		if err != nil || len(head) >= 512 || bytes.IndexByte(head, '\n') >= 0 {
			return head
		}
		n = max(br.Buffered(), len(head)+1)
	}
}

// regular tells whether r is a regular file, which is read to its end at
// once (never idle).
func regular(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}

func (s *recordFiles) one(name string, emit record.Emit) error {
	var r io.Reader = s.stdin
	display := "stdin"
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r, display = f, name
	}
	file := regular(r)
	if s.idle != nil && !file {
		ir := record.NewIdleReader(r, s.idle)
		defer ir.Close()
		r = ir
	}
	dr, _, release, err := input.Decompress(r)
	if err != nil {
		return fmt.Errorf("%s: %w", display, err)
	}
	defer release()
	br := bufio.NewReaderSize(dr, 64<<10)
	if looksLikeLog(firstLine(br)) {
		s.log.Errorf("%s: this is a log, not loganom records (NDJSON)", display)
		s.log.Hintf("put loganom-parse in front: loganom-parse LOG | %s", s.log.Prog)
		return errNotRecords
	}
	malformed := 0 // in this input
	var first *record.LineError
	src := record.ReaderSource{R: record.NewReader(br, display), OnError: func(le *record.LineError) {
		s.malformed++
		s.read++
		if malformed++; first == nil {
			first = le
		}
		if s.malformed <= 10 || s.log.Debug {
			s.log.Errorf("%v", le)
		}
	}}
	if file {
		// never idle: read ahead and decoded by workers, and (for
		// stages that read only what enrich reads) partially
		src.Partial, src.Workers = s.partial, s.workers
	}
	err = src.Run(func(r *record.Record) error {
		s.read++
		if err := emit(r); err != nil {
			return downstreamErr{err}
		}
		return nil
	})
	var ee downstreamErr
	if errors.As(err, &ee) {
		if errors.Is(ee.err, record.ErrStop) {
			return record.ErrStop
		}
		return ee
	}
	if err == nil && malformed > 0 {
		// read to its end, but the records skipped may have been
		// logins: the report must not give an all-clear without them
		reason := fmt.Sprintf("%s skipped (the first: %v)", Plural(int64(malformed), "malformed record", "malformed records"), first)
		if err := s.inputError(name, s.read, reason, emit); err != nil {
			if errors.Is(err, record.ErrStop) {
				return record.ErrStop
			}
			return downstreamErr{err}
		}
	}
	return err
}

// RunRecords is the body of a record stage binary (loganom-enrich,
// loganom-filter, loganom-report): it reads records from files or stdin,
// passes them through stages, and writes what comes out as NDJSON on
// stdout. The stages are the same ones the in-process wrapper chains.
// It streams: when a stream input (a pipe) has nothing ready, the stages
// that hold records back for lookups emit them as soon as those are done
// (record.Idler), and the output is flushed.
// It returns the exit code: ExitError when an input could not be read, a
// record was malformed (each is reported with its place and skipped), or
// the output could not be written.
func RunRecords(env Env, log *Logger, files []string, stages ...record.Stage) int {
	out := record.NewWriter(env.Stdout)
	defer out.Close()
	// A batch run (files only: nothing is ever idle) on more than one
	// CPU writes in a goroutine of its own and decodes in workers.
	workers := runtime.GOMAXPROCS(0)
	batch := workers > 1 && allRegular(files, env.Stdin)
	if batch {
		out.Background()
	}
	p := record.NewPipeline(out.Write, func() error {
		if err := out.Flush(); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		return nil
	}, stages...)
	src := &recordFiles{names: files, stdin: env.Stdin, log: log, idle: func() (<-chan struct{}, error) {
		wake, err := p.Idle()
		if err != nil {
			return nil, downstreamErr{err}
		}
		return wake, nil
	}}
	if workers > 1 {
		src.workers = workers
	}
	src.partial = len(stages) > 0
	for _, st := range stages {
		if _, ok := st.(record.EnrichOnly); !ok {
			src.partial = false
		}
	}
	err := record.RunPipeline(src, p)
	code := ExitOK
	if err != nil {
		log.Errorf("%v", err)
		code = ExitError
	}
	if src.malformed > 0 {
		log.Errorf("skipped %s", Plural(int64(src.malformed), "malformed record", "malformed records"))
		if src.malformed > 10 && !log.Debug {
			log.Hintf("only the first 10 were shown; run with --debug to see all")
		}
		code = ExitError
	}
	if src.failed > 0 {
		code = ExitError
	}
	return code
}

// allRegular tells whether every input named (stdin for "-" or none) is a
// regular file.
func allRegular(names []string, stdin io.Reader) bool {
	if len(names) == 0 {
		names = []string{"-"}
	}
	for _, name := range names {
		if name == "-" {
			if !regular(stdin) {
				return false
			}
			continue
		}
		fi, err := os.Stat(name)
		if err != nil || !fi.Mode().IsRegular() {
			return false
		}
	}
	return true
}
