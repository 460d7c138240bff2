package loganomcmd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/loganom/loganom/cmd/internal/blockcmd"
	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/config"
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

// swap is a stage that can be replaced between two records: the
// filter, when SIGHUP reads the config again. taken, when set, is told of
// the new stage on the pipeline's goroutine.
type swap struct {
	cur   record.Stage
	next  atomic.Pointer[record.Stage]
	taken func(record.Stage)
}

func (s *swap) take() {
	if n := s.next.Swap(nil); n != nil {
		s.cur = *n
		if s.taken != nil {
			s.taken(s.cur)
		}
	}
}

func (s *swap) Process(r *record.Record, emit record.Emit) error {
	s.take()
	return s.cur.Process(r, emit)
}

func (s *swap) Flush(emit record.Emit) error { return s.cur.Flush(emit) }

// liveRun is what loganom postfix-sasl --follow needs to run and to read
// its config again.
type liveRun struct {
	env  cli.Env
	log  *cli.Logger
	c    *postfixSASLCmd
	rule report.Rule
	st   *statecmd.State
	flt  *swap
	lv   *reportcmd.Live
}

// reloadConfig reads the config again (SIGHUP): the whitelist and the
// channels (the rest, such as the state or the log, needs a restart). The
// new channels serve the next deliveries; the new whitelist, the next
// record. A config that does not load keeps the old one, with an error.
func (l *liveRun) reloadConfig() {
	cfg, err := config.LoadConfig(l.c.Config)
	if err == nil {
		cfg.Check(l.log)
	}
	var ff filtercmd.FilterFlags
	var n *reportcmd.Notifier
	var flt *filtercmd.Filter
	if err == nil {
		ff = l.c.rawFilter
		err = cfg.Fill(&ff)
	}
	if err == nil {
		flt, err = ff.Build(cfg, l.log, l.rule.CaseSensitive)
	}
	if err == nil {
		n, err = l.c.NotifyFlags.Prepare(cfg, l.c.Exec)
	}
	if err != nil {
		l.log.Errorf("SIGHUP: %v", err)
		l.log.Warnf("the config was not read again: the old one stays in force")
		return
	}
	flt.Explain = true
	var st record.Stage = flt
	l.flt.next.Store(&st)
	l.lv.SetNotifier(n)
	l.log.Infof("SIGHUP: config %s read again (whitelist and channels)", cfg.Path)
}

// liveInput is what the live pipeline reads: a source that follows (or
// a stream read to its end), how to stop it, the positions it reached and
// where it tells that it has caught up.
type liveInput struct {
	src   record.Source
	stop  func()                       // ends src.Run early (SIGTERM); nil: it cannot be
	marks func() map[string]input.Mark // nil: none to save
	// setIdle gives the source the pipeline's idle: a stream calls it
	// when nothing is ready and waits on its channel (wakes); a follower
	// settles the pipeline when caught up, and again at its next poll.
	setIdle func(idle func() (<-chan struct{}, error), settle func() error)
	wakes   bool
	stats   func() parse.Stats
	// policy: the policy service in this process, and whether its
	// logins are judged (or are the only input: policyOnlyInput)
	policy policyPlan
	// fresh says where the inputs that --resume found no position for
	// are read from ("": none)
	fresh string
}

