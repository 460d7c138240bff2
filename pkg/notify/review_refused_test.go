package notify

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	gosmtp "github.com/emersion/go-smtp"
)

// pickyServer is a real SMTP server (go-smtp) that refuses, for good,
// the recipients it names, and keeps each message with its recipients.
type pickyServer struct {
	refuse map[string]int // recipient: the code refusing it
	mu     sync.Mutex
	got    [][]string // each message's recipients
}

func (s *pickyServer) NewSession(*gosmtp.Conn) (gosmtp.Session, error) {
	return &pickySession{s: s}, nil
}

type pickySession struct {
	s     *pickyServer
	rcpts []string
}

func (x *pickySession) Reset()                                 { x.rcpts = nil }
func (x *pickySession) Logout() error                          { return nil }
func (x *pickySession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (x *pickySession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if code := x.s.refuse[to]; code != 0 {
		return &gosmtp.SMTPError{Code: code, Message: "no such user"}
	}
	x.rcpts = append(x.rcpts, to)
	return nil
}
func (x *pickySession) Data(r io.Reader) error {
	io.Copy(io.Discard, r)
	x.s.mu.Lock()
	x.s.got = append(x.s.got, x.rcpts)
	x.s.mu.Unlock()
	return nil
}

// TestSMTPOneRecipientRefused: [SMTP] to names the postmaster and an
// address the server refuses for good (a colleague gone): the postmaster
// gets the report, once, and the result says, without a retry, that it
// went to all but that one; with every recipient refused, nothing is sent
// and the failure is permanent, as before; a recipient refused for now
// (4xx) is tried again, the others with it.
func TestSMTPOneRecipientRefused(t *testing.T) {
	for _, c := range []struct {
		name   string
		refuse map[string]int
		to     []string
		sent   string // the recipients of each message
		sentOK bool   // Sent(err)
		perm   bool
		tries  int
	}{
		{"one gone", map[string]int{"gone@example.test": 550}, []string{"postmaster@example.test", "Gone <gone@example.test>"}, "[[postmaster@example.test]]", true, false, 1},
		{"the first gone", map[string]int{"gone@example.test": 550}, []string{"gone@example.test", "postmaster@example.test"}, "[[postmaster@example.test]]", true, false, 1},
		{"all gone", map[string]int{"gone@example.test": 550, "left@example.test": 553}, []string{"gone@example.test", "left@example.test"}, "[]", false, true, 1},
		{"one gone alone", map[string]int{"gone@example.test": 550}, []string{"gone@example.test"}, "[]", false, true, 1},
		{"one for now", map[string]int{"busy@example.test": 451}, []string{"postmaster@example.test", "busy@example.test"}, "[]", false, false, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &pickyServer{refuse: c.refuse}
			srv := gosmtp.NewServer(s)
			srv.Domain = "localhost"
			host, port := serve(t, srv)
			ch := &SMTP{From: "loganom@example.test", To: c.to, Host: host, Port: port}
			res := SendAll(context.Background(), []Channel{ch}, message(), fast)[0]
			s.mu.Lock()
			got := fmtRcpts(s.got)
			s.mu.Unlock()
			var p Permanent
			if got != c.sent || Sent(res.Err) != c.sentOK || errors.As(res.Err, &p) != c.perm || res.Attempts != c.tries || res.Err == nil {
				t.Errorf("messages to %s, result %v (attempts %d); want messages to %s, sent %v, permanent %v, %d tries",
					got, res.Err, res.Attempts, c.sent, c.sentOK, c.perm, c.tries)
			}
			if c.sentOK && (!strings.Contains(res.Error(), "gone@example.test") || strings.Contains(res.Error(), "\n")) {
				t.Errorf("the error %q does not name the one refused on one line", res.Error())
			}
		})
	}
}

func fmtRcpts(got [][]string) string {
	parts := make([]string, len(got))
	for i, g := range got {
		parts[i] = "[" + strings.Join(g, " ") + "]"
	}
	return "[" + strings.Join(parts, "") + "]"
}

// serve runs srv on a loopback port until the test ends.
func serve(t *testing.T, srv *gosmtp.Server) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "127.0.0.1", ln.Addr().(*net.TCPAddr).Port
}
