package enrich

import (
	"net/netip"
	"testing"
)

// known is the answer the enricher keeps for an address text, nil if none.
func known(e *Enricher, s string) *answer {
	if v4, ok := parseIPv4(s); ok {
		return e.ips4[v4]
	}
	return e.ips[s]
}

// parseIPv4 takes exactly the texts that netip.ParseAddr reads as an IPv4
// address, and gives the same number.
func TestParseIPv4(t *testing.T) {
	for _, s := range []string{
		"0.0.0.0", "1.2.3.4", "255.255.255.255", "192.0.2.10", "10.0.0.1",
		"256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1.2.3.00", "1..2.3",
		".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "1.2.3.4%eth0", "::ffff:1.2.3.4",
		"2001:db8::1", "", "1.2.3.1000", "1.2.3.4x", "999.999.999.999", "1.2.3.25a",
	} {
		ip, err := netip.ParseAddr(s)
		v, ok := parseIPv4(s)
		want := err == nil && ip.Is4()
		if ok != want {
			t.Errorf("%q: ok %v, netip %v %v", s, ok, ip, err)
			continue
		}
		if ok && netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}) != ip {
			t.Errorf("%q: %08x, netip %v", s, v, ip)
		}
	}
}

func FuzzParseIPv4(f *testing.F) {
	f.Add("1.2.3.4")
	f.Add("01.2.3.4")
	f.Fuzz(func(t *testing.T, s string) {
		ip, err := netip.ParseAddr(s)
		v, ok := parseIPv4(s)
		if ok != (err == nil && ip.Is4()) {
			t.Fatalf("%q: ok %v, netip %v %v", s, ok, ip, err)
		}
		if ok && netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}) != ip {
			t.Fatalf("%q: %08x, netip %v", s, v, ip)
		}
	})
}
