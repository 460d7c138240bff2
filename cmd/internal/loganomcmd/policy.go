package loganomcmd

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loganom/loganom/cmd/internal/blockcmd"
	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/parse"
	"github.com/loganom/loganom/pkg/policy"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/report"
	"github.com/loganom/loganom/pkg/state"
)

// PolicyKeys are the policy service's settings in the daemon: those of
// loganom serve, and [POLICY] logins.
type PolicyKeys struct {
	blockcmd.PolicyFlags
	Logins string `name:"policy-logins" ini:"POLICY.logins" placeholder:"auto|yes|no" help:"With --follow and [POLICY] listen: judge each authenticated mail the policy service sees as a login (policy_login): auto (the default) when no log is read (no -l, no --journal), yes always (a login in the log too counts twice), no never ([POLICY] logins)."`
}

// policyPlan is what the daemon does with the policy service: whether
// it runs one, whether its logins are judged, and whether a log is read.
type policyPlan struct {
	listen, logins, noLog bool
}

// plan decides from the flags (filled from the config) and whether a log
// (-l) or the journal was named.
func (k *PolicyKeys) plan(follow, logNamed bool) (policyPlan, error) {
	var p policyPlan
	switch strings.ToLower(strings.TrimSpace(k.Logins)) {
	case "", "auto":
		p.logins = !logNamed
	case "yes", "true", "on":
		p.logins = true
	case "no", "false", "off":
	default:
		return p, cli.Usagef("--policy-logins ([POLICY] logins) %q: want auto, yes or no", k.Logins)
	}
	if k.Listen == "" || !follow {
		return policyPlan{}, nil // no service: nothing to take logins from
	}
	p.listen = true
	p.noLog = !logNamed && p.logins
	return p, nil
}

// noBlocks is the policy service's source without a state: nothing is
// blocked (its logins are judged all the same).
type noBlocks struct{}

func (noBlocks) Blocks(context.Context, time.Time) ([]state.Block, error) { return nil, nil }

// policyFeed is the policy service inside the daemon: it answers Postfix
// from the state's blocks (read again every [POLICY] refresh, so that an
// automatic block is enforced within it), and, when its logins are
// judged, hands each to the pipeline, on a goroutine of its own, through
// the pipeline's lock.
type policyFeed struct {
	srv     *policy.Server
	addr    string
	stopSrv func(context.Context) error
	logins  chan *record.Record
	dropped atomic.Int64
	done    chan struct{}
	n       atomic.Int64 // logins handed on
}

// feedQueue bounds the logins waiting for the pipeline: a login that
// finds it full is dropped (counted, and said once), never waited for:
// the policy service answers Postfix first.
const feedQueue = 4096

// startPolicy starts the service on k.Listen.
func startPolicy(k *PolicyKeys, st *statecmd.State, caseSensitive, logins bool, log *cli.Logger) (*policyFeed, error) {
	f := &policyFeed{done: make(chan struct{})}
	var src policy.Source = noBlocks{}
	if st != nil {
		src = st.Store
	}
	var onLogin func(*record.Record)
	if logins {
		f.logins = make(chan *record.Record, feedQueue)
		onLogin = func(r *record.Record) {
			r.Type = report.TypePolicyLogin
			select {
			case f.logins <- r:
			default:
				if f.dropped.Add(1) == 1 {
					log.Warnf("policy: the pipeline is behind: logins dropped (the answers to Postfix go on)")
				}
			}
		}
	}
	logger := log.Slog
	srv, addr, stop, err := k.PolicyFlags.Start(src, caseSensitive, logger, onLogin)
	if err != nil {
		return nil, err
	}
	f.srv, f.addr, f.stopSrv = srv, addr.String(), stop
	return f, nil
}

// run hands the logins on to feed (which emits and settles under the
// pipeline's lock) until stop; then the logins queued.
func (f *policyFeed) run(feed func(*record.Record) error, onErr func(error)) {
	defer close(f.done)
	for r := range f.logins {
		if err := feed(r); err != nil {
			onErr(err)
		}
		f.n.Add(1)
	}
}

// stop drains the service (the requests begun are answered) and, once
// no login can come, lets run finish the queue.
func (f *policyFeed) stop(log *cli.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.stopSrv(ctx); err != nil {
		log.Warnf("policy: stopped with connections cut: %v", err)
	}
	if f.logins != nil {
		close(f.logins)
		<-f.done
	}
	s := f.srv.Stats()
	log.Infof("policy: stopped: %d connections, %d requests, %d blocked, %d logins judged, %d dropped",
		s.Connections, s.Requests, s.Blocked, f.n.Load(), f.dropped.Load())
}

// lockedPipeline serialises the pipeline between the log's reader and
// the policy service's logins.
type lockedPipeline struct {
	mu sync.Mutex
	p  *record.Pipeline
}

func (l *lockedPipeline) emit(r *record.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.p.Emit(r)
}

// waitSource is the daemon's input when no log is read: it reads nothing
// and ends when stopped (SIGTERM); the policy service's logins are the
// input. Every tick it settles the pipeline (under its lock), as a
// follower does at each poll: the logins judged are recorded within a
// couple of seconds, also the last of a burst with nothing after it.
type waitSource struct {
	ctx    context.Context
	stop   context.CancelFunc
	tick   time.Duration
	settle func() error
}

func newWaitSource() *waitSource {
	ctx, cancel := context.WithCancel(context.Background())
	return &waitSource{ctx: ctx, stop: cancel, tick: time.Second}
}

func (w *waitSource) Run(record.Emit) error {
	t := time.NewTicker(w.tick)
	defer t.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return nil
		case <-t.C:
			if w.settle != nil {
				if err := w.settle(); err != nil {
					return err
				}
			}
		}
	}
}

func policyOnlyInput() liveInput {
	ws := newWaitSource()
	return liveInput{src: ws, stop: ws.stop, stats: func() parse.Stats { return parse.Stats{} },
		setIdle: func(_ func() (<-chan struct{}, error), settle func() error) { ws.settle = settle }}
}

func (f *policyFeed) String() string { return fmt.Sprintf("policy service on %s", f.addr) }
