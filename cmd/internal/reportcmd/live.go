package reportcmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/input"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// Live is the end of a live pipeline (loganom postfix-sasl --follow,
// loganom-report --follow): it records what report.Live sees in the
// state now and then, and at once when an account becomes anomalous; it
// prints each alert on stdout as it comes; and it delivers the alerts on
// the channels in a goroutine of its own, so that a slow or failing
// channel never holds the reading up: a delivery that fails is tried
// again every RetryEvery, and never dropped while the process runs (with
// a state, not even when it stops: the next run, or cron, sends it).
type Live struct {
	Env cli.Env
	Log *cli.Logger
	Rep *report.Live
	St  *statecmd.State // nil: none
	// Format of the alerts on stdout: text or json; records writes
	// alert records to Out (a pipe stage: the report emits them).
	Format string
	Out    io.Writer
	// Marks, when set, gives the positions reached, to save with the
	// history; Expect are the positions the reading started from.
	Marks  func() map[string]input.Mark
	Expect map[string]state.Position
	// CommitEvery bounds how long the logins read wait to be recorded
	// (default 2s); RetryEvery, how long a failed delivery waits.
	CommitEvery time.Duration
	RetryEvery  time.Duration
	Now         func() time.Time
	// OnDelivered, when set, is told of each channel's round of
	// deliveries' result ("" with a state: the round of the channels no
	// longer configured).
	OnDelivered func(channel string, ok bool)
	// OnNotifier, when set, is given each notifier set (SetNotifier).
	OnNotifier func(*Notifier)
	// Block, when set ([BLOCK] auto, with a state), blocks an alert's
	// account as the alert is made, before it is printed, recorded and
	// delivered.
	Block *AutoBlock

	mu       sync.Mutex
	notifier *Notifier
	queue    map[string][]*report.Account // without a state: alerts still to send, by channel
	// the channels whose round is under way, and those that have
	// another at its end: the round last asked for (startRound)
	busy    map[string]bool
	again   map[string]func()
	rounds  sync.WaitGroup
	kick    chan struct{}
	done    chan struct{}
	stopped chan struct{}
	// closeDown: the state did not answer the last commit, at Close
	closeDown bool
	// sends: the deliveries' context, with a state; ended at the stop
	// once StopDeliveries ran out (endSends)
	sends    context.Context
	endSends context.CancelFunc
	// frozen: the last commit ran out of time (the state does not
	// answer at all); an alert then makes no commit of its own first
	frozen   bool
	frozenAt time.Time // when it ended

	stopPrune  func() // the state's pruning (statecmd.State.StartPruning)
	lastCommit time.Time
	// downFails: the commits that failed in a row, the state not
	// answering, since downSince; downSaid: when that was last said
	downFails           int
	downSince, downSaid time.Time
	// conflicts: the commits refused in a row because another loganom
	// moved the positions (state.ErrConflict), since conflictSince;
	// conflictSaid: when that was last said
	conflicts                   int
	conflictSince, conflictSaid time.Time
	closing                     bool // the last commit (Close)
	holdWake                    bool // the deliveries wait (alert's commit, before the block)
	alerts                      int
	failed                      bool
	failedAt                    time.Time // the first fail
	// unblocked are the alerts whose automatic block failed (the state
	// down): tried again at each commit that succeeds
	unblocked []*report.Account
}

// SetNotifier sets the channels (at the start, and when the config is
// read again).
func (lv *Live) SetNotifier(n *Notifier) {
	if n != nil {
		every := lv.RetryEvery
		if every <= 0 {
			every = time.Minute // Start's default
		}
		// a failed delivery's hint: the daemon's next round, not a
		// next run
		n.again = fmt.Sprintf("tried again in %s", every)
	}
	if lv.OnNotifier != nil && n != nil {
		lv.OnNotifier(n)
	}
	lv.mu.Lock()
	lv.notifier = n
	lv.mu.Unlock()
}

func (lv *Live) notifierNow() *Notifier {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	return lv.notifier
}

func (lv *Live) now() time.Time {
	if lv.Now != nil {
		return lv.Now()
	}
	return time.Now()
}

