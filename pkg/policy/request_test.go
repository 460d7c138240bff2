package policy

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// A request as Postfix 3.x sends it at RCPT, for an authenticated client.
const postfixRequest = `request=smtpd_access_policy
protocol_state=RCPT
protocol_name=ESMTP
client_address=2001:db8::7
client_name=unknown
client_port=51234
reverse_client_name=unknown
server_address=127.0.0.1
server_port=10587
helo_name=pc.example.test
sender=bob@example.test
recipient=friend@example.net
recipient_count=0
queue_id=
instance=1d2b.6748a1c3.8d3e1.0
size=0
etrn_domain=
stress=
sasl_method=LOGIN
sasl_username=Bob@Example.test
sasl_sender=
ccert_subject=
ccert_issuer=
ccert_fingerprint=
ccert_pubkey_fingerprint=
encryption_protocol=
encryption_cipher=
encryption_keysize=0
policy_context=
compatibility_level=3.6
mail_version=3.7.11

`

func TestReadRequest(t *testing.T) {
	long := strings.Repeat("x", 200)
	cases := []struct {
		name, in string
		err      string // "" ok; "EOF", "incomplete", or a BadRequest's text
		user     string
		state    string
		addr     string
	}{
		{name: "postfix", in: postfixRequest, user: "Bob@Example.test", state: "RCPT", addr: "2001:db8::7"},
		{name: "minimal", in: "request=smtpd_access_policy\n\n"},
		{name: "crlf", in: "request=smtpd_access_policy\r\nsasl_username=bob\r\n\r\n", user: "bob"},
		{name: "unknown attributes skipped", in: "x=1\nrequest=smtpd_access_policy\nfuture_attr=a=b\nsasl_username=u\n\n", user: "u"},
		{name: "empty value", in: "request=smtpd_access_policy\nsasl_username=\n\n"},
		{name: "unknown attribute twice is fine", in: "request=smtpd_access_policy\nx=1\nx=2\n\n"},
		{name: "nothing", in: "", err: "EOF"},
		{name: "eof mid-request", in: "request=smtpd_access_policy\nsasl_username=bob\n", err: "incomplete"},
		{name: "eof mid-line", in: "request=smtpd_access_po", err: "incomplete"},
		{name: "empty request", in: "\n", err: "an empty request"},
		{name: "no equals", in: "request=smtpd_access_policy\nhello\n\n", err: "line 2 is not name=value"},
		{name: "no name", in: "=x\n\n", err: "line 1 has no attribute name"},
		{name: "nul", in: "request=smtpd_access_policy\nsasl_username=bo\x00b\n\n", err: "NUL"},
		{name: "no request", in: "sasl_username=bob\n\n", err: "no request attribute"},
		{name: "other request", in: "request=junk\n\n", err: `request="junk": only smtpd_access_policy`},
		{name: "user twice", in: "request=smtpd_access_policy\nsasl_username=a\nsasl_username=b\n\n", err: `attribute "sasl_username" given twice`},
		{name: "request twice", in: "request=smtpd_access_policy\nrequest=smtpd_access_policy\n\n", err: "given twice"},
		{name: "line too long", in: "request=smtpd_access_policy\nx=" + long + "\n\n", err: "an attribute line is longer than 128 bytes"},
		{name: "line at the limit", in: "request=smtpd_access_policy\nx=" + long[:125] + "\n\n"},
		{name: "request too long", in: "request=smtpd_access_policy\n" + strings.Repeat("x="+long[:100]+"\n", 10) + "\n", err: "the request is longer than 1024 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(c.in), 128)
			var r request
			err := readRequest(br, &r, 1024)
			var bad *BadRequest
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case c.err == "EOF" && err != io.EOF:
				t.Fatalf("error %v, want EOF", err)
			case c.err == "incomplete" && err != errIncomplete:
				t.Fatalf("error %v, want incomplete", err)
			case c.err != "" && c.err != "EOF" && c.err != "incomplete" && (!errors.As(err, &bad) || !strings.Contains(bad.Reason, c.err)):
				t.Fatalf("error %v, want a bad request: %s", err, c.err)
			}
			if c.err != "" {
				return
			}
			if string(r.user) != c.user || string(r.state) != c.state || string(r.address) != c.addr {
				t.Errorf("user %q state %q address %q", r.user, r.state, r.address)
			}
		})
	}
}

// Many requests on one reader: each read leaves the next intact, and the
// attributes of one do not leak into the next.
func TestReadRequestSequence(t *testing.T) {
	in := postfixRequest + "request=smtpd_access_policy\nprotocol_state=DATA\n\n" + postfixRequest
	br := bufio.NewReaderSize(strings.NewReader(in), DefaultMaxLine)
	var r request
	var got []string
	for {
		err := readRequest(br, &r, DefaultMaxRequest)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(r.state)+":"+string(r.user))
	}
	if want := "RCPT:Bob@Example.test DATA: RCPT:Bob@Example.test"; strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// FuzzReadRequest: any input is a request, a clean end, or an error, never
// a panic; a request read has its required attribute and no line longer
// than the limit made it through.
func FuzzReadRequest(f *testing.F) {
	f.Add(postfixRequest)
	f.Add("request=smtpd_access_policy\r\nsasl_username=bob\r\n\r\n")
	f.Add("request=smtpd_access_policy\nsasl_username=a\nsasl_username=b\n\n")
	f.Add("=\n\n\n")
	f.Fuzz(func(t *testing.T, in string) {
		br := bufio.NewReaderSize(strings.NewReader(in), 64)
		var r request
		for range 100 {
			err := readRequest(br, &r, 512)
			if err != nil {
				var bad *BadRequest
				if err != io.EOF && err != errIncomplete && !errors.As(err, &bad) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if string(r.request) != "smtpd_access_policy" {
				t.Fatalf("accepted request=%q", r.request)
			}
			if len(r.user) > 64 || strings.ContainsAny(string(r.user), "\n\x00") {
				t.Fatalf("user %q", r.user)
			}
		}
	})
}

func TestValidAction(t *testing.T) {
	for _, c := range []struct {
		a  string
		ok bool
	}{
		{DefaultAction, true},
		{DefaultDeferAction, true},
		{"HOLD", true},
		{"hold blocked by loganom", true},
		{"DEFER_IF_PERMIT try later", true},
		{"WARN would block", true},
		{"554 5.7.1 go away", true},
		{"450 try later", true},
		{"DEFER try later", true},
		{"DISCARD", true},
		// Postfix takes an all-numeric answer for OK: the mail goes through
		{"450", false},
		{"550", false},
		// a code and spaces: an unknown restriction to Postfix (451 4.3.5)
		{"550 ", false},
		{"550   ", false},
		// defers only if a later restriction rejects: permit_sasl_authenticated does not
		{"DEFER_IF_REJECT try later", false},
		{"defer_if_reject", false},
		{"", false},
		{"OK", false},
		{"DUNNO", false},
		{"REJCT typo", false},
		{"REJECT two\nlines", false},
		{"REJECT \r", false},
		{"REJECT caf\u00e9", false},
		{"250 ok", false},
		{"5x0 no", false},
		{"REJECT " + strings.Repeat("x", 450), false},
	} {
		if err := ValidAction(c.a); (err == nil) != c.ok {
			t.Errorf("ValidAction(%q) = %v", c.a, err)
		}
	}
}
