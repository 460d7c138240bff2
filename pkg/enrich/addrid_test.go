package enrich

import (
	"fmt"
	"testing"

	"github.com/loganom/loganom/pkg/record"
)

// The enricher gives each distinct address text one number (AddrID),
// never the same to two texts, and none to a record it does not look up.
func TestAddrID(t *testing.T) {
	for _, tc := range []struct {
		name       string
		loginsOnly bool
		recs       []*record.Record
		want       []uint32
	}{
		{"repeats", false, []*record.Record{
			{Type: record.TypeLogin, IP: "192.0.2.1"}, {Type: record.TypeLogin, IP: "192.0.2.2"},
			{Type: record.TypeLogin, IP: "192.0.2.1"}, {Type: record.TypeLogin, IP: "2001:db8::1"},
			{Type: record.TypeLogin, IP: "192.0.2.2"},
		}, []uint32{1, 2, 1, 3, 2}},
		{"not an address", false, []*record.Record{
			{Type: record.TypeLogin, IP: "nonsense"}, {Type: record.TypeLogin, IP: ""}, {Type: record.TypeLogin, IP: "192.0.2.9"},
		}, []uint32{0, 0, 1}},
		{"logins only", true, []*record.Record{
			{Type: record.TypeReject, IP: "192.0.2.1", AddrID: 77}, {Type: record.TypeLogin, IP: "192.0.2.1"},
		}, []uint32{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Options{LoginsOnly: tc.loginsOnly})
			var got []uint32
			emit := func(r *record.Record) error { got = append(got, r.AddrID); return nil }
			for _, r := range tc.recs {
				if err := e.Process(r, emit); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.Flush(emit); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("ids %v, want %v", got, tc.want)
			}
		})
	}
}

// An address the enricher forgot (MaxIPs) gets a new number, never one
// another address had.
func TestAddrIDAfterForgetting(t *testing.T) {
	e := New(Options{MaxIPs: 2})
	seen := map[uint32]string{}
	emit := func(r *record.Record) error {
		if ip, ok := seen[r.AddrID]; ok && ip != r.IP {
			t.Errorf("id %d for %s and %s", r.AddrID, ip, r.IP)
		}
		seen[r.AddrID] = r.IP
		return nil
	}
	for _, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.1", "192.0.2.2", "192.0.2.4"} {
		if err := e.Process(&record.Record{Type: record.TypeLogin, IP: ip}, emit); err != nil {
			t.Fatal(err)
		}
	}
	e.Flush(emit)
	if len(seen) != 6 {
		t.Errorf("ids %v: want 6 (the map was cleared twice)", seen)
	}
}
