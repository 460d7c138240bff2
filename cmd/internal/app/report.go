package app

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/report"
)

// ExitAnomalies is the exit code of --exit-code when an account looks
// compromised (or a sender is over quota).
const ExitAnomalies = 3

// ReportFlags are the flags of loganom-report; the wrapper takes them too.
type ReportFlags struct {
	Format       string `enum:"text,json" default:"text" help:"text: a table per account; json: one object per account and line."`
	MinIPs       *int   `name:"min-ips" placeholder:"N" help:"Report an account that logged in from N or more distinct addresses (default 2, the original's rule; [REPORT] min_ips)."`
	MinCountries *int   `name:"min-countries" placeholder:"N" help:"... and from N or more countries (default 0: any; [REPORT] min_countries)."`
	MinASNs      *int   `name:"min-asns" placeholder:"N" help:"... and from N or more networks (default 0: any; [REPORT] min_asns)."`
	ExitCode     bool   `name:"exit-code" help:"Exit with 3 when an account looks compromised, even if errors were also printed (0 when none does, 1 on an error)."`
	Quiet        bool   `short:"q" help:"Print nothing on stdout when nothing was found and every input was read (the cron convention: cron mails what a job prints)."`

	// CaseSensitiveUsers: report.Rule.CaseSensitive (also [REPORT] case_sensitive_users).
	CaseSensitiveUsers bool `name:"case-sensitive-users" help:"Keep apart accounts whose names differ in case (Bob@example.com, bob@example.com), for a SASL backend that does; the domain is compared without regard to case ([REPORT] case_sensitive_users)."`
}

// Rule reads the thresholds; flags override [REPORT].
func (f *ReportFlags) Rule(cfg *Config) (report.Rule, error) {
	var r report.Rule
	for _, x := range []struct {
		key   string
		flag  *int
		dst   *int
		least int
	}{{"min_ips", f.MinIPs, &r.MinIPs, 1}, {"min_countries", f.MinCountries, &r.MinCountries, 0}, {"min_asns", f.MinASNs, &r.MinASNs, 0}} {
		v, set, err := cfg.Int("REPORT", x.key)
		if err != nil {
			return r, err
		}
		where := cfg.where("REPORT", x.key)
		if x.flag != nil {
			v, set, where = *x.flag, true, "--"+strings.ReplaceAll(x.key, "_", "-")
		}
		if set && v < x.least {
			return r, usageError{fmt.Errorf("%s %d: must be at least %d", where, v, x.least)}
		}
		*x.dst = v
	}
	v, _, err := cfg.Bool("REPORT", "case_sensitive_users")
	if err != nil {
		return r, err
	}
	r.CaseSensitive = f.CaseSensitiveUsers || v
	return r, nil
}

// Write prints the report: nothing with --quiet when nothing was found
// and every input was read.
func (f *ReportFlags) Write(w io.Writer, accounts []*report.Account, rep *report.Report) error {
	if f.Quiet && len(accounts) == 0 && len(rep.Unread()) == 0 {
		return nil
	}
	var err error
	if f.Format == "json" {
		err = report.JSON(w, accounts, rep.Unread())
	} else {
		err = report.Text(w, accounts, rep.Accounts(), rep.Unread())
	}
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// finish is how loganom-report and loganom postfix-sasl end a run: write
// the report, notify, and choose the exit code. With --exit-code, an
// account found gives ExitAnomalies whatever else went wrong (an input not
// read, a channel down: each was printed on stderr), so that a finding is
// never hidden behind an error; otherwise an error (failed: one during the
// run) gives ExitError.
func (f *ReportFlags) finish(env cli.Env, log *cli.Logger, rep *report.Report, n *Notifier, failed bool) int {
	accounts := rep.Anomalies()
	if err := f.Write(env.Stdout, accounts, rep); err != nil {
		log.Errorf("%v", err)
		failed = true
	}
	host, _ := os.Hostname()
	if !n.Notify(env, log, host, rep) {
		failed = true
	}
	switch {
	case f.ExitCode && len(accounts) > 0:
		return ExitAnomalies
	case failed:
		return cli.ExitError
	}
	return cli.ExitOK
}

type reportCLI struct {
	Config string `short:"c" placeholder:"FILE" help:"INI configuration: [REPORT] min_ips, min_countries, min_asns; [SMTP], [MATTERMOST], [TEAMS], [WEBHOOK], [EXEC], [NOTIFY_USER] to notify."`
	ReportFlags
	NotifyFlags
	Exec  string   `short:"e" placeholder:"SCRIPT" help:"Run SCRIPT once per account that looks compromised, with the account as its argument and its data as JSON on stdin (never through a shell); also [EXEC] script."`
	Debug bool     `short:"d" help:"Print debug lines on stderr (also LOGLEVEL=DEBUG)."`
	Files []string `arg:"" optional:"" name:"file" help:"Records from loganom-filter (NDJSON); - or none reads stdin."`
}

const reportDesc = `Group the logins per account and report the accounts that look compromised:
by default those that logged in from two or more distinct addresses, as the
original tool did. Exit codes: 0 ok, 1 error, 2 usage, 3 (with --exit-code)
an account looks compromised.`

// ReportMain runs loganom-report.
func ReportMain(env cli.Env) int {
	log := &cli.Logger{Prog: "loganom-report", W: env.Stderr}
	var c reportCLI
	cfg, code, done := start(env, log, &c, reportDesc, &c.Debug, &c.Config)
	if done {
		return code
	}
	rule, err := c.ReportFlags.Rule(cfg)
	if err != nil {
		log.Errorf("%v", err)
		return exitCode(err)
	}
	notifier, err := c.NotifyFlags.Prepare(cfg, c.Exec)
	if err != nil {
		LogError(log, err)
		return exitCode(err)
	}
	rep := report.New(rule)
	var check enrichedCheck
	code = cli.RunRecords(env, log, c.Files, &check, rep)
	check.Warn(log, "the report can tell no country or network")
	return c.ReportFlags.finish(env, log, rep, notifier, code != cli.ExitOK)
}

// writeQuota prints the senders over quota.
// When an input could not be read (incomplete), the text does not say
// that no sender is over the quota.
func writeQuota(w io.Writer, format string, over []*report.Sender, limit int, incomplete bool) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		for _, s := range over {
			if err := enc.Encode(s); err != nil {
				return err
			}
		}
		return nil
	}
	if len(over) == 0 && incomplete {
		_, err := fmt.Fprintf(w, "INCOMPLETE: an input could not be read (see the errors); no sender is over the quota (more than %d rejects) in what was read, but this is no all-clear.\n", limit)
		return err
	}
	if len(over) == 0 {
		_, err := fmt.Fprintf(w, "No sender is over the quota (more than %d rejects).\n", limit)
		return err
	}
	fmt.Fprintf(w, "Senders with more than %d quota rejects:\n", limit)
	for _, s := range over {
		fmt.Fprintf(w, "  %s: %d rejects, %s to %s\n", report.Inert(s.From), s.Rejects, s.First.Format("2006-01-02 15:04:05"), s.Last.Format("2006-01-02 15:04:05"))
	}
	return nil
}
