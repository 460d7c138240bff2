// Command mkscenarios writes the scenario suite of testdata/scenarios: one
// mail log per scenario, as the Postfix 3.7 of example.test (a company in
// São Paulo, Brazil) logs its people, and dns.zone, the reverse (and
// forward) DNS of every client address in them, which the suite's test
// serves on loopback.
//
//	go run ./scripts/mkscenarios testdata/scenarios
//
// Each log is two weeks of a real submission server, from the weekly
// rotation on Sunday 1 November 2026: the scenario's account and one or
// two colleagues living their ordinary lives (office, home, phone,
// weekends), the password-guessing bots every mail server on the
// Internet gets, and then what the scenario is about. The addresses are
// real networks of the bundled example databases (scripts/mkgeodb), the
// host names those networks really give their clients. A pseudo-random
// generator seeded per scenario makes the same bytes every run.
package main

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// brt is the server's local time (Brazil has kept UTC-3 all year since 2019).
var brt = time.FixedZone("-03", -3*3600)

// day returns midnight of a day of November 2026 (1 = Sunday), local time.
func day(d int) time.Time { return time.Date(2026, time.November, d, 0, 0, 0, 0, brt) }

func at(d, h, m int) time.Time {
	return day(d).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

const (
	first = 1  // the log starts on Sunday 1 November, 06:25 (logrotate)
	last  = 14 // and ends on Saturday 14 November, 23:59
)

// addr is a client address with its reverse name: confirmed when the name
// resolves back to the address (Postfix then logs the name, else unknown).
type addr struct {
	ip        string
	ptr       string
	confirmed bool
	forward   string // for an unconfirmed name: the address it does resolve to ("" none)
}

func (a addr) name() string {
	if a.ptr != "" && a.confirmed {
		return a.ptr
	}
	return "unknown"
}

func dashed(ip string) string { return strings.ReplaceAll(ip, ".", "-") }

func octets(ip string) [4]byte { return netip.MustParseAddr(ip).As4() }

// The reverse names the networks give their clients.
func telesp(ip string) addr  { return addr{ip, dashed(ip) + ".dsl.telesp.net.br", true, ""} }
func vivozap(ip string) addr { return addr{ip, dashed(ip) + ".user.vivozap.com.br", true, ""} }
func virtua(ip string) addr {
	o := octets(ip)
	return addr{ip, fmt.Sprintf("%02x%02x%02x%02x.virtua.com.br", o[0], o[1], o[2], o[3]), true, ""}
}
func none(ip string) addr { return addr{ip: ip} }
func named(ip, ptr string) addr {
	return addr{ip, ptr, true, ""}
}
func rimaTDE(ip string) addr {
	o := octets(ip)
	return addr{ip, fmt.Sprintf("%d.Red-%d-%d-%d.staticIP.rima-tde.net", o[3], o[0], o[1], o[2]), true, ""}
}
func netcabo(ip string) addr { return addr{ip, "a" + dashed(ip) + ".cpe.netcabo.pt", true, ""} }

// Gmail's servers that send "send mail as" mail through our submission
// port, with their names.
var gmail = []addr{
	named("209.85.128.41", "mail-wm1-f41.google.com"),
	named("209.85.128.50", "mail-wm1-f50.google.com"),
	named("209.85.221.54", "mail-wr1-f54.google.com"),
	named("209.85.221.49", "mail-wr1-f49.google.com"),
	named("209.85.218.52", "mail-ej1-f52.google.com"),
	named("209.85.218.44", "mail-ej1-f44.google.com"),
	named("209.85.208.46", "mail-ed1-f46.google.com"),
	named("209.85.167.49", "mail-lf1-f49.google.com"),
	named("209.85.214.176", "mail-pl1-f176.google.com"),
	named("209.85.210.173", "mail-pf1-f173.google.com"),
	named("209.85.160.172", "mail-qt1-f172.google.com"),
	named("209.85.222.169", "mail-qk1-f169.google.com"),
	named("209.85.219.180", "mail-yb1-f180.google.com"),
	named("209.85.166.45", "mail-io1-f45.google.com"),
}

// The office's link (Vivo Empresas, fixed address) and the mail server.
var office = telesp("200.158.1.34")

const serverIP = "200.158.1.2"

// line is one log line at a time; seq keeps the order of lines of the same
// second.
type line struct {
	t    time.Time
	seq  int
	text string
}

// scenario is one log being written.
type scenario struct {
	file    string
	r       *rand.Rand
	lines   []line
	seq     int
	pidBase int
	qids    map[string]bool
	zone    map[string]addr // by address
	users   []string        // the accounts of the log, for the bots
}

func newScenario(file string, seed uint64) *scenario {
	return &scenario{file: file, r: rand.New(rand.NewPCG(seed, 2026)), pidBase: 20000 + int(seed)*1000, qids: map[string]bool{}, zone: map[string]addr{}}
}

func (s *scenario) logf(t time.Time, prog string, pid int, format string, args ...any) {
	s.seq++
	s.lines = append(s.lines, line{t, s.seq, fmt.Sprintf("%s mail %s[%d]: %s", t.Format(time.Stamp), prog, pid, fmt.Sprintf(format, args...))})
}

func (s *scenario) qid() string {
	for {
		q := fmt.Sprintf("%05X%05X", s.r.IntN(1<<20), s.r.IntN(1<<20))
		if !s.qids[q] {
			s.qids[q] = true
			return q
		}
	}
}

// pidAt returns a process id for a process started at t: they grow with
// time, as the system's processes come and go.
func (s *scenario) pidAt(t time.Time) int {
	return s.pidBase + int(t.Sub(day(first)).Seconds())/20 + s.r.IntN(15)
}

func (s *scenario) jitter(max time.Duration) time.Duration {
	return time.Duration(s.r.Int64N(int64(max)))
}

// client is what a mail program does: which port, which SASL mechanism,
// what its Message-IDs look like.
type client int

const (
	thunderbird client = iota
	outlook
	iphone
	android
	gmailSendAs
	spamTool
)

func (c client) service() string {
	switch c {
	case android, spamTool:
		return "postfix/submissions/smtpd"
	}
	return "postfix/submission/smtpd"
}

func (c client) method() string {
	switch c {
	case outlook, spamTool:
		return "LOGIN"
	}
	return "PLAIN"
}

func (s *scenario) messageID(c client) string {
	hex := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "0123456789abcdef"[s.r.IntN(16)]
		}
		return string(b)
	}
	switch c {
	case outlook:
		return fmt.Sprintf("<%s01dc%s$%s$%s$@example.test>", hex(4), hex(4), hex(8), hex(8))
	case iphone:
		return strings.ToUpper(fmt.Sprintf("<%s-%s-%s-%s-%s", hex(8), hex(4), hex(4), hex(4), hex(12))) + "@example.test>"
	case gmailSendAs:
		const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+_-="
		b := make([]byte, 38)
		for i := range b {
			b[i] = b64[s.r.IntN(len(b64))]
		}
		return "<CA" + string(b) + "@mail.gmail.com>"
	case spamTool:
		return fmt.Sprintf("<%s.%s@example.test>", hex(16), hex(6))
	}
	return fmt.Sprintf("<%s-%s-%s-%s-%s@example.test>", hex(8), hex(4), hex(4), hex(4), hex(12))
}

