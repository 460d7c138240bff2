package enrich

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The stub resolver against a real server on loopback: lost answers are
// asked again, a slow answer is not lost for being late, forged answers
// are ignored, a truncated answer is asked again over TCP, NXDOMAIN is no
// name and SERVFAIL an error.
func TestStubExchange(t *testing.T) {
	for _, c := range []struct {
		name    string
		setup   func(z *zone)
		ip      string
		want    RDNS
		err     string
		queries int64 // received by the server
		tcp     int64
	}{
		{"plain", nil, "1.2.3.4", RDNS{Name: "good.example", Verified: true}, "", 2, 0},
		{"lost answer resent", func(z *zone) {
			z.Drop = map[string]int{"4.3.2.1.in-addr.arpa.": 1, "good.example.": 1}
		}, "1.2.3.4", RDNS{Name: "good.example", Verified: true}, "", 4, 0},
		{"forged answers ignored", func(z *zone) {
			z.Spoof = map[string]bool{"4.3.2.1.in-addr.arpa.": true, "good.example.": true}
		}, "1.2.3.4", RDNS{Name: "good.example", Verified: true}, "", 2, 0},
		{"forged answers to an unverified name", func(z *zone) {
			z.Spoof = map[string]bool{"8.7.6.5.in-addr.arpa.": true, "mail.google.com.": true}
		}, "5.6.7.8", RDNS{Name: "mail.google.com"}, "", 2, 0},
		{"truncated: TCP", func(z *zone) {
			z.Truncate = map[string]bool{"4.3.2.1.in-addr.arpa.": true, "good.example.": true}
		}, "1.2.3.4", RDNS{Name: "good.example", Verified: true}, "", 4, 2},
		{"truncated IPv6", func(z *zone) {
			z.Truncate = map[string]bool{"v6.example.": true}
		}, "2001:db8::1", RDNS{Name: "v6.example", Verified: true}, "", 3, 1},
		{"NXDOMAIN", nil, "9.9.9.9", RDNS{}, "", 1, 0},
		{"SERVFAIL", nil, "10.0.0.10", RDNS{}, "PTR 10.0.0.10: SERVFAIL", 1, 0},
		{"forward SERVFAIL", nil, "3.3.3.3", RDNS{Name: "broken.example"}, "A broken.example: SERVFAIL", 2, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			z := testZone()
			if c.setup != nil {
				c.setup(z)
			}
			// a short timeout, so that the first resend (the initial
			// RTO, at most the timeout) comes soon; long enough for
			// loopback answers on a loaded machine (lost ones are sent
			// three times in 2 timeouts)
			r, err := NewResolver(startDNS(t, z), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Reverse(context.Background(), netip.MustParseAddr(c.ip))
			if got != c.want {
				t.Errorf("%+v, want %+v", got, c.want)
			}
			if (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %v, want %q", err, c.err)
			}
			if q, tcp := z.Queries.Load(), z.TCP.Load(); q != c.queries || tcp != c.tcp {
				t.Errorf("%d queries (%d over TCP), want %d (%d)", q, tcp, c.queries, c.tcp)
			}
		})
	}
}

// An answer later than the retransmission timeout is not lost: the query
// is sent again, and whichever answer comes first counts.
func TestStubSlowAnswer(t *testing.T) {
	z := testZone()
	var mu sync.Mutex
	seen := 0
	resent := make(chan struct{})
	z.Before = func(name string) {
		if name != "4.3.2.1.in-addr.arpa." {
			return
		}
		mu.Lock()
		seen++
		n := seen
		mu.Unlock()
		switch n {
		case 1:
			<-resent // held back until the query comes again
		case 2:
			close(resent)
		}
	}
	r, err := NewResolver(startDNS(t, z), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Reverse(context.Background(), netip.MustParseAddr("1.2.3.4"))
	if err != nil || got != (RDNS{Name: "good.example", Verified: true}) {
		t.Errorf("%+v %v", got, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen != 2 {
		t.Errorf("the PTR query was received %d times, want 2", seen)
	}
}

// A server that is down (nothing listens on its port: ICMP unreachable)
// fails each lookup with "connection refused", and the run goes on: the
// records carry the error, and after GiveUpAfter failures the server is
// given up on.
func TestStubServerDown(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	r, err := NewResolver(addr, answerTimeout)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Reverse(context.Background(), netip.MustParseAddr("1.2.3.4"))
	if err == nil || !strings.Contains(err.Error(), "PTR 1.2.3.4: connection refused") {
		t.Fatalf("error %v, want connection refused", err)
	}
	var told []*GaveUpError
	e := New(Options{Resolver: r, Workers: 4, OnGiveUp: func(gu *GaveUpError) { told = append(told, gu) }})
	out := runStage(t, e, manyIPs(200)...)
	refused, skipped := 0, 0
	for _, line := range out {
		switch {
		case strings.Contains(line, `: connection refused"]`):
			refused++
		case strings.Contains(line, `"rdns: skipped: DNS server `+addr+` not answering"`):
			skipped++
		default:
			t.Fatalf("record without the error: %s", line)
		}
	}
	if refused < GiveUpAfter-1 || refused+skipped != 200 || len(told) != 1 || told[0].Last != "connection refused" {
		t.Errorf("%d refused, %d skipped; told %+v", refused, skipped, told)
	}
}

// A forged answer that matches an ID in flight but not the question does
// not end the query; a datagram that does not parse is ignored too.
func TestParseReplyMatches(t *testing.T) {
	qn, _ := queryName("4.3.2.1.in-addr.arpa")
	q := dnsQuestion(qn, dns.TypePTR)
	reply := func(name string, qtype uint16, edit func(m *dns.Msg)) []byte {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		m.Response = true
		m.Answer = append(m.Answer, &dns.PTR{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypePTR, Class: dns.ClassINET}, Ptr: "Good.Example."})
		if edit != nil {
			edit(m)
		}
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		name string
		msg  []byte
		ours bool
	}{
		{"the answer", reply("4.3.2.1.in-addr.arpa.", dns.TypePTR, nil), true},
		{"the answer, another case", reply("4.3.2.1.IN-ADDR.arpa.", dns.TypePTR, nil), true},
		{"another name", reply("5.3.2.1.in-addr.arpa.", dns.TypePTR, nil), false},
		{"another type", reply("4.3.2.1.in-addr.arpa.", dns.TypeA, nil), false},
		{"not a response", reply("4.3.2.1.in-addr.arpa.", dns.TypePTR, func(m *dns.Msg) { m.Response = false }), false},
		{"two questions", reply("4.3.2.1.in-addr.arpa.", dns.TypePTR, func(m *dns.Msg) { m.Question = append(m.Question, m.Question[0]) }), false},
		{"no question", reply("4.3.2.1.in-addr.arpa.", dns.TypePTR, func(m *dns.Msg) { m.Question = nil }), false},
		{"garbage", []byte("\x12\x34 not a DNS message at all"), false},
	} {
		r, err := parseReply(c.msg, q)
		if ours := !errors.Is(err, errNotOurs); ours != c.ours {
			t.Errorf("%s: taken for the answer %v, want %v (%v)", c.name, ours, c.ours, err)
		}
		if c.ours && (err != nil || len(r.ptrs) != 1 || r.ptrs[0] != "good.example") {
			t.Errorf("%s: %+v %v", c.name, r, err)
		}
	}
}
