package reportcmd

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// AutoBlockBy is who the audit trail says made an automatic block.
const AutoBlockBy = "loganom auto-block"

// DefaultBlockFor is how long an automatic block lasts without [BLOCK] for.
const DefaultBlockFor = statecmd.DefaultBlockFor // [STATE] keep is checked against it

// BlockKeys are the automatic blocks' settings, [BLOCK] in config.ini (no
// flags): loganom-report and loganom postfix-sasl read the same keys, so
// that the pipe blocks as the wrapper does.
type BlockKeys struct {
	Auto         bool          `kong:"-" ini:"BLOCK.auto"`
	For          time.Duration `kong:"-" ini:"BLOCK.for"`
	MinSeverity  string        `kong:"-" ini:"BLOCK.min_severity"`
	MinCountries *int          `kong:"-" ini:"BLOCK.min_countries"`
}

// AutoBlock blocks the accounts whose alert passes its threshold, in the
// state, at the moment the alert is made (a live alert, or a batch run's
// new alert): at least MinSeverity (never below the alert's) and
// MinCountries countries. A whitelisted account (email_skip) is never
// blocked, and an account already blocked is left as it is: a block is
// made once per incident, neither extended nor replaced by the next run.
type AutoBlock struct {
	For          time.Duration
	MinSeverity  detect.Severity // None with the original rule
	MinCountries int
	Now          func() time.Time
	// Whitelist is the filter's verdict on a record (statecmd.State's).
	Whitelist func(*record.Record) string
}

// autoBlock checks the [BLOCK] keys against the rule; nil when auto is off.
func (k *BlockKeys) autoBlock(cfg *config.Config, rule report.Rule) (*AutoBlock, error) {
	if k.For < 0 {
		return nil, cli.Usagef("%s %s: want a time above zero, like 24h", cfg.Where("BLOCK", "for"), k.For)
	}
	if k.MinCountries != nil && *k.MinCountries < 0 {
		return nil, cli.Usagef("%s %d: must not be negative", cfg.Where("BLOCK", "min_countries"), *k.MinCountries)
	}
	ab := &AutoBlock{For: k.For, MinSeverity: detect.High}
	if ab.For == 0 {
		ab.For = DefaultBlockFor
	}
	if k.MinCountries != nil {
		ab.MinCountries = *k.MinCountries
	}
	if k.MinSeverity != "" {
		s, err := detect.ParseSeverity(k.MinSeverity)
		if err != nil || s == detect.None {
			return nil, cli.Usagef("%s %q: must be low, medium or high", cfg.Where("BLOCK", "min_severity"), k.MinSeverity)
		}
		ab.MinSeverity = s
	}
	alert := rule.Alert
	if alert == detect.None {
		alert = detect.Medium
	}
	switch {
	case !k.Auto:
		return nil, nil
	case rule.Original:
		// no severity: the threshold is the countries, and it must be
		// stricter than the original's verdict (2 addresses)
		if ab.MinCountries < 2 {
			return nil, cli.Usagef("%s with the original rule needs [BLOCK] min_countries of 2 or more (it has no severity to go by)", cfg.Where("BLOCK", "auto"))
		}
		ab.MinSeverity = detect.None
	case ab.MinSeverity < alert:
		from := "[DETECT] alert " + alert.String() + ", the default"
		if rule.Alert != detect.None {
			from = cfg.Origin("DETECT", "alert", "--alert") + " " + alert.String()
		}
		return nil, cli.Usagef("%s %s is below the alert's severity (%s): an account is blocked only for an alert", cfg.Where("BLOCK", "min_severity"), ab.MinSeverity, from)
	}
	return ab, nil
}

// Passes tells whether the alert a is one to block its account for.
func (ab *AutoBlock) Passes(a *report.Account) bool {
	if ab == nil {
		return false
	}
	if ab.MinSeverity != detect.None {
		s, err := detect.ParseSeverity(a.Severity)
		if err != nil || s < ab.MinSeverity {
			return false
		}
	}
	return len(a.Countries) >= ab.MinCountries
}

// whitelisted tells whether email_skip covers the account.
func (ab *AutoBlock) whitelisted(user string) bool {
	return ab.Whitelist != nil && strings.HasPrefix(ab.Whitelist(&record.Record{User: user}), "email_skip:")
}

