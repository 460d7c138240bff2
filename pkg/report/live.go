package report

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

// TypeAlert is the type of the record a live report emits when an account
// becomes anomalous (loganom-report --follow).
const TypeAlert = "alert"

// TypePolicyLogin is the type of a login the policy service saw (an
// authenticated mail: pkg/policy's OnLogin): judged as a login of the log.
const TypePolicyLogin = "policy_login"

// Live is the report stage of a reader that follows the log: it judges
// each login as it comes, with the same detectors as the batch (one
// detect.Account per account, fed login by login in amortised constant
// time), and tells OnAlert at once when a login makes an account
// anomalous: when its verdict gains a finding at or above Rule.Alert (with
// the original rule: when it reaches the thresholds), and the thresholds
// on addresses, countries and networks are met.
//
// Memory is bounded by the window, not by the time the reader runs:
// an account's addresses older than the window are dropped, and an account
// idle for longer than the window is forgotten (with a state, History
// gives it back when it returns; without one, its places are kept as
// history rows, a row per address, until older than [DETECT] learn).
// Every window, an account's detector starts again from its history, as
// a cron run over the new part of the log would (so that old findings
// and counts do not weigh for ever).
//
// Live is not safe for concurrent use: Process, Failure and Tick run on
// the pipeline's goroutine.
type Live struct {
	Rule Rule
	// History returns what the state remembers of an account the reader
	// has not seen yet, or has forgotten (nil: no state). An error is
	// given to OnError (ErrHistoryLater is not), and the account is
	// judged without its history, as a new account, for now: its logins
	// are kept (MaxReplay at most), and it is asked for again at the
	// next login read (of any account) and at the end of the input; once
	// it comes, the account's logins are judged again with it, and what
	// that finds more severe than what was alerted is alerted.
	History func(user string) ([]detect.Known, error)
	// OnAlert is told of an anomalous account, with its verdict, its
	// addresses within the window and whether this is the first alert of
	// this reader for it (ErrAlertedBefore: it was told before this
	// reader, and is not emitted). It runs on the pipeline's goroutine, before
	// the next record: a slow OnAlert delays the reading. The account
	// must not be kept after it returns (copy it, or marshal it).
	OnAlert func(a *Account) error
	// Site calls add with each row of the history of the site's accounts
	// (nil: no state; ErrHistoryLater: not asked now), for the census:
	// the places common to the site's accounts are counted over them
	// all, as a batch run with a state counts them (Report.KnowSite),
	// not over the accounts of the window alone. Asked at the first
	// census, then every SiteEvery (the clock); an error is given to
	// OnError, and the census goes on with the rows it had.
	Site func(add func(user string, k *detect.Known)) error
	// Sharing returns what the state remembers that an account's logins
	// showed of several people using it (detect.Sharing; nil: no state),
	// asked with its History, once that answered. An error is taken as
	// History's: the account is judged without both, and again with them
	// once they come.
	Sharing func(user string) (detect.Sharing, error)
	// Recent calls add with each row of history written since it was last
	// called (nil: no state; ErrHistoryLater: not asked now), by any
	// process, with the whitelist's rule that covers its address
	// (trusted; "": none): each row grown by more than this reader's own
	// logins holds another mail server's, or a batch run's, which the
	// account, held in memory since its history was read, is judged with
	// too, among its own, as a batch run with a state judges them
	// (Report.Know). Asked every RecentEvery (the clock) at most, before a
	// login is judged and when the input is idle (Poll).
	Recent func(add func(user, trusted string, k *detect.Known)) error
	// Failures returns the failed logins that the state holds (earlier
	// runs', this reader's before a restart, the other mail servers'
	// batch runs') within the window before start, the time of the first
	// login or failure read (nil: no state). Asked once, then; the
	// failures read are kept for the state (TakeFailures).
	Failures func(start time.Time) ([]detect.FailureRun, error)
	// OthersFailures returns the failed logins that the other instances
	// sharing the state (the other mail servers' daemons and batch runs)
	// recorded, whose last failure is at since or later (nil: no state;
	// ErrHistoryLater: not asked now): a thief's guesses read on one mail
	// server, then his login on this one. Asked once Failures answered,
	// every RecentEvery at most (the clock), before a login is judged and
	// when the input is idle (Poll); a run given again, grown, adds the
	// failures it gained only.
	OthersFailures func(since time.Time) ([]detect.FailureRun, error)
	// OnError is told of the errors of History, Sharing, Site, Recent,
	// Failures and OthersFailures.
	OnError func(error)
	// Now is the clock (nil: time.Now), for tests.
	Now func() time.Time

	site     *detect.Site
	accounts map[string]*live
	now      time.Time // the latest log time seen
	// failedTo: the latest failed login's time (Failure), which the
	// logs read reach at their end too (Flush), as a batch's (until)
	failedTo time.Time
	ticked   time.Time // the log time of the last Tick
	tickedAt time.Time // and when it was (the clock)
	censusAt time.Time // when the last census was (the clock)
	// others: the census of the site's history (Site), and when it was
	// read (the clock); each census adds the accounts of the window to
	// it, until it is read again
	others   *detect.Census
	othersAt time.Time
	census   time.Time // when the common places were last counted (log time)
	recentAt time.Time // when Recent was last asked (the clock)
	// zone: the log's, that of the last login read, in which the other
	// processes' logins (Recent, later rows) are judged and shown, as a
	// batch run judges them (Report.judge; nil: the state's times' own)
	zone *time.Location
	// withLater: the accounts given rows to judge later (live.later),
	// judged with them when the input is idle (Poll); readAt: when a
	// login was last read (the clock: caughtUp)
	withLater []*live
	readAt    time.Time
	pending   map[string]*Delta // by user and address
	// unrecorded: the accounts with deltas not taken yet
	unrecorded map[string]bool
	deltas     []*Delta
	changed    map[*live]bool // anomalous accounts with logins since Changed
	// snapshots: such accounts as they were before their detector started
	// again
	snapshots []*Account
	// failuresAsked: Failures answered; failStart: the time of the first
	// login or failure read, what it is asked for; failAskedAt: when it
	// was last asked (the clock), again at most every HistoryRetry
	failuresAsked bool
	failStart     time.Time
	failAskedAt   time.Time
	// fails: the failed logins read, as runs by address, within the
	// window (Tick drops the older): a run goes on across TakeFailures,
	// and is taken whole again as it grows (the state keeps a run's
	// larger count: a run split by a commit would lose or double its
	// failures); failLast: an address's last run there; failAt: a run
	// by address and first failure (PutBackFailures); failDirty: how
	// many are to be taken
	fails     []failNote
	failLast  map[string]int
	failAt    map[failKey]int
	failDirty int
	// stateFails: the runs of failed logins the state gave (Failures,
	// OthersFailures), by instance, address and first failure, with how
	// far and how many of each the detectors have; failOthersAt: when
	// OthersFailures was last asked (the clock), failFullAt: last asked
	// for the whole window; failReach: how far the logs read reached at
	// the last answer
	stateFails   map[stateFailKey]stateFail
	failOthersAt time.Time
	failFullAt   time.Time
	failReach    time.Time

	seen atomic.Int64 // read by the deliveries' goroutine
	// fromOthers: the logins of other processes judged (OtherLogins)
	fromOthersN atomic.Int64
	// counted: the accounts counted in seen, forgotten since or not (one
	// met again is not counted again)
	counted map[string]struct{}
	// waiting: the accounts judged without their history, in the order
	// met; retried: when they were last asked for (the clock); floor:
	// while an account's logins are judged again, the severity already
	// alerted (not alerted again)
	waiting []*live
	retried time.Time
	floor   detect.Severity
	// due: the accounts idle for the window whose verdicts that wait
	// (detect's Account.Until) Tick decided, to judge with the next emit
	// (judgeDue) before they are forgotten
	due []*live
	// reached: live.reached of the accounts forgotten (Tick), by user,
	// for when they are met again (load); forgotten after [DETECT] learn
	reached map[string]time.Time
	// answered: how many histories the state gave (load's and
	// retryHistory's): one that fails again after others came is the
	// account's own failure, not the state's
	answered int
}

// ErrAlertedBefore is what OnAlert returns for an alert that was told
// already (the state's incident open for the account, at this severity
// or more, alerted by an earlier run: a daemon restarted): it is not
// emitted. It is not an error.
var ErrAlertedBefore = errors.New("alerted before")

// ErrHistoryLater is what History returns when it did not ask the state
// (it gave up asking for a while, after a failure): the account is judged
// without its history for now, and again with it later. It is not told to
// OnError.
var ErrHistoryLater = errors.New("the history is asked for later")

