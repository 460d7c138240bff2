// Package loganomcmd is the loganom command: postfix-sasl chains the
// stages of the pipe binaries in one process; quota-high and cache.
package loganomcmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/loganom/loganom/cmd/internal/blockcmd"
	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/cmd/internal/enrichcmd"
	"github.com/loganom/loganom/cmd/internal/filtercmd"
	"github.com/loganom/loganom/cmd/internal/parsecmd"
	"github.com/loganom/loganom/cmd/internal/reportcmd"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/enrich"
	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/parse"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

type postfixSASLCmd struct {
	Config string   `short:"c" placeholder:"FILE" help:"INI configuration, the original tool's (default: ./config.ini when it exists)."`
	Log    []string `short:"l" placeholder:"FILE" sep:"none" help:"Postfix log, plain or compressed (default /var/log/maillog, or /var/log/mail.log where that is missing, as on Debian); repeat for several; - reads stdin."`
	Exec   string   `short:"e" placeholder:"SCRIPT" help:"Run SCRIPT once per account that looks compromised, with the account as its argument and its data as JSON on stdin (never through a shell)."`
	parsecmd.ParseFlags
	enrichcmd.EnrichFlags
	filtercmd.FilterFlags
	reportcmd.ReportFlags
	reportcmd.NotifyFlags
	statecmd.Flags
	Resume    bool `help:"Read only what was appended to each log since the last run, following logrotate's renames, copies and compression; needs the state. Without it, every line is read and the history is not changed."`
	rawFilter filtercmd.FilterFlags
	// hup: the daemon's SIGHUPs from its very start (follow takes them
	// over): one that came while it started (the state opening, the
	// databases loading) would have killed it, SIGHUP's default.
	hup chan os.Signal

	Metrics     string   `name:"metrics" ini:"SERVE.metrics" placeholder:"HOST:PORT" help:"With --follow: serve Prometheus metrics on http://HOST:PORT/metrics ([SERVE] metrics, e.g. 127.0.0.1:9310)."`
	Journal     bool     `help:"With --follow: follow the systemd journal instead of log files, by running journalctl --follow --output=json (again if it dies); with --resume, after the cursor saved, or from the journal's start when none was."`
	Journalctl  string   `name:"journalctl" default:"journalctl" placeholder:"PATH" help:"With --journal: the journalctl program (default ${default}, from PATH)."`
	JournalUnit []string `name:"journal-unit" default:"postfix*" placeholder:"UNIT" help:"With --journal: the units whose entries are read (default ${default}: postfix.service and postfix@-.service); repeat for several."`
	PolicyKeys
	blockcmd.APIFlags
	Follow bool `help:"Run as a daemon: follow each log as Postfix writes it (as tail -F does, across rotations; from its end, or with --resume from where the last run stopped, a log never read from the oldest file rotated from it) and alert as soon as a login makes an account anomalous. With -l -, judge the stream the same way until it ends. SIGHUP reads the config again; SIGTERM stops."`
}

type quotaHighCmd struct {
	Log          []string `short:"l" placeholder:"FILE" sep:"none" help:"Postfix log, plain or compressed (default /var/log/maillog, or /var/log/mail.log where that is missing, as on Debian); repeat for several; - reads stdin."`
	QuotaLimit   int      `name:"quota-limit" default:"150" placeholder:"N" help:"Report senders with more than N matching rejects (default ${default})."`
	QuotaMessage string   `name:"quota-message" default:"Quota per hour exceeded" placeholder:"TEXT" help:"The text of the policy service's reject (default \"${default}\")."`
	Format       string   `enum:"text,json" default:"text" help:"text or json (one object per sender and line; default ${default})."`
	ExitCode     bool     `name:"exit-code" help:"Exit with 3 when a sender is over the quota, even if errors were also printed."`
	Quiet        bool     `short:"q" help:"Print nothing on stdout when no sender is over the quota and every input was read."`
	parsecmd.ParseFlags
}

