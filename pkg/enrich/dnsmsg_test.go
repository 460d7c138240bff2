package enrich

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"golang.org/x/net/dns/dnsmessage"
)

func dnsQuestion(n dnsmessage.Name, qtype uint16) dnsmessage.Question {
	return dnsmessage.Question{Name: n, Type: dnsmessage.Type(qtype), Class: dnsmessage.ClassINET}
}

// miekgReply is what the resolver reads from an answer, with
// github.com/miekg/dns: the PTR names (lower case, without the final
// dot, at most maxPTR, the root skipped) and the A and AAAA addresses of
// the answer section, of the type and class asked, owned by the name
// asked or by a CNAME target from it (at most maxCNAMEs). Before the
// stub, the resolver took them whatever their owner and type.
func miekgReply(m *dns.Msg) (ptrs []string, addrs []netip.Addr) {
	q := m.Question[0]
	chain := []string{q.Name}
	for hop := 0; hop < maxCNAMEs; hop++ {
		next := ""
		for _, rr := range m.Answer {
			if c, ok := rr.(*dns.CNAME); ok && c.Hdr.Class == q.Qclass && strings.EqualFold(c.Hdr.Name, chain[len(chain)-1]) {
				next = c.Target
				break
			}
		}
		if next == "" {
			break
		}
		chain = append(chain, next)
	}
	for _, rr := range m.Answer {
		h := rr.Header()
		if h.Rrtype != q.Qtype || h.Class != q.Qclass || !slices.ContainsFunc(chain, func(n string) bool { return strings.EqualFold(n, h.Name) }) {
			continue
		}
		switch x := rr.(type) {
		case *dns.PTR:
			if n := strings.ToLower(strings.TrimSuffix(x.Ptr, ".")); n != "" && len(ptrs) < maxPTR {
				ptrs = append(ptrs, n)
			}
		case *dns.A:
			if a, ok := netip.AddrFromSlice(x.A); ok {
				addrs = append(addrs, a.Unmap())
			}
		case *dns.AAAA:
			if a, ok := netip.AddrFromSlice(x.AAAA); ok {
				addrs = append(addrs, a)
			}
		}
	}
	return ptrs, addrs
}

