package parse

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// header is the syslog envelope of one line.
type header struct {
	t    time.Time
	host []byte
	prog []byte
	pid  int
	msg  []byte
}

// header recognises the line format from its first bytes: classic BSD syslog
// (what Postfix's own maillog_file writes too), RFC 3339 timestamps
// (rsyslog's high-precision format), RFC 5424, and journald JSON export.
func (p *LineParser) header(line []byte, h *header) bool {
	if len(line) == 0 {
		return false
	}
	if line[0] == '{' {
		return p.journal(line, h)
	}
	rest := line
	if rest[0] == '<' { // a priority, as in RFC 5424 or raw syslog
		i := 1
		for i < len(rest) && i < 5 && isDigit(rest[i]) {
			i++
		}
		if i == 1 || i >= len(rest) || rest[i] != '>' {
			return false
		}
		rest = rest[i+1:]
		if len(rest) > 2 && rest[0] == '1' && rest[1] == ' ' {
			return p.rfc5424(rest[2:], h)
		}
	}
	if len(rest) > 4 && isDigit(rest[0]) && isDigit(rest[3]) && rest[4] == '-' {
		sp := bytes.IndexByte(rest, ' ')
		if sp < 0 {
			return false
		}
		t, ok := p.rfc3339(rest[:sp])
		if !ok {
			return false
		}
		h.t = t
		return tagAndMessage(rest[sp+1:], h)
	}
	t, n, ok := p.classicTime(rest)
	if !ok {
		return false
	}
	h.t = t
	return tagAndMessage(rest[n:], h)
}

// tagAndMessage parses "host prog[pid]: message".
func tagAndMessage(s []byte, h *header) bool {
	sp := bytes.IndexByte(s, ' ')
	if sp <= 0 {
		return false
	}
	h.host = s[:sp]
	s = s[sp+1:]
	sp = bytes.IndexByte(s, ' ')
	var tag []byte
	if sp < 0 {
		tag, h.msg = s, nil
	} else {
		tag, h.msg = s[:sp], s[sp+1:]
	}
	if len(tag) < 2 || tag[len(tag)-1] != ':' {
		return false
	}
	tag = tag[:len(tag)-1]
	h.pid = 0
	if tag[len(tag)-1] == ']' {
		lb := bytes.LastIndexByte(tag, '[')
		if lb <= 0 {
			return false
		}
		pid, ok := atoi(tag[lb+1 : len(tag)-1])
		if !ok {
			return false
		}
		h.pid, tag = pid, tag[:lb]
	}
	h.prog = tag
	return true
}

// month returns the month of an English abbreviation ("Jan"), or 0.
func month(s []byte) time.Month {
	const names = "JanFebMarAprMayJunJulAugSepOctNovDec"
	for m := 0; m < 12; m++ {
		if s[0] == names[3*m] && s[1] == names[3*m+1] && s[2] == names[3*m+2] {
			return time.Month(m + 1)
		}
	}
	return 0
}

// classicTime parses "Mmm dd hh:mm:ss[.frac] " (day space- or zero-padded,
// or not padded at all) and returns the time and the bytes consumed.
func (p *LineParser) classicTime(s []byte) (time.Time, int, bool) {
	if len(s) < 15 || s[3] != ' ' {
		return time.Time{}, 0, false
	}
	mon := month(s)
	if mon == 0 {
		return time.Time{}, 0, false
	}
	i := 4
	if s[i] == ' ' {
		i++
	}
	day := 0
	for j := 0; j < 2 && i < len(s) && isDigit(s[i]); j++ {
		day = day*10 + int(s[i]-'0')
		i++
	}
	if day < 1 || day > 31 || i+9 > len(s) || s[i] != ' ' {
		return time.Time{}, 0, false
	}
	i++
	c := s[i : i+8]
	if c[2] != ':' || c[5] != ':' || !isDigit(c[0]) || !isDigit(c[1]) || !isDigit(c[3]) || !isDigit(c[4]) || !isDigit(c[6]) || !isDigit(c[7]) {
		return time.Time{}, 0, false
	}
	hh := int(c[0]-'0')*10 + int(c[1]-'0')
	mm := int(c[3]-'0')*10 + int(c[4]-'0')
	ss := int(c[6]-'0')*10 + int(c[7]-'0')
	if hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, 0, false
	}
	i += 8
	nsec := 0
	if i < len(s) && s[i] == '.' {
		i++
		scale := 100000000
		for i < len(s) && isDigit(s[i]) {
			nsec += int(s[i]-'0') * scale
			scale /= 10
			i++
		}
	}
	if i >= len(s) || s[i] != ' ' {
		return time.Time{}, 0, false
	}
	year := p.yearFor(mon, day)
	// time.Date is slow; within one hour (the unit of every zone change in
	// practice) the time is that hour plus minutes and seconds.
	key := int64(year)<<24 | int64(mon)<<16 | int64(day)<<8 | int64(hh)
	if key != p.hKey || p.hBase.IsZero() {
		p.hKey, p.hBase = key, time.Date(year, mon, day, hh, 0, 0, 0, p.loc())
	}
	t := p.hBase.Add(time.Duration(mm*60+ss)*time.Second + time.Duration(nsec))
	return t, i + 1, true
}

