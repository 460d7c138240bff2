package enrich

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Resolver finds the reverse DNS name of an address and checks it forward:
// the name's A or AAAA records must hold the address, or anybody could name
// their botnet x.google.com and be whitelisted.
type Resolver struct {
	server  string
	timeout time.Duration
	udp     *dns.Client
	tcp     *dns.Client
	brk     breaker
}

// DefaultTimeout is the time one DNS query may take.
const DefaultTimeout = 2 * time.Second

// NewResolver asks server ("host:port"; "" for the first nameserver of
// /etc/resolv.conf), each query timing out after timeout (0: DefaultTimeout).
func NewResolver(server string, timeout time.Duration) (*Resolver, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if server == "" {
		cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil {
			return nil, fmt.Errorf("no DNS server: %w", err)
		}
		if len(cfg.Servers) == 0 {
			return nil, errors.New("no DNS server: /etc/resolv.conf names none")
		}
		server = net.JoinHostPort(cfg.Servers[0], cfg.Port)
	} else if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "53")
	}
	return &Resolver{
		server:  server,
		timeout: timeout,
		udp:     &dns.Client{Net: "udp", Timeout: timeout},
		tcp:     &dns.Client{Net: "tcp", Timeout: timeout},
	}, nil
}

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
	ans, err := r.query(ctx, rev, dns.TypePTR)
	var gu *GaveUpError
	if errors.As(err, &gu) {
		return nil, gu
	}
	if err != nil {
		return nil, fmt.Errorf("PTR %s: %w", ip, err)
	}
	var names []string
	for _, rr := range ans {
		if ptr, ok := rr.(*dns.PTR); ok && len(names) < maxPTR {
			names = append(names, strings.ToLower(strings.TrimSuffix(ptr.Ptr, ".")))
		}
	}
	return names, nil
}

// forward returns the first of names whose A or AAAA records hold ip,
// verified, or else the first name, unverified, with the errors of the
// lookups that failed.
func (r *Resolver) forward(ctx context.Context, ip netip.Addr, names []string) (RDNS, error) {
	qtype := dns.TypeA
	if ip.Is6() && !ip.Is4In6() {
		qtype = dns.TypeAAAA
	}
	var ferr error
	for _, name := range names {
		ans, err := r.query(ctx, dns.Fqdn(name), qtype)
		if err != nil {
			ferr = errors.Join(ferr, fmt.Errorf("%s %s: %w", dns.TypeToString[qtype], name, err))
			continue
		}
		for _, rr := range ans {
			var a net.IP
			switch x := rr.(type) {
			case *dns.A:
				a = x.A
			case *dns.AAAA:
				a = x.AAAA
			}
			if got, ok := netip.AddrFromSlice(a); ok && got.Unmap() == ip.Unmap() {
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
type errServer struct{ rcode int }

func (e errServer) Error() string { return dns.RcodeToString[e.rcode] }

// Attempts is how many times a query that times out is sent, as a stub
// resolver does: UDP answers get lost when many queries are in flight.
const Attempts = 2

// query asks one question and returns the answer section; NXDOMAIN and an
// empty answer are no records and no error. A truncated answer is asked
// again over TCP. Every exchange that fails (a timeout, a refused port)
// counts towards giving up on the server; every answer, whatever its
// rcode, shows that it is there.
func (r *Resolver) query(ctx context.Context, name string, qtype uint16) ([]dns.RR, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	var in *dns.Msg
	var err error
	for try := 0; try < Attempts; try++ {
		if gu := r.brk.gaveUp.Load(); gu != nil {
			return nil, gu
		}
		sent := time.Now()
		in, _, err = r.udp.ExchangeContext(ctx, m, r.server)
		if err == nil && in.Truncated {
			in, _, err = r.tcp.ExchangeContext(ctx, m, r.server)
		}
		switch {
		case err == nil:
			r.brk.ok()
		case ctx.Err() == nil:
			r.brk.failed(sent, "DNS server "+r.server, "queries", err)
		}
		if !isTimeout(err) {
			break
		}
	}
	if err != nil {
		if isTimeout(err) {
			return nil, errors.New("timeout")
		}
		return nil, err
	}
	switch in.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
		return in.Answer, nil
	}
	return nil, errServer{in.Rcode}
}
