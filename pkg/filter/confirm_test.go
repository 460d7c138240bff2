package filter

import (
	"testing"

	"github.com/loganom/loganom/pkg/record"
)

// NeedsConfirmation is what the whitelist's verdict could depend on: a name
// a pattern_ip entry matches, unless unverified names are trusted anyway.
// PatternsMayMatch answers for the entries whatever the filter's options:
// a superset of what either matching mode matches.
func TestNeedsConfirmation(t *testing.T) {
	pats := []string{"google.com", ".com.br", "outlook", "Protection.Outlook.COM."}
	labels, _ := New(Rules{PatternIP: pats}, false)
	substr, _ := New(Rules{PatternIP: pats, PatternIPSubstring: true}, false)
	trusting, _ := New(Rules{PatternIP: pats, TrustUnverified: true}, false)
	empty, _ := New(Rules{}, false)
	may := PatternsMayMatch(pats)
	for _, c := range []struct {
		name                string
		labels, substr, may bool
	}{
		{"mail-ej1-f52.google.com", true, true, true},
		{"MAIL.GOOGLE.COM", true, true, true},
		{"relay.example.com.br", true, true, true},
		{"x.outlook.de", true, true, true},                // a word
		{"mail.protection.outlook.com", true, true, true}, // a name with a final dot
		{"google.com.evil.example", false, true, true},    // substring only
		{"h-1-2-3-4.bench.example", false, false, false},  // nothing
		{"outlookalike.example", false, true, true},       // substring only
		{"187-45-12-9.user.vivozap.com.br", true, true, true},
	} {
		if got := labels.NeedsConfirmation(c.name); got != c.labels {
			t.Errorf("%s: labels %v", c.name, got)
		}
		if got := substr.NeedsConfirmation(c.name); got != c.substr {
			t.Errorf("%s: substring %v", c.name, got)
		}
		if got := may(c.name); got != c.may {
			t.Errorf("%s: PatternsMayMatch %v", c.name, got)
		}
		if trusting.NeedsConfirmation(c.name) || empty.NeedsConfirmation(c.name) {
			t.Errorf("%s: needs confirmation with unverified names trusted, or no patterns", c.name)
		}
	}
	if PatternsMayMatch(nil)("mail.google.com") {
		t.Error("no patterns match a name")
	}
}

// A record kept because its name, which a pattern matches, was not checked
// forward (rdns without rdns_verified) is counted, for a warning; one
// checked and not verified, or matched by no pattern, is not.
func TestUncheckedCounted(t *testing.T) {
	f, _ := New(Rules{PatternIP: []string{"google.com"}, CountryIgnore: []string{"BR"}}, false)
	var kept int
	emit := func(*record.Record) error { kept++; return nil }
	for _, r := range []*record.Record{
		{IP: "203.0.114.1", RDNS: "mail.google.com"},                                   // unchecked: counted
		{IP: "203.0.114.2", RDNS: "mail.google.com", RDNSVerified: record.Bool(false)}, // checked
		{IP: "203.0.114.3", RDNS: "h.example"},                                         // no pattern
		{IP: "203.0.114.4", RDNS: "mail.google.com", Country: "BR"},                    // dropped anyway
		{IP: "203.0.114.5", RDNS: "mail.google.com", RDNSVerified: record.Bool(true)},  // dropped
	} {
		f.Process(r, emit)
	}
	if f.Unchecked != 1 || kept != 3 {
		t.Errorf("%d unchecked, %d kept (want 1, 3)", f.Unchecked, kept)
	}
}