// Where the messages go.
var (
	colleagues = []string{"financeiro", "comercial", "ana.souza", "pedro.almeida", "diretoria", "rh", "suporte"}
	outside    = []struct{ domain, relay, ok string }{
		{"gmail.com", "gmail-smtp-in.l.google.com[142.250.0.27]:25", "250 2.0.0 OK  %d %s - gsmtp"},
		{"hotmail.com", "hotmail-com.olc.protection.outlook.com[52.101.42.10]:25", "250 2.6.0 %s [InternalId=%d] Queued mail for delivery"},
		{"uol.com.br", "mx.uol.com.br[200.147.41.231]:25", "250 2.0.0 Ok: queued as %d%s"},
		{"yahoo.com.br", "mx-biz.mail.am0.yahoodns.net[67.195.204.77]:25", "250 ok dirdel %d %s"},
	}
	firstNames = []string{"maria", "jose", "carlos", "paulo", "luiza", "roberto", "sandra", "marcelo", "adriana", "thiago", "camila", "bruno", "leticia", "gustavo", "priscila", "andre"}
	lastNames  = []string{"silva", "santos", "oliveira", "souza", "rodrigues", "ferreira", "alves", "lima", "gomes", "ribeiro", "carvalho", "martins", "araujo", "barros"}
)

