// Package dnstest runs a real DNS server on loopback for tests and
// benchmarks: answers from a small zone, chosen failures (SERVFAIL,
// silence), a delay, and optionally a PTR for every address.
package dnstest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// Zone is what the server answers.
type Zone struct {
	Records map[string][]string // "name. TYPE" (lower case) -> RRs in zone-file text
	Fail    map[string]int      // name -> rcode to answer with (SERVFAIL …)
	Silent  map[string]bool     // names never answered: the client times out
	Delay   time.Duration       // before every answer
	// Synthesize, when set, answers every reverse name with the PTR
	// h-ADDRESS.<Synthesize> (dots and colons as dashes), whose A or AAAA
	// resolves back.
	Synthesize string
	// Before, when set, is called with each question's name (lower case,
	// with its final dot) before it is answered, after Delay, from the
	// server's goroutine for that query: a test may block in it to hold
	// one answer back.
	Before  func(name string)
	Queries atomic.Int64
}

// ParseZone reads a zone from text: one RR per line in zone-file syntax,
// or "SERVFAIL name." or "SILENT name."; # starts a comment.
func ParseZone(text string) (*Zone, error) {
	z := &Zone{Records: map[string][]string{}, Fail: map[string]int{}, Silent: map[string]bool{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		switch f[0] {
		case "SERVFAIL", "REFUSED":
			z.Fail[strings.ToLower(dns.Fqdn(f[1]))] = dns.StringToRcode[f[0]]
			continue
		case "SILENT":
			z.Silent[strings.ToLower(dns.Fqdn(f[1]))] = true
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			return nil, fmt.Errorf("zone line %d: %w", n, err)
		}
		z.Add(rr.String())
	}
	return z, sc.Err()
}

// Add adds an RR given in zone-file text.
func (z *Zone) Add(text string) {
	rr, err := dns.NewRR(text)
	if err != nil {
		panic(err)
	}
	if z.Records == nil {
		z.Records = map[string][]string{}
	}
	k := strings.ToLower(rr.Header().Name) + " " + dns.TypeToString[rr.Header().Rrtype]
	z.Records[k] = append(z.Records[k], text)
}

// Server is a running DNS server.
type Server struct {
	Addr string
	udp  *dns.Server
	tcp  *dns.Server
}

// Start serves z on addr ("127.0.0.1:0" for any free port), UDP and TCP
// on the same port. With port 0 the port is the system's choice for UDP;
// when TCP's same number is taken (by another process's connection, say),
// it tries again on a new one.
func Start(z *Zone, addr string) (*Server, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	const tries = 100
	for try := 1; ; try++ {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, err
		}
		bound := pc.LocalAddr().String()
		ln, err := net.Listen("tcp", bound)
		if err != nil {
			pc.Close()
			if port == "0" && try < tries && errors.Is(err, syscall.EADDRINUSE) {
				continue
			}
			return nil, fmt.Errorf("dnstest: %w", err)
		}
		s := &Server{Addr: bound}
		s.udp = &dns.Server{PacketConn: pc, Handler: z}
		s.tcp = &dns.Server{Listener: ln, Handler: z}
		// both serving before Start returns: a Shutdown before that
		// would leave a server running
		for _, srv := range []*dns.Server{s.udp, s.tcp} {
			started, failed := make(chan struct{}), make(chan error, 1)
			srv.NotifyStartedFunc = func() { close(started) }
			go func() { failed <- srv.ActivateAndServe() }()
			select {
			case <-started:
			case err := <-failed:
				s.Close()
				pc.Close()
				ln.Close()
				return nil, fmt.Errorf("dnstest: %w", err)
			}
		}
		return s, nil
	}
}

// Close stops the server.
func (s *Server) Close() {
	s.udp.Shutdown()
	s.tcp.Shutdown()
}

// ServeDNS answers one query.
func (z *Zone) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	z.Queries.Add(1)
	if len(req.Question) != 1 {
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if z.Silent[name] {
		return
	}
	if z.Delay > 0 {
		time.Sleep(z.Delay)
	}
	if z.Before != nil {
		z.Before(name)
	}
	m := new(dns.Msg)
	m.SetReply(req)
	if rc, ok := z.Fail[name]; ok {
		m.Rcode = rc
		w.WriteMsg(m)
		return
	}
	texts, ok := z.Records[name+" "+dns.TypeToString[q.Qtype]]
	if !ok && z.Synthesize != "" {
		texts, ok = z.synthesize(name, q.Qtype)
	}
	if !ok && !z.exists(name) {
		m.Rcode = dns.RcodeNameError
	}
	for _, txt := range texts {
		if rr, err := dns.NewRR(txt); err == nil {
			m.Answer = append(m.Answer, rr)
		}
	}
	w.WriteMsg(m)
}

func (z *Zone) exists(name string) bool {
	for k := range z.Records {
		if strings.HasPrefix(k, name+" ") {
			return true
		}
	}
	return false
}

func (z *Zone) synthesize(name string, qtype uint16) ([]string, bool) {
	suffix := "." + dns.Fqdn(z.Synthesize)
	switch {
	case qtype == dns.TypePTR && (strings.HasSuffix(name, ".in-addr.arpa.") || strings.HasSuffix(name, ".ip6.arpa.")):
		ip, ok := fromReverse(name)
		if !ok {
			return nil, false
		}
		host := "h-" + strings.NewReplacer(".", "-", ":", "-").Replace(ip.String()) + suffix
		return []string{fmt.Sprintf("%s 300 IN PTR %s", name, host)}, true
	case strings.HasPrefix(name, "h-") && strings.HasSuffix(name, suffix):
		label := strings.TrimSuffix(strings.TrimPrefix(name, "h-"), suffix)
		if qtype == dns.TypeA {
			if ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ".")); err == nil && ip.Is4() {
				return []string{fmt.Sprintf("%s 300 IN A %s", name, ip)}, true
			}
		}
		if qtype == dns.TypeAAAA {
			if ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ":")); err == nil && ip.Is6() {
				return []string{fmt.Sprintf("%s 300 IN AAAA %s", name, ip)}, true
			}
		}
	}
	return nil, false
}

// fromReverse turns 4.3.2.1.in-addr.arpa. (or an ip6.arpa. name) into the address.
func fromReverse(name string) (netip.Addr, bool) {
	if v4, ok := strings.CutSuffix(name, ".in-addr.arpa."); ok {
		p := strings.Split(v4, ".")
		for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
			p[i], p[j] = p[j], p[i]
		}
		ip, err := netip.ParseAddr(strings.Join(p, "."))
		return ip, err == nil && ip.Is4()
	}
	v6, _ := strings.CutSuffix(name, ".ip6.arpa.")
	nib := strings.Split(v6, ".")
	if len(nib) != 32 {
		return netip.Addr{}, false
	}
	var b strings.Builder
	for i := 31; i >= 0; i-- {
		b.WriteString(nib[i])
		if i%4 == 0 && i > 0 {
			b.WriteByte(':')
		}
	}
	ip, err := netip.ParseAddr(b.String())
	return ip, err == nil
}