// MaxReplay is how many logins of an account judged without its history
// the reader keeps, to judge them again once the history comes. Past it,
// the account is not judged again: its history joins what it learnt, from
// then on.
const MaxReplay = 1000

// HistoryRetry is the least time (on the clock) between two rounds of
// asking the state again for the histories that failed.
const HistoryRetry = time.Second

// live is an account as the live report keeps it.
type live struct {
	acct  *Account
	det   *detect.Account
	since time.Time      // when det started (log time)
	known []detect.Known // the history before since
	// loaded: when the account was met (log time); without: it was
	// judged without its history (History failed), which is still to be
	// asked for; replay: its logins since, to judge again then (nil
	// once more than MaxReplay: overflow); highest: the most severe
	// alert told of it since it was met.
	loaded   time.Time
	without  bool
	overflow bool
	replay   []*record.Record
	highest  detect.Severity
	// failedAt: l.answered when its history last failed, plus one (0:
	// it did not)
	failedAt int
	// replaying: its logins are being judged again (rejudge); its last
	// is that of the login judged, not of the latest read: a Tick then
	// (OnAlert's commit calls it) must not take it for idle
	replaying bool
	// due: it is in Live.due, its verdict that waited decided and not
	// judged yet: a Tick before judgeDue (a commit's, which an alert
	// makes) must not forget it
	due bool
	// judging: its verdict that waited is judged before its detector
	// starts again (login), its last login not yet the one read: a Tick
	// then (OnAlert's commit calls it) must not take it for idle
	judging bool
	// reached: the latest time its verdicts that wait were judged at
	// (detect's Account.Until): its detector started again, from the
	// rows of the logins judged so, is told (Reached), and does not
	// judge them again
	reached time.Time
	// found: det's findings at or above the alert when last judged;
	// alerted: the severity last alerted since det started (an account
	// is alerted again only when its verdict grows more severe);
	// anomalous: the account was reported (OnAlert) since det started.
	found     int
	alerted   detect.Severity
	anomalous bool
	// carried: the reasons of an incident that goes on across a start
	// of the detector (the verdict of the period before, when it was
	// anomalous); they are kept, and the severity alerted with them, for
	// as long as each period is anomalous.
	carried        []detect.Reason
	carriedAlerted detect.Severity
	last           time.Time // its latest login
	// sharing: what its logins showed of several people using it
	// (detect.Sharing) before det started: the state's, and each period's
	// since, carried across the starts of the detector as the history's
	// rows are (they do not keep it); recorded: as the state last had it
	// (TakeSharing)
	sharing, recorded detect.Sharing
	counted           bool        // counted in Accounts
	folded            map[*IP]int // the logins of each address already in known
	// inState: by address, the row of history as the state holds it
	// (its logins and last) once what this reader told it is recorded:
	// as read with the account's history, with its logins since (note)
	// and the other processes' (Recent); nil while its history was not
	// read
	inState map[string]stateRow
	// later: the logins of other processes that this reader did not
	// tell, to judge among its own in time order (as Report.Know's later
	// for a batch run), by their last login: the rows of its history first
	// seen after it was met (or, its history read late, after its first
	// login judged again), and the rows grown (Recent) ahead of the log
	// read, while it is read behind the clock (a backlog); queued: it is
	// in Live.withLater
	later  []laterRow
	queued bool
	// givenEarlier: by address, the history's row that an incident's
	// evidence was given as an earlier address (snapshot); read since,
	// the address is given with it, from the history's first login, as a
	// batch run gives it (and the state's evidence, counting on from the
	// same first login, adds the logins read: Commit's mergeEvidence)
	givenEarlier map[string]detect.Known
}

// laterRow is a row of history of live.later: the logins of other
// processes (Count) from its address, and the whitelist's rule of it.
type laterRow struct {
	trusted string
	k       detect.Known
}

// stateRow is a row of an account's history as the state holds it
// (live.inState).
type stateRow struct {
	n    int64
	last time.Time
}

// RecentEvery is how often (the clock) the live report asks the state for
// the rows of history written since (Live.Recent); a variable for tests.
var RecentEvery = 30 * time.Second

// Delta is what an account did from one address since the last
// TakeDeltas: a row to add to the history.
type Delta struct {
	User string
	IP   IP // Count, First, Last: these logins only; the enrichment as last seen
}

// NewLive makes a live report stage.
func NewLive(rule Rule) *Live {
	r := New(rule) // the same defaults
	l := &Live{Rule: r.Rule, accounts: map[string]*live{}, pending: map[string]*Delta{}, unrecorded: map[string]bool{}, changed: map[*live]bool{}}
	if !l.Rule.Original {
		l.site = detect.NewSite(l.Rule.Detect) // not Deferred: failures are filed as they come
	}
	return l
}

// Accounts is the number of accounts seen with logins after the whitelist
// (each once, an account forgotten and met again too).
func (l *Live) Accounts() int { return int(l.seen.Load()) }

// Tracked is the number of accounts held in memory.
func (l *Live) Tracked() int { return len(l.accounts) }

// OtherLogins is how many logins of the accounts it held the reader
// learnt from the state that other processes recorded (the other mail
// servers', batch runs'), and judged.
func (l *Live) OtherLogins() int64 { return l.fromOthersN.Load() }

// Failure records a failed login from ip at t, for the detectors.
func (l *Live) Failure(ip string, t time.Time) {
	if l.site != nil && ip != "" && !t.IsZero() {
		l.askFailures(t)
		// not the reader's time: a parser's failures may come ahead of
		// the logins still being looked up
		l.site.Failures.Add(ip, t, t, 1)
		if l.Failures != nil {
			l.noteFailure(detect.FailureRun{IP: ip, First: t, Last: t, N: 1})
		}
	}
	// (how far the logs read reach, for Flush only: as a batch's until)
	if t.After(l.failedTo) && t.Before(l.clock().Add(24*time.Hour)) {
		l.failedTo = t
	}
}

// askFailures gives the detectors the failures the state holds within
// the window before the first login or failure read (Failures): a
// thief's failures before a restart, or read by a batch run before this
// reader started, then his login. t is the time of a login or failure
// read (zero: none, asked again only). Asked at the first, and again, at
// most every HistoryRetry, until the state answers (logins judged
// meanwhile are paired with the failures read).
func (l *Live) askFailures(t time.Time) {
	if l.failuresAsked || l.Failures == nil || l.site == nil {
		return
	}
	if l.failStart.IsZero() {
		l.failStart = t
	}
	if l.failStart.IsZero() || !l.failAskedAt.IsZero() && l.clock().Sub(l.failAskedAt) < HistoryRetry {
		return
	}
	l.failAskedAt = l.clock()
	runs, err := l.Failures(l.failStart)
	if !l.failuresAnswered(err) {
		return
	}
	l.failuresAsked = true
	// (the other instances' runs of the window, as of now: asked again
	// from here, OthersFailures)
	l.failOthersAt, l.failFullAt, l.failReach = l.failAskedAt, l.failAskedAt, l.failStart
	l.knowFailures(runs)
}

// failuresAnswered tells whether the state answered a question for the
// failed logins (err nil); an error is told (OnError), but not
// ErrHistoryLater: not asked now.
func (l *Live) failuresAnswered(err error) bool {
	if err != nil && !errors.Is(err, ErrHistoryLater) && l.OnError != nil {
		l.OnError(err)
	}
	return err == nil
}

// OthersLag: a run of failed logins that another instance recorded is
// asked for again (OthersFailures) while its last failure is within this
// of how far the logs read reached when last asked; OthersFullEvery (the
// clock), all runs of the window are: those of a mail server whose log
// lags further behind.
const (
	OthersLag       = time.Hour
	OthersFullEvery = 10 * time.Minute
)

// othersFailures gives the detectors the failed logins that the other
// instances recorded since Failures answered (OthersFailures): at most
// every RecentEvery.
func (l *Live) othersFailures() {
	if !l.failuresAsked || l.OthersFailures == nil || l.site == nil || l.Rule.Detect.Failures < 0 {
		return // (< 0: [DETECT] failures = 0, off)
	}
	clock := l.clock()
	if !l.failOthersAt.IsZero() && clock.Sub(l.failOthersAt) < RecentEvery {
		return
	}
	// (the logins read: a failure's line dated ahead, which Failure
	// takes up to a day past the clock, would move since past the runs)
	reach := l.now
	if reach.IsZero() {
		return
	}
	l.failOthersAt = clock
	since, full := reach.Add(-l.Rule.Detect.Window), true
	if !l.failFullAt.IsZero() && clock.Sub(l.failFullAt) < OthersFullEvery {
		since, full = maxTime(since, l.failReach.Add(-OthersLag)), false
	}
	runs, err := l.OthersFailures(since)
	if !l.failuresAnswered(err) {
		return
	}
	if full {
		l.failFullAt = clock
	}
	l.failReach = reach
	l.knowFailures(runs)
}

