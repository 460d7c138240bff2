// Package reportcmd is loganom-report, with the report's flags
// (ReportFlags), the notifications (NotifyFlags, Notifier) and the end of a
// run (ReportFlags.Finish) that the wrapper shares.
package reportcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/cmd/internal/filtercmd"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// ReportFlags are the flags of loganom-report; the wrapper takes them too.
type ReportFlags struct {
	Format       string `enum:"text,json" default:"text" help:"text: a table per account; json: one object per account and line."`
	RuleName     string `name:"rule" ini:"REPORT.rule" placeholder:"NAME" help:"detect (the default): the detectors judge each account against its usual places (new country, impossible travel, failures then success, many places); original: the original tool's rule, two or more distinct addresses after the whitelist ([REPORT] rule)."`
	Alert        string `name:"alert" ini:"DETECT.alert" placeholder:"SEVERITY" help:"Report the accounts whose verdict is this severe or more: low, medium (the default) or high ([DETECT] alert)."`
	MinIPs       *int   `name:"min-ips" ini:"REPORT.min_ips" placeholder:"N" help:"Report only an account that logged in from N or more distinct addresses (with --rule original: default 2; [REPORT] min_ips)."`
	MinCountries *int   `name:"min-countries" ini:"REPORT.min_countries" placeholder:"N" help:"... and from N or more countries (default 0: any; [REPORT] min_countries)."`
	MinASNs      *int   `name:"min-asns" ini:"REPORT.min_asns" placeholder:"N" help:"... and from N or more networks (default 0: any; [REPORT] min_asns)."`
	DetectKeys
	BlockKeys
	ExitCode bool `name:"exit-code" help:"Exit with 3 when an account looks compromised, even if errors were also printed (0 when none does, 1 on an error or an INCOMPLETE report); with a state, only for a new alert, or one sent again more severe."`
	Quiet    bool `short:"q" help:"Print nothing on stdout when nothing was found and every input was read (the cron convention: cron mails what a job prints); with a state, when no alert is new (or sent again, more severe)."`

	// CaseSensitiveUsers: report.Rule.CaseSensitive (also [REPORT] case_sensitive_users).
	// Window: how far back, with a state, the history of an account
	// counts in its verdict ([REPORT] window; default 24h).
	Window time.Duration `kong:"-" ini:"REPORT.window"`

	CaseSensitiveUsers bool `name:"case-sensitive-users" ini:"REPORT.case_sensitive_users" help:"Keep apart accounts whose names differ in case (Bob@example.com, bob@example.com), for a SASL backend that does; the domain is compared without regard to case ([REPORT] case_sensitive_users)."`

	block *AutoBlock // [BLOCK] auto: checked by Rule, given the state by Apply
}

// DetectKeys are the detectors' settings, [DETECT] in config.ini (no flags).
type DetectKeys struct {
	Learn         time.Duration `kong:"-" ini:"DETECT.learn"`
	FirstDay      time.Duration `kong:"-" ini:"DETECT.first_day"`
	MaxSpeed      int           `kong:"-" ini:"DETECT.max_speed"`
	TravelMinKM   int           `kong:"-" ini:"DETECT.travel_min_km"`
	Failures      *int          `kong:"-" ini:"DETECT.failures"`
	ManyCountries *int          `kong:"-" ini:"DETECT.many_countries"`
	ManyNetworks  *int          `kong:"-" ini:"DETECT.many_networks"`
	Burst         *int          `kong:"-" ini:"DETECT.burst"`
	LineHold      time.Duration `kong:"-" ini:"DETECT.line_hold"`
	SharedDays    int           `kong:"-" ini:"DETECT.shared_days"`
	FamiliarSite  int           `kong:"-" ini:"DETECT.familiar_site"`
	Scattered     *int          `kong:"-" ini:"DETECT.scattered"`
	ScatteredSpan time.Duration `kong:"-" ini:"DETECT.scattered_span"`
	LoneFar       *int          `kong:"-" ini:"DETECT.lone_far"`
	Shared        []string      `kong:"-" ini:"DETECT.shared"`
}

