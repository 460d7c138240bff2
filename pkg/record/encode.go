package record

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends r as one JSON object, without a newline, to dst.
// Strings are escaped so that the output is valid JSON whatever bytes they
// hold: control characters are escaped and invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func AppendJSON(dst []byte, r *Record) []byte {
	dst = append(dst, '{')
	n := len(dst) // a field written after n starts with a comma
	key := func(k string) {
		// k is `,"name":`; the first field drops the comma
		if len(dst) == n {
			k = k[1:]
		}
		dst = append(dst, k...)
	}
	str := func(k, v string) {
		if v != "" {
			key(k)
			dst = appendString(dst, v)
		}
	}
	str(`,"type":`, r.Type)
	if !r.Time.IsZero() {
		key(`,"time":`)
		dst = append(dst, '"')
		dst = r.Time.AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, '"')
	}
	str(`,"host":`, r.Host)
	str(`,"service":`, r.Service)
	if r.PID != 0 {
		key(`,"pid":`)
		dst = strconv.AppendInt(dst, int64(r.PID), 10)
	}
	str(`,"queue_id":`, r.QueueID)
	str(`,"user":`, r.User)
	str(`,"ip":`, r.IP)
	str(`,"client_name":`, r.ClientName)
	if r.Port != 0 {
		key(`,"port":`)
		dst = strconv.AppendInt(dst, int64(r.Port), 10)
	}
	str(`,"method":`, r.Method)
	str(`,"sender":`, r.Sender)
	if r.From != nil {
		key(`,"from":`)
		dst = appendString(dst, *r.From)
	}
	if r.To != nil {
		key(`,"to":`)
		dst = appendString(dst, *r.To)
	}
	str(`,"command":`, r.Command)
	str(`,"reason":`, r.Reason)
	str(`,"rdns":`, r.RDNS)
	if r.RDNSVerified != nil {
		key(`,"rdns_verified":`)
		dst = strconv.AppendBool(dst, *r.RDNSVerified)
	}
	str(`,"country":`, r.Country)
	str(`,"city":`, r.City)
	if r.HasLoc {
		key(`,"lat":`)
		dst = strconv.AppendFloat(dst, r.Lat, 'f', -1, 64)
		key(`,"lon":`)
		dst = strconv.AppendFloat(dst, r.Lon, 'f', -1, 64)
	}
	if r.AccuracyKM != 0 {
		key(`,"accuracy_km":`)
		dst = strconv.AppendInt(dst, int64(r.AccuracyKM), 10)
	}
	if r.ASN != 0 {
		key(`,"asn":`)
		dst = strconv.AppendUint(dst, uint64(r.ASN), 10)
	}
	str(`,"org":`, r.Org)
	if len(r.EnrichErrors) > 0 {
		key(`,"enrich_errors":`)
		dst = append(dst, '[')
		for i, e := range r.EnrichErrors {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, e)
		}
		dst = append(dst, ']')
	}
	str(`,"filtered_by":`, r.FilteredBy)
	if r.SrcFile != "" || r.SrcLine != 0 {
		key(`,"src":`)
		dst = append(dst, '"')
		dst = appendStringBody(dst, r.SrcFile)
		if r.SrcLine != 0 {
			dst = append(dst, ':')
			dst = strconv.AppendInt(dst, r.SrcLine, 10)
		}
		dst = append(dst, '"')
	}
	for _, f := range r.Extra {
		if len(dst) != n {
			dst = append(dst, ',')
		}
		dst = appendString(dst, f.Key)
		dst = append(dst, ':')
		dst = append(dst, f.Value...)
	}
	return append(dst, '}')
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

func appendStringBody(dst []byte, s string) []byte {
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
		if c == utf8.RuneError && size == 1 {
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
