package input

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// A Journal follows the systemd journal: it runs `journalctl --follow
// --output=json` as a child process (never through a shell), delivers its
// lines with the cursor of the last entry, and, when journalctl dies,
// starts it again after a pause (1s, doubling up to MaxBackoff while it
// keeps dying) from the last cursor delivered.
type Journal struct {
	// Command is the journalctl program (default "journalctl", looked
	// up in PATH).
	Command string
	// Units and Identifiers select the entries: --unit=U (a glob such
	// as "postfix*" matches postfix@-.service too) and --identifier=I
	// (SYSLOG_IDENTIFIER, e.g. "postfix/smtpd"). None: every entry.
	Units       []string
	Identifiers []string
	// Args are more arguments for journalctl (--directory=DIR, say).
	Args []string
	// Cursor, when set, is where to resume: the entries after it
	// (--after-cursor). Else it starts at the end (--lines=0), or at
	// the start of the journal with FromStart (--no-tail).
	Cursor    string
	FromStart bool
	// CursorTime, when set, is when Cursor was saved: a cursor that
	// journalctl cannot seek to at its first start ("Failed to seek to
	// cursor": damaged, or of another journal) is then left for the
	// entries since that time (--since), with a warning, rather than an
	// error. (A cursor whose entry was vacuumed it seeks to the nearest.)
	CursorTime time.Time
	// MaxLine bounds the lines delivered (default DefaultMaxLine).
	MaxLine int
	// MinBackoff and MaxBackoff bound the pause before journalctl is
	// started again (defaults 1s and 1m).
	MinBackoff, MaxBackoff time.Duration
	// Warn is told when journalctl fails or writes on its stderr; nil:
	// nobody.
	Warn func(string)
	// OnLines gets the lines read, in order, with Lines.Cursor set: its
	// File is "journal". An error stops Run.
	OnLines func(Lines) error
	// OnIdle, when set, is called when journalctl has nothing more to
	// say for now.
	OnIdle func() error

	buf     []byte
	n       int
	started time.Time
	since   time.Time // CursorTime, once the cursor could not be sought
}

// args returns journalctl's arguments, to resume after cursor ("": to
// start as configured).
func (j *Journal) args(cursor string) []string {
	a := []string{"--follow", "--output=json", "--all", "--quiet"}
	for _, u := range j.Units {
		a = append(a, "--unit="+u)
	}
	for _, i := range j.Identifiers {
		a = append(a, "--identifier="+i)
	}
	switch {
	case cursor != "":
		a = append(a, "--after-cursor="+cursor)
	case !j.since.IsZero(): // (nothing delivered since)
		a = append(a, fmt.Sprintf("--since=@%d", j.since.Unix()))
	case j.FromStart:
		a = append(a, "--no-tail")
	case !j.started.IsZero():
		// Started before, nothing delivered: from when it first
		// started, not to miss what came since.
		a = append(a, fmt.Sprintf("--since=@%d", j.started.Unix()))
	default:
		a = append(a, "--lines=0")
	}
	return append(a, j.Args...)
}

// Run follows the journal until ctx is done (journalctl is then stopped,
// and Run returns nil), or until OnLines or OnIdle fails (Run returns
// that error).
func (j *Journal) Run(ctx context.Context) error {
	if j.Warn == nil {
		j.Warn = func(string) {}
	}
	if j.Command == "" {
		j.Command = "journalctl"
	}
	if j.MaxLine <= 0 {
		j.MaxLine = DefaultMaxLine
	}
	minB, maxB := j.MinBackoff, j.MaxBackoff
	if minB <= 0 {
		minB = time.Second
	}
	if maxB < minB {
		maxB = max(minB, time.Minute)
	}
	j.buf = make([]byte, j.MaxLine)
	cursor := j.Cursor
	backoff := minB
	for {
		start := time.Now()
		delivered, stderr, err := j.runOnce(ctx, &cursor)
		if ctx.Err() != nil {
			return nil
		}
		if isCallback(err) {
			return unwrapCallback(err)
		}
		if j.started.IsZero() {
			// Its first start: one that cannot be started, or that
			// exits by itself at once, before a line (a cursor it cannot seek
			// to, an option it does not know, a journal it may not
			// read) would do the same each time: an error, not a
			// warning every minute for ever. (Killed by a signal, it
			// is started again: the stop of the service may reach
			// it first.)
			if !delivered && !bySignal(err) && time.Since(start) < startGrace {
				if cursor != "" && !j.CursorTime.IsZero() && strings.Contains(strings.ToLower(stderr), "cursor") {
					// a cursor it cannot seek to (damaged, of another
					// journal): what came since the cursor was saved
					// (an entry of that second may come twice)
					j.Warn(fmt.Sprintf("%s: %s: it cannot seek to the cursor saved; reading the entries since it was saved, %s, instead",
						j.Command, stderr, j.CursorTime.Local().Format("2006-01-02 15:04:05 MST")))
					cursor, j.since = "", j.CursorTime
					continue
				}
				return j.startError(err, stderr)
			}
			j.started = start
		}
		if stoppedWith(err) {
			// the signal of a stop that reaches every process of the
			// service (systemctl stop, Ctrl-C) may kill journalctl a
			// moment before this process hears of it: wait for that,
			// not to warn of a stop as of a crash
			t := time.NewTimer(stopGrace)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		if stderr != "" {
			j.Warn(fmt.Sprintf("%s: %s", j.Command, stderr))
		}
		if delivered || time.Since(start) > 10*maxB {
			backoff = minB // it ran well for a while: not a crash loop
		}
		j.Warn(fmt.Sprintf("%s: %v; starting it again in %v", j.Command, err, backoff))
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, maxB)
	}
}

