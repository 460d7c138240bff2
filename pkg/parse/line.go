package parse

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/loganom/loganom/pkg/record"
)

// Result says what a line was.
type Result int

const (
	NotEvent  Result = iota // not an event: skipped
	Event                   // an event: the record was filled in
	Malformed               // looks like an event but does not parse: counted
)

// LineParser parses single lines. It is not safe for concurrent use (it
// caches the year of the last classic-syslog date); copy it per goroutine.
type LineParser struct {
	// Loc is the zone of timestamps that carry none (classic syslog).
	// Nil means the local zone.
	Loc *time.Location
	// Year, when not zero, is the year of every classic-syslog timestamp.
	Year int
	// Ref is when the log ended (a file's modification time; now for a
	// stream). Classic syslog has no year: each date gets the latest year
	// that does not put it more than a day after Ref, so a log that crosses
	// New Year is dated right. Zero means now.
	Ref time.Time

	cMon  time.Month
	cDay  int
	cYear int
	tab   map[string]string // interned strings
	sb    []byte            // scratch for a record's text
	// borrow lets a record's strings point into sb (see text).
	borrow bool
	// dropOthers says that the record of a failure or a reject is
	// dropped at once (Options.OnlyLogins): it may borrow, as an encoded
	// one does.
	dropOthers bool
	host       lastString
	svc        lastString
	method     lastString // upper case
	cmd        lastString
	hKey       int64          // year, month, day and hour of hBase
	hBase      time.Time      // the last classic-syslog hour seen
	enc        record.Encoder // for the records of this parser's worker
	rec        record.Record  // the record a worker that encodes reuses
	pair       [2]string      // a borrowed record's from and to
	// recs is how many records this parser's last chunk made: the
	// next chunk's first slab of records is about that size.
	recs int
}

// lastString remembers the last few values seen and the strings made of
// them, for values that repeat line after line (a host, the services of a
// few smtpd instances, a mechanism or two).
type lastString struct {
	raw, s [4]string
	next   int
}

func (c *lastString) get(p *LineParser, b []byte, conv func([]byte) string) string {
	if len(b) == 0 {
		return ""
	}
	for i := range c.raw {
		if string(b) == c.raw[i] {
			return c.s[i]
		}
	}
	i := c.next
	c.next = (i + 1) % len(c.raw)
	c.raw[i], c.s[i] = p.intern(b), conv(b)
	return c.s[i]
}

func (p *LineParser) loc() *time.Location {
	if p.Loc == nil {
		return time.Local
	}
	return p.Loc
}

func (p *LineParser) yearFor(mon time.Month, day int) int {
	if p.Year != 0 {
		return p.Year
	}
	if p.cYear != 0 && mon == p.cMon && day == p.cDay {
		return p.cYear
	}
	ref := p.Ref
	if ref.IsZero() {
		ref = time.Now()
	}
	limit := ref.Add(24 * time.Hour)
	y := ref.Year() + 1
	for ; y > ref.Year()-8; y-- {
		t := time.Date(y, mon, day, 0, 0, 0, 0, p.loc())
		if t.Month() != mon || t.Day() != day {
			continue // Feb 29 of a year that has none
		}
		if !t.After(limit) {
			break
		}
	}
	p.cMon, p.cDay, p.cYear = mon, day, y
	return y
}

