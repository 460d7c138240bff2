package enrich

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// Forward confirmation takes only the A or AAAA records that answer the
// name asked: owned by it, or by the target of a CNAME chain that starts
// at it within the answer. A record of another owner, a chain that does
// not start at the asked name, a record of the other address type, are
// no confirmation. PTR names likewise: the reverse name's own, or through
// its CNAME (RFC 2317 classless delegation).
func TestReviewAnswerOwner(t *testing.T) {
	z := &zone{Records: map[string][]string{}}
	add := func(ptrOwner, ptr string, key string, rrs ...string) {
		z.Records[ptrOwner+" PTR"] = []string{ptrOwner + " 60 IN PTR " + ptr}
		z.Records[key] = rrs
	}
	// an A record of another owner than the asked name
	add("1.0.0.198.in-addr.arpa.", "stray.google.com.", "stray.google.com. A",
		"other.example. 60 IN A 198.0.0.1")
	// a CNAME chain that does not start at the asked name
	add("2.0.0.198.in-addr.arpa.", "chain.google.com.", "chain.google.com. A",
		"elsewhere.example. 60 IN CNAME real.example.", "real.example. 60 IN A 198.0.0.2")
	// an AAAA record (the IPv4 address mapped) in the answer to an A query
	add("3.0.0.198.in-addr.arpa.", "mixed.google.com.", "mixed.google.com. A",
		"mixed.google.com. 60 IN AAAA ::ffff:198.0.0.3")
	// a CNAME chain from the asked name: confirmed
	add("4.0.0.198.in-addr.arpa.", "alias.google.com.", "alias.google.com. A",
		"alias.google.com. 60 IN CNAME mid.example.", "mid.example. 60 IN CNAME end.example.", "end.example. 60 IN A 198.0.0.4")
	// a PTR of another owner than the reverse name asked
	z.Records["5.0.0.198.in-addr.arpa. PTR"] = []string{"9.9.9.9.in-addr.arpa. 60 IN PTR mail.google.com."}
	// RFC 2317: the reverse name is a CNAME into a delegated zone
	z.Records["6.0.0.198.in-addr.arpa. PTR"] = []string{
		"6.0.0.198.in-addr.arpa. 60 IN CNAME 6.0/26.0.0.198.in-addr.arpa.",
		"6.0/26.0.0.198.in-addr.arpa. 60 IN PTR host.google.com.",
	}
	z.Records["host.google.com. A"] = []string{"host.google.com. 60 IN A 198.0.0.6"}
	// a CNAME that cannot be read (a dot inside a label) is skipped, as
	// any record that cannot be read, not the whole answer
	add("7.0.0.198.in-addr.arpa.", "dotted.google.com.", "dotted.google.com. A",
		`dotted.google.com. 60 IN CNAME a\.b.example.`, "dotted.google.com. 60 IN A 198.0.0.7")
	r, err := NewResolver(startDNS(t, z), answerTimeout)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ip   string
		want RDNS
	}{
		{"198.0.0.1", RDNS{Name: "stray.google.com"}},
		{"198.0.0.2", RDNS{Name: "chain.google.com"}},
		{"198.0.0.3", RDNS{Name: "mixed.google.com"}},
		{"198.0.0.4", RDNS{Name: "alias.google.com", Verified: true}},
		{"198.0.0.5", RDNS{}},
		{"198.0.0.6", RDNS{Name: "host.google.com", Verified: true}},
		{"198.0.0.7", RDNS{Name: "dotted.google.com", Verified: true}},
	} {
		got, err := r.Reverse(context.Background(), netip.MustParseAddr(c.ip))
		if err != nil || got != c.want {
			t.Errorf("%s: %+v %v, want %+v", c.ip, got, err, c.want)
		}
	}
}

// Records outside the answer section (authority, additional) never
// answer; a CNAME chain is followed whatever the case of its names.
func TestReviewParseReplySections(t *testing.T) {
	hdr := func(name string, t uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: 60}
	}
	qn, _ := queryName("asked.example")
	q := dnsQuestion(qn, dns.TypeA)
	for _, c := range []struct {
		name string
		edit func(m *dns.Msg)
		want []netip.Addr
	}{
		{"additional", func(m *dns.Msg) {
			m.Extra = []dns.RR{&dns.A{Hdr: hdr("asked.example.", dns.TypeA), A: net.IPv4(192, 0, 2, 1)}}
		}, nil},
		{"authority", func(m *dns.Msg) {
			m.Ns = []dns.RR{&dns.A{Hdr: hdr("asked.example.", dns.TypeA), A: net.IPv4(192, 0, 2, 1)}}
		}, nil},
		{"chain in another case", func(m *dns.Msg) {
			m.Answer = []dns.RR{
				&dns.CNAME{Hdr: hdr("ASKED.example.", dns.TypeCNAME), Target: "Real.Example."},
				&dns.A{Hdr: hdr("real.EXAMPLE.", dns.TypeA), A: net.IPv4(192, 0, 2, 2)},
			}
		}, []netip.Addr{netip.MustParseAddr("192.0.2.2")}},
		{"chain listed backwards", func(m *dns.Msg) {
			m.Answer = []dns.RR{
				&dns.A{Hdr: hdr("end.example.", dns.TypeA), A: net.IPv4(192, 0, 2, 3)},
				&dns.CNAME{Hdr: hdr("mid.example.", dns.TypeCNAME), Target: "end.example."},
				&dns.CNAME{Hdr: hdr("asked.example.", dns.TypeCNAME), Target: "mid.example."},
			}
		}, []netip.Addr{netip.MustParseAddr("192.0.2.3")}},
	} {
		m := new(dns.Msg)
		m.SetQuestion("asked.example.", dns.TypeA)
		m.Response = true
		c.edit(m)
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		r, err := parseReply(b, q)
		if err != nil || !slices.Equal(r.addrs, c.want) {
			t.Errorf("%s: %v %v, want %v", c.name, r.addrs, err, c.want)
		}
	}
}
