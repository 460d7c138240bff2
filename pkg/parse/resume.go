package parse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"time"

	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/record"
)

// errReported: an input failed, and what failed was already reported
// (to OnError, and as an input_error record).
var errReported = errors.New("reported")

// resumes says whether the input name is read from its mark: with
// Options.Resume, a file that is, or was, a regular file.
func (s *Source) resumes(name string) bool {
	if s.Opts.Resume == nil || name == "-" {
		return false
	}
	fi, err := os.Stat(name)
	return err != nil || fi.Mode().IsRegular()
}

// Marks returns, after Run, the mark to save of each log read with
// Options.Resume, by its name as given: the file now at its path (or,
// when there is none, the last rotated file read), the end of the last
// whole line read, its size and fingerprint. Saved, they make the next
// run read what follows, nothing twice.
//
// A log that could not be read at all has no mark (keep the one saved).
// When a file of a log fails part way, the mark of a log still ends at
// the last line emitted: a rotated file that fails is given up (its rest
// is lost, reported to OnError and as an input_error record) and the
// files after it are read; the log's own file that fails is marked up to
// the lines emitted, to be read again from there. When emit (or the
// writer of RunNDJSON) stops the reading, the mark of the log being read
// ends after the last chunk emitted whole (the records of the chunk under
// way when it stopped would be read again: do not save them), and logs
// not reached have none.
func (s *Source) Marks() map[string]input.Mark {
	return maps.Clone(s.marks)
}

// runResume reads what is new in the log name, as input.Plan finds it,
// and sets its mark. A file of the log that fails is reported here; the
// error is then errReported.
func (s *Source) runResume(name string, emit record.Emit) error {
	// When the log is read, for its mark's Saved: before Plan opens the
	// file at the path (a mark of it found empty tells by that time
	// which rotated files were written after the reading, and the state
	// saves the mark later, after the report), a little earlier still
	// for the files' coarse clock (Linux stamps a file with a time up to
	// a tick behind the time read here).
	read := time.Now().Add(-readSlack)
	var pieces []*input.Piece
	var err error
	if m := s.Opts.Resume[name]; m == nil && s.Opts.Rotated {
		pieces, err = input.PlanRotated(name, s.Opts.Warn)
	} else {
		pieces, err = input.Plan(name, m, s.Opts.Warn)
	}
	if err != nil {
		return err
	}
	defer input.ClosePieces(pieces)
	s.Stats.Inputs++
	if s.marks == nil {
		s.marks = make(map[string]input.Mark)
	}
	failed := false
	// The rotated file read last, to its end, when the read went well:
	// the mark of a log found empty after it (below).
	var prev *input.Piece
	var prevPos int64
	for i, p := range pieces {
		lines := s.Stats.Lines
		pos, err := s.readPiece(p, emit)
		last := i == len(pieces)-1
		if _, ok := fromDownstream(err); ok {
			s.marks[name] = readMark(p, pos, read)
			return err
		}
		if last {
			m := readMark(p, pos, read)
			if m.FPLen == 0 && prev != nil {
				// The log, just rotated, is empty: nothing to know it
				// by. The rotated file read before it is marked
				// instead, at its end: the writer, not reopened yet,
				// may still append to it (between logrotate's create
				// and postrotate's signal), and the next run reads
				// that rest, then what was rotated since, then the
				// log. (The mark of the empty log would make the next
				// run read the rotated file again whole, written after
				// the mark: every login in it counted twice.) Not a
				// rotated file that is empty too: the empty log's mark
				// then says as much.
				if pm := readMark(prev, prevPos, read); pm.FPLen > 0 {
					m = pm
				}
			}
			s.marks[name] = m
		}
		prev, prevPos = nil, 0
		if err == nil && !p.AtPath {
			prev, prevPos = p, pos
		}
		if err != nil {
			failed = true // Run counts the log as failed, once
			if s.Opts.OnError != nil {
				s.Opts.OnError(err)
			}
			if err := s.inputError(p.Name, s.Stats.Lines-lines, err, emit); err != nil {
				return downstreamError{err}
			}
		}
	}
	if failed {
		return errReported
	}
	return nil
}

// readSlack is how much earlier than the reading of a log its mark says
// it was read: more than a tick of the kernel's coarse clock, which
// stamps the files.
const readSlack = 20 * time.Millisecond

// readMark returns p's mark up to pos, saying it was read at read.
func readMark(p *input.Piece, pos int64, read time.Time) input.Mark {
	m := p.Mark(pos)
	m.Saved = read
	return m
}

// readPiece reads p from its offset and returns where the lines it
// emitted end, in p's uncompressed content.
func (s *Source) readPiece(p *input.Piece, emit record.Emit) (int64, error) {
	lp := LineParser{Loc: s.Opts.Loc, Year: s.Opts.Year, Ref: p.ModTime}
	before := s.Stats
	var pl *pipeline
	var err error
	var end int64
	if p.Kind == input.Plain {
		end = p.Size
		if p.AtPath {
			end, err = wholeLinesEnd(p.File, p.Offset, p.Size)
			if err != nil {
				return p.Offset, fmt.Errorf("%s: %w", p.Name, err)
			}
		}
		start := min(max(p.Offset, 0), end)
		pl, err = s.scan(p.Name, lp, emit, start, func(pl *pipeline) (int64, error) {
			return 0, pl.planChunks(p.File, start, end)
		})
	} else {
		dr, _, release, derr := input.Decompress(io.NewSectionReader(p.File, 0, 1<<62))
		if derr != nil {
			return p.Offset, fmt.Errorf("%s: %w", p.Name, derr)
		}
		defer release()
		skipped, serr := io.CopyN(io.Discard, dr, max(p.Offset, 0))
		if serr != nil && serr != io.EOF {
			return p.Offset, fmt.Errorf("%s: %w", p.Name, serr)
		}
		pl, err = s.scan(p.Name, lp, emit, skipped, func(pl *pipeline) (int64, error) {
			return pl.readChunks(dr, false)
		})
		end = skipped + pl.read
	}
	if s.Opts.Debug != nil {
		d := s.Stats
		s.Opts.Debug(fmt.Sprintf("%s: %s from byte %d to %d, %d lines, %d logins, %d auth failures, %d rejects, %d malformed, %d too long",
			p.Name, p.Kind, pl.base, end, d.Lines-before.Lines, d.Logins-before.Logins, d.AuthFailures-before.AuthFailures,
			d.Rejects-before.Rejects, d.Malformed-before.Malformed, d.TooLong-before.TooLong))
	}
	if err != nil {
		if _, ok := fromDownstream(err); !ok {
			err = fmt.Errorf("%s: %w", p.Name, err)
		}
		return pl.pos, err
	}
	return end, nil
}

// wholeLinesEnd returns where the last whole line of f in [from, size)
// ends: after its last newline, or from when there is none.
func wholeLinesEnd(f *os.File, from, size int64) (int64, error) {
	if from < 0 {
		from = 0
	}
	buf := make([]byte, 64<<10)
	for end := size; end > from; {
		start := max(from, end-int64(len(buf)))
		b := buf[:end-start]
		n, err := f.ReadAt(b, start)
		if err != nil && err != io.EOF {
			return from, err
		}
		if n < len(b) {
			// The file shrank (truncated as it was read): no more than
			// what is there now.
			size = start + int64(n)
			end = size
			continue
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return from, nil
}
