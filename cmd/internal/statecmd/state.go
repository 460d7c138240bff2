// Package statecmd is the state's command-line side: the --db and
// --no-db flags, opening the state with the [STATE] settings, recording a
// run (Commit) and the commands that show the memory (history, alerts,
// db).
package statecmd

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// Flags name the state.
type Flags struct {
	DB   string `name:"db" ini:"STATE.db" placeholder:"PATH|URL" help:"The state: an SQLite file, or postgres://user@host/dbname for one that several mail servers share ([STATE] db). loganom postfix-sasl keeps one by default, in $XDG_STATE_HOME/loganom/state.db, else /var/lib/loganom/state.db as root, else ~/.local/state/loganom/state.db; loganom-report only when it is named."`
	NoDB bool   `name:"no-db" help:"Keep no state: remember nothing between runs, alert on every run."`
}

// Defaults of the [STATE] and [NOTIFY] settings.
const (
	DefaultKeep         = 180 * 24 * time.Hour
	DefaultRealertAfter = 7 * 24 * time.Hour
	DefaultGiveUpAfter  = 3 * 24 * time.Hour
	DefaultWindow       = 24 * time.Hour
)

// State is an opened state with its settings.
type State struct {
	Store        state.Store
	Instance     string        // [STATE] instance: this mail server's name
	Keep         time.Duration // [STATE] keep: history retention
	RealertAfter time.Duration // [STATE] realert_after
	GiveUpAfter  time.Duration // [NOTIFY] give_up_after
	Window       time.Duration // [REPORT] window: how far back the history counts in a verdict
	// PruneEvery ([STATE] prune_every, default 24h; 0: never) is how
	// often a daemon that writes the state prunes it (StartPruning), and
	// how old the last prune must be for a batch run that wrote it to
	// prune it (PruneAfterRun).
	PruneEvery time.Duration
	Now        func() time.Time
	// PruneAfter, when set (tests), replaces time.After in StartPruning;
	// OnPrune, when set, is told of each prune's result.
	PruneAfter func(time.Duration) <-chan time.Time
	OnPrune    func(state.Pruned, error)
	// Whitelist, when set, is the filter's verdict on a record (the rule
	// that covers it, or ""): Recall applies today's whitelist to the
	// history, which holds whitelisted logins too.
	Whitelist func(*record.Record) string
	// Holder is how this process names itself in the lock it takes on
	// the logs whose positions it reads (Saved), for another run that
	// finds them held: "loganom postfix-sasl --follow"; loganom adds its
	// pid and the host. A Holder with --follow is a daemon, which holds
	// them as long as it runs.
	Holder string
	// Wait: when another process holds a log's lock, Saved waits for it
	// (a daemon: a cron run ends soon), telling OnWait once; else Saved
	// fails at once with the *state.LogBusyError (a batch run: the next
	// one reads on from where that one stops).
	Wait   bool
	OnWait func(*state.LogBusyError)
	// unlockLogs releases the logs' locks (Saved); Close calls it.
	// held: the names locked (a lock is not reentrant: this process
	// would find its own)
	unlockLogs []func()
	held       map[string]bool

	// histFailed: when the state last failed a live reader, or a live
	// commit (LiveHistory, NoteDown); zero: it answers. Unix ns.
	histFailed atomic.Int64
	// histFrozen: when a live read (an account's history, the site's)
	// last ran out of time (the state accepted it and did not answer);
	// zero since the state answered a commit or a read (NoteUp).
	histFrozen atomic.Int64
}

// NoteDown says the state just failed to answer a live commit: the live
// reader asks it for no history for HistoryPause (LiveHistory), as after
// a failed history read; NoteUp, that a commit went through: it asks at
// once again. A state that went away while the daemon had no new account
// to read a history for would otherwise cost OpTimeout at the next one,
// and at the stop (the accounts judged again once their history comes).
func (s *State) NoteDown() { s.histFailed.Store(time.Now().UnixNano()) }

// NoteUp: see NoteDown.
func (s *State) NoteUp() { s.histFailed.Store(0); s.histFrozen.Store(0) }

// HistoryFrozen says a live read (an account's history, the site's) ran
// out of time within HistoryPause, and the state answered nothing since:
// a commit now would most likely wait as long (OpTimeout) and fail. The
// live alert then makes no commit of its own (as after a commit that ran
// out of time): a new account's alert would otherwise wait OpTimeout for
// its history, then as long again for that commit.
func (s *State) HistoryFrozen() bool {
	f := s.histFrozen.Load()
	return f != 0 && time.Since(time.Unix(0, f)) < HistoryPause
}

// ReadFrozenAgo is how long ago a live read (a history, the site's)
// last ran out of time, when nothing answered since; ok false: none did.
func (s *State) ReadFrozenAgo() (ago time.Duration, ok bool) {
	f := s.histFrozen.Load()
	if f == 0 {
		return 0, false
	}
	return time.Since(time.Unix(0, f)), true
}

// Close closes the store.
func (s *State) Close() error {
	if s == nil {
		return nil
	}
	for _, u := range s.unlockLogs {
		u()
	}
	s.unlockLogs, s.held = nil, nil
	return s.Store.Close()
}

func (s *State) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Settings reads [STATE] keep, realert_after, prune_every, instance and [NOTIFY]
// give_up_after into s.
func (s *State) settings(cfg *config.Config) error {
	for _, x := range []struct {
		sec, key string
		dst      *time.Duration
		def      time.Duration
	}{{"STATE", "keep", &s.Keep, DefaultKeep}, {"STATE", "realert_after", &s.RealertAfter, DefaultRealertAfter}, {"NOTIFY", "give_up_after", &s.GiveUpAfter, DefaultGiveUpAfter}} {
		d, set, err := cfg.Duration(x.sec, x.key)
		if err != nil {
			return err
		}
		if set && d <= 0 {
			return cli.Usagef("%s: want a time above zero, like 7d", cfg.Where(x.sec, x.key))
		}
		*x.dst = x.def
		if set {
			*x.dst = d
		}
	}
	d, set, err := cfg.Duration("STATE", "prune_every")
	if err != nil {
		return err
	}
	if set && d < 0 {
		return cli.Usagef("%s: want a time, like 24h, or 0 (never)", cfg.Where("STATE", "prune_every"))
	}
	s.PruneEvery = DefaultPruneEvery
	if set {
		s.PruneEvery = d
	}
	s.Window = DefaultWindow // [REPORT] window: reportcmd.ReportFlags sets it
	s.Instance, _ = cfg.String("STATE", "instance")
	if s.Instance == "" {
		s.Instance, _ = os.Hostname()
	}
	return nil
}

