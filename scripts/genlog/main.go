// Command genlog writes a synthetic but realistic Postfix maillog in classic
// syslog format, for benchmarks: submission sessions with SASL logins (about
// 5 % of lines), inbound MX deliveries, postscreen, SASL brute force from
// bots, rejects, and TLS and queue-manager chatter. The output is the same for
// the same -seed and -size.
//
//	go run ./scripts/genlog -size 300M > /tmp/maillog
//
// With -population N it writes instead the log of a company's N accounts
// over -days days, centred on logins, where one account in
// -compromised-every has a stolen password; -labels writes the truth about
// each account and -geodb the geo databases of the addresses used (see
// population.go). The same flags give the same bytes.
//
//	go run ./scripts/genlog -population 2000 -days 14 -labels /tmp/labels.tsv -geodb /tmp/geo > /tmp/pop.log
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	size := flag.String("size", "300M", "approximate output size (K, M, G suffixes)")
	seed := flag.Uint64("seed", 1, "random seed")
	users := flag.Int("users", 2000, "number of mail accounts")
	start := flag.String("start", "2025-11-01T00:00:00Z", "time of the first line (with -population: 2026-11-02T00:00:00+01:00, a Monday in Munich)")
	population := flag.Int("population", 0, "write the log of a company's N accounts instead (see -days, -labels, -geodb)")
	days := flag.Int("days", 14, "with -population: days of log")
	every := flag.Int("compromised-every", 50, "with -population: one account in N has a stolen password (0: none)")
	labels := flag.String("labels", "", "with -population: write the truth about each account to FILE (user, label, kind, behaviour; tab-separated)")
	geodb := flag.String("geodb", "", "with -population: write DIR/genlog-city.mmdb and DIR/genlog-asn.mmdb for the addresses used")
	twoClients := flag.Float64("two-clients", 0, "with -population: the share of the people whose computer uses SASL LOGIN (Outlook) whose phone uses PLAIN (0: each person keeps one mechanism)")
	zone := flag.String("tz", "Europe/Berlin", "with -population: the mail server's time zone, in which the log's times are written")
	flag.Parse()
	if *population > 0 {
		startSet := false
		flag.Visit(func(f *flag.Flag) { startSet = startSet || f.Name == "start" })
		s := "2026-11-02T00:00:00+01:00"
		if startSet {
			s = *start
		}
		t0, err := time.Parse(time.RFC3339, s)
		if err != nil || *days < 1 || *days > 365 || *every < 0 {
			fmt.Fprintln(os.Stderr, "genlog: error: -start must be RFC 3339, -days 1 to 365, -compromised-every 0 or more")
			os.Exit(2)
		}
		if _, err := time.LoadLocation(*zone); err != nil {
			fmt.Fprintln(os.Stderr, "genlog: error:", err)
			os.Exit(2)
		}
		err = runPopulation(popConfig{accounts: *population, days: *days, start: t0, seed: *seed, compromised: *every, twoClients: *twoClients,
			labels: *labels, geodb: *geodb, serverZone: *zone, out: bufio.NewWriterSize(os.Stdout, 1<<20), statsTo: os.Stderr})
		if err != nil {
			fmt.Fprintln(os.Stderr, "genlog: error:", err)
			os.Exit(1)
		}
		return
	}
	limit, err := parseSize(*size)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genlog: error:", err)
		os.Exit(2)
	}
	t0, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genlog: error:", err)
		os.Exit(2)
	}
	g := &gen{
		rnd:   rand.New(rand.NewPCG(*seed, 42)),
		w:     bufio.NewWriterSize(os.Stdout, 1<<20),
		t:     t0,
		users: *users,
	}
	for i := 0; i < 3000; i++ {
		g.botnet = append(g.botnet, g.ip())
	}
	for g.written < limit {
		g.episode()
	}
	if err := g.w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "genlog: error:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "genlog: %d lines, %d bytes: %d logins, %d auth failures, %d rejects\n",
		g.lines, g.written, g.logins, g.failures, g.rejects)
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

type gen struct {
	rnd                       *rand.Rand
	w                         *bufio.Writer
	t                         time.Time
	users                     int
	written, lines            int64
	logins, failures, rejects int64
	pid                       int
	buf                       []byte
	homes                     map[int][]string // each account's own addresses
	botnet                    []string
}

const host = "mail"