// Parse parses one line (without its newline) into r. It returns Event when
// r was filled in, NotEvent for the many lines that are not login events, and
// Malformed, with a reason, for a line that looks like an event but does not
// parse. It never panics, whatever the bytes.
func (p *LineParser) Parse(line []byte, r *record.Record) (res Result, why string) {
	borrow := p.borrow // set for a failure or a reject, with dropOthers
	defer func() {
		// The fuzz tests look for panics; should one still hide here, it
		// costs one line, not the run.
		if e := recover(); e != nil {
			p.borrow = borrow
			*r = record.Record{}
			res, why = Malformed, fmt.Sprintf("internal error: %v", e)
		}
	}()
	line = bytes.TrimRight(line, "\r")
	var h header
	if !p.header(line, &h) {
		if looksLikeEvent(line) {
			return Malformed, "unrecognised line format"
		}
		return NotEvent, ""
	}
	// The program is "postfix/smtpd", "postfix-in/submission/smtpd",
	// "postfix/postscreen"; but rsyslog's RFC 5424 templates, and some
	// classic ones, cut it at the first '/': "postfix", "postfix-in". A
	// program without a '/' may be any daemon, and the message alone tells.
	// A program named in full that is neither smtpd nor postscreen logs no
	// event (cleanup's "reject: header …" is about content, not a client).
	prog := h.prog
	named := false
	if i := bytes.LastIndexByte(prog, '/'); i >= 0 {
		prog, named = prog[i+1:], true
	}
	smtpd := string(prog) == "smtpd"
	anyProg := false // whatever the name: by the message
	if !smtpd && string(prog) != "postscreen" {
		if named {
			return NotEvent, ""
		}
		anyProg = true
	}
	msg := h.msg
	if (smtpd || anyProg) && bytes.HasPrefix(msg, []byte("warning: ")) {
		p.borrow = borrow || p.dropOthers
		res, why = p.parseFailure(msg, r)
	} else {
		// "QUEUEID: client=…" or "QUEUEID: reject: …"
		c := bytes.IndexByte(msg, ':')
		if c < 0 {
			return NotEvent, ""
		}
		switch rest := msg[c:]; {
		case (smtpd || anyProg) && bytes.HasPrefix(rest, clientMark):
			res, why = p.parseLogin(msg[:c], rest[len(clientMark):], r)
		case bytes.HasPrefix(rest, rejectMark):
			p.borrow = borrow || p.dropOthers
			res, why = p.parseReject(msg[:c], rest[len(rejectMark):], anyProg, r)
		default:
			return NotEvent, ""
		}
	}
	if res != Event {
		p.borrow = borrow
		return res, why
	}
	if len(line) > MaxEventLine {
		p.borrow = borrow
		*r = record.Record{}
		return Malformed, tooLongEvent
	}
	if bytes.IndexByte(line, 0) >= 0 {
		// Postfix writes a NUL as '?': this line was written by
		// something else, and a NUL in a name is refused by
		// PostgreSQL's text (every run after would fail to record)
		p.borrow = borrow
		*r = record.Record{}
		return Malformed, "NUL byte in an event line (Postfix writes none)"
	}
	r.Time = h.t
	r.Host = p.host.get(p, h.host, p.internText)
	r.Service = p.svc.get(p, h.prog, p.internText)
	r.PID = h.pid
	// The text of a record is made valid UTF-8, as the next stage would
	// read it from the pipe: p.sb holds all of it but the host and the
	// program (made valid above) and the mechanism and command (checked).
	// A borrowing parser's record is encoded at once, and the encoder
	// writes what validText would make.
	if !p.borrow && !ascii(p.sb) {
		validText(r)
	}
	p.borrow = borrow
	return Event, ""
}

// MaxEventLine is the longest line that gives a record: a longer one that
// holds an event is counted as malformed. No Postfix event comes near it
// (syslog daemons cut messages at 8 KiB or so), and it bounds the record
// that loganom-parse writes: in JSON, each byte of the line may take six
// (\u0001; \ufffd for a byte that is not UTF-8), and so may each byte of
// the file name (PATH_MAX, 4 KiB), which makes at most 6 × 68 KiB and a few
// hundred bytes, well under the record.MaxLine (1 MiB) that the next stage
// reads, with room for the fields it adds.
const MaxEventLine = 64 << 10

var tooLongEvent = fmt.Sprintf("event line longer than %d bytes", MaxEventLine)

// validText makes every string of r valid UTF-8, each byte that is not
// becoming U+FFFD, as record.Encoder writes it: the record that an
// in-process stage gets is then the same as the one a stage behind a pipe
// decodes, and both are written alike.
func validText(r *record.Record) {
	for _, s := range [...]*string{&r.Host, &r.Service, &r.QueueID, &r.User, &r.IP, &r.ClientName,
		&r.Method, &r.Sender, &r.Command, &r.Reason, r.From, r.To} {
		if s != nil && !utf8.ValidString(*s) {
			*s = toValidUTF8(*s)
		}
	}
}

