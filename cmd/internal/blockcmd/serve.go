package blockcmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/cmd/internal/statecmd"
	"github.com/loganom/loganom/pkg/api"
	"github.com/loganom/loganom/pkg/policy"
	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/state"
)

// DefaultListen is the usual [POLICY] listen (loganom serve runs the
// policy service only when it is set).
const DefaultListen = "127.0.0.1:10040"

// PolicyFlags are the policy service's settings ([POLICY]); a command
// that runs the service embeds them (loganom serve; loganom postfix-sasl
// --follow can too).
type PolicyFlags struct {
	Listen         string        `name:"listen" ini:"POLICY.listen" placeholder:"ADDR" help:"Run the policy service on ADDR: HOST:PORT (like 127.0.0.1:10040) or unix:/PATH ([POLICY] listen; default: no policy service)."`
	Action         string        `name:"action" ini:"POLICY.action" placeholder:"ACTION" help:"The answer to a blocked account ([POLICY] action; default \"REJECT 5.7.1 account temporarily blocked\"; HOLD, DEFER_IF_PERMIT, DISCARD, WARN or a 4NN/5NN code with text are allowed)."`
	OnError        string        `name:"on-error" ini:"POLICY.on_error" placeholder:"dunno|defer" help:"While the state cannot be read, the authenticated mail not known to be blocked gets DUNNO (dunno, the default: mail flows) or DEFER_IF_PERMIT (defer) ([POLICY] on_error)."`
	MaxConnections int           `name:"max-connections" ini:"POLICY.max_connections" placeholder:"N" help:"At most N connections at once; at the limit the one idle longest is closed ([POLICY] max_connections; default 1000)."`
	Refresh        time.Duration `name:"refresh" ini:"POLICY.refresh" placeholder:"TIME" help:"Read the blocks from the state this often ([POLICY] refresh; default 1s)."`
}

// Config checks the flags and returns the policy service's
// configuration, with src and the rest to fill in.
func (f *PolicyFlags) Config(src policy.Source, caseSensitive bool) (policy.Config, error) {
	cfg := policy.Config{Source: src, Action: f.Action, OnError: policy.OnError(f.OnError), CaseSensitiveUsers: caseSensitive,
		MaxConnections: f.MaxConnections, Refresh: f.Refresh}
	if f.Action != "" {
		if err := policy.ValidAction(f.Action); err != nil {
			return cfg, cli.Usagef("--action ([POLICY] action) %q: %v", f.Action, err)
		}
	}
	switch f.OnError {
	case "", "dunno", "defer":
	default:
		return cfg, cli.Usagef("--on-error ([POLICY] on_error) %q: want dunno or defer", f.OnError)
	}
	if f.MaxConnections < 0 {
		return cfg, cli.Usagef("--max-connections ([POLICY] max_connections) %d: want a number above zero", f.MaxConnections)
	}
	if f.Refresh < 0 {
		return cfg, cli.Usagef("--refresh ([POLICY] refresh) %s: want a time above zero", f.Refresh)
	}
	return cfg, nil
}

// Start checks the flags, listens on f.Listen, and serves there in the
// background; stop (Shutdown) drains it. onLogin, when not nil, gets each
// authenticated mail as a policy_login record (policy.Config.OnLogin).
func (f *PolicyFlags) Start(src policy.Source, caseSensitive bool, logger *slog.Logger, onLogin func(*record.Record)) (srv *policy.Server, addr net.Addr, stop func(context.Context) error, err error) {
	cfg, err := f.Config(src, caseSensitive)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg.Logger, cfg.OnLogin = logger, onLogin
	srv, err = policy.New(cfg)
	if err != nil {
		return nil, nil, nil, cli.UsageError{Err: err}
	}
	ln, err := policy.Listen(f.Listen)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("[POLICY] listen %s: %w", f.Listen, err)
	}
	if !policy.Loopback(f.Listen) {
		logger.Warn("policy: listening on an address other machines may reach: whoever connects learns who is blocked and can send login events; restrict it with a firewall", "listen", f.Listen)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	stop = func(ctx context.Context) error {
		err := srv.Shutdown(ctx)
		if e := <-done; !errors.Is(e, policy.ErrServerClosed) && err == nil {
			err = e
		}
		return err
	}
	return srv, ln.Addr(), stop, nil
}

// ServeCmd is loganom serve.
type ServeCmd struct {
	Config             string `short:"c" placeholder:"FILE" help:"INI configuration: [POLICY], [API], [STATE] db, [REPORT] case_sensitive_users (default: ./config.ini when it exists)."`
	DB                 string `name:"db" ini:"STATE.db" placeholder:"PATH|URL" help:"The state whose blocks are enforced (default: [STATE] db, else $XDG_STATE_HOME/loganom/state.db, else /var/lib/loganom/state.db as root, else ~/.local/state/loganom/state.db)."`
	CaseSensitiveUsers bool   `name:"case-sensitive-users" ini:"REPORT.case_sensitive_users" help:"Compare sasl_username as written ([REPORT] case_sensitive_users)."`
	PolicyFlags
	APIFlags
}