// parseReply reads what miekg/dns reads from any message both can read:
// the same names (in miekg's presentation format) and addresses, the
// same rcode and TC bit; it never panics. Names with a dot inside a label
// are the one difference: dnsmessage refuses them, and so the stub skips
// them.
func FuzzParseReply(f *testing.F) {
	seed := func(q string, qtype uint16, edit func(m *dns.Msg)) {
		m := new(dns.Msg)
		m.SetQuestion(q, qtype)
		m.Response = true
		edit(m)
		m.Compress = true
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 60}
	}
	seed("4.3.2.1.in-addr.arpa.", dns.TypePTR, func(m *dns.Msg) {
		m.Answer = []dns.RR{&dns.PTR{Hdr: hdr("4.3.2.1.in-addr.arpa.", dns.TypePTR), Ptr: "Good.Example."}}
	})
	seed("4.3.2.1.in-addr.arpa.", dns.TypePTR, func(m *dns.Msg) {
		for _, n := range []string{"a.example.", `odd\ name\"\\\(x\).example.`, `\000\255\127.example.`, ".", "b.example.", "c.example.", "d.example."} {
			m.Answer = append(m.Answer, &dns.PTR{Hdr: hdr("4.3.2.1.in-addr.arpa.", dns.TypePTR), Ptr: n})
		}
	})
	seed("alias.example.", dns.TypeA, func(m *dns.Msg) {
		m.Answer = []dns.RR{
			&dns.CNAME{Hdr: hdr("alias.example.", dns.TypeCNAME), Target: "real.example."},
			&dns.A{Hdr: hdr("real.example.", dns.TypeA), A: net.IPv4(2, 2, 2, 2)},
		}
		m.Ns = []dns.RR{&dns.NS{Hdr: hdr("example.", dns.TypeNS), Ns: "ns.example."}}
	})
	seed("v6.example.", dns.TypeAAAA, func(m *dns.Msg) {
		m.Answer = []dns.RR{&dns.AAAA{Hdr: hdr("v6.example.", dns.TypeAAAA), AAAA: net.ParseIP("2001:db8::1")}}
	})
	seed("x.example.", dns.TypeA, func(m *dns.Msg) { m.Rcode = dns.RcodeNameError })
	seed("x.example.", dns.TypeA, func(m *dns.Msg) { m.Truncated = true })
	f.Fuzz(func(t *testing.T, b []byte) {
		var m dns.Msg
		miekgErr := m.Unpack(b)
		var q dnsmessage.Question
		if miekgErr == nil && len(m.Question) == 1 {
			n, err := queryName(m.Question[0].Name)
			if err != nil {
				return
			}
			q = dnsmessage.Question{Name: n, Type: dnsmessage.Type(m.Question[0].Qtype), Class: dnsmessage.Class(m.Question[0].Qclass)}
		} else {
			var p dnsmessage.Parser
			if _, err := p.Start(b); err != nil {
				return
			}
			var err error
			if q, err = p.Question(); err != nil {
				return
			}
		}
		r, err := parseReply(b, q) // must not panic
		if err != nil || miekgErr != nil || !m.Response || r.tc {
			return
		}
		ptrs, addrs := miekgReply(&m)
		ptrs = slices.DeleteFunc(ptrs, func(n string) bool { return strings.Contains(n, `\.`) })
		if len(ptrs) > len(r.ptrs) { // miekg's maxPTR counted the skipped ones
			ptrs = ptrs[:len(r.ptrs)]
		}
		if !slices.Equal(ptrs, r.ptrs) && !dottedLabels(&m) {
			t.Errorf("names %q, miekg/dns %q", r.ptrs, ptrs)
		}
		if !slices.Equal(addrs, r.addrs) {
			t.Errorf("addresses %v, miekg/dns %v", r.addrs, addrs)
		}
		if int(r.rcode) != m.Rcode&0xF {
			t.Errorf("rcode %d, miekg/dns %d", r.rcode, m.Rcode)
		}
	})
}

func dottedLabels(m *dns.Msg) bool {
	for _, rr := range m.Answer {
		if p, ok := rr.(*dns.PTR); ok && strings.Contains(p.Ptr, `\.`) {
			return true
		}
	}
	return false
}

