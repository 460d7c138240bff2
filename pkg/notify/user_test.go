package notify

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"text/template"
)

// Only a bare address gets a notice: a display name, a comment, angle
// brackets, quotes, spaces or unseen characters would let a SASL user
// name send it elsewhere.
func TestUserAddress(t *testing.T) {
	for _, tc := range []struct {
		user, want string
	}{
		{"bob@example.test", "bob@example.test"},
		{"  bob@example.test\t", "bob@example.test"},
		{"jürgen@example.test", "jürgen@example.test"},
		{"bob.smith+tag@mail.example.test", "bob.smith+tag@mail.example.test"},
		{"Evil <attacker@evil.test>", ""},
		{"<attacker@evil.test>", ""},
		{"attacker@evil.test (bob@example.test)", ""},
		{"(comment)attacker@evil.test", ""},
		{`"bob smith"@example.test`, ""},
		{`"bob"@example.test`, ""},
		{"bob@example.test, eve@evil.test", ""},
		{"bob@example.test\r\nBcc: eve@evil.test", ""},
		{"bob @example.test", ""},
		{"bob\u00a0@example.test", ""},
		{"bob\u202e@example.test", ""},
		{"bob\u200b@example.test", ""},
		{"bob@[192.0.2.1]", ""},
		{"bob", ""},
		{"bob@", ""},
		{"@example.test", ""},
		{"", ""},
		{"=?utf-8?q?Evil?= <attacker@evil.test>", ""},
	} {
		got, ok := UserAddress(tc.user)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("UserAddress(%q) = %q, %v; want %q", tc.user, got, ok, tc.want)
		}
	}
}

// Each account with a bare address gets its notice, through the SMTP
// server, alone; the names in it are inert; an account that is not a bare
// address gets none; a refusal is reported for its account.
func TestUserNotice(t *testing.T) {
	s := &smtpServer{}
	host, port := startSMTP(t, s)
	m := message()
	m.Accounts[0].User = "bob@example.test"
	m.Accounts[0].IPs[2].City = "Sara\u202ejevo\u200b<b>"
	evil := *m.Accounts[0]
	evil.User = "Evil <attacker@evil.test>"
	bare := *m.Accounts[0]
	bare.User = "carol"
	m.Accounts = append(m.Accounts, &evil, &bare)
	u := &UserNotice{SMTP: &SMTP{From: "loganom <loganom@example.test>", Host: host, Port: port}, From: "Postmaster <postmaster@example.test>",
		Template: template.Must(template.New("t").Parse("Dear {{.User}}:{{range .IPs}} {{.IP}} {{.City}};{{end}}\n")), Retry: fast}
	res := SendAll(context.Background(), []Channel{u}, m, fast)
	if res[0].Err != nil {
		t.Fatal(res[0].Error())
	}
	if strings.Join(s.rcpts, ",") != "bob@example.test" || len(s.got) != 1 {
		t.Fatalf("rcpts %v, %d messages", s.rcpts, len(s.got))
	}
	msg, err := mail.ReadMessage(strings.NewReader(s.got[0]))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get("To") != "bob@example.test" || msg.Header.Get("From") != "Postmaster <postmaster@example.test>" {
		t.Errorf("headers %v", msg.Header)
	}
	if subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); subj != DefaultNoticeSubject {
		t.Errorf("subject %q", subj)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	parts := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		parts[strings.Split(p.Header.Get("Content-Type"), ";")[0]] = string(b)
	}
	if text := parts["text/plain"]; !strings.HasPrefix(text, "Dear bob@example.test:") || !strings.Contains(text, ` Sara\u202ejevo\u200b<b>;`) {
		t.Errorf("text:\n%s", text)
	}
	if h := parts["text/html"]; !strings.Contains(h, `Sara\u202ejevo\u200b&lt;b&gt;`) {
		t.Errorf("html:\n%s", h)
	}
	for _, p := range parts {
		if strings.ContainsAny(p, hiddenRunes) {
			t.Errorf("a hidden character went through:\n%+q", p)
		}
	}
	// the preview says who gets nothing
	p, _ := u.Preview(m)
	if !strings.Contains(p, "mail to bob@example.test, from Postmaster <postmaster@example.test>") ||
		!strings.Contains(p, "Evil <attacker@evil.test> is not a bare mail address (local@domain): no notice") {
		t.Errorf("preview:\n%s", p)
	}

	// a refusal is reported for its account, with the server's reply
	// made inert; a 4xx is tried again
	for _, tc := range []struct {
		code int
		want string
	}{
		{550, "notify_user for bob@example.test: RCPT TO bob@example.test: 550 \"5.0.0 no such user \\x1b[31m\" (after 1 try)"},
		{451, ""},
	} {
		s2 := &smtpServer{rcptFail: tc.code, rcptMsg: "no such user \x1b[31m"}
		u.SMTP.Host, u.SMTP.Port = startSMTP(t, s2)
		res = SendAll(context.Background(), []Channel{u}, m, fast)
		got := ""
		if res[0].Err != nil {
			got = strings.Join(res[0].Lines(), "\n")
		}
		if got != tc.want {
			t.Errorf("%d: got %q, want %q", tc.code, got, tc.want)
		}
		if tc.code == 451 && len(s2.got) != 1 {
			t.Errorf("451: %d messages", len(s2.got))
		}
	}
}

// A template that fails is found by Check, before any log is read.
func TestUserNoticeCheck(t *testing.T) {
	for _, tc := range []struct {
		u    *UserNotice
		want string
	}{
		{&UserNotice{SMTP: &SMTP{From: "loganom@example.test", Host: "127.0.0.1"}}, ""},
		{&UserNotice{SMTP: &SMTP{From: "loganom@example.test"}}, "needs the [SMTP] server (host)"},
		{&UserNotice{SMTP: &SMTP{From: "not an address", Host: "127.0.0.1"}}, `from "not an address": mail: no angle-addr`},
		{&UserNotice{SMTP: &SMTP{From: "loganom@example.test", Host: "127.0.0.1"}, Template: template.Must(template.New("t").Parse("{{.Nope}}"))},
			`template: template: t:1:2: executing "t" at <.Nope>: can't evaluate field Nope in type *report.Account`},
		// the made-up account has reasons, so that a template's error in
		// listing them is found before a run too
		{&UserNotice{SMTP: &SMTP{From: "loganom@example.test", Host: "127.0.0.1"}, Template: template.Must(template.New("t").Parse("{{range .Reasons}}{{.Why}}{{end}}"))},
			`template: template: t:1:20: executing "t" at <.Why>: can't evaluate field Why in type detect.Reason`},
		{&UserNotice{SMTP: &SMTP{From: "loganom@example.test", Host: "127.0.0.1"}, Template: template.Must(template.New("t").Parse("{{.Severity}}{{range .Reasons}}{{.Detector}} {{.Text}} {{.IP}} {{.At}} {{.Severity}}{{end}}"))}, ""},
	} {
		got := ""
		if err := tc.u.Check(); err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	var p Permanent
	if err := (&UserNotice{SMTP: &SMTP{From: "loganom@example.test", Host: "127.0.0.1"}, Template: template.Must(template.New("t").Parse("{{.Nope}}"))}).Check(); !errors.As(err, &p) {
		t.Errorf("a template error is not permanent: %v", err)
	}
}
