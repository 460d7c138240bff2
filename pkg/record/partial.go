package record

import (
	"bytes"
	"unicode/utf8"
	"unsafe"
)

// A partial reading decodes, of a record, only type, ip and the fields that
// loganom-enrich adds (rdns … org, enrich_errors, filtered_by): the others
// are left as they were read, in the line, and written back from it. It is
// for a stage that reads nothing else and changes nothing else (see
// EnrichOnly), and only for a line written as AppendJSON writes it (as
// loganom-parse and loganom-enrich write their records): the line is then
// the same bytes that decoding and encoding it would give. Any other line
// is decoded whole, as Decode does, errors included.

// EnrichOnly is implemented by a stage that reads no field of a record but
// Type, IP and the enrich fields (RDNS, RDNSVerified, Country, City, HasLoc, Lat,
// Lon, AccuracyKM, ASN, Org, EnrichErrors, FilteredBy), and changes no other
// field: records for it alone may be read partially (ReaderSource.Partial).
type EnrichOnly interface {
	EnrichOnly()
}

// rawLine is the line of a record read partially. Its head (the fields
// before the enrich ones, of which ip) and its tail (src and the unknown
// fields) are written back from it.
type rawLine struct {
	line []byte
	// headEnd is the index of the ',' or '}' that ends the head's last
	// field; 0 when there is none.
	headEnd int
	// tailAt is the index of the '{' or ',' before the tail's first
	// field; -1 when there is none.
	tailAt int
	// batch, when not nil, is where line and the record are kept: it
	// is used again once all its records are written (written).
	batch *inBatch
}

// Ranks of the known keys, in the order AppendJSON writes them.
const (
	rankEnrich = 16 // rdns, the first of the enrich fields
	rankSrc    = 27
	rankExtra  = 28
)

// keyRank returns the rank of a known key, or rankExtra.
func keyRank(key []byte) int {
	switch string(key) {
	case "type":
		return 0
	case "time":
		return 1
	case "host":
		return 2
	case "service":
		return 3
	case "pid":
		return 4
	case "queue_id":
		return 5
	case "user":
		return 6
	case "ip":
		return 7
	case "client_name":
		return 8
	case "port":
		return 9
	case "method":
		return 10
	case "sender":
		return 11
	case "from":
		return 12
	case "to":
		return 13
	case "command":
		return 14
	case "reason":
		return 15
	case "rdns":
		return 16
	case "rdns_verified":
		return 17
	case "country":
		return 18
	case "city":
		return 19
	case "lat":
		return 20
	case "lon":
		return 21
	case "accuracy_km":
		return 22
	case "asn":
		return 23
	case "org":
		return 24
	case "enrich_errors":
		return 25
	case "filtered_by":
		return 26
	case "src":
		return 27
	}
	return rankExtra
}

var enrichKeys = [...]string{"rdns", "rdns_verified", "country", "city", "lat", "lon", "accuracy_km", "asn", "org", "enrich_errors", "filtered_by"}

