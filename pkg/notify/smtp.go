package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/netip"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/loganom/loganom/pkg/report"
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

// build makes the report's message.
func (s *SMTP) build(m *Message) []byte {
	subject := s.Subject
	if subject == "" {
		subject = Subject(m)
	}
	return s.compose(s.From, s.To, subject, Plain(m), HTML(m), m.Key)
}

// compose makes a message: text with an HTML alternative.
// With a key (Message.Key), the Message-ID is made of it, so that a
// message sent again after a crash has the same one.
func (s *SMTP) compose(from string, to []string, subject, text, htm, key string) []byte {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	var id [12]byte
	rand.Read(id[:])
	domain := "loganom.invalid"
	if a, err := mail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			domain = a.Address[i+1:]
		}
	}
	boundary := "loganom-" + hex.EncodeToString(id[:6])
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", headerAddress(from))
	tos := make([]string, len(to))
	for i, t := range to {
		tos[i] = headerAddress(t)
	}
	h("To", strings.Join(tos, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", subject))
	h("Date", now().Format(time.RFC1123Z))
	msgID := hex.EncodeToString(id[:])
	if key != "" {
		msgID = "loganom." + keyPart(key)
	}
	h("Message-ID", "<"+msgID+"@"+domain+">")
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
	return fmt.Sprintf("SMTP %s, from %s to %s:\n%s", s.addr(), s.From, strings.Join(s.To, ", "), s.build(m)), nil
}

// Send delivers the report.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	if err := s.Check(); err != nil {
		return Permanent{err}
	}
	from, _ := mail.ParseAddress(s.From)
	var rcpts []string
	for _, t := range s.To {
		a, _ := mail.ParseAddress(t)
		rcpts = append(rcpts, a.Address)
	}
	return s.deliver(ctx, m.Host, from.Address, rcpts, s.build(m))
}

// deliver sends one message over one connection, saying in EHLO it comes
// from host (Message.Host; see heloName). Once the server has
// accepted it (250 after the data), it is sent: what happens at QUIT (a
// lost connection, an odd reply) is no failure, since another try would
// deliver the mail again. A connection lost before that reply is retried,
// though the server may have taken the message: a mail twice is better
// than none.
func (s *SMTP) deliver(ctx context.Context, host, from string, rcpts []string, msg []byte) error {
	tlsConf := s.TLS
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: s.Host}
	}
	d := net.Dialer{}
	var conn net.Conn
	var err error
	if s.SSL {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsConf}).DialContext(ctx, "tcp", s.addr())
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.addr())
	}
	if err != nil {
		return classify(err)
	}
	// The context bounds the whole exchange: its end (its deadline
	// passed, or cancelled) unblocks whatever is waiting, and the error
	// then says so.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(stage string, err error) error {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		err = classify(err)
		if stage == "" {
			return err
		}
		var p Permanent
		if errors.As(err, &p) {
			return Permanent{fmt.Errorf("%s: %w", stage, p.Err)}
		}
		return fmt.Errorf("%s: %w", stage, err)
	}
	// net/smtp, not github.com/emersion/go-smtp's client (v0.25.1, which
	// the tests use as the server): go-smtp's client cannot do STARTTLS
	// only when offered on one connection (its startTLS is unexported, and
	// NewClientStartTLS and DialStartTLS fail when the server does not
	// offer it); it sets the connection's deadline before every command
	// and clears it after, undoing the deadline that the context's end
	// sets above; its Auth takes any sasl.Client, and go-sasl's PLAIN
	// sends the password over an unencrypted connection to any host,
	// where net/smtp's PlainAuth refuses one that is not localhost; and
	// its Mail adds SMTPUTF8 only when asked (MailOptions.UTF8, failing
	// if the server lacks it), where net/smtp's adds it whenever the
	// server offers it.
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return fail("", err)
	}
	defer c.Close()
	if err := c.Hello(heloName(host, conn.LocalAddr())); err != nil {
		return fail("EHLO", err)
	}
	if !s.SSL {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConf); err != nil {
				return fail("STARTTLS", err)
			}
		}
	}
	if s.User != "" {
		if err := c.Auth(smtp.PlainAuth("", s.User, s.Pass, s.Host)); err != nil {
			return fail("AUTH", err) // net/smtp's messages never hold the password
		}
	}
	if err := c.Mail(from); err != nil {
		return fail("MAIL FROM", err)
	}
	// A recipient refused for good is left out, and the others get the
	// mail: one address gone stale in [SMTP] to must not keep the report
	// from the rest (Refused says it was sent, and to whom not). One
	// refused for now (4xx) makes the whole try again.
	var refused Refused
	for _, rcpt := range rcpts {
		if err := c.Rcpt(rcpt); err != nil {
			err = fail("RCPT TO "+rcpt, err)
			var p Permanent
			if !errors.As(err, &p) || len(rcpts) == 1 {
				return err
			}
			refused.Rcpts = append(refused.Rcpts, rcpt)
			refused.Errs = append(refused.Errs, p.Err)
		}
	}
	if len(refused.Rcpts) == len(rcpts) {
		return Permanent{errors.New(joinErrs(refused.Errs))}
	}
	w, err := c.Data()
	if err != nil {
		return fail("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fail("DATA", err)
	}
	if err := w.Close(); err != nil {
		return fail("DATA", err)
	}
	c.Quit() // the server has the message: see above
	if refused.Rcpts != nil {
		return &refused
	}
	return nil
}

