// Package parsecmd is loganom-parse. It needs no config and does no
// lookups: its binary leaves out DNS, HTTP and SMTP. It links the state
// (SQLite, PostgreSQL) for --resume.
package parsecmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // zones for --tz on machines without zoneinfo

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/parse"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// ParseFlags are the flags of loganom-parse; the wrapper takes them too.
type ParseFlags struct {
	Year  int    `help:"Year of classic syslog timestamps, which carry none (default: inferred from each file's modification time, or now for stdin)." placeholder:"YYYY"`
	TZ    string `name:"tz" help:"Time zone of timestamps that carry none, e.g. Europe/Berlin (default: the local zone)." placeholder:"ZONE"`
	Stats bool   `help:"Print counts of lines, events and malformed lines on stderr at the end."`
	Debug bool   `short:"d" help:"Print debug lines on stderr (also LOGLEVEL=DEBUG)."`
}

type parseCLI struct {
	ParseFlags
	Resume bool   `help:"Read only what was appended to each file since the last --resume run, following logrotate's renames, copies and compression; the positions are kept in the state named by --db, saved once every record is written."`
	DB     string `name:"db" placeholder:"PATH|URL" help:"The state that keeps the positions of --resume: an SQLite file or a postgres:// URL (the one loganom-report --db records in)."`
	FollowFlags
	Files []string `arg:"" optional:"" name:"file" help:"Log files, plain or compressed (gzip, bzip2, xz, zstd: recognised by content), read in the order given; - or none reads stdin."`
}

// FollowFlags are the flags of following, live.
type FollowFlags struct {
	Follow             bool          `help:"Follow the files as they are written, like tail -F (across logrotate's rename+create, copytruncate, delete+recreate), from their end, or from where the last run left them with --resume (a file never read: from the oldest file rotated from it); records are written as lines come. SIGTERM or SIGINT stops, saving the positions."`
	Journal            bool          `help:"Follow the systemd journal instead of files, running journalctl --follow --output=json (started again if it dies), from its end; with --resume after the last entry read, or from its start when none was."`
	JournalUnit        []string      `name:"journal-unit" placeholder:"UNIT" help:"With --journal: the entries of this unit (a glob; repeatable; default postfix*, which matches postfix@-.service)."`
	JournalIdentifier  []string      `name:"journal-identifier" placeholder:"ID" help:"With --journal: the entries of this syslog identifier, e.g. postfix/smtpd (repeatable; instead of the unit)."`
	Journalctl         string        `name:"journalctl" default:"journalctl" placeholder:"PATH" help:"With --journal: the journalctl program."`
	FollowPollInterval time.Duration `name:"poll-interval" default:"1s" hidden:"" help:"With --follow: how often the files are looked at besides inotify's events."`
}

const parseDesc = `Read Postfix logs and write one JSON record per line for each SASL login,
SASL authentication failure and reject. Classic syslog, RFC 3339, RFC 5424 and
journald JSON (journalctl -o json) lines are recognised without a flag.`