// decodePartial reads line partially into r, a zero Record, with raw for
// its line, and reports whether it could; when not, r is to be zeroed and
// line decoded whole. line must outlive r.
func decodePartial(line []byte, r *Record, raw *rawLine) bool {
	n := len(line)
	if n < 2 || line[0] != '{' || line[n-1] != '}' {
		return false
	}
	*raw = rawLine{line: line, tailAt: -1, batch: raw.batch}
	if n == 2 {
		r.raw = raw
		return true
	}
	// A line of ASCII without escapes or control characters (the usual
	// one) has only plain strings, each ending at the next quote.
	simple := simpleASCII(line)
	skipStr := func(i int) (int, bool) {
		if simple {
			for j := i + 1; j < n; j++ {
				if line[j] == '"' {
					return j + 1, true
				}
			}
			return 0, false
		}
		return plainString(line, i)
	}
	d := decoder{s: line}
	var extras [8][]byte
	nx := 0
	rank := -1
	for i := 1; ; {
		p := i - 1 // the '{' or ',' before the field
		if line[i] != '"' {
			return false
		}
		kend, ok := skipStr(i)
		if !ok {
			return false
		}
		key := line[i+1 : kend-1]
		if kend >= n || line[kend] != ':' {
			return false
		}
		vstart := kend + 1
		if vstart >= n {
			return false
		}
		// A string is checked as AppendJSON writes it; every string
		// of the head and the tail is written back as read.
		str := line[vstart] == '"'
		if str {
			end, ok := skipStr(vstart)
			if !ok {
				return false
			}
			d.i = end
		} else {
			d.i = vstart
			if d.skipValue() != nil {
				return false
			}
		}
		v := line[vstart:d.i]
		k := keyRank(key)
		if k < rank || k == rank && k != rankExtra {
			return false // not in AppendJSON's order, or given twice
		}
		if k >= rankEnrich && rank < rankEnrich && rank >= 0 {
			raw.headEnd = p
		}
		if k >= rankSrc && raw.tailAt < 0 {
			raw.tailAt = p
		}
		rank = k
		switch {
		case k < rankEnrich:
			if !canonHead(k, v, r) {
				return false
			}
		case k < rankSrc:
			if r.assign(&d, enrichKeys[k-rankEnrich], vstart, d.i) != nil {
				return false
			}
		case k == rankSrc:
			if !str || !canonSrc(v) {
				return false
			}
		default:
			if !safeASCII(key) || nx == len(extras) {
				return false
			}
			for _, x := range extras[:nx] {
				if bytes.Equal(x, key) {
					return false
				}
			}
			extras[nx] = key
			nx++
			if (v[0] == '{' || v[0] == '[') && !validComposite(v) {
				return false
			}
		}
		i = d.i
		if i >= n {
			return false
		}
		if line[i] == '}' {
			if i != n-1 {
				return false
			}
			if rank < rankEnrich {
				raw.headEnd = i
			}
			break
		}
		if line[i] != ',' || i+1 >= n {
			return false
		}
		i++
	}
	r.raw = raw
	return true
}

