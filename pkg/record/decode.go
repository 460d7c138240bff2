package record

// This is the only file of loganom that uses github.com/goccy/go-json. It is
// fast, but has had decoder panics on malformed input, so every call into it
// goes through guard, which turns a panic into an error, and the fuzz tests
// compare this decoder with encoding/json.

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"
)

// Decode parses one JSON object into r, which should be a zero Record. Keys
// match exactly (unlike encoding/json, no case folding); for a key given twice
// the last value wins. Unknown keys go to r.Extra in input order.
func Decode(line []byte, r *Record) error {
	d := decoder{s: line}
	err := d.object(r)
	if d.idx != nil && cap(r.Extra) > len(r.Extra)+len(r.Extra)/4 {
		// set's guess of the number of fields was too high: keep no more
		// room than append would have.
		r.Extra = slices.Clone(r.Extra)
	}
	return err
}

// The decoder copies the line into one string, once, and takes every key
// and every string without escapes as a piece of it: one allocation per
// record instead of one per field. (A string a stage keeps holds its
// record's line in memory, a few hundred bytes.)
type decoder struct {
	s     []byte
	i     int
	all   string // s as a string, made on first use
	valid int8   // 0 unknown, 1 s is valid UTF-8, -1 it is not
	// idx maps the keys of the record's Extra to their index, once it has
	// indexFrom of them: a record of many unknown fields is then read in
	// linear time (it was quadratic: 96,000 fields in a 1 MiB record took
	// seconds), and the usual few are still found by a short scan.
	idx map[string]int
	ops int // key comparisons and lookups, which the tests count
	// vals is where keep copies values once there are many, a few KiB at
	// a time instead of one allocation each.
	vals []byte
}

// keep returns a copy of an unknown field's value, which must outlive the
// line.
func (d *decoder) keep(raw []byte) []byte {
	if d.idx == nil || len(raw) > 1<<10 {
		return append([]byte(nil), raw...)
	}
	if cap(d.vals)-len(d.vals) < len(raw) {
		d.vals = make([]byte, 0, 8<<10)
	}
	a := len(d.vals)
	d.vals = append(d.vals, raw...)
	return d.vals[a:len(d.vals):len(d.vals)]
}

const indexFrom = 16

// set is r.Set for the decoder, with the index above.
func (d *decoder) set(r *Record, key string, raw []byte) {
	if d.idx == nil {
		if len(r.Extra) < indexFrom {
			for i := range r.Extra {
				d.ops++
				if r.Extra[i].Key == key {
					r.Extra[i].Value = raw
					return
				}
			}
			r.Extra = append(r.Extra, Field{Key: key, Value: raw})
			return
		}
		// Many fields: room for as many more as the rest of the line
		// holds at the rate so far (appending 1.25 times bigger each
		// time would copy them five times over).
		n := len(r.Extra)
		more := (len(d.s) - d.i) / max(d.i/n, 1)
		r.Extra = slices.Grow(r.Extra, more)
		d.idx = make(map[string]int, n+more)
		for i, f := range r.Extra {
			d.ops++
			if _, ok := d.idx[f.Key]; !ok {
				d.idx[f.Key] = i
			}
		}
	}
	d.ops++
	if i, ok := d.idx[key]; ok {
		r.Extra[i].Value = raw
		return
	}
	d.idx[key] = len(r.Extra)
	r.Extra = append(r.Extra, Field{Key: key, Value: raw})
}

// str decodes the JSON string at s[a:b] (quotes included), already checked
// by skipString.
func (d *decoder) str(a, b int) (string, error) {
	body := d.s[a+1 : b-1]
	if containsByte(body, '\\') {
		return stringValue(d.s[a:b])
	}
	if d.valid == 0 {
		d.valid = 1
		if !utf8.Valid(d.s) {
			d.valid = -1
		}
	}
	if d.valid < 0 && !utf8.Valid(body) {
		return validUTF8(body), nil
	}
	if d.all == "" {
		d.all = string(d.s)
	}
	return d.all[a+1 : b-1], nil
}

func (d *decoder) ws() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\r', '\n':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: "+format, append([]any{d.i}, args...)...)
}