type stateFailKey struct {
	source, ip string
	first      int64
}

type stateFail struct {
	last time.Time
	n    int
}

// knowFailures files the runs of failed logins the state gave (Failures,
// OthersFailures) with the detectors: a run given before, grown since
// (another mail server's run goes on), adds the failures it gained, from
// its last failure known; one given again as it was, none.
func (l *Live) knowFailures(runs []detect.FailureRun) {
	if l.stateFails == nil {
		l.stateFails = map[stateFailKey]stateFail{}
	}
	for _, r := range runs {
		if r.IP == "" || r.N <= 0 || r.First.IsZero() {
			continue
		}
		ip := r.IP
		if a, err := netip.ParseAddr(ip); err == nil {
			ip = a.Unmap().String()
		}
		k := stateFailKey{r.Source, ip, r.First.UnixNano()}
		last := maxTime(r.Last, r.First)
		was, ok := l.stateFails[k]
		switch {
		case !ok:
			l.site.Failures.Known([]detect.FailureRun{{IP: ip, First: r.First, Last: last, N: r.N}})
		case r.N > was.n:
			l.site.Failures.Known([]detect.FailureRun{{IP: ip, First: was.last, Last: maxTime(last, was.last), N: r.N - was.n}})
		default:
			continue
		}
		k.source, k.ip = strings.Clone(k.source), strings.Clone(k.ip)
		l.stateFails[k] = stateFail{maxTime(last, was.last), max(r.N, was.n)}
	}
}

// failNote is a run of failed logins read (Live.fails).
type failNote struct {
	run   detect.FailureRun
	dirty bool // to be taken (TakeFailures)
}

type failKey struct {
	ip    string
	first int64
}

// noteFailure keeps a failed login read, for the state (TakeFailures):
// runs by address, each failure within the detectors' gap of the one
// before (a bot's attempts seconds apart: one run).
func (l *Live) noteFailure(f detect.FailureRun) {
	if a, err := netip.ParseAddr(f.IP); err == nil {
		f.IP = a.Unmap().String() // (as the detectors and the batch write it)
	}
	if k, ok := l.failLast[f.IP]; ok {
		r := &l.fails[k]
		if !f.First.Before(r.run.Last) && f.First.Sub(r.run.Last) <= detect.FailGap {
			r.run.Last = maxTime(r.run.Last, f.Last)
			r.run.N += f.N
			l.dirty(r)
			return
		}
	}
	f.IP = strings.Clone(f.IP)
	l.addFailNote(f, true)
}

// addFailNote adds a run to fails, to be taken, as its address's last
// (noteFailure) or not.
func (l *Live) addFailNote(f detect.FailureRun, last bool) {
	if l.failLast == nil {
		l.failLast, l.failAt = map[string]int{}, map[failKey]int{}
	}
	if _, ok := l.failLast[f.IP]; last || !ok {
		l.failLast[f.IP] = len(l.fails)
	}
	l.failAt[failKey{f.IP, f.First.UnixNano()}] = len(l.fails)
	l.fails = append(l.fails, failNote{run: f, dirty: true})
	l.failDirty++
}

func (l *Live) dirty(r *failNote) {
	if !r.dirty {
		r.dirty = true
		l.failDirty++
	}
}

// TakeFailures returns the runs of failed logins read that grew since the
// last call, whole, for the state (recorded with the deltas: TakeDeltas).
func (l *Live) TakeFailures() []detect.FailureRun {
	if l.failDirty == 0 {
		return nil
	}
	out := make([]detect.FailureRun, 0, l.failDirty)
	for i := range l.fails {
		if r := &l.fails[i]; r.dirty {
			out = append(out, r.run)
			r.dirty = false
		}
	}
	l.failDirty = 0
	return out
}

// PutBackFailures returns what TakeFailures took and could not be
// recorded: the next TakeFailures returns it again, grown since or not
// (a run and its taken self are one: the larger count).
func (l *Live) PutBackFailures(fs []detect.FailureRun) {
	for _, f := range fs {
		if k, ok := l.failAt[failKey{f.IP, f.First.UnixNano()}]; ok {
			r := &l.fails[k]
			r.run.Last = maxTime(r.run.Last, f.Last)
			r.run.N = max(r.run.N, f.N)
			l.dirty(r)
			continue
		}
		l.addFailNote(f, false) // (dropped since by Tick: taken once more)
	}
}

// forgetFailures drops the runs of failed logins read that end before
// cut, taken or not: they are out of every later login's window (memory
// stays bounded while the state is down).
func (l *Live) forgetFailures(cut time.Time) {
	// (a run the state gave is remembered a window longer than the
	// detectors need it: merged there with this reader's own failures,
	// it may outlive the cut, and another server's run that grows late
	// would come back unknown, counted again whole)
	old := cut.Add(-l.Rule.Detect.Window)
	maps.DeleteFunc(l.stateFails, func(_ stateFailKey, f stateFail) bool { return f.last.Before(old) })
	k := 0
	for _, r := range l.fails {
		if r.run.Last.Before(cut) {
			if r.dirty {
				l.failDirty--
			}
			continue
		}
		l.fails[k] = r
		k++
	}
	if k == len(l.fails) {
		return
	}
	clear(l.fails[k:])
	l.fails = l.fails[:k]
	clear(l.failLast)
	clear(l.failAt)
	for i, r := range l.fails {
		l.failLast[r.run.IP] = i // (in the order added: the last is the last)
		l.failAt[failKey{r.run.IP, r.run.First.UnixNano()}] = i
	}
}

// advance moves the reader's time on to t, the time of a login read; a
// time more than a day ahead of the clock (a bad line) does not move it:
// it would make every account look idle.
func (l *Live) advance(t time.Time) {
	if t.After(l.now) && t.Before(l.clock().Add(24*time.Hour)) {
		l.now = t
	}
}

func (l *Live) clock() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Process judges a login at once; it records a failed login (Failure).
// An alert is told to OnAlert and, when emit is not nil, emitted as a
// record of type alert (loganom-report --follow). Other records are
// dropped.
func (l *Live) Process(r *record.Record, emit record.Emit) error {
	switch r.Type {
	case record.TypeLogin, TypePolicyLogin:
	case record.TypeAuthFailure:
		l.Failure(r.IP, r.Time)
		return nil
	default:
		return nil
	}
	if r.User == "" || r.IP == "" {
		return nil
	}
	trusted := r.FilteredBy
	if strings.HasPrefix(trusted, "email_skip:") {
		return nil
	}
	t := r.Time
	if t.IsZero() {
		return nil // a login without a time cannot be placed in a window
	}
	l.askFailures(t)
	l.advance(t)
	l.othersFailures()
	l.zone = t.Location()
	l.readAt = l.clock()
	if err := l.judgeDue(emit); err != nil {
		return err
	}
	if err := l.retryHistory(emit, false); err != nil {
		return err
	}
	if err := l.fromOthers(emit, false); err != nil {
		return err
	}
	user := record.CanonicalUser(r.User, l.Rule.CaseSensitive)
	la := l.accounts[user]
	if la == nil {
		la = l.load(user, t)
	}
	if la.without && !la.overflow {
		if len(la.replay) < MaxReplay {
			la.replay = append(la.replay, replayOf(r))
		} else {
			la.overflow, la.replay = true, nil
		}
	}
	return l.login(la, user, r, trusted, emit, false)
}

// replayOf is what judging r again needs of it.
func replayOf(r *record.Record) *record.Record {
	return &record.Record{Type: r.Type, Time: r.Time, User: r.User, IP: r.IP, Method: r.Method, FilteredBy: r.FilteredBy,
		RDNS: r.RDNS, RDNSVerified: r.RDNSVerified, Country: r.Country, City: r.City, HasLoc: r.HasLoc, Lat: r.Lat, Lon: r.Lon,
		AccuracyKM: r.AccuracyKM, ASN: r.ASN, Org: r.Org, AddrID: r.AddrID}
}