// Serve runs loganom serve until SIGTERM or SIGINT; SIGHUP reads the
// blocks again at once.
func Serve(env cli.Env, log *cli.Logger, c *ServeCmd) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	return ServeContext(ctx, env, log, c)
}

// ServeContext is Serve until ctx is done: the policy service ([POLICY]
// listen), the HTTP API ([API] listen), or both.
func ServeContext(ctx context.Context, env cli.Env, log *cli.Logger, c *ServeCmd) int {
	// SIGHUP (systemctl reload) is taken from the start: one that comes
	// while the state is opened (a PostgreSQL that does not answer yet)
	// would kill the process, its default action; it is done once the
	// service runs
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	cfg, err := statecmd.LoadConfig(c.Config, log, c)
	if err != nil {
		return statecmd.Fail(log, err)
	}
	if _, err := c.PolicyFlags.Config(nil, false); err != nil {
		return statecmd.Fail(log, err)
	}
	policyOn, apiOn := c.Listen != "", c.APIFlags.Enabled()
	if !policyOn && !apiOn {
		log.Errorf("nothing to serve: neither [POLICY] listen nor [API] listen is set")
		log.Hintf("[POLICY] listen = %s (or --listen) runs the policy service for Postfix's check_policy_service; [API] listen = %s with [API] token_file (or --api-listen, --api-token-file) runs the HTTP API; either or both", DefaultListen, api.DefaultListen)
		return cli.ExitUsage
	}
	dsn := c.DB
	if dsn == "" {
		if dsn, err = state.DefaultPath(); err != nil {
			return statecmd.Fail(log, err)
		}
	}
	if !state.IsPostgres(dsn) {
		if dir := filepath.Dir(dsn); !isDir(dir) {
			return statecmd.Fail(log, fmt.Errorf("%s: the directory %s does not exist", cfg.Origin("STATE", "db", "--db "+dsn), dir))
		}
	}
	// The daemons' logger, as the live reader's: structured lines that
	// name the program (prog=loganom), its errors among them. (What is
	// refused before it serves stays plain lines, with hints.)
	logger := cli.NewSlog(log.W, log.Prog, cli.DebugFromEnv(env.Getenv))
	src := &lazyStore{dsn: dsn, log: logger}
	defer src.Close()
	// The state is opened now when it can be; when it cannot (PostgreSQL
	// down at boot), the service starts anyway and answers per on_error
	// until it can: mail keeps flowing (the API answers 503 meanwhile).
	octx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = src.get(octx)
	cancel()
	var tooNew *state.TooNewError
	if errors.As(err, &tooNew) {
		return statecmd.Fail(log, err)
	}
	var (
		srv     *policy.Server
		stopSrv func(context.Context) error
	)
	if policyOn {
		var addr net.Addr
		srv, addr, stopSrv, err = c.PolicyFlags.Start(src, c.CaseSensitiveUsers, logger, nil)
		if err != nil {
			return statecmd.Fail(log, err)
		}
		logger.Info("policy: listening", "addr", addr.String(), "action", actionOr(c.Action), "on_error", onErrorOr(c.OnError),
			"max_connections", srv.MaxConnections(), "state", state.Describe(dsn))
	}
	stopPolicy := func() {
		if srv == nil {
			return
		}
		logger.Info("policy: stopping: answering the requests begun, closing the connections")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := stopSrv(sctx); err != nil {
			logger.Warn("policy: stopped with connections cut", "err", err)
		}
		st := srv.Stats()
		logger.Info("policy: stopped", "connections", st.Connections, "requests", st.Requests, "blocked", st.Blocked, "on_error", st.OnError, "bad_requests", st.BadRequests)
	}
	var apiDone <-chan error
	apiCtx, stopAPI := context.WithCancel(context.Background())
	defer stopAPI()
	if apiOn {
		var addr net.Addr
		addr, apiDone, err = c.APIFlags.StartAPI(apiCtx, src, c.CaseSensitiveUsers, logger)
		if err != nil {
			stopPolicy()
			return Fail(log, err)
		}
		logger.Info("api: listening", "addr", apiURL(addr, c.APICert != ""), "tls", c.APICert != "", "token_file", c.APITokenFile, "state", state.Describe(dsn))
		if !api.Loopback(c.APIListen) {
			logger.Warn("api: listening on an address other machines may reach (over TLS): whoever holds a token of the right block can block and unblock any account", "listen", c.APIListen)
		}
	}
	code := cli.ExitOK
	for {
		select {
		case <-hup:
			if srv != nil {
				logger.Info("policy: SIGHUP: reading the blocks")
				srv.RefreshSoon()
			}
			continue
		case err := <-apiDone:
			// the API stopped by itself: a failure
			logger.Error("api: stopped", "err", err)
			apiDone, code = nil, cli.ExitError
		case <-ctx.Done():
		}
		break
	}
	if apiDone != nil {
		logger.Info("api: stopping: answering the requests begun")
		stopAPI()
		if err := <-apiDone; err != nil {
			logger.Warn("api: stopped with requests cut", "err", err)
		} else {
			logger.Info("api: stopped")
		}
	}
	stopPolicy()
	return code
}

