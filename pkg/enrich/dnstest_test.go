package enrich

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/loganom/loganom/pkg/enrich/dnstest"
)

type zone = dnstest.Zone

// The timeouts of the tests' resolvers. A server that answers gets long
// enough for an answer late on a loaded machine not to be a timeout; a
// zone with SILENT names makes its queries wait out the timeout (twice:
// Attempts), which is shorter, still many times a loopback answer.
const (
	answerTimeout = 10 * time.Second
	silentTimeout = time.Second
)

// startDNS runs a real DNS server on loopback UDP and TCP.
func startDNS(t testing.TB, z *zone) string {
	t.Helper()
	s, err := dnstest.Start(z, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s.Addr
}

// testZone: a verified name, a spoofed one, IPv6, a CNAME, no PTR,
// SERVFAIL, a PTR whose forward lookup fails, and silence.
func testZone() *zone {
	z, err := dnstest.ParseZone(`
4.3.2.1.in-addr.arpa. 60 IN PTR Good.Example.
good.example. 60 IN A 1.2.3.4
8.7.6.5.in-addr.arpa. 60 IN PTR mail.google.com.
mail.google.com. 60 IN A 142.250.1.1
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 60 IN PTR v6.example.
v6.example. 60 IN AAAA 2001:db8::1
2.2.2.2.in-addr.arpa. 60 IN PTR alias.example.
3.3.3.3.in-addr.arpa. 60 IN PTR broken.example.
SERVFAIL 10.0.0.10.in-addr.arpa.
SERVFAIL broken.example.
SILENT 20.0.0.10.in-addr.arpa.
`)
	if err != nil {
		panic(err)
	}
	// a CNAME answered with its target, as a recursive server does
	z.Records["alias.example. A"] = []string{"alias.example. 60 IN CNAME real.example.", "real.example. 60 IN A 2.2.2.2"}
	return z
}

// The test server answers over UDP and TCP on one port; a port asked for
// whose TCP half is taken is an error, not a server somewhere else.
func TestDNSTestServer(t *testing.T) {
	z := testZone()
	var addrs []string
	for i := 0; i < 20; i++ { // many at once: each gets a port of its own
		addrs = append(addrs, startDNS(t, z))
	}
	for _, addr := range addrs {
		for _, network := range []string{"udp", "tcp"} {
			c := &dns.Client{Net: network, Timeout: answerTimeout}
			m := new(dns.Msg)
			m.SetQuestion("good.example.", dns.TypeA)
			in, _, err := c.Exchange(m, addr)
			if err != nil || len(in.Answer) != 1 || !strings.Contains(in.Answer[0].String(), "1.2.3.4") {
				t.Fatalf("%s %s: %v %v", network, addr, in, err)
			}
		}
	}
	if n := z.Queries.Load(); n != int64(2*len(addrs)) {
		t.Errorf("%d queries, want %d", n, 2*len(addrs))
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	if s, err := dnstest.Start(z, taken.Addr().String()); err == nil {
		s.Close()
		t.Errorf("started on %s, whose TCP port is taken", s.Addr)
	}
}