// login judges the login r of la's account (user); again: it is judged
// again (its history come late), and was recorded and counted the first
// time.
func (l *Live) login(la *live, user string, r *record.Record, trusted string, emit record.Emit, again bool) error {
	t := r.Time
	if len(la.later) > 0 {
		if err := l.judgeLater(la, t, emit); err != nil {
			return err
		}
	}
	if la.det != nil && la.det.Waiting() && t.Sub(la.since) > l.Rule.Detect.Window {
		// what waited for the window to pass is judged before the
		// detector starts again (and forgets it)
		l.until(la, t)
		la.judging = true
		err := l.judge(la, emit)
		la.judging = false
		if err != nil {
			return err
		}
	}
	if la.det == nil && !l.Rule.Original || t.Sub(la.since) > l.Rule.Detect.Window {
		l.restart(la, t)
	}
	ip, first := la.acct.add(r, trusted)
	meth := detect.MethodBit(r.Method)
	ip.Methods |= meth
	if first && !la.counted {
		l.count(la)
	}
	la.last = maxTime(la.last, t)
	if !again {
		l.note(user, ip, t, meth)
		la.told(ip.IP, t)
	}
	if la.anomalous && (trusted == "" || slices.Contains(la.acct.IPs, ip)) {
		l.changed[la] = true
	}
	w := ip.Where()
	w.Methods = meth
	if la.det != nil {
		la.det.Login(&w, t, t, 1)
	}
	if l.Rule.Original && trusted != "" {
		return nil
	}
	// a whitelisted login is judged too: it may end an impossible trip
	// (the owner at home, minutes after the thief abroad)
	if err := l.judge(la, emit); err != nil {
		return err
	}
	if !again && l.now.Sub(l.ticked) >= TickEvery && l.clock().Sub(l.tickedAt) >= time.Second {
		l.Tick(time.Time{})
	}
	return nil
}

// TickEvery is how often, in log time, Process calls Tick by itself, so
// that forgetting and counting the common places follow the log however
// fast it is read (a backlog read in seconds).
const TickEvery = 10 * time.Minute

// note adds the login, with the SASL mechanism meth, to the history's
// delta of its address.
func (l *Live) note(user string, ip *IP, t time.Time, meth uint8) {
	k := user + "\x00" + ip.IP
	d := l.pending[k]
	if d == nil {
		d = &Delta{User: user, IP: *ip}
		d.IP.Count, d.IP.First, d.IP.Last = 0, t, t
		l.pending[k] = d
		l.deltas = append(l.deltas, d)
		l.unrecorded[user] = true
	}
	d.IP.Count++
	d.IP.Methods |= meth
	if t.Before(d.IP.First) {
		d.IP.First = t
	}
	if t.After(d.IP.Last) {
		d.IP.Last = t
		// the enrichment as last seen
		d.IP.Country, d.IP.City, d.IP.RDNS, d.IP.RDNSVerified = ip.Country, ip.City, ip.RDNS, ip.RDNSVerified
		d.IP.ASN, d.IP.Org, d.IP.HasLoc, d.IP.Lat, d.IP.Lon, d.IP.AccuracyKM = ip.ASN, ip.Org, ip.HasLoc, ip.Lat, ip.Lon, ip.AccuracyKM
	}
}

// load starts an account first seen at t, from its history.
func (l *Live) load(user string, t time.Time) *live {
	la := &live{acct: newAccount(user), loaded: t}
	l.accounts[la.acct.User] = la
	if r, ok := l.reached[la.acct.User]; ok {
		la.reached = r
		delete(l.reached, la.acct.User)
	}
	if l.History != nil {
		known, err := l.History(la.acct.User)
		if err == nil {
			// (its sharing, asked with it: an account judged without
			// the state's days is judged again with them, as without
			// its history)
			if la.sharing, err = l.sharingOf(la.acct.User); err != nil {
				known = nil
			}
		}
		if err != nil {
			if !errors.Is(err, ErrHistoryLater) {
				if l.OnError != nil {
					l.OnError(err)
				}
				la.failedAt = l.answered + 1
			}
			if !l.Rule.Original { // the original's verdicts need none
				la.without = true
				l.waiting = append(l.waiting, la)
				l.retried = l.clock() // just asked
			}
		} else {
			l.answered++
			la.recorded = la.sharing
			l.readState(la, known, t, nil)
		}
		la.known = knownBefore(known, t)
	}
	l.start(la, t)
	l.queue(la)
	return la
}

// sharingOf asks the state what the account's logins showed of several
// people using it (Sharing), for load and retryHistory, which take an
// error as History's.
func (l *Live) sharingOf(user string) (detect.Sharing, error) {
	if l.Sharing == nil || l.Rule.Original {
		return detect.Sharing{}, nil
	}
	return l.Sharing(user)
}

// SharingDelta is what an account's logins showed of several people using
// it, grown since the state last recorded it (TakeSharing).
type SharingDelta struct {
	User    string
	Sharing detect.Sharing
	was     detect.Sharing
}

// TakeSharing returns, by user, what the accounts' logins showed of
// several people using them, where it grew since the state last recorded
// it (or was told it: Sharing), to record with the deltas (TakeDeltas);
// taken, it counts as recorded until PutBackSharing.
func (l *Live) TakeSharing() []SharingDelta {
	var out []SharingDelta
	for user, la := range l.accounts {
		// (judged without its history: without the state's days too,
		// which the rejudge gives it; merged with them, its own would
		// have the state take its last day for counted)
		if !unrecordedSharing(la) {
			continue
		}
		sh := la.det.Sharing()
		out = append(out, SharingDelta{User: user, Sharing: sh, was: la.recorded})
		la.recorded = sh
	}
	slices.SortFunc(out, func(x, y SharingDelta) int { return strings.Compare(x.User, y.User) })
	return out
}

// unrecordedSharing: what la's logins showed of several people using it
// grew since the state last recorded it (TakeSharing takes it): judged
// again with its history come late, after its logins were recorded.
func unrecordedSharing(la *live) bool {
	if la.det == nil || la.without {
		return false
	}
	sh := la.det.Sharing()
	return !sh.Zero() && sh != la.recorded
}

// PutBackSharing returns what TakeSharing took and could not be recorded:
// the next TakeSharing returns it again (grown, perhaps).
func (l *Live) PutBackSharing(ds []SharingDelta) {
	for _, d := range ds {
		if la := l.accounts[d.User]; la != nil && la.recorded == d.Sharing {
			la.recorded = d.was
		}
	}
}

// knownBefore is the history rows of addresses first used before t, as
// they were at t.
func knownBefore(known []detect.Known, t time.Time) []detect.Known {
	var out []detect.Known
	for _, k := range known {
		if k.First.Before(t) || k.First.IsZero() {
			if k.Last.After(t) {
				k.Last, k.Cut = t, true
			}
			out = append(out, k)
		}
	}
	return out
}

// retryHistory asks again for the histories of the accounts judged
// without theirs (at most once every HistoryRetry, unless final: the end
// of the input), and judges each one's logins again with it; it stops at
// the first that fails (the state is still down).
func (l *Live) retryHistory(emit record.Emit, final bool) error {
	if len(l.waiting) == 0 || !final && l.clock().Sub(l.retried) < HistoryRetry {
		return nil
	}
	l.retried = l.clock()
	for len(l.waiting) > 0 {
		la := l.waiting[0]
		if l.accounts[la.acct.User] != la || !la.without {
			l.waiting = l.waiting[1:] // forgotten since
			continue
		}
		known, err := l.History(la.acct.User)
		var sh detect.Sharing
		if err == nil {
			sh, err = l.sharingOf(la.acct.User)
		}
		if errors.Is(err, ErrHistoryLater) {
			return nil
		}
		l.waiting = l.waiting[1:]
		if err != nil {
			if l.OnError != nil {
				l.OnError(err)
			}
			if la.failedAt > 0 && l.answered+1 > la.failedAt {
				// failed again, the state having given others
				// since: this account's history cannot be read (a
				// query too slow for it); it stays judged without
				// it, as the accounts behind it would be
				la.without, la.replay = false, nil
			} else {
				// the others first: one account's failure (the state
				// then asked for nothing for a while) must not keep
				// theirs waiting for ever
				la.failedAt = l.answered + 1
				l.waiting = append(l.waiting, la)
			}
			return nil
		}
		l.answered++
		la.sharing, la.recorded = sh, sh
		if err := l.rejudge(la, known, emit); err != nil {
			return err
		}
	}
	return nil
}