// apiURL is the API's base URL, for the log.
func apiURL(addr net.Addr, tls bool) string {
	if addr.Network() == "unix" {
		return "unix:" + addr.String()
	}
	if tls {
		return "https://" + addr.String()
	}
	return "http://" + addr.String()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func actionOr(a string) string {
	if a == "" {
		return policy.DefaultAction
	}
	return a
}

func onErrorOr(a string) string {
	if a == "" {
		return string(policy.OnErrorDunno)
	}
	return a
}

// openTimeout bounds an open of the state by the lazy store, whatever
// its caller's deadline (the API's requests have 15 s, the policy's
// refresh 5 s or twice [POLICY] refresh).
const openTimeout = 10 * time.Second

// lazyStore is the state, opened at its first use and again after a
// failed open: a policy.Source that starts before its database does.
// An open is bounded by its caller's deadline and by timeout; a caller
// that comes while another opens the state waits for that open no longer
// than its own deadline (a PostgreSQL that accepts and never answers holds
// no request for ever), then tries itself when that open failed.
type lazyStore struct {
	dsn     string
	log     *slog.Logger
	timeout time.Duration // 0: openTimeout

	mu      sync.Mutex    // guards what follows
	st      state.Store   // nil: not opened (yet)
	opening chan struct{} // closed when the open under way ends; nil: none
	closed  bool
}

var errLazyClosed = errors.New("closed")

func (l *lazyStore) get(ctx context.Context) (state.Store, error) {
	for {
		l.mu.Lock()
		st, wait, closed := l.st, l.opening, l.closed
		switch {
		case closed:
			l.mu.Unlock()
			return nil, fmt.Errorf("open the state %s: %w", state.Describe(l.dsn), errLazyClosed)
		case st != nil:
			l.mu.Unlock()
			return st, nil
		case wait != nil:
			l.mu.Unlock()
			select {
			case <-wait: // opened, or failed: look again
				continue
			case <-ctx.Done():
				return nil, fmt.Errorf("open the state %s: waiting for the open under way: %w", state.Describe(l.dsn), ctx.Err())
			}
		}
		done := make(chan struct{})
		l.opening = done
		l.mu.Unlock()
		return l.open(ctx, done)
	}
}

// open opens the state, and tells the callers waiting (done) that it ended.
func (l *lazyStore) open(ctx context.Context, done chan struct{}) (state.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(l.timeout, openTimeout))
	st, err := state.Open(ctx, l.dsn, state.Options{})
	cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.opening = nil
	close(done)
	if err != nil {
		return nil, fmt.Errorf("open the state: %w", err) // err names it
	}
	if l.closed { // Close came meanwhile
		st.Close()
		return nil, fmt.Errorf("open the state %s: %w", state.Describe(l.dsn), errLazyClosed)
	}
	l.st = st
	return st, nil
}

// Blocks is policy.Source and api.Store.
func (l *lazyStore) Blocks(ctx context.Context, now time.Time) ([]state.Block, error) {
	st, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return st.Blocks(ctx, now)
}

// PutBlock, RemoveBlock, History and Alerts are api.Store.
func (l *lazyStore) PutBlock(ctx context.Context, b state.Block) (*state.Block, error) {
	st, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return st.PutBlock(ctx, b)
}

func (l *lazyStore) RemoveBlock(ctx context.Context, user, by, reason string, at time.Time) (bool, error) {
	st, err := l.get(ctx)
	if err != nil {
		return false, err
	}
	return st.RemoveBlock(ctx, user, by, reason, at)
}

func (l *lazyStore) History(ctx context.Context, user string) ([]state.Address, error) {
	st, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return st.History(ctx, user)
}

func (l *lazyStore) Alerts(ctx context.Context, since time.Time) ([]state.Alert, error) {
	st, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return st.Alerts(ctx, since)
}

// Close closes the state; an open under way closes what it opens.
func (l *lazyStore) Close() error {
	l.mu.Lock()
	st := l.st
	l.st, l.closed = nil, true
	l.mu.Unlock()
	if st == nil {
		return nil
	}
	return st.Close()
}
