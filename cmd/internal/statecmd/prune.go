package statecmd

import (
	"context"
	"fmt"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
	"github.com/loganom/loganom/pkg/state"
)

// DefaultPruneEvery is [STATE] prune_every's default: how often a daemon
// that writes the state (loganom postfix-sasl --follow, loganom-report
// --follow) prunes it, as loganom db prune does.
const DefaultPruneEvery = 24 * time.Hour

// DefaultBlockFor is [BLOCK] for's default: how long an automatic block
// lasts (reportcmd.DefaultBlockFor).
const DefaultBlockFor = 24 * time.Hour

// HintError is an error with a hint, which Fail prints after it.
type HintError struct {
	Err  error
	Hint string
}

func (e *HintError) Error() string { return e.Err.Error() }
func (e *HintError) Unwrap() error { return e.Err }

// CheckKeep refuses a config whose [STATE] keep is shorter than [BLOCK]
// for while [BLOCK] auto is on (a usage error, with a hint), before the
// state is opened; with --no-db there is nothing to prune, and nothing to
// check. What keeps a log read again (a batch run without --resume over
// mail.log.1, a replay) from blocking again an account that the
// postmaster unblocked is the record of the unblock and of the incident; a
// prune deletes both once they are older than keep, yet a login can block
// until for after it (the block lasts until its last login + for). With
// keep at least for, whatever is pruned is too old to block anyone; with
// keep shorter, the same lines read again block the account, and alert,
// again. A bad value of either key is left to the error that names it.
func CheckKeep(f *Flags, cfg *config.Config) error {
	if f.NoDB {
		return nil
	}
	s := &State{}
	if err := s.settings(cfg); err != nil {
		return nil
	}
	auto, _, err := cfg.Bool("BLOCK", "auto")
	if err != nil || !auto {
		return nil
	}
	blockFor, set, err := cfg.Duration("BLOCK", "for")
	if err != nil || set && blockFor < 0 {
		return nil
	}
	forText := "[BLOCK] for " + fmtAge(blockFor)
	if !set || blockFor == 0 {
		blockFor = DefaultBlockFor
		forText = "[BLOCK] for " + fmtAge(blockFor) + " (the default)"
	}
	if s.Keep >= blockFor {
		return nil
	}
	keep := setting(cfg, "STATE", "keep", s.Keep)
	return &HintError{
		Err: cli.Usagef("%s: %s is shorter than %s, with [BLOCK] auto = true: an unblock and its incident would be pruned while their logins can still block, and a log read again would block the account, and alert, again",
			cfg.Path, keep, forText),
		Hint: fmt.Sprintf("make [STATE] keep at least [BLOCK] for (keep = %s), or [BLOCK] for shorter", fmtAge(blockFor)),
	}
}

// WarnKeepLearn warns when [STATE] keep is shorter than [DETECT] learn
// (learn: the detectors' setting, defaults applied): the history forgets
// an account's places before the detectors would, so a place used
// between the two ago is new again (a low finding, or more with others).
// A warning, not a refusal: nothing is lost or done twice, and a site may
// want the history short.
//
// Call it once the state is open: without one, nothing is pruned.
func WarnKeepLearn(cfg *config.Config, learn time.Duration, log *cli.Logger) {
	if learn <= 0 {
		return
	}
	s := &State{}
	if err := s.settings(cfg); err != nil || s.Keep >= learn {
		return // a bad value: left to the error that names it
	}
	keep, lt := setting(cfg, "STATE", "keep", s.Keep), setting(cfg, "DETECT", "learn", learn)
	log.Warnf("%s: %s is shorter than %s: the history forgets an account's places before the detectors would, and a place last used between the two ago is new to the account again", cfg.Path, keep, lt)
	log.Hintf("make [STATE] keep at least [DETECT] learn (keep = %s), or [DETECT] learn shorter", fmtAge(learn))
}

// setting names a duration key with its value, for a message: "[STATE]
// keep 7d", with " (the default)" when the config leaves it out.
func setting(cfg *config.Config, sec, key string, d time.Duration) string {
	s := "[" + sec + "] " + key + " " + fmtAge(d)
	if _, set := cfg.String(sec, key); !set {
		s += " (the default)"
	}
	return s
}

// PruneDelay is how long after its start a daemon prunes the first time
// (or PruneEvery, when that is shorter): the log is followed at once, and
// what the start reads goes first.
const PruneDelay = time.Minute

