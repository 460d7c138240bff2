// Package policy is a Postfix policy service (SMTPD_POLICY_README: Postfix's
// check_policy_service asks it about each mail): a request whose
// sasl_username is blocked in the state gets the configured action
// (REJECT by default), any other DUNNO. The blocks are held in memory,
// read again from the state every few seconds, so that an answer never
// waits for the database; a block expires at its time even between
// reads. When the state cannot be read, the blocks last read still apply,
// and the other authenticated requests get DUNNO (on_error = dunno, so
// that mail keeps flowing) or DEFER_IF_PERMIT (on_error = defer).
//
// Each authenticated mail is also offered, as a record of type
// policy_login, to a callback: a source of login events without a log.
package policy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loganom/loganom/pkg/record"
	"github.com/loganom/loganom/pkg/state"
)

// Defaults of Config.
const (
	DefaultAction         = "REJECT 5.7.1 account temporarily blocked"
	DefaultDeferAction    = "DEFER_IF_PERMIT 4.3.0 account check temporarily unavailable"
	DefaultMaxConnections = 1000
	DefaultRefresh        = time.Second
	// DefaultIdleTimeout is longer than Postfix's own
	// smtpd_policy_service_max_idle (300s), after which Postfix closes
	// a connection it does not use.
	DefaultIdleTimeout    = 330 * time.Second
	DefaultRequestTimeout = 10 * time.Second
)

// OnError says what the authenticated requests not known to be blocked
// get while the state cannot be read.
type OnError string

const (
	OnErrorDunno OnError = "dunno" // DUNNO: mail keeps flowing
	OnErrorDefer OnError = "defer" // DEFER_IF_PERMIT: try again later
)

// Config configures a Server.
type Config struct {
	Source Source // the blocks; required
	// Action is the answer to a blocked account (without "action="):
	// DefaultAction when empty. See ValidAction.
	Action  string
	OnError OnError // "" is OnErrorDunno
	// CaseSensitiveUsers takes sasl_username as written ([REPORT]
	// case_sensitive_users), else it is compared in lower case, as the
	// state keeps it (record.CanonicalUser).
	CaseSensitiveUsers bool
	Refresh            time.Duration // how often the blocks are read (DefaultRefresh)
	MaxConnections     int           // DefaultMaxConnections
	IdleTimeout        time.Duration // between requests (DefaultIdleTimeout)
	RequestTimeout     time.Duration // to send a whole request once begun (DefaultRequestTimeout)
	Limits             Limits
	Logger             *slog.Logger     // nil: discard
	Now                func() time.Time // the clock of expiry and events; nil: time.Now
	// OnLogin, when set, gets each authenticated mail as a record of type
	// "policy_login": User (canonical), IP (client_address), Time (now),
	// Service "policy", Command (protocol_state), QueueID, Method,
	// ClientName, Port. One per mail transaction (Postfix's instance
	// attribute: the requests of every recipient, DATA and END-OF-MESSAGE
	// of one mail are one login); without an instance, one per request.
	// It is called from the connection's goroutine, before the answer is
	// sent: it must not block. The record is the callee's.
	OnLogin func(*record.Record)
}

