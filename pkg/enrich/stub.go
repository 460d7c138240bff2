package enrich

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// stub asks one DNS server over UDP the way a stub resolver does, cheaply
// enough for tens of thousands of questions in a run: a few connected
// UDP sockets, each shared by many queries in flight, instead of a socket
// opened, registered and closed for every query (that was more than half
// of a cold run's CPU time).
//
// Each query gets a random ID not in flight on its socket (math/rand/v2,
// seeded from the system's entropy); an answer counts only when it comes
// from the server (the socket is connected: the kernel drops datagrams
// from any other address or port), under an ID in flight, and as a
// response to the very question asked (name, type, class). Anything else
// is ignored and the query waits on. A socket is replaced after
// socketUses queries, so that its source port changes too. A truncated
// answer is asked again over TCP.
//
// A query unanswered after the retransmission timeout (rto: the usual
// latency plus four times its deviation, as TCP does; the attempt timeout
// until an answer has come) is sent again with the same ID, the wait
// doubling each time, until attempts × timeout have passed; then it has
// timed out. The queries in flight are bounded by an adaptive limit
// (limiter): it grows while answers come, and halves when a query goes
// unanswered, so that a busy resolver is not flooded.
type stub struct {
	server   string
	raddr    *net.UDPAddr
	timeout  time.Duration // of one attempt
	attempts int

	mu    sync.Mutex
	socks [stubSockets]*usock
	next  int

	lim atomic.Pointer[limiter]
}

const (
	stubSockets = 8
	socketUses  = 512
	readBuffer  = 1 << 20 // asked of the kernel; it may give less
	// minRTO is the shortest wait before a query is sent again, and
	// initialRTO the wait before an answer has come to measure it by.
	minRTO     = 200 * time.Millisecond
	initialRTO = time.Second
)

func newStub(server string, timeout time.Duration, attempts int) (*stub, error) {
	raddr, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		return nil, err
	}
	if attempts < 1 {
		attempts = 1
	}
	s := &stub{server: server, raddr: raddr, timeout: timeout, attempts: attempts}
	s.lim.Store(newLimiter(DefaultWorkers, DefaultWorkers))
	return s, nil
}

// usock is one shared UDP socket and the queries in flight on it.
type usock struct {
	c       *net.UDPConn
	mu      sync.Mutex
	pending map[uint16]*waiter
	uses    int
	retired bool // no new queries; closed when the last one is done
	closed  bool
}

type waiter struct {
	q  dnsmessage.Question
	ch chan result // buffered: the reader never blocks
}

type result struct {
	r   reply
	err error
}

// errTimeout is a query that went unanswered for attempts × timeout.
var errTimeout = timeoutError{}

type timeoutError struct{}

