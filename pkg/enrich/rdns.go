package enrich

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/dns/dnsmessage"
)

// Resolver finds the reverse DNS name of an address and checks it forward:
// the name's A or AAAA records must hold the address, or anybody could name
// their botnet x.google.com and be whitelisted.
type Resolver struct {
	server  string
	timeout time.Duration
	stub    *stub
	brk     breaker
}

// DefaultTimeout is the time one DNS query may take.
const DefaultTimeout = 2 * time.Second

// NewResolver asks server ("host:port"; "" for the first nameserver of
// /etc/resolv.conf, with its "options timeout:N attempts:N"), each query
// timing out after timeout (0: resolv.conf's, else DefaultTimeout),
// Attempts times (or resolv.conf's attempts).
func NewResolver(server string, timeout time.Duration) (*Resolver, error) {
	return newResolver(server, timeout, "/etc/resolv.conf")
}

func newResolver(server string, timeout time.Duration, resolvConf string) (*Resolver, error) {
	attempts := Attempts
	if server == "" {
		rc, err := readResolvConf(resolvConf)
		if err != nil {
			return nil, fmt.Errorf("no DNS server: %w", err)
		}
		server = rc.server
		if timeout <= 0 {
			timeout = rc.timeout
		}
		if rc.attempts > 0 {
			attempts = rc.attempts
		}
	} else if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "53")
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	st, err := newStub(server, timeout, attempts)
	if err != nil {
		return nil, fmt.Errorf("DNS server %s: %w", server, err)
	}
	return &Resolver{server: server, timeout: timeout, stub: st}, nil
}

// resolvConf is what the resolver takes from resolv.conf: the first
// nameserver (the others are not asked), and the options timeout and
// attempts when given (0 when not), capped as glibc caps them (30 s, 5).
type resolvConf struct {
	server   string
	timeout  time.Duration
	attempts int
}

func readResolvConf(path string) (resolvConf, error) {
	var rc resolvConf
	data, err := os.ReadFile(path)
	if err != nil {
		return rc, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if rc.server == "" {
				if ip, err := netip.ParseAddr(f[1]); err == nil {
					rc.server = net.JoinHostPort(ip.String(), "53")
				}
			}
		case "options":
			for _, o := range f[1:] {
				k, v, _ := strings.Cut(o, ":")
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 {
					continue
				}
				switch k {
				case "timeout":
					rc.timeout = time.Duration(min(n, 30)) * time.Second
				case "attempts":
					rc.attempts = min(n, 5)
				}
			}
		}
	}
	if rc.server == "" {
		return rc, errors.New(path + " names none")
	}
	return rc, nil
}

// SetInFlight bounds the queries in flight: start at first, adapting to
// the server's answers (halving when queries go unanswered, growing
// again with answers) up to max; max == start never goes over a bound the
// user gave. Call it before the first lookup. A new
// Resolver keeps DefaultWorkers at most.
func (r *Resolver) SetInFlight(start, max int) {
	r.stub.lim.Store(newLimiter(start, max))
}

// InFlight says how the bound on the queries in flight went.
func (r *Resolver) InFlight() LimiterStats { return r.stub.lim.Load().stats() }

// Server is the server asked.
func (r *Resolver) Server() string { return r.server }

// GaveUp says why the server is no longer asked (a *GaveUpError: it did not
// answer GiveUpAfter queries in a row), or nil while it is.
func (r *Resolver) GaveUp() *GaveUpError { return r.brk.gaveUp.Load() }

// RDNS is a reverse DNS answer. Name is "" when the address has no PTR
// record (which is an answer, not an error).
type RDNS struct {
	Name     string
	Verified bool // Name resolves back to the address
	// Unchecked: Name was not looked up forward, as no whitelist pattern
	// could use it (ReverseConfirm); Verified is false and says nothing.
	Unchecked bool
}

// maxPTR is how many PTR names of one address are checked.
const maxPTR = 4

// Reverse looks up the PTR names of ip and returns the first that resolves
// back to ip, or else the first name, unverified. An error (a timeout, a
// SERVFAIL) means the answer is not known; a forward lookup that fails
// leaves the name unverified and is returned as an error too. Once the
// server has been given up on, the error is a *GaveUpError and nothing is
// asked.
func (r *Resolver) Reverse(ctx context.Context, ip netip.Addr) (RDNS, error) {
	return r.ReverseConfirm(ctx, ip, nil)
}