// Open opens the state the flags (filled from [STATE] db) name. With
// --no-db it returns nil. When none is named: with byDefault (the
// wrapper) the default file is used, and if it cannot be, a warning says
// so and the run goes on without a state (nil), unless need (--resume,
// which cannot run without one: then it is an error); without byDefault
// (the pipe stages) there is no state (nil). A state that is named but
// cannot be opened is an error; so is a file named in a directory that
// does not exist (a typo would otherwise start an empty state, which
// reads every log again and sends every alert again).
func Open(ctx context.Context, f *Flags, cfg *config.Config, log *cli.Logger, byDefault, need bool) (*State, error) {
	if f.NoDB {
		if f.DB != "" && !cfg.Filled("STATE", "db") {
			return nil, cli.Usagef("--db and --no-db: choose one")
		}
		return nil, nil
	}
	s := &State{}
	if err := s.settings(cfg); err != nil {
		return nil, err
	}
	dsn := f.DB
	if dsn == "" {
		if !byDefault {
			return nil, nil
		}
		p, err := state.DefaultPath()
		if err == nil {
			s.Store, err = openStore(ctx, p)
		}
		if err != nil {
			var tn *state.TooNewError
			h := openHint(p, err)
			if errors.As(err, &tn) || need {
				if h != "" {
					err = fmt.Errorf("%w\nhint: %s", err, h)
				}
				return nil, err
			}
			log.Warnf("no state: %v; nothing is remembered, so every run alerts again", err)
			if h != "" {
				log.Hintf("%s", h)
			}
			log.Hintf("name a state with --db PATH (or [STATE] db), or run with --no-db")
			return nil, nil
		}
		log.Debugf("state: %s", s.Store.Describe())
		return s, nil
	}
	if !state.IsPostgres(dsn) {
		dir := filepath.Dir(dsn)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("%s: the directory %s does not exist; a new state is made only in an existing directory", cfg.Origin("STATE", "db", "--db "+dsn), dir)
		}
	}
	st, err := openStore(ctx, dsn)
	if err != nil {
		if state.IsPostgres(dsn) && !errors.As(err, new(*state.TooNewError)) {
			err = fmt.Errorf("%w\nhint: is PostgreSQL up, and does the URL name its host, port, user and database? (the password: in the URL or ~/.pgpass)", err)
		} else if h := openHint(dsn, err); h != "" {
			err = fmt.Errorf("%w\nhint: %s", err, h)
		}
		return nil, err
	}
	s.Store = st
	log.Debugf("state: %s", st.Describe())
	return s, nil
}

// openHint is the hint for err, from opening the SQLite state at dsn,
// when this user may not write it (accessHint); "" for another error, or
// PostgreSQL.
func openHint(dsn string, err error) string {
	if dsn == "" || state.IsPostgres(dsn) || errors.As(err, new(*state.TooNewError)) {
		return ""
	}
	return accessHint(dsn)
}

// openStore opens the state at dsn within OpenTimeout.
func openStore(ctx context.Context, dsn string) (st state.Store, err error) {
	err = Bound(ctx, OpenTimeout, func(ctx context.Context) error {
		st, err = state.Open(ctx, dsn, state.Options{})
		return err
	})
	return st, err
}

// Saved is the positions saved for this mail server of the logs at
// paths (absolute names, or the journal's), within OpTimeout, once it
// holds their locks (state.Store.LockLogs, until Close): another run
// that reads one of them from its position meanwhile would read the
// same lines, and one of the two record nothing. When another process
// holds one, Saved waits for it (s.Wait), or fails with the
// *state.LogBusyError.
func (s *State) Saved(ctx context.Context, paths []string) (saved map[string]state.Position, err error) {
	if err := s.lockLogs(ctx, paths); err != nil {
		return nil, err
	}
	err = Bound(ctx, OpTimeout, func(ctx context.Context) (err error) {
		saved, err = s.Store.Positions(ctx, s.Instance, paths)
		return err
	})
	return saved, err
}

// HoldAs names the process in the locks of the logs it reads (Saved):
// prog, with --follow for a daemon (follow), which waits for another
// run that holds one, and says so once.
func HoldAs(s *State, log *cli.Logger, prog string, follow bool) {
	s.Holder, s.Wait = prog+" --resume", follow
	if follow {
		s.Holder = prog + " --follow"
	}
	s.OnWait = func(busy *state.LogBusyError) {
		log.Warnf("%v; waiting for it to stop", busy)
	}
}

// BusyHint says, when err is a *state.LogBusyError, what to do: a daemon
// holds the log for as long as it runs, a batch run until it ends.
// oneOff is the command that reads the log without the state, with %s
// for the log's name ("loganom-parse %s": it has no -l).
func BusyHint(log *cli.Logger, err error, oneOff string) {
	var busy *state.LogBusyError
	if !errors.As(err, &busy) {
		return
	}
	if busy.Daemon() {
		log.Hintf("that daemon reads this log and records what it finds (loganom alerts lists it); this run read nothing")
		log.Hintf("to look at the log without the state: %s; to read it by hand with the state, stop the daemon first", fmt.Sprintf(oneOff, busy.Path))
		return
	}
	log.Hintf("runs on the same log must not overlap; this run read nothing: the next one reads on from where that one stops")
}

// LockPoll is how often Saved tries again a log's lock that another
// process holds (s.Wait).
var LockPoll = time.Second