// rejudge judges again the logins of la's account, met without its
// history, with it (known); what it finds more severe than what was
// alerted of the account is alerted. An account whose logins were too many
// to keep learns its history from now on.
func (l *Live) rejudge(la *live, known []detect.Known, emit record.Emit) error {
	user := la.acct.User
	la.without = false
	told := l.toldSince(la)
	l.readState(la, known, la.loaded, told)
	known = l.unrecordedSince(la, told, knownBefore(known, la.loaded))
	if la.overflow {
		la.known = append(known, la.known...)
		l.restart(la, maxTime(la.last, la.since))
		l.queue(la)
		return nil
	}
	if l.changed[la] {
		// what the state has not recorded yet of its incident
		if a := l.snapshot(la); a != nil {
			l.snapshots = append(l.snapshots, a)
		}
		delete(l.changed, la)
	}
	again := &live{acct: newAccount(user), loaded: la.loaded, counted: la.counted, highest: la.highest, sharing: la.sharing, recorded: la.recorded, inState: la.inState,
		later: la.later}
	l.queue(again)
	again.known = known
	l.accounts[user] = again
	l.start(again, la.loaded)
	l.floor = la.highest
	again.replaying = true
	defer func() { l.floor, again.replaying = detect.None, false }()
	for _, r := range la.replay {
		if err := l.login(again, user, r, r.FilteredBy, emit, true); err != nil {
			return err
		}
	}
	// what was alerted of its window (the same logins, started at the
	// same times) was alerted: the next login tells only what is more
	// severe, as it would have judged without its history
	again.alerted = max(again.alerted, la.alerted)
	return nil
}

// unrecordedSince returns the history rows known (of addresses used
// before la's account was met) without the logins since then that the
// state recorded meanwhile: the commits that record them go on while the
// history is not asked for (see History), and the rows of those addresses
// hold them; judged again, they would count twice (its pace, of which a
// burst must be five times). The logins since are its replay's, or, past
// MaxReplay, what it learnt and what its addresses counted since; those
// not recorded are the deltas still pending.
func (l *Live) unrecordedSince(la *live, since map[string]int64, known []detect.Known) []detect.Known {
	out := known[:0]
	for _, k := range known {
		n := since[k.IP]
		if d := l.pending[la.acct.User+"\x00"+k.IP]; d != nil {
			n -= int64(d.IP.Count)
		}
		if n > 0 {
			if k.Count -= n; k.Count <= 0 {
				continue // all of it since (First before: not ours)
			}
		}
		out = append(out, k)
	}
	return out
}

// toldSince is, by address, how many logins of la's account this reader
// told the state since it was met (unrecordedSince): its replay's, or,
// past MaxReplay, what it learnt and what its addresses counted since.
func (l *Live) toldSince(la *live) map[string]int64 {
	since := map[string]int64{}
	if !la.overflow {
		for _, r := range la.replay {
			since[r.IP]++
		}
	} else {
		for _, k := range la.known { // empty when met: folded since
			since[k.IP] += k.Count
		}
		for _, ip := range slices.Concat(la.acct.IPs, la.acct.Trusted) {
			since[ip.IP] += int64(ip.Count - la.folded[ip])
		}
	}
	return since
}

// start begins the account's detector at t, from its history.
func (l *Live) start(la *live, t time.Time) {
	la.since, la.found, la.alerted, la.anomalous = t, 0, la.carriedAlerted, false
	if !l.Rule.Original {
		la.det = detect.NewAccount(&l.Rule.Detect, la.known, l.site)
		la.det.KnowSharing(la.sharing)
		la.det.SetUser(la.acct.User)
		if l.Rule.shared.has(la.acct.User) {
			la.det.SetShared()
		}
		la.det.Reached(la.reached)
	}
}

// restart folds what the account did into its history and starts its
// detector again at t; the addresses older than the window are dropped.
func (l *Live) restart(la *live, t time.Time) {
	if l.changed[la] {
		// what the state has not recorded yet of the incident
		if a := l.snapshot(la); a != nil {
			l.snapshots = append(l.snapshots, a)
		}
		delete(l.changed, la)
	}
	l.carry(la)
	if la.det != nil {
		la.sharing = la.sharing.Merge(la.det.Sharing())
	}
	l.fold(la)
	l.forgetOld(la, t)
	l.start(la, t)
}

// carry keeps the reasons of an anomalous period for the next one; a
// period that was not anomalous ends the incident.
func (l *Live) carry(la *live) {
	if !la.anomalous || la.det == nil {
		la.carried, la.carriedAlerted = nil, detect.None
		return
	}
	la.carried = mergeReasons(la.carried, la.det.Verdict().Reasons)
	la.carriedAlerted = max(la.carriedAlerted, la.alerted)
}

// mergeReasons adds to old the reasons of next it does not have (same
// detector and words).
func mergeReasons(old, next []detect.Reason) []detect.Reason {
	out := slices.Clone(old)
	for _, r := range next {
		if !slices.ContainsFunc(out, func(o detect.Reason) bool { return o.Detector == r.Detector && o.Text == r.Text }) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(x, y detect.Reason) int { return cmp.Compare(y.Severity, x.Severity) })
	return out
}

// fold adds the account's addresses to its history rows, a row per
// address (the latest enrichment), and drops the rows unused for longer
// than [DETECT] learn: they would be forgotten anyway.
func (l *Live) fold(la *live) {
	a := la.acct
	byIP := map[string]int{}
	for i, k := range la.known {
		byIP[k.IP] = i
	}
	if la.folded == nil {
		la.folded = map[*IP]int{}
	}
	for _, ip := range slices.Concat(a.IPs, a.Trusted) {
		n := ip.Count - la.folded[ip]
		if n <= 0 {
			continue
		}
		la.folded[ip] = ip.Count
		k := detect.Known{Where: ip.Where(), First: ip.First, Last: ip.Last, Count: int64(n)}
		if i, ok := byIP[ip.IP]; ok {
			old := la.known[i]
			k.First = minTime(old.First, k.First)
			k.Last = maxTime(old.Last, k.Last)
			k.Count += old.Count
			k.Methods |= old.Methods // the row's mechanisms, as the state ORs them
			la.known[i] = k
			continue
		}
		byIP[ip.IP] = len(la.known)
		la.known = append(la.known, k)
	}
	cut := la.last.Add(-l.Rule.Detect.Learn)
	la.known = slices.DeleteFunc(la.known, func(k detect.Known) bool { return k.Last.Before(cut) })
}

// forgetOld drops the account's addresses last used before the window
// that ends at t.
func (l *Live) forgetOld(la *live, t time.Time) {
	a := la.acct
	cut := t.Add(-l.Rule.Detect.Window)
	old := func(ip *IP) bool {
		if ip.Last.Before(cut) {
			delete(a.byIP, ip.IP)
			delete(la.folded, ip)
			return true
		}
		return false
	}
	a.IPs = slices.DeleteFunc(a.IPs, old)
	a.Trusted = slices.DeleteFunc(a.Trusted, old)
	a.recount()
}

// revealHome is Account.revealHome for la's account, which is then one
// with logins after the whitelist (Accounts), as in a batch (reveal).
func (l *Live) revealHome(la *live, reasons []detect.Reason) {
	if la.acct.revealHome(reasons) && !la.counted {
		l.count(la)
	}
}

// count counts la's account in Accounts, unless it was before it was
// forgotten.
func (l *Live) count(la *live) {
	la.counted = true
	if _, ok := l.counted[la.acct.User]; ok {
		return
	}
	if l.counted == nil {
		l.counted = map[string]struct{}{}
	}
	l.counted[la.acct.User] = struct{}{}
	l.seen.Add(1)
}

// judge tells OnAlert, and emits, when the account's latest login made it
// anomalous.
func (l *Live) judge(la *live, emit record.Emit) error {
	a := la.acct
	r := l.Rule
	inWindow := func(ip *IP) bool { return !ip.Last.Before(la.last.Add(-r.Detect.Window)) }
	var v detect.Verdict
	n := 0
	if r.Original {
		if la.anomalous {
			return nil
		}
	} else {
		n = la.det.Found(r.Alert)
		sev := la.det.Severity()
		if sev < r.Alert || sev <= la.alerted && n <= la.found {
			return nil
		}
		if sev <= la.alerted {
			// nothing more severe: no new alert, the evidence grows,
			// with the addresses of the home country it names (below)
			l.revealHome(la, la.det.Verdict().Reasons)
			la.found, la.anomalous = n, true
			l.changed[la] = true
			return nil
		}
		v = la.det.Verdict()
		// addresses whitelisted by their country alone that the
		// detectors found (a burst from a new network there) are shown
		// and recorded, as in a batch (Report.reveal)
		l.revealHome(la, v.Reasons)
	}
	// the thresholds, on the addresses within the window, those the
	// history holds that this reader did not see included
	ips := slices.DeleteFunc(slices.Clone(a.IPs), func(ip *IP) bool { return !inWindow(ip) })
	ips = append(ips, l.earlier(la, la.last.Add(-r.Detect.Window))...)
	view := *a
	view.IPs = ips
	view.Trusted = nil
	view.recount()
	view.summarise()
	if len(view.IPs) < r.MinIPs || len(view.Countries) < r.MinCountries || len(view.ASNs) < r.MinASNs {
		return nil // not yet: la.found is left, so the next login is judged again
	}
	if !r.Original {
		view.Severity, view.Reasons = v.Severity.String(), mergeReasons(la.carried, v.Reasons)
	}
	la.found, la.alerted, la.anomalous = n, v.Severity, true
	l.changed[la] = true
	if v.Severity <= l.floor && !r.Original {
		return nil // judged again: alerted already, at this severity or more
	}
	la.highest = max(la.highest, v.Severity)
	if l.OnAlert != nil {
		if err := l.OnAlert(&view); errors.Is(err, ErrAlertedBefore) {
			return nil // an incident open holds it: not emitted again
		} else if err != nil {
			return err
		}
	}
	if emit != nil {
		rec, err := AlertRecord(&view)
		if err != nil {
			return err
		}
		return emit(rec)
	}
	return nil
}

