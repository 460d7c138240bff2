package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The original tool read its config.ini with Python's configparser; a file
// it read must read the same here. Each case's want is what configparser
// gives (Python 3.11, ConfigParser().read_string(text), each value as
// String returns it: configparser's value, trimmed).
func TestConfigparserValues(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       map[string]string // "SECTION.key": value; "" with a missing key: must be unset
		lists      map[string][]string
	}{{
		// A comment line inside a multi-line value, indented as the
		// value is, is a comment: commenting out one entry of a list.
		name: "comment in a list",
		text: "[GENERAL]\npattern_ip = google.com\n    # microsoft\n    outlook.com\n    ; old\n    yahoo.com\ncountry_ignore = BR\n",
		lists: map[string][]string{
			"GENERAL.pattern_ip":     {"google.com", "outlook.com", "yahoo.com"},
			"GENERAL.country_ignore": {"BR"},
		},
	}, {
		// An empty line inside a multi-line value does not end it.
		name:  "empty line in a list",
		text:  "[GENERAL]\ncountry_ignore = BR\n\n    PT\nemail_skip = a@example.com\n",
		lists: map[string][]string{"GENERAL.country_ignore": {"BR", "PT"}, "GENERAL.email_skip": {"a@example.com"}},
	}, {
		// A backslash at the end of a value is part of it (a password),
		// not a continuation that swallows the next line.
		name: "trailing backslash",
		text: "[SMTP]\npass = abc\\\nuser = bob\n",
		want: map[string]string{"SMTP.pass": `abc\`, "SMTP.user": "bob"},
	}, {
		// Nor do backticks or triple quotes start a quoted value.
		name: "backtick",
		text: "[SMTP]\npass = `x9k\nuser = bob\nhost = h\n",
		want: map[string]string{"SMTP.pass": "`x9k", "SMTP.user": "bob", "SMTP.host": "h"},
	}, {
		name: "triple quote",
		text: "[SMTP]\npass = \"\"\"abc\nuser = bob\n",
		want: map[string]string{"SMTP.pass": `"""abc`, "SMTP.user": "bob"},
	}, {
		// Keys indented alike are keys, not a continuation of the first.
		name: "indented keys",
		text: "[SMTP]\n  host = smtp.example.com\n  port = 587\n    # the next is a continuation of port\n    588\n",
		want: map[string]string{"SMTP.host": "smtp.example.com", "SMTP.port": "587\n588"},
	}, {
		// A block pasted from the README with its indentation.
		name:  "indented block",
		text:  "    [GENERAL]\n    country_ignore = BR\n    pattern_ip = google.com\n            outlook.com\n    [ENRICH]\n    rdns = false\n",
		want:  map[string]string{"GENERAL.country_ignore": "BR", "ENRICH.rdns": "false"},
		lists: map[string][]string{"GENERAL.pattern_ip": {"google.com", "outlook.com"}},
	}, {
		// What already read as configparser does, kept.
		name: "case, colon, empty, crlf, bom",
		text: "\ufeff; a comment\r\n[GENERAL]\r\nPattern_IP : google.com\r\n\toutlook.com\r\nCOUNTRY_IGNORE=BR\r\nipinfo_token =\r\n[SMTP]\r\nto = a@example.com, b@example.com\r\n",
		want: map[string]string{"GENERAL.ipinfo_token": "", "GENERAL.country_ignore": "BR"},
		lists: map[string][]string{
			"GENERAL.pattern_ip": {"google.com", "outlook.com"},
			"SMTP.to":            {"a@example.com", "b@example.com"},
		},
	}, {
		// A list longer than ini.v1's 4 KiB reader buffer: its lines
		// past the buffer were read as keys, and the config refused
		// ("key-value delimiter not found").
		name:  "long list",
		text:  "[GENERAL]\nemail_skip = " + strings.Repeat("someone.with.a.long.name@example.com\n    ", 200) + "last@example.com\ncountry_ignore = BR\n",
		want:  map[string]string{"GENERAL.country_ignore": "BR"},
		lists: map[string][]string{"GENERAL.email_skip": append(slices.Repeat([]string{"someone.with.a.long.name@example.com"}, 200), "last@example.com")},
	}, {
		name: "hash in a value",
		text: "[SMTP]\npass = se#cret ;1\n",
		want: map[string]string{"SMTP.pass": "se#cret ;1"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.ini")
			if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := LoadConfig(path)
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			for k, want := range tc.want {
				s, key, _ := strings.Cut(k, ".")
				got, ok := c.String(s, key)
				if !ok || got != want {
					t.Errorf("[%s] %s = %q (set %v), want %q", s, key, got, ok, want)
				}
			}
			for k, want := range tc.lists {
				s, key, _ := strings.Cut(k, ".")
				if got := c.List(s, key); !reflect.DeepEqual(got, want) {
					t.Errorf("[%s] %s = %q, want %q", s, key, got, want)
				}
			}
		})
	}
}

// A line that is neither a section, a key nor a continuation is an error
// that names the file and the line.
func TestConfigSyntaxError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.ini")
	if err := os.WriteFile(path, []byte("[GENERAL]\ncountry_ignore = BR\nDE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(path)
	if err == nil || !strings.Contains(err.Error(), path+":3:") {
		t.Fatalf("LoadConfig: %v, want an error naming %s:3", err, path)
	}
}

// Check names the file's lines, whatever layout made of them: an
// indented key is a key, checked as such; a comment line among a list's
// lines is no value.
func TestCheckLaidOut(t *testing.T) {
	text := "[GENERAL]\ncountry_ignore = BR\npattern_ip = google.com\n    # outlook.com\n\n    yahoo.com\n[SMTP]\n  host = h\n  usr = x\n"
	path := filepath.Join(t.TempDir(), "config.ini")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, w := range checkINI(path, c.text, c.lines) {
		msgs = append(msgs, strings.TrimPrefix(w.msg, path))
	}
	want := []string{":9: unknown key usr in [SMTP]; did you mean user?"}
	if !reflect.DeepEqual(msgs, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
	if got := c.List("GENERAL", "pattern_ip"); !reflect.DeepEqual(got, []string{"google.com", "yahoo.com"}) {
		t.Errorf("pattern_ip = %q", got)
	}
}