// ValidAction checks an action for a blocked account: one line of
// printable ASCII, at most 450 bytes, that starts with an access(5)
// action that stops or holds mail: REJECT, DEFER, DEFER_IF_PERMIT, HOLD,
// DISCARD, WARN (logs only: a dry run), each with optional text, or a 4NN
// or 5NN code with text.
//
// Not DEFER_IF_REJECT: it defers only when a later restriction rejects,
// and the one after check_policy_service is permit_sasl_authenticated, so
// the blocked account's mail goes through. Not a code without text:
// Postfix takes an all-numeric answer ("550") for OK, a permit, and a
// code followed by spaces only for an unknown restriction (451 4.3.5
// Server configuration error).
func ValidAction(a string) error {
	if a == "" {
		return errors.New("empty")
	}
	if len(a) > 450 {
		return errors.New("longer than 450 bytes")
	}
	for i := 0; i < len(a); i++ {
		if c := a[i]; c < ' ' || c > '~' {
			return fmt.Errorf("holds %q: one line of printable ASCII only", a[i:i+1])
		}
	}
	word, text, _ := strings.Cut(a, " ")
	switch strings.ToUpper(word) {
	case "REJECT", "DEFER", "DEFER_IF_PERMIT", "HOLD", "DISCARD", "WARN":
		return nil
	case "DEFER_IF_REJECT":
		return errors.New("DEFER_IF_REJECT does not block: it defers only when a later restriction rejects, and permit_sasl_authenticated lets the account's mail through; want DEFER_IF_PERMIT")
	}
	if len(word) == 3 && (word[0] == '4' || word[0] == '5') && word[1] >= '0' && word[1] <= '9' && word[2] >= '0' && word[2] <= '9' {
		if strings.TrimSpace(text) == "" {
			return fmt.Errorf("the code %s needs a text after it: Postfix takes a bare number for OK (the mail goes through), like 550 5.7.1 account blocked", word)
		}
		return nil
	}
	return fmt.Errorf("%q is not an action that blocks: want REJECT, DEFER, DEFER_IF_PERMIT, HOLD, DISCARD, WARN, each with optional text, or a 4NN/5NN code with text", word)
}

// Stats count what the server did.
type Stats struct {
	Connections int64 // accepted
	Requests    int64 // answered
	Blocked     int64 // answered with the action
	OnError     int64 // answered per on_error, the state unreadable
	BadRequests int64 // connections closed for a bad or unfinished request
	Evicted     int64 // idle connections closed to make room at the limit
	Refused     int64 // connections closed at once at the limit (none idle)
}

// Server is a policy service. Its methods are safe for concurrent use.
type Server struct {
	cfg        Config
	log        *slog.Logger
	now        func() time.Time
	blocked    []byte // "action=...\n\n"
	errAnswer  []byte // the answer per on_error
	blocks     blockCache
	limitLog   rateLimit
	stateLog   rateLimit
	badLog     rateLimit
	acceptLog  rateLimit
	refreshNow chan struct{}

	mu        sync.Mutex
	lns       map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closing   atomic.Bool
	started   bool
	stop      chan struct{}
	refresher sync.WaitGroup
	wg        sync.WaitGroup // the connections

	nConns, nRequests, nBlocked, nOnError, nBad, nEvicted, nRefused atomic.Int64
}

var dunno = []byte("action=DUNNO\n\n")

