package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/detect"
	"github.com/loganom/loganom/pkg/record"
)

func login(user, ip, cc string, asn uint32, min int) *record.Record {
	return &record.Record{Type: record.TypeLogin, User: user, IP: ip, Country: cc, ASN: asn, Org: "Org" + ip[:2],
		Time: time.Date(2026, 11, 27, 10, min, 0, 0, time.UTC)}
}

func feed(rep *Report, recs ...*record.Record) {
	for _, r := range recs {
		rep.Process(r, nil)
	}
}

func TestRule(t *testing.T) {
	recs := []*record.Record{
		login("alice", "187.45.12.9", "BR", 26599, 1), login("alice", "187.45.12.9", "BR", 26599, 5),
		login("bob", "92.36.10.20", "BA", 9146, 2), login("bob", "176.63.195.207", "HU", 6830, 3), login("bob", "41.203.64.7", "NG", 37148, 4),
		login("carol", "177.66.162.138", "BR", 28573, 1), login("carol", "187.45.12.9", "BR", 26599, 9),
		{Type: record.TypeAuthFailure, User: "dave", IP: "1.2.3.4"}, {Type: record.TypeAuthFailure, User: "dave", IP: "1.2.3.5"},
	}
	users := func(rule Rule) string {
		rep := New(rule)
		feed(rep, recs...)
		var u []string
		for _, a := range rep.Anomalies() {
			u = append(u, a.User)
		}
		return strings.Join(u, ",")
	}
	for _, c := range []struct {
		rule Rule
		want string
	}{
		{Rule{Original: true}, "bob,carol"}, // the original's rule: two or more addresses
		{Rule{Original: true, MinIPs: 3}, "bob"},
		{Rule{Original: true, MinCountries: 2}, "bob"},
		{Rule{Original: true, MinIPs: 2, MinASNs: 2}, "bob,carol"},
		{Rule{Original: true, MinIPs: 1}, "bob,carol,alice"}, // ordered by severity
		{Rule{Original: true, MinCountries: 4}, ""},
		// The detectors: bob's three countries in three minutes are a
		// botnet; carol's two home networks are nothing; a threshold
		// applies on top.
		{Rule{}, "bob"},
		{Rule{MinCountries: 4}, ""},
		{Rule{Alert: detect.High}, "bob"},
	} {
		if got := users(c.rule); got != c.want {
			t.Errorf("%+v: %q, want %q", c.rule, got, c.want)
		}
	}
}

func TestAccountDetail(t *testing.T) {
	rep := New(Rule{Original: true})
	feed(rep, login("bob", "92.36.10.20", "BA", 9146, 7), login("bob", "176.63.195.207", "HU", 6830, 3), login("bob", "92.36.10.20", "BA", 9146, 2))
	a := rep.Anomalies()[0]
	if a.Logins != 3 || strings.Join(a.Countries, ",") != "BA,HU" || len(a.ASNs) != 2 || a.First.Minute() != 2 || a.Last.Minute() != 7 {
		t.Errorf("%+v", a)
	}
	if ip := a.IPs[0]; ip.IP != "92.36.10.20" || ip.Count != 2 || ip.First.Minute() != 2 || ip.Last.Minute() != 7 {
		t.Errorf("%+v", ip)
	}
	var buf bytes.Buffer
	JSON(&buf, rep.Anomalies(), nil)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m["user"] != "bob" || len(m["ips"].([]any)) != 2 {
		t.Errorf("json %s %v", buf.String(), err)
	}
}

// Names from the network cannot put escape sequences on a terminal.
func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"bob@example.test":      "bob@example.test",
		"ünïcödé":               "ünïcödé",
		"evil\x1b[2J\x1b[31m@x": `"evil\x1b[2J\x1b[31m@x"`,
		"line\nbreak":           `"line\nbreak"`,
		"bad\xffutf8":           `"bad\xffutf8"`,
		"rtl\u202eoverride":     `"rtl\u202eoverride"`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
	rep := New(Rule{Original: true})
	r1 := login("x\x1b[31m", "1.1.1.1", "AU", 13335, 1)
	r1.RDNS = "one.one\x07"
	feed(rep, r1, login("x\x1b[31m", "8.8.8.8", "US", 15169, 2))
	var buf bytes.Buffer
	Text(&buf, rep.Anomalies(), rep.Accounts(), nil)
	if strings.ContainsAny(buf.String(), "\x1b\x07") {
		t.Errorf("control characters in the text report:\n%s", buf.String())
	}
}

// One account is one account, whatever the case it was typed in.
func TestGroupingCase(t *testing.T) {
	recs := []*record.Record{
		login("bob@example.com", "92.36.10.20", "BA", 9146, 1),
		login("BOB@example.com", "176.63.195.207", "HU", 6830, 2),
		login("Bob@Example.com", "41.203.64.7", "NG", 37148, 3),
		login("bob@EXAMPLE.COM", "41.203.64.7", "NG", 37148, 4),
		login("Carol@example.com", "187.45.12.9", "BR", 26599, 5),
		login("carol@example.com", "177.66.162.138", "BR", 28573, 6),
		login("bad\xff@example.com", "1.1.1.1", "AU", 13335, 7),
		login("bad\xfe@example.com", "8.8.8.8", "US", 15169, 8),
	}
	for _, c := range []struct {
		caseSensitive bool
		want          string // user:addresses/logins, most severe first
	}{
		{false, "bob@example.com:3/4 carol@example.com:2/2 bad\xfe@example.com:1/1 bad\xff@example.com:1/1"},
		{true, "bob@example.com:2/2 BOB@example.com:1/1 Bob@example.com:1/1 Carol@example.com:1/1 bad\xfe@example.com:1/1 bad\xff@example.com:1/1 carol@example.com:1/1"},
	} {
		rep := New(Rule{Original: true, MinIPs: 1, CaseSensitive: c.caseSensitive})
		feed(rep, recs...)
		var got []string
		for _, a := range rep.Anomalies() {
			got = append(got, fmt.Sprintf("%s:%d/%d", a.User, len(a.IPs), a.Logins))
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("case-sensitive %v:\n%q\nwant\n%q", c.caseSensitive, g, c.want)
		}
	}
}