// deliver writes the queue manager's and delivery agents' lines of one
// message of user to rcpts.
func (s *scenario) deliver(t time.Time, q, user, msgid string, rcpts []string, spam bool) time.Time {
	s.logf(t, "postfix/cleanup", s.pidAt(t), "%s: message-id=%s", q, msgid)
	size := 1800 + s.r.IntN(60000)
	if spam {
		size = 3000 + s.r.IntN(4000)
	}
	s.logf(t, "postfix/qmgr", 1196, "%s: from=<%s>, size=%d, nrcpt=%d (queue active)", q, user, size, len(rcpts))
	deferred := false
	for _, rc := range rcpts {
		t = t.Add(200*time.Millisecond + s.jitter(2*time.Second))
		if strings.HasSuffix(rc, "@example.test") {
			s.logf(t, "postfix/lmtp", s.pidAt(t), "%s: to=<%s>, relay=mail.example.test[private/dovecot-lmtp], delay=0.%02d, delays=0.%02d/0.01/0/0.02, dsn=2.0.0, status=sent (250 2.0.0 <%s> %s Saved)",
				q, rc, 10+s.r.IntN(80), 5+s.r.IntN(20), rc, s.token(22))
			continue
		}
		dom := rc[strings.IndexByte(rc, '@')+1:]
		o := outside[0]
		for _, x := range outside {
			if x.domain == dom {
				o = x
			}
		}
		d1, d2 := s.r.IntN(30), 3+s.r.IntN(90)
		delays := fmt.Sprintf("delay=%d.%d, delays=0.%02d/0.01/0.%02d/%d.%d", 1+d1/10, d1%10, s.r.IntN(40), s.r.IntN(90), d2/100, d2%100)
		switch {
		case spam && s.r.IntN(3) == 0:
			deferred = true
			host := o.relay[:strings.LastIndexByte(o.relay, ':')]
			s.logf(t, "postfix/smtp", s.pidAt(t), "%s: to=<%s>, relay=%s, %s, dsn=4.7.28, status=deferred (host %s said: 421-4.7.28 [%s      15] Our system has detected an unusual rate of 421-4.7.28 unsolicited mail originating from your IP address. To protect our 421 4.7.28 users from spam, mail sent from your IP address has been temporarily rate limited. (in reply to end of DATA command))",
				q, rc, o.relay, delays, host, serverIP)
		case spam && s.r.IntN(4) == 0:
			s.logf(t, "postfix/smtp", s.pidAt(t), "%s: to=<%s>, relay=%s, %s, dsn=5.1.1, status=bounced (host %s said: 550 5.1.1 <%s>: Recipient address rejected: User unknown (in reply to RCPT TO command))",
				q, rc, o.relay, delays, o.relay[:strings.LastIndexByte(o.relay, ':')], rc)
		default:
			var ok string
			switch strings.Count(o.ok, "%") {
			default:
				if strings.HasPrefix(o.ok, "250 2.6.0") {
					ok = fmt.Sprintf(o.ok, msgid, 1000000+s.r.IntN(9000000))
				} else {
					ok = fmt.Sprintf(o.ok, 1762000000+s.r.IntN(2000000), s.token(30))
				}
			}
			s.logf(t, "postfix/smtp", s.pidAt(t), "%s: to=<%s>, relay=%s, %s, dsn=2.0.0, status=sent (%s)", q, rc, o.relay, delays, ok)
		}
	}
	if !deferred { // else the message waits in the deferred queue
		s.logf(t, "postfix/qmgr", 1196, "%s: removed", q)
	}
	return t
}

func (s *scenario) token(n int) string {
	const cs = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = cs[s.r.IntN(len(cs))]
	}
	return string(b)
}