// lockLogs takes the locks of the logs at paths (Saved).
func (s *State) lockLogs(ctx context.Context, paths []string) error {
	holder := s.Holder
	if holder == "" {
		holder = "loganom"
	}
	host, _ := os.Hostname()
	holder = fmt.Sprintf("%s, pid %d on %s", holder, os.Getpid(), host)
	// A log named through a symlink is the same log: locked by both
	// names, its own and the one given (which stays when the symlink is
	// moved to another file, a log rotated by date).
	keys := slices.Clone(paths)
	named := map[string]string{}
	for _, p := range paths {
		named[p] = p
		if real, err := filepath.EvalSymlinks(p); err == nil && real != p {
			if _, ok := named[real]; !ok {
				named[real] = p
				keys = append(keys, real)
			}
		}
	}
	keys = slices.DeleteFunc(keys, func(k string) bool { return s.held[k] })
	if len(keys) == 0 {
		return nil
	}
	told := false
	for {
		var unlock func()
		err := Bound(ctx, OpTimeout, func(ctx context.Context) (err error) {
			unlock, err = s.Store.LockLogs(ctx, s.Instance, keys, holder)
			return err
		})
		if err == nil {
			s.unlockLogs = append(s.unlockLogs, unlock)
			if s.held == nil {
				s.held = map[string]bool{}
			}
			for _, k := range keys {
				s.held[k] = true
			}
			return nil
		}
		var busy *state.LogBusyError
		if errors.As(err, &busy) && named[busy.Path] != "" {
			busy.Path = named[busy.Path] // as it was named
		}
		if !s.Wait || busy == nil {
			return err
		}
		if !told && s.OnWait != nil {
			s.OnWait(busy)
		}
		told = true
		select {
		case <-ctx.Done():
			return err
		case <-time.After(LockPoll):
		}
	}
}

// Run is what one run recorded and decided.
type Run struct {
	Outcome *state.Outcome
	// New are the accounts alerted: for the first time (new incidents),
	// or again, more severe than their open incident's alerts.
	New int
	// Conflict: another run recorded the same log meanwhile; this one
	// recorded nothing, and must send nothing.
	Conflict bool
}

// ErrResumeStdin: --resume was asked of stdin, which has no position to
// save (Positions).
var ErrResumeStdin = errors.New("--resume reads files, and stdin cannot be resumed: each run would count its lines again")

// ErrResumeNotRegular: --resume was asked of a log that is no regular
// file (a pipe: /dev/stdin, a process substitution).
var ErrResumeNotRegular = errors.New("not a regular file, which --resume cannot resume")

// Positions returns the saved marks of the named logs (absolute names),
// for parse.Options.Resume, and the positions as saved, to expect at
// Commit. Stdin ("-") has none.
func (s *State) Positions(ctx context.Context, names []string) (marks map[string]*input.Mark, expect map[string]state.Position, err error) {
	var abs []string
	byAbs := map[string]string{}
	type id struct{ dev, ino uint64 }
	seen := map[id]string{}
	for _, n := range names {
		if n == "-" {
			return nil, nil, cli.UsageError{Err: ErrResumeStdin}
		}
		a, err := filepath.Abs(n)
		if err != nil {
			return nil, nil, err
		}
		if other, ok := byAbs[a]; ok {
			return nil, nil, cli.Usagef("%s and %s are the same log; name it once", other, n)
		}
		if fi, err := os.Stat(n); err == nil {
			if !fi.Mode().IsRegular() {
				return nil, nil, cli.Usagef("%s: %w", n, ErrResumeNotRegular)
			}
			if dev, ino, ok := input.Identity(fi); ok {
				if other, dup := seen[id{dev, ino}]; dup {
					return nil, nil, cli.Usagef("%s and %s are the same log; name it once", other, n)
				}
				seen[id{dev, ino}] = n
			}
		}
		abs = append(abs, a)
		byAbs[a] = n
	}
	// A log and one of its rotated files: after the next rotation the
	// log's rest is read in the rotated file, and the rotated file's name
	// is another file, read whole again.
	for _, a := range abs {
		for _, b := range abs {
			if a != b && input.RotatedFrom(a, b) {
				return nil, nil, cli.Usagef("%s is a rotated file of %s, which --resume reads as it needs; name the log alone", byAbs[b], byAbs[a])
			}
		}
	}
	saved, err := s.Saved(ctx, abs)
	if err != nil {
		return nil, nil, err
	}
	marks = map[string]*input.Mark{}
	expect = map[string]state.Position{}
	for a, n := range byAbs {
		marks[n] = nil
		if p, ok := saved[a]; ok {
			marks[n] = &input.Mark{Dev: p.Dev, Ino: p.Ino, Offset: p.Offset, Size: p.Size, FP: p.FP, FPLen: p.FPLen, Saved: p.Updated}
			expect[a] = p
		}
	}
	return marks, expect, nil
}