type loganomCLI struct {
	PostfixSASL postfixSASLCmd `cmd:"" name:"postfix-sasl" help:"Find the accounts whose password was stolen: parse, enrich, filter and report the SASL logins of Postfix logs, in one process."`
	QuotaHigh   quotaHighCmd   `cmd:"" name:"quota-high" help:"Find the senders over their hourly quota, from the rejects of a policy service."`
	Cache       struct {
		Path  string   `name:"cache" placeholder:"FILE" help:"The cache database (default: loganom/cache.db in the user's cache directory)."`
		Stats struct{} `cmd:"" default:"1" help:"Count the cached answers (the default)."`
		Prune struct{} `cmd:"" help:"Delete the answers past their lifetime."`
	} `cmd:"" help:"Show or prune loganom-enrich's lookup cache."`
	History statecmd.HistoryCmd `cmd:"" help:"Show every address an account logged in from, as the state remembers it: counts, dates and enrichment."`
	Alerts  statecmd.AlertsCmd  `cmd:"" help:"List the alerts the state holds, or acknowledge one."`
	DB      statecmd.DBCmd      `cmd:"" name:"db" help:"Show, prune or upgrade the state."`
	Block   blockcmd.BlockCmd   `cmd:"" help:"Block an account: the policy service (loganom serve) refuses its mail."`
	Unblock blockcmd.UnblockCmd `cmd:"" help:"Lift an account's block (and close its open alert)."`
	Blocks  blockcmd.BlocksCmd  `cmd:"" help:"List the blocked accounts, or write them as a check_sasl_access table for postmap."`
	Serve   blockcmd.ServeCmd   `cmd:"" help:"Run the Postfix policy service ([POLICY]: mail from a blocked account gets [POLICY] action, other mail DUNNO), the HTTP API ([API]: blocks, accounts, alerts), or both."`
}

const loganomDesc = `loganom finds mail accounts whose password was stolen, from the Postfix log.
Exit codes: 0 ok, 1 error or an INCOMPLETE report, 2 usage, 3 (with --exit-code) something
was found.`

// Main runs the loganom command.
func Main(env cli.Env) int {
	log := &cli.Logger{Prog: "loganom", W: env.Stderr}
	var c loganomCLI
	grammar, chosen := oneCommand(&c, env.Args)
	ctx, code, done := cli.ParseCommand(env, log, grammar, loganomDesc)
	if done {
		return code
	}
	chosen()
	switch ctx.Command() {
	case "postfix-sasl":
		return postfixSASL(env, log, &c.PostfixSASL)
	case "quota-high":
		return quotaHigh(env, log, &c.QuotaHigh)
	case "history <user>":
		return statecmd.History(env, log, &c.History)
	case "alerts", "alerts list":
		return statecmd.Alerts(env, log, &c.Alerts, false)
	case "alerts ack <user>":
		return statecmd.Alerts(env, log, &c.Alerts, true)
	case "db", "db stats", "db prune", "db migrate":
		cmd := strings.TrimPrefix(ctx.Command(), "db")
		return statecmd.DB(env, log, &c.DB, strings.TrimSpace(cmd))
	case "block <user>":
		return blockcmd.Block(env, log, &c.Block)
	case "unblock <user>":
		return blockcmd.Unblock(env, log, &c.Unblock)
	case "blocks":
		return blockcmd.Blocks(env, log, &c.Blocks)
	case "serve":
		return blockcmd.Serve(env, log, &c.Serve)
	case "cache stats", "cache prune":
		return cacheCmd(env, log, c.Cache.Path, ctx.Command() == "cache prune")
	}
	log.Errorf("unknown command %q", ctx.Command())
	return cli.ExitUsage
}

// oneCommand returns the grammar to parse args with: when args start with
// a command's name, a grammar of that command alone, and chosen, which
// copies what was parsed into c; else c itself. Kong builds the model of
// its whole grammar at each start, all commands' flags, tags and
// interpolations: some 5 ms of a cron run of postfix-sasl (half the
// start-up that loganom-parse does not have). The command's field is
// the same, tag and all (reflect.StructOf), so its flags, help and errors
// are the same; TestOneCommand compares them.
func oneCommand(c *loganomCLI, args []string) (grammar any, chosen func()) {
	all := reflect.ValueOf(c).Elem()
	if len(args) == 0 {
		return c, func() {}
	}
	t := all.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("name")
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if name != args[0] {
			continue
		}
		one := reflect.New(reflect.StructOf([]reflect.StructField{{Name: f.Name, Type: f.Type, Tag: f.Tag}}))
		return one.Interface(), func() { all.Field(i).Set(one.Elem().Field(0)) }
	}
	return c, func() {}
}

// loadDefaultConfig loads path, or ./config.ini when none is named and it
// exists, as the original tool did.
func loadDefaultConfig(path string, log *cli.Logger) (*config.Config, error) {
	if path == "" {
		if _, err := os.Stat("config.ini"); err == nil {
			path = "config.ini"
		} else {
			log.Warnf("no config: -c not given and no ./config.ini, so nothing is whitelisted and nothing is notified")
			log.Hintf("name your config with -c FILE")
		}
	}
	cfg, err := config.LoadConfig(path)
	if err == nil {
		cfg.Check(log)
	}
	return cfg, err
}

