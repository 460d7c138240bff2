package report

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// mono is a time with a monotonic reading, the same for every call of
// randomLogins.
var mono = time.Now()

var zones = []*time.Location{time.UTC, time.FixedZone("EST", -5*3600), time.Local, time.FixedZone("CET", 3600)}

// randomLogins makes n logins of a population where most addresses are
// one account's and a few are shared (a provider's NAT, a botnet): users
// in mixed case, times mostly forward with some going back and some
// unknown, in other zones, or with a monotonic reading, whitelisted
// addresses, a few records with another answer for
// their address, and, when numbered, an AddrID for each
// address text (renumbered now and then, as the enricher does when it
// forgets an address; some records without one).
func randomLogins(seed uint64, n int, numbered bool) []*record.Record {
	rng := rand.New(rand.NewPCG(seed, 7))
	type addr struct {
		ip, cc, why string
		asn         uint32
		id          uint32
	}
	var addrs []*addr
	for i := range 60 {
		a := &addr{ip: fmt.Sprintf("192.0.2.%d", i), cc: []string{"BA", "DE", "FR", "NG", "US"}[i%5], asn: uint32(64496 + i%7), id: uint32(i + 1)}
		if i%9 == 0 {
			a.why = "country_ignore: " + a.cc
		}
		if i%13 == 0 {
			a.why = "pattern_org: AS" + fmt.Sprint(a.asn)
		}
		if i%17 == 5 {
			a.id = maxAddrIDs + uint32(i) // beyond the tables: one by one
		}
		addrs = append(addrs, a)
	}
	nextID := uint32(len(addrs) + 1)
	users := []string{"alice@example.test", "Bob@Example.test", "bob@example.test", "carol@example.test", "dave@example.test", "eve@example.test", "x"}
	home := map[string][]*addr{}
	for i, u := range users {
		home[u] = []*addr{addrs[(i*3)%len(addrs)], addrs[(i*3+1)%len(addrs)]}
	}
	t := time.Date(2026, 11, 28, 0, 0, 0, 0, time.FixedZone("CET", 3600))
	var out []*record.Record
	for range n {
		u := users[rng.IntN(len(users))]
		a := home[u][rng.IntN(2)]
		if rng.IntN(5) == 0 {
			a = addrs[rng.IntN(len(addrs))] // shared, or travel
		}
		switch k := rng.IntN(20); {
		case k < 14:
			t = t.Add(time.Duration(rng.IntN(3000)) * time.Second)
		case k < 17:
			t = t.Add(-time.Duration(rng.IntN(7200)) * time.Second)
		}
		r := &record.Record{Type: record.TypeLogin, User: u, IP: a.ip, Country: a.cc, ASN: a.asn, Org: "Org " + a.ip,
			City: "City " + a.cc, HasLoc: true, Lat: float64(a.asn % 90), Lon: float64(a.asn % 180), AccuracyKM: 20,
			Time: t, FilteredBy: a.why}
		switch k := rng.IntN(300); {
		case k < 6:
			r.Time = time.Time{}
		case k < 30:
			r.Time = t.In(zones[k%len(zones)])
		case k == 30:
			r.Time = mono.Add(time.Duration(rng.IntN(1000)) * time.Second) // with a monotonic reading
		}
		if rng.IntN(150) == 0 { // the same address, another answer: counted one by one
			r.Country, r.City, r.Lat = "ZZ", "", -1
		}
		renumber, none := rng.IntN(400) == 0, rng.IntN(100) == 0 // drawn either way: the same logins
		if renumber {
			a.id, nextID = nextID, nextID+1
		}
		if numbered && !none {
			r.AddrID = a.id
		}
		// the strings of a record share its line, reused after it
		line := []byte(r.User + " " + r.IP)
		r.User, r.IP = string(line[:len(r.User)]), string(line[len(r.User)+1:])
		out = append(out, r)
	}
	return out
}

// state is all that a report holds of its accounts, as text: each
// account's JSON, its trusted addresses, its steps and its start.
func state(rep *Report) string {
	var b strings.Builder
	rep.Each(func(a *Account) {
		j, _ := json.Marshal(a)
		b.Write(j)
		for _, ip := range a.Trusted {
			fmt.Fprintf(&b, "\n  trusted %s %s %d %v %v", ip.IP, ip.Trusted, ip.Count, ip.First, ip.Last)
		}
		for _, s := range a.steps {
			fmt.Fprintf(&b, "\n  step %s %d %d %d", a.stepped[s.ip-1].IP, s.first, s.last, s.n)
		}
		fmt.Fprintf(&b, "\n  start %v\n", a.start)
	})
	fmt.Fprintf(&b, "accounts %d\n", rep.Accounts())
	for _, a := range rep.Anomalies() {
		fmt.Fprintf(&b, "anomaly %s %s %v\n", a.User, a.Severity, a.Reasons)
	}
	return b.String()
}

// The batch report in-process queues the logins that have an AddrID and
// counts them later (batch.go): the same accounts, addresses, counts,
// firsts, lasts and steps, and the same verdict, as one by one by text,
// whatever the mix of records with and without ids, ids renumbered, or
// reads of the report in the middle (which count what is queued).
func TestBatchSameAsOneByOne(t *testing.T) {
	for _, rule := range []Rule{{}, {Original: true}, {CaseSensitive: true}, {Alert: 1}} {
		for seed := range uint64(4) {
			n := 3*batchLogins + 1234
			if seed > 1 {
				n = 500
			}
			plain, batch := New(rule), New(rule)
			feed(plain, randomLogins(seed, n, false)...)
			recs := randomLogins(seed, n, true)
			for i, r := range recs {
				batch.Process(r, nil)
				if i == n/2 && seed%2 == 1 {
					batch.Accounts() // a read counts what is queued first
				}
			}
			if err := batch.Flush(nil); err != nil {
				t.Fatal(err)
			}
			want, got := state(plain), state(batch)
			if want != got {
				t.Errorf("%+v seed %d: one by one\n%s\nbatch\n%s", rule, seed, want, got)
			}
			if !strings.Contains(want, "step ") && !rule.Original {
				t.Errorf("no steps:\n%s", want)
			}
			if strings.Count(want, "\n  trusted") < 3 {
				t.Errorf("no trusted addresses:\n%s", want)
			}
		}
	}
}

// A login with an AddrID whose filter mark differs from the first login
// with that id is counted one by one, in its place: not as the address
// its id first stood for.
func TestBatchMarkDiffers(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	mk := func(numbered bool) []*record.Record {
		var recs []*record.Record
		for i, why := range []string{"", "", "country_ignore: BA", "", "", "country_ignore: BA"} {
			r := &record.Record{Type: record.TypeLogin, User: "u" + fmt.Sprint(i%3), IP: "192.0.2.1", Country: "BA", Time: t0.Add(time.Duration(i) * time.Minute), FilteredBy: why}
			if numbered {
				r.AddrID = 1
			}
			recs = append(recs, r)
		}
		return recs
	}
	plain, batch := New(Rule{}), New(Rule{})
	feed(plain, mk(false)...)
	feed(batch, mk(true)...)
	if want, got := state(plain), state(batch); want != got || !strings.Contains(want, "trusted 192.0.2.1") {
		t.Errorf("one by one\n%s\nbatch\n%s", want, got)
	}
}