// Commit records a run in one transaction: with history (the wrapper
// with --resume, loganom-report --db), every login of the report in the
// history, and marks (from parse.Source.Marks, by the names given) as
// the new positions; and the report's anomalies as alerts, with a
// pending delivery on each of channels for a new one. Accounts already
// alerted are marked in the report (report.AlertMark). It takes
// RunTimeout at most.
func (s *State) Commit(ctx context.Context, rep *report.Report, history bool, marks map[string]input.Mark, expect map[string]state.Position, channels []string) (*Run, error) {
	now := s.now()
	run := &state.Run{Instance: s.Instance, Now: now, Expect: expect, Channels: channels, RealertAfter: s.RealertAfter}
	if history {
		rep.Each(func(a *report.Account) {
			for _, ip := range slices.Concat(a.IPs, a.Trusted) {
				if ip.Earlier {
					continue // recalled from the history, not seen again
				}
				run.Logins = append(run.Logins, Login(a.User, ip))
			}
		})
	}
	for name, m := range marks {
		a, err := filepath.Abs(name)
		if err != nil {
			return nil, err
		}
		// Saved when it was read (parse.Source's marks), not now: the
		// rotated files written after the reading of a log found
		// empty are read by the next run (input.Plan).
		saved := m.Saved
		if saved.IsZero() {
			saved = now
		}
		run.Positions = append(run.Positions, state.Position{Path: a, Dev: m.Dev, Ino: m.Ino, Offset: m.Offset, Size: m.Size, FP: m.FP, FPLen: m.FPLen, Updated: saved})
	}
	rule := rep.Rule.String()
	for _, a := range rep.Anomalies() {
		an, err := Anomaly(a, rule, now)
		if err != nil {
			return nil, err
		}
		run.Anomalies = append(run.Anomalies, an)
	}
	if history {
		// as the accounts were judged (Anomalies)
		rep.Each(func(a *report.Account) {
			if sh, grew := a.Sharing(); grew {
				run.Sharing = append(run.Sharing, SharingRow(a.User, sh))
			}
		})
		// the failed logins read, for a later run's logins from their
		// addresses (recallFailures); those out of every later run's
		// window dropped
		run.Failures, run.FailuresBefore = s.failureRows(rep.FailuresRead(), run.Now)
	}
	var out *state.Outcome
	err := Bound(ctx, RunTimeout, func(ctx context.Context) (err error) {
		out, err = s.Store.Commit(ctx, run)
		return err
	})
	if err != nil {
		return nil, err // it names the state
	}
	r := &Run{Outcome: out}
	for user, as := range out.Alerts {
		if as.New || as.Escalated {
			r.New++ // sent: new, or more severe than what was sent
			continue
		}
		rep.Mark(user, &report.AlertMark{At: as.Opened, NewAddresses: as.NewAddresses})
	}
	return r, nil
}

// Anomaly is an anomalous account as the state records it; rule says the
// rule in words, when the account has no verdict of the detectors.
func Anomaly(a *report.Account, rule string, now time.Time) (state.Anomaly, error) {
	payload, err := json.Marshal(a)
	if err != nil {
		return state.Anomaly{}, err
	}
	an := state.Anomaly{User: a.User, Last: cmp.Or(a.Last, now), Rule: rule, Payload: payload}
	if a.Severity != "" {
		sev, err := detect.ParseSeverity(a.Severity)
		if err != nil {
			return state.Anomaly{}, err
		}
		an.Severity = int(sev)
		var why []string
		for _, r := range a.Reasons {
			why = append(why, r.Text)
		}
		an.Rule = "severity " + a.Severity + ": " + strings.Join(why, "; ")
	}
	for _, ip := range a.IPs {
		an.Addresses = append(an.Addresses, state.Evidence{IP: ip.IP, Count: int64(ip.Count), First: ip.First, Last: ip.Last, Country: ip.Country, ASN: ip.ASN, Org: ip.Org})
	}
	return an, nil
}

// Login is a row of the history from what the report saw of an address.
func Login(user string, ip *report.IP) state.Login {
	return state.Login{User: user, IP: ip.IP, Count: int64(ip.Count), First: ip.First, Last: ip.Last,
		Country: ip.Country, City: ip.City, HasLoc: ip.HasLoc, Lat: ip.Lat, Lon: ip.Lon, AccuracyKM: ip.AccuracyKM,
		ASN: ip.ASN, Org: ip.Org, RDNS: ip.RDNS, RDNSVerified: ip.RDNSVerified, Methods: ip.Methods}
}

// OpTimeout bounds each operation on the state outside a commit (an
// account's history, what is pending delivery, a delivery's result, the
// blocks) whose caller set no deadline: a database that stops answering
// (a PostgreSQL server behind a dead link, a frozen host) makes it fail
// with an error that says so, and the caller goes on (a live reader
// judges the account without its history; a delivery is tried again).
// Without it they waited for ever, the daemon's deliveries with them.
var OpTimeout = 30 * time.Second

// LockTimeout bounds the wait for another run's deliveries to this mail
// server (Store.LockDeliveries): a round of them mostly ends within
// minutes (each channel's tries have timeouts), but a script run per
// account, or notices to users each with their tries, may take longer;
// past it, the deliveries are tried again at the next run (Deliver says
// so: it cannot tell a long round from a database that does not answer).
var LockTimeout = 10 * time.Minute

// OpenTimeout bounds opening the state, its migration included: a
// PostgreSQL that accepts and never answers (a frozen host, a stalled
// disk) is an error that says so, and the next cron run or the unit's
// restart tries again; a run used to wait for ever, saying nothing.
var OpenTimeout = 2 * time.Minute

// RunTimeout bounds, when their caller set no deadline, what a batch
// does on the state that may take long: reading the history of its
// accounts (Recall) and recording the run (Commit: a large log's
// history). A PostgreSQL server that stopped answering made a run from
// cron wait for ever, and the next hour's behind it; now it ends with an
// error that says so (without the state, the run notifies every account
// it found).
var RunTimeout = 10 * time.Minute

// LockRun takes the lock that a batch run holds from the reading of its
// accounts' history (Recall) to its record (Commit), so that the runs of
// the mail servers sharing the state take turns there (state.Store.LockRun):
// two hourly runs started at the same moment on two servers judged each
// its own logins alone, and an account whose theft only both servers'
// logins together showed was never alerted. It waits RunTimeout at most.
func (s *State) LockRun(ctx context.Context) (unlock func(), err error) {
	err = Bound(ctx, RunTimeout, func(ctx context.Context) (err error) {
		unlock, err = s.Store.LockRun(ctx)
		return err
	})
	return unlock, err
}

// Bound runs op with ctx bounded by d (unless it has an earlier
// deadline): an operation on the state (OpTimeout, LockTimeout). An error
// that came of d running out says so.
func Bound(ctx context.Context, d time.Duration, op func(context.Context) error) error {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return op(ctx)
	}
	bctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := op(bctx)
	if err != nil && ctx.Err() == nil && errors.Is(bctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("%w within %s: %w", ErrNoAnswer, d, err)
	}
	return err
}