// startGrace: a journalctl that exits by itself this soon after its first
// start, before a line, failed to start (see Run).
const startGrace = 5 * time.Second

// bySignal tells whether err is the exit of a process killed by a signal.
func bySignal(err error) bool {
	_, ok := exitSignal(err)
	return ok
}

// exitSignal returns the signal that killed the process whose exit err
// is; ok false when err is no such exit.
func exitSignal(err error) (sig syscall.Signal, ok bool) {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 0, false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return 0, false
	}
	return ws.Signal(), true
}

// stopGrace: how long a journalctl killed by the signal of a stop waits for
// the stop to reach this process before it is taken as a crash.
const stopGrace = 500 * time.Millisecond

// stoppedWith tells whether err is the exit of a process killed by
// SIGTERM, SIGINT or SIGHUP: the signals of a stop.
func stoppedWith(err error) bool {
	sig, ok := exitSignal(err)
	return ok && (sig == syscall.SIGTERM || sig == syscall.SIGINT || sig == syscall.SIGHUP)
}

// startError is the error of a journalctl that failed at its first start:
// why, what it said on stderr, and the cursor it was given.
func (j *Journal) startError(err error, stderr string) error {
	var (
		ee *exec.ExitError
		pe *fs.PathError
		ne *exec.Error
	)
	switch {
	case errors.As(err, &ee):
		err = fmt.Errorf("%s exited at its start (%v)", j.Command, err)
	case errors.As(err, &pe), errors.As(err, &ne):
		// not started: the error names it
	default:
		err = fmt.Errorf("%s: %w", j.Command, err)
	}
	if stderr != "" {
		err = fmt.Errorf("%w: %s", err, stderr)
	}
	if j.Cursor != "" {
		err = fmt.Errorf("%w (it was started after the cursor saved, %q)", err, j.Cursor)
	}
	return err
}

// runOnce runs journalctl once, until it exits or ctx is done, and
// delivers its lines. It says whether it delivered any, the last line
// journalctl wrote on stderr, and why it stopped.
func (j *Journal) runOnce(ctx context.Context, cursor *string) (delivered bool, stderrLine string, err error) {
	cmd := exec.CommandContext(ctx, j.Command, j.args(*cursor)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	defer dieWithParent(cmd)()
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return false, "", err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	if err := cmd.Start(); err != nil {
		return false, "", err
	}
	j.n = 0
	first := true
	var skipping bool
	var tooLong int64
	readErr := func() error {
		for {
			space := len(j.buf) - j.n
			k, err := out.Read(j.buf[j.n:])
			j.n += k
			data := j.buf[:j.n]
			if skipping {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					j.n = 0
					data = nil
				} else {
					skipping = false
					data = data[i+1:]
				}
			}
			end := bytes.LastIndexByte(data, '\n') + 1
			if end == 0 && len(data) == len(j.buf) {
				tooLong++
				skipping = true
				j.n = 0
				data = nil
			}
			if end > 0 || tooLong > 0 && !skipping {
				lines := data[:end]
				if c := lastCursor(lines); c != "" {
					*cursor = c
				}
				l := Lines{Data: lines, File: "journal", First: first, Cursor: *cursor, TooLong: tooLong}
				first, tooLong = false, 0
				if err := j.OnLines(l); err != nil {
					return callbackError{err}
				}
				delivered = delivered || end > 0
			}
			if data != nil {
				j.n = copy(j.buf, data[end:])
			}
			if err != nil {
				return err
			}
			// A read shorter than the room left: the pipe is drained,
			// journalctl has said all it has for now.
			if k < space && j.OnIdle != nil {
				if err := j.OnIdle(); err != nil {
					return callbackError{err}
				}
			}
		}
	}()
	if isCallback(readErr) {
		cmd.Cancel()
		cmd.Wait()
		return delivered, "", readErr
	}
	werr := cmd.Wait()
	msg := lastLine(strings.TrimSpace(stderr.String()))
	switch {
	case werr != nil:
		return delivered, msg, werr
	case readErr != nil && readErr != io.EOF:
		return delivered, msg, readErr
	}
	return delivered, msg, errors.New("exited")
}

// lastLine returns the last line of s.
func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// limitedWriter keeps the first n bytes written to it.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// lastCursor returns the __CURSOR of the last line of lines (whole
// lines of `journalctl -o json`) that has one.
func lastCursor(lines []byte) string {
	for end := len(lines); end > 0; {
		start := bytes.LastIndexByte(lines[:end-1], '\n') + 1
		if c := cursorOf(lines[start:end]); c != "" {
			return c
		}
		end = start
	}
	return ""
}

// cursorOf returns the __CURSOR field of one JSON line: journalctl
// writes it first, as `{"__CURSOR":"s=…"` (or, before systemd 246, with
// spaces: `{ "__CURSOR" : "s=…"`); any other layout is decoded.
func cursorOf(line []byte) string {
	i := bytes.Index(line, []byte(`"__CURSOR"`))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(line[i+len(`"__CURSOR"`):], " \t")
	if len(rest) > 0 && rest[0] == ':' {
		rest = bytes.TrimLeft(rest[1:], " \t")
		if len(rest) > 0 && rest[0] == '"' {
			rest = rest[1:]
			if e := bytes.IndexAny(rest, "\"\\"); e > 0 && rest[e] == '"' {
				return string(rest[:e])
			}
		}
	}
	var v struct {
		Cursor string `json:"__CURSOR"`
	}
	if json.Unmarshal(bytes.TrimSpace(line), &v) != nil {
		return ""
	}
	return v.Cursor
}