func (ab *AutoBlock) now() time.Time {
	if ab.Now != nil {
		return ab.Now()
	}
	return time.Now()
}

// Reason is the block's reason: the alert's reasons in one line of
// printable text.
func Reason(a *report.Account) string {
	var why []string
	for _, r := range a.Reasons {
		why = append(why, report.ReasonText(r))
	}
	s := "automatic: "
	if a.Severity != "" {
		s += "severity " + a.Severity + ": "
	}
	if len(why) == 0 {
		s += fmt.Sprintf("%d addresses in %d countries", len(a.IPs), len(a.Countries))
	} else {
		s += strings.Join(why, "; ")
	}
	return oneLine(s, 500)
}

// oneLine makes s one line of printable text at most n bytes long: what
// is not printable becomes a space.
func oneLine(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if r == '\uFFFD' || report.Suspicious(r) || r < ' ' {
			r = ' '
		}
		if b.Len()+len(string(r)) > n {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// moreSevere tells whether the alert a is more severe than the one an
// automatic block b was made for (its reason says the severity): only
// then is an automatic block made again (from now, for For). A block by
// hand is never replaced.
func moreSevere(a *report.Account, b state.Block) bool {
	if b.Source != "automatic" || b.By != AutoBlockBy {
		return false
	}
	was, ok := strings.CutPrefix(b.Reason, "automatic: severity ")
	if !ok {
		return false
	}
	was, _, _ = strings.Cut(was, ":")
	old, err1 := detect.ParseSeverity(was)
	now, err2 := detect.ParseSeverity(a.Severity)
	return err1 == nil && err2 == nil && now > old
}

// Block blocks a's account in the state when its alert passes, and marks
// a (report.Account.Blocked); an account already blocked is marked as it
// is. An alert whose last login is older than For (a log replayed late)
// blocks nothing. It returns whether it made a block. The block is
// decided in its write's transaction (state.Store.PutBlockIf): a block by
// hand, or an unblock, made at the same moment is never overwritten.
func (ab *AutoBlock) Block(ctx context.Context, st *statecmd.State, a *report.Account) (bool, error) {
	if ab == nil || st == nil || !ab.Passes(a) || ab.whitelisted(a.User) {
		return false, nil
	}
	now := ab.now()
	// the block lasts For from the incident's last login (from now when
	// the log's time is ahead of the clock): a log replayed long after
	// (a backlog, a daemon resumed after days) blocks no one for an
	// incident whose block would have ended already
	from := now
	if !a.Last.IsZero() && a.Last.Before(now) {
		from = a.Last
	}
	until := from.Add(ab.For)
	if !until.After(now) {
		return false, nil
	}
	b := state.Block{User: a.User, Reason: Reason(a), Source: "automatic", By: AutoBlockBy, Created: now, Expires: until}
	for try := 1; ; try++ {
		changes, err := st.Store.BlockAudit(ctx, time.Time{})
		if err != nil {
			return false, fmt.Errorf("auto-block %s: %w", report.Escape(a.User), err)
		}
		if !a.Last.IsZero() {
			// a block lifted after these logins: the postmaster has dealt
			// with them; the same log read again (a replay, a live pipe
			// run again) does not block again
			done, err := lifted(ctx, st.Store, changes, a.User, anomalousLast(a))
			if err != nil {
				return false, fmt.Errorf("auto-block %s: %w", report.Escape(a.User), err)
			}
			if done {
				return false, nil
			}
		}
		// the decision, made against the account's row in the write's
		// transaction: a block in force (by hand, or automatic and as
		// severe) is left as it is, and a change of the account since
		// the audit trail was read (an unblock: the incident dealt with)
		// has it decided again
		seen := latestChange(changes, a.User)
		changed := false
		cur, put, err := st.Store.PutBlockIf(ctx, b, func(cur *state.Block, latest *state.BlockChange) bool {
			changed = false
			if cur != nil && !moreSevere(a, *cur) {
				return false
			}
			changed = !latest.Same(seen)
			return !changed
		})
		switch {
		case err != nil:
			return false, fmt.Errorf("auto-block %s: %w", report.Escape(a.User), err)
		case put:
			a.Blocked = report.NewBlockMark(a.User, b.Expires, b.By, true)
			return true, nil
		case !changed && cur != nil:
			a.Blocked = report.NewBlockMark(a.User, cur.Expires, cur.By, false)
			return false, nil
		case try >= maxTries:
			return false, fmt.Errorf("auto-block %s: its block changed %d times while the block was decided", report.Escape(a.User), try)
		}
	}
}

// Retry is Block for an account alerted by an earlier run (a.Alert, a
// batch run's account already alerted): the block is made only when that
// run did not make it, its block having failed (the state down at that
// moment), that is when the audit trail holds no change of the account
// since the alert was opened: a block made then (by that run, or by hand)
// or an unblock says the incident was dealt with, and it is left as it
// is. Block decides the rest as for a new alert (an incident over by now
// blocks no one; one lifted by hand stays lifted).
func (ab *AutoBlock) Retry(ctx context.Context, st *statecmd.State, a *report.Account) (bool, error) {
	if ab == nil || st == nil || a.Alert == nil || !ab.Passes(a) || ab.whitelisted(a.User) {
		return false, nil
	}
	changes, err := st.Store.BlockAudit(ctx, a.Alert.At)
	if err != nil {
		return false, fmt.Errorf("auto-block %s: %w", report.Escape(a.User), err)
	}
	if latestChange(changes, a.User) != nil {
		return false, nil
	}
	return ab.Block(ctx, st, a)
}

// maxTries is how many times Block decides again when the account's
// block changed meanwhile.
const maxTries = 5

// latestChange is user's latest change in changes (BlockAudit's, the
// latest first); nil: none.
func latestChange(changes []state.BlockChange, user string) *state.BlockChange {
	for i := range changes {
		if changes[i].User == user {
			return &changes[i]
		}
	}
	return nil
}

// anomalousLast is the last use of the addresses a's reasons name (the
// thief's), else a's last login: the owner's first login at home after
// an unblock makes an impossible trip with the thief's login before it,
// which the postmaster dealt with; that is no new incident to block
// again for, while the thief back on one of them is.
//
// An address at the place or on the network of one named counts too: a
// detector keeps one finding per place (or network), naming the first
// address, and the thief back after the unblock from another address
// there (a dynamic address changed) adds no reason, yet is a new incident.
func anomalousLast(a *report.Account) time.Time {
	var last time.Time
	for _, r := range a.Reasons {
		if r.IP == "" {
			return a.Last
		}
		i := slices.IndexFunc(a.IPs, func(ip *report.IP) bool { return ip.IP == r.IP })
		if i < 0 || a.IPs[i].Last.IsZero() {
			return a.Last
		}
		named := a.IPs[i]
		for _, ip := range a.IPs {
			if ip == named || ip.Country != "" && ip.Country == named.Country && ip.City == named.City || ip.ASN != 0 && ip.ASN == named.ASN {
				last = maxTime(last, ip.Last)
			}
		}
	}
	if last.IsZero() {
		return a.Last
	}
	return last
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// lifted tells whether a block of user was lifted (loganom unblock, the
// API's DELETE) after its logins up to last were dealt with: the unblock
// came after them by the clock (at last or later), or after the state
// recorded an incident of user that holds them (an alert opened at the
// unblock or before, whose last login is last or later). The second
// holds whatever the log's time says: logins dated ahead of the clock (a
// mail server whose clock is fast, a log in local time read as UTC) are
// "later" than an unblock made after they were read, yet they are the
// incident the postmaster dealt with; a login later than every incident
// recorded before the unblock (the thief back) is new, and may block.
//
// It is given the audit trail, and reads the alerts only when user was
// unblocked before last (the audit trail and the alerts are pruned with
// [STATE] keep); it runs once per alert that passes the threshold.
func lifted(ctx context.Context, st state.Store, changes []state.BlockChange, user string, last time.Time) (bool, error) {
	var unblocked time.Time // user's latest unblock
	for _, c := range changes {
		if c.User != user || c.Action != "unblock" {
			continue
		}
		if !c.At.Before(last) {
			return true, nil
		}
		if c.At.After(unblocked) {
			unblocked = c.At
		}
	}
	if unblocked.IsZero() {
		return false, nil
	}
	alerts, err := st.Alerts(ctx, time.Time{})
	if err != nil {
		return false, err
	}
	for _, al := range alerts {
		if al.User == user && !al.Last.Before(last) && !al.Opened.After(unblocked) {
			return true, nil
		}
	}
	return false, nil
}