// toValidUTF8 replaces each byte of s that is not part of valid UTF-8 with
// U+FFFD (strings.ToValidUTF8 replaces a run of them with one).
func toValidUTF8(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// looksLikeEvent is true for lines that carry one of the markers of a login,
// failure or reject.
func looksLikeEvent(line []byte) bool {
	return bytes.Contains(line, []byte("sasl_username=")) ||
		bytes.Contains(line, []byte("SASL ")) && bytes.Contains(line, []byte(" authentication failed")) ||
		bytes.Contains(line, []byte(": reject: "))
}

var (
	clientMark = []byte(": client=")
	rejectMark = []byte(": reject: ")
)

// parseLogin parses
// "QID: client=NAME[ADDR], sasl_method=M, sasl_username=U[, sasl_sender=S][, orig_queue_id=Q][, orig_client=C]".
func (p *LineParser) parseLogin(qidb, rest []byte, r *record.Record) (Result, string) {
	name, ip, port, after, ok := namaddr(rest)
	// The usual layout, ", sasl_method=M, sasl_username=U…", is taken
	// straight; anything else goes the long way below.
	if ok && loginFastPath && bytes.HasPrefix(after, []byte(", sasl_method=")) {
		m := after[len(", sasl_method="):]
		if c := bytes.IndexByte(m, ','); c > 0 && isMechanism(m[:c]) && bytes.HasPrefix(m[c:], []byte(", sasl_username=")) {
			return p.login(qidb, name, ip, port, m[:c], m[c+len(", "):], r)
		}
	}
	sasl := bytes.Contains(rest, []byte("sasl_username="))
	switch {
	case !sasl:
		return NotEvent, "" // a client= line without SASL: not a login
	case !ok:
		return Malformed, "bad client address"
	case !bytes.HasPrefix(after, []byte(", ")):
		return Malformed, "bad login fields"
	}
	if _, ok := queueID(qidb); !ok {
		return Malformed, "bad queue id"
	}
	f := after[2:]
	var method []byte
	if bytes.HasPrefix(f, []byte("sasl_method=")) {
		i := bytes.Index(f, []byte(", sasl_username="))
		if i < 0 {
			return Malformed, "bad login fields"
		}
		method, f = f[len("sasl_method="):i], f[i+2:]
		if !isMechanism(method) {
			return Malformed, "bad SASL mechanism"
		}
	}
	return p.login(qidb, name, ip, port, method, f, r)
}

// login fills in r from the parts of a login line; f is
// "sasl_username=U[, sasl_sender=S][, orig_queue_id=Q][, orig_client=C]".
func (p *LineParser) login(qidb, name []byte, ip addr, port int, method, f []byte, r *record.Record) (Result, string) {
	qid, ok := queueID(qidb)
	if !ok {
		return Malformed, "bad queue id"
	}
	// Postfix writes sasl_sender, orig_queue_id and orig_client after
	// sasl_username, in that order; the user name ends where the first of
	// them starts (a name such as "Doe, John" stays whole).
	var sender []byte
	if i := afterFields(f); i >= 0 {
		tail := f[i:]
		f = f[:i]
		if bytes.HasPrefix(tail, []byte(", sasl_sender=")) {
			sender = tail[len(", sasl_sender="):]
			if j := afterFields(sender); j >= 0 {
				sender = sender[:j]
			}
		}
	}
	if !bytes.HasPrefix(f, []byte("sasl_username=")) {
		return Malformed, "bad login fields"
	}
	user := f[len("sasl_username="):]
	if len(user) == 0 {
		return Malformed, "empty sasl_username"
	}
	p.sb = p.sb[:0]
	su, sq, sn, ss := p.put(user), p.put(qid), p.put(name), p.put(sender)
	si := p.putIP(ip)
	all := p.text()
	r.Type = record.TypeLogin
	r.User = su.of(all)
	r.QueueID = sq.of(all)
	r.IP = si.of(all)
	r.ClientName = sn.of(all)
	r.Port = port
	r.Method = p.method.get(p, method, p.upperIntern)
	r.Sender = ss.of(all)
	return Event, ""
}

// loginFastPath is turned off by tests, to check that both ways agree.
var loginFastPath = true

// afterFields returns the index in f of the first ", key=" of the fields
// that follow sasl_username, or -1.
func afterFields(f []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(f[i:], ',')
		if j < 0 {
			return -1
		}
		i += j
		t := f[i:]
		if bytes.HasPrefix(t, []byte(", sasl_sender=")) || bytes.HasPrefix(t, []byte(", orig_queue_id=")) || bytes.HasPrefix(t, []byte(", orig_client=")) {
			return i
		}
		i++
	}
}