func (timeoutError) Error() string   { return "timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// exchange asks q and returns the answer, after TCP when the UDP one was
// truncated. sent are the times the query was sent, for the breaker.
// stop, checked once the query has its place in flight, is a reason not
// to send it after all (the server was given up on meanwhile). timedOut
// is told of each sending that went unanswered for a whole timeout (and
// of all those unanswered when the query times out), as the breaker
// counts them.
func (s *stub) exchange(ctx context.Context, q dnsmessage.Question, prio int, stop func() error, timedOut func(sent time.Time)) (rep reply, sent []time.Time, err error) {
	lim := s.lim.Load()
	if err := lim.acquire(ctx, prio); err != nil {
		return reply{}, nil, err
	}
	answered, bad := false, false
	var rtt time.Duration
	defer func() {
		var first time.Time
		if len(sent) > 0 {
			first = sent[0]
		}
		lim.release(answered, rtt, bad, first)
	}()
	if err := stop(); err != nil {
		return reply{}, nil, err
	}
	w := &waiter{q: q, ch: make(chan result, 1)}
	sk, id, err := s.register(w)
	if err != nil {
		return reply{}, nil, err
	}
	defer sk.forget(id, w)
	var buf [512]byte
	msg, err := buildQuery(buf[:0], id, q)
	if err != nil {
		return reply{}, nil, err
	}
	deadline := time.NewTimer(time.Duration(s.attempts) * s.timeout)
	defer deadline.Stop()
	// the first look at minRTO: the estimate may have come meanwhile
	resend := time.NewTimer(min(minRTO, s.timeout))
	defer resend.Stop()
	backoff := time.Duration(1)
	told := 0 // sendings told to timedOut
	tell := func(all bool) {
		for ; told < len(sent) && (all || time.Since(sent[told]) >= s.timeout); told++ {
			timedOut(sent[told])
		}
	}
	answer := func(res result) (reply, []time.Time, error) {
		if res.err != nil {
			return reply{}, sent, res.err
		}
		answered = true
		if len(sent) == 1 { // Karn: only the latency of a query sent once
			rtt = max(time.Since(sent[0]), time.Nanosecond)
		}
		// a SERVFAIL is an answer, and no sign of a busy resolver: the
		// reverse zones of the addresses that attack mail servers are
		// often lame, and a resolver answers SERVFAIL for them however
		// idle it is; the bound halves only on queries unanswered
		rep := res.r
		var err error
		if rep.tc {
			rep, err = s.tcp(ctx, q)
		}
		return rep, sent, err
	}
	for {
		select {
		case res := <-w.ch: // came as the resend timer fired
			return answer(res)
		default:
		}
		sent = append(sent, time.Now())
		lim.noteSend(sent[len(sent)-1])
		if _, err := sk.c.Write(msg); err != nil {
			select {
			case res := <-w.ch: // the reader was first: the socket is closed
				return answer(res)
			default:
			}
			return reply{}, sent, netErr(err)
		}
	wait:
		select {
		case res := <-w.ch:
			return answer(res)
		case <-ctx.Done():
			return reply{}, sent, ctx.Err()
		case <-deadline.C:
			bad = true
			tell(true)
			return reply{}, sent, errTimeout
		case <-resend.C:
			wait := lim.rto(s.timeout) * backoff
			if since := time.Since(sent[len(sent)-1]); since < wait {
				resend.Reset(wait - since)
				goto wait
			}
			if backoff == 1 && !lim.lostLikely(sent[len(sent)-1]) {
				// queries were sent after this one and none of them
				// has been answered: late, all of them (a loaded
				// machine, a stalled server), not lost; sending them
				// all again would double the load at the worst time.
				// One more wait, then it is sent again all the same.
				backoff = 2
				resend.Reset(wait)
				goto wait
			}
			// most likely lost (a busy server's socket overflows):
			// sent again, with the same ID, at most attempts+1 times in
			// all, each time after twice the wait; the first answer to
			// any of them counts
			tell(false)
			lim.lost(sent[len(sent)-1])
			if err := stop(); err != nil {
				return reply{}, sent, err // given up on meanwhile
			}
			if len(sent) >= s.attempts+1 {
				goto wait // no more: wait out the deadline
			}
			backoff *= 2
			resend.Reset(lim.rto(s.timeout) * backoff)
		}
	}
}

// netErr words a socket error for the records: "connection refused" for
// a port that nobody listens on (ICMP unreachable).
func netErr(err error) error {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return errors.New("connection refused")
	}
	return err
}

