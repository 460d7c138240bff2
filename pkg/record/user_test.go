package record

import "testing"

func TestCanonicalUser(t *testing.T) {
	for _, c := range []struct {
		in, folded, sensitive string
	}{
		{"bob@example.com", "bob@example.com", "bob@example.com"},
		{"BOB@example.com", "bob@example.com", "BOB@example.com"},
		{"Bob@Example.COM", "bob@example.com", "Bob@example.com"},
		{"Bob", "bob", "Bob"},
		{"Bob@Team@Example.com", "bob@team@example.com", "Bob@Team@example.com"}, // the domain is after the last @
		{"ÉLODIE@Exemple.FR", "élodie@exemple.fr", "ÉLODIE@exemple.fr"},
		{"Bad\xffUTF8@X.test", "bad\xffutf8@x.test", "Bad\xffUTF8@x.test"}, // the invalid byte stays
		{"bad\xfe@x.test", "bad\xfe@x.test", "bad\xfe@x.test"},             // not made U+FFFD: distinct from bad\xff
		{"X\x1b[31M@A.test", "x\x1b[31m@a.test", "X\x1b[31M@a.test"},
		{"", "", ""},
		{"@", "@", "@"},
	} {
		if got := CanonicalUser(c.in, false); got != c.folded {
			t.Errorf("%q: %q, want %q", c.in, got, c.folded)
		}
		if got := CanonicalUser(c.in, true); got != c.sensitive {
			t.Errorf("%q case-sensitive: %q, want %q", c.in, got, c.sensitive)
		}
	}
}
