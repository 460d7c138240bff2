package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/loganom/loganom/cmd/internal/cli"
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

// A key given twice in a section, or a section given twice, is a usage
// error naming both lines, as configparser (strict, which the original
// used) raised DuplicateOptionError and DuplicateSectionError; ini.v1
// kept the last value and merged the sections, silently. Key names
// compare in any case, section names as written; [DEFAULT] may come
// again, its keys not.
func TestConfigDuplicates(t *testing.T) {
	for _, tc := range []struct {
		name, text, err, hint string // err "": none
	}{{
		name: "key twice",
		text: "[GENERAL]\nemail_skip = a@example.com\ncountry_ignore = BR\nemail_skip = b@example.com\n",
		err:  "c.ini:4: [GENERAL] email_skip is given twice, on lines 2 and 4",
		hint: "keep one; a list goes on over the lines below its key, indented",
	}, {
		name: "key twice, in another case",
		text: "[SMTP]\nPass = one\n# the new one\nPASS = two\n",
		err:  "c.ini:4: [SMTP] pass is given twice, on lines 2 and 4",
		hint: "keep one; a list goes on over the lines below its key, indented",
	}, {
		name: "key twice, indented alike",
		text: "[SMTP]\n  host = a\n  host = b\n",
		err:  "c.ini:3: [SMTP] host is given twice, on lines 2 and 3",
		hint: "keep one; a list goes on over the lines below its key, indented",
	}, {
		name: "section twice",
		text: "[GENERAL]\ncountry_ignore = BR\n[SMTP]\nhost = h\n\n[GENERAL]\nemail_skip = a@example.com\n",
		err:  "c.ini:6: [GENERAL] is given twice, on lines 1 and 6",
		hint: "put the keys of [GENERAL] under one [GENERAL]",
	}, {
		// loganom reads "[ GENERAL ]" as [GENERAL] (configparser as
		// " GENERAL ", which the original never read): merged, it
		// would change [GENERAL] silently.
		name: "section twice, its name spaced",
		text: "[GENERAL]\n[ GENERAL ]\n",
		err:  "c.ini:2: [GENERAL] is given twice, on lines 1 and 2",
		hint: "put the keys of [GENERAL] under one [GENERAL]",
	}, {
		name: "default twice, a key twice in it",
		text: "[DEFAULT]\na = 1\n[GENERAL]\n[DEFAULT]\nA = 2\n",
		err:  "c.ini:5: [DEFAULT] a is given twice, on lines 2 and 5",
		hint: "keep one; a list goes on over the lines below its key, indented",
	}, {
		name: "the same key in two sections; sections in another case; default again",
		text: "[SMTP]\nenabled = true\n[TEAMS]\nenabled = true\n[general]\n[GENERAL]\n[DEFAULT]\na = 1\n[DEFAULT]\nb = 2\n",
	}, {
		name: "a list over lines, a value that holds its key's name",
		text: "[GENERAL]\nemail_skip = a@example.com\n    email_skip = b@example.com\n",
	}, {
		name: "keys before any section (not read; a warning)",
		text: "a = 1\na = 2\n[GENERAL]\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.ini")
			if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(path)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ue cli.UsageError
			if err == nil || err.Error() != "config: "+filepath.Dir(path)+"/"+tc.err || !errors.As(err, &ue) || ue.Hint != tc.hint || cli.ExitCodeOf(err) != cli.ExitUsage {
				t.Fatalf("LoadConfig: %v (hint %q, exit %d), want the usage error config: %s/%s (hint %q)", err, ue.Hint, cli.ExitCodeOf(err), filepath.Dir(path), tc.err, tc.hint)
			}
		})
	}
}
