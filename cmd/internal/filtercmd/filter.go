// Package filtercmd is loganom-filter, and the filter stage (FilterFlags,
// Filter) that the wrapper chains too.
package filtercmd

import (
	"fmt"
	"sort"
	"strings"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/pkg/filter"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
)

// FilterFlags are the flags of loganom-filter; the wrapper takes them too.
// A flag overrides the config key of its ini tag (config.Fill); the
// [GENERAL] whitelist has no flags.
type FilterFlags struct {
	Explain             bool `help:"Keep the records the rules drop, saying why in filtered_by."`
	TrustUnverifiedRDNS bool `name:"trust-unverified-rdns" ini:"FILTER.trust_unverified_rdns" help:"Match pattern_ip also against reverse names that do not resolve back to the address (anybody can name their address x.google.com)."`
	KeepPrivate         bool `name:"keep-private" ini:"FILTER.keep_private" help:"Keep private, loopback, link-local, CGNAT, documentation and reserved addresses."`
	PatternIPSubstring  bool `name:"pattern-ip-substring" ini:"FILTER.pattern_ip_substring" help:"UNSAFE: match pattern_ip anywhere in reverse names, as the original did (google.com then passes google.com.evil.example, which its owner can make resolve back)."`

	// The whitelist of the original tool, and ip_ignore.
	PatternIP     []string `kong:"-" ini:"GENERAL.pattern_ip"`
	PatternOrg    []string `kong:"-" ini:"GENERAL.pattern_org"`
	CountryIgnore []string `kong:"-" ini:"GENERAL.country_ignore"`
	EmailSkip     []string `kong:"-" ini:"GENERAL.email_skip"`
	IPIgnore      []string `kong:"-" ini:"GENERAL.ip_ignore"`
}

// Build makes the filter stage from the flags, filled from the config
// (config.Fill): the [GENERAL] whitelist of the original tool (pattern_ip,
// pattern_org, country_ignore, email_skip) and ip_ignore, with [FILTER]
// trust_unverified_rdns, keep_private and pattern_ip_substring.
// caseSensitiveUsers compares email_skip's local parts with their case, as
// the report keeps such accounts apart: loganom-filter's
// --case-sensitive-users, or the wrapper's report.Rule.CaseSensitive (both
// also [REPORT] case_sensitive_users). Its warnings (an unsafe option, a
// pattern_ip entry that looks like a fragment) are printed here, once.
func (f *FilterFlags) Build(cfg *config.Config, log *cli.Logger, caseSensitiveUsers bool) (*Filter, error) {
	rules := filter.Rules{
		PatternIP:          f.PatternIP,
		PatternOrg:         f.PatternOrg,
		CountryIgnore:      f.CountryIgnore,
		EmailSkip:          f.EmailSkip,
		TrustUnverified:    f.TrustUnverifiedRDNS,
		KeepPrivate:        f.KeepPrivate,
		PatternIPSubstring: f.PatternIPSubstring,
		CaseSensitiveUsers: caseSensitiveUsers,
	}
	var err error
	if rules.IPIgnore, err = filter.ParsePrefixes(f.IPIgnore); err != nil {
		return nil, cli.Usagef("%s: [GENERAL] %w", cfg.Path, err)
	}
	flt, err := filter.New(rules, f.Explain)
	if err != nil {
		return nil, cli.Usagef("%s: [GENERAL] %w", cfg.Path, err)
	}
	for _, w := range flt.Warnings {
		if w.Key != "" {
			log.Warnf("%s: [GENERAL] %s", cfg.Path, w)
		} else {
			log.Warnf("%s", w)
		}
		if w.Hint != "" {
			log.Hintf("%s", w.Hint)
		}
	}
	out := &Filter{Filter: flt, log: log}
	return out, nil
}

// Filter is a configured filter stage that can tell what it dropped.
type Filter struct {
	*filter.Filter
	log *cli.Logger
}

// Process traces each drop at debug level, as the original did.
func (f *Filter) Process(r *record.Record, emit record.Emit) error {
	if f.log.Debug {
		if why := f.Why(r); why != "" {
			f.log.Debugf("%s %s: skipped by %s", report.Escape(r.User), report.Escape(r.IP), report.Escape(why))
		}
	}
	return f.Filter.Process(r, emit)
}

// warnUnchecked says so when pattern_ip matched reverse names that
// loganom-enrich had not checked forward, and that were kept for that.
func (f *Filter) warnUnchecked() {
	if f.Unchecked == 0 {
		return
	}
	f.log.Warnf("%s a reverse name that pattern_ip matches but that loganom-enrich did not check forward (rdns without rdns_verified): pattern_ip did not apply to them",
		cli.Plural(int64(f.Unchecked), "record has", "records have"))
	f.log.Hintf("give loganom-enrich the same config (-c), whose pattern_ip says which names to check; or run it with --confirm-all")
}

// Report prints what was dropped, by rule.
func (f *Filter) Report(stats bool) {
	if !stats && !f.log.Debug {
		return
	}
	var parts []string
	for k, n := range f.Dropped {
		parts = append(parts, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(parts)
	verb := "dropped"
	if f.Explain {
		verb = "marked"
	}
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	f.log.Infof("stats: %s: %s", verb, strings.Join(parts, " "))
}

type filterCLI struct {
	Config string `short:"c" placeholder:"FILE" help:"INI configuration: [GENERAL] pattern_ip, pattern_org, country_ignore, email_skip, ip_ignore; [FILTER] trust_unverified_rdns, keep_private, pattern_ip_substring; [REPORT] case_sensitive_users."`
	FilterFlags
	CaseSensitiveUsers bool `name:"case-sensitive-users" ini:"REPORT.case_sensitive_users" help:"email_skip: an entry's local part matches only in its case, as loganom-report --case-sensitive-users keeps such accounts apart ([REPORT] case_sensitive_users)."`

	Stats bool     `help:"Print on stderr how many records each rule dropped."`
	Debug bool     `short:"d" help:"Print each record dropped and the rule that dropped it (also LOGLEVEL=DEBUG)."`
	Files []string `arg:"" optional:"" name:"file" help:"Records from loganom-enrich (NDJSON, compressed or not); - or none reads stdin."`
}

const filterDesc = `Drop the records that the whitelist of config.ini covers: reverse DNS names
(pattern_ip, whole labels of forward-confirmed names only), AS numbers and organisations
(pattern_org), countries (country_ignore), accounts (email_skip), address
ranges (ip_ignore), and private or reserved addresses.`

// Main runs loganom-filter.
func Main(env cli.Env) int {
	log := &cli.Logger{Prog: "loganom-filter", W: env.Stderr}
	var c filterCLI
	cfg, code, done := config.Start(env, log, &c, filterDesc, &c.Debug, &c.Config)
	if done {
		return code
	}
	f, err := c.FilterFlags.Build(cfg, log, c.CaseSensitiveUsers)
	if err != nil {
		log.Errorf("%v", err)
		return cli.ExitCodeOf(err)
	}
	var check cli.EnrichedCheck
	code = cli.RunRecords(env, log, c.Files, &check, f)
	check.Warn(log, "pattern_ip, pattern_org and country_ignore cannot match them")
	f.warnUnchecked()
	f.Report(c.Stats)
	return code
}