// Start starts the deliveries' goroutine and, with a state, its pruning
// (every [STATE] prune_every, the first a minute after the start, in a
// goroutine of its own: the reading never waits for it); Close stops them.
func (lv *Live) Start() {
	if lv.CommitEvery <= 0 {
		lv.CommitEvery = 2 * time.Second
	}
	if lv.RetryEvery <= 0 {
		lv.RetryEvery = time.Minute
	}
	lv.kick = make(chan struct{}, 1)
	lv.sends, lv.endSends = context.WithCancel(context.Background())
	lv.done = make(chan struct{})
	lv.stopped = make(chan struct{})
	lv.Rep.OnAlert = lv.alert
	lv.lastCommit = lv.now()
	go lv.deliveries()
	lv.wake() // what earlier runs left pending
	lv.stopPrune = lv.St.StartPruning(lv.Log)
}

func (lv *Live) wake() {
	select {
	case lv.kick <- struct{}{}:
	default:
	}
}

// Alerts is the number of alerts found.
func (lv *Live) Alerts() int { return lv.alerts }

// Failed tells whether something failed (a commit, a delivery, the
// output).
func (lv *Live) Failed() bool {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	return lv.failed
}

func (lv *Live) fail() {
	lv.mu.Lock()
	if !lv.failed {
		lv.failedAt = lv.now()
	}
	lv.failed = true
	lv.mu.Unlock()
}

// FirstFailure is when the first error that makes the exit status 1 was
// met (zero: none).
func (lv *Live) FirstFailure() time.Time {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	return lv.failedAt
}

