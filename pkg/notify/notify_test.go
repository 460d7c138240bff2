package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/loganom/loganom/pkg/report"
)

func message() *Message {
	yes, no := true, false
	t0 := time.Date(2026, 11, 27, 10, 32, 17, 0, time.UTC)
	var ips []*report.IP
	for i := 0; i < 12; i++ {
		ips = append(ips, &report.IP{IP: "192.0.2." + string(rune('0'+i%10)), Count: 1, First: t0, Last: t0, Country: "BA", ASN: 9146, Org: "BH Telecom"})
	}
	ips[0].RDNS, ips[0].RDNSVerified = "smtp.google.com", &no
	ips[1].RDNS, ips[1].RDNSVerified = "ok.example", &yes
	ips[2].City = "<b>Sarajevo</b> | *x*"
	return &Message{Host: "mail.example.test", Seen: 3, Accounts: []*report.Account{{
		User: `bob<script>alert(1)</script>|**x**@example.test`, Logins: 12, First: t0, Last: t0,
		Countries: []string{"BA"}, ASNs: []uint32{9146}, IPs: ips,
	}}}
}

var fast = Retry{Attempts: 3, Backoff: time.Millisecond, Timeout: 2 * time.Second}

// smtpServer is a real SMTP server (go-smtp) on loopback that keeps what it
// receives; rcptFail makes the first RCPT fail with that code.
type smtpServer struct {
	mu       sync.Mutex
	got      []string
	rcpts    []string
	rcptFail int
	rcptMsg  string // "": "try later"
	tries    atomic.Int64
	helo     []string // the names the client gave in EHLO
}

func (s *smtpServer) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	s.mu.Lock()
	s.helo = append(s.helo, c.Hostname())
	s.mu.Unlock()
	return &session{s: s}, nil
}

type session struct{ s *smtpServer }

func (x *session) Reset()        {}
func (x *session) Logout() error { return nil }
func (x *session) Mail(string, *gosmtp.MailOptions) error {
	x.s.tries.Add(1)
	return nil
}
func (x *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.rcptFail != 0 {
		code := x.s.rcptFail
		if code < 500 {
			x.s.rcptFail = 0 // only once
		}
		msg := x.s.rcptMsg
		if msg == "" {
			msg = "try later"
		}
		return &gosmtp.SMTPError{Code: code, Message: msg}
	}
	x.s.rcpts = append(x.s.rcpts, to)
	return nil
}
func (x *session) Data(r io.Reader) error {
	b, _ := io.ReadAll(r)
	x.s.mu.Lock()
	x.s.got = append(x.s.got, string(b))
	x.s.mu.Unlock()
	return nil
}

func startSMTP(t *testing.T, s *smtpServer) (string, int) {
	srv := gosmtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	return serve(t, srv)
}

func TestSMTP(t *testing.T) {
	s := &smtpServer{}
	host, port := startSMTP(t, s)
	ch := &SMTP{From: "loganom <loganom@example.test>", To: []string{"postmaster@example.test", "Abuse <abuse@example.test>"}, Host: host, Port: port}
	res := SendAll(context.Background(), []Channel{ch}, message(), fast)
	if res[0].Err != nil {
		t.Fatal(res[0].Error())
	}
	if strings.Join(s.rcpts, ",") != "postmaster@example.test,abuse@example.test" || len(s.got) != 1 {
		t.Fatalf("rcpts %v, %d messages", s.rcpts, len(s.got))
	}
	msg, err := mail.ReadMessage(strings.NewReader(s.got[0]))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	if h.Get("Auto-Submitted") != "auto-generated" || !strings.HasSuffix(h.Get("Message-ID"), "@example.test>") || h.Get("Date") == "" {
		t.Errorf("headers %v", h)
	}
	if subj, _ := new(mime.WordDecoder).DecodeHeader(h.Get("Subject")); subj != "loganom: 1 account may be compromised on mail.example.test" {
		t.Errorf("subject %q", subj)
	}
	_, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	parts := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p) // quoted-printable is decoded by NextPart
		parts[strings.Split(p.Header.Get("Content-Type"), ";")[0]] = string(b)
	}
	if !strings.Contains(parts["text/plain"], "bob<script>") || !strings.Contains(parts["text/plain"], "smtp.google.com (unverified)") {
		t.Errorf("text part:\n%s", parts["text/plain"])
	}
	html := parts["text/html"]
	if strings.Contains(html, "<script>") || strings.Contains(html, "<b>Sarajevo") || !strings.Contains(html, "bob&lt;script&gt;") {
		t.Errorf("HTML part not escaped:\n%s", html)
	}
}

