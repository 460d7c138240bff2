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
	"sync"
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
	Before func(name string)
	// Drop holds the number of UDP queries for a name (lower case, with
	// its final dot) that go unanswered, as lost, before it is answered.
	Drop map[string]int
	// Truncate names are answered over UDP with the TC bit set and no
	// records (the client must ask again over TCP), over TCP in full.
	Truncate map[string]bool
	// Spoof names get, before their answer and over UDP, forged ones
	// with a false record: under another ID, for another question, not
	// marked as a response, and from another port with the right ID and
	// question. A client must ignore them all.
	Spoof   map[string]bool
	Queries atomic.Int64
	TCP     atomic.Int64 // of Queries, those over TCP
	// MaxAtOnce is the most queries the server held at once (received,
	// not yet answered): the client's queries in flight, when Delay
	// is most of their time.
	MaxAtOnce atomic.Int64
	atOnce    atomic.Int64
	mu        sync.Mutex
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
		// a big receive buffer, as a busy resolver is given one
		// (unbound's so-rcvbuf): a benchmark's bursts of queries are
		// not dropped because the machine is loaded and the server's
		// goroutine late to read them
		if uc, ok := pc.(*net.UDPConn); ok {
			_ = uc.SetReadBuffer(4 << 20)
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
	n := z.atOnce.Add(1)
	defer z.atOnce.Add(-1)
	for m := z.MaxAtOnce.Load(); n > m && !z.MaxAtOnce.CompareAndSwap(m, n); m = z.MaxAtOnce.Load() {
	}
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	if !udp {
		z.TCP.Add(1)
	}
	if len(req.Question) != 1 {
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if z.Silent[name] {
		return
	}
	if udp && z.drop(name) {
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
	if udp && z.Truncate[name] {
		m.Truncated = true
		w.WriteMsg(m)
		return
	}
	if udp && z.Spoof[name] {
		z.spoof(w, req)
	}
	if rc, ok := z.Fail[name]; ok {
		m.Rcode = rc
		w.WriteMsg(m)
		return
	}
	texts, ok := z.Records[name+" "+dns.TypeToString[q.Qtype]]
	var rrs []dns.RR
	if !ok && z.Synthesize != "" {
		rrs, ok = z.synthesize(name, q.Qtype)
	}
	if !ok && !z.exists(name) {
		m.Rcode = dns.RcodeNameError
	}
	for _, txt := range texts {
		if rr, err := dns.NewRR(txt); err == nil {
			m.Answer = append(m.Answer, rr)
		}
	}
	m.Answer = append(m.Answer, rrs...)
	w.WriteMsg(m)
}

// drop says whether to leave this query for name unanswered (Drop).
func (z *Zone) drop(name string) bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.Drop[name] > 0 {
		z.Drop[name]--
		return true
	}
	return false
}

// spoof sends the forged answers of Spoof before the real one.
func (z *Zone) spoof(w dns.ResponseWriter, req *dns.Msg) {
	q := req.Question[0]
	falseRR := func(m *dns.Msg, name string) {
		hdr := dns.RR_Header{Name: name, Rrtype: q.Qtype, Class: dns.ClassINET, Ttl: 60}
		switch q.Qtype {
		case dns.TypePTR:
			m.Answer = append(m.Answer, &dns.PTR{Hdr: hdr, Ptr: "spoofed.example."})
		case dns.TypeA:
			m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: net.IPv4(6, 6, 6, 6)})
		case dns.TypeAAAA:
			m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: net.ParseIP("2001:db8::666")})
		}
	}
	wrongID := new(dns.Msg)
	wrongID.SetReply(req)
	wrongID.Id++
	falseRR(wrongID, q.Name)
	otherQ := new(dns.Msg)
	otherQ.SetReply(req)
	otherQ.Question[0].Name = "other." + q.Name
	falseRR(otherQ, otherQ.Question[0].Name)
	notResponse := new(dns.Msg)
	notResponse.SetReply(req)
	notResponse.Response = false
	falseRR(notResponse, q.Name)
	for _, m := range []*dns.Msg{wrongID, otherQ, notResponse} {
		w.WriteMsg(m)
	}
	elsewhere := new(dns.Msg)
	elsewhere.SetReply(req)
	falseRR(elsewhere, q.Name)
	if c, err := net.Dial("udp", w.RemoteAddr().String()); err == nil {
		if b, err := elsewhere.Pack(); err == nil {
			c.Write(b)
		}
		c.Close()
	}
}

func (z *Zone) exists(name string) bool {
	for k := range z.Records {
		if strings.HasPrefix(k, name+" ") {
			return true
		}
	}
	return false
}

// synthesize answers the names of Synthesize: it builds the records
// rather than parsing their text, so that a benchmark's server costs
// little CPU next to the resolver it serves.
func (z *Zone) synthesize(name string, qtype uint16) ([]dns.RR, bool) {
	suffix := "." + dns.Fqdn(z.Synthesize)
	hdr := dns.RR_Header{Name: name, Rrtype: qtype, Class: dns.ClassINET, Ttl: 300}
	switch {
	case qtype == dns.TypePTR && (strings.HasSuffix(name, ".in-addr.arpa.") || strings.HasSuffix(name, ".ip6.arpa.")):
		ip, ok := fromReverse(name)
		if !ok {
			return nil, false
		}
		host := "h-" + strings.NewReplacer(".", "-", ":", "-").Replace(ip.String()) + suffix
		return []dns.RR{&dns.PTR{Hdr: hdr, Ptr: host}}, true
	case strings.HasPrefix(name, "h-") && strings.HasSuffix(name, suffix):
		label := strings.TrimSuffix(strings.TrimPrefix(name, "h-"), suffix)
		if qtype == dns.TypeA {
			if ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ".")); err == nil && ip.Is4() {
				return []dns.RR{&dns.A{Hdr: hdr, A: ip.AsSlice()}}, true
			}
		}
		if qtype == dns.TypeAAAA {
			if ip, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ":")); err == nil && ip.Is6() {
				return []dns.RR{&dns.AAAA{Hdr: hdr, AAAA: ip.AsSlice()}}, true
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
