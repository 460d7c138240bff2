package filter

import (
	"strings"
	"testing"

	"github.com/loganom/loganom/pkg/record"
)

// pattern_ip matches whole labels: a name whose owner made it resolve back
// cannot pass for Google's by containing "google".
func TestPatternIP(t *testing.T) {
	pats := map[string]string{ // label: the entry
		"name":   "google.com",
		"suffix": ".com.br",
		"word":   "google",
		"idn":    "xn--80ak6aa92e.com", // an IDN entry in its ASCII form
		"fqdn":   "Outlook.COM.",
	}
	for _, c := range []struct {
		name string
		want string // the labels of the entries that match, in the order above
	}{
		{"mail-ej1-f52.google.com", "name word"},
		{"MAIL-EJ1-F52.Google.Com", "name word"},
		{"google.com", "name word"},
		{"google.com.", "name word"},
		{"smtp.google.de", "word"},
		{"mail.google.co.uk", "word"},
		{"x.google.com.br", "suffix word"},
		{"google.xn--p1ai", "word"},      // google.рф
		{"google.com.evil.net", ""},      // the attacker's own zone
		{"mail-google.com.evil.net", ""}, // ditto
		{"googlebot.evil.net", ""},
		{"google.com-evil.net", ""},
		{"evilgoogle.com", ""},
		{"notgoogle.com", ""},
		{"google-mail.com", ""},
		{"googlecom", ""},
		{"google", ""},                      // a public suffix (Google's TLD), not a registrable domain
		{"www.google", ""},                  // registrable domain www.google: the word is www
		{"com.br", ""},                      // itself a public suffix: the suffix wants a label before it
		{"co.uk", ""},                       // ditto, and no registrable domain
		{"google.evil", ""},                 // no such top-level domain
		{"mail.google.invalidtld", ""},      // ditto
		{"mail.google.duckdns.org", ""},     // duckdns.org gives names to anybody: the domain is duckdns.org
		{"google.github.io", ""},            // likewise
		{"a..google.com", ""},               // an empty label: not a host name
		{".google.com", ""},                 // ditto
		{"google.com..", ""},                // ditto
		{`mail\.google.com`, ""},            // an escaped dot inside a label (a PTR can hold one)
		{`evil\000.google.com`, ""},         // an escaped byte
		{"gооgle.com", ""},                  // Cyrillic о
		{"ｇｏｏｇｌｅ.com", ""},                  // fullwidth letters, which IDNA maps to ASCII
		{"xn--ggle-55da.com", ""},           // gооgle.com, Cyrillic о, in ASCII form
		{"mail.xn--80ak6aa92e.com", "idn"},  // the IDN entry
		{"xn--80ak6aa92e.com.evil.net", ""}, //
		{"mail.protection.outlook.com", "fqdn"},
		{"outlook.com.evil.net", ""},
		{"", ""},
	} {
		var got []string
		for _, label := range []string{"name", "suffix", "word", "idn", "fqdn"} {
			f, err := New(Rules{PatternIP: []string{pats[label]}, TrustUnverified: true}, false)
			if err != nil {
				t.Fatal(err)
			}
			want := "pattern_ip: " + strings.ToLower(pats[label])
			why := f.Why(&record.Record{IP: "8.8.8.8", RDNS: c.name})
			if again := f.Why(&record.Record{IP: "8.8.4.4", RDNS: c.name}); again != why { // remembered
				t.Errorf("%q: %q, then %q", c.name, why, again)
			}
			switch why {
			case want:
				got = append(got, label)
			case "":
			default:
				t.Errorf("%q: %q, want %q or nothing", c.name, why, want)
			}
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%q is matched by %q, want %q", c.name, got, c.want)
		}
	}
}

// The original's substring match stays behind an option that warns.
func TestPatternIPSubstring(t *testing.T) {
	f, err := New(Rules{PatternIP: []string{"google", "*weird*"}, PatternIPSubstring: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0].String(), "unsafe") {
		t.Errorf("warnings %q", f.Warnings)
	}
	yes := record.Bool(true)
	for name, want := range map[string]string{
		"google.com.evil.net": "pattern_ip: google",
		"googlebot.evil.net":  "pattern_ip: google",
		"GOOGLE.com":          "pattern_ip: google",
		"a.*weird*.example":   "pattern_ip: *weird*",
		"example.net":         "",
	} {
		if got := f.Why(&record.Record{IP: "8.8.8.8", RDNS: name, RDNSVerified: yes}); got != want {
			t.Errorf("%q: %q, want %q", name, got, want)
		}
	}
	f, _ = New(Rules{PatternIP: []string{"google"}}, false)
	if len(f.Warnings) != 0 {
		t.Errorf("warnings without the option: %q", f.Warnings)
	}
}

