package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// --format json on a terminal: a name from the network holding a C1
// control (U+009B is a CSI, as ESC [ is), a bidi control or a
// zero-width character reaches the terminal escaped, as the text report
// shows it; Go's encoder escapes only the C0 controls (and U+2028,
// U+2029). The JSON still decodes to the very names.
func TestJSONInert(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	names := []string{"csi\u009b2J@example.test", "bob\u202e@moc.evil", "go\u200bogle", "tag\U000E0041@example.test", "São Paulo", "esc\x1b[31m"}
	var accounts []*Account
	for _, n := range names {
		accounts = append(accounts, &Account{User: n, Logins: 1, First: t0, Last: t0,
			IPs: []*IP{{IP: "192.0.2.1", Count: 1, First: t0, Last: t0, City: n, RDNS: n, Org: n}}})
	}
	var b bytes.Buffer
	if err := JSON(&b, accounts, []Unread{{Input: "log\u202e", Error: "x\u009b"}}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, r := range out {
		if r == '\n' {
			continue
		}
		if Suspicious(r) || r == utf8.RuneError {
			t.Errorf("%U raw in the JSON:\n%+q", r, out)
			break
		}
	}
	if !strings.Contains(out, "São Paulo") {
		t.Errorf("an ordinary name is escaped:\n%s", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(names)+1 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	for i, n := range names {
		var a Account
		if err := json.Unmarshal([]byte(lines[i+1]), &a); err != nil {
			t.Fatal(err)
		}
		if a.User != n || a.IPs[0].City != n || a.IPs[0].RDNS != n || a.IPs[0].Org != n {
			t.Errorf("decoded %+q, want %+q", a.User, n)
		}
	}
}

// loganom quota-high --format json: the envelope sender, which anyone
// who connects chooses, is inert as well.
func TestQuotaJSONInert(t *testing.T) {
	from := "csi\u009b2J\u202e@example.test"
	var b bytes.Buffer
	if err := QuotaJSON(&b, []*Sender{{From: from, Rejects: 200}}, false, Gaps{}); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(b.String(), "\u009b\u202e") {
		t.Errorf("raw in the JSON: %+q", b.String())
	}
	var s Sender
	if err := json.Unmarshal(b.Bytes(), &s); err != nil || s.From != from {
		t.Errorf("decoded %+q, %v", s.From, err)
	}
}

// loganom-report reads records that other programs may have written: an
// address or a country that is not one (a control character in it) is
// shown escaped in the text, as the names are, not raw on the terminal.
func TestTextAddressCountryEscaped(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	a := &Account{User: "x@example.test", Logins: 1, First: t0, Last: t0, Countries: []string{"B\x1bA"},
		IPs: []*IP{{IP: "1.2.3.4\x1b[2J", Count: 1, First: t0, Last: t0, Country: "B\x1bA", City: "C\u009bity"}}}
	var b bytes.Buffer
	if err := Text(&b, []*Account{a}, 1, nil); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(b.String(), "\x1b\u009b") {
		t.Errorf("raw control characters in the text:\n%+q", b.String())
	}
}
