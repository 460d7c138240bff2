package record

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// CanonicalUser is the name under which a SASL username is counted and
// reported: in lower case, or with only its domain (after the last @) in
// lower case when caseSensitive. Bytes that are not UTF-8 are kept as they
// are, so that two different names never become one by being mangled.
func CanonicalUser(user string, caseSensitive bool) string {
	start := 0
	if caseSensitive {
		at := strings.LastIndexByte(user, '@')
		if at < 0 {
			return user
		}
		start = at + 1
	}
	return user[:start] + lower(user[start:])
}

// lower is strings.ToLower for valid UTF-8, leaving invalid bytes alone
// (strings.ToLower makes each of them U+FFFD); s itself when already lower.
func lower(s string) string {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			break
		}
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteByte(c)
		} else {
			b.WriteRune(unicode.ToLower(r))
		}
		i += n
	}
	if b.Len() == len(s) && b.String() == s {
		return s
	}
	return b.String()
}
