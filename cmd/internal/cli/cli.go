// Package cli holds what the loganom commands share: streams passed in as
// arguments (so that tests run a command in-process), flag parsing with kong,
// and messages in one form: "prog: error: …", with "prog: hint: …" where a
// hint helps.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/alecthomas/kong"
)

// Exit codes, documented in README.md.
const (
	ExitOK    = 0 // success
	ExitError = 1 // an input could not be read, output could not be written, bad records
	ExitUsage = 2 // bad flags or arguments
)

// Env is what a command gets from its process.
type Env struct {
	Args   []string // without the program name
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// TuneBatch, when set (the process's own environment: OS), is called
	// by a batch run with the size of its input, before it reads it: it
	// may change the process's settings for the run (TuneBatch). Tests
	// that run commands in-process leave it nil.
	TuneBatch func(inputBytes int64)
}

// Logger prints messages on stderr, prefixed with the program name.
type Logger struct {
	Prog  string
	W     io.Writer
	Debug bool
	// Slog, when set (a daemon), gets the messages instead, as structured
	// lines: level ERROR, WARN, INFO (hints and information) or DEBUG.
	Slog *slog.Logger

	mu sync.Mutex // a message's lines go out together, whatever goroutine logs
}

func (l *Logger) print(kind, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if l.Slog != nil {
		level := slog.LevelInfo
		switch kind {
		case "error: ":
			level = slog.LevelError
		case "warning: ":
			level = slog.LevelWarn
		case "debug: ":
			level = slog.LevelDebug
		case "hint: ":
			msg = "hint: " + msg
		}
		l.Slog.Log(context.Background(), level, msg)
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, line := range strings.Split(msg, "\n") {
		k := kind
		if i > 0 && strings.HasPrefix(line, "hint: ") {
			// an error's hint on a line of its own: a hint, not
			// "error: hint: …"
			k, line = "hint: ", strings.TrimPrefix(line, "hint: ")
		}
		fmt.Fprintf(l.W, "%s: %s%s\n", l.Prog, k, line)
	}
}

// Errorf prints "prog: error: …", and then "prog: hint: …" when one of
// args is an error that holds a UsageError with a Hint.
func (l *Logger) Errorf(format string, args ...any) {
	l.print("error: ", format, args...)
	for _, a := range args {
		var ue UsageError
		if err, ok := a.(error); ok && errors.As(err, &ue) && ue.Hint != "" {
			l.print("hint: ", "%s", ue.Hint)
			return
		}
	}
}

// Warnf prints "prog: warning: …".
func (l *Logger) Warnf(format string, args ...any) { l.print("warning: ", format, args...) }

// Hintf prints "prog: hint: …".
func (l *Logger) Hintf(format string, args ...any) { l.print("hint: ", format, args...) }

// Infof prints "prog: …".
func (l *Logger) Infof(format string, args ...any) { l.print("", format, args...) }

// Debugf prints "prog: debug: …" when debugging is on.
func (l *Logger) Debugf(format string, args ...any) {
	if l.Debug {
		l.print("debug: ", format, args...)
	}
}

// DebugFromEnv is true when LOGLEVEL asks for debug output, as it did for
// the original tool.
func DebugFromEnv(getenv func(string) string) bool {
	return strings.EqualFold(getenv("LOGLEVEL"), "debug")
}

type exitPanic struct{ code int }

// versionFlags is embedded in every command's grammar.
type versionFlags struct {
	Version kong.VersionFlag `help:"Print the version and exit."`
}

// Version is the version of the binary prog: the module version it was
// built from (go install …@vX), or the commit and date of the checkout,
// or "(devel)".
func Version(prog string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return prog + " (devel)"
	}
	v := bi.Main.Version
	var rev, date, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			date = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v = rev + dirty + " " + date
	}
	if v == "" {
		v = "(devel)"
	}
	return prog + " " + strings.TrimSpace(v) + " (" + bi.GoVersion + ")"
}

// ParseArgs parses env.Args into grammar. It returns done=true with an exit
// code when the command should stop: after --help, or on a usage error (which
// it reports).
func ParseArgs(env Env, log *Logger, grammar any, desc string, opts ...kong.Option) (code int, done bool) {
	_, code, done = ParseCommand(env, log, grammar, desc, opts...)
	return code, done
}

// ParseCommand is ParseArgs for a command with subcommands: it also
// returns kong's context, whose Command() names the one chosen.
func ParseCommand(env Env, log *Logger, grammar any, desc string, opts ...kong.Option) (ctx *kong.Context, code int, done bool) {
	var exited *exitPanic
	func() {
		defer func() {
			if p := recover(); p != nil {
				e, ok := p.(exitPanic)
				if !ok {
					panic(p)
				}
				exited = &e
			}
		}()
		opts = append([]kong.Option{
			kong.Name(log.Prog),
			kong.Description(desc),
			kong.Writers(env.Stdout, env.Stderr),
			kong.Exit(func(code int) { panic(exitPanic{code}) }),
			kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
			kong.Embed(&versionFlags{}),
			kong.Vars{"version": Version(log.Prog)},
			DurationMapper,
		}, opts...)
		parser, err := kong.New(grammar, opts...)
		if err != nil {
			panic(err) // a bug in the grammar
		}
		if ctx, err = parser.Parse(env.Args); err != nil {
			log.Errorf("%s", err)
			if ue := (UsageError{}); !errors.As(err, &ue) || ue.Hint == "" { // else Errorf gave its hint
				log.Hintf("see '%s --help'", helpOf(log.Prog, err))
			}
			exited = &exitPanic{ExitUsage}
		}
	}()
	if exited != nil {
		return nil, exited.code, true
	}
	return ctx, 0, false
}

// helpOf names the command whose --help explains err: the subcommand
// the error is in ("loganom postfix-sasl"), else the program.
func helpOf(prog string, err error) string {
	var pe *kong.ParseError
	if !errors.As(err, &pe) || pe.Context == nil {
		return prog
	}
	name := prog
	for _, w := range strings.Fields(pe.Context.Command()) {
		if strings.HasPrefix(w, "<") {
			break
		}
		name += " " + w
	}
	return name
}

// OS returns the Env of this process.
func OS() Env {
	return Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv,
		TuneBatch: func(n int64) { TuneBatch(n, os.Getenv) }}
}

// Plural is "1 one" or "N many".
func Plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// LockedWriter serialises the writes of goroutines to one writer (a
// daemon's stderr).
type LockedWriter struct {
	mu sync.Mutex
	W  io.Writer
}

func (w *LockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.W.Write(p)
}

// NewSlog is a daemon's logger: structured lines (key=value) on w, with
// the program's name, at level debug when debug is set.
func NewSlog(w io.Writer, prog string, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})).With("prog", prog)
}