// New makes a server; it reads nothing until Serve or Refresh.
func New(cfg Config) (*Server, error) {
	if cfg.Source == nil {
		return nil, errors.New("policy: no source of blocks")
	}
	if cfg.Action == "" {
		cfg.Action = DefaultAction
	}
	if err := ValidAction(cfg.Action); err != nil {
		return nil, fmt.Errorf("action %q: %w", cfg.Action, err)
	}
	errAnswer := "DUNNO"
	switch cfg.OnError {
	case "", OnErrorDunno:
		cfg.OnError = OnErrorDunno
	case OnErrorDefer:
		errAnswer = DefaultDeferAction
	default:
		return nil, fmt.Errorf("on_error %q: want dunno or defer", cfg.OnError)
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Limits.Line <= 0 {
		cfg.Limits.Line = DefaultMaxLine
	}
	if cfg.Limits.Request <= 0 {
		cfg.Limits.Request = DefaultMaxRequest
	}
	if cfg.Limits.Line < 64 {
		cfg.Limits.Line = 64
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	// A read of the blocks may take this long before it counts as failed.
	timeout := max(5*time.Second, 2*cfg.Refresh)
	s := &Server{
		cfg: cfg, log: log, now: now,
		blocked:    []byte("action=" + cfg.Action + "\n\n"),
		errAnswer:  []byte("action=" + errAnswer + "\n\n"),
		blocks:     blockCache{src: cfg.Source, now: now, timeout: timeout},
		limitLog:   rateLimit{every: time.Minute, now: now},
		stateLog:   rateLimit{every: time.Minute, now: now},
		badLog:     rateLimit{every: time.Second, burst: 10, now: now},
		acceptLog:  rateLimit{every: time.Minute, now: now},
		refreshNow: make(chan struct{}, 1),
		lns:        map[net.Listener]struct{}{},
		conns:      map[*conn]struct{}{},
		stop:       make(chan struct{}),
	}
	return s, nil
}

// Stats returns the counts so far.
func (s *Server) Stats() Stats {
	return Stats{Connections: s.nConns.Load(), Requests: s.nRequests.Load(), Blocked: s.nBlocked.Load(), OnError: s.nOnError.Load(),
		BadRequests: s.nBad.Load(), Evicted: s.nEvicted.Load(), Refused: s.nRefused.Load()}
}

// Refresh reads the blocks from the source now, and logs an error as the
// periodic reads do (at most once a minute).
func (s *Server) Refresh(ctx context.Context) error {
	err, recovered, fails := s.blocks.refresh(ctx)
	if err != nil {
		if ok, suppressed := s.stateLog.allow(); ok {
			s.log.Error("policy: cannot read the state; the blocks last read still apply, other authenticated mail gets "+string(s.cfg.OnError)+" (on_error)",
				"err", err, "failures", fails, "suppressed", suppressed)
		}
		return err
	}
	if recovered {
		s.log.Info("policy: the state is readable again", "failures", fails)
	}
	return nil
}

// RefreshSoon asks the refresher to read the blocks now (a signal, or a
// block just made in the same process), without waiting.
func (s *Server) RefreshSoon() {
	select {
	case s.refreshNow <- struct{}{}:
	default:
	}
}

// Blocked tells whether user (as Postfix gives sasl_username) is blocked
// now, by the blocks in memory.
func (s *Server) Blocked(user string) (state.Block, bool) {
	return s.blocks.lookup(record.CanonicalUser(user, s.cfg.CaseSensitiveUsers), s.now())
}

// MaxConnections is the connection limit in force.
func (s *Server) MaxConnections() int { return s.cfg.MaxConnections }

// Failing tells whether the last read of the state failed.
func (s *Server) Failing() bool { return s.blocks.failing.Load() }

// start reads the blocks (once, waiting) and starts the refresher.
func (s *Server) start() {
	s.mu.Lock()
	if s.started || s.closing.Load() {
		s.mu.Unlock()
		return
	}
	s.started = true
	s.refresher.Add(1)
	s.mu.Unlock()
	s.Refresh(context.Background())
	go func() {
		defer s.refresher.Done()
		t := time.NewTicker(s.cfg.Refresh)
		defer t.Stop()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { <-s.stop; cancel() }()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			case <-s.refreshNow:
			}
			s.Refresh(ctx)
		}
	}()
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("policy: server closed")

// Serve answers the connections of ln until Shutdown (then it returns
// ErrServerClosed) or until ln is closed by another; an accept that fails
// otherwise is logged and tried again. The first Serve reads the blocks
// before it accepts, and starts reading them every Config.Refresh.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	s.start()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				// closed under the server: nothing more can come
				s.mu.Lock()
				delete(s.lns, ln)
				s.mu.Unlock()
				return err
			}
			// out of file descriptors or memory (EMFILE, ENFILE,
			// ENOBUFS, ENOMEM), a connection reset or failed before it
			// was accepted (ECONNABORTED, EPROTO, ENETUNREACH..., which
			// accept(2) says to retry), a firewall's EPERM: wait a little
			// and go on. Returning would leave the socket open with no
			// one to answer: Postfix's requests would wait in its
			// backlog for smtpd_policy_service_timeout, every mail's.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			if ok, n := s.acceptLog.allow(); ok {
				s.log.Error("policy: accept failed, waiting", "err", err, "wait", backoff, "suppressed", n)
			}
			select {
			case <-time.After(backoff):
			case <-s.stop:
				return ErrServerClosed
			}
			continue
		}
		backoff = 0
		s.accept(nc)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// accept registers a new connection, making room at the limit by closing