// text returns the record's text as one string. With borrow set (by a
// worker that encodes each record at once and then clears it), the string
// shares p.sb's memory instead of copying it: no allocation, but the
// record's strings are only valid until the next Parse.
func (p *LineParser) text() string {
	if p.borrow && len(p.sb) > 0 {
		return unsafe.String(&p.sb[0], len(p.sb))
	}
	return string(p.sb)
}

// span is a piece of the one string that holds all of a record's text.
// A borrowing parser's span is the line's own bytes, not a copy.
type span struct {
	a, b     int
	borrowed string
}

func (s span) of(all string) string {
	if s.borrowed != "" {
		return s.borrowed
	}
	return all[s.a:s.b]
}

func (p *LineParser) put(b []byte) span {
	if p.borrow && len(b) > 0 {
		return span{borrowed: unsafe.String(&b[0], len(b))}
	}
	a := len(p.sb)
	p.sb = append(p.sb, b...)
	return span{a: a, b: len(p.sb)}
}

func (p *LineParser) putIP(ip addr) span {
	if ip.text != nil {
		return p.put(ip.text)
	}
	a := len(p.sb)
	p.sb = ip.ip.AppendTo(p.sb)
	return span{a: a, b: len(p.sb)}
}

// internText is intern for the host and the program, which journald may
// give as bytes of any kind: they are made valid UTF-8.
func (p *LineParser) internText(b []byte) string {
	if !ascii(b) && !utf8.Valid(b) {
		return toValidUTF8(string(b))
	}
	return p.intern(b)
}

// ascii reports whether b is all ASCII, 32 bytes at a time.
func ascii(b []byte) bool {
	n := len(b)
	if n < 8 {
		var x byte
		for _, c := range b {
			x |= c
		}
		return x < utf8.RuneSelf
	}
	x0 := binary.LittleEndian.Uint64(b[n-8:]) // the last eight, which the loops may leave
	var x1 uint64
	for len(b) >= 32 {
		c := b[:32]
		x0 |= binary.LittleEndian.Uint64(c[0:8]) | binary.LittleEndian.Uint64(c[16:24])
		x1 |= binary.LittleEndian.Uint64(c[8:16]) | binary.LittleEndian.Uint64(c[24:32])
		b = b[32:]
	}
	for len(b) >= 8 {
		x0 |= binary.LittleEndian.Uint64(b[:8])
		b = b[8:]
	}
	return (x0|x1)&0x8080808080808080 == 0
}

// parseFailure parses
// "warning: NAME[ADDR]: SASL M authentication failed: REASON[, sasl_username=U]".
func (p *LineParser) parseFailure(msg []byte, r *record.Record) (Result, string) {
	s := msg[len("warning: "):]
	sasl := bytes.Index(s, []byte(": SASL "))
	failed := bytes.Index(s, []byte(" authentication failed"))
	if sasl < 0 || failed < sasl {
		return NotEvent, "" // another warning
	}
	name, ip, port, after, ok := namaddr(s)
	if !ok || !bytes.HasPrefix(after, []byte(": SASL ")) {
		return Malformed, "bad client address"
	}
	after = after[len(": SASL "):]
	mi := bytes.Index(after, []byte(" authentication failed"))
	if mi < 0 {
		return Malformed, "bad SASL failure line"
	}
	method := after[:mi]
	if !isMechanism(method) {
		return Malformed, "bad SASL mechanism"
	}
	reason := after[mi+len(" authentication failed"):]
	reason = bytes.TrimPrefix(reason, []byte(":"))
	reason = bytes.TrimSpace(reason)
	var user []byte
	if i := lastIndex(reason, ", sasl_username="); i >= 0 {
		reason, user = reason[:i], reason[i+len(", sasl_username="):]
	} else if bytes.HasPrefix(reason, []byte("sasl_username=")) {
		reason, user = nil, reason[len("sasl_username="):]
	}
	p.sb = p.sb[:0]
	su, sn, sr, si := p.put(user), p.put(name), p.put(reason), p.putIP(ip)
	all := p.text()
	r.Type = record.TypeAuthFailure
	r.User = su.of(all)
	r.IP = si.of(all)
	r.ClientName = sn.of(all)
	r.Port = port
	r.Method = p.method.get(p, method, p.upperIntern)
	r.Reason = sr.of(all)
	return Event, ""
}

