package record

import (
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends r as one JSON object, without a newline, to dst.
// Strings are escaped so that the output is valid JSON whatever bytes they
// hold: control characters are escaped and invalid UTF-8 becomes U+FFFD, as
// encoding/json does. An Encoder does the same faster, record after record.
func AppendJSON(dst []byte, r *Record) []byte {
	var e Encoder
	return e.AppendJSON(dst, r)
}

// An Encoder appends records as JSON, as AppendJSON does. It keeps the zone
// and the date of the last timestamp it formatted, which the next record is
// likely to share. The zero value is ready to use; an Encoder is not safe
// for concurrent use.
type Encoder struct {
	loc        *time.Location
	zFrom, zTo int64  // Unix seconds in which the zone below is in effect
	off        int64  // its offset, in seconds
	zone       []byte // "Z" or "-07:00"
	day        int64  // local days since 1970-01-01 of date
	date       []byte // "2006-01-02T" of day; nil when not known
}

// AppendJSON appends r as one JSON object, without a newline, to dst.
func (e *Encoder) AppendJSON(dst []byte, r *Record) []byte {
	// Every field is written after a comma; the first comma becomes the
	// brace.
	if r.raw != nil {
		return e.appendPartial(dst, r)
	}
	start := len(dst)
	dst = appendField(dst, `,"type":`, r.Type)
	if !r.Time.IsZero() {
		dst = append(dst, `,"time":"`...)
		dst = e.appendTime(dst, r.Time)
		dst = append(dst, '"')
	}
	dst = appendField(dst, `,"host":`, r.Host)
	dst = appendField(dst, `,"service":`, r.Service)
	if r.PID != 0 {
		dst = append(dst, `,"pid":`...)
		dst = appendInt(dst, int64(r.PID))
	}
	dst = appendField(dst, `,"queue_id":`, r.QueueID)
	dst = appendField(dst, `,"user":`, r.User)
	dst = appendField(dst, `,"ip":`, r.IP)
	dst = appendField(dst, `,"client_name":`, r.ClientName)
	if r.Port != 0 {
		dst = append(dst, `,"port":`...)
		dst = appendInt(dst, int64(r.Port))
	}
	dst = appendField(dst, `,"method":`, r.Method)
	dst = appendField(dst, `,"sender":`, r.Sender)
	if r.From != nil {
		dst = append(dst, `,"from":`...)
		dst = appendString(dst, *r.From)
	}
	if r.To != nil {
		dst = append(dst, `,"to":`...)
		dst = appendString(dst, *r.To)
	}
	dst = appendField(dst, `,"command":`, r.Command)
	dst = appendField(dst, `,"reason":`, r.Reason)
	dst = appendEnrich(dst, r)
	if r.SrcFile != "" || r.SrcLine != 0 {
		dst = append(dst, `,"src":"`...)
		dst = appendStringBody(dst, r.SrcFile)
		if r.SrcLine != 0 {
			dst = append(dst, ':')
			dst = appendInt(dst, r.SrcLine)
		}
		dst = append(dst, '"')
	}
	for _, f := range r.Extra {
		dst = append(dst, ',')
		dst = appendString(dst, f.Key)
		dst = append(dst, ':')
		dst = append(dst, f.Value...)
	}
	if len(dst) == start {
		return append(dst, "{}"...)
	}
	dst[start] = '{'
	return append(dst, '}')
}

// appendField appends `,"key":"value"` (key holds the comma, the quotes and
// the colon) unless v is empty.
func appendField(dst []byte, key, v string) []byte {
	if v == "" {
		return dst
	}
	dst = append(dst, key...)
	return appendString(dst, v)
}

// appendTime appends t as time.RFC3339Nano does.
func (e *Encoder) appendTime(dst []byte, t time.Time) []byte {
	sec, loc := t.Unix(), t.Location()
	if loc != e.loc || sec < e.zFrom || sec >= e.zTo {
		e.loc, e.date = loc, nil
		from, to := t.ZoneBounds()
		e.zFrom, e.zTo = math.MinInt64, math.MaxInt64
		if !from.IsZero() {
			e.zFrom = from.Unix()
		}
		if !to.IsZero() {
			e.zTo = to.Unix()
		}
		_, off := t.Zone()
		e.off = int64(off)
		b := t.AppendFormat(e.zone[:0], "Z07:00")
		e.zone = b
	}
	local := sec + e.off
	day := local / 86400
	if local < 0 && local%86400 != 0 {
		day-- // floor
	}
	if day != e.day || e.date == nil {
		e.day = day
		b := t.AppendFormat(e.date[:0], "2006-01-02T")
		e.date = b
	}
	dst = append(dst, e.date...)
	s := local - day*86400
	h, m, c := s/3600, s/60%60, s%60
	dst = append(dst, byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+c/10), byte('0'+c%10))
	if ns := t.Nanosecond(); ns != 0 {
		// Nine digits, without the trailing zeros.
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		dst = append(dst, frac[:n]...)
	}
	return append(dst, e.zone...)
}