func (d *decoder) object(r *Record) error {
	d.ws()
	if d.i >= len(d.s) || d.s[d.i] != '{' {
		if d.i >= len(d.s) {
			return errors.New("empty record")
		}
		return d.errorf("a record must be a JSON object")
	}
	d.i++
	d.ws()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return d.end()
	}
	for {
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return d.errorf("expected a key")
		}
		kstart := d.i
		kend, err := d.skipString()
		if err != nil {
			return err
		}
		key, err := d.str(kstart, kend)
		if err != nil {
			return d.errorf("bad key: %v", err)
		}
		d.i = kend
		d.ws()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return d.errorf("expected ':' after key %q", key)
		}
		d.i++
		d.ws()
		vstart := d.i
		if err := d.skipValue(); err != nil {
			return err
		}
		if err := r.assign(d, key, vstart, d.i); err != nil {
			return fmt.Errorf("field %q: %w", key, err)
		}
		d.ws()
		if d.i >= len(d.s) {
			return d.errorf("unexpected end of record")
		}
		switch d.s[d.i] {
		case ',':
			d.i++
			d.ws()
		case '}':
			d.i++
			return d.end()
		default:
			return d.errorf("expected ',' or '}'")
		}
	}
}

func (d *decoder) end() error {
	d.ws()
	if d.i != len(d.s) {
		return d.errorf("text after the record")
	}
	return nil
}

// skipString returns the index just past the string that starts at d.i,
// checking that it has no raw control characters and only valid escapes.
func (d *decoder) skipString() (int, error) {
	s := d.s
	for i := d.i + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			i++
			if i >= len(s) {
				return 0, d.errorf("unterminated string")
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) || !isHex(s[i+3]) || !isHex(s[i+4]) {
					return 0, d.errorf(`bad \u escape`)
				}
				i += 4
			default:
				return 0, d.errorf("bad escape")
			}
		case c < 0x20:
			return 0, d.errorf("control character in string")
		}
	}
	return 0, d.errorf("unterminated string")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// skipValue moves d.i past one JSON value. Strings, numbers and literals are
// checked here; objects and arrays are only delimited here and checked by
// validComposite.
func (d *decoder) skipValue() error {
	if d.i >= len(d.s) {
		return d.errorf("expected a value")
	}
	switch c := d.s[d.i]; c {
	case '"':
		end, err := d.skipString()
		if err != nil {
			return err
		}
		d.i = end
		return nil
	case '{', '[':
		depth := 0
		for d.i < len(d.s) {
			switch d.s[d.i] {
			case '"':
				end, err := d.skipString()
				if err != nil {
					return err
				}
				d.i = end
				continue
			case '{', '[':
				depth++
				if depth > maxDepth {
					return d.errorf("nested deeper than %d", maxDepth)
				}
			case '}', ']':
				depth--
				if depth == 0 {
					d.i++
					return nil
				}
			}
			d.i++
		}
		return d.errorf("unterminated %c", c)
	default:
		start := d.i
		for d.i < len(d.s) {
			switch d.s[d.i] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				goto done
			}
			d.i++
		}
	done:
		v := d.s[start:d.i]
		switch string(v) {
		case "true", "false", "null":
			return nil
		}
		if !validNumber(v) {
			d.i = start
			return d.errorf("invalid value")
		}
		return nil
	}
}

const maxDepth = 1000

func validNumber(s []byte) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return false
	}
	if s[i] == '0' {
		i++
	} else if '1' <= s[i] && s[i] <= '9' {
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(s)
}

// stringValue decodes a JSON string (quotes included) already checked by
// skipString. Strings without escapes are the common case and are converted
// directly; invalid UTF-8 becomes U+FFFD as in encoding/json.
func stringValue(raw []byte) (string, error) {
	body := raw[1 : len(raw)-1]
	if !containsByte(body, '\\') {
		if utf8.Valid(body) {
			return string(body), nil
		}
		return validUTF8(body), nil
	}
	var s string
	if err := guard(func() error { return gojson.Unmarshal(raw, &s) }); err != nil {
		return "", err
	}
	return s, nil
}

// validUTF8 replaces each byte of invalid UTF-8 with U+FFFD, as
// encoding/json does.
func validUTF8(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		c, size := utf8.DecodeRune(b)
		if c == utf8.RuneError && size == 1 {
			sb.WriteString("\uFFFD")
		} else {
			sb.Write(b[:size])
		}
		b = b[size:]
	}
	return sb.String()
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// guard runs f, turning a panic inside the JSON library into an error.
func guard(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("json decoder panic: %v", p)
		}
	}()
	return f()
}