// recipients of an ordinary message.
func (s *scenario) ordinary(user string) []string {
	n := 1
	if s.r.IntN(4) == 0 {
		n += 1 + s.r.IntN(3)
	}
	var out []string
	for len(out) < n {
		var rc string
		if s.r.IntN(2) == 0 {
			rc = colleagues[s.r.IntN(len(colleagues))] + "@example.test"
		} else {
			o := outside[s.r.IntN(len(outside))]
			rc = fmt.Sprintf("%s.%s@%s", firstNames[s.r.IntN(len(firstNames))], lastNames[s.r.IntN(len(lastNames))], o.domain)
		}
		if rc != user {
			out = append(out, rc)
		}
	}
	return out
}

func (s *scenario) spamRcpts() []string {
	out := make([]string, 1+s.r.IntN(2))
	for i := range out {
		o := outside[s.r.IntN(len(outside))]
		out[i] = fmt.Sprintf("%s%s%d@%s", firstNames[s.r.IntN(len(firstNames))], lastNames[s.r.IntN(len(lastNames))], s.r.IntN(999), o.domain)
	}
	return out
}

func (s *scenario) see(a addr) {
	s.zone[a.ip] = a
}

// connect writes the start of a session, and returns the smtpd's pid.
func (s *scenario) connect(t time.Time, a addr, c client) int {
	s.see(a)
	pid := s.pidAt(t)
	svc := c.service()
	if a.ptr != "" && !a.confirmed {
		if a.forward == "" {
			s.logf(t, svc, pid, "warning: hostname %s does not resolve to address %s: Name or service not known", a.ptr, a.ip)
		} else {
			s.logf(t, svc, pid, "warning: hostname %s does not resolve to address %s", a.ptr, a.ip)
		}
	}
	s.logf(t, svc, pid, "connect from %s[%s]", a.name(), a.ip)
	return pid
}

// send writes a session of user from a that sends n messages: the logins
// of the suite (one "client=..., sasl_username=" line per message).
func (s *scenario) send(t time.Time, user string, a addr, c client, n int) time.Time {
	pid := s.connect(t, a, c)
	svc := c.service()
	t = t.Add(300*time.Millisecond + s.jitter(time.Second))
	rcpts := 0
	for i := 0; i < n; i++ {
		q := s.qid()
		s.logf(t, svc, pid, "%s: client=%s[%s], sasl_method=%s, sasl_username=%s", q, a.name(), a.ip, c.method(), user)
		var to []string
		if c == spamTool {
			to = s.spamRcpts()
		} else {
			to = s.ordinary(user)
		}
		rcpts += len(to)
		end := s.deliver(t.Add(100*time.Millisecond+s.jitter(400*time.Millisecond)), q, user, s.messageID(c), to, c == spamTool)
		t = t.Add(1*time.Second + s.jitter(3*time.Second))
		if end.After(t) {
			t = end
		}
	}
	st := "ehlo=2 starttls=1 "
	cmds := 5
	if strings.Contains(svc, "submissions") {
		st, cmds = "ehlo=1 ", 3
	}
	cmds += 3*n + rcpts
	if n > 1 {
		st += fmt.Sprintf("auth=1 mail=%d rcpt=%d data=%d rset=%d quit=1 commands=%d", n, rcpts, n, n-1, cmds+n-1)
	} else {
		st += fmt.Sprintf("auth=1 mail=1 rcpt=%d data=1 quit=1 commands=%d", rcpts, cmds)
	}
	s.logf(t, svc, pid, "disconnect from %s[%s] %s", a.name(), a.ip, st)
	return t
}