// follow runs the live pipeline: parse (following), enrich, filter and
// the live report, until the input ends or SIGTERM/SIGINT, then records
// what is left and makes the last deliveries; SIGHUP reads the config
// again (the whitelist and the channels).
func follow(env cli.Env, log *cli.Logger, c *postfixSASLCmd, in liveInput, enr record.Stage, flt *filtercmd.Filter,
	rule report.Rule, st *statecmd.State, n *reportcmd.Notifier, expect map[string]state.Position, onFailure *func(string, time.Time),
	enrStats func() enrich.Stats) int {
	log.W = &cli.LockedWriter{W: env.Stderr}
	log.Slog = cli.NewSlog(log.W, log.Prog, log.Debug)
	var met *metrics
	if c.Metrics != "" {
		met = newMetrics()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		addr, err := met.serve(ctx, c.Metrics, log)
		if err != nil {
			log.Errorf("metrics: %v", err)
			log.Hintf("[SERVE] metrics (or --metrics) names the address to listen on, like 127.0.0.1:9310; is it in use?")
			return cli.ExitUsage
		}
		log.Infof("metrics on http://%s/metrics", addr)
	}
	rep := report.NewLive(rule)
	st.FeedLive(rep)
	rep.OnError = func(err error) { log.Errorf("%v", err) }
	*onFailure = rep.Failure
	out := bufio.NewWriter(env.Stdout)
	lv := &reportcmd.Live{Env: env, Log: log, Rep: rep, St: st, Format: c.Format, Out: out, Marks: in.marks, Expect: expect, Block: c.ReportFlags.AutoBlock()}
	if met != nil {
		lv.OnNotifier = func(n *reportcmd.Notifier) { n.OnResult = met.delivered }
	}
	lv.SetNotifier(n)
	l := &liveRun{env: env, log: log, c: c, rule: rule, st: st, flt: &swap{cur: flt}, lv: lv}
	// on the pipeline's goroutine, with the new whitelist in force: the
	// history is read with it, and the names its patterns could match are
	// checked forward (also those of addresses met before the reload)
	l.flt.taken = func(s record.Stage) {
		f := s.(*filtercmd.Filter)
		if st != nil {
			st.Whitelist = f.Why
		}
		if e, ok := enr.(interface{ SetConfirm(func(string) bool) }); ok {
			e.SetConfirm(f.NeedsConfirmation)
		}
	}
	stage := &reportcmd.Stage{Live: lv, NoWake: !in.wakes}
	p := record.NewPipeline(func(*record.Record) error { return nil }, nil, enr, l.flt, stage)
	emit, flush := p.Emit, p.Flush
	var pf *policyFeed
	lp := &lockedPipeline{p: p}
	if in.policy.listen {
		var err error
		if pf, err = startPolicy(&c.PolicyKeys, st, rule.CaseSensitive, in.policy.logins, log); err != nil {
			log.Errorf("policy: %v", err)
			return cli.ExitCodeOf(err)
		}
		met.policy(pf)
		log.Infof("policy: listening on %s; blocks read from %s every %s; %s", pf.addr, stateWords(st), orDefault(c.Refresh, time.Second),
			map[bool]string{true: "its logins are judged (policy_login)", false: "its logins are not judged ([POLICY] logins)"}[in.policy.logins])
		if pf.logins != nil {
			// the log's reader and the service's logins take turns
			emit = lp.emit
			setIdle := in.setIdle
			if setIdle != nil {
				in.setIdle = func(idle func() (<-chan struct{}, error), settle func() error) {
					setIdle(func() (<-chan struct{}, error) {
						lp.mu.Lock()
						defer lp.mu.Unlock()
						return idle()
					}, func() error {
						lp.mu.Lock()
						defer lp.mu.Unlock()
						return settle()
					})
				}
			}
			if f := *onFailure; f != nil {
				// the parser's failures meet the detectors under the lock too
				*onFailure = func(ip string, t time.Time) {
					lp.mu.Lock()
					defer lp.mu.Unlock()
					f(ip, t)
				}
			}
			drainOK := in.marks == nil // no positions that a drain would save ahead of the log's reader
			go pf.run(func(r *record.Record) error {
				lp.mu.Lock()
				defer lp.mu.Unlock()
				if err := p.Emit(r); err != nil {
					return err
				}
				if drainOK {
					// judged at once: the lookups are waited for
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					return p.Settle(ctx)
				}
				return nil // the log's reader settles within a second
			}, func(err error) { log.Errorf("policy login: %v", err) })
		}
	}
	var policySrv interface{ RefreshSoon() } // SIGHUP reads the blocks again at once
	if pf != nil {
		policySrv = pf.srv
		if st == nil {
			log.Warnf("policy: no state (--no-db): nothing is blocked; the service only sees logins")
		}
	}
	if c.APIFlags.Enabled() {
		// the HTTP API in this process: blocks, accounts, alerts, on the
		// same state (its blocks are those the policy service enforces)
		if st == nil {
			log.Errorf("api: [API] listen needs the state: the blocks, accounts and alerts it serves are there")
			log.Hintf("drop --no-db, or run the API apart: loganom serve -c CONFIG")
			return cli.ExitUsage
		}
		ctx, cancel := context.WithCancel(context.Background())
		addr, done, err := c.APIFlags.StartAPI(ctx, st.Store, rule.CaseSensitive, log.Slog)
		if err != nil {
			cancel()
			return blockcmd.Fail(log, fmt.Errorf("api: %w", err))
		}
		log.Infof("api: listening on %s", addr)
		defer func() {
			cancel()
			if err := <-done; err != nil {
				log.Errorf("api: %v", err)
			}
		}()
	}
	stopPolicy := func() {
		if pf != nil {
			pf.stop(log)
			pf = nil
		}
	}
	defer stopPolicy()
	sync := func() {
		if met == nil {
			return
		}
		var marks map[string]input.Mark
		if in.marks != nil {
			marks = in.marks()
		}
		met.sync(in.stats(), enrStats(), lv.Alerts(), rep.Tracked(), rep.OtherLogins(), marks)
	}
	if in.setIdle != nil {
		in.setIdle(func() (<-chan struct{}, error) {
			wake, err := p.Idle()
			sync()
			return wake, err
		}, func() error {
			// the records held for their lookups leave as each is
			// done (a DNS answer's time at most): the follower cannot
			// wait on p.Idle's channel along with the log
			err := p.Settle(context.Background())
			sync()
			return err
		})
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	select {
	case s := <-c.hup: // while it started: the config is read again now
		sigs <- s
	default:
	}
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		for {
			select {
			case <-quit:
				return
			case s := <-sigs:
				if s == syscall.SIGHUP {
					l.reloadConfig()
					if policySrv != nil {
						policySrv.RefreshSoon()
					}
					continue
				}
				log.Infof("%s: stopping: the rest is read, recorded and delivered", s)
				if in.stop != nil {
					in.stop()
				}
			}
		}
	}()

	lv.Start()
	what := strings.Join(c.Log, ", ")
	if c.Journal {
		what = "the journal (" + strings.Join(c.JournalUnit, ", ") + ")"
	}
	if in.policy.noLog {
		what = "the policy service's logins (no log read)"
	}
	what += in.fresh
	log.Infof("following %s; %s", what, stateWords(st))
	err := in.src.Run(emit)
	if errors.Is(err, record.ErrStop) {
		err = nil
	}
	stopPolicy() // its last logins go through before the end
	err = errors.Join(err, flush())
	failed := false
	if err != nil {
		var ie *parse.InputsError
		if !errors.As(err, &ie) {
			log.Errorf("%v", err)
		}
		failed = true
	}
	lv.Close()
	sync()
	if ferr := out.Flush(); ferr != nil {
		log.Errorf("write output: %v", ferr)
		failed = true
	}
	stopped := fmt.Sprintf("stopped: %s, %s", cli.Plural(int64(rep.Accounts()), "account", "accounts"), cli.Plural(int64(lv.Alerts()), "alert", "alerts"))
	if failed || lv.Failed() {
		// the error may be far up in the journal, and over since (a
		// state down for a while, a channel that answers again)
		why := "for the error said above"
		if at := lv.FirstFailure(); !at.IsZero() {
			why = "for the errors said while it ran, the first at " + at.Local().Format(time.DateTime) + " (some may be mended since)"
		}
		log.Infof("%s; exit status 1, %s", stopped, why)
		return cli.ExitError
	}
	log.Infof("%s", stopped)
	return cli.ExitOK
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func stateWords(st *statecmd.State) string {
	if st == nil {
		return "no state: alerts are sent once each, and nothing is remembered"
	}
	return "state " + st.Store.Describe()
}

// followInput is the input of --follow: the logs named, followed (from
// where each ends when the daemon says it follows, or with --resume from
// the positions saved, src.Opts.Resume, and a log without one from the
// oldest file rotated from it, src.Opts.Rotated), or the journal; or stdin, read
// as it comes until it ends. With a state, the positions saved are what
// the first commit expects to replace (expect).
func followInput(log *cli.Logger, c *postfixSASLCmd, src *parse.Source, st *statecmd.State, expect map[string]state.Position) (liveInput, map[string]state.Position, int) {
	if !c.Journal && len(src.Names) == 1 && src.Names[0] == "-" {
		ss := newStreamSource(src.Opts.Stdin, src.Opts)
		return liveInput{src: ss, stop: ss.stop, wakes: true, stats: func() parse.Stats { return ss.Stats },
			setIdle: func(idle func() (<-chan struct{}, error), _ func() error) { ss.idle = idle }}, expect, cli.ExitOK
	}
	ctx, cancel := context.WithCancel(context.Background())
	fs := &parse.FollowSource{Opts: src.Opts, Context: ctx, Tick: time.Second}
	fs.Opts.Resume = map[string]*input.Mark{}
	fresh := ""
	journal := ""
	if c.Journal {
		journal = parsecmd.JournalPath(c.JournalUnit, nil)
		fs.Journal = &parse.JournalOptions{Command: c.Journalctl, Units: c.JournalUnit}
		if st != nil {
			saved, err := st.Saved(context.Background(), []string{journal})
			if err != nil {
				cancel()
				log.Errorf("%v", err)
				return liveInput{}, nil, cli.ExitError
			}
			expect = saved
			if p, ok := saved[journal]; ok && c.Resume {
				fs.Journal.Cursor, fs.Journal.CursorTime = p.FP, p.Updated
			} else if c.Resume {
				// never read: what the journal holds first, as
				// loganom-parse --journal --resume reads it
				fs.Journal.FromStart = true
				fresh = ", from its start (no position saved yet)"
			}
		}
	} else {
		for _, n := range src.Names {
			if n == "-" {
				cancel()
				log.Errorf("--follow reads either stdin (-l -) or files, not both")
				return liveInput{}, nil, cli.ExitUsage
			}
		}
		if st != nil && expect == nil {
			// from the end, but the positions saved are replaced
			_, exp, err := st.Positions(context.Background(), src.Names)
			if err != nil {
				cancel()
				log.Errorf("%v", err)
				return liveInput{}, nil, cli.ExitCodeOf(err)
			}
			expect = exp
		}
		fs.Files = src.Names
		var never []string
		for _, n := range src.Names {
			m := src.Opts.Resume[n]
			if m == nil {
				end, err := endMark(n) // (and a compressed log refused)
				if err != nil {
					cancel()
					log.Errorf("%v", err)
					return liveInput{}, nil, cli.ExitError
				}
				if c.Resume {
					// Never read: the weeks on disk first, as a
					// batch --resume run reads them (src.Opts.Rotated).
					never = append(never, n)
				} else {
					m = end
				}
			}
			fs.Opts.Resume[n] = m
		}
		if len(never) > 0 {
			fresh = ", from the oldest file rotated from " + strings.Join(never, ", ") + " (no position saved yet)"
		}
	}
	in := liveInput{src: fs, stop: cancel, stats: func() parse.Stats { return fs.Stats }, fresh: fresh,
		setIdle: func(_ func() (<-chan struct{}, error), settle func() error) {
			// caught up, and every second: what was read is recorded
			fs.OnIdle, fs.OnTick = settle, settle
			if fresh != "" {
				// a first start reads the weeks on disk (minutes):
				// say when that is done, and what it held
				said := false
				fs.OnIdle = func() error {
					if err := settle(); err != nil || said {
						return err
					}
					said = true
					log.Infof("caught up: %s read, %s; following what comes", cli.Plural(fs.Stats.Lines, "line", "lines"), cli.Plural(fs.Stats.Logins, "login", "logins"))
					return nil
				}
			}
		}}
	if st != nil {
		in.marks = func() map[string]input.Mark {
			m := fs.Marks()
			if m == nil {
				m = map[string]input.Mark{}
			}
			if journal != "" {
				if cur := fs.Cursor(); cur != "" {
					m[journal] = input.Mark{FP: cur}
				}
			}
			return m
		}
	}
	return in, expect, cli.ExitOK
}

// endMark is the mark of the end of the log name's last whole line; nil
// when there is no log yet (it is read from its start when it comes).
// A log is followed from there, so that what is written once the daemon
// has said it follows is read.
func endMark(name string) (*input.Mark, error) {
	pieces, err := input.Plan(name, nil, nil)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer input.ClosePieces(pieces)
	p := pieces[len(pieces)-1]
	if p.Kind != input.Plain {
		return nil, fmt.Errorf("%s: a %s file cannot be followed", name, p.Kind)
	}
	end := p.Size
	const back = 64 << 10
	from := max(end-back, 0)
	buf := make([]byte, end-from)
	if _, err := p.File.ReadAt(buf, from); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
		end = from + int64(i) + 1
	} else if from == 0 {
		end = 0
	} // else: a last line longer than 64 KiB, taken as whole
	m := p.Mark(end)
	return &m, nil
}
