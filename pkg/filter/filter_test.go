package filter

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/loganom/loganom/pkg/record"
)

func TestWhy(t *testing.T) {
	ipIgnore, err := ParsePrefixes([]string{"81.2.69.0/24", "2a02:1:2::/48", "::ffff:5.5.5.5"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := New(Rules{
		PatternIP:     []string{"google.com", ".Outlook.COM", ""},
		PatternOrg:    []string{"AS8075", "as15169", "Liberty Global"},
		CountryIgnore: []string{"br", " DE "},
		EmailSkip:     []string{"Monitor@Example.test", "@robots.example.test"},
		IPIgnore:      ipIgnore,
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	yes, no := record.Bool(true), record.Bool(false)
	for _, c := range []struct {
		r    record.Record
		want string
	}{
		{record.Record{User: "bob", IP: "92.36.10.20", Country: "BA"}, ""},
		{record.Record{User: "bob", IP: "187.45.12.9", Country: "BR"}, "country_ignore: BR"},
		{record.Record{User: "bob", IP: "187.45.12.9", Country: "de"}, "country_ignore: DE"},
		{record.Record{User: "alice", IP: "209.85.218.52", RDNS: "mail-ej1-f52.GOOGLE.com", RDNSVerified: yes}, "pattern_ip: google.com"},
		// a PTR that does not resolve back whitelists nothing
		{record.Record{User: "bob", IP: "176.63.195.207", RDNS: "smtp.google.com", RDNSVerified: no}, ""},
		{record.Record{User: "bob", IP: "176.63.195.207", RDNS: "smtp.google.com"}, ""},
		{record.Record{User: "x", IP: "52.125.129.21", RDNS: "mail.protection.outlook.com", RDNSVerified: yes}, "pattern_ip: .outlook.com"},
		{record.Record{User: "x", IP: "52.125.129.21", ASN: 8075, Org: "MICROSOFT"}, "pattern_org: AS8075"},
		{record.Record{User: "x", IP: "209.85.218.52", ASN: 15169}, "pattern_org: AS15169"},
		{record.Record{User: "x", IP: "176.63.1.1", ASN: 6830, Org: "LIBERTY GLOBAL B.V."}, "pattern_org: liberty global"},
		{record.Record{User: "MONITOR@example.test", IP: "92.36.10.20"}, "email_skip: MONITOR@example.test"},
		{record.Record{User: "bot7@robots.example.test", IP: "92.36.10.20"}, "email_skip: @robots.example.test"},
		{record.Record{User: "x", IP: "81.2.69.160"}, "ip_ignore: 81.2.69.0/24"},
		{record.Record{User: "x", IP: "2a02:1:2:3::9"}, "ip_ignore: 2a02:1:2::/48"},
		{record.Record{User: "x", IP: "5.5.5.5"}, "ip_ignore: 5.5.5.5/32"},
		{record.Record{User: "x", IP: "192.168.1.2"}, "private: 192.168.1.2"},
		{record.Record{User: "x", IP: "fd00::1"}, "private: fd00::1"},
		{record.Record{User: "x", IP: "100.64.3.4"}, "cgnat: 100.64.3.4"},
		{record.Record{User: "x", IP: "127.0.0.1"}, "loopback: 127.0.0.1"},
		{record.Record{User: "x", IP: "fe80::1"}, "link-local: fe80::1"},
		{record.Record{User: "x", IP: "203.0.113.77"}, "documentation: 203.0.113.77"},
		{record.Record{User: "x", IP: "2001:db8::bad"}, "documentation: 2001:db8::bad"},
		{record.Record{User: "x", IP: "240.0.0.1"}, "reserved: 240.0.0.1"},
		{record.Record{User: "x", IP: "8.8.8.8"}, ""},
		{record.Record{User: "x"}, ""},
	} {
		if got := f.Why(&c.r); got != c.want {
			t.Errorf("%+v: %q, want %q", c.r, got, c.want)
		}
	}
}

func TestOptions(t *testing.T) {
	f, _ := New(Rules{PatternIP: []string{"google.com"}, TrustUnverified: true, KeepPrivate: true}, false)
	if got := f.Why(&record.Record{IP: "176.63.195.207", RDNS: "smtp.google.com", RDNSVerified: record.Bool(false)}); got != "pattern_ip: google.com" {
		t.Errorf("trusting unverified names: %q", got)
	}
	if got := f.Why(&record.Record{IP: "10.1.1.1"}); got != "" {
		t.Errorf("keeping private addresses: %q", got)
	}
	if _, err := New(Rules{CountryIgnore: []string{"Brazil"}}, false); err == nil || !strings.Contains(err.Error(), `"BRAZIL" is not a two-letter`) {
		t.Errorf("err %v", err)
	}
	if _, err := ParsePrefixes([]string{"10.0.0.0/33"}); err == nil || !strings.Contains(err.Error(), "10.0.0.0/33") {
		t.Errorf("err %v", err)
	}
}

// Dropped records disappear; with Explain they stay and say why.
func TestProcess(t *testing.T) {
	for _, explain := range []bool{false, true} {
		f, _ := New(Rules{CountryIgnore: []string{"BR"}}, explain)
		var out []string
		emit := func(r *record.Record) error { out = append(out, r.User+":"+r.FilteredBy); return nil }
		for _, r := range []*record.Record{{User: "a", IP: "1.1.1.1", Country: "BR"}, {User: "b", IP: "1.1.1.1", Country: "US"}, {User: "c", IP: "10.0.0.1"}} {
			if err := f.Process(r, emit); err != nil {
				t.Fatal(err)
			}
		}
		want := "b:"
		if explain {
			want = "a:country_ignore: BR,b:,c:private: 10.0.0.1"
		}
		if got := strings.Join(out, ","); got != want {
			t.Errorf("explain=%v: %s", explain, got)
		}
		if f.Dropped["country_ignore"] != 1 || f.Dropped["private"] != 1 {
			t.Errorf("dropped %v", f.Dropped)
		}
	}
}

// ip_ignore entries in IPv4-mapped form are the IPv4 ranges records carry;
// zones are refused in the list and ignored in records.
func TestParsePrefixes(t *testing.T) {
	for _, c := range []struct {
		in, want, err string
	}{
		{in: "9.9.9.0/24", want: "9.9.9.0/24"},
		{in: "9.9.9.7/24", want: "9.9.9.0/24"},
		{in: "1.2.3.4", want: "1.2.3.4/32"},
		{in: " 2a02:1:2::/48 ", want: "2a02:1:2::/48"},
		{in: "2a02:1:2::1", want: "2a02:1:2::1/128"},
		{in: "::ffff:9.9.9.0/120", want: "9.9.9.0/24"},
		{in: "::ffff:9.9.9.77/120", want: "9.9.9.0/24"},
		{in: "::FFFF:1.2.3.4", want: "1.2.3.4/32"},
		{in: "::ffff:1.2.3.4/128", want: "1.2.3.4/32"},
		{in: "::ffff:0:0/96", want: "0.0.0.0/0"},
		{in: "::ffff:0102:0304/127", want: "1.2.3.4/31"},
		{in: "::fffe:0:0/95", want: "::fffe:0:0/95"}, // not mapped: an IPv6 range
		{in: "::ffff:0:0/95", err: `ip_ignore: "::ffff:0:0/95" is an IPv4-mapped range shorter than /96`},
		{in: "::ffff:9.9.9.0/80", err: `ip_ignore: "::ffff:9.9.9.0/80" is an IPv4-mapped range shorter than /96`},
		{in: "fe80::1%eth0", err: `ip_ignore: "fe80::1%eth0" has an IPv6 zone; write it without "%eth0"`},
		{in: "fe80::%eth0/64", err: `ip_ignore: "fe80::%eth0/64" has an IPv6 zone; write it without "%eth0"`},
		{in: "10.0.0.0/33", err: `ip_ignore: "10.0.0.0/33" is not an address or CIDR range`},
		{in: "example.com", err: `ip_ignore: "example.com" is not an address or CIDR range`},
	} {
		got, err := ParsePrefixes([]string{c.in})
		switch {
		case c.err != "":
			if err == nil || !strings.HasPrefix(err.Error(), c.err) {
				t.Errorf("%q: %v %v, want error %s", c.in, got, err, c.err)
			}
		case err != nil || len(got) != 1 || got[0].String() != c.want:
			t.Errorf("%q: %v %v, want %s", c.in, got, err, c.want)
		}
	}
}

func TestZonedAndMappedRecords(t *testing.T) {
	ipIgnore, err := ParsePrefixes([]string{"::ffff:9.9.9.0/120", "2a02:1:2::/48", "fe80::/10"})
	if err != nil {
		t.Fatal(err)
	}
	strict, _ := New(Rules{IPIgnore: ipIgnore[:2]}, false)
	listed, _ := New(Rules{IPIgnore: ipIgnore, KeepPrivate: true}, false)
	for _, c := range []struct {
		ip             string
		strict, listed string
	}{
		{"9.9.9.9", "ip_ignore: 9.9.9.0/24", "ip_ignore: 9.9.9.0/24"},
		{"::ffff:9.9.9.9", "ip_ignore: 9.9.9.0/24", "ip_ignore: 9.9.9.0/24"},
		{"9.9.8.9", "", ""},
		{"fe80::1%eth0", "link-local: fe80::1", "ip_ignore: fe80::/10"},
		{"fe80::1%\x1b[2J", "link-local: fe80::1", "ip_ignore: fe80::/10"}, // the zone is not repeated
		{"fd00::1%3", "private: fd00::1", ""},
		{"2a02:1:2::9%eth1", "ip_ignore: 2a02:1:2::/48", "ip_ignore: 2a02:1:2::/48"},
		{"2a02:1:3::9%eth1", "", ""},
		{"::ffff:10.1.2.3", "private: 10.1.2.3", ""},
	} {
		if got := strict.Why(&record.Record{IP: c.ip}); got != c.strict {
			t.Errorf("%q: %q, want %q", c.ip, got, c.strict)
		}
		if got := listed.Why(&record.Record{IP: c.ip}); got != c.listed {
			t.Errorf("%q with fe80::/10 listed, private kept: %q, want %q", c.ip, got, c.listed)
		}
	}
}

// email_skip compares accounts as the report groups them: the domain
// without regard to case always, the local part too unless the accounts
// are case-sensitive.
func TestEmailSkipCase(t *testing.T) {
	skip := []string{"BOB@example.com", "Carol@Example.com", "@Robots.EXAMPLE.test", "ÉLODIE@exemple.fr", "Dave"}
	folded, err := New(Rules{EmailSkip: skip}, false)
	if err != nil {
		t.Fatal(err)
	}
	sensitive, err := New(Rules{EmailSkip: skip, CaseSensitiveUsers: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		user              string
		folded, sensitive string
	}{
		{"bob@example.com", "email_skip: bob@example.com", ""},
		{"BOB@example.com", "email_skip: BOB@example.com", "email_skip: BOB@example.com"},
		{"BOB@EXAMPLE.COM", "email_skip: BOB@EXAMPLE.COM", "email_skip: BOB@EXAMPLE.COM"}, // the domain has no case
		{"Bob@Example.com", "email_skip: Bob@Example.com", ""},
		{"carol@example.com", "email_skip: carol@example.com", ""},
		{"Carol@example.COM", "email_skip: Carol@example.COM", "email_skip: Carol@example.COM"},
		{"élodie@Exemple.fr", "email_skip: élodie@Exemple.fr", ""},
		{"ÉLODIE@exemple.fr", "email_skip: ÉLODIE@exemple.fr", "email_skip: ÉLODIE@exemple.fr"},
		{"dave", "email_skip: dave", ""},
		{"Dave", "email_skip: Dave", "email_skip: Dave"},
		{"bot7@robots.example.test", "email_skip: @robots.example.test", "email_skip: @robots.example.test"},
		{"BOT7@Robots.Example.Test", "email_skip: @robots.example.test", "email_skip: @robots.example.test"},
		{"bot7@evilrobots.example.test", "", ""},
		{"bot7@robots.example.test.evil", "", ""},
		{"bob@example.com.evil", "", ""},
		{"alice@example.com", "", ""},
	} {
		r := record.Record{User: c.user, IP: "8.8.8.8"}
		if got := folded.Why(&r); got != c.folded {
			t.Errorf("%q: %q, want %q", c.user, got, c.folded)
		}
		if got := sensitive.Why(&r); got != c.sensitive {
			t.Errorf("%q, case-sensitive: %q, want %q", c.user, got, c.sensitive)
		}
	}
}

// A record whitelisted by a rule that does not depend on the record
// (pattern_org, country_ignore, pattern_ip) is marked without allocating:
// the reason is made once, and is one string for every such record.
func TestWhyNoAlloc(t *testing.T) {
	f, err := New(Rules{PatternOrg: []string{"AS15169", "Example Org"}, CountryIgnore: []string{"de"}, PatternIP: []string{"google.com"}, TrustUnverified: true}, true)
	if err != nil {
		t.Fatal(err)
	}
	emit := func(*record.Record) error { return nil }
	for _, c := range []struct {
		r     record.Record
		want  string
		alloc bool // lower-casing the organisation, upper-casing a lower-case country
	}{
		{record.Record{IP: "8.8.8.8", ASN: 15169}, "pattern_org: AS15169", false},
		{record.Record{IP: "8.8.8.9", Org: "The EXAMPLE ORG Ltd"}, "pattern_org: example org", true},
		{record.Record{IP: "8.8.8.10", Country: "DE"}, "country_ignore: DE", false},
		{record.Record{IP: "8.8.8.11", Country: "de"}, "country_ignore: DE", true},
		{record.Record{IP: "8.8.8.12", RDNS: "mail-x.google.com"}, "pattern_ip: google.com", false},
	} {
		r := c.r
		if err := f.Process(&r, emit); err != nil {
			t.Fatal(err)
		}
		first := r.FilteredBy
		if first != c.want {
			t.Errorf("%+v: filtered_by %q, want %q", c.r, first, c.want)
		}
		allocs := testing.AllocsPerRun(100, func() {
			r = c.r
			if err := f.Process(&r, emit); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 && !c.alloc {
			t.Errorf("%+v: %v allocations a record", c.r, allocs)
		}
		if unsafe.StringData(r.FilteredBy) != unsafe.StringData(first) {
			t.Errorf("%+v: a new string for each record", c.r)
		}
	}
}