// ErrNoAnswer is in the error of an operation that Bound ended: the
// state accepted it and did not answer in time (a frozen host, a stalled
// disk), as against one that refused it or failed.
var ErrNoAnswer = errors.New("the state did not answer")

// HistoryPause: after the state failed to give an account's history,
// a live reader asks for none for this long (LiveHistory).
var HistoryPause = time.Minute

// LiveHistory is Known for a live reader (report.Live.History): after a
// failure (the error is returned, once) it asks the state for no history
// for HistoryPause (it returns report.ErrHistoryLater), and the accounts
// met meanwhile are judged without theirs until the state answers again:
// then with it, from their first login (report.Live). A state that does
// not answer would otherwise hold the reader OpTimeout at each account.
func (s *State) LiveHistory() func(user string) ([]detect.Known, error) {
	var mu sync.Mutex
	return func(user string) ([]detect.Known, error) {
		mu.Lock()
		defer mu.Unlock()
		if f := s.histFailed.Load(); f != 0 && time.Since(time.Unix(0, f)) < HistoryPause {
			return nil, report.ErrHistoryLater
		}
		known, err := s.Known(context.Background(), user)
		if err != nil {
			s.NoteDown()
			if errors.Is(err, ErrNoAnswer) {
				s.histFrozen.Store(time.Now().UnixNano())
			}
			return nil, fmt.Errorf("%w; the accounts met meanwhile are judged without their history, and again with it once the state answers (asked again in %s)", err, HistoryPause)
		}
		s.NoteUp()
		return known, nil
	}
}

// LiveSharing is what the state holds of several people using an account
// for a live reader (report.Live.Sharing), within OpTimeout. While the
// history reads are paused (LiveHistory), it does not ask
// (report.ErrHistoryLater); a failure pauses them too.
func (s *State) LiveSharing() func(user string) (detect.Sharing, error) {
	return func(user string) (detect.Sharing, error) {
		if f := s.histFailed.Load(); f != 0 && time.Since(time.Unix(0, f)) < HistoryPause {
			return detect.Sharing{}, report.ErrHistoryLater
		}
		var got map[string]state.Sharing
		err := Bound(context.Background(), OpTimeout, func(ctx context.Context) error {
			var err error
			got, err = s.Store.SharingOf(ctx, []string{user})
			return err
		})
		if err != nil {
			s.NoteDown()
			if errors.Is(err, ErrNoAnswer) {
				s.histFrozen.Store(time.Now().UnixNano())
			}
			return detect.Sharing{}, fmt.Errorf("what %s's logins showed of several people using it: %w (it is judged again with it once the state answers)", report.Escape(user), err)
		}
		sh, ok := got[user]
		if !ok {
			return detect.Sharing{}, nil
		}
		return sharingOf(&sh), nil
	}
}

// LiveSite is Site for a live reader (report.Live.Site): every account's
// rows of history, with today's whitelist applied (those email_skip
// leaves out are not given), within OpTimeout. While the history reads
// are paused (LiveHistory), it does not ask (report.ErrHistoryLater); a
// failure pauses them too.
func (s *State) LiveSite() func(add func(user string, k *detect.Known)) error {
	return func(add func(user string, k *detect.Known)) error {
		if f := s.histFailed.Load(); f != 0 && time.Since(time.Unix(0, f)) < HistoryPause {
			return report.ErrHistoryLater
		}
		err := Bound(context.Background(), OpTimeout, func(ctx context.Context) error {
			return s.Store.Site(ctx, func(h *state.Address) error {
				why := s.why(h)
				if strings.HasPrefix(why, "email_skip:") {
					return nil
				}
				k := knownOf(h, why)
				add(h.User, &k)
				return nil
			})
		})
		if err != nil {
			s.NoteDown()
			if errors.Is(err, ErrNoAnswer) {
				s.histFrozen.Store(time.Now().UnixNano())
			}
			return fmt.Errorf("the site's history, for the places its accounts share: %w (asked again later)", err)
		}
		return nil
	}
}

// RecentSlack is how much earlier than the state's last answer a live
// reader asks again for the rows of history written since (LiveRecent):
// a write is dated as its statement began, and seen once its transaction
// commits, a daemon's within OpTimeout, a batch run's (a first run over
// a large log) later perhaps. A row read again is no login told twice:
// report.Live counts what each row grew by.
var RecentSlack = 5 * time.Minute

// LiveRecent is Recent for a live reader (report.Live.Recent): the rows of
// history written since it was last called (by the other mail servers
// sharing the state, by batch runs, by this daemon), with today's
// whitelist applied (those email_skip leaves out are not given), within
// OpTimeout. Its first call gives none: the accounts the reader loads
// then get their whole history (a first call that fails: the next that
// answers gives none, and the one after, the rows written since the
// reader started). While the history reads are paused
// (LiveHistory), it does not ask (report.ErrHistoryLater); a failure
// pauses them too, and the next call asks from where the last one that
// answered left off.
func (s *State) LiveRecent() func(add func(user, trusted string, k *detect.Known)) error {
	// The first call that answers gives none, and dates the next from
	// when the reader started (the state's clock, less the time since):
	// the accounts met before it got their whole history, and those
	// met since it failed, if it did, theirs.
	since := time.Unix(0, math.MaxInt64)
	started := time.Now()
	return func(add func(user, trusted string, k *detect.Known)) error {
		if f := s.histFailed.Load(); f != 0 && time.Since(time.Unix(0, f)) < HistoryPause {
			return report.ErrHistoryLater
		}
		var asked time.Time
		err := Bound(context.Background(), OpTimeout, func(ctx context.Context) (err error) {
			asked, err = s.Store.HistorySince(ctx, since, func(h *state.Address) error {
				why := s.why(h)
				if strings.HasPrefix(why, "email_skip:") {
					return nil
				}
				k := knownOf(h, why)
				add(h.User, why, &k)
				return nil
			})
			return err
		})
		if err != nil {
			s.NoteDown()
			if errors.Is(err, ErrNoAnswer) {
				s.histFrozen.Store(time.Now().UnixNano())
			}
			return fmt.Errorf("the history written lately, for the other mail servers' logins of the accounts in memory: %w (asked again later)", err)
		}
		if since.UnixNano() == math.MaxInt64 {
			since = asked.Add(-time.Since(started) - RecentSlack)
			return nil
		}
		since = asked.Add(-RecentSlack)
		return nil
	}
}

