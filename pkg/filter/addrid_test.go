package filter

import (
	"net/netip"
	"testing"

	"github.com/loganom/loganom/pkg/record"
)

// A record's AddrID (the wrapper's enricher numbers the addresses) gives
// the verdict its address's text gives, remembered or not.
func TestWhyByAddrID(t *testing.T) {
	rules := Rules{IPIgnore: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}, CountryIgnore: []string{"BR"}}
	recs := []*record.Record{
		{User: "a", IP: "10.0.0.1", AddrID: 1},
		{User: "b", IP: "8.8.8.8", AddrID: 2, Country: "US"},
		{User: "c", IP: "10.0.0.1", AddrID: 1},
		{User: "d", IP: "198.51.100.7", AddrID: maxIDs + 5},
		{User: "e", IP: "198.51.100.7", AddrID: maxIDs + 5},
		{User: "f", IP: "8.8.8.8", AddrID: 2, Country: "BR"},
		{User: "g", IP: "8.8.8.8", AddrID: 9, Country: "US"}, // the same text, a second number
		{User: "h", IP: "100.64.1.1", AddrID: 300},
		{User: "i", IP: "8.8.4.4", AddrID: 0},
	}
	byText, _ := New(rules, true)
	byID, _ := New(rules, true)
	for _, r := range recs {
		plain := *r
		plain.AddrID = 0
		want := byText.Why(&plain)
		if got := byID.Why(r); got != want {
			t.Errorf("%s %s id %d: %q, want %q", r.User, r.IP, r.AddrID, got, want)
		}
	}
	if byID.Why(recs[0]) != "private: 10.0.0.1" || byID.Why(recs[3]) != "ip_ignore: 198.51.100.0/24" {
		t.Errorf("verdicts %q %q", byID.Why(recs[0]), byID.Why(recs[3]))
	}
}