// fail writes a session with k failed logins as user.
func (s *scenario) fail(t time.Time, user string, a addr, c client, k int) time.Time {
	pid := s.connect(t, a, c)
	svc := c.service()
	for i := 0; i < k; i++ {
		t = t.Add(time.Second + s.jitter(time.Second))
		s.logf(t, svc, pid, "warning: %s[%s]: SASL %s authentication failed: authentication failure, sasl_username=%s", a.name(), a.ip, c.method(), user)
	}
	t = t.Add(s.jitter(time.Second))
	st, ok, all := "ehlo=2 starttls=1", 3, 3
	if strings.Contains(svc, "submissions") {
		st, ok, all = "ehlo=1", 1, 1
	}
	st += fmt.Sprintf(" auth=0/%d", k)
	all += k
	if s.r.IntN(3) == 0 {
		s.logf(t, svc, pid, "lost connection after AUTH from %s[%s]", a.name(), a.ip)
	} else {
		st += " quit=1"
		ok, all = ok+1, all+1
	}
	s.logf(t, svc, pid, "disconnect from %s[%s] %s commands=%d/%d", a.name(), a.ip, st, ok, all)
	return t
}

// in returns a random address of a network.
func (s *scenario) in(cidr string) string {
	p := netip.MustParsePrefix(cidr)
	b := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 2
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += 1 + uint32(s.r.Uint64N(uint64(host)))
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

// between returns a random time of day d between h1:m1 and h2:m2.
func (s *scenario) between(d, h1, m1, h2, m2 int) time.Time {
	a, b := at(d, h1, m1), at(d, h2, m2)
	return a.Add(s.jitter(b.Sub(a)))
}

// times returns n random times of day d between h1 and h2, in order.
func (s *scenario) times(n, d, h1, h2 int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = s.between(d, h1, 0, h2, 0)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// person is an account's ordinary life.
type person struct {
	user   string
	laptop client           // the mail program at the office and at home
	office bool             // works at the office on weekdays
	work   func() addr      // the address at the office, when not the office's link
	home   func(d int) addr // the home connection on day d (nil: none)
	phone  func() addr      // an address of the phone, new at each session (nil: none)
	phoneC client
	// away: the days the person is not at the office nor at home
	away func(d int) bool
	// busy: messages a working day at the office (min, max)
	busyMin, busyMax int
	sunday           bool // sends mail on Sunday 1 November, the first day of the log
}

func (s *scenario) life(p person) {
	s.users = append(s.users, p.user)
	for d := first; d <= last; d++ {
		if p.away != nil && p.away(d) {
			continue
		}
		wd := day(d).Weekday()
		weekday := wd != time.Saturday && wd != time.Sunday
		if d == first && !p.sunday {
			continue
		}
		if weekday && p.office {
			n := p.busyMin + s.r.IntN(p.busyMax-p.busyMin+1)
			for _, t := range s.times(n, d, 9, 18) {
				if t.Hour() == 12 { // lunch
					t = t.Add(90 * time.Minute)
				}
				a := office
				if p.work != nil {
					a = p.work()
				}
				s.send(t, p.user, a, p.laptop, 1)
			}
		}
		if p.home != nil {
			evening := 0
			switch {
			case weekday && p.office:
				if s.r.IntN(3) == 0 {
					evening = 1 + s.r.IntN(2)
				}
			case weekday: // works from home
				evening = p.busyMin + s.r.IntN(p.busyMax-p.busyMin+1)
			default:
				evening = s.r.IntN(3)
			}
			h1, h2 := 19, 23
			if weekday && !p.office {
				h1, h2 = 8, 19
			} else if !weekday {
				h1, h2 = 10, 22
			}
			for _, t := range s.times(evening, d, h1, h2) {
				s.send(t, p.user, p.home(d), p.laptop, 1)
			}
		}
		if p.phone != nil {
			n := 0
			if s.r.IntN(5) < 3 {
				n = 1 + s.r.IntN(2)
			}
			for _, t := range s.times(n, d, 7, 22) {
				s.send(t, p.user, p.phone(), p.phoneC, 1)
			}
		}
	}
}

// bots: the password guessing every mail server gets, a few sessions a day
// from the usual hosting networks, mostly for names that do not exist.
func (s *scenario) bots() {
	nets := []string{"80.94.95.0/24", "45.227.254.0/24"}
	guesses := []string{"admin", "info", "contato", "teste", "test", "financeiro", "rh", "vendas", "suporte", "compras", "postmaster", "webmaster", "noreply", "scanner"}
	for d := first; d <= last; d++ {
		for _, t := range s.times(3+s.r.IntN(6), d, 0, 24) {
			if t.Before(at(first, 6, 26)) {
				continue
			}
			a := none(s.in(nets[s.r.IntN(len(nets))]))
			user := guesses[s.r.IntN(len(guesses))] + "@example.test"
			if s.r.IntN(8) == 0 && len(s.users) > 0 {
				user = s.users[s.r.IntN(len(s.users))]
			}
			c := outlook // LOGIN
			if s.r.IntN(2) == 0 {
				c = spamTool
			}
			s.fail(t, user, a, c, 1+s.r.IntN(3))
		}
	}
}

// The ordinary colleagues of every log.
func (s *scenario) colleagues(which ...string) {
	for _, w := range which {
		switch w {
		case "ana":
			home := telesp(s.in("177.138.20.0/22"))
			s.life(person{user: "ana.souza@example.test", laptop: outlook, office: true, busyMin: 3, busyMax: 8,
				home:  func(int) addr { return home },
				phone: func() addr { return vivozap(s.in("152.244.2.0/23")) }, phoneC: iphone})
		case "pedro":
			home := virtua(s.in("177.33.120.0/22"))
			s.life(person{user: "pedro.almeida@example.test", laptop: thunderbird, office: true, busyMin: 2, busyMax: 6, sunday: true,
				home:  func(int) addr { return home },
				phone: func() addr { return none(s.in("179.241.0.0/19")) }, phoneC: android})
		}
	}
}

func (s *scenario) write(dir string) error {
	sort.SliceStable(s.lines, func(i, j int) bool {
		if !s.lines[i].t.Equal(s.lines[j].t) {
			return s.lines[i].t.Before(s.lines[j].t)
		}
		return s.lines[i].seq < s.lines[j].seq
	})
	var b strings.Builder
	for _, l := range s.lines {
		if l.t.Before(at(first, 6, 25)) || l.t.After(at(last, 23, 59).Add(59*time.Second)) {
			continue
		}
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	return os.WriteFile(filepath.Join(dir, s.file), []byte(b.String()), 0o644)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: mkscenarios DIR")
		os.Exit(2)
	}
	if err := generate(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "mkscenarios: error:", err)
		os.Exit(1)
	}
}

// generate writes the logs and the zone into dir.
func generate(dir string) error {
	zone := map[string]addr{}
	for i, mk := range scenarios {
		s := mk(uint64(i + 1))
		s.bots()
		if err := s.write(dir); err != nil {
			return err
		}
		for ip, a := range s.zone {
			zone[ip] = a
		}
	}
	return writeZone(filepath.Join(dir, "dns.zone"), zone)
}

// writeZone writes the DNS of the addresses, in dnstest.ParseZone's
// syntax: a PTR for each that has a name, an A for each name that resolves
// (to the address, or for a forged name to the address it really has).
func writeZone(path string, zone map[string]addr) error {
	var ips []netip.Addr
	for ip := range zone {
		ips = append(ips, netip.MustParseAddr(ip))
	}
	sort.Slice(ips, func(i, j int) bool { return ips[i].Less(ips[j]) })
	var b strings.Builder
	b.WriteString("# The reverse and forward DNS of the scenario logs' client addresses\n# (scripts/mkscenarios writes it). An address without a PTR answers NXDOMAIN.\n")
	forward := map[string]bool{}
	for _, ip := range ips {
		a := zone[ip.String()]
		if a.ptr == "" {
			continue
		}
		o := ip.As4()
		fmt.Fprintf(&b, "%d.%d.%d.%d.in-addr.arpa. 3600 IN PTR %s.\n", o[3], o[2], o[1], o[0], a.ptr)
		switch {
		case a.confirmed && !forward[a.ptr]:
			fmt.Fprintf(&b, "%s. 3600 IN A %s\n", a.ptr, a.ip)
		case !a.confirmed && a.forward != "" && !forward[a.ptr]:
			fmt.Fprintf(&b, "%s. 300 IN A %s\n", a.ptr, a.forward)
		}
		forward[a.ptr] = true
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