// Known is the history of one account for the detectors, with today's
// whitelist applied (Whitelist): nil for an account email_skip leaves out.
// It takes OpTimeout at most.
func (s *State) Known(ctx context.Context, user string) ([]detect.Known, error) {
	var addrs []state.Address
	err := Bound(ctx, OpTimeout, func(ctx context.Context) (err error) {
		addrs, err = s.Store.History(ctx, user)
		return err
	})
	if err != nil {
		return nil, err
	}
	var known []detect.Known
	for _, h := range addrs {
		why := s.why(&h)
		if strings.HasPrefix(why, "email_skip:") {
			return nil, nil
		}
		known = append(known, knownOf(&h, why))
	}
	return known, nil
}

func (s *State) why(h *state.Address) string {
	if s.Whitelist == nil {
		return ""
	}
	return s.Whitelist(&record.Record{Type: record.TypeLogin, User: h.User, IP: h.IP, Country: h.Country,
		ASN: h.ASN, Org: h.Org, RDNS: h.RDNS, RDNSVerified: h.RDNSVerified})
}

func knownOf(h *state.Address, why string) detect.Known {
	return detect.Known{First: h.First, Last: h.Last, Count: h.Count,
		Where: detect.Where{IP: h.IP, Country: h.Country, City: h.City, ASN: h.ASN, Org: h.Org,
			HasLoc: h.HasLoc, Lat: h.Lat, Lon: h.Lon, AccuracyKM: h.AccuracyKM,
			Trusted: why != "" && !report.IsRelay(why), Relay: report.IsRelay(why), Home: report.IsHome(why), Methods: h.Methods}}
}

// Recall gives each account of the run its history from earlier runs.
// The detectors get all of it (report.Report.Know: [STATE] keep bounds
// it; what is older than [DETECT] learn is forgotten, but says that the
// account is not new): its usual places and its last login before the run, so that an hourly --resume run judges as a
// run over the whole log would. The addresses within [REPORT] window
// before its last login that the run did not see are added to the
// account, marked as earlier (report.Report.Recall): with the original
// rule, an attack spread over several runs is judged as a whole.
//
// It takes RunTimeout at most.
func (s *State) Recall(ctx context.Context, rep *report.Report) error {
	return Bound(ctx, RunTimeout, func(ctx context.Context) error { return s.recall(ctx, rep) })
}

func (s *State) recall(ctx context.Context, rep *report.Report) error {
	var ferr error
	if !rep.Rule.Original {
		// (a run of failures alone too: its failures are recorded)
		if err := s.recallFailures(ctx, rep); err != nil {
			ferr = fmt.Errorf("%w: %w", ErrFailuresRead, err)
		}
	}
	err := s.recallHistory(ctx, rep)
	switch {
	case err == nil:
		return ferr
	case errors.Is(err, ErrSiteHistory) && ferr != nil:
		// the accounts' histories were read: both are told
		return errors.Join(err, ferr)
	}
	return err // (the verdict is on this run's logins alone)
}

// ErrFailuresRead is in Recall's error when the failed logins of earlier
// runs could not be read: the verdict has the accounts' histories, and
// pairs with their logins only the failures this run read.
var ErrFailuresRead = errors.New("the failed logins of earlier runs could not be read")