// tcp asks q over a TCP connection of its own (a truncated answer).
func (s *stub) tcp(ctx context.Context, q dnsmessage.Question) (reply, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", s.server)
	if err != nil {
		if ctx.Err() != nil {
			return reply{}, errTimeout
		}
		return reply{}, netErr(err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	id := uint16(rand.Uint32())
	msg, err := buildQuery(make([]byte, 2, 514), id, q)
	if err != nil {
		return reply{}, err
	}
	binary.BigEndian.PutUint16(msg, uint16(len(msg)-2))
	if _, err := c.Write(msg); err != nil {
		return reply{}, tcpErr(err)
	}
	var lb [2]byte
	if _, err := io.ReadFull(c, lb[:]); err != nil {
		return reply{}, tcpErr(err)
	}
	in := make([]byte, binary.BigEndian.Uint16(lb[:]))
	if _, err := io.ReadFull(c, in); err != nil {
		return reply{}, tcpErr(err)
	}
	if len(in) < 2 || binary.BigEndian.Uint16(in) != id {
		return reply{}, errors.New("TCP answer with another ID")
	}
	r, err := parseReply(in, q)
	if err != nil {
		return reply{}, fmt.Errorf("TCP answer: %w", err)
	}
	return r, nil
}

func tcpErr(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errTimeout
	}
	return netErr(err)
}

// register picks a socket, dialing a new one in place of a used-up or
// failed one, and a free random ID on it.
func (s *stub) register(w *waiter) (*usock, uint16, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.next
	s.next = (s.next + 1) % stubSockets
	if sk := s.socks[i]; sk != nil {
		sk.mu.Lock()
		if !sk.retired && sk.uses < socketUses && len(sk.pending) < 1<<14 {
			id := sk.add(w)
			sk.mu.Unlock()
			return sk, id, nil
		}
		sk.retired = true
		sk.closeIfDoneLocked()
		sk.mu.Unlock()
		s.socks[i] = nil
	}
	c, err := net.DialUDP("udp", nil, s.raddr)
	if err != nil {
		return nil, 0, netErr(err)
	}
	_ = c.SetReadBuffer(readBuffer)
	sk := &usock{c: c, pending: make(map[uint16]*waiter)}
	s.socks[i] = sk
	go sk.read()
	sk.mu.Lock()
	id := sk.add(w)
	sk.mu.Unlock()
	return sk, id, nil
}

// add registers w under a random ID not in flight; sk.mu is held.
func (sk *usock) add(w *waiter) uint16 {
	for {
		id := uint16(rand.Uint32())
		if _, taken := sk.pending[id]; !taken {
			sk.pending[id] = w
			sk.uses++
			return id
		}
	}
}

// forget drops a query that is not waited for any more.
func (sk *usock) forget(id uint16, w *waiter) {
	sk.mu.Lock()
	if sk.pending[id] == w {
		delete(sk.pending, id)
	}
	sk.closeIfDoneLocked()
	sk.mu.Unlock()
}

func (sk *usock) closeIfDoneLocked() {
	if sk.retired && len(sk.pending) == 0 && !sk.closed {
		sk.c.Close() // the reader returns
		sk.closed = true
	}
}

// read hands each answer to the query that waits for it, until the
// socket is closed. A read error other than that (the server's port
// refused a query: ICMP unreachable) fails every query in flight on the
// socket, as it would have failed each on a socket of its own, and
// retires it.
func (sk *usock) read() {
	c := sk.c
	buf := make([]byte, 65535)
	for {
		n, err := c.Read(buf)
		if err != nil {
			sk.mu.Lock()
			if !errors.Is(err, net.ErrClosed) {
				err = netErr(err)
				for id, w := range sk.pending {
					w.ch <- result{err: err}
					delete(sk.pending, id)
				}
			}
			sk.retired = true
			sk.closeIfDoneLocked()
			sk.mu.Unlock()
			return
		}
		if n < 12 {
			continue // not even a header
		}
		id := binary.BigEndian.Uint16(buf)
		sk.mu.Lock()
		w, ok := sk.pending[id]
		sk.mu.Unlock()
		if !ok {
			continue
		}
		r, err := parseReply(buf[:n], w.q)
		if errors.Is(err, errNotOurs) {
			continue // another question under the ID: not the answer
		}
		sk.mu.Lock()
		if sk.pending[id] == w {
			delete(sk.pending, id)
			w.ch <- result{r, err}
		}
		sk.mu.Unlock()
	}
}