func validComposite(raw []byte) bool {
	ok := false
	_ = guard(func() error { ok = gojson.Valid(raw); return nil })
	return ok
}

func isNull(raw []byte) bool { return string(raw) == "null" }

func (r *Record) assign(d *decoder, key string, a, b int) error {
	raw := d.s[a:b]
	str := func(dst *string) error {
		if isNull(raw) {
			*dst = ""
			return nil
		}
		if raw[0] != '"' {
			return errors.New("expected a string")
		}
		s, err := d.str(a, b)
		*dst = s
		return err
	}
	integer := func(dst *int) error {
		if isNull(raw) {
			*dst = 0
			return nil
		}
		n, err := strconv.Atoi(string(raw))
		if err != nil || raw[0] == '+' {
			return errors.New("expected an integer")
		}
		*dst = n
		return nil
	}
	switch key {
	case "type":
		return str(&r.Type)
	case "time":
		var s string
		if err := str(&s); err != nil {
			return err
		}
		if s == "" {
			r.Time = time.Time{}
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return errors.New("expected an RFC 3339 time")
		}
		r.Time = t
		return nil
	case "host":
		return str(&r.Host)
	case "service":
		return str(&r.Service)
	case "pid":
		return integer(&r.PID)
	case "queue_id":
		return str(&r.QueueID)
	case "user":
		return str(&r.User)
	case "ip":
		return str(&r.IP)
	case "client_name":
		return str(&r.ClientName)
	case "port":
		return integer(&r.Port)
	case "method":
		return str(&r.Method)
	case "sender":
		return str(&r.Sender)
	case "from", "to":
		dst := &r.From
		if key == "to" {
			dst = &r.To
		}
		if isNull(raw) {
			*dst = nil
			return nil
		}
		var s string
		if err := str(&s); err != nil {
			return err
		}
		*dst = &s
		return nil
	case "command":
		return str(&r.Command)
	case "reason":
		return str(&r.Reason)
	case "rdns":
		return str(&r.RDNS)
	case "rdns_verified":
		switch string(raw) {
		case "true", "false":
			r.RDNSVerified = Bool(raw[0] == 't')
		case "null":
			r.RDNSVerified = nil
		default:
			return errors.New("expected true or false")
		}
		return nil
	case "country":
		return str(&r.Country)
	case "city":
		return str(&r.City)
	case "lat", "lon":
		dst := &r.Lat
		if key == "lon" {
			dst = &r.Lon
		}
		if isNull(raw) {
			return nil
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || raw[0] == '"' || raw[0] == 't' || raw[0] == 'f' || raw[0] == '{' || raw[0] == '[' {
			return errors.New("expected a number")
		}
		*dst, r.HasLoc = f, true
		return nil
	case "accuracy_km":
		return integer(&r.AccuracyKM)
	case "asn":
		if isNull(raw) {
			r.ASN = 0
			return nil
		}
		// ParseUint, not integer: on a 32-bit platform an int does not
		// hold every AS number.
		n, err := strconv.ParseUint(string(raw), 10, 32)
		if err != nil || raw[0] == '+' {
			return errors.New("expected an AS number")
		}
		r.ASN = uint32(n)
		return nil
	case "org":
		return str(&r.Org)
	case "enrich_errors":
		if isNull(raw) {
			r.EnrichErrors = nil
			return nil
		}
		if raw[0] != '[' {
			return errors.New("expected an array of strings")
		}
		var list []string
		if err := guard(func() error { return gojson.Unmarshal(raw, &list) }); err != nil {
			return errors.New("expected an array of strings")
		}
		r.EnrichErrors = list
		return nil
	case "filtered_by":
		return str(&r.FilteredBy)
	case "src":
		var s string
		if err := str(&s); err != nil {
			return err
		}
		r.SrcFile, r.SrcLine = s, 0
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			if n, err := strconv.ParseInt(s[i+1:], 10, 64); err == nil && n > 0 && s[i+1] != '+' {
				r.SrcFile, r.SrcLine = s[:i], n
			}
		}
		return nil
	}
	if (raw[0] == '{' || raw[0] == '[') && !validComposite(raw) {
		return errors.New("invalid JSON value")
	}
	d.set(r, key, d.keep(raw))
	return nil
}