// alert is report.Live's OnAlert: the alert is recorded at once (with
// everything read so far), the account blocked ([BLOCK] auto), the alert
// printed, and its deliveries start. With a state, an alert that the
// account's open incident already holds at this severity (alerted before
// this process: a daemon restarted, or a log read again) is not told
// again (report.ErrAlertedBefore): its logins are added to the incident,
// as they would be without the restart, and its account is blocked only
// when the incident's block failed then (AutoBlock.Retry: a block made
// once per incident, not again once it expired).
func (lv *Live) alert(a *report.Account) error {
	var out *state.Outcome
	if lv.St != nil && !lv.frozen && !lv.St.HistoryFrozen() {
		// recorded first: the state says whether the account's incident
		// is open already, which decides the block; the deliveries wait
		// for the block (they say it). Not when the last commit ran out
		// of time, or the history read for a new account did (as
		// likely this account's): this one would wait as long
		// (OpTimeout, 30 s, the reader held, and the stop if SIGTERM
		// came), and fail as likely; the alert is told as after a
		// commit that failed, and recorded with the next commit that
		// goes through.
		lv.holdWake = true
		out = lv.commit(true, false)
		lv.holdWake = false
	}
	as, known := alertStateOf(out, a.User)
	if lv.Block != nil && lv.St != nil {
		// an incident alerted before (this process restarted, or the
		// account forgotten since) is blocked only if its block failed
		// then, as a batch run does (AutoBlock.Retry): its block, expired
		// since, is not made again
		block, b := lv.Block.Block, a
		if known {
			c := *a
			c.Alert = &report.AlertMark{At: as.Opened, NewAddresses: as.NewAddresses}
			block, b = lv.Block.Retry, &c
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		made, err := block(ctx, lv.St, b)
		cancel()
		a.Blocked = b.Blocked
		if err != nil {
			// the alert goes on: a block that failed is no reason to
			// keep quiet
			lv.fail()
			lv.Log.Errorf("%v", err)
			lv.Log.Warnf("auto-block: %s not blocked yet: tried again once the state answers", report.Escape(a.User))
			c := *b
			lv.unblocked = append(lv.unblocked, &c)
		} else if made {
			lv.Log.Infof("auto-block: %s", report.Escape(a.User+": "+a.Blocked.String()))
		}
	}
	if newAlerts(out) {
		lv.wake() // the deliveries the commit made pending
	}
	if known {
		lv.Log.Debugf("%s: added to the open alert #%d (opened %s): not alerted again", report.Escape(a.User), as.Alert, as.Opened.Format(time.DateTime))
		return report.ErrAlertedBefore
	}
	lv.alerts++
	why := make([]string, 0, len(a.Reasons))
	for _, r := range a.Reasons {
		why = append(why, report.ReasonText(r))
	}
	lv.Log.Infof("alert: %s: %s: %s", report.Escape(a.User), orNone(a.Severity, "2 or more addresses"), report.Escape(strings.Join(why, "; ")))
	if err := lv.print(a); err != nil {
		return err
	}
	if lv.St != nil {
		return nil
	}
	// the alert as it is now, of its own: a's addresses are the
	// reader's, which goes on counting logins in them while the
	// alert waits for its channels (as the state's payload is)
	c, err := ownCopy(a)
	if err != nil {
		return err
	}
	lv.mu.Lock()
	if lv.notifier != nil {
		for _, ch := range lv.notifier.Channels() {
			if lv.queue == nil {
				lv.queue = map[string][]*report.Account{}
			}
			lv.queue[ch] = append(lv.queue[ch], c)
		}
	}
	lv.mu.Unlock()
	lv.wake()
	return nil
}

// ownCopy is a deep copy of a, as the channels see it (its JSON, as the
// state keeps an alert's account to send).
func ownCopy(a *report.Account) (*report.Account, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	var c report.Account
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func orNone(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// print writes the alert on stdout, at once.
func (lv *Live) print(a *report.Account) error {
	if lv.Out == nil {
		return nil
	}
	var err error
	switch lv.Format {
	case "records":
		return nil // the report emits it
	case "json":
		err = report.JSON(lv.Out, []*report.Account{a}, nil)
	default:
		_, err = fmt.Fprintf(lv.Out, "ALERT %s\n", a.Last.Format(time.RFC3339))
		if err == nil {
			err = report.AccountText(lv.Out, a)
		}
		if err == nil {
			_, err = fmt.Fprintln(lv.Out)
		}
	}
	if f, ok := lv.Out.(interface{ Flush() error }); ok && err == nil {
		err = f.Flush()
	}
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// DownSaid is how often the daemon says again that its commits fail,
// the state not answering.
const DownSaid = time.Minute

// MinGap is the least time between two commits when the input is idle:
// what was read is recorded at once, unless a commit was made just now.
const MinGap = 200 * time.Millisecond

// Idle is called when the input is idle and every record read has gone
// through the stages (drained: the positions may then be saved), and now
// and then while it is not: it records what is due. When idle, what was
// read is recorded at once (MinGap after the last commit at the
// earliest); while the input is busy, every CommitEvery.
func (lv *Live) Idle(drained bool) error {
	since := lv.now().Sub(lv.lastCommit)
	if since >= lv.CommitEvery || drained && since >= MinGap && lv.unrecorded() {
		lv.commit(false, drained)
	}
	return nil
}

// unrecorded tells whether something read waits to be recorded.
func (lv *Live) unrecorded() bool {
	return lv.St != nil && lv.Rep.Unrecorded()
}

// due is how long until a commit may record what waits (0: now; -1:
// nothing waits).
func (lv *Live) due() time.Duration {
	if !lv.unrecorded() {
		return -1
	}
	return max(MinGap-lv.now().Sub(lv.lastCommit), 0)
}

// commit records the logins read, the anomalies with new logins and,
// when every record read has gone through (drained), the positions; an
// error is printed, and what was not recorded is kept for the next commit.
// It returns what the state decided of the anomalies (nil: nothing was
// recorded).
func (lv *Live) commit(force, drained bool) *state.Outcome {
	lv.lastCommit = lv.now()
	if lv.St == nil {
		lv.Rep.TakeDeltas()
		lv.Rep.TakeFailures()
		lv.Rep.Changed()
		lv.Rep.Tick(time.Time{})
		return nil
	}
	// With positions to save, the history goes with them, when every
	// record read has gone through: recorded without them, a crash would
	// have the next run read and count those logins again.
	var deltas []report.Delta
	var sharing []report.SharingDelta
	var failures []detect.FailureRun
	var marks map[string]input.Mark
	if lv.Marks == nil || drained {
		deltas = lv.Rep.TakeDeltas()
		sharing = lv.Rep.TakeSharing()
		failures = lv.Rep.TakeFailures()
	}
	if lv.Marks != nil && drained {
		marks = lv.Marks()
	}
	changed := lv.Rep.Changed()
	// (sharing alone: what an account judged again with its history come
	// late showed, its logins recorded before)
	if !force && len(deltas) == 0 && len(sharing) == 0 && len(failures) == 0 && len(changed) == 0 && len(marks) == 0 && len(lv.unblocked) == 0 {
		lv.Rep.Tick(time.Time{})
		return nil
	}
	n := lv.notifierNow()
	ctx, cancel := context.WithTimeout(context.Background(), statecmd.OpTimeout)
	defer cancel()
	out, saved, err := lv.St.CommitLive(ctx, &statecmd.Live{Deltas: deltas, Sharing: sharing, Failures: failures, Marks: marks, Expect: lv.Expect,
		Anomalies: changed, Rule: lv.Rep.Rule.String(), Channels: n.Channels()})
	if err != nil {
		lv.fail()
		switch {
		case errors.Is(err, state.ErrConflict):
			// refused at every commit for as long as the other runs:
			// said once, then once every DownSaid, as a state down is,
			// and at the stop (the last commit)
			lv.conflicts++
			switch {
			case lv.conflicts == 1 || lv.closing:
				if lv.conflicts == 1 {
					lv.conflictSince = lv.now()
					lv.Log.Errorf("%v", err)
				} else { // the stop: since when, not as if it began now
					lv.Log.Errorf("%d commits refused since %s: %v", lv.conflicts, lv.conflictSince.Format(time.DateTime), err)
				}
				lv.conflictSaid = lv.now()
				lv.Log.Hintf("another loganom reads the same log into the same state (a daemon, or a batch run with --resume); stop it, and restart this one: until then it records neither the logins it reads nor how far it read, only its alerts (a start with --resume reads again what was not recorded)")
			case lv.now().Sub(lv.conflictSaid) >= DownSaid:
				lv.conflictSaid = lv.now()
				lv.Log.Errorf("%d commits refused since %s: %v", lv.conflicts, lv.conflictSince.Format(time.DateTime), err)
			}
		case lv.closing:
			// no next commit: said, whenever the last one was; nor a
			// last round of deliveries, which would wait as long again
			// for what is pending (systemd's TimeoutStopSec)
			lv.closeDown = true
			lv.Log.Errorf("%v", err)
			lv.Log.Warnf("stopping with the state not answering: what was read since its last commit is not recorded (a start with --resume reads it again), and the alerts pending delivery are sent by the next start")
		case lv.downFails == 0:
			// the state gone: said once, then once every DownSaid
			// (each commit tries again, every MinGap while the log is
			// busy: a line each would flood the journal)
			lv.downSince, lv.downSaid = lv.now(), lv.now()
			lv.Log.Errorf("%v", err)
			lv.Log.Warnf("kept in memory; recorded with the next commit (tried every few seconds, said again every %s while the state does not answer)", DownSaid)
		case lv.now().Sub(lv.downSaid) >= DownSaid:
			lv.downSaid = lv.now()
			lv.Log.Errorf("the state still does not answer: %d commits failed since %s, what was read is kept in memory: %v", lv.downFails+1, lv.downSince.Format(time.DateTime), err)
		}
		if !errors.Is(err, state.ErrConflict) {
			lv.downFails++
		}
		lv.frozen = errors.Is(ctx.Err(), context.DeadlineExceeded)
		if lv.frozen {
			lv.frozenAt = lv.now()
			// the state does not answer at all: no history asked for
			// meanwhile, each would wait as long (a state that refuses
			// at once, or fails a write only, as a full disk, costs
			// the reads nothing)
			lv.St.NoteDown()
		}
		lv.Rep.PutBack(deltas)
		lv.Rep.PutBackSharing(sharing)
		lv.Rep.PutBackFailures(failures)
		lv.Rep.Requeue(changed)
		lv.Rep.Tick(time.Time{}) // memory stays bounded while the state is down
		return nil
	}
	lv.frozen = false
	if len(marks) > 0 {
		// the positions were taken (an alert's commit carries none,
		// and succeeds all the same)
		lv.conflicts = 0
	}
	if lv.downFails > 0 {
		lv.Log.Infof("the state answers again: what was kept in memory since %s is recorded (%d commits had failed)", lv.downSince.Format(time.DateTime), lv.downFails)
		lv.downFails = 0
		lv.St.NoteUp() // the histories are asked for again, at once
	}
	if lv.Expect == nil {
		lv.Expect = map[string]state.Position{}
	}
	for k, p := range saved { // a commit without positions leaves them as they were
		lv.Expect[k] = p
	}
	lv.Rep.Tick(time.Time{})
	lv.retryBlocks(ctx, out)
	if newAlerts(out) && !lv.holdWake {
		lv.wake()
	}
	return out
}

// newAlerts tells whether out made deliveries pending (an alert new or
// more severe).
func newAlerts(out *state.Outcome) bool {
	if out == nil {
		return false
	}
	for _, as := range out.Alerts {
		if as.New || as.Escalated {
			return true
		}
	}
	return false
}

// alertStateOf is what the state decided of user's anomaly in out, and
// whether it is an incident alerted before (open, neither new nor more
// severe than what it was sent with); out nil: nothing was recorded.
func alertStateOf(out *state.Outcome, user string) (state.AlertState, bool) {
	if out == nil {
		return state.AlertState{}, false
	}
	as, ok := out.Alerts[user]
	return as, ok && !as.New && !as.Escalated
}

// retryBlocks makes the automatic blocks that failed, now that the state
// answers (an incident over by now blocks no one: AutoBlock.Block).
func (lv *Live) retryBlocks(ctx context.Context, out *state.Outcome) {
	left := lv.unblocked[:0]
	for _, a := range lv.unblocked {
		if as, known := alertStateOf(out, a.User); a.Alert == nil && known {
			// its alert's commit had failed: this one, recording it,
			// finds its incident alerted before (alert)
			a.Alert = &report.AlertMark{At: as.Opened, NewAddresses: as.NewAddresses}
		}
		block := lv.Block.Block
		if a.Alert != nil {
			block = lv.Block.Retry // an incident alerted before (alert)
		}
		made, err := block(ctx, lv.St, a)
		switch {
		case err != nil:
			lv.Log.Errorf("%v", err)
			left = append(left, a)
		case made:
			lv.Log.Infof("auto-block: %s", report.Escape(a.User+": "+a.Blocked.String()))
		}
	}
	clear(lv.unblocked[len(left):])
	lv.unblocked = left
}

// deliveries sends the alerts, when woken and every RetryEvery: each
// channel in a round of its own (startRound), so that one whose server
// hangs, tries after tries, holds no other channel's new alerts.
func (lv *Live) deliveries() {
	defer close(lv.stopped)
	t := time.NewTicker(lv.RetryEvery)
	defer t.Stop()
	host, _ := os.Hostname()
	for {
		select {
		case <-lv.done:
			// the rounds under way end, then what is pending goes, one
			// last time (unless the state did not answer the last
			// commit: the next start sends it). With a state, all of
			// it within StopDeliveries: a channel that hangs (4 tries
			// of 30 s, and as long again for the last round) would
			// outlast systemd's TimeoutStopSec; what is not sent then
			// stays pending, and the next start sends it. Without
			// one, nothing would keep it: the stop waits.
			if lv.St != nil {
				end := time.AfterFunc(StopDeliveries, lv.endSends)
				defer end.Stop()
			}
			if lv.closeDown {
				// the state did not answer the last commit: a round
				// under way waits on it as long, and can record
				// nothing; what it did not send stays pending
				lv.endSends()
			}
			lv.rounds.Wait()
			if !lv.closeDown && lv.sends.Err() == nil {
				if n := lv.notifierNow(); n != nil && n.again != "" {
					// the last round: what fails in it waits for the
					// next start (no round runs now to read again)
					n.again = "the next start tries again"
				}
				lv.deliver(host)
				lv.rounds.Wait()
			}
			if lv.sends.Err() != nil && !lv.closeDown {
				lv.fail()
				lv.Log.Warnf("stopping: the deliveries still under way after %s were ended; the alerts not sent are sent by the next start", StopDeliveries)
			}
			lv.endSends()
			return
		case <-lv.kick:
		case <-t.C:
		}
		lv.deliver(host)
	}
}

// StopDeliveries bounds the deliveries at the stop, with a state (see
// deliveries): with the last commit's OpTimeout, within systemd's
// TimeoutStopSec=60s.
var StopDeliveries = 20 * time.Second

// deliver starts a round on each channel (with a state, also one for the
// alerts pending on channels no longer configured); a channel whose round
// is under way has another at its end.
func (lv *Live) deliver(host string) {
	n := lv.notifierNow()
	if n == nil || n.off {
		return
	}
	if lv.St != nil {
		for _, ch := range n.DeliveryRounds() {
			lv.startRound(ch, func() {
				// no gaps: the daemon's report counts the failed geo
				// lookups of its whole life, which would mark every
				// alert after one outage of ipinfo.io as incomplete
				ok := n.DeliverOn(lv.sends, lv.Env, lv.Log, host, lv.St, lv.Rep.Accounts(), report.Gaps{}, ch)
				if !ok {
					lv.fail()
				}
				if lv.OnDelivered != nil {
					lv.OnDelivered(ch, ok)
				}
			})
		}
		return
	}
	lv.mu.Lock()
	var chans []string
	for ch := range lv.queue {
		chans = append(chans, ch)
	}
	lv.mu.Unlock()
	for _, ch := range chans {
		lv.startRound(ch, func() { lv.sendQueued(n, host, ch) })
	}
}

// sendQueued sends, without a state, the alerts queued for channel ch;
// those it failed for are queued again, for this channel only: the others
// have sent.
func (lv *Live) sendQueued(n *Notifier, host, ch string) {
	lv.mu.Lock()
	accounts := lv.queue[ch]
	delete(lv.queue, ch)
	lv.mu.Unlock()
	if len(accounts) == 0 {
		return
	}
	if !n.enables(ch) {
		// the config read again (SIGHUP) dropped the channel: nothing
		// keeps the alert for it without a state
		for _, a := range accounts {
			lv.Log.Errorf("the alert for %s was not sent on %s: the config no longer enables it", report.Escape(a.User), ch)
		}
		lv.Log.Hintf("with a state (--db), an alert stays pending until its channel is enabled again")
		lv.fail()
		return
	}
	n.output(lv.Env)
	ok, again := n.sendOn(lv.Env, lv.Log, host, accounts, lv.Rep.Accounts(), report.Gaps{}, ch) // no gaps: see deliver
	if lv.OnDelivered != nil {
		lv.OnDelivered(ch, ok)
	}
	if !ok {
		lv.fail()
	}
	if len(again) == 0 {
		return
	}
	select {
	case <-lv.done:
		// the stop's last round: Close says what was not sent
	default:
		lv.Log.Hintf("%s: tried again in %s", ch, lv.RetryEvery)
	}
	lv.mu.Lock()
	if lv.queue == nil {
		lv.queue = map[string][]*report.Account{}
	}
	lv.queue[ch] = append(again, lv.queue[ch]...)
	lv.mu.Unlock()
}

// startRound runs round in a goroutine of its own, unless channel ch has
// one under way: round then runs at that one's end (for what came
// meanwhile; round, not the one under way again: it holds the notifier
// of when it was asked for, which a SIGHUP may since have replaced). One
// round a channel at a time: no alert goes twice.
func (lv *Live) startRound(ch string, round func()) {
	lv.mu.Lock()
	if lv.busy == nil {
		lv.busy = map[string]bool{}
		lv.again = map[string]func(){}
	}
	if lv.busy[ch] {
		lv.again[ch] = round
		lv.mu.Unlock()
		return
	}
	lv.busy[ch] = true
	lv.rounds.Add(1)
	lv.mu.Unlock()
	go func() {
		defer lv.rounds.Done()
		for {
			round()
			lv.mu.Lock()
			next := lv.again[ch]
			if next == nil {
				lv.busy[ch] = false
				lv.mu.Unlock()
				return
			}
			delete(lv.again, ch)
			round = next
			lv.mu.Unlock()
		}
	}()
}

// readFrozen: a live read of the state ran out of time within OpTimeout,
// and no commit went through since (statecmd.State.ReadFrozenAgo).
func (lv *Live) readFrozen() (time.Duration, bool) {
	if lv.St == nil {
		return 0, false
	}
	ago, ok := lv.St.ReadFrozenAgo()
	return ago, ok && ago < statecmd.OpTimeout
}

// Close records what is left, makes the last deliveries and stops. An
// alert still unsent without a state is reported as lost.
func (lv *Live) Close() {
	if lv.stopPrune != nil {
		lv.stopPrune()
	}
	lv.closing = true
	if ago := lv.now().Sub(lv.frozenAt); lv.frozen && ago < statecmd.OpTimeout {
		// the commit before ran out of time just now (SIGTERM came
		// while the reader waited for it): another would wait as long,
		// past systemd's TimeoutStopSec with that one
		lv.fail()
		lv.closeDown = true
		lv.Log.Errorf("the state did not answer the last commit (%s, %s ago): not tried again", statecmd.OpTimeout, ago.Round(time.Second))
		lv.Log.Warnf("stopping with the state not answering: what was read since its last commit is not recorded (a start with --resume reads it again), and the alerts pending delivery are sent by the next start")
	} else if ago, ok := lv.readFrozen(); ok {
		// a read (an account's history, the site's) ran out of time just
		// now, and no commit went through since: the last commit would
		// wait as long, past TimeoutStopSec with that read
		lv.fail()
		lv.closeDown = true
		lv.Log.Errorf("the state did not answer a read (%s, %s ago): no last commit tried", statecmd.OpTimeout, ago.Round(time.Second))
		lv.Log.Warnf("stopping with the state not answering: what was read since its last commit is not recorded (a start with --resume reads it again), and the alerts pending delivery are sent by the next start")
	} else {
		lv.commit(false, true)
	}
	close(lv.done)
	<-lv.stopped
	lv.mu.Lock()
	defer lv.mu.Unlock()
	for ch, accounts := range lv.queue {
		for _, a := range accounts {
			lv.failed = true
			lv.Log.Errorf("the alert for %s was not sent on %s (no state keeps it to send later)", report.Escape(a.User), ch)
		}
	}
}

// Stage is the live report as a record stage of its own (loganom-report
// --follow): it emits the alert records, and records what is due in the
// state when the input is idle and now and then.
type Stage struct {
	Live *Live
	// NoWake: the source calls Idle again by itself now and then (a
	// follower, at each poll), and must not wait for a commit to be due.
	NoWake bool
	n      int
	timer  *time.Timer
}

// Process judges the record.
func (s *Stage) Process(r *record.Record, emit record.Emit) error {
	if err := s.Live.Rep.Process(r, emit); err != nil {
		return err
	}
	if s.n++; s.n%1024 == 0 {
		return s.Live.Idle(false)
	}
	return nil
}

// Idle (record.Idler) asks to be woken when what was read waits to be
// recorded (a commit was made just now): with Drained, the logins read
// before the input went quiet are recorded within MinGap, more input or
// not.
func (s *Stage) Idle(_ record.Emit, wake func()) (bool, error) {
	d := s.Live.due()
	if d <= 0 || s.NoWake {
		return false, nil
	}
	if s.timer == nil {
		s.timer = time.AfterFunc(d, wake)
	} else {
		s.timer.Reset(d)
	}
	return true, nil
}

// Drained judges what is due (report.Live's Poll: the accounts in memory
// with the other mail servers' logins) and records it: every record read
// has gone through (record.Drainer).
func (s *Stage) Drained(emit record.Emit) error {
	if err := s.Live.Rep.Poll(emit); err != nil {
		return err
	}
	return s.Live.Idle(true)
}

// Flush judges again, with their histories, the accounts met without
// them while the state did not answer, if it answers now (report.Live's
// Flush); Close records the rest.
func (s *Stage) Flush(emit record.Emit) error { return s.Live.Rep.Flush(emit) }

// follow is loganom-report --follow.
func follow(env cli.Env, log *cli.Logger, files []string, rule report.Rule, st *statecmd.State, n *Notifier, block *AutoBlock) int {
	log.W = &cli.LockedWriter{W: env.Stderr}
	log.Slog = cli.NewSlog(log.W, log.Prog, log.Debug)
	rep := report.NewLive(rule)
	st.FeedLive(rep)
	rep.OnError = func(err error) { log.Errorf("%v", err) }
	lv := &Live{Env: env, Log: log, Rep: rep, St: st, Format: "records", Block: block}
	lv.SetNotifier(n)
	lv.Start()
	code := cli.RunRecords(env, log, files, &Stage{Live: lv})
	lv.Close()
	if lv.Failed() && code == cli.ExitOK {
		code = cli.ExitError
	}
	return code
}
