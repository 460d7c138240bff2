package loganomcmd

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/loganom/loganom/pkg/parse"
	"github.com/loganom/loganom/pkg/record"
)

// streamSource is the live input of --follow -l -: a stream (a pipe from
// journalctl -f or tail -F) parsed line by line as it comes, on the
// pipeline's goroutine. When nothing is ready on the pipe, the pipeline is
// told that its input is idle (record.IdleReader), so that the records
// held for their lookups leave as each is done, the history is recorded
// and the metrics are brought up to date; stop ends it, pipe open or not.
type streamSource struct {
	r     io.Reader
	opts  parse.Options
	idle  func() (<-chan struct{}, error) // the pipeline's Idle; set before Run
	Stats parse.Stats

	mu      sync.Mutex
	stopped bool
	stopCh  chan struct{}
}

var errStopped = errors.New("stopped")

func newStreamSource(r io.Reader, opts parse.Options) *streamSource {
	return &streamSource{r: r, opts: opts, stopCh: make(chan struct{})}
}

// stop ends Run at the next line, or at once when it waits for input.
func (s *streamSource) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.stopped = true
		close(s.stopCh)
	}
}

func (s *streamSource) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// onIdle is the IdleReader's idle: the pipeline's, and a wake when
// stopped.
func (s *streamSource) onIdle() (<-chan struct{}, error) {
	if s.isStopped() {
		return nil, errStopped
	}
	var wake <-chan struct{}
	if s.idle != nil {
		w, err := s.idle()
		if err != nil {
			return nil, err
		}
		wake = w
	}
	if wake == nil {
		return s.stopCh, nil
	}
	both := make(chan struct{})
	go func() {
		select {
		case <-wake:
		case <-s.stopCh:
		}
		close(both)
	}()
	return both, nil
}

// Run parses the stream's lines and emits their records, until the
// stream ends or stop.
func (s *streamSource) Run(emit record.Emit) error {
	ir := record.NewIdleReader(s.r, s.onIdle)
	defer ir.Close()
	br := bufio.NewReaderSize(ir, 64<<10)
	now := time.Now
	if s.opts.Now != nil {
		now = s.opts.Now
	}
	lp := parse.LineParser{Loc: s.opts.Loc, Year: s.opts.Year}
	var rec record.Record
	var long []byte
	tooLong := false
	for {
		if s.isStopped() {
			return nil
		}
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// a long line: kept up to parse.MaxLine, then skipped
			if !tooLong && len(long)+len(line) < parse.MaxLine {
				long = append(long, line...)
				continue
			}
			tooLong, long = true, long[:0]
			continue
		}
		if len(long) > 0 {
			line = append(long, line...)
			long = long[:0]
		}
		var ie *record.IdleError
		if errors.As(err, &ie) {
			if errors.Is(ie.Err, errStopped) {
				return nil
			}
			return ie.Err
		}
		if len(line) > 0 {
			s.Stats.Lines++
			if tooLong {
				tooLong = false
				s.Stats.TooLong++
			} else if err := s.line(&lp, bytes.TrimSuffix(line, []byte{'\n'}), &rec, now, emit); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// line parses one line and emits its record: a login; a failed login
// goes to OnFailure.
func (s *streamSource) line(lp *parse.LineParser, line []byte, rec *record.Record, now func() time.Time, emit record.Emit) error {
	lp.Ref = now() // classic syslog has no year: the stream is now
	*rec = record.Record{}
	kind, why := lp.Parse(line, rec)
	switch kind {
	case parse.Malformed:
		s.Stats.Malformed++
		if s.opts.Debug != nil {
			s.opts.Debug("stdin: line " + strconv.FormatInt(s.Stats.Lines, 10) + ": " + why)
		}
		return nil
	case parse.Event:
	default:
		return nil
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
		return nil
	default:
		s.Stats.Rejects++
		return nil
	}
	r := *rec // the record leaves: a copy of its own
	r.SrcFile, r.SrcLine = "stdin", s.Stats.Lines
	return emit(&r)
}