// Changed returns the anomalous accounts (their addresses within the
// window, with the verdict) that had logins since the last call, for the
// state's evidence: an incident open is added to, and not sent again.
func (l *Live) Changed() []*Account {
	out := l.snapshots
	l.snapshots = nil
	for la := range l.changed {
		if a := l.snapshot(la); a != nil {
			out = append(out, a)
		}
	}
	clear(l.changed)
	slices.SortStableFunc(out, func(x, y *Account) int { return strings.Compare(x.User, y.User) })
	return out
}

// snapshot is the anomalous account as the state records it: its
// addresses within the window, its verdict; nil when it has none.
func (l *Live) snapshot(la *live) *Account {
	a := *la.acct
	cut := la.last.Add(-l.Rule.Detect.Window)
	a.IPs = slices.DeleteFunc(slices.Clone(a.IPs), func(ip *IP) bool { return ip.Last.Before(cut) })
	// an address given as earlier before, read since: its logins read
	// and the history's, from the history's first, as the evidence holds
	// it and as a batch run shows it
	for i, ip := range a.IPs {
		if k, ok := la.givenEarlier[ip.IP]; ok {
			c := *ip
			c.Count += int(k.Count)
			c.First = minTime(k.First, c.First)
			a.IPs[i] = &c
		}
	}
	earlier := l.earlier(la, cut)
	a.IPs = append(a.IPs, earlier...)
	if len(a.IPs) == 0 {
		return nil
	}
	a.Trusted = nil
	a.recount()
	a.summarise()
	if la.det != nil {
		v := la.det.Verdict()
		if v.Severity == detect.None && len(la.carried) == 0 {
			return nil
		}
		a.Reasons = mergeReasons(la.carried, v.Reasons)
		sev := v.Severity
		for _, r := range la.carried {
			sev = max(sev, r.Severity)
		}
		a.Severity = sev.String()
	}
	for _, ip := range earlier {
		if la.givenEarlier == nil {
			la.givenEarlier = map[string]detect.Known{}
		}
		la.givenEarlier[ip.IP] = detect.Known{First: ip.First, Count: int64(ip.Count)}
	}
	return &a
}

// Unrecorded tells whether logins, anomalies or failed logins wait to be
// taken (TakeDeltas, Changed, TakeFailures).
func (l *Live) Unrecorded() bool {
	return len(l.deltas) > 0 || len(l.changed) > 0 || len(l.snapshots) > 0 || l.failDirty > 0
}

// Requeue marks accounts that Changed returned, and that could not be
// recorded, as changed again.
func (l *Live) Requeue(accounts []*Account) {
	for _, a := range accounts {
		if la := l.accounts[a.User]; la != nil && la.anomalous {
			l.changed[la] = true
		} else {
			l.snapshots = append(l.snapshots, a) // forgotten since, or started again
		}
	}
}

// TakeDeltas returns the logins since the last call, a row per account
// and address, for the state's history.
func (l *Live) TakeDeltas() []Delta {
	out := make([]Delta, len(l.deltas))
	for i, d := range l.deltas {
		out[i] = *d
	}
	clear(l.pending)
	clear(l.unrecorded)
	l.deltas = l.deltas[:0]
	return out
}

// PutBack returns deltas that could not be recorded, to be taken again
// (added up with the logins since: memory grows with the accounts and
// addresses, not with the time the state is down).
func (l *Live) PutBack(ds []Delta) {
	for i := range ds {
		d := ds[i]
		k := d.User + "\x00" + d.IP.IP
		if have := l.pending[k]; have != nil {
			have.IP.Count += d.IP.Count
			have.IP.First = minTime(have.IP.First, d.IP.First)
			have.IP.Methods |= d.IP.Methods
			if d.IP.Last.After(have.IP.Last) {
				c, first, methods := have.IP.Count, have.IP.First, have.IP.Methods
				have.IP = d.IP
				have.IP.Count, have.IP.First, have.IP.Methods = c, first, methods
			}
			continue
		}
		l.pending[k] = &d
		l.deltas = append(l.deltas, &d)
		l.unrecorded[d.User] = true
	}
}

// CensusEvery is how often (log time) Tick counts the common places, and
// CensusGap the least time between two counts (on the clock).
const (
	CensusEvery = 10 * time.Minute
	// SiteEvery: how often (the clock) the census reads the site's
	// history again (Live.Site).
	SiteEvery = time.Hour
	CensusGap = 10 * time.Second
)

// Tick does what is due at the log time now (the latest read when zero):
// it forgets the failures and accounts older than the window (without a
// state, an idle account's places stay as history rows, until older than
// [DETECT] learn), and counts the places common to the accounts every
// CensusEvery. Call it when the input is idle and now and then; record
// TakeDeltas first: a forgotten account's deltas are kept.
func (l *Live) Tick(now time.Time) {
	now = cmp.Or(now, l.now)
	if now.IsZero() {
		return
	}
	l.ticked, l.tickedAt = now, l.clock()
	if l.site != nil {
		l.site.Failures.Forget(now)
	}
	cut := now.Add(-l.Rule.Detect.Window)
	l.forgetFailures(cut)
	due := len(l.due)
	// an account whose logins the state has not recorded yet stays: read
	// back from the state, its history would miss them
	for user, la := range l.accounts {
		if !la.last.Before(cut) || l.History != nil && (l.unrecorded[user] || unrecordedSharing(la)) {
			continue
		}
		if la.without && !la.overflow || la.replaying || len(la.later) > 0 || la.due || la.judging {
			// to be judged again once its history comes, or being
			// judged again, or with the other processes' logins its
			// history held (Poll)
			continue
		}
		if l.History == nil && la.det != nil && la.det.Waiting() {
			// its verdict waited for the window, passed now: judged
			// (judgeDue), then forgotten at a Tick after. (With a
			// state, it is forgotten, and its next login, its history
			// read again, judges it: the rows do not say that the
			// reader's clock judged it, and that login would again.)
			l.until(la, now)
			l.markDue(la)
			continue
		}
		if l.changed[la] {
			if a := l.snapshot(la); a != nil {
				l.snapshots = append(l.snapshots, a)
			}
			delete(l.changed, la)
		}
		if l.History != nil || l.Rule.Original {
			if !la.reached.IsZero() {
				// read again from the state, at its next login: what
				// was judged then is not again
				if l.reached == nil {
					l.reached = map[string]time.Time{}
				}
				l.reached[user] = la.reached
			}
			delete(l.accounts, user)
			continue
		}
		// no state: its places stay, its addresses go; places unused
		// for longer than learn go too (an account idle for that long
		// learns its first day again: a state remembers it longer)
		l.fold(la)
		l.forgetOld(la, now)
		if la.det != nil { // (what its logins showed, as restart carries it)
			la.sharing = la.sharing.Merge(la.det.Sharing())
		}
		la.det = nil
		learn := now.Add(-l.Rule.Detect.Learn)
		la.known = slices.DeleteFunc(la.known, func(k detect.Known) bool { return k.Last.Before(learn) })
		if len(la.known) == 0 && len(la.acct.byIP) == 0 {
			delete(l.accounts, user)
		}
	}
	// (judged in the order of their names, not the map's)
	slices.SortFunc(l.due[due:], func(x, y *live) int { return strings.Compare(x.acct.User, y.acct.User) })
	for user, r := range l.reached {
		if r.Before(now.Add(-l.Rule.Detect.Learn)) {
			delete(l.reached, user)
		}
	}
	// the census costs a step per account and place: every CensusEvery
	// of log time, and, for a backlog read at speed, no more than once
	// every CensusGap
	if l.site != nil && (l.census.IsZero() || now.Sub(l.census) >= CensusEvery && l.clock().Sub(l.censusAt) >= CensusGap) {
		l.census, l.censusAt = now, l.clock()
		if l.Site != nil && (l.othersAt.IsZero() || l.clock().Sub(l.othersAt) >= SiteEvery) {
			var o detect.Census
			err := l.Site(func(user string, k *detect.Known) {
				if !k.Relay {
					o.Add(user, &k.Where, k.First, k.Last)
				}
			})
			switch {
			case err == nil:
				l.others, l.othersAt = &o, l.clock()
			case errors.Is(err, ErrHistoryLater):
			default:
				if l.OnError != nil {
					l.OnError(err)
				}
				// asked again in 5 minutes (each try may hold the
				// reader, on a state that does not answer)
				l.othersAt = l.clock().Add(5*time.Minute - SiteEvery)
			}
		}
		c := l.others
		if c == nil {
			c = &detect.Census{}
		}
		for _, la := range l.accounts {
			for _, ip := range slices.Concat(la.acct.IPs, la.acct.Trusted) {
				if w := ip.Where(); !w.Relay {
					c.Add(la.acct.User, &w, ip.First, ip.Last)
				}
			}
			for i := range la.known {
				if k := &la.known[i]; !k.Relay {
					c.Add(la.acct.User, &k.Where, k.First, k.Last)
				}
			}
		}
		l.site.SetCommon(c.Common(l.Rule.Detect))
	}
}

