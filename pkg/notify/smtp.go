package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// SMTP sends the report by mail: a plain-text body with an HTML
// alternative, Date, Message-ID and Auto-Submitted headers. STARTTLS is
// used when the server offers it; SSL is implicit TLS (port 465). The
// password goes only to a server over TLS (or on localhost), as net/smtp
// insists.
type SMTP struct {
	From    string
	To      []string
	Host    string
	Port    int
	SSL     bool
	User    string
	Pass    string
	Subject string
	TLS     *tls.Config // nil: the system's roots, ServerName Host
	Now     func() time.Time
	Body    func(*Message) (text, html string) // nil: the report
}

// Name is "smtp".
func (s *SMTP) Name() string { return "smtp" }

func (s *SMTP) addr() string {
	port := s.Port
	if port == 0 {
		port = 25
		if s.SSL {
			port = 465
		}
	}
	return net.JoinHostPort(s.Host, strconv.Itoa(port))
}

// Check says what is missing from the settings.
func (s *SMTP) Check() error {
	if s.Host == "" || s.From == "" || len(s.To) == 0 {
		return errors.New("needs host, from and to")
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		return fmt.Errorf("from %q: %v", s.From, err)
	}
	for _, t := range s.To {
		if _, err := mail.ParseAddress(t); err != nil {
			return fmt.Errorf("to %q: %v", t, err)
		}
	}
	return nil
}

// build makes the message.
func (s *SMTP) build(m *Message, to []string) []byte {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	text, htm := Plain(m), HTML(m)
	if s.Body != nil {
		text, htm = s.Body(m)
	}
	subject := s.Subject
	if subject == "" {
		subject = Subject(m)
	}
	var id [12]byte
	rand.Read(id[:])
	domain := "loganom.invalid"
	if a, err := mail.ParseAddress(s.From); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			domain = a.Address[i+1:]
		}
	}
	boundary := "loganom-" + hex.EncodeToString(id[:6])
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", s.From)
	h("To", strings.Join(to, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", subject))
	h("Date", now().Format(time.RFC1123Z))
	h("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domain+">")
	h("Auto-Submitted", "auto-generated")
	h("X-Auto-Response-Suppress", "All")
	h("MIME-Version", "1.0")
	h("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{{"text/plain", text}, {"text/html", htm}} {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary, part.typ)
		qp := quotedprintable.NewWriter(&b)
		qp.Write([]byte(strings.ReplaceAll(part.body, "\n", "\r\n")))
		qp.Close()
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

// Preview is the message as it would be sent.
func (s *SMTP) Preview(m *Message) (string, error) {
	return fmt.Sprintf("SMTP %s, from %s to %s:\n%s", s.addr(), s.From, strings.Join(s.To, ", "), s.build(m, s.To)), nil
}

// Send delivers the message.
func (s *SMTP) Send(ctx context.Context, m *Message) error { return s.SendTo(ctx, m, s.To) }

// SendTo delivers the message to other recipients (the affected user).
func (s *SMTP) SendTo(ctx context.Context, m *Message, to []string) error {
	if err := s.Check(); err != nil && len(to) == len(s.To) {
		return Permanent{err}
	}
	msg := s.build(m, to)
	tlsConf := s.TLS
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: s.Host}
	}
	d := net.Dialer{}
	deadline, _ := ctx.Deadline()
	var conn net.Conn
	var err error
	if s.SSL {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsConf}).DialContext(ctx, "tcp", s.addr())
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.addr())
	}
	if err != nil {
		return err
	}
	if !deadline.IsZero() {
		conn.SetDeadline(deadline)
	}
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return classify(err)
	}
	defer c.Close()
	if !s.SSL {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConf); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
		}
	}
	if s.User != "" {
		if err := c.Auth(smtp.PlainAuth("", s.User, s.Pass, s.Host)); err != nil {
			return classify(fmt.Errorf("AUTH: %w", err)) // net/smtp's messages never hold the password
		}
	}
	from, _ := mail.ParseAddress(s.From)
	if err := c.Mail(from.Address); err != nil {
		return classify(fmt.Errorf("MAIL FROM: %w", err))
	}
	for _, t := range to {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return Permanent{fmt.Errorf("to %q: %v", t, err)}
		}
		if err := c.Rcpt(a.Address); err != nil {
			return classify(fmt.Errorf("RCPT TO %s: %w", a.Address, err))
		}
	}
	w, err := c.Data()
	if err != nil {
		return classify(fmt.Errorf("DATA: %w", err))
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return classify(fmt.Errorf("DATA: %w", err))
	}
	return c.Quit()
}

// classify makes a 5xx reply permanent; 4xx replies and network errors
// stay transient.
func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return Permanent{err}
	}
	return err
}