// Apply sets what the report's flags say of the state: [REPORT] window;
// and [BLOCK] auto, which needs one (the blocks are kept there).
func (f *ReportFlags) Apply(st *statecmd.State) error {
	if st != nil && f.Window > 0 {
		st.Window = f.Window
	}
	if f.block != nil {
		if st == nil {
			return cli.Usagef("[BLOCK] auto needs the state: the blocks are kept there, and the policy service reads them from it")
		}
		f.block.Now = st.Now
		// today's whitelist, also after SIGHUP
		f.block.Whitelist = func(r *record.Record) string {
			if st.Whitelist == nil {
				return ""
			}
			return st.Whitelist(r)
		}
	}
	return nil
}

// AutoBlock is [BLOCK] auto's blocker (nil: off), once Rule and Apply
// have checked it.
func (f *ReportFlags) AutoBlock() *AutoBlock { return f.block }

// Rule checks the thresholds (flags, filled from [REPORT]: config.Fill).
func (f *ReportFlags) Rule(cfg *config.Config) (report.Rule, error) {
	r := report.Rule{CaseSensitive: f.CaseSensitiveUsers}
	switch strings.ToLower(strings.TrimSpace(f.RuleName)) {
	case "", "detect":
	case "original":
		r.Original = true
	default:
		return r, cli.Usagef("%s %q: must be detect or original", cfg.Origin("REPORT", "rule", "--rule"), f.RuleName)
	}
	if f.Alert != "" {
		a, err := detect.ParseSeverity(f.Alert)
		if err != nil || a == detect.None {
			return r, cli.Usagef("%s %q: must be low, medium or high", cfg.Origin("DETECT", "alert", "--alert"), f.Alert)
		}
		r.Alert = a
	}
	d := &f.DetectKeys
	r.Detect = detect.Config{Learn: d.Learn, FirstDay: d.FirstDay, Window: f.Window,
		MaxSpeed: float64(d.MaxSpeed), MinTravelKM: float64(d.TravelMinKM),
		LineHold: d.LineHold, SharedDays: d.SharedDays, FamiliarSite: d.FamiliarSite, ScatteredSpan: d.ScatteredSpan}
	for _, e := range d.Shared {
		if !report.SharedEntryOK(e) {
			return r, cli.Usagef("%s %q: not an account (bob@example.com, frontdesk), a domain (@example.com) or a local part in every domain (info@); one per line or separated by commas", cfg.Where("DETECT", "shared"), e)
		}
	}
	r.Shared = d.Shared
	for _, x := range []struct {
		key string
		val time.Duration
	}{{"line_hold", d.LineHold}, {"scattered_span", d.ScatteredSpan}} {
		if x.val < 0 {
			return r, cli.Usagef("%s %s: must not be negative", cfg.Where("DETECT", x.key), x.val)
		}
	}
	for _, x := range []struct {
		key string
		val int
	}{{"max_speed", d.MaxSpeed}, {"travel_min_km", d.TravelMinKM}, {"shared_days", d.SharedDays}, {"familiar_site", d.FamiliarSite}} {
		if x.val < 0 {
			return r, cli.Usagef("%s %d: must not be negative", cfg.Where("DETECT", x.key), x.val)
		}
	}
	var loneFar int
	for _, x := range []struct {
		key string
		val *int
		dst *int
	}{{"many_countries", d.ManyCountries, &r.Detect.ManyCountries}, {"many_networks", d.ManyNetworks, &r.Detect.ManyNetworks}, {"burst", d.Burst, &r.Detect.Burst}, {"failures", d.Failures, &r.Detect.Failures}, {"scattered", d.Scattered, &r.Detect.Scattered}, {"lone_far", d.LoneFar, &loneFar}} {
		switch {
		case x.val == nil:
		case *x.val < 0:
			return r, cli.Usagef("%s %d: must not be negative (0 turns it off)", cfg.Where("DETECT", x.key), *x.val)
		case *x.val == 0:
			*x.dst = -1
		default:
			*x.dst = *x.val
		}
	}
	r.Detect.LoneFar = float64(loneFar)
	for _, x := range []struct {
		key   string
		val   *int
		dst   *int
		least int
	}{{"min_ips", f.MinIPs, &r.MinIPs, 1}, {"min_countries", f.MinCountries, &r.MinCountries, 0}, {"min_asns", f.MinASNs, &r.MinASNs, 0}} {
		if x.val == nil {
			continue
		}
		if *x.val < x.least {
			where := cfg.Origin("REPORT", x.key, "--"+strings.ReplaceAll(x.key, "_", "-"))
			return r, cli.Usagef("%s %d: must be at least %d", where, *x.val, x.least)
		}
		*x.dst = *x.val
	}
	ab, err := f.BlockKeys.autoBlock(cfg, r)
	if err != nil {
		return r, err
	}
	f.block = ab
	return r, nil
}