// A 4xx reply is retried; a 5xx is not.
func TestSMTPRetry(t *testing.T) {
	s := &smtpServer{rcptFail: 451}
	host, port := startSMTP(t, s)
	ch := &SMTP{From: "loganom@example.test", To: []string{"postmaster@example.test"}, Host: host, Port: port}
	res := SendAll(context.Background(), []Channel{ch}, message(), fast)
	if res[0].Err != nil || res[0].Attempts != 2 || len(s.got) != 1 {
		t.Errorf("%+v, %d messages", res[0], len(s.got))
	}
	s2 := &smtpServer{rcptFail: 550}
	host, port = startSMTP(t, s2)
	ch = &SMTP{From: "loganom@example.test", To: []string{"postmaster@example.test"}, Host: host, Port: port}
	res = SendAll(context.Background(), []Channel{ch}, message(), fast)
	var p Permanent
	if !errors.As(res[0].Err, &p) || res[0].Attempts != 1 {
		t.Errorf("%+v", res[0])
	}
	// nobody listening: transient, tried every time
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	ch.Port = port
	res = SendAll(context.Background(), []Channel{ch}, message(), fast)
	if res[0].Err == nil || res[0].Attempts != 3 || !strings.Contains(res[0].Error(), "connection refused") {
		t.Errorf("%+v", res[0])
	}
}

// hookServer answers with the given statuses in turn, then 200, and keeps
// the bodies and paths.
func hookServer(t *testing.T, statuses ...int) (*httptest.Server, *[]string, *[]string) {
	var mu sync.Mutex
	var bodies, paths []string
	i := 0
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") != "application/json" {
			t.Error("not JSON")
		}
		mu.Lock()
		bodies, paths = append(bodies, string(b)), append(paths, r.URL.Path)
		status := 200
		if i < len(statuses) {
			status = statuses[i]
			i++
		}
		mu.Unlock()
		if status == -1 { // never answers: waits for the client to give up
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		w.WriteHeader(status)
		w.Write([]byte(`{"message":"nope: ` + r.URL.String() + `"}`)) // as a 404 page may echo the key
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // before srv.Close
	return srv, &bodies, &paths
}

func TestMattermost(t *testing.T) {
	srv, bodies, paths := hookServer(t, 429, 500)
	ch := &Mattermost{URL: srv.URL + "/", APIKey: "sekrit-key", Channel: "town-square", Username: "loganom"}
	res := SendAll(context.Background(), []Channel{ch}, message(), fast)
	if res[0].Err != nil || res[0].Attempts != 3 {
		t.Fatalf("%+v", res[0])
	}
	if (*paths)[2] != "/hooks/sekrit-key" {
		t.Errorf("path %s", (*paths)[2])
	}
	var p map[string]string
	json.Unmarshal([]byte((*bodies)[2]), &p)
	text := p["text"]
	if p["channel"] != "town-square" || p["username"] != "loganom" {
		t.Errorf("payload %v", p)
	}
	// its @ follows a "*", and would start a mention (@example.test):
	// the name is code, where Markdown means nothing
	if !strings.Contains(text, "**`bob<script>alert(1)</script>|**x**@example.test`**") {
		t.Errorf("user not escaped:\n%s", text)
	}
	if strings.Count(text, "\n| 192") != MaxRows || !strings.Contains(text, "_… and 2 more addresses_") {
		t.Errorf("rows not trimmed:\n%s", text)
	}
	if strings.Contains(text, "| <b>") || !strings.Contains(text, `\<b\>Sarajevo\</b\> \| \*x\*`) {
		t.Errorf("cell not escaped:\n%s", text)
	}
	// a refused key is permanent, and the error does not show it
	srv2, _, _ := hookServer(t, 404)
	ch.URL = srv2.URL
	res = SendAll(context.Background(), []Channel{ch}, message(), fast)
	if res[0].Attempts != 1 || res[0].Err == nil || strings.Contains(res[0].Error(), "sekrit") {
		t.Errorf("%s", res[0].Error())
	}
}