// parseReject parses
// "QID: reject: CMD from NAME[ADDR]: REASON; from=<F> to=<T> proto=P helo=<H>"
// and postscreen's variant with commas between the trailing fields. From a
// program that may not be smtpd or postscreen (anyProg), a reject without
// an SMTP command is another daemon's (cleanup's "reject: header …"), not
// an event.
func (p *LineParser) parseReject(qidb, s []byte, anyProg bool, r *record.Record) (Result, string) {
	qid, ok := queueID(qidb)
	if !ok {
		return NotEvent, "" // not a queue id: some other text with "reject: " in it
	}
	sp := bytes.Index(s, []byte(" from "))
	if sp <= 0 || !isCommand(s[:sp]) {
		if anyProg {
			return NotEvent, ""
		}
		return Malformed, "bad reject command"
	}
	cmd := s[:sp]
	name, ip, port, after, ok := namaddr(s[sp+len(" from "):])
	if !ok || !bytes.HasPrefix(after, []byte(": ")) {
		return Malformed, "bad client address"
	}
	tail := after[2:]
	// helo=<…> comes last and is the client's own text: cut it off first.
	if i := lastIndex(tail, " helo=<"); i >= 0 {
		tail = tail[:i]
	}
	reason := tail
	var from, to []byte
	hasFrom, hasTo := false, false
	cut := lastIndex(tail, "; from=<")
	if cut < 0 {
		cut = lastIndex(tail, "; to=<")
	}
	if cut < 0 {
		cut = lastIndex(tail, "; proto=")
	}
	if cut >= 0 {
		reason = tail[:cut]
		trailer := tail[cut+2:]
		from, hasFrom = angleField(trailer, "from=<")
		to, hasTo = angleField(trailer, "to=<")
	}
	p.sb = p.sb[:0]
	sq, sn, sr, si := p.put(qid), p.put(name), p.put(bytes.TrimSpace(reason)), p.putIP(ip)
	sf, st := p.put(from), p.put(to)
	all := p.text()
	r.Type = record.TypeReject
	r.QueueID = sq.of(all)
	r.IP = si.of(all)
	r.ClientName = sn.of(all)
	r.Port = port
	r.Command = p.cmd.get(p, cmd, p.intern)
	r.Reason = sr.of(all)
	if hasFrom || hasTo {
		pair := &p.pair // borrowed, like the strings
		if !p.borrow {
			pair = new([2]string) // one allocation for both
		}
		if hasFrom {
			pair[0] = sf.of(all)
			r.From = &pair[0]
		}
		if hasTo {
			pair[1] = st.of(all)
			r.To = &pair[1]
		}
	}
	return Event, ""
}

// lastIndex is bytes.LastIndex for the short separators above, which sit
// near the end of a line: a backward search for the first byte, where
// bytes.LastIndex hashes its way from the end.
func lastIndex(s []byte, sep string) int {
	for i := len(s) - len(sep); i >= 0; i-- {
		if s[i] == sep[0] && string(s[i:i+len(sep)]) == sep {
			return i
		}
	}
	return -1
}

// angleField finds key (e.g. "from=<") at the start of s or after a space
// and returns the value up to the '>' that ends it.
func angleField(s []byte, key string) ([]byte, bool) {
	i := 0
	for {
		j := bytes.Index(s[i:], []byte(key))
		if j < 0 {
			return nil, false
		}
		j += i
		if j == 0 || s[j-1] == ' ' {
			i = j + len(key)
			break
		}
		i = j + 1
	}
	v := s[i:]
	for k := 0; k < len(v); k++ {
		if v[k] == '>' && (k+1 == len(v) || v[k+1] == ' ' || v[k+1] == ',') {
			return v[:k], true
		}
	}
	return nil, false
}