// defaultLogs are the logs read when -l is not given, as the original
// did: /var/log/maillog (Red Hat, SUSE, BSD, Postfix's own maillog_file
// examples), else /var/log/mail.log (Debian, Ubuntu).
var defaultLogs = []string{"/var/log/maillog", "/var/log/mail.log"}

// logsOrDefault returns the logs named with -l, or the first default log
// that exists. When none does, it returns the first, whose opening will
// fail with a hint naming the others.
func logsOrDefault(logs []string, log *cli.Logger) []string {
	if len(logs) > 0 {
		return logs
	}
	for _, p := range defaultLogs {
		if _, err := os.Stat(p); err == nil {
			log.Debugf("no -l: reading %s", p)
			return []string{p}
		}
	}
	log.Errorf("no log named and none of %s exists", strings.Join(defaultLogs, ", "))
	log.Hintf("name the Postfix log with -l FILE (or -l - for stdin); journald-only systems: journalctl -u postfix -o json | loganom postfix-sasl -l -")
	return nil
}

// logSource is the parse stage of the logs named with -l (or the default
// log); nil and the exit code when there is none or a flag is wrong.
func logSource(env cli.Env, log *cli.Logger, named []string, f *parsecmd.ParseFlags) (*parse.Source, int) {
	logs := logsOrDefault(named, log)
	if logs == nil {
		return nil, cli.ExitError
	}
	src, err := f.Source(logs, env, log)
	if err != nil {
		log.Errorf("%v", err)
		return nil, cli.ExitUsage
	}
	return src, cli.ExitOK
}