// simpleASCII says whether b is ASCII without control characters or
// backslashes, eight bytes at a time.
func simpleASCII(b []byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := uint64(b[i]) | uint64(b[i+1])<<8 | uint64(b[i+2])<<16 | uint64(b[i+3])<<24 |
			uint64(b[i+4])<<32 | uint64(b[i+5])<<40 | uint64(b[i+6])<<48 | uint64(b[i+7])<<56
		ctl := (x - lo*0x20) & ^x & hi // a byte below 0x20
		bs := x ^ (lo * '\\')
		if (ctl | (bs-lo)&^bs&hi | x&hi) != 0 {
			return false
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// plainString returns the index past the string that starts at line[i],
// and whether it is as AppendJSON writes it: no escape, no control
// character, valid UTF-8 and no U+FFFD.
func plainString(line []byte, i int) (int, bool) {
	// The usual string, short and ASCII, is found by IndexByte and checked
	// eight bytes at a time; the others byte by byte.
	if j := bytes.IndexByte(line[i+1:], '"'); j >= 0 {
		body := line[i+1 : i+1+j]
		if plain(unsafeString(body)) {
			return i + j + 2, true
		}
	}
	ascii := true
	for j := i + 1; j < len(line); j++ {
		switch c := line[j]; {
		case c == '"':
			if !ascii {
				body := line[i+1 : j]
				if !utf8.Valid(body) || bytes.Contains(body, replacement) {
					return 0, false
				}
			}
			return j + 1, true
		case c == '\\' || c < 0x20:
			return 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return 0, false
}

var replacement = []byte("\uFFFD")

func safeASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf || !safe[c] {
			return false
		}
	}
	return true
}

// canonHead checks that v, the value of the head field of rank k, is
// written as AppendJSON would write it (strings were checked by
// plainString), and keeps the ip.
func canonHead(k int, v []byte, r *Record) bool {
	switch k {
	case 4, 9: // pid, port
		return canonInt(v)
	case 1: // time
		return len(v) > 2 && v[0] == '"' && canonTime(v[1:len(v)-1])
	case 12, 13: // from, to: written even empty
		return v[0] == '"'
	}
	if len(v) <= 2 || v[0] != '"' {
		return false // null, or an empty string, is not written
	}
	switch k {
	case 0:
		r.Type = recordType(v[1 : len(v)-1])
	case 7:
		r.IP = string(v[1 : len(v)-1])
	}
	return true
}

// recordType returns the type as a string, the usual ones without a copy.
func recordType(b []byte) string {
	switch string(b) {
	case TypeLogin:
		return TypeLogin
	case TypeAuthFailure:
		return TypeAuthFailure
	case TypeReject:
		return TypeReject
	}
	return string(b)
}

// canonInt says whether v is a nonzero integer as appendInt writes it,
// short enough for an int of 32 bits.
func canonInt(v []byte) bool {
	if len(v) > 0 && v[0] == '-' {
		v = v[1:]
	}
	if len(v) == 0 || len(v) > 9 || v[0] == '0' {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// canonSrc says whether v, the value of src, is written back the same.
func canonSrc(v []byte) bool {
	if len(v) <= 2 {
		return false
	}
	s := v[1 : len(v)-1]
	i := bytes.LastIndexByte(s, ':')
	if i < 0 || i+1 == len(s) {
		return true
	}
	num := s[i+1:]
	for _, c := range num {
		if c < '0' || c > '9' {
			return true // not a line number: the whole is the file
		}
	}
	// Digits: a number above zero loses its leading zeros; zero, or one too
	// big for an int64, stays part of the file's name.
	if num[0] != '0' {
		return len(num) <= 18
	}
	for _, c := range num {
		if c != '0' {
			return false
		}
	}
	return true
}

// canonTime says whether s is an RFC 3339 time as Encoder.appendTime
// writes it: 2006-01-02T15:04:05.999999999Z07:00, a year from 1970, the
// fraction without trailing zeros, and Z for UTC.
func canonTime(s []byte) bool {
	if len(s) < 20 {
		return false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range s[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, min, sec := num(11, 2), num(14, 2), num(17, 2)
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
		year < 1970 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour < 0 || hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 59 {
		return false
	}
	i := 19
	if s[i] == '.' {
		j := i + 1
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		if j == i+1 || j-i-1 > 9 || s[j-1] == '0' {
			return false
		}
		i = j
	}
	zone := s[i:]
	if len(zone) == 1 {
		return zone[0] == 'Z'
	}
	if len(zone) != 6 || zone[0] != '+' && zone[0] != '-' || zone[3] != ':' {
		return false
	}
	zh, zm := num(i+1, 2), num(i+4, 2)
	return zh >= 0 && zh <= 23 && zm >= 0 && zm <= 59 && zh+zm > 0
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// appendPartial appends r, read partially, as AppendJSON does.
func (e *Encoder) appendPartial(dst []byte, r *Record) []byte {
	raw := r.raw
	line := raw.line
	start := len(dst)
	if raw.headEnd > 0 {
		dst = append(dst, ',')
		dst = append(dst, line[1:raw.headEnd]...)
	}
	dst = appendEnrich(dst, r)
	switch {
	case raw.tailAt == 0:
		dst = append(dst, ',')
		dst = append(dst, line[1:len(line)-1]...)
	case raw.tailAt > 0:
		dst = append(dst, line[raw.tailAt:len(line)-1]...)
	}
	if len(dst) == start {
		return append(dst, "{}"...)
	}
	dst[start] = '{'
	return append(dst, '}')
}

// written tells the batch of a partial record that the record has been
// written out: its memory is no longer used.
func (r *Record) written() {
	if r.raw != nil && r.raw.batch != nil {
		r.raw.batch.release()
	}
}

// unsafeString is b as a string, without a copy, for a look that does not
// keep it.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