func (g *gen) line(prog string, pid int, format string, args ...any) {
	g.t = g.t.Add(time.Duration(g.rnd.IntN(900)) * time.Millisecond)
	b := g.t.AppendFormat(g.buf[:0], time.Stamp)
	b = append(b, ' ')
	b = append(b, host...)
	b = append(b, ' ')
	b = append(b, prog...)
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, "]: "...)
	b = fmt.Appendf(b, format, args...)
	b = append(b, '\n')
	g.buf = b
	g.w.Write(b)
	g.written += int64(len(b))
	g.lines++
}

func (g *gen) ip() string {
	return fmt.Sprintf("%d.%d.%d.%d", 1+g.rnd.IntN(222), g.rnd.IntN(256), g.rnd.IntN(256), 1+g.rnd.IntN(254))
}

func (g *gen) ip6() string {
	return fmt.Sprintf("2a02:%x:%x::%x", g.rnd.IntN(0xffff), g.rnd.IntN(0xffff), 1+g.rnd.IntN(0xfff))
}

func (g *gen) qid() string {
	return fmt.Sprintf("%010X", g.rnd.Uint64()&0xffffffffff)
}

func (g *gen) name(ip string) string {
	switch g.rnd.IntN(4) {
	case 0:
		return "unknown"
	case 1:
		return strings.ReplaceAll(ip, ".", "-") + ".dyn.example-isp.net"
	case 2:
		return "mail-" + strconv.Itoa(g.rnd.IntN(99)) + ".outbound.example.com"
	}
	return "host" + strconv.Itoa(g.rnd.IntN(9999)) + ".static.example.org"
}

func (g *gen) user() string { return "user" + strconv.Itoa(g.rnd.IntN(g.users)) + "@example.com" }

func (g *gen) nextPID() int { g.pid = 1000 + (g.pid+7919)%60000; return g.pid }

func (g *gen) episode() {
	// weights chosen so that about 5 % of lines are SASL logins and 1.5 %
	// each are SASL failures and rejects
	switch r := g.rnd.IntN(100); {
	case r < 33:
		g.submission()
	case r < 63:
		g.inbound()
	case r < 73:
		g.bruteForce()
	case r < 83:
		g.reject()
	case r < 90:
		g.postscreen()
	default:
		g.deferred()
	}
}

// loginFrom returns an account and the address it logs in from: each
// account has one to three addresses of its own (home, office, phone); a
// few accounts (1 in 50) have a stolen password and are also used from a
// botnet of a few thousand addresses.
func (g *gen) loginFrom() (user, ip string) {
	n := g.rnd.IntN(g.users)
	user = "user" + strconv.Itoa(n) + "@example.com"
	if n%50 == 7 && g.rnd.IntN(2) == 0 {
		return user, g.botnet[g.rnd.IntN(len(g.botnet))]
	}
	if g.homes == nil {
		g.homes = make(map[int][]string)
	}
	h, ok := g.homes[n]
	if !ok {
		for k := 0; k < 1+g.rnd.IntN(3); k++ {
			if g.rnd.IntN(10) == 0 {
				h = append(h, g.ip6())
			} else {
				h = append(h, g.ip())
			}
		}
		g.homes[n] = h
	}
	return user, h[g.rnd.IntN(len(h))]
}

// submission: an authenticated user sends a message out.
func (g *gen) submission() {
	pid, svc := g.nextPID(), "postfix/submission/smtpd"
	if g.rnd.IntN(4) == 0 {
		svc = "postfix/smtps/smtpd"
	}
	u, ip := g.loginFrom()
	name, q := g.name(ip), g.qid()
	mech := "PLAIN"
	if g.rnd.IntN(3) == 0 {
		mech = "LOGIN"
	}
	g.line(svc, pid, "connect from %s[%s]", name, ip)
	g.line(svc, pid, "Anonymous TLS connection established from %s[%s]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256", name, ip)
	g.line(svc, pid, "%s: client=%s[%s], sasl_method=%s, sasl_username=%s", q, name, ip, mech, u)
	g.logins++
	g.line("postfix/cleanup", g.nextPID(), "%s: message-id=<%x@example.com>", q, g.rnd.Uint64())
	g.line("postfix/qmgr", 900, "%s: from=<%s>, size=%d, nrcpt=1 (queue active)", q, u, 800+g.rnd.IntN(90000))
	g.line("postfix/smtp", g.nextPID(), "Trusted TLS connection established to mx.example.net[%s]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)", g.ip())
	g.line("postfix/smtp", g.pid, "%s: to=<rcpt%d@example.net>, relay=mx.example.net[%s]:25, delay=0.%d, delays=0.1/0/0.2/0.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %s)", q, g.rnd.IntN(9999), g.ip(), g.rnd.IntN(99), g.qid())
	g.line("postfix/qmgr", 900, "%s: removed", q)
	g.line(svc, pid, "disconnect from %s[%s] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8", name, ip)
}