// the connection idle longest; when none is idle it closes the new one.
func (s *Server) accept(nc net.Conn) {
	c := &conn{s: s, nc: nc}
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if len(s.conns) >= s.cfg.MaxConnections {
		victim := s.oldestIdle()
		if victim == nil {
			s.mu.Unlock()
			nc.Close()
			s.nRefused.Add(1)
			if ok, n := s.limitLog.allow(); ok {
				s.log.Warn("policy: connection limit reached and every connection is busy: refused a new one (raise [POLICY] max_connections?)",
					"max_connections", s.cfg.MaxConnections, "client", remote(nc), "suppressed", n)
			}
			return
		}
		delete(s.conns, victim) // it is closing: it no longer counts
		s.nEvicted.Add(1)
		if ok, n := s.limitLog.allow(); ok {
			s.log.Warn("policy: connection limit reached: closed the connection idle longest to make room",
				"max_connections", s.cfg.MaxConnections, "idle_client", remote(victim.nc), "idle", s.now().Sub(time.Unix(0, victim.idleSince.Load())).Round(time.Millisecond), "suppressed", n)
		}
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.nConns.Add(1)
	go c.serve()
}

// oldestIdle takes (state closing) and returns the connection idle
// longest, or nil when none is idle. s.mu is held.
func (s *Server) oldestIdle() *conn {
	for {
		var best *conn
		var since int64
		for c := range s.conns {
			if c.state.Load() == stateIdle {
				if t := c.idleSince.Load(); best == nil || t < since {
					best, since = c, t
				}
			}
		}
		if best == nil {
			return nil
		}
		if best.state.CompareAndSwap(stateIdle, stateClosing) {
			best.nc.SetReadDeadline(aLongTimeAgo)
			return best
		}
	}
}

var aLongTimeAgo = time.Unix(1, 0)

// Shutdown stops accepting, closes the idle connections, lets the busy
// ones answer the request they are reading, then close, and waits for
// them until ctx is done, when it closes what is left and returns
// ctx.Err(). It stops the refresher.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing.Swap(true) {
		close(s.stop)
	}
	for ln := range s.lns {
		ln.Close()
		delete(s.lns, ln)
	}
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosing) {
			c.nc.SetReadDeadline(aLongTimeAgo)
		}
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); s.refresher.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

// Connection states.
const (
	stateBusy    int32 = iota // reading or answering a request
	stateIdle                 // waiting for the next request
	stateClosing              // told to close (the limit, Shutdown)
)

type conn struct {
	s         *Server
	nc        net.Conn
	state     atomic.Int32
	idleSince atomic.Int64 // unix ns
	req       request
	user      []byte // the canonical sasl_username
	instance  []byte // the last login's mail transaction
}

func remote(nc net.Conn) string {
	if a := nc.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.String()
	}
	return "unix"
}