// postfixSASL chains parse, enrich, filter and report in one process,
// with no JSON between them: the same stages the pipe binaries run.
func postfixSASL(env cli.Env, log *cli.Logger, c *postfixSASLCmd) int {
	if c.Follow {
		c.hup = make(chan os.Signal, 1)
		signal.Notify(c.hup, syscall.SIGHUP)
		defer signal.Stop(c.hup)
	}
	log.Debug = c.Debug || cli.DebugFromEnv(env.Getenv)
	cfg, err := loadDefaultConfig(c.Config, log)
	if err != nil {
		log.Errorf("%v", err)
		return cli.ExitCodeOf(err) // 1, or 2 for a usage error (a key given twice)
	}
	config.CheckSecrets(cfg, log)
	notifier, err := c.NotifyFlags.Prepare(cfg, c.Exec)
	if err != nil {
		reportcmd.LogError(log, err)
		return cli.ExitCodeOf(err)
	}
	if c.Journal && (!c.Follow || len(c.Log) > 0) {
		log.Errorf("--journal goes with --follow, and instead of -l")
		log.Hintf("loganom postfix-sasl --follow --journal [--resume]; or journalctl -o json | loganom postfix-sasl -l -")
		return cli.ExitUsage
	}
	logs := c.Log
	if c.Journal {
		logs = []string{"-"} // not read: the journal is
	}
	// [POLICY] listen, with --follow: the policy service runs in this
	// process; with no log named, its logins may be the only input
	pol, err := c.PolicyKeys.plan(c.Follow, len(c.Log) > 0 || c.Journal)
	if err == nil {
		err = cfg.Fill(&c.PolicyKeys)
		if err == nil {
			pol, err = c.PolicyKeys.plan(c.Follow, len(c.Log) > 0 || c.Journal)
		}
	}
	if err != nil {
		log.Errorf("%v", err)
		return cli.ExitCodeOf(err)
	}
	var src *parse.Source
	if pol.noLog {
		src = &parse.Source{} // no log: the policy service's logins are the input
	} else {
		var code int
		if src, code = logSource(env, log, logs, &c.ParseFlags); src == nil {
			return code
		}
	}
	if !c.Follow && env.TuneBatch != nil {
		// before the state, the cache and the databases are read: their
		// memory is the run's too
		env.TuneBatch(cli.InputBytes(src.Names))
	}
	// Rejects are not this processor's; failures are, for the detectors
	// (failures then success), by address and time only: they go to the
	// report straight from the parser (rep.Failure, below).
	src.Opts.OnlyLogins = true
	c.rawFilter = c.FilterFlags // as the flags gave them: SIGHUP fills them from the config again
	if err := cfg.Fill(c); err != nil {
		log.Errorf("%v", err)
		return cli.ExitCodeOf(err)
	}
	rule, err := c.ReportFlags.Rule(cfg)
	if err != nil {
		log.Errorf("%v", err)
		return cli.ExitCodeOf(err)
	}
	flt, err := c.FilterFlags.Build(cfg, log, rule.CaseSensitive) // email_skip agrees with the grouping
	if err != nil {
		log.Errorf("%v", err)
		return cli.ExitCodeOf(err)
	}
	// The whitelisted logins go on, marked, as the report's context: an
	// account's usual places, the home end of an impossible trip (the
	// pipes: loganom-filter --explain | loganom-report).
	flt.Explain = true
	ctx := context.Background()
	if err := statecmd.CheckKeep(&c.Flags, cfg); err != nil { // [STATE] keep against [BLOCK] for
		return statecmd.Fail(log, err)
	}
	st, err := openState(ctx, c, cfg, log)
	if err != nil {
		log.Errorf("%v", err)
		return cli.ExitCodeOf(err)
	}
	defer st.Close()
	if err := c.ReportFlags.Apply(st); err != nil {
		log.Errorf("%v", err)
		log.Hintf("leave out --no-db, or name the state with --db PATH")
		return cli.ExitCodeOf(err)
	}
	if st != nil {
		st.Whitelist = flt.Why
		statecmd.HoldAs(st, log, "loganom postfix-sasl", c.Follow)
		if !rule.Original {
			statecmd.WarnKeepLearn(cfg, rule.Detect.Defaults().Learn, log)
		}
	}
	var expect map[string]state.Position
	if c.Resume && !c.Journal { // the journal's cursor: journalInput
		if st == nil {
			log.Errorf("--resume needs the state, to know where the last run stopped")
			log.Hintf("leave out --no-db, or name the state with --db PATH")
			return cli.ExitUsage
		}
		marks, exp, err := st.Positions(ctx, src.Names)
		if err != nil {
			log.Errorf("%v", err)
			statecmd.BusyHint(log, err, "loganom postfix-sasl --no-db -l %s")
			if errors.Is(err, statecmd.ErrResumeStdin) || errors.Is(err, statecmd.ErrResumeNotRegular) {
				// (not for a log named twice: the error says what to do)
				log.Hintf("journald: pipe journalctl into loganom postfix-sasl -l - without --resume")
			}
			return cli.ExitCodeOf(err)
		}
		src.Opts.Resume, expect = marks, exp
		src.Opts.Rotated = true // a log read for the first time: the weeks on disk too
	}
	// what the reading cannot do (a log followed that does not exist
	// yet, a rotated file that cannot be read), said as it happens
	src.Opts.Warn = func(msg string) { log.Warnf("%s", msg) }
	// the rotations a daemon follows, said as it follows them
	src.Opts.Note = func(msg string) { log.Infof("%s", msg) }
	c.EnrichFlags.Confirm = flt.NeedsConfirmation // the names the whitelist could trust
	c.EnrichFlags.Preload = !c.Follow
	enr, err := c.EnrichFlags.Build(cfg, env, log)
	if err != nil {
		log.Errorf("%v", err)
		return cli.ExitCodeOf(err)
	}
	defer enr.Close()
	if c.Follow {
		var onFailure func(string, time.Time)
		src.Opts.OnFailure = func(ip string, at time.Time) { onFailure(ip, at) }
		var in liveInput
		code := cli.ExitOK
		if pol.noLog {
			in = policyOnlyInput()
		} else if in, expect, code = followInput(log, c, src, st, expect); code != cli.ExitOK {
			return code
		}
		in.policy = pol
		code = follow(env, log, c, in, enr, flt, rule, st, notifier, expect, &onFailure, enr.Stats)
		src.Stats = in.stats()
		if !pol.noLog {
			c.ParseFlags.Report(src, log)
		}
		enr.Report(c.Stats)
		flt.Report(c.Stats)
		if err := enr.Close(); err != nil {
			log.Errorf("%v", err)
			code = cli.ExitError
		}
		return code
	}
	rep := report.New(rule)
	src.Opts.OnFailure = rep.Failure
	// The filter and the report keep no record once it has passed them
	// (the report copies what it keeps), the enricher none but those in
	// its window, the last it was given: the parser may reuse the memory
	// of the records before them.
	src.Opts.Reuse = enr.Holding
	// (for the tests: records given back are overwritten first, so that
	// a stage that kept one shows in the output)
	src.Opts.Poison = env.Getenv("LOGANOM_POISON_REUSE") != ""
	err = record.Run(src, func(*record.Record) error { return nil }, enr, flt, rep)
	c.ParseFlags.Report(src, log)
	enr.Report(c.Stats)
	flt.Report(c.Stats)
	failed := false
	whole := true // every input read as far as it could be: its marks may be saved
	if err != nil {
		failed = true
		var ie *parse.InputsError
		if !errors.As(err, &ie) { // unreadable inputs were reported one by one
			log.Errorf("%v", err)
			whole = false
		}
	}
	if cerr := enr.Close(); cerr != nil {
		log.Errorf("%v", cerr)
		failed = true
	}
	// The history, the positions and the alerts in one transaction: a
	// run killed before it recorded nothing, and the next run reads the
	// same lines again; killed after, the next reads on from there and
	// sends what this one did not.
	var marks map[string]input.Mark
	history := c.Resume && whole
	if history {
		marks = src.Marks()
	}
	run, failed := reportcmd.Remember(log, st, rep, history, marks, expect, notifier, failed)
	code := c.ReportFlags.Finish(env, log, rep, notifier, failed, st, run)
	st.PruneAfterRun(log, run) // once the report is out: every [STATE] prune_every
	return code
}