// pruneTimeout bounds one prune: a database that never answers does not
// hold the pruner forever (it tries again at the next tick).
const pruneTimeout = 5 * time.Minute

// Prune deletes what is older than [STATE] keep (state.Store.Prune), as
// loganom db prune does: the history not seen since, the closed alerts and
// the block audit's changes as old. It returns the cutoff too.
func (s *State) Prune(ctx context.Context) (state.Pruned, time.Time, error) {
	before := s.now().Add(-s.Keep)
	p, err := s.Store.Prune(ctx, before)
	return p, before, err
}

// PruneWords says what a prune deleted, as loganom db prune and the
// daemons say it.
func PruneWords(p state.Pruned, before time.Time, keep time.Duration) string {
	s := fmt.Sprintf("pruned %s, %s and %s last seen before %s ([STATE] keep = %s)",
		cli.Plural(p.Addresses, "address", "addresses"), cli.Plural(p.Alerts, "closed alert", "closed alerts"),
		cli.Plural(p.Audit, "change of the block audit", "changes of the block audit"), date(before), fmtAge(keep))
	if p.Quiet > 0 {
		s += fmt.Sprintf("; %s quiet since then closed (pruned in turn %s from now)",
			cli.Plural(p.Quiet, "open alert", "open alerts"), fmtAge(keep))
	}
	return s
}

// PruneAfterRun prunes the state after a batch run that wrote it (run:
// what Commit returned; nil when the run recorded nothing, --dry-run,
// --no-notify or a state that failed, and a conflict, recorded nothing
// either), once its report is written and its alerts sent: when the last
// prune that the state records, by any process (a daemon, another mail
// server's run, loganom db prune), is [STATE] prune_every old or older, or
// never was. A cron job needs no loganom db prune. What it pruned is said
// at debug level only: cron mails whatever a job prints, and a quiet run
// stays quiet. A prune that fails is an error, with a hint; the run's
// verdict and exit code stay what they were (the next run tries again).
func (s *State) PruneAfterRun(log *cli.Logger, run *Run) {
	if s == nil || run == nil || run.Conflict || s.PruneEvery <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), pruneTimeout)
	defer cancel()
	now := s.now()
	before := now.Add(-s.Keep)
	p, done, err := s.Store.PruneIfDue(ctx, now, before, s.PruneEvery)
	switch {
	case err != nil:
		log.Errorf("prune the state: %v", err)
		log.Hintf("nothing was pruned, and this run's results are recorded; the next run tries again, or by hand: loganom db prune")
	case done:
		log.Debugf("%s", PruneWords(p, before, s.Keep))
	default:
		log.Debugf("not pruned: the state was pruned less than %s ago ([STATE] prune_every)", fmtAge(s.PruneEvery))
	}
	if s.OnPrune != nil && (done || err != nil) {
		s.OnPrune(p, err)
	}
}

// StartPruning prunes the state in a goroutine of its own, as loganom db
// prune does: PruneDelay after now (or PruneEvery, if shorter), then every
// PruneEvery; never when PruneEvery is 0. Each prune is logged (info);
// one that fails is logged as an error, with a hint, and the next is
// tried at the next tick: the daemon goes on. The store serialises the
// prune with the daemon's other writes (SQLite: BEGIN IMMEDIATE and the
// busy timeout; PostgreSQL: row locks, a conflict tried again), so it
// may run while the live commit does. stop ends it (an unfinished prune
// is cancelled and rolled back) and returns when it has ended.
func (s *State) StartPruning(log *cli.Logger) (stop func()) {
	if s == nil || s.PruneEvery <= 0 {
		return func() {}
	}
	after := s.PruneAfter
	if after == nil {
		after = time.After
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait := min(PruneDelay, s.PruneEvery)
		for {
			select {
			case <-ctx.Done():
				return
			case <-after(wait):
			}
			wait = s.PruneEvery
			pctx, pcancel := context.WithTimeout(ctx, pruneTimeout)
			p, before, err := s.Prune(pctx)
			pcancel()
			if ctx.Err() != nil && err != nil {
				return // stopped meanwhile: nothing was pruned, and that is no error
			}
			if err != nil {
				log.Errorf("prune the state: %v", err)
				log.Hintf("nothing was pruned; tried again in %s ([STATE] prune_every), or by hand: loganom db prune", fmtAge(s.PruneEvery))
			} else {
				log.Infof("%s", PruneWords(p, before, s.Keep))
			}
			if s.OnPrune != nil {
				s.OnPrune(p, err)
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
