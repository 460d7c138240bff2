package enrich

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// zone is a DNS server's data for the tests: names to records, and names
// that fail in given ways.
type zone struct {
	records map[string][]string // "name. TYPE" -> RR texts
	fail    map[string]int      // name -> rcode (SERVFAIL …)
	silent  map[string]bool     // names never answered
	delay   time.Duration
	queries atomic.Int64
}

// startDNS runs a real DNS server on loopback UDP and TCP.
func startDNS(t testing.TB, z *zone) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		z.queries.Add(1)
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		if z.silent[name] {
			return
		}
		if z.delay > 0 {
			time.Sleep(z.delay)
		}
		m := new(dns.Msg)
		m.SetReply(req)
		if rc, ok := z.fail[name]; ok {
			m.Rcode = rc
			w.WriteMsg(m)
			return
		}
		texts, ok := z.records[name+" "+dns.TypeToString[q.Qtype]]
		if !ok && !z.exists(name) {
			m.Rcode = dns.RcodeNameError
		}
		for _, txt := range texts {
			rr, err := dns.NewRR(txt)
			if err != nil {
				panic(err)
			}
			m.Answer = append(m.Answer, rr)
		}
		w.WriteMsg(m)
	})
	udp := &dns.Server{PacketConn: pc, Handler: h}
	tcp := &dns.Server{Listener: ln, Handler: h}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	return addr
}

func (z *zone) exists(name string) bool {
	for k := range z.records {
		if strings.HasPrefix(k, name+" ") {
			return true
		}
	}
	return false
}

// testZone: a verified name, a spoofed one, IPv6, a CNAME, no PTR,
// SERVFAIL, a PTR whose forward lookup fails, and silence.
func testZone() *zone {
	return &zone{
		records: map[string][]string{
			"4.3.2.1.in-addr.arpa. PTR": {"4.3.2.1.in-addr.arpa. 60 IN PTR Good.Example."},
			"good.example. A":           {"good.example. 60 IN A 1.2.3.4"},
			"8.7.6.5.in-addr.arpa. PTR": {"8.7.6.5.in-addr.arpa. 60 IN PTR mail.google.com."},
			"mail.google.com. A":        {"mail.google.com. 60 IN A 142.250.1.1"},
			"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR": {"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 60 IN PTR v6.example."},
			"v6.example. AAAA":          {"v6.example. 60 IN AAAA 2001:db8::1"},
			"2.2.2.2.in-addr.arpa. PTR": {"2.2.2.2.in-addr.arpa. 60 IN PTR alias.example."},
			"alias.example. A":          {"alias.example. 60 IN CNAME real.example.", "real.example. 60 IN A 2.2.2.2"},
			"3.3.3.3.in-addr.arpa. PTR": {"3.3.3.3.in-addr.arpa. 60 IN PTR broken.example."},
		},
		fail:   map[string]int{"10.0.0.10.in-addr.arpa.": dns.RcodeServerFailure, "broken.example.": dns.RcodeServerFailure},
		silent: map[string]bool{"20.0.0.10.in-addr.arpa.": true},
	}
}
