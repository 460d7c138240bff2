package app

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// inert makes untrusted text (a PTR name, a city or organisation from a
// database or ipinfo.io) safe to print on a terminal: text that is not
// valid UTF-8 or holds a control character (ESC, BEL, NUL, C1), a format
// character (the bidi controls U+202A–U+202E, U+2066–U+2069, U+200E/F,
// U+061C, and the zero-width ones U+200B–U+200D, U+2060, U+FEFF) or a line
// or paragraph separator is quoted with every such character escaped;
// other text is left as it is.
//
// report.Inert does the same for the report, but lets the zero-width
// characters through (they are not Bidi_Control); this one is for the
// enrich stage's trace.
func inert(s string) string {
	if !utf8.ValidString(s) {
		return strconv.QuoteToASCII(s)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return strconv.QuoteToASCII(s)
		}
	}
	return s
}