// Refused is a mail sent, but not to every recipient: the server refused
// some of them for good (5xx at RCPT TO). It is reported, and not tried
// again: the others have the mail.
type Refused struct {
	Rcpts []string
	Errs  []error // each one's refusal, in order
}

func (r *Refused) Error() string {
	return fmt.Sprintf("sent, but not to %s: %s", strings.Join(r.Rcpts, ", "), joinErrs(r.Errs))
}

// joinErrs is errs on one line.
func joinErrs(errs []error) string {
	s := make([]string, len(errs))
	for i, e := range errs {
		s[i] = e.Error()
	}
	return strings.Join(s, "; ")
}

// Sent tells that err, a channel's, still means that it was sent (to
// some recipients: Refused), and must not be sent again.
func Sent(err error) bool {
	var r *Refused
	return errors.As(err, &r)
}

// Reply is an SMTP server's refusal; its text is inert and cut short.
type Reply struct {
	Code int
	Msg  string
}

func (r *Reply) Error() string { return strconv.Itoa(r.Code) + " " + r.Msg }

// classify makes a 5xx reply and a certificate that does not verify
// permanent; 4xx replies and network errors stay transient. A server's
// reply is shown inert and cut short.
func classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		msg := te.Msg
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		r := &Reply{Code: te.Code, Msg: report.Escape(msg)}
		if r.Code >= 500 {
			return Permanent{r}
		}
		return r
	}
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	if errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) {
		return Permanent{err}
	}
	return err
}

// keyPart makes a Message.Key fit the left part of a Message-ID: letters,
// digits, dots and dashes.
func keyPart(key string) string {
	b := []byte(key)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b)
}

// heloName is the name given in EHLO: the machine's (Message.Host) when it
// is a domain name (mail.example.com), else the address the connection
// comes from, as an address literal ([192.0.2.1]), as RFC 5321 asks.
// net/smtp's default, "localhost", is refused by a server that checks it
// (Postfix's reject_non_fqdn_helo_hostname, or a relay that rejects
// "localhost" from elsewhere).
func heloName(host string, local net.Addr) string {
	if isDomainName(host) {
		return host
	}
	if a, ok := local.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			if ip = ip.Unmap(); ip.Is4() {
				return "[" + ip.String() + "]"
			}
			return "[IPv6:" + ip.WithZone("").String() + "]"
		}
	}
	return "localhost"
}

// isDomainName: host is a fully qualified name in letters, digits and
// hyphens (two labels at least, none empty, none starting or ending with a
// hyphen, a name that is not localhost's).
func isDomainName(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if len(host) == 0 || len(host) > 253 {
		return false
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 || strings.EqualFold(labels[0], "localhost") {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	// all digits in the last label: an address, not a name
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != ""
}

// headerAddress is the address a (as the config gives it: "Name <a@b>")
// as a header holds it: as written when it is ASCII (it parsed: Check), else
// with its display name encoded (RFC 2047): a raw 8-bit name, which a
// server without SMTPUTF8 may refuse or mangle, never goes out.
func headerAddress(a string) string {
	if isASCII(a) {
		return a
	}
	p, err := mail.ParseAddress(a)
	if err != nil {
		return a
	}
	return p.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