// Main runs loganom-parse.
func Main(env cli.Env) int {
	log := &cli.Logger{Prog: "loganom-parse", W: env.Stderr}
	var c parseCLI
	if code, done := cli.ParseArgs(env, log, &c, parseDesc); done {
		return code
	}
	log.Debug = c.Debug || cli.DebugFromEnv(env.Getenv)
	if c.Follow || c.Journal || len(c.JournalUnit) > 0 || len(c.JournalIdentifier) > 0 {
		return follow(env, log, &c)
	}
	src, err := c.ParseFlags.Source(c.Files, env, log)
	if err != nil {
		log.Errorf("%v", err)
		return cli.ExitUsage
	}
	var st *statecmd.State
	var expect map[string]state.Position
	switch {
	case c.Resume && c.DB == "":
		log.Errorf("--resume needs --db, the state that keeps where each file was left")
		log.Hintf("use the state loganom-report --db records in: loganom-parse --resume --db PATH FILE...")
		return cli.ExitUsage
	case !c.Resume && c.DB != "":
		log.Errorf("--db is only for --resume")
		return cli.ExitUsage
	case c.Resume:
		cfg, _ := config.LoadConfig("")
		st, err = statecmd.Open(context.Background(), &statecmd.Flags{DB: c.DB}, cfg, log, false, true)
		if err != nil {
			log.Errorf("%v", err)
			return cli.ExitError
		}
		defer st.Close()
		statecmd.HoldAs(st, log, "loganom-parse", false)
		marks, exp, err := st.Positions(context.Background(), src.Names)
		if err != nil {
			log.Errorf("%v", err)
			statecmd.BusyHint(log, err, "loganom-parse %s")
			return cli.ExitCodeOf(err)
		}
		src.Opts.Resume, expect = marks, exp
		src.Opts.Rotated = true // a log read for the first time: the weeks on disk too
		src.Opts.Warn = func(msg string) { log.Warnf("%s", msg) }
	}
	// No stage follows the parser here, so its workers encode the records
	// themselves (the same bytes as record.Writer), and they come a chunk
	// of the input at a time: written as they come, unbuffered, a live log
	// piped in gets its events out at once.
	err = src.RunNDJSON(func(b []byte) error {
		_, err := env.Stdout.Write(b)
		return err
	})
	var ie *parse.InputsError
	if err != nil && !errors.As(err, &ie) {
		err = fmt.Errorf("write output: %w", err)
	}
	c.ParseFlags.Report(src, log)
	// The positions are saved once every record was written to the pipe
	// (an error writing saves none): a record is never read twice, but
	// one that a later stage loses after that is not read again.
	if st != nil && (err == nil || errors.As(err, &ie)) {
		if _, cerr := st.Commit(context.Background(), report.New(report.Rule{}), false, src.Marks(), expect, nil); cerr != nil {
			log.Errorf("%v", cerr)
			if err == nil {
				err = cerr
			}
		}
	}
	switch {
	case errors.As(err, &ie):
		return cli.ExitError // each input was reported as it failed
	case err != nil:
		log.Errorf("%v", err)
		return cli.ExitError
	}
	return cli.ExitOK
}

// Source builds the parse stage's source from the flags.
func (f *ParseFlags) Source(files []string, env cli.Env, log *cli.Logger) (*parse.Source, error) {
	var loc *time.Location
	if f.TZ != "" {
		l, err := time.LoadLocation(f.TZ)
		if err != nil {
			return nil, fmt.Errorf("--tz %q: unknown time zone", f.TZ)
		}
		loc = l
	}
	if f.Year != 0 && (f.Year < 1970 || f.Year > 9999) {
		return nil, fmt.Errorf("--year %d: out of range", f.Year)
	}
	src := &parse.Source{Names: files, Opts: parse.Options{
		Loc:   loc,
		Year:  f.Year,
		Stdin: env.Stdin,
		OnError: func(err error) {
			log.Errorf("%v", err)
			if errors.Is(err, fs.ErrPermission) {
				log.Hintf("mail logs are often readable only by root or the adm group")
			}
		},
	}}
	if log.Debug {
		src.Opts.Debug = func(s string) { log.Debugf("%s", s) }
	}
	return src, nil
}

// Report prints the counts (with --stats or debug) and a warning when lines
// were skipped.
func (f *ParseFlags) Report(src *parse.Source, log *cli.Logger) {
	s := src.Stats
	if f.Stats || log.Debug {
		log.Infof("stats: inputs=%d lines=%d events=%d login=%d auth_failure=%d reject=%d malformed=%d too_long=%d",
			s.Inputs, s.Lines, s.Events(), s.Logins, s.AuthFailures, s.Rejects, s.Malformed, s.TooLong)
	}
	var skipped []string
	if s.Malformed > 0 {
		skipped = append(skipped, cli.Plural(s.Malformed, "line that looked like an event but did not parse", "lines that looked like events but did not parse"))
	}
	if s.TooLong > 0 {
		skipped = append(skipped, cli.Plural(s.TooLong, "line of 1 MiB or more", "lines of 1 MiB or more"))
	}
	if len(src.Empty) > 0 {
		names := make([]string, len(src.Empty))
		for i, n := range src.Empty {
			names[i] = report.Escape(n)
		}
		log.Warnf("no line was read: %s empty", strings.Join(names, ", ")+map[bool]string{true: " is", false: " are"}[len(names) == 1])
		if len(src.Empty) == 1 && src.Empty[0] == "stdin" {
			log.Hintf("check what is piped in; the report gives no all-clear")
		} else {
			log.Hintf("check the path, and whether the log was just rotated (its lines are then in the one before); the report gives no all-clear")
		}
	}
	if s.Lines > 0 && s.MailLines == 0 {
		log.Warnf("none of the %s read looks like a Postfix log line", cli.Plural(s.Lines, "line", "lines"))
		log.Hintf("is this the mail log? Postfix writes to /var/log/maillog or /var/log/mail.log, or to the journal, which can be piped in: journalctl -u postfix -o json")
	}
	if len(skipped) > 0 && !log.Debug {
		log.Warnf("skipped %s", strings.Join(skipped, " and "))
		// --debug names each malformed line, and of the lines too long
		// only the input (each input's counts): they are skipped as
		// they are read, before a line is numbered
		switch {
		case s.TooLong == 0:
			log.Hintf("run with --debug to see where they are")
		case s.Malformed == 0:
			log.Hintf("run with --debug to see which inputs they are in (no Postfix line is that long: an input that is no log?)")
		default:
			log.Hintf("run with --debug to see where the malformed ones are, and which inputs the long ones are in")
		}
	}
}