func (s *State) recallHistory(ctx context.Context, rep *report.Report) error {
	since := map[string]time.Time{}
	window := map[string]time.Time{}
	now := s.now()
	// Accounts with only whitelisted logins in this run are judged only
	// when the history holds a login not whitelisted within the window
	// before their last (a thief's abroad, an hourly run ago, then the
	// owner at home now: the trip is this run's to judge).
	onlyTrusted := map[string]time.Time{}
	rep.Each(func(a *report.Account) {
		if a.Logins == 0 {
			if !rep.Rule.Original {
				var last time.Time
				for _, ip := range a.Trusted {
					if ip.Last.After(last) {
						last = ip.Last
					}
				}
				onlyTrusted[a.User] = cmp.Or(last, now).Add(-s.Window)
				if slices.ContainsFunc(a.Trusted, func(ip *report.IP) bool { return report.IsHome(ip.Trusted) }) {
					// judged whatever the history holds (a burst from
					// a new network of the home country:
					// detect.Where.Home), so with all of it, as above
					window[a.User] = onlyTrusted[a.User]
					since[a.User] = time.Time{}
				}
			}
			return
		}
		last := cmp.Or(a.Last, now)
		window[a.User] = last.Add(-s.Window)
		since[a.User] = window[a.User]
		if !rep.Rule.Original {
			// all of it: an account idle for longer than learn has a
			// history still, and no first day to learn again
			since[a.User] = time.Time{}
		}
	})
	// Nor when a password checked once (detect's lone far login: a
	// row of one login, not whitelisted, within the window before the
	// history's last) waits for the account's next login after the
	// window, which this run holds: an owner whose mail goes out through
	// Gmail ("send mail as") logs in through relays only for days.
	lone := !rep.Rule.Original && rep.Rule.Detect.Defaults().LoneFar > 0
	probe := map[string]time.Time{}
	for u, t := range onlyTrusted {
		if _, done := since[u]; done {
			continue
		}
		if probe[u] = t; lone {
			probe[u] = time.Time{} // (the history's last is not known yet)
		}
	}
	if len(probe) > 0 {
		recent, err := s.Store.Recent(ctx, probe)
		if err != nil {
			return err
		}
		latest := map[string]time.Time{}
		for _, h := range recent {
			if h.Last.After(latest[h.User]) {
				latest[h.User] = h.Last
			}
		}
		for _, h := range recent {
			if _, done := since[h.User]; done || s.why(&h) != "" {
				continue
			}
			switch {
			case !h.Last.Before(onlyTrusted[h.User]):
				window[h.User] = onlyTrusted[h.User]
				since[h.User] = time.Time{} // all of it, as above
			case lone && h.Count == 1 && h.Last.Equal(h.First) && !h.Last.Before(latest[h.User].Add(-s.Window)):
				// (its login shown with the run's, and the others a run
				// within the window after the history's last shows: the
				// account is judged; every such row is within it)
				window[h.User] = latest[h.User].Add(-s.Window)
				since[h.User] = time.Time{}
			}
		}
	}
	if len(since) == 0 {
		return nil
	}
	addrs, err := s.Store.Recent(ctx, since)
	if err != nil {
		return err
	}
	known := map[string][]detect.Known{}
	for _, h := range addrs {
		why := s.why(&h)
		if strings.HasPrefix(why, "email_skip:") {
			continue
		}
		if !rep.Rule.Original {
			known[h.User] = append(known[h.User], knownOf(&h, why))
		}
		if why != "" || h.Last.Before(window[h.User]) {
			continue // whitelisted: not reported; or not within the window
		}
		rep.Recall(h.User, &report.IP{IP: h.IP, Count: int(h.Count), First: h.First, Last: h.Last, Country: h.Country, City: h.City,
			RDNS: h.RDNS, RDNSVerified: h.RDNSVerified, ASN: h.ASN, Org: h.Org, HasLoc: h.HasLoc, Lat: h.Lat, Lon: h.Lon, AccuracyKM: h.AccuracyKM, Methods: h.Methods})
	}
	for user, k := range known {
		rep.Know(user, k)
	}
	if rep.Rule.Original {
		return nil
	}
	// what the accounts' logins showed in earlier runs of several people
	// using them: the history's rows do not keep it
	users := make([]string, 0, len(since))
	for u := range since {
		users = append(users, u)
	}
	sharing, err := s.Store.SharingOf(ctx, users)
	if err != nil {
		return err
	}
	for _, user := range users {
		sh := sharing[user] // (none held: zero)
		rep.KnowSharing(user, sharingOf(&sh))
	}
	// the other accounts' history, for the census: an hourly run sees
	// few of the site's accounts (report.Report.KnowSite)
	err = s.Store.Site(ctx, func(h *state.Address) error {
		if _, done := since[h.User]; done {
			return nil
		}
		why := s.why(h)
		if strings.HasPrefix(why, "email_skip:") {
			return nil
		}
		k := knownOf(h, why)
		rep.KnowSite(h.User, &k)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSiteHistory, err)
	}
	return nil
}

// recallFailures gives the detectors the failed logins that earlier runs
// read within the window before this run's first login or failure, of
// every instance sharing the state (failures on one mail server, the
// password's success on another). This instance's own are its log's:
// a failure read again within one of them (the log given again, or read
// from before the last run's end) counts once (report.KnowFailures). And
// asks the report to keep the failures it read, for Commit.
func (s *State) recallFailures(ctx context.Context, rep *report.Report) error {
	rep.RecordFailures()
	start := rep.Start()
	if start.IsZero() {
		return nil
	}
	rows, err := s.Store.Failures(ctx, start.Add(-s.Window))
	if err != nil {
		return err
	}
	var others, own []detect.FailureRun
	for _, f := range rows {
		r := detect.FailureRun{IP: f.IP, First: f.First.In(start.Location()), Last: f.Last.In(start.Location()), N: f.Count}
		if f.Instance == s.Instance {
			own = append(own, r)
		} else {
			others = append(others, r)
		}
	}
	rep.KnowFailures(others, own)
	return nil
}

// failuresBefore returns, for a live reader, the failed logins the state
// holds within the window before start, the first login or failure it
// read: of every instance, but this one's from start on (its own,
// recorded since it started: it has them).
func (s *State) failuresBefore(ctx context.Context, start time.Time) ([]detect.FailureRun, error) {
	rows, err := s.Store.Failures(ctx, start.Add(-s.Window))
	if err != nil {
		return nil, err
	}
	known := make([]detect.FailureRun, 0, len(rows))
	for _, f := range rows {
		if f.Instance == s.Instance && !f.First.Before(start) {
			continue
		}
		known = append(known, detect.FailureRun{IP: f.IP, First: f.First.In(start.Location()), Last: f.Last.In(start.Location()), N: f.Count, Source: f.Instance})
	}
	return known, nil
}

// othersFailures returns, for a live reader, the failed logins that the
// other instances sharing the state recorded, whose last failure is at
// since or later (report.Live.OthersFailures).
func (s *State) othersFailures(ctx context.Context, since time.Time) ([]detect.FailureRun, error) {
	rows, err := s.Store.Failures(ctx, since)
	if err != nil {
		return nil, err
	}
	var out []detect.FailureRun
	for _, f := range rows {
		if f.Instance != s.Instance {
			out = append(out, detect.FailureRun{IP: f.IP, First: f.First.In(since.Location()), Last: f.Last.In(since.Location()), N: f.Count, Source: f.Instance})
		}
	}
	return out, nil
}

// LiveFailures is the failed logins the state holds within the window
// before a live reader's first login or failure read (report.Live.Failures),
// within OpTimeout. While the history reads are paused (LiveHistory), it
// does not ask (report.ErrHistoryLater); a failure pauses them too, and
// the reader asks again later.
func (s *State) LiveFailures() func(start time.Time) ([]detect.FailureRun, error) {
	return func(start time.Time) ([]detect.FailureRun, error) {
		return s.liveFailures(func(ctx context.Context) ([]detect.FailureRun, error) { return s.failuresBefore(ctx, start) },
			"the failed logins of earlier runs: %w (the logins read meanwhile are paired with the failures this reader read; asked again once the state answers)")
	}
}