func (c *conn) close() {
	s := c.s
	c.nc.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

func (c *conn) serve() {
	s := c.s
	defer c.close()
	defer func() {
		// Never take the process down for one connection.
		if p := recover(); p != nil {
			s.log.Error("policy: internal error, connection closed", "client", remote(c.nc), "panic", fmt.Sprint(p))
		}
	}()
	br := bufio.NewReaderSize(c.nc, s.cfg.Limits.Line)
	for {
		// Idle: the deadline first, then the state, so that one who
		// closes an idle connection (a past deadline) is never undone.
		c.nc.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		c.idleSince.Store(s.now().UnixNano())
		if !c.state.CompareAndSwap(stateBusy, stateIdle) || s.closing.Load() {
			return
		}
		if _, err := br.Peek(1); err != nil {
			if c.state.Load() == stateClosing {
				return
			}
			if isTimeout(err) {
				s.log.Debug("policy: idle connection closed", "client", remote(c.nc), "idle", s.cfg.IdleTimeout)
			}
			return // closed by the client, or idle too long
		}
		if !c.state.CompareAndSwap(stateIdle, stateBusy) {
			return // closing
		}
		c.nc.SetReadDeadline(time.Now().Add(s.cfg.RequestTimeout))
		err := readRequest(br, &c.req, s.cfg.Limits.Request)
		if err != nil {
			c.fail(err)
			return
		}
		answer := c.answer()
		c.nc.SetWriteDeadline(time.Now().Add(s.cfg.RequestTimeout))
		if _, err := c.nc.Write(answer); err != nil {
			s.log.Debug("policy: cannot answer", "client", remote(c.nc), "err", err)
			return
		}
		s.nRequests.Add(1)
	}
}

// fail logs why a connection is closed in the middle of a request.
func (c *conn) fail(err error) {
	s := c.s
	var br *BadRequest
	var msg string
	switch {
	case errors.As(err, &br):
		msg = "policy: bad request, connection closed without an answer"
	case isTimeout(err):
		msg = "policy: request not finished in time, connection closed"
		err = fmt.Errorf("no whole request within %s", s.cfg.RequestTimeout)
	case errors.Is(err, errIncomplete):
		msg = "policy: connection closed in the middle of a request"
	default:
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
			return
		}
		msg = "policy: read error, connection closed"
	}
	s.nBad.Add(1)
	if ok, n := s.badLog.allow(); ok {
		s.log.Warn(msg, "client", remote(c.nc), "err", err.Error(), "suppressed", n)
	}
}

// answer decides the answer to c.req, and offers the login.
func (c *conn) answer() []byte {
	s := c.s
	r := &c.req
	if len(r.user) == 0 {
		return dunno
	}
	user := c.canonical(r.user)
	now := s.now()
	if s.cfg.OnLogin != nil {
		c.login(string(user), now)
	}
	if s.blocks.blocked(user, now) {
		s.nBlocked.Add(1)
		return s.blocked
	}
	if s.blocks.failing.Load() {
		s.nOnError.Add(1)
		return s.errAnswer
	}
	return dunno
}

// canonical is record.CanonicalUser without an allocation for the common
// case, ASCII (lower case in place, into the connection's buffer).
func (c *conn) canonical(u []byte) []byte {
	at := -1
	if c.s.cfg.CaseSensitiveUsers {
		at = bytes.LastIndexByte(u, '@')
		if at < 0 {
			return u
		}
	}
	c.user = append(c.user[:0], u...)
	for i := at + 1; i < len(c.user); i++ {
		b := c.user[i]
		if b >= 0x80 {
			return []byte(record.CanonicalUser(string(u), c.s.cfg.CaseSensitiveUsers))
		}
		if 'A' <= b && b <= 'Z' {
			c.user[i] = b + 'a' - 'A'
		}
	}
	return c.user
}

func (c *conn) login(user string, now time.Time) {
	r := &c.req
	if r.seen&(1<<8) != 0 && len(r.instance) > 0 {
		if string(r.instance) == string(c.instance) {
			return // the same mail: another recipient, DATA, END-OF-MESSAGE
		}
		c.instance = append(c.instance[:0], r.instance...)
	}
	ip := ""
	if a, err := netip.ParseAddr(string(r.address)); err == nil {
		ip = a.Unmap().String()
	}
	rec := &record.Record{Type: "policy_login", Time: now, Service: "policy", User: user, IP: ip,
		ClientName: string(r.name), Method: strings.ToUpper(string(r.method)), QueueID: string(r.queueID), Command: string(r.state)}
	if p, err := strconv.Atoi(string(r.port)); err == nil && p > 0 && p < 65536 {
		rec.Port = p
	}
	c.s.cfg.OnLogin(rec)
}
