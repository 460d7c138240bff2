package filter

import (
	"strings"
	"testing"

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