// inbound: an MX delivery to a local mailbox, no SASL.
func (g *gen) inbound() {
	pid, ip := g.nextPID(), g.ip()
	name, q := g.name(ip), g.qid()
	g.line("postfix/smtpd", pid, "connect from %s[%s]", name, ip)
	g.line("postfix/smtpd", pid, "%s: client=%s[%s]", q, name, ip)
	g.line("postfix/cleanup", g.nextPID(), "%s: message-id=<%x@sender.example>", q, g.rnd.Uint64())
	g.line("postfix/qmgr", 900, "%s: from=<news@sender.example>, size=%d, nrcpt=1 (queue active)", q, 2000+g.rnd.IntN(90000))
	g.line("postfix/lmtp", g.nextPID(), "%s: to=<%s>, relay=mail.example.com[private/dovecot-lmtp], delay=0.1, delays=0.05/0.01/0.01/0.03, dsn=2.0.0, status=sent (250 2.0.0 <x> Saved)", q, g.user())
	g.line("postfix/qmgr", 900, "%s: removed", q)
	g.line("postfix/smtpd", pid, "disconnect from %s[%s] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5", name, ip)
}

// bruteForce: a bot guessing passwords.
func (g *gen) bruteForce() {
	pid, ip, svc := g.nextPID(), g.ip(), "postfix/submission/smtpd"
	g.line(svc, pid, "connect from unknown[%s]", ip)
	if g.rnd.IntN(2) == 0 {
		g.line(svc, pid, "warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", ip)
	} else {
		g.line(svc, pid, "warning: unknown[%s]: SASL LOGIN authentication failed: authentication failure, sasl_username=%s", ip, g.user())
	}
	g.failures++
	g.line(svc, pid, "lost connection after AUTH from unknown[%s]", ip)
	g.line(svc, pid, "disconnect from unknown[%s] ehlo=1 auth=0/1 commands=1/2", ip)
}

func (g *gen) reject() {
	pid, ip := g.nextPID(), g.ip()
	g.line("postfix/smtpd", pid, "connect from unknown[%s]", ip)
	if g.rnd.IntN(3) == 0 {
		g.line("postfix/submission/smtpd", pid, "NOQUEUE: reject: RCPT from %s[%s]: 450 4.7.1 <%s>: Recipient address rejected: Quota per hour exceeded; from=<%s> to=<x%d@example.net> proto=ESMTP helo=<[192.168.1.10]>", g.name(ip), ip, "x@example.net", g.user(), g.rnd.IntN(999))
	} else {
		g.line("postfix/smtpd", pid, "NOQUEUE: reject: RCPT from unknown[%s]: 450 4.7.25 Client host rejected: cannot find your hostname, [%s]; from=<spam%d@spam.example> to=<%s> proto=ESMTP helo=<bot>", ip, ip, g.rnd.IntN(999), g.user())
	}
	g.rejects++
	g.line("postfix/smtpd", pid, "disconnect from unknown[%s] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4", ip)
}

// deferred: a message that could not be delivered yet, then bounced.
func (g *gen) deferred() {
	q := g.qid()
	g.line("postfix/qmgr", 900, "%s: from=<%s>, size=%d, nrcpt=1 (queue active)", q, g.user(), 1000+g.rnd.IntN(50000))
	g.line("postfix/smtp", g.nextPID(), "connect to mx.example.invalid[%s]:25: Connection timed out", g.ip())
	g.line("postfix/smtp", g.pid, "%s: to=<x%d@example.invalid>, relay=none, delay=%d, delays=%d/0.01/30/0, dsn=4.4.1, status=deferred (connect to mx.example.invalid[%s]:25: Connection timed out)", q, g.rnd.IntN(999), 30+g.rnd.IntN(9000), g.rnd.IntN(9000), g.ip())
	g.line("postfix/bounce", g.nextPID(), "%s: sender non-delivery notification: %s", q, g.qid())
	g.line("postfix/qmgr", 900, "%s: removed", q)
}

func (g *gen) postscreen() {
	pid, ip := 700, g.ip()
	port := 1024 + g.rnd.IntN(60000)
	g.line("postfix/postscreen", pid, "CONNECT from [%s]:%d to [203.0.113.25]:25", ip, port)
	g.line("postfix/postscreen", pid, "PASS OLD [%s]:%d", ip, port)
	g.line("postfix/dnsblog", g.nextPID(), "addr %s listed by domain zen.spamhaus.org as 127.0.0.4", ip)
}