// ReverseConfirm is Reverse, but checks a name forward only when confirm
// says that a whitelist pattern could use it (nil: every name, as
// Reverse). An address with one PTR name that confirm does not want is
// answered with that name, Unchecked, for one query instead of two. An
// address with several names has them checked as Reverse does, so that an
// unchecked answer (kept in a cache) never hides a second name that a
// later pattern could match. confirm is called from the caller's
// goroutine.
func (r *Resolver) ReverseConfirm(ctx context.Context, ip netip.Addr, confirm func(name string) bool) (RDNS, error) {
	names, err := r.ptr(ctx, ip)
	if err != nil || len(names) == 0 {
		return RDNS{}, err
	}
	if len(names) == 1 && confirm != nil && !confirm(names[0]) {
		return RDNS{Name: names[0], Unchecked: true}, nil
	}
	return r.forward(ctx, ip, names)
}

// Confirm checks one name of ip forward, as Reverse does: it is Verified
// when its A or AAAA records hold ip. For a name found before and left
// unchecked.
func (r *Resolver) Confirm(ctx context.Context, ip netip.Addr, name string) (RDNS, error) {
	return r.forward(ctx, ip, []string{name})
}

// ptr returns the PTR names of ip (lower case, without the final dot),
// at most maxPTR.
func (r *Resolver) ptr(ctx context.Context, ip netip.Addr) ([]string, error) {
	rev, err := dns.ReverseAddr(ip.String())
	if err != nil {
		return nil, err
	}
	ans, err := r.query(ctx, rev, dnsmessage.TypePTR, prioPTR)
	var gu *GaveUpError
	if errors.As(err, &gu) {
		return nil, gu
	}
	if err != nil {
		return nil, fmt.Errorf("PTR %s: %w", ip, err)
	}
	return ans.ptrs, nil
}

// forward returns the first of names whose A or AAAA records hold ip,
// verified, or else the first name, unverified, with the errors of the
// lookups that failed.
func (r *Resolver) forward(ctx context.Context, ip netip.Addr, names []string) (RDNS, error) {
	qtype, tname := dnsmessage.TypeA, "A"
	if ip.Is6() && !ip.Is4In6() {
		qtype, tname = dnsmessage.TypeAAAA, "AAAA"
	}
	var ferr error
	for _, name := range names {
		ans, err := r.query(ctx, name, qtype, prioForward)
		if err != nil {
			ferr = errors.Join(ferr, fmt.Errorf("%s %s: %w", tname, name, err))
			continue
		}
		for _, a := range ans.addrs {
			if a.Unmap() == ip.Unmap() {
				return RDNS{Name: name, Verified: true}, nil
			}
		}
	}
	return RDNS{Name: names[0]}, ferr
}

func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && (errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded))
}

// errServer is an answer that says nothing (SERVFAIL, REFUSED …).
type errServer struct{ rcode dnsmessage.RCode }

func (e errServer) Error() string {
	if s, ok := dns.RcodeToString[int(e.rcode)]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", e.rcode)
}

// Attempts is how many times the timeout a query is waited for, as a stub
// resolver's attempts (the query is sent again sooner, when its answer
// is late: see stub).
const Attempts = 2

// query asks one question (name in presentation format, without or with
// its final dot) and returns what the answer says; NXDOMAIN and an empty
// answer are no records and no error. A truncated answer is asked again
// over TCP. Every query that fails (times out, is refused) counts towards
// giving up on the server, once for each time it was sent; every answer,
// whatever its rcode, shows that it is there.
func (r *Resolver) query(ctx context.Context, name string, qtype dnsmessage.Type, prio int) (reply, error) {
	if gu := r.brk.gaveUp.Load(); gu != nil {
		return reply{}, gu
	}
	qn, err := queryName(name)
	if err != nil {
		return reply{}, err
	}
	q := dnsmessage.Question{Name: qn, Type: qtype, Class: dnsmessage.ClassINET}
	in, sent, err := r.stub.exchange(ctx, q, prio, r.brk.err, func(sent time.Time) {
		if ctx.Err() == nil {
			r.brk.failed(sent, "DNS server "+r.server, "queries", errTimeout)
		}
	})
	var gu *GaveUpError
	switch {
	case err == nil:
		r.brk.ok()
	case errors.As(err, &gu):
		return reply{}, gu
	case ctx.Err() == nil && err != errTimeout:
		t := time.Now()
		if len(sent) > 0 {
			t = sent[len(sent)-1]
		}
		r.brk.failed(t, "DNS server "+r.server, "queries", err)
	}
	if err != nil {
		return reply{}, err
	}
	switch in.rcode {
	case dnsmessage.RCodeSuccess, dnsmessage.RCodeNameError:
		return in, nil
	}
	return reply{}, errServer{in.rcode}
}