// isMechanism checks a SASL mechanism name (RFC 4422: up to 20 letters,
// digits, hyphens and underscores; Postfix logs it in any case).
func isMechanism(s []byte) bool {
	for _, c := range s {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || isDigit(c) || c == '-' || c == '_') {
			return false
		}
	}
	return len(s) > 0 && len(s) <= 20
}

func isCommand(s []byte) bool {
	for _, c := range s {
		if !('A' <= c && c <= 'Z' || c == '-') {
			return false
		}
	}
	return len(s) > 0 && len(s) < 20
}

// queueID checks a Postfix queue id (short hex or long form) or NOQUEUE,
// which becomes "".
func queueID(s []byte) ([]byte, bool) {
	if string(s) == "NOQUEUE" {
		return nil, true
	}
	if len(s) < 5 || len(s) > 32 {
		return nil, false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return nil, false
		}
	}
	return s, true
}

// namaddr parses "name[addr]" or "name[addr]:port" (or "[addr]:port" as
// postscreen logs it) at the start of s and returns what follows. The
// address comes parsed, and as written when that is already its canonical
// text (a dotted quad without leading zeros), so that it need not be
// formatted again.
func namaddr(s []byte) (name []byte, ip addr, port int, rest []byte, ok bool) {
	lb := bytes.IndexByte(s, '[')
	if lb < 0 {
		return nil, ip, 0, nil, false
	}
	rb := bytes.IndexByte(s[lb:], ']')
	if rb < 0 {
		return nil, ip, 0, nil, false
	}
	rb += lb
	name = s[:lb]
	if bytes.IndexByte(name, ' ') >= 0 {
		return nil, ip, 0, nil, false
	}
	if ip.ip, ok = parseIPv4(s[lb+1 : rb]); ok {
		ip.text = s[lb+1 : rb]
	} else {
		a, err := netip.ParseAddr(string(s[lb+1 : rb]))
		if err != nil {
			return nil, ip, 0, nil, false
		}
		ip.ip = a.Unmap()
	}
	rest = s[rb+1:]
	if len(rest) > 1 && rest[0] == ':' && isDigit(rest[1]) {
		i := 1
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
		n, ok := atoi(rest[1:i])
		if !ok || n > 65535 {
			return nil, ip, 0, nil, false
		}
		port, rest = n, rest[i:]
	}
	return name, ip, port, rest, true
}

// addr is a client address, with its canonical text when the log had it so.
type addr struct {
	ip   netip.Addr
	text []byte
}

// parseIPv4 parses a dotted quad without allocating; anything else is left
// to netip.ParseAddr.
func parseIPv4(s []byte) (netip.Addr, bool) {
	var a [4]byte
	k, n, digits := 0, 0, 0
	for _, c := range s {
		switch {
		case isDigit(c):
			if digits > 0 && n == 0 {
				return netip.Addr{}, false // leading zero
			}
			n = n*10 + int(c-'0')
			digits++
			if n > 255 {
				return netip.Addr{}, false
			}
		case c == '.' && digits > 0 && k < 3:
			a[k] = byte(n)
			k, n, digits = k+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if k != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	a[3] = byte(n)
	return netip.AddrFrom4(a), true
}

// intern returns a shared string for the few values that repeat on every
// line (host, service, mechanism, command), so that they are not allocated
// again and again. The table is bounded.
func (p *LineParser) intern(b []byte) string {
	s, ok := p.tab[string(b)]
	if !ok {
		s = string(b)
		if p.tab == nil {
			p.tab = make(map[string]string)
		}
		if len(p.tab) < 4096 {
			p.tab[s] = s
		}
	}
	return s
}

func (p *LineParser) upperIntern(b []byte) string {
	var buf [32]byte
	if len(b) > len(buf) {
		return string(bytes.ToUpper(b))
	}
	upper := true
	for _, c := range b {
		if 'a' <= c && c <= 'z' {
			upper = false
			break
		}
	}
	if upper {
		return p.intern(b)
	}
	u := buf[:len(b)]
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		u[i] = c
	}
	return p.intern(u)
}
