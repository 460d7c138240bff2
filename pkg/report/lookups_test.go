package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

// lookupRun is a thief's six logins whose geo lookups failed (ipinfo.io
// refused: no country, no AS), an owner's login from home with its reverse
// lookup failed, and, whitelisted (marked by the filter), a login whose geo
// lookup failed too.
func lookupRun(t *testing.T) *Report {
	t.Helper()
	rep := New(Rule{})
	tm := time.Date(2026, 11, 27, 10, 32, 17, 0, time.UTC)
	geo := []string{"geo: ipinfo: dial tcp 127.0.0.1:9: connect: connection refused"}
	var recs []*record.Record
	for i, ip := range []string{"92.36.10.20", "188.76.17.119", "176.63.195.207", "188.69.195.171", "195.242.178.3", "87.116.180.5"} {
		recs = append(recs, &record.Record{Type: record.TypeLogin, User: "bob@example.test", IP: ip, Time: tm.Add(time.Duration(i) * time.Second), EnrichErrors: geo, AddrID: uint32(i + 1)})
	}
	recs = append(recs,
		// the same address again, another account: one address more, not two
		&record.Record{Type: record.TypeLogin, User: "carol@example.test", IP: "92.36.10.20", Time: tm, EnrichErrors: geo},
		&record.Record{Type: record.TypeLogin, User: "alice@example.test", IP: "187.45.12.9", Country: "BR", ASN: 26599, Time: tm,
			EnrichErrors: []string{"rdns: PTR 187.45.12.9: timeout"}},
		&record.Record{Type: record.TypeLogin, User: "alice@example.test", IP: "209.85.218.52", Time: tm, EnrichErrors: geo,
			FilteredBy: "pattern_ip: google.com"},
	)
	for _, r := range recs {
		if err := rep.Process(r, nil); err != nil {
			t.Fatal(err)
		}
	}
	return rep
}

// Logins whose country and network lookups failed make the report say so,
// in text and JSON, and never give an all-clear: an address without a
// country is unknown, never foreign, and a thief's logins from such
// addresses look like nothing.
func TestGeoLookupsFailed(t *testing.T) {
	rep := lookupRun(t)
	g := rep.Gaps()
	if g.Geo != (GeoFailed{Logins: 7, Addresses: 6}) {
		t.Errorf("geo failed: %+v, want 7 logins from 6 addresses (not the whitelisted one, nor the reverse lookup)", g.Geo)
	}
	if len(rep.Anomalies()) != 0 {
		t.Fatalf("the thief was found without countries: the test proves nothing")
	}
	var text bytes.Buffer
	if err := TextGaps(&text, rep.Anomalies(), rep.Accounts(), g); err != nil {
		t.Fatal(err)
	}
	want := `INCOMPLETE: the geo lookups (country, network) failed for 7 logins from 6 addresses; accounts that logged in from them may look safer than they are:
  an address without a country counts as unknown, never foreign; the errors are in the warning on stderr and the records' enrich_errors

Nothing found (3 accounts with logins after the whitelist), but this is no all-clear: see above.
`
	if text.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", text.String(), want)
	}
	if strings.Contains(text.String(), "No account looks compromised") {
		t.Error("a run whose geo lookups failed gave an all-clear")
	}

	var js bytes.Buffer
	if err := JSONGaps(&js, rep.Anomalies(), g); err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"incomplete":true,"unread":[],"geo_lookups_failed":{"logins":7,"addresses":6}}` + "\n"
	if js.String() != wantJSON {
		t.Errorf("json:\n%s\nwant:\n%s", js.String(), wantJSON)
	}
}

// With an input not read too, both are said, the unread input first, and
// the JSON's first line holds both.
func TestGeoLookupsFailedAndUnread(t *testing.T) {
	rep := lookupRun(t)
	rep.Incomplete("maillog.1", 0, "open maillog.1: permission denied")
	var text bytes.Buffer
	if err := TextGaps(&text, rep.Anomalies(), rep.Accounts(), rep.Gaps()); err != nil {
		t.Fatal(err)
	}
	want := `INCOMPLETE: 1 input could not be read in full; accounts in it may be missing from this report:
  maillog.1 (not read): open maillog.1: permission denied

