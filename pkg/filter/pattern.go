package filter

import (
	"fmt"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// A pattern_ip entry is matched on whole DNS labels, so that a name the
// owner of an address chose (and made resolve back) cannot pass for
// another: google.com.evil.example, mail-google.com.evil.example and
// googlebot.evil.example are not Google's.
//
//   - google.com (a name): the name itself, or a name ending in
//     ".google.com";
//   - .com.br (a leading dot): a name ending in ".com.br";
//   - google (a word, no dot): a name whose registrable domain is that
//     word under an ICANN public suffix: google.com, google.de,
//     google.co.uk, not google.evil (no such top-level domain) nor
//     google.duckdns.org (duckdns.org hands out names to anybody).
//
// Case does not matter and a trailing dot is ignored. With Substring, an
// entry matches anywhere in the name, as the original tool did: unsafe.
type namePattern struct {
	text  string // the entry, lower case: what filtered_by names
	kind  patternKind
	value string // lower case ASCII; a suffix keeps its leading dot
}

type patternKind uint8

const (
	patName patternKind = iota
	patSuffix
	patWord
	patSubstring
)

// parsePattern reads one pattern_ip entry (not empty, trimmed, lower
// case). An entry that cannot be a name (*.google.com, a comment after the
// name) is ignored (ok false) with a warning: it would match nothing, and
// ignoring a whitelist entry hides nothing. A name that ends in no known
// top-level domain is kept, with a warning: protection.outlook matches
// x.protection.outlook, not x.protection.outlook.com as a substring did.
func parsePattern(text string, substring bool) (p namePattern, w Warning, ok bool) {
	p.text = text
	if substring {
		p.kind, p.value = patSubstring, text
		return p, w, true
	}
	v := strings.TrimSuffix(text, ".")
	if strings.HasPrefix(v, ".") {
		p.kind, v = patSuffix, v[1:]
	} else if strings.Contains(v, ".") {
		p.kind = patName
	} else {
		p.kind = patWord
	}
	if !isASCII(v) {
		// reverse names come in their ASCII form; converting would take
		// golang.org/x/net/idna and golang.org/x/text along
		return p, Warning{"pattern_ip", fmt.Sprintf("%q is not ASCII, ignored", text),
			"write an internationalised name in its xn-- form, as DNS answers carry it"}, false
	}
	if !hostName(v) {
		return p, Warning{"pattern_ip", fmt.Sprintf("%q is not a host name (google.com), a suffix (.com.br) or a word (google), ignored", text),
			"entries match whole DNS labels; [FILTER] pattern_ip_substring = true brings back the original's substring match, which is unsafe"}, false
	}
	if p.kind == patName {
		if _, known := icannSuffix(v); !known {
			w = Warning{Key: "pattern_ip", Msg: fmt.Sprintf("%q ends in no known top-level domain: it matches only that name and the names that end in %q", text, "."+v)}
		}
	}
	if p.kind == patSuffix {
		v = "." + v
	}
	p.value = v
	return p, w, true
}

// match says whether the name (lower case, no trailing dot, a valid host
// name unless the pattern is a substring) matches; word is the label
// left of the name's public suffix, "" when it has none.
func (p *namePattern) match(name, word string) bool {
	switch p.kind {
	case patName:
		return name == p.value || len(name) > len(p.value) && strings.HasSuffix(name, p.value) && name[len(name)-len(p.value)-1] == '.'
	case patSuffix:
		return len(name) > len(p.value) && strings.HasSuffix(name, p.value)
	case patWord:
		return word != "" && word == p.value
	}
	return strings.Contains(name, p.value)
}

// hostName says whether s is dot-separated labels of letters, digits,
// hyphens and underscores (seen in the wild), none empty. Names outside
// that (escaped bytes from a PTR record, \. inside a label, Unicode that
// IDNA would map to ASCII) match no label pattern: no registry hands them
// out, so they cannot be what a whitelisted operator's names look like.
func hostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	label := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
			continue
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
		if label++; label > 63 {
			return false
		}
	}
	return label > 0
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// icannSuffix is the public suffix of name in the ICANN part of the list
// (com, co.uk, xn--p1ai), skipping the private part (duckdns.org,
// github.io: anybody gets a name under those). ok is false for a name in
// no known top-level domain.
func icannSuffix(name string) (suffix string, ok bool) {
	for s := name; ; {
		ps, icann := publicsuffix.PublicSuffix(s)
		if icann {
			return ps, true
		}
		i := strings.IndexByte(ps, '.')
		if i < 0 {
			return "", false // the list's default rule: an unknown top-level domain
		}
		s = ps[i+1:]
	}
}

// registrableWord is the label left of name's ICANN public suffix (google
// of mail.google.co.uk), or "" when name is a public suffix itself or in
// no known top-level domain.
func registrableWord(name string) string {
	ps, ok := icannSuffix(name)
	if !ok || len(ps) >= len(name) || name[len(name)-len(ps)-1] != '.' {
		return ""
	}
	rest := name[:len(name)-len(ps)-1]
	return rest[strings.LastIndexByte(rest, '.')+1:]
}