// Write prints the report: nothing with --quiet when nothing new was
// found (found), every input was read and no geo lookup failed (a report
// with gaps is no all-clear: it says so).
func (f *ReportFlags) Write(w io.Writer, accounts []*report.Account, rep *report.Report, found bool) error {
	gaps := rep.Gaps()
	if f.Quiet && !found && gaps.None() {
		return nil
	}
	var err error
	if f.Format == "json" {
		err = report.JSONGaps(w, accounts, gaps)
	} else {
		err = report.TextGaps(w, accounts, rep.Accounts(), gaps)
	}
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// Finish is how loganom-report and loganom postfix-sasl end a run: write
// the report, notify, and choose the exit code. With --exit-code, an
// account found gives cli.ExitAnomalies whatever else went wrong (an input not
// read, a channel down: each was printed on stderr), so that a finding is
// never hidden behind an error; otherwise an error (failed: one during the
// run) gives ExitError, and so does a report with gaps (report.Gaps: it
// says INCOMPLETE, and is no all-clear).
//
// With a state (st, and run, what Commit recorded), "found" means a new
// alert: an account already alerted is still in the report, marked, but
// neither notified again, nor a reason for --exit-code's 3 or for
// printing with --quiet; and the channels send what the state holds as
// pending (this run's new alerts, and those earlier runs could not send).
func (f *ReportFlags) Finish(env cli.Env, log *cli.Logger, rep *report.Report, n *Notifier, failed bool, st *statecmd.State, run *statecmd.Run) int {
	accounts := rep.Anomalies()
	found := len(accounts) > 0
	if log.Debug {
		c := rep.Common()
		as := func(ns []uint32) string {
			var out []string
			for _, n := range ns {
				out = append(out, "AS"+strconv.FormatUint(uint64(n), 10))
			}
			return strings.Join(out, " ")
		}
		var lines []string
		for _, l := range c.Lines {
			lines = append(lines, "AS"+strconv.FormatUint(uint64(l.ASN), 10)+" "+l.Prefix.String())
		}
		log.Debugf("places common to the accounts (usual for all): countries %s; networks %s (exits %s); ranges of lines %s",
			strings.Join(c.Countries, " "), as(c.Networks), as(c.Exits), strings.Join(lines, ", "))
	}
	if st != nil && run != nil {
		found = run.New > 0
	}
	if f.block != nil && st != nil && run != nil && !run.Conflict {
		// the new alerts' accounts, before the report and the
		// deliveries say they were blocked; those alerted before only
		// when their block failed then (AutoBlock.Retry). Each within
		// statecmd.OpTimeout: a state gone quiet since the commit ends
		// the run, where it waited for ever; once it did not answer,
		// the other accounts are not tried (as a block that failed: a
		// later run that finds the account alerted blocks it, Retry).
		quiet := 0
		for _, a := range accounts {
			if quiet > 0 {
				if f.block.Passes(a) {
					quiet++
				}
				continue
			}
			block := f.block.Block
			if a.Alert != nil {
				block = f.block.Retry
			}
			var made bool
			err := statecmd.Bound(context.Background(), statecmd.OpTimeout, func(ctx context.Context) (err error) {
				made, err = block(ctx, st, a)
				if err != nil && ctx.Err() != nil {
					quiet = 1
				}
				return err
			})
			if err != nil {
				log.Errorf("%v", err)
				failed = true
			} else if made {
				log.Infof("auto-block: %s", report.Escape(a.User+": "+a.Blocked.String()))
			}
		}
		if quiet > 1 {
			log.Warnf("auto-block: %s not blocked: the state did not answer", cli.Plural(int64(quiet-1), "other account", "other accounts"))
		}
	}
	if err := f.Write(env.Stdout, accounts, rep, found); err != nil {
		log.Errorf("%v", err)
		failed = true
	}
	host, _ := os.Hostname()
	if st != nil && run != nil {
		if !run.Conflict && !n.Deliver(context.Background(), env, log, host, st, rep.Accounts(), rep.Gaps()) {
			failed = true
		}
	} else if !n.Notify(env, log, host, rep) {
		failed = true
	}
	if !rep.Gaps().None() {
		// an INCOMPLETE report (an input not read, logins not located)
		// is no success: 1, as an error, unless --exit-code has found
		// something
		failed = true
	}
	switch {
	case f.ExitCode && found:
		return cli.ExitAnomalies
	case failed:
		return cli.ExitError
	}
	return cli.ExitOK
}

type reportCLI struct {
	Config string `short:"c" placeholder:"FILE" help:"INI configuration: [REPORT] min_ips, min_countries, min_asns; [SMTP], [MATTERMOST], [TEAMS], [WEBHOOK], [EXEC], [NOTIFY_USER] to notify."`
	ReportFlags
	NotifyFlags
	Exec  string `short:"e" placeholder:"SCRIPT" help:"Run SCRIPT once per account that looks compromised, with the account as its argument and its data as JSON on stdin (never through a shell); also [EXEC] script."`
	Debug bool   `short:"d" help:"Print debug lines on stderr (also LOGLEVEL=DEBUG)."`
	statecmd.Flags
	Follow bool     `help:"Judge each login as it comes, for a pipe that follows the log (loganom-parse --follow): write an alert record ({\"type\":\"alert\",…}) and notify as soon as a login makes an account anomalous, instead of a report at the end."`
	Files  []string `arg:"" optional:"" name:"file" help:"Records from loganom-filter (NDJSON); - or none reads stdin."`
}

const reportDesc = `Group the logins per account and report the accounts that look compromised:
by default those the detectors find (a new country, impossible travel,
failures then success, many places), each with its reasons; with --rule
original, those that logged in from two or more distinct addresses, as the
original tool did. Exit codes: 0 ok, 1 error or an INCOMPLETE report (an
input not read, logins not located), 2 usage, 3 (with --exit-code) an
account looks compromised.`

// Main runs loganom-report.
func Main(env cli.Env) int {
	log := &cli.Logger{Prog: "loganom-report", W: env.Stderr}
	var c reportCLI
	cfg, code, done := config.Start(env, log, &c, reportDesc, &c.Debug, &c.Config)
	if done {
		return code
	}
	rule, err := c.ReportFlags.Rule(cfg)
	if err != nil {
		log.Errorf("%v", err)
		return cli.ExitCodeOf(err)
	}
	notifier, err := c.NotifyFlags.Prepare(cfg, c.Exec)
	if err != nil {
		LogError(log, err)
		return cli.ExitCodeOf(err)
	}
	if err := statecmd.CheckKeep(&c.Flags, cfg); err != nil { // [STATE] keep against [BLOCK] for
		return statecmd.Fail(log, err)
	}
	st, err := statecmd.Open(context.Background(), &c.Flags, cfg, log, false, false)
	if err != nil {
		log.Errorf("%v", err)
		return cli.ExitCodeOf(err)
	}
	defer st.Close()
	if err := c.ReportFlags.Apply(st); err != nil {
		log.Errorf("%v", err)
		return cli.ExitCodeOf(err)
	}
	if st != nil && !rule.Original {
		statecmd.WarnKeepLearn(cfg, rule.Detect.Defaults().Learn, log)
	}
	if st != nil {
		// The history holds whitelisted logins too: today's whitelist
		// (the config's [GENERAL], as loganom-filter reads it) says which.
		var ff filtercmd.FilterFlags
		if err := cfg.Fill(&ff); err != nil {
			log.Errorf("%v", err)
			return cli.ExitCodeOf(err)
		}
		flt, err := ff.Build(cfg, &cli.Logger{Prog: log.Prog, W: io.Discard}, rule.CaseSensitive)
		if err != nil {
			log.Errorf("%v", err)
			return cli.ExitCodeOf(err)
		}
		st.Whitelist = flt.Why
	}
	if c.Follow {
		return follow(env, log, c.Files, rule, st, notifier, c.ReportFlags.AutoBlock())
	}
	rep := report.New(rule)
	var check cli.EnrichedCheck
	code = cli.RunRecords(env, log, c.Files, &check, rep)
	check.Warn(log, "the report can tell no country or network")
	run, failed := Remember(log, st, rep, true, nil, nil, notifier, code != cli.ExitOK)
	code = c.ReportFlags.Finish(env, log, rep, notifier, failed, st, run)
	st.PruneAfterRun(log, run) // once the report is out: every [STATE] prune_every
	return code
}

// Remember records the run in the state, if any (statecmd.State.Commit),
// unless --dry-run or --no-notify: a run that sends nothing records
// nothing, so that the next run reads its lines again and alerts. When
// another run recorded the same log meanwhile (state.ErrConflict), this
// one sends nothing either (the next run reads these lines again), and
// the run ends in an error. When the state cannot record for another
// reason, the error is printed and the run ends as a stateless one (run
// nil): every anomaly is notified, none lost.
func Remember(log *cli.Logger, st *statecmd.State, rep *report.Report, history bool, marks map[string]input.Mark, expect map[string]state.Position, n *Notifier, failed bool) (*statecmd.Run, bool) {
	if st == nil {
		return nil, failed
	}
	// the runs sharing the state take turns from the history to the
	// record: each judges its accounts with the others' logins
	if unlock, err := st.LockRun(context.Background()); err != nil {
		log.Warnf("%v: another run may record meanwhile; its logins are not in this run's verdict", err)
	} else {
		defer unlock()
	}
	if err := st.Recall(context.Background(), rep); err != nil {
		errs := []error{err}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			errs = j.Unwrap() // (each on its line)
		}
		for _, e := range errs {
			log.Errorf("%v", e)
		}
		switch {
		case errors.Is(err, statecmd.ErrSiteHistory):
			log.Warnf("the verdict has each account's history; the places the site's accounts share are counted over this run's accounts alone")
			if errors.Is(err, statecmd.ErrFailuresRead) {
				log.Warnf("failed logins are those this run read: an earlier run's are not paired with this run's logins")
			}
		case errors.Is(err, statecmd.ErrFailuresRead):
			log.Warnf("the verdict has each account's history; failed logins are those this run read: an earlier run's are not paired with this run's logins")
		default:
			log.Warnf("the verdict is on this run's logins alone")
		}
		failed = true
	}
	if n != nil && (n.dryRun || n.off) {
		flag := "--dry-run"
		if n.off {
			flag = "--no-notify"
		}
		log.Warnf("%s: nothing is recorded in the state (the next run reads these lines again, and alerts)", flag)
		return nil, failed
	}
	run, err := st.Commit(context.Background(), rep, history, marks, expect, n.Channels())
	if err != nil {
		log.Errorf("%v", err)
		if errors.Is(err, state.ErrConflict) {
			log.Hintf("runs on the same log must not overlap; nothing was sent: the next run reads these lines again")
			return &statecmd.Run{Conflict: true}, true
		}
		if run == nil {
			log.Warnf("without the state, this run notifies every account it found")
		}
		return run, true
	}
	return run, failed
}