// Entries that cannot be a name are ignored with a warning (they would
// match nothing, and ignoring a whitelist entry hides nothing); a name in
// no known top-level domain (a fragment the substring match took) is kept,
// with a warning.
func TestPatternIPEntries(t *testing.T) {
	for _, c := range []struct {
		entry   string
		warn    string // "" for none
		ignored bool
	}{
		{entry: "google.com"},
		{entry: "google.com."},
		{entry: ".com.br"},
		{entry: "google"},
		{entry: "_spf.google.com"},
		{entry: "xn--p1ai"},
		{entry: ".lan"}, // a suffix of the postmaster's own: no warning
		{entry: "protection.outlook", warn: `pattern_ip: "protection.outlook" ends in no known top-level domain: it matches only that name and the names that end in ".protection.outlook"`},
		{entry: "relay.corp", warn: `"relay.corp" ends in no known top-level domain`},
		{entry: "*.google.com", ignored: true, warn: `pattern_ip: "*.google.com" is not a host name (google.com), a suffix (.com.br) or a word (google), ignored`},
		{entry: "google.com # google", ignored: true, warn: `pattern_ip: "google.com # google" is not a host name`},
		{entry: "a..google.com", ignored: true, warn: `pattern_ip: "a..google.com" is not a host name`},
		{entry: "..com", ignored: true, warn: `pattern_ip: "..com" is not a host name`},
		{entry: ".", ignored: true, warn: `pattern_ip: "." is not a host name`},
		{entry: "/google/", ignored: true, warn: `pattern_ip: "/google/" is not a host name`},
		{entry: "bücher.de", ignored: true, warn: `pattern_ip: "bücher.de" is not ASCII, ignored`},
		{entry: strings.Repeat("a", 64) + ".com", ignored: true, warn: "is not a host name"},
	} {
		f, err := New(Rules{PatternIP: []string{c.entry}}, false)
		if err != nil {
			t.Fatalf("%q: %v", c.entry, err)
		}
		var warns []string
		for _, w := range f.Warnings {
			warns = append(warns, w.String())
		}
		switch {
		case c.warn == "" && len(warns) > 0:
			t.Errorf("%q: warnings %q", c.entry, warns)
		case c.warn != "" && (len(warns) != 1 || !strings.Contains(warns[0], c.warn)):
			t.Errorf("%q: warnings %q, want %s", c.entry, warns, c.warn)
		case c.ignored != (len(f.pats) == 0):
			t.Errorf("%q: ignored %v, want %v", c.entry, len(f.pats) == 0, c.ignored)
		}
	}
}

func TestRegistrableWord(t *testing.T) {
	for name, want := range map[string]string{
		"mail-ej1-f52.google.com":  "google",
		"mail.google.co.uk":        "google",
		"google.com":               "google",
		"a.b.example.com.br":       "example",
		"x.google.foo.ck":          "google", // *.ck: foo.ck is a public suffix
		"mail.google.duckdns.org":  "duckdns",
		"x.y.blogspot.co.uk":       "blogspot",
		"com":                      "",
		"co.uk":                    "",
		"foo.ck":                   "",
		"google":                   "",
		"example.unknowntld":       "",
		"1.2.3.4":                  "",
		"host.example.xn--p1ai":    "example",
		"host.example.xn--unknown": "",
	} {
		if got := registrableWord(name); got != want {
			t.Errorf("%q: %q, want %q", name, got, want)
		}
	}
}

// pattern_org is as the README says: AS8075-style entries match the AS
// number; other entries match when the organisation contains them.
func TestPatternOrg(t *testing.T) {
	f, err := New(Rules{PatternOrg: []string{"AS8075", "as15169", "Liberty Global", "AS12x", "3320"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		asn  uint32
		org  string
		want string
	}{
		{8075, "", "pattern_org: AS8075"},
		{15169, "GOOGLE", "pattern_org: AS15169"},
		{80750, "", ""},
		{807, "", ""},
		{6830, "LIBERTY GLOBAL B.V.", "pattern_org: liberty global"},
		{6830, "Liberty Globalisation Ltd", "pattern_org: liberty global"}, // contains: as documented
		{6830, "Liberty", ""},
		{12, "as12x networks", "pattern_org: as12x"}, // not an AS number: a text
		{12, "", ""},
		{3320, "Deutsche Telekom AG", ""}, // a bare number is a text, not an AS
		{1, "AS3320 hosting", "pattern_org: 3320"},
		{0, "as8075 lookalike", ""}, // AS8075 matches the number only
	} {
		if got := f.Why(&record.Record{IP: "8.8.8.8", ASN: c.asn, Org: c.org}); got != c.want {
			t.Errorf("AS%d %q: %q, want %q", c.asn, c.org, got, c.want)
		}
	}
}