// A name read from an answer and escaped is asked as it was read.
func TestQueryName(t *testing.T) {
	for _, c := range []struct {
		in, wire string
		ok       bool
	}{
		{"good.example", "good.example.", true},
		{"good.example.", "good.example.", true},
		{`odd\ name\".example`, "odd name\".example.", true},
		{`\000\255x.example`, "\x00\xffx.example.", true},
		{"4.3.2.1.in-addr.arpa", "4.3.2.1.in-addr.arpa.", true},
		{"", "", false},
		{"a..example", "", false},
		{`a\.b.example`, "", false},
		{`dangling\`, "", false},
		{`\256.example`, "", false},
		{strings.Repeat("a", 64) + ".example", "", false},
		{strings.Repeat("abcdefghi.", 26), "", false},
	} {
		n, err := queryName(c.in)
		if (err == nil) != c.ok || c.ok && n.String() != c.wire {
			t.Errorf("%q: %q %v, want %q", c.in, n.String(), err, c.wire)
		}
		if c.ok {
			// and back: presentName gives what miekg/dns gives
			if back := presentName(n); back != strings.ToLower(strings.TrimSuffix(c.in, ".")) {
				t.Errorf("%q: back %q", c.in, back)
			}
		}
	}
}

// oldResolver is the resolver as it was before the stub (a client of
// github.com/miekg/dns, a socket per query): the reference for the
// answers the stub must give.
type oldResolver struct {
	c      *dns.Client
	server string
}

func (o oldResolver) query(name string, qtype uint16) ([]dns.RR, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	in, _, err := o.c.Exchange(m, o.server)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, errors.New("timeout")
		}
		return nil, err
	}
	switch in.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
		return in.Answer, nil
	}
	return nil, errors.New(dns.RcodeToString[in.Rcode])
}

func (o oldResolver) reverseConfirm(ip netip.Addr, confirm func(string) bool) (RDNS, error) {
	rev, _ := dns.ReverseAddr(ip.String())
	ans, err := o.query(rev, dns.TypePTR)
	if err != nil {
		return RDNS{}, fmt.Errorf("PTR %s: %w", ip, err)
	}
	var names []string
	for _, rr := range ans {
		if ptr, ok := rr.(*dns.PTR); ok && len(names) < maxPTR {
			names = append(names, strings.ToLower(strings.TrimSuffix(ptr.Ptr, ".")))
		}
	}
	if len(names) == 0 {
		return RDNS{}, nil
	}
	if len(names) == 1 && confirm != nil && !confirm(names[0]) {
		return RDNS{Name: names[0], Unchecked: true}, nil
	}
	qtype := dns.TypeA
	if ip.Is6() && !ip.Is4In6() {
		qtype = dns.TypeAAAA
	}
	var ferr error
	for _, name := range names {
		ans, err := o.query(dns.Fqdn(name), qtype)
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

// The stub gives the answers and errors that the resolver gave before it,
// on the same zone: verified, spoofed, IPv6, CNAME, no PTR, SERVFAIL,
// forward SERVFAIL, several names, names with odd bytes, with and without
// the confirmation filter.
func TestStubSameAsBefore(t *testing.T) {
	z := testZone()
	delete(z.Silent, "20.0.0.10.in-addr.arpa.") // timeouts: same words, long waits
	z.Add("4.4.4.4.in-addr.arpa. 60 IN PTR first.example.")
	z.Add("4.4.4.4.in-addr.arpa. 60 IN PTR second.example.")
	z.Add("second.example. 60 IN A 4.4.4.4")
	z.Add(`5.5.5.5.in-addr.arpa. 60 IN PTR odd\ name\"x.Example.`)
	z.Add(`odd\ name\"x.example. 60 IN A 5.5.5.5`)
	z.Add(`6.6.6.6.in-addr.arpa. 60 IN PTR \000\255\127.google.com.`)
	z.Add(`\000\255\127.google.com. 60 IN A 6.6.6.6`)
	z.Add("7.7.7.7.in-addr.arpa. 60 IN PTR a.example.")
	z.Add("7.7.7.7.in-addr.arpa. 60 IN PTR b.example.")
	z.Add("7.7.7.7.in-addr.arpa. 60 IN PTR c.example.")
	z.Add("7.7.7.7.in-addr.arpa. 60 IN PTR d.example.")
	z.Add("7.7.7.7.in-addr.arpa. 60 IN PTR e.example.")
	z.Add("e.example. 60 IN A 7.7.7.7")
	z.Add("b.example. 60 IN A 7.7.7.7")
	server := startDNS(t, z)
	r, err := NewResolver(server, answerTimeout)
	if err != nil {
		t.Fatal(err)
	}
	old := oldResolver{&dns.Client{Net: "udp", Timeout: answerTimeout}, server}
	ips := []string{"1.2.3.4", "5.6.7.8", "2001:db8::1", "2.2.2.2", "9.9.9.9", "10.0.0.10", "3.3.3.3", "4.4.4.4", "5.5.5.5", "6.6.6.6", "7.7.7.7", "10.0.0.20"}
	for _, confirm := range []func(string) bool{nil, googleOnly} {
		for _, s := range ips {
			ip := netip.MustParseAddr(s)
			want, werr := old.reverseConfirm(ip, confirm)
			got, err := r.ReverseConfirm(context.Background(), ip, confirm)
			if got != want || fmt.Sprint(err) != fmt.Sprint(werr) {
				t.Errorf("%s (confirm %v): %+v %v, before %+v %v", s, confirm != nil, got, err, want, werr)
			}
		}
	}
}
