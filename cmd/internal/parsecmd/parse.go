// Package parsecmd is loganom-parse. It needs no config and does no
// lookups: its binary leaves out DNS, HTTP and SMTP. It links the state
// (SQLite, PostgreSQL) for --resume.
package parsecmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
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
	Resume bool     `help:"Read only what was appended to each file since the last --resume run, following logrotate's renames, copies and compression; the positions are kept in the state named by --db, saved once every record is written."`
	DB     string   `name:"db" placeholder:"PATH|URL" help:"The state that keeps the positions of --resume: an SQLite file or a postgres:// URL (the one loganom-report --db records in)."`
	Files  []string `arg:"" optional:"" name:"file" help:"Log files, plain or compressed (gzip, bzip2, xz, zstd: recognised by content), read in the order given; - or none reads stdin."`
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
		marks, exp, err := st.Positions(context.Background(), src.Names)
		if err != nil {
			log.Errorf("%v", err)
			return cli.ExitCodeOf(err)
		}
		src.Opts.Resume, expect = marks, exp
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
	if s.Lines > 0 && s.MailLines == 0 {
		log.Warnf("none of the %s read looks like a Postfix log line", cli.Plural(s.Lines, "line", "lines"))
		log.Hintf("is this the mail log? Postfix writes to /var/log/maillog or /var/log/mail.log, or to the journal, which can be piped in: journalctl -u postfix -o json")
	}
	if len(skipped) > 0 && !log.Debug {
		log.Warnf("skipped %s", strings.Join(skipped, " and "))
		log.Hintf("run with --debug to see where they are")
	}
}