// Common returns the places common to the accounts, as the last census
// found them.
func (l *Live) Common() detect.Common {
	if l.site == nil {
		return detect.Common{}
	}
	return l.site.Common()
}

// Flush asks once more for the histories that failed (see History):
// other alerts leave as they are found.
func (l *Live) Flush(emit record.Emit) error {
	if err := l.judgeDue(emit); err != nil {
		return err
	}
	if err := l.retryHistory(emit, true); err != nil {
		return err
	}
	if err := l.judgeAllLater(emit, true); err != nil {
		return err
	}
	if err := l.fromOthers(emit, true); err != nil {
		return err
	}
	// the end of what was read: what waited for the window is judged as
	// a batch without a state judges it, at its latest login or failure
	// read, after the other processes' logins (a batch judges them among
	// the account's: Know); with a state, as at a Tick, not here: the
	// account's next login judges it
	if reach := maxTime(l.now, l.failedTo); !reach.IsZero() && l.History == nil {
		for _, la := range l.accounts {
			// (not one with rows of other processes left to judge:
			// fromOthers' ahead of the log read)
			if la.det != nil && la.det.Waiting() && !la.without && !la.replaying && len(la.later) == 0 {
				l.until(la, reach)
				l.markDue(la)
			}
		}
		slices.SortFunc(l.due, func(x, y *live) int { return strings.Compare(x.acct.User, y.acct.User) })
	}
	return l.judgeDue(emit)
}

// Poll does what is due while the input is idle: the accounts judged
// without their history are judged again with it, if the state answers
// now, and those held in memory with the logins the other mail servers
// recorded since (Recent); and the failed logins of earlier runs are
// asked for again, if the state did not give them (Failures), and those
// the other mail servers recorded since (OthersFailures).
func (l *Live) Poll(emit record.Emit) error {
	l.askFailures(time.Time{}) // (if the state did not answer before)
	l.othersFailures()
	if err := l.judgeDue(emit); err != nil {
		return err
	}
	if err := l.retryHistory(emit, false); err != nil {
		return err
	}
	if err := l.judgeAllLater(emit, false); err != nil {
		return err
	}
	return l.fromOthers(emit, false)
}

// until judges la's verdicts that wait at t (detect's Account.Until).
func (l *Live) until(la *live, t time.Time) {
	la.det.Until(t)
	la.reached = maxTime(la.reached, t)
}

// markDue adds la to the accounts to judge (due), once.
func (l *Live) markDue(la *live) {
	if !la.due {
		la.due = true
		l.due = append(l.due, la)
	}
}

// judgeDue judges the accounts whose verdicts that waited Tick decided
// (due).
func (l *Live) judgeDue(emit record.Emit) error {
	for len(l.due) > 0 {
		la := l.due[0]
		l.due = l.due[1:]
		la.due = false
		if l.accounts[la.acct.User] != la || la.det == nil {
			continue
		}
		if err := l.judge(la, emit); err != nil {
			return err
		}
	}
	l.due = nil
	return nil
}

// CaughtUp: a reader whose latest login read is this close to the clock,
// or that read none for as long, is taken for caught up with its log
// (caughtUp).
const CaughtUp = 30 * time.Second

// caughtUp tells whether the reader reads its log as it is written: not
// a backlog (a first start reading the weeks on disk, a restart the hours
// it was down), where the logins read are far behind the clock, and the
// other processes' logins of today, ahead of them, wait for the log read
// to reach them (live.later): judged at once, they would be the account's
// latest, and its logins read after them, older than its window, left
// out of its alert and of its incident's evidence.
func (l *Live) caughtUp() bool {
	now := l.clock()
	return l.now.IsZero() || now.Sub(l.now) < CaughtUp || now.Sub(l.readAt) >= CaughtUp
}

// queue notes that la has rows to judge later (live.later), for Poll.
func (l *Live) queue(la *live) {
	if len(la.later) > 0 && !la.queued {
		la.queued = true
		l.withLater = append(l.withLater, la)
	}
}

// later adds to la's rows to judge later (live.later), in the order of
// their last logins.
func (l *Live) later(la *live, r laterRow) {
	i := len(la.later)
	for i > 0 && la.later[i-1].k.Last.After(r.k.Last) {
		i--
	}
	la.later = slices.Insert(la.later, i, r)
	l.queue(la)
}

// judgeAllLater judges the accounts with the other processes' logins they
// hold to judge later (live.later) that the log read has reached, or all
// of them when the reader is caught up with its log (caughtUp) or at the
// end of the input (final).
func (l *Live) judgeAllLater(emit record.Emit, final bool) error {
	till := time.Time{} // all
	if !final && !l.caughtUp() {
		till = l.now.Add(time.Nanosecond)
	}
	ws := l.withLater
	l.withLater = nil
	for i, la := range ws {
		la.queued = false
		if l.accounts[la.acct.User] != la {
			continue // forgotten, or judged again, meanwhile
		}
		if err := l.judgeLater(la, till, emit); err != nil {
			for _, la := range ws[i:] {
				l.queue(la)
			}
			return err
		}
		l.queue(la)
	}
	return nil
}

// judgeLater judges la's account with the rows of live.later whose last
// login is before t (zero: all), in time order, among its own logins:
// before its login at t, as a batch run judges another mail server's
// later logins among its own (Report.judge).
func (l *Live) judgeLater(la *live, t time.Time, emit record.Emit) error {
	for len(la.later) > 0 && (t.IsZero() || la.later[0].k.Last.Before(t)) {
		r := la.later[0]
		if la.later = la.later[1:]; len(la.later) == 0 {
			la.later = nil
		}
		if err := l.feed(la, r.trusted, &r.k, r.k.First, r.k.Count, emit); err != nil {
			return err
		}
	}
	return nil
}

// readState notes the rows of la's history as the state holds them
// (known, read from it), with what this reader told it that is not
// recorded yet (its pending deltas). The rows first seen at t (when the
// account was met) or later hold other processes' logins, but for those
// this reader told since t (told; nil: none but the pending ones): they
// are left to judge among its own (live.later), as a batch run judges
// them (Report.Know); its history is the rows before t (knownBefore).
func (l *Live) readState(la *live, known []detect.Known, t time.Time, told map[string]int64) {
	la.inState = make(map[string]stateRow, len(known))
	la.later = nil
	for _, k := range known {
		r := stateRow{n: k.Count, last: k.Last}
		mine := int64(0) // its pending logins
		if d := l.pending[la.acct.User+"\x00"+k.IP]; d != nil {
			mine = int64(d.IP.Count)
			r.n += mine
			r.last = maxTime(r.last, d.IP.Last)
		}
		la.inState[k.IP] = r
		if l.Rule.Original || k.First.IsZero() || k.First.Before(t) {
			continue
		}
		// (told since t: the pending ones and those recorded, in k)
		if n := r.n - max(told[k.IP], mine); n > 0 {
			k.Count = n
			la.later = append(la.later, laterRow{trusted: ruleOf(&k.Where), k: k})
		}
	}
	slices.SortStableFunc(la.later, func(x, y laterRow) int { return x.k.Last.Compare(y.k.Last) })
	// (the pending deltas of the addresses the state has no row of yet)
	if !l.unrecorded[la.acct.User] {
		return
	}
	for _, d := range l.deltas {
		if d.User == la.acct.User {
			if _, ok := la.inState[d.IP.IP]; !ok {
				la.inState[d.IP.IP] = stateRow{n: int64(d.IP.Count), last: d.IP.Last}
			}
		}
	}
}