func TestTeams(t *testing.T) {
	srv, bodies, _ := hookServer(t)
	ch := &Teams{URL: srv.URL, Title: "Stolen passwords?", ButtonCaption: "Open the admin", ButtonURL: "https://admin.example.test/"}
	if res := SendAll(context.Background(), []Channel{ch}, message(), fast); res[0].Err != nil {
		t.Fatal(res[0].Error())
	}
	var p struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type    string           `json:"type"`
				Version string           `json:"version"`
				Body    []map[string]any `json:"body"`
				Actions []map[string]any `json:"actions"`
			} `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal([]byte((*bodies)[0]), &p); err != nil {
		t.Fatal(err)
	}
	c := p.Attachments[0]
	if p.Type != "message" || c.ContentType != "application/vnd.microsoft.card.adaptive" || c.Content.Type != "AdaptiveCard" ||
		c.Content.Body[0]["text"] != `Stolen passwords?` || c.Content.Actions[0]["title"] != "Open the admin" || c.Content.Actions[0]["url"] != "https://admin.example.test/" {
		t.Errorf("%s", (*bodies)[0])
	}
}

func TestWebhookAndTimeout(t *testing.T) {
	srv, bodies, _ := hookServer(t, -1)
	ch := &Webhook{URL: srv.URL}
	r := fast
	r.Timeout = 300 * time.Millisecond
	res := SendAll(context.Background(), []Channel{ch}, message(), r)
	if res[0].Err != nil || res[0].Attempts != 2 {
		t.Fatalf("%+v", res[0])
	}
	var p struct {
		Text     string            `json:"text"`
		Accounts []*report.Account `json:"accounts"`
	}
	json.Unmarshal([]byte((*bodies)[1]), &p)
	if !strings.Contains(p.Text, "1 account looks compromised") || len(p.Accounts) != 1 || len(p.Accounts[0].IPs) != 12 {
		t.Errorf("%s", (*bodies)[1])
	}
}

// One channel failing does not keep the others from sending.
func TestIndependent(t *testing.T) {
	bad, _, _ := hookServer(t, 500, 500, 500, 500)
	good, bodies, _ := hookServer(t)
	res := SendAll(context.Background(), []Channel{&Webhook{URL: bad.URL}, &Webhook{URL: good.URL}}, message(), fast)
	if res[0].Err == nil || res[1].Err != nil || len(*bodies) != 1 {
		t.Errorf("%+v", res)
	}
}

// dropConn loses the connection right after the server accepted the
// message (its 250 after DATA), or when the client says QUIT.
type dropConn struct {
	net.Conn
	at string // "after-250" or "at-quit"
}

func (c *dropConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.at == "after-250" && strings.Contains(string(p), "250 2.0.0 OK: queued") {
		c.Conn.Close()
	}
	return n, err
}

func (c *dropConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.at == "at-quit" && strings.Contains(string(p[:n]), "QUIT") {
		c.Conn.Close()
		return 0, io.EOF
	}
	return n, err
}

type dropListener struct {
	net.Listener
	at string
}

func (l dropListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &dropConn{Conn: c, at: l.at}, nil
}

// Once the server took the message (250 after DATA), it is sent: a lost
// connection at QUIT is no failure, and the mail is not sent again.
func TestSMTPSentOnce(t *testing.T) {
	for _, at := range []string{"after-250", "at-quit"} {
		t.Run(at, func(t *testing.T) {
			s := &smtpServer{}
			srv := gosmtp.NewServer(s)
			srv.Domain = "localhost"
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(dropListener{ln, at})
			t.Cleanup(func() { srv.Close() })
			ch := &SMTP{From: "loganom@example.test", To: []string{"postmaster@example.test"}, Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}
			res := SendAll(context.Background(), []Channel{ch}, message(), fast)
			s.mu.Lock()
			n := len(s.got)
			s.mu.Unlock()
			if res[0].Err != nil || res[0].Attempts != 1 || n != 1 {
				t.Errorf("%+v (%v), %d messages delivered, want 1", res[0], res[0].Err, n)
			}
		})
	}
}

// A server that never greets is given up at the try's timeout.
func TestSMTPTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // never answers
		}
	}()
	ch := &SMTP{From: "loganom@example.test", To: []string{"postmaster@example.test"}, Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}
	r := fast
	r.Attempts, r.Timeout = 2, 200*time.Millisecond
	res := SendAll(context.Background(), []Channel{ch}, message(), r)
	if !errors.Is(res[0].Err, context.DeadlineExceeded) || res[0].Attempts != 2 {
		t.Errorf("%+v", res[0])
	}
}

// An HTTP channel's error says the status code and the channel, never the
// response body (a 404 page that echoes the key) nor the URL's path or
// query, where keys live.
func TestHTTPErrorsHideSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/loop/"):
			http.Redirect(w, r, r.URL.String(), http.StatusTemporaryRedirect)
		case strings.HasPrefix(r.URL.Path, "/busy/"):
			http.Error(w, "busy: "+r.URL.String(), http.StatusServiceUnavailable)
		case strings.HasPrefix(r.URL.Path, "/bad/"):
			http.Error(w, "bad request for "+r.URL.String(), http.StatusBadRequest)
		default:
			http.Error(w, "no such hook: "+r.URL.String(), http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		ch   Channel
		want string // the whole message, or a part with a * in front
	}{
		{&Mattermost{URL: srv.URL, APIKey: "s3cret-key"}, "mattermost: HTTP 404 (after 1 try)"},
		{&Teams{URL: srv.URL + "/bad/workflows/x?sig=s3cret-sig"}, "teams: HTTP 400 (after 1 try)"},
		{&Webhook{URL: srv.URL + "/busy/s3cret-path"}, "webhook: HTTP 503 (after 3 tries)"},
		{&Mattermost{URL: srv.URL + "/loop", APIKey: "s3cret-key"}, "*stopped after 10 redirects"},
		{&Teams{URL: closed + "/workflows/x?sig=s3cret-sig"}, "*connection refused"},
	} {
		res := SendAll(context.Background(), []Channel{tc.ch}, message(), fast)
		got := res[0].Error()
		if res[0].Err == nil || strings.Contains(got, "s3cret") || strings.Contains(got, "such hook") ||
			strings.HasPrefix(tc.want, "*") && !strings.Contains(got, tc.want[1:]) || !strings.HasPrefix(tc.want, "*") && got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.ch.Name(), got, tc.want)
		}
	}
}

func TestScrub(t *testing.T) {
	u, _ := url.Parse("https://chat.example.test/hooks/k3y%2Fx?sig=s1g")
	for _, tc := range []struct{ in, want string }{
		{"Post https://chat.example.test/hooks/k3y%2Fx?sig=s1g: refused", "Post …: refused"},
		{"bad path /hooks/k3y%2Fx here", "bad path … here"},
		{"bad path /hooks/k3y/x here", "bad path … here"},
		{"query sig=s1g here", "query … here"},
		{"dial tcp 127.0.0.1:1: connect: connection refused", "dial tcp 127.0.0.1:1: connect: connection refused"},
	} {
		if got := scrub(errors.New(tc.in), u).Error(); got != tc.want {
			t.Errorf("scrub(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// hiddenRunes are the bidi controls and zero-width characters that must
// never reach a reader raw.
var hiddenRunes = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u200c\u200d\u2060\ufeff"

// Bidi controls and zero-width characters in names are shown escaped
// (\u202e) in Mattermost, Teams and the HTML mail.
func TestHiddenCharacters(t *testing.T) {
	m := message()
	m.Accounts[0].User = "adm\u202enimda\u200b@example.test\x1b[31m\xff"
	for _, r := range hiddenRunes {
		m.Accounts[0].IPs[3].City += string(r)
	}
	m.Accounts[0].IPs[4].Org = "Org\u2066x\u2069"
	teams, _ := (&Teams{}).Preview(m)
	var card any
	if err := json.Unmarshal([]byte(strings.TrimPrefix(teams, "Teams webhook:\n")), &card); err != nil {
		t.Fatal(err)
	}
	cardText, _ := json.Marshal(card)
	var decoded []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			decoded = append(decoded, v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(card)
	for _, tc := range []struct {
		name, out string
		want      []string
	}{
		{"markdown", Markdown(m), []string{`adm\\u202enimda\\u200b\@example\.test\\u001b\[31m\\xff`, `\\u2066x\\u2069`}},
		{"html", HTML(m), []string{`adm\u202enimda\u200b@example.test\u001b[31m\xff`, `Org\u2066x\u2069`, `\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u200c\u200d\u2060\ufeff`}},
		{"teams", strings.Join(decoded, "\n"), []string{`adm\\u202enimda\\u200b\@example\.test`, `Org\\u2066x\\u2069`}},
	} {
		if strings.ContainsAny(tc.out, hiddenRunes+"\x1b") || !utf8.ValidString(tc.out) {
			t.Errorf("%s: a hidden character went through:\n%+q", tc.name, tc.out)
		}
		for _, w := range tc.want {
			if !strings.Contains(tc.out, w) {
				t.Errorf("%s: no %s in\n%s", tc.name, w, tc.out)
			}
		}
	}
	if strings.ContainsAny(string(cardText), hiddenRunes) {
		t.Errorf("teams payload: %s", cardText)
	}
}

// The client says who it is in EHLO: the machine's name when it is a
// domain name, else the address it connects from, as an address literal;
// never net/smtp's "localhost", which servers that check refuse.
func TestSMTPHelo(t *testing.T) {
	for _, tt := range []struct{ host, want string }{
		{"mail.example.test", "mail.example.test"},
		{"mail.example.test.", "mail.example.test."},
		{"mail", "[127.0.0.1]"},
		{"localhost.localdomain", "[127.0.0.1]"},
		{"", "[127.0.0.1]"},
		{"10.1.2.3", "[127.0.0.1]"},
		{"bad_name.example", "[127.0.0.1]"},
	} {
		s := &smtpServer{}
		host, port := startSMTP(t, s)
		ch := &SMTP{From: "loganom@example.test", To: []string{"postmaster@example.test"}, Host: host, Port: port}
		m := message()
		m.Host = tt.host
		if res := SendAll(context.Background(), []Channel{ch}, m, fast); res[0].Err != nil {
			t.Fatal(res[0].Error())
		}
		s.mu.Lock()
		if len(s.helo) != 1 || s.helo[0] != tt.want {
			t.Errorf("machine %q: EHLO %q, want %q", tt.host, s.helo, tt.want)
		}
		s.mu.Unlock()
	}
}

// A display name outside ASCII in [SMTP] from or to goes out encoded
// (RFC 2047), and reads back as it was; the header lines are ASCII.
func TestSMTPNonASCIINames(t *testing.T) {
	s := &smtpServer{}
	host, port := startSMTP(t, s)
	ch := &SMTP{From: "Sécurité Réseau <loganom@example.test>", To: []string{"Zoë Müller <zoe@example.test>", `"Ops, Team" <ops@example.test>`}, Host: host, Port: port}
	if res := SendAll(context.Background(), []Channel{ch}, message(), fast); res[0].Err != nil {
		t.Fatal(res[0].Error())
	}
	raw := s.got[0]
	head := raw[:strings.Index(raw, "\r\n\r\n")]
	for _, c := range head {
		if c > 127 {
			t.Fatalf("a header holds a raw non-ASCII character:\n%s", head)
		}
	}
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	from, err := msg.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Sécurité Réseau" || from[0].Address != "loganom@example.test" {
		t.Errorf("From %q: %v %v", msg.Header.Get("From"), from, err)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[0].Name != "Zoë Müller" || to[1].Name != "Ops, Team" || to[1].Address != "ops@example.test" {
		t.Errorf("To %q: %v %v", msg.Header.Get("To"), to, err)
	}
}