INCOMPLETE: the geo lookups (country, network) failed for 7 logins from 6 addresses; accounts that logged in from them may look safer than they are:
  an address without a country counts as unknown, never foreign; the errors are in the warning on stderr and the records' enrich_errors

Nothing found in what was read (3 accounts with logins after the whitelist), but this is no all-clear: see above.
`
	if text.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", text.String(), want)
	}
	var js bytes.Buffer
	if err := JSONGaps(&js, rep.Anomalies(), rep.Gaps()); err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"incomplete":true,"unread":[{"input":"maillog.1","lines_read":0,"error":"open maillog.1: permission denied"}],"geo_lookups_failed":{"logins":7,"addresses":6}}` + "\n"
	if js.String() != wantJSON {
		t.Errorf("json:\n%s\nwant:\n%s", js.String(), wantJSON)
	}
}

// A failed reverse lookup alone leaves the all-clear as it is: the
// whitelist's pattern_ip could not trust the address, so the report sees
// more logins, never fewer (a resolver's SERVFAIL on an attacker's lame
// reverse zone is common, and no reason to withhold it).
func TestRDNSFailedIsNoGap(t *testing.T) {
	rep := New(Rule{})
	err := rep.Process(&record.Record{Type: record.TypeLogin, User: "alice@example.test", IP: "187.45.12.9", Country: "BR",
		Time: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), EnrichErrors: []string{"rdns: PTR 187.45.12.9: SERVFAIL"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var text, js bytes.Buffer
	TextGaps(&text, rep.Anomalies(), rep.Accounts(), rep.Gaps())
	JSONGaps(&js, rep.Anomalies(), rep.Gaps())
	if text.String() != "No account looks compromised (1 account with logins after the whitelist).\n" || js.Len() != 0 {
		t.Errorf("text %q, json %q", text.String(), js.String())
	}
}

// An account found is reported below the block: the others may hide one.
func TestGeoLookupsFailedWithFinding(t *testing.T) {
	rep := lookupRun(t)
	tm := time.Date(2026, 11, 27, 10, 40, 0, 0, time.UTC)
	for i, x := range []struct{ ip, cc string }{{"1.1.1.1", "AU"}, {"8.8.8.8", "US"}, {"5.5.5.5", "DE"}, {"6.6.6.6", "FR"}} {
		rep.Process(&record.Record{Type: record.TypeLogin, User: "dave@example.test", IP: x.ip, Country: x.cc, ASN: uint32(100 + i), Time: tm.Add(time.Duration(i) * time.Minute)}, nil)
	}
	accounts := rep.Anomalies()
	if len(accounts) != 1 {
		t.Fatalf("%d accounts found, want dave's", len(accounts))
	}
	var text bytes.Buffer
	TextGaps(&text, accounts, rep.Accounts(), rep.Gaps())
	if !strings.HasPrefix(text.String(), "INCOMPLETE: the geo lookups (country, network) failed for 7 logins from 6 addresses;") ||
		!strings.Contains(text.String(), "\n\n1 account looks compromised (of 4 accounts with logins after the whitelist):\n") {
		t.Errorf("text:\n%s", text.String())
	}
}

// Logins not located because no geo source was configured
// (record.NoGeoSource) are counted apart from failed lookups, and the
// report says why and what to do, and gives no all-clear; to the original
// rule they are no gap unless it counts countries or networks.
func TestNoGeoSource(t *testing.T) {
	tm := time.Date(2026, 11, 27, 10, 32, 17, 0, time.UTC)
	run := func(rule Rule) *Report {
		rep := New(rule)
		for i, ip := range []string{"92.36.10.20", "188.76.17.119", "176.63.195.207"} {
			r := &record.Record{Type: record.TypeLogin, User: "bob@example.test", IP: ip, Time: tm.Add(time.Duration(i) * time.Second),
				EnrichErrors: []string{record.NoGeoSource}, AddrID: uint32(i + 1)}
			if err := rep.Process(r, nil); err != nil {
				t.Fatal(err)
			}
		}
		// whitelisted: not counted
		if err := rep.Process(&record.Record{Type: record.TypeLogin, User: "alice@example.test", IP: "209.85.218.52", Time: tm,
			EnrichErrors: []string{record.NoGeoSource}, FilteredBy: "pattern_ip: google.com"}, nil); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := run(Rule{})
	g := rep.Gaps()
	if g.NoGeo != (GeoFailed{Logins: 3, Addresses: 3}) || g.Geo != (GeoFailed{}) || g.None() {
		t.Fatalf("gaps %+v: want 3 logins from 3 addresses not located, no failed lookup", g)
	}
	var text bytes.Buffer
	if err := TextGaps(&text, rep.Anomalies(), rep.Accounts(), g); err != nil {
		t.Fatal(err)
	}
	want := `INCOMPLETE: no geo database is configured, and ipinfo.io is not in use: 3 logins from 3 addresses have no country and no network; accounts that logged in from them may look safer than they are:
  an address without a country counts as unknown, never foreign
  scripts/fetch-geodb downloads free databases; or name yours with --geoip or [ENRICH] geoip, or give [GENERAL] ipinfo_token

Nothing found (1 account with logins after the whitelist), but this is no all-clear: see above.
`
	if text.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", text.String(), want)
	}
	var js bytes.Buffer
	if err := JSONGaps(&js, rep.Anomalies(), g); err != nil {
		t.Fatal(err)
	}
	if want := `{"incomplete":true,"unread":[],"geo_not_configured":{"logins":3,"addresses":3}}` + "\n"; js.String() != want {
		t.Errorf("json %q, want %q", js.String(), want)
	}

	if g := run(Rule{Original: true}).Gaps(); !g.None() {
		t.Errorf("original rule, addresses only: gaps %+v, want none", g)
	}
	if g := run(Rule{Original: true, MinCountries: 2}).Gaps(); g.NoGeo.Logins != 3 {
		t.Errorf("original rule with min_countries: gaps %+v, want 3 logins not located", g)
	}
}

// With a state, the headline says how many of the accounts found were
// already alerted: a run with one new account among old ones does not
// read as all new.
func TestHeadlineAlreadyAlerted(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 40, 0, 0, time.UTC)
	acct := func(user string, mark bool) *Account {
		a := &Account{User: user, Logins: 1, First: at, Last: at}
		if mark {
			a.Alert = &AlertMark{At: at}
		}
		return a
	}
	for _, c := range []struct {
		marks []bool
		want  string
	}{
		{[]bool{false}, "1 account looks compromised (of 9 accounts with logins after the whitelist):\n"},
		{[]bool{true}, "1 account looks compromised (of 9 accounts with logins after the whitelist), already alerted:\n"},
		{[]bool{true, false, true}, "3 accounts look compromised (of 9 accounts with logins after the whitelist), 2 of them already alerted:\n"},
		{[]bool{true, true}, "2 accounts look compromised (of 9 accounts with logins after the whitelist), all already alerted:\n"},
		{[]bool{false, false}, "2 accounts look compromised (of 9 accounts with logins after the whitelist):\n"},
	} {
		var accounts []*Account
		for i, m := range c.marks {
			accounts = append(accounts, acct(fmt.Sprintf("u%d@example.test", i), m))
		}
		var text bytes.Buffer
		if err := TextGaps(&text, accounts, 9, Gaps{}); err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(text.String(), "\n"); first+"\n" != c.want {
			t.Errorf("marks %v: headline %q, want %q", c.marks, first, c.want)
		}
	}
}

// An account whose addresses have no country says "0 countries", not
// "0 countries ()".
func TestTextNoCountries(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 40, 0, 0, time.UTC)
	var text bytes.Buffer
	if err := AccountText(&text, &Account{User: "u@example.test", IPs: []*IP{{IP: "192.0.2.1", Count: 2, First: at, Last: at}, {IP: "192.0.2.2", Count: 1, First: at, Last: at}}, Logins: 3, First: at, Last: at}); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(text.String(), "\n"); !strings.HasPrefix(first, "u@example.test: 2 addresses, 0 countries, 0 networks, 3 logins, ") {
		t.Errorf("first line %q", first)
	}
	text.Reset()
	if err := AccountText(&text, &Account{User: "u@example.test", Countries: []string{"BR", "PT"}, Logins: 3, First: at, Last: at}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), ", 2 countries (BR PT), ") {
		t.Errorf("text %q", text.String())
	}
}