// LiveOthersFailures is the failed logins that the other mail servers
// (their daemons, their batch runs) recorded since, for a live reader
// (report.Live.OthersFailures), within OpTimeout; paused with the
// history reads, as LiveFailures.
func (s *State) LiveOthersFailures() func(since time.Time) ([]detect.FailureRun, error) {
	return func(since time.Time) ([]detect.FailureRun, error) {
		return s.liveFailures(func(ctx context.Context) ([]detect.FailureRun, error) { return s.othersFailures(ctx, since) },
			"the failed logins the other mail servers recorded: %w (asked again once the state answers)")
	}
}

// liveFailures asks read for a live reader, within OpTimeout, unless the
// history reads are paused (report.ErrHistoryLater); a failure pauses
// them, and is said with format (its %w the error).
func (s *State) liveFailures(read func(context.Context) ([]detect.FailureRun, error), format string) ([]detect.FailureRun, error) {
	if f := s.histFailed.Load(); f != 0 && time.Since(time.Unix(0, f)) < HistoryPause {
		return nil, report.ErrHistoryLater
	}
	var runs []detect.FailureRun
	err := Bound(context.Background(), OpTimeout, func(ctx context.Context) (err error) {
		runs, err = read(ctx)
		return err
	})
	if err != nil {
		s.NoteDown()
		if errors.Is(err, ErrNoAnswer) {
			s.histFrozen.Store(time.Now().UnixNano())
		}
		return nil, fmt.Errorf(format, err)
	}
	return runs, nil
}

// failureRows are a run's failed logins (runs by address), for the state,
// and the time before which the state's are out of every later run's
// window: the window before the first of them. Not those more than a day
// ahead of now (lines dated wrong): kept, they would drop this server's
// rows before them.
func (s *State) failureRows(fs []detect.FailureRun, now time.Time) ([]state.Failure, time.Time) {
	var out []state.Failure
	var first time.Time
	for _, f := range fs {
		if !now.IsZero() && f.First.After(now.Add(24*time.Hour)) {
			continue
		}
		out = append(out, state.Failure{Instance: s.Instance, IP: f.IP, First: f.First, Last: f.Last, Count: f.N})
		if first.IsZero() || f.First.Before(first) {
			first = f.First
		}
	}
	if first.IsZero() {
		return out, time.Time{}
	}
	return out, first.Add(-s.Window)
}

// ErrSiteHistory is in Recall's error when the accounts' histories were
// read, and the site's (the other accounts', for the places they share)
// could not be: the verdict has the accounts' own history, and counts
// the shared places over this run's accounts and their histories only.
var ErrSiteHistory = errors.New("the other accounts' history, for the places the site's accounts share, could not be read")

// SetDelivery records a delivery's result; a failure to record is
// reported (the delivery will then be tried again: a duplicate, never a
// loss).
func (s *State) SetDelivery(ctx context.Context, log *cli.Logger, d state.Delivery, status state.DeliveryStatus, msg string, attempted bool) bool {
	if err := Bound(ctx, OpTimeout, func(ctx context.Context) error {
		return s.Store.SetDelivery(ctx, d.Alert, d.Channel, d.Escalation, status, msg, attempted)
	}); err != nil {
		log.Errorf("record the delivery of alert %d on %s: %v", d.Alert, d.Channel, err)
		return false
	}
	return true
}

// Live is what a live reader records since its last commit: the logins
// (report.Live.TakeDeltas), the positions reached (by the names given, as
// parse's marks), those it expects to replace (its own last ones), and the
// anomalous accounts (new alerts, or evidence added to the open ones).
type Live struct {
	Deltas    []report.Delta
	Sharing   []report.SharingDelta
	Failures  []detect.FailureRun
	Marks     map[string]input.Mark
	Expect    map[string]state.Position
	Anomalies []*report.Account
	Rule      string
	Channels  []string
}

// CommitLive records what a live reader did since its last commit, in one
// transaction, and returns what was decided of each anomaly, and the
// positions saved (to expect at the next commit).
func (s *State) CommitLive(ctx context.Context, l *Live) (*state.Outcome, map[string]state.Position, error) {
	now := s.now()
	run := &state.Run{Instance: s.Instance, Now: now, Expect: l.Expect, Channels: l.Channels, RealertAfter: s.RealertAfter}
	for i := range l.Deltas {
		d := &l.Deltas[i]
		run.Logins = append(run.Logins, Login(d.User, &d.IP))
	}
	for _, d := range l.Sharing {
		run.Sharing = append(run.Sharing, SharingRow(d.User, d.Sharing))
	}
	run.Failures, run.FailuresBefore = s.failureRows(l.Failures, run.Now)
	saved := map[string]state.Position{}
	for name, m := range l.Marks {
		a := name
		if !strings.HasPrefix(name, "journal:") {
			var err error
			if a, err = filepath.Abs(name); err != nil {
				return nil, nil, err
			}
		}
		p := state.Position{Path: a, Dev: m.Dev, Ino: m.Ino, Offset: m.Offset, Size: m.Size, FP: m.FP, FPLen: m.FPLen, Updated: now}
		run.Positions = append(run.Positions, p)
		saved[a] = p
	}
	for _, a := range l.Anomalies {
		an, err := Anomaly(a, l.Rule, now)
		if err != nil {
			return nil, nil, err
		}
		run.Anomalies = append(run.Anomalies, an)
	}
	out, err := s.Store.Commit(ctx, run)
	if err != nil {
		return nil, nil, err
	}
	return out, saved, nil
}

// sharingOf is the state's row of what an account's logins showed of
// several people using it, for the detectors.
func sharingOf(sh *state.Sharing) detect.Sharing {
	return detect.Sharing{FarDays: sh.FarDays, NearDays: sh.NearDays, FarDay: sh.FarDay, NearDay: sh.NearDay, FarPair: sh.FarPair, NearPair: sh.NearPair}
}

// SharingRow is the state's row of what user's logins showed of several
// people using the account (state.Run.Sharing).
func SharingRow(user string, sh detect.Sharing) state.Sharing {
	return state.Sharing{User: user, FarDays: sh.FarDays, NearDays: sh.NearDays, FarDay: sh.FarDay, NearDay: sh.NearDay, FarPair: sh.FarPair, NearPair: sh.NearPair}
}