// pendingOf is how many logins of user from ip this reader told the state
// that it has not recorded yet (its pending deltas).
func (l *Live) pendingOf(user, ip string) int64 {
	if d := l.pending[user+"\x00"+ip]; d != nil {
		return int64(d.IP.Count)
	}
	return 0
}

// told counts in la's rows of history a login from ip at t that this
// reader tells the state (note).
func (la *live) told(ip string, t time.Time) {
	if la.inState == nil {
		return
	}
	r := la.inState[ip]
	r.n++
	r.last = maxTime(r.last, t)
	la.inState[ip] = r
}

// fromOthers judges the accounts held in memory with the logins that the
// state recorded of them since it was last asked (Recent) and that this
// reader did not read: another mail server's, a batch run's. Each row
// grown by more than this reader told is that many logins from its
// address, between the last the reader knew of it and the row's last;
// the rows are judged in the order of their last logins, each among the
// account's own logins (ahead of the next one read; one older than the
// latest read is judged after it, as a late report of where the account
// was). At most every RecentEvery unless now.
func (l *Live) fromOthers(emit record.Emit, now bool) error {
	if l.Recent == nil || l.Rule.Original || !now && !l.recentAt.IsZero() && l.clock().Sub(l.recentAt) < RecentEvery {
		return nil
	}
	l.recentAt = l.clock()
	type row struct {
		la      *live
		trusted string
		k       detect.Known
		mine    int64 // this reader's logins of the row not recorded yet
	}
	var rows []row
	err := l.Recent(func(user, trusted string, k *detect.Known) {
		la := l.accounts[user]
		if la == nil || la.inState == nil {
			return // not held, or its history not read yet: read with it
		}
		// (the row as the state will hold it once this reader's pending
		// logins are recorded too: inState counts them)
		// (fewer: a row deleted, pruned or forgotten, and made again
		// since: counted from there)
		mine := l.pendingOf(user, k.IP)
		if r := la.inState[k.IP]; k.Count+mine != r.n || k.First.After(r.last) && !r.last.IsZero() {
			rows = append(rows, row{la, trusted, *k, mine})
		}
	})
	if err != nil && !errors.Is(err, ErrHistoryLater) && l.OnError != nil {
		l.OnError(err)
	}
	slices.SortStableFunc(rows, func(x, y row) int { return x.k.Last.Compare(y.k.Last) })
	for _, r := range rows {
		if l.accounts[r.la.acct.User] != r.la {
			continue // forgotten, or judged again, meanwhile
		}
		if err := l.other(r.la, r.trusted, &r.k, r.mine, emit); err != nil {
			return err
		}
	}
	return nil
}

// other judges la's account with the logins that the row k of its history
// holds and that la's rows of history did not (fromOthers); mine: this
// reader's logins of that row that the state has not recorded yet (they
// are not in k, and are in la's rows).
func (l *Live) other(la *live, trusted string, k *detect.Known, mine int64, emit record.Emit) error {
	was := la.inState[k.IP]
	n, first := k.Count+mine-was.n, k.First
	switch {
	case k.First.After(was.last) && !was.last.IsZero():
		n = k.Count // a row made again (pruned, then used again)
	case n < 0:
		// fewer logins than this reader counted in it: the row was
		// deleted ([STATE] keep, db forget) and made again by this
		// reader's logins, which it holds (and perhaps others', which
		// cannot be told from them): the logins added to it from now
		// on are counted
		la.inState[k.IP] = stateRow{n: k.Count + mine, last: maxTime(was.last, k.Last)}
		return nil
	case was.n > 0:
		first = maxTime(first, was.last)
	}
	if n <= 0 {
		return nil
	}
	if n == 1 {
		first = k.Last
	}
	la.inState[k.IP] = stateRow{n: k.Count + mine, last: maxTime(was.last, k.Last)}
	if k.Last.After(l.now) && !l.caughtUp() {
		// ahead of the log read (a backlog): when it reaches them
		r := laterRow{trusted: trusted, k: *k}
		r.k.First, r.k.Count = first, n
		l.later(la, r)
		return nil
	}
	return l.feed(la, trusted, k, first, n, emit)
}

// feed judges la's account with n logins of another process from the
// address of the row k, the first at first, the last at k.Last (other,
// judgeLater).
func (l *Live) feed(la *live, trusted string, k *detect.Known, first time.Time, n int64, emit record.Emit) error {
	if l.zone != nil {
		// the state's times, in the machine's zone: in the log's
		in := *k
		in.First, in.Last, first = k.First.In(l.zone), k.Last.In(l.zone), first.In(l.zone)
		k = &in
	}
	if k.Last.Before(la.last.Add(-l.Rule.Detect.Window)) {
		// older than the window of its latest login: its history, for
		// its detector's next start
		la.known = append(la.known, detect.Known{Where: k.Where, First: first, Last: k.Last, Count: n})
		return nil
	}
	// (one older than the detector's start, started again by a login
	// read since, is judged with it: a late word of where the account
	// was minutes before)
	if k.Last.Sub(la.since) > l.Rule.Detect.Window {
		l.restart(la, first)
	}
	r := &record.Record{Type: record.TypeLogin, Time: first, User: la.acct.User, IP: k.IP, Country: k.Country, City: k.City,
		HasLoc: k.HasLoc, Lat: k.Lat, Lon: k.Lon, AccuracyKM: k.AccuracyKM, ASN: k.ASN, Org: k.Org}
	ip, _ := la.acct.add(r, trusted)
	if n > 1 {
		la.acct.count(ip, k.Last)
		ip.Count += int(n - 2)
		if ip.Trusted == "" {
			la.acct.Logins += int(n - 2)
		}
	}
	ip.Methods |= k.Methods
	la.last = maxTime(la.last, k.Last)
	l.fromOthersN.Add(n)
	if la.anomalous && (trusted == "" || slices.Contains(la.acct.IPs, ip)) {
		l.changed[la] = true
	}
	w := ip.Where()
	w.Methods = k.Methods
	la.det.Login(&w, first, k.Last, int(n))
	return l.judge(la, emit)
}

// earlier is the addresses of la's account that its history holds (the
// rows read when the account was met, or learnt since, and those of its
// earlier periods) and that its logins read since do not: not whitelisted,
// last used at cut or later, marked Earlier, in the log's zone. The alert
// and the incident's evidence show them with the account's own, as a batch
// run with a state shows them (Report.Recall): a thief's logins that
// another mail server read, the owner's login at home that makes the trip
// whitelisted, is no alert of no address.
func (l *Live) earlier(la *live, cut time.Time) []*IP {
	var out []*IP
	for i := range la.known {
		k := &la.known[i]
		if k.Trusted || k.Relay || k.Last.Before(cut) || la.acct.byIP[k.IP] != nil ||
			slices.ContainsFunc(out, func(ip *IP) bool { return ip.IP == k.IP }) {
			continue
		}
		first, last := k.First, k.Last
		if l.zone != nil {
			first, last = first.In(l.zone), last.In(l.zone)
		}
		out = append(out, &IP{IP: k.IP, Count: int(k.Count), First: first, Last: last, Country: k.Country, City: k.City,
			ASN: k.ASN, Org: k.Org, HasLoc: k.HasLoc, Lat: k.Lat, Lon: k.Lon, AccuracyKM: k.AccuracyKM, Methods: k.Methods, Earlier: true})
	}
	return out
}

// ruleOf is a whitelist's rule of the kind that gives a row of history
// its marks (the state's rows are given the marks, not the rule): what
// the account's addresses and the detectors read of it (IP.Where).
func ruleOf(w *detect.Where) string {
	switch {
	case w.Relay:
		return "pattern_ip:(history)"
	case w.Home:
		return "country_ignore:(history)"
	case w.Trusted:
		return "(history)"
	}
	return ""
}

// AlertRecord is an alert as a record (type alert), for a pipe: the
// account's user, its last login's time, and the rest of the account
// (severity, reasons, countries, addresses …) as fields of their own.
func AlertRecord(a *Account) (*record.Record, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	rec := &record.Record{Type: TypeAlert, Time: a.Last, User: a.User}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		switch key, _ := k.(string); key {
		case "user", "last", "type", "time":
		default:
			rec.Extra = append(rec.Extra, record.Field{Key: key, Value: v})
		}
	}
	return rec, nil
}

func minTime(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