// appendInt appends n in decimal.
func appendInt(dst []byte, n int64) []byte {
	if n < 0 {
		return strconv.AppendInt(dst, n, 10)
	}
	// Digits written in place, from the last: no copy of a scratch buffer.
	d := 1
	for m := n; m >= 10; m /= 10 {
		d++
	}
	l := len(dst)
	dst = slices.Grow(dst, d)[:l+d]
	for i := l + d - 1; i > l; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
	dst[l] = byte('0' + n)
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendStringBody(dst, s)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// safe[b] is true for the ASCII bytes that need no escaping in a JSON string.
var safe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// needsEscape reports, eight bytes at a time, whether any byte of x is a
// control character, '"', '\\' or not ASCII.
func needsEscape(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	ctl := (x - lo*0x20) & ^x & hi // a byte below 0x20
	q := x ^ (lo * '"')
	quote := (q - lo) & ^q & hi
	b := x ^ (lo * '\\')
	bs := (b - lo) & ^b & hi
	return (ctl | quote | bs | x&hi) != 0
}

func load64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// plain reports whether s needs no escaping, eight bytes at a time.
func plain(s string) bool {
	n := len(s)
	if n < 8 {
		for i := 0; i < n; i++ {
			if s[i] >= utf8.RuneSelf || !safe[s[i]] {
				return false
			}
		}
		return true
	}
	for i := 0; i+8 < n; i += 8 {
		if needsEscape(load64(s, i)) {
			return false
		}
	}
	return !needsEscape(load64(s, n-8)) // the last eight, which may overlap
}

func appendStringBody(dst []byte, s string) []byte {
	if plain(s) {
		return append(dst, s...)
	}
	start := 0
	i := 0
	for i < len(s) {
		if i+8 <= len(s) && !needsEscape(load64(s, i)) {
			i += 8
			continue
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError {
			// A byte that is not UTF-8, or U+FFFD itself: both are
			// written \ufffd, so that a string made valid before (as the
			// parser makes its records for a stage in the same process)
			// is written as it would have been.
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// appendEnrich appends the fields that loganom-enrich adds (and
// filtered_by), each after a comma.
func appendEnrich(dst []byte, r *Record) []byte {
	dst = appendField(dst, `,"rdns":`, r.RDNS)
	if r.RDNSVerified != nil {
		dst = append(dst, `,"rdns_verified":`...)
		dst = strconv.AppendBool(dst, *r.RDNSVerified)
	}
	dst = appendField(dst, `,"country":`, r.Country)
	dst = appendField(dst, `,"city":`, r.City)
	if r.HasLoc {
		dst = append(dst, `,"lat":`...)
		dst = strconv.AppendFloat(dst, r.Lat, 'f', -1, 64)
		dst = append(dst, `,"lon":`...)
		dst = strconv.AppendFloat(dst, r.Lon, 'f', -1, 64)
	}
	if r.AccuracyKM != 0 {
		dst = append(dst, `,"accuracy_km":`...)
		dst = appendInt(dst, int64(r.AccuracyKM))
	}
	if r.ASN != 0 {
		dst = append(dst, `,"asn":`...)
		dst = strconv.AppendUint(dst, uint64(r.ASN), 10)
	}
	dst = appendField(dst, `,"org":`, r.Org)
	if len(r.EnrichErrors) > 0 {
		dst = append(dst, `,"enrich_errors":[`...)
		for i, e := range r.EnrichErrors {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, e)
		}
		dst = append(dst, ']')
	}
	dst = appendField(dst, `,"filtered_by":`, r.FilteredBy)
	return dst
}
