package report

import (
	"encoding/json"
	"testing"

	"github.com/loganom/loganom/pkg/record"
)

// The batch report finds an account's address by the record's AddrID
// (the wrapper) or by its text (the pipes) alike: the same report.
func TestProcessByAddrID(t *testing.T) {
	ids := map[string]uint32{"187.45.12.9": 1, "92.36.10.20": 2, "176.63.195.207": 3, "41.203.64.7": 4}
	mk := func() []*record.Record {
		recs := []*record.Record{
			login("alice", "187.45.12.9", "BR", 26599, 1), login("alice", "187.45.12.9", "BR", 26599, 5),
			login("bob", "92.36.10.20", "BA", 9146, 2), login("bob", "176.63.195.207", "HU", 6830, 3), login("bob", "41.203.64.7", "NG", 37148, 4),
			login("Bob", "92.36.10.20", "BA", 9146, 6), login("bob", "41.203.64.7", "NG", 37148, 7),
			login("carol", "187.45.12.9", "BR", 26599, 9),
		}
		recs[4].FilteredBy = "country_ignore: NG" // trusted: context, not counted
		recs[6].FilteredBy = "country_ignore: NG"
		return recs
	}
	for _, rule := range []Rule{{Original: true}, {}} {
		plain, numbered := New(rule), New(rule)
		feed(plain, mk()...)
		recs := mk()
		for i, r := range recs {
			r.AddrID = ids[r.IP]
			if i == 7 {
				r.AddrID = 40 // the same text under a second number
			}
		}
		feed(numbered, recs...)
		var a, b []byte
		plain.Each(func(acc *Account) { j, _ := json.Marshal(acc); a = append(append(a, j...), '\n') })
		numbered.Each(func(acc *Account) { j, _ := json.Marshal(acc); b = append(append(b, j...), '\n') })
		if string(a) != string(b) || len(a) == 0 {
			t.Errorf("original=%v: by text\n%s\nby id\n%s", rule.Original, a, b)
		}
		if acc := numbered.accounts["bob"]; acc == nil || acc.Logins != 3 || len(acc.IPs) != 2 || len(acc.Trusted) != 1 || acc.Trusted[0].Count != 2 {
			t.Errorf("bob: %+v", acc)
		}
	}
}