// saveEvery is how often loganom-parse --follow --resume saves its
// positions, besides at exit.
const saveEvery = 5 * time.Second

// JournalPath is the path under which the journal's position is kept in
// the state: "journal:" and the selection (unit=U, identifier=I, each as
// given, separated by spaces); the cursor of the last entry read is the
// position's FP.
func JournalPath(units, identifiers []string) string {
	var sel []string
	for _, u := range units {
		sel = append(sel, "unit="+u)
	}
	for _, i := range identifiers {
		sel = append(sel, "identifier="+i)
	}
	return "journal:" + strings.Join(sel, " ")
}

// follow runs loganom-parse --follow or --journal.
func follow(env cli.Env, log *cli.Logger, c *parseCLI) int {
	switch {
	case c.Follow && c.Journal:
		log.Errorf("--follow reads files, --journal the journal: one or the other")
		return cli.ExitUsage
	case !c.Journal && (len(c.JournalUnit) > 0 || len(c.JournalIdentifier) > 0):
		log.Errorf("--journal-unit and --journal-identifier are for --journal")
		return cli.ExitUsage
	case c.Journal && len(c.Files) > 0:
		log.Errorf("--journal reads the journal, not files (%s)", c.Files[0])
		log.Hintf("to follow files: loganom-parse --follow FILE...")
		return cli.ExitUsage
	case c.Follow && len(c.Files) == 0:
		log.Errorf("--follow needs the files to follow")
		log.Hintf("loganom-parse --follow /var/log/mail.log; a pipe is followed without it: tail -F /var/log/mail.log | loganom-parse")
		return cli.ExitUsage
	case c.Follow && slices.Contains(c.Files, "-"):
		log.Errorf("--follow follows files, and stdin is not one")
		log.Hintf("a pipe is read as it comes without --follow: tail -F /var/log/mail.log | loganom-parse")
		return cli.ExitUsage
	case c.Resume && c.DB == "":
		log.Errorf("--resume needs --db, the state that keeps where each file was left")
		log.Hintf("use the state loganom-report --db records in: loganom-parse --resume --db PATH FILE...")
		return cli.ExitUsage
	case !c.Resume && c.DB != "":
		log.Errorf("--db is only for --resume")
		return cli.ExitUsage
	}
	units, ids := c.JournalUnit, c.JournalIdentifier
	if c.Journal && len(units) == 0 && len(ids) == 0 {
		units = []string{"postfix*"}
	}
	src, err := c.ParseFlags.Source(c.Files, env, log)
	if err != nil {
		log.Errorf("%v", err)
		return cli.ExitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	fs := &parse.FollowSource{Opts: src.Opts, Context: ctx, Poll: c.FollowPollInterval}
	fs.Opts.Warn = func(msg string) { log.Warnf("%s", msg) }
	fs.Opts.Note = func(msg string) { log.Debugf("%s", msg) } // a stage says its rotations with --debug
	jpath := JournalPath(units, ids)
	if c.Journal {
		fs.Journal = &parse.JournalOptions{Command: c.Journalctl, Units: units, Identifiers: ids}
	} else {
		fs.Files = c.Files
	}
	var st *statecmd.State
	expect := map[string]state.Position{}
	if c.Resume {
		cfg, _ := config.LoadConfig("")
		st, err = statecmd.Open(context.Background(), &statecmd.Flags{DB: c.DB}, cfg, log, false, true)
		if err != nil {
			log.Errorf("%v", err)
			return cli.ExitError
		}
		defer st.Close()
		statecmd.HoldAs(st, log, "loganom-parse", true)
		if c.Journal {
			saved, err := st.Saved(ctx, []string{jpath})
			if err != nil && ctx.Err() != nil {
				return cli.ExitOK // stopped while it waited for the journal's lock
			}
			if err != nil {
				log.Errorf("%v", err)
				return cli.ExitCodeOf(err)
			}
			if p, ok := saved[jpath]; ok {
				fs.Journal.Cursor, fs.Journal.CursorTime = p.FP, p.Updated
				expect[jpath] = p
			} else {
				fs.Journal.FromStart = true // never read: what it holds first
			}
		} else {
			marks, exp, err := st.Positions(ctx, c.Files)
			if err != nil && ctx.Err() != nil {
				return cli.ExitOK // stopped while it waited for a log's lock
			}
			if err != nil {
				log.Errorf("%v", err)
				return cli.ExitCodeOf(err)
			}
			fs.Opts.Resume, expect = marks, exp
			fs.Opts.Rotated = true // a log never read: the weeks on disk first, as without --follow
		}
	}
	out := bufio.NewWriterSize(env.Stdout, 64<<10)
	var writeErr error
	flush := func() error {
		if err := out.Flush(); err != nil {
			writeErr = err
			return err
		}
		return nil
	}
	// save records the positions of what was written out, flushed: a
	// record is never before its position is saved, nor after.
	save := func() error {
		// flushed first, with a state or not: at the end, what was
		// read after the stop (Run calls OnIdle no more) goes out too
		if err := flush(); err != nil {
			return err
		}
		if st == nil {
			return nil
		}
		now := time.Now()
		var ps []state.Position
		if c.Journal {
			if cur := fs.Cursor(); cur != "" {
				ps = append(ps, state.Position{Path: jpath, FP: cur})
			}
		} else {
			for name, m := range fs.Marks() {
				a, err := filepath.Abs(name)
				if err != nil {
					return err
				}
				ps = append(ps, state.Position{Path: a, Dev: m.Dev, Ino: m.Ino, Offset: m.Offset, Size: m.Size, FP: m.FP, FPLen: m.FPLen})
			}
		}
		ps = slices.DeleteFunc(ps, func(p state.Position) bool {
			e, ok := expect[p.Path]
			e.Updated = time.Time{}
			return ok && e == p // unchanged since the last save
		})
		if len(ps) == 0 {
			return nil
		}
		for i := range ps {
			ps[i].Updated = now
		}
		if err := statecmd.Bound(context.Background(), statecmd.OpTimeout, func(ctx context.Context) error {
			_, err := st.Store.Commit(ctx, &state.Run{Instance: st.Instance, Now: now, Positions: ps, Expect: expect})
			return err
		}); err != nil {
			return err
		}
		for _, p := range ps {
			expect[p.Path] = p
		}
		return nil
	}
	fs.OnIdle = flush
	if st != nil {
		fs.Tick, fs.OnTick = saveEvery, save
	}
	err = fs.RunNDJSON(func(b []byte) error {
		_, err := out.Write(b)
		if err != nil {
			writeErr = err
		}
		return err
	})
	if err == nil && writeErr == nil {
		err = save() // flushes
	} else if err == nil {
		err = writeErr
	}
	if writeErr != nil && errors.Is(err, writeErr) {
		err = fmt.Errorf("write output: %w", writeErr)
	}
	c.ParseFlags.Report(&parse.Source{Stats: fs.Stats}, log)
	if err != nil {
		log.Errorf("%v", err)
		if errors.Is(err, state.ErrConflict) {
			log.Hintf("another loganom-parse --follow --resume follows the same log with the same state: run one")
		}
		return cli.ExitCodeOf(err)
	}
	return cli.ExitOK
}