// rfc3339 parses an RFC 3339 timestamp; one without a zone is in p.Loc.
func (p *LineParser) rfc3339(s []byte) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, string(s)); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", string(s), p.loc()); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// rfc5424 parses "TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG" (after
// "<PRI>1 ").
func (p *LineParser) rfc5424(s []byte, h *header) bool {
	var f [5][]byte
	for k := range f {
		sp := bytes.IndexByte(s, ' ')
		if sp <= 0 {
			return false
		}
		f[k], s = s[:sp], s[sp+1:]
	}
	if string(f[0]) == "-" {
		return false // an event without a time is of no use
	}
	t, ok := p.rfc3339(f[0])
	if !ok {
		return false
	}
	h.t, h.host, h.prog, h.pid = t, f[1], f[2], 0
	if string(h.prog) == "-" {
		h.prog = nil // the NILVALUE: no program named
	}
	if string(f[3]) != "-" {
		h.pid, _ = atoi(f[3])
	}
	// structured data: "-" or one or more [id param="value" ...]
	switch {
	case len(s) > 0 && s[0] == '-':
		s = s[1:]
	case len(s) > 0 && s[0] == '[':
		for len(s) > 0 && s[0] == '[' {
			end := sdEnd(s)
			if end < 0 {
				return false
			}
			s = s[end+1:]
		}
	default:
		return false
	}
	if len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	h.msg = bytes.TrimPrefix(s, []byte("\xef\xbb\xbf"))
	return true
}

// sdEnd returns the index of the ']' closing the SD-ELEMENT at s[0].
func sdEnd(s []byte) int {
	inQuote := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case ']':
			if !inQuote {
				return i
			}
		}
	}
	return -1
}

// journalEntry holds the fields of `journalctl -o json` that matter here.
// Each may be a string, an array of bytes (for values that are not valid
// text), or an array of strings (a field given more than once).
type journalEntry struct {
	Message    json.RawMessage `json:"MESSAGE"`
	Identifier json.RawMessage `json:"SYSLOG_IDENTIFIER"`
	PID        json.RawMessage `json:"_PID"`
	SyslogPID  json.RawMessage `json:"SYSLOG_PID"`
	Hostname   json.RawMessage `json:"_HOSTNAME"`
	Realtime   json.RawMessage `json:"__REALTIME_TIMESTAMP"`
}

func (p *LineParser) journal(line []byte, h *header) bool {
	var e journalEntry
	if err := json.Unmarshal(line, &e); err != nil {
		return false
	}
	msg, ok1 := journalValue(e.Message)
	prog, ok2 := journalValue(e.Identifier)
	ts, ok3 := journalValue(e.Realtime)
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	us, err := strconv.ParseInt(string(ts), 10, 64)
	if err != nil {
		return false
	}
	h.t = time.UnixMicro(us).In(p.loc())
	h.msg, h.prog = msg, prog
	h.host, _ = journalValue(e.Hostname)
	pid, ok := journalValue(e.SyslogPID)
	if !ok {
		pid, _ = journalValue(e.PID)
	}
	h.pid, _ = atoi(pid)
	return true
}

// journalValue decodes a journald JSON field: a string, an array of byte
// values, or an array of strings (of which the first is taken).
func journalValue(raw json.RawMessage) ([]byte, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return []byte(s), true
	case '[':
		var b []byte
		var nums []int
		if json.Unmarshal(raw, &nums) == nil {
			for _, n := range nums {
				if n < 0 || n > 255 {
					return nil, false
				}
				b = append(b, byte(n))
			}
			return b, true
		}
		var strs []json.RawMessage
		if json.Unmarshal(raw, &strs) == nil && len(strs) > 0 {
			return journalValue(strs[0])
		}
	case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return raw, true
	}
	return nil, false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// atoi parses a small non-negative decimal number.
func atoi(s []byte) (int, bool) {
	if len(s) == 0 || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
