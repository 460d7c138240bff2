package report

import "testing"

// Names from the network that could rewrite a terminal, hide a difference
// or reorder a line are shown escaped; ordinary names, accented ones too,
// are left alone.
func TestEscapeFormatCharacters(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"bob@example.com", "bob@example.com"},
		{"São Paulo", "São Paulo"},
		{"mail-ej1-f52.google.com", "mail-ej1-f52.google.com"},
		{"evil\x1b]0;title\x07.example", `"evil\x1b]0;title\a.example"`},
		{"nul\x00byte", `"nul\x00byte"`},
		{"new\nline", `"new\nline"`},
		{"bob\u202e@moc.evil", `"bob\u202e@moc.evil"`}, // right-to-left override
		{"bob\u2066x\u2069", `"bob\u2066x\u2069"`},     // isolates
		{"go\u200bogle.com", `"go\u200bogle.com"`},     // zero-width space
		{"go\u200dogle.com", `"go\u200dogle.com"`},     // zero-width joiner
		{"\ufeffbob", `"\ufeffbob"`},                   // BOM
		{"a\u061cb", `"a\u061cb"`},                     // Arabic letter mark
		{"line\u2028sep", `"line\u2028sep"`},           // line separator
		{"bad\xffutf8", `"bad\xffutf8"`},               // invalid UTF-8
		{"São\u200bPaulo", `"S\u00e3o\u200bPaulo"`},    // all of it escaped once one is
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}