// openState is statecmd.Open (within statecmd.OpenTimeout).
func openState(ctx context.Context, c *postfixSASLCmd, cfg *config.Config, log *cli.Logger) (*statecmd.State, error) {
	return statecmd.Open(ctx, &c.Flags, cfg, log, true, c.Resume)
}

func quotaHigh(env cli.Env, log *cli.Logger, c *quotaHighCmd) int {
	log.Debug = c.Debug || cli.DebugFromEnv(env.Getenv)
	if c.QuotaLimit < 0 || c.QuotaMessage == "" {
		log.Errorf("--quota-limit must not be negative and --quota-message not empty")
		return cli.ExitUsage
	}
	src, code := logSource(env, log, c.Log, &c.ParseFlags)
	if src == nil {
		return code
	}
	q := report.NewQuota(c.QuotaLimit, c.QuotaMessage)
	err := record.Run(src, func(*record.Record) error { return nil }, q)
	c.ParseFlags.Report(src, log)
	// an input not read, or no line read at all (src.Empty: its warning
	// says there is no all-clear): INCOMPLETE, exit 1
	failed := err != nil || len(src.Empty) > 0
	over := q.Over()
	if !c.Quiet || len(over) > 0 || failed {
		var werr error
		if c.Format == "json" {
			werr = report.QuotaJSON(env.Stdout, over, failed, q.Gaps())
		} else {
			werr = report.QuotaText(env.Stdout, over, c.QuotaLimit, failed)
		}
		if werr != nil {
			log.Errorf("write output: %v", werr)
			failed = true
		}
	}
	switch {
	case c.ExitCode && len(over) > 0:
		return cli.ExitAnomalies // errors, if any, were printed
	case failed:
		return cli.ExitError
	}
	return cli.ExitOK
}

func cacheCmd(env cli.Env, log *cli.Logger, path string, prune bool) int {
	if path == "" {
		p, err := enrich.DefaultCachePath()
		if err != nil {
			log.Errorf("%v", err)
			return cli.ExitError
		}
		path = p
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		log.Errorf("no cache at %s", path)
		log.Hintf("loganom-enrich makes it; name another with --cache")
		return cli.ExitError
	}
	c, err := enrich.OpenCache(path, 0)
	if err != nil {
		log.Errorf("%v", err)
		return cli.ExitError
	}
	defer c.Close()
	if prune {
		n, err := c.Prune()
		if err != nil {
			log.Errorf("%v", err)
			return cli.ExitError
		}
		fmt.Fprintf(env.Stdout, "pruned %d expired answers from %s\n", n, path)
		return cli.ExitOK
	}
	s, err := c.Stats()
	if err != nil {
		log.Errorf("%v", err)
		return cli.ExitError
	}
	fmt.Fprintf(env.Stdout, "cache:          %s (%.1f kB)\n", s.Path, float64(s.Bytes)/1024)
	fmt.Fprintf(env.Stdout, "reverse DNS:    %d answers (%d without a PTR, %d names that do not resolve back)\n", s.RDNS, s.NoPTR, s.Unconfirmed)
	fmt.Fprintf(env.Stdout, "ipinfo.io:      %d answers\n", s.Geo)
	fmt.Fprintf(env.Stdout, "expired:        %d (loganom cache prune deletes them)\n", s.Expired)
	return cli.ExitOK
}
