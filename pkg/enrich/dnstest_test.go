package enrich

import (
	"testing"

	"github.com/loganom/loganom/pkg/enrich/dnstest"
)

type zone = dnstest.Zone

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
