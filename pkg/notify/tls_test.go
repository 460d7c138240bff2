package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// authServer is a go-smtp backend whose sessions offer AUTH PLAIN and
// accept one user.
type authServer struct {
	smtpServer
	authed []string
}

func (s *authServer) NewSession(*gosmtp.Conn) (gosmtp.Session, error) {
	return &authSession{session: session{s: &s.smtpServer}, a: s}, nil
}

type authSession struct {
	session
	a *authServer
}

func (x *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (x *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != "loganom" || pass != "p#ss;word" {
			return errors.New("bad credentials")
		}
		x.a.authed = append(x.a.authed, user)
		return nil
	}), nil
}

// testCert borrows httptest's certificate (for 127.0.0.1) and a pool that
// trusts it.
func testCert(t *testing.T) (*tls.Config, *x509.CertPool) {
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	return &tls.Config{Certificates: ts.TLS.Certificates}, pool
}

// STARTTLS when the server offers it, then AUTH; and implicit TLS.
func TestSMTPTLSAndAuth(t *testing.T) {
	serverTLS, pool := testCert(t)
	for _, implicit := range []bool{false, true} {
		s := &authServer{}
		srv := gosmtp.NewServer(s)
		srv.Domain = "localhost"
		srv.TLSConfig = serverTLS
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if implicit {
			ln = tls.NewListener(ln, serverTLS)
		}
		go srv.Serve(ln)
		ch := &SMTP{From: "loganom@example.test", To: []string{"postmaster@example.test"}, Host: "127.0.0.1",
			Port: ln.Addr().(*net.TCPAddr).Port, SSL: implicit, User: "loganom", Pass: "p#ss;word",
			TLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
		res := SendAll(context.Background(), []Channel{ch}, message(), fast)
		srv.Close()
		if res[0].Err != nil || len(s.got) != 1 || strings.Join(s.authed, ",") != "loganom" {
			t.Errorf("implicit=%v: %+v, %d messages, authed %v", implicit, res[0], len(s.got), s.authed)
		}
		// a wrong password is refused, and the error does not show it
		ch.Pass = "wrong-secret"
		s2 := &authServer{}
		srv2 := gosmtp.NewServer(s2)
		srv2.Domain, srv2.TLSConfig = "localhost", serverTLS
		ln2, _ := net.Listen("tcp", "127.0.0.1:0")
		if implicit {
			ln2 = tls.NewListener(ln2, serverTLS)
		}
		go srv2.Serve(ln2)
		ch.Port = ln2.Addr().(*net.TCPAddr).Port
		res = SendAll(context.Background(), []Channel{ch}, message(), fast)
		srv2.Close()
		if res[0].Err == nil || strings.Contains(res[0].Error(), "wrong-secret") || !strings.Contains(res[0].Error(), "AUTH") {
			t.Errorf("implicit=%v, wrong password: %v", implicit, res[0].Error())
		}
	}
}
