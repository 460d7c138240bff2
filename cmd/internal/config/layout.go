package config

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/loganom/loganom/cmd/internal/cli"
)

// layout rewrites an INI file in the layout in which gopkg.in/ini.v1
// reads it as Python's configparser (the original tool's reader) read
// it. The files stay the postmasters' own; only where ini.v1's dialect
// parts from configparser's is the text laid out anew:
//
//   - a line whose first non-blank character is '#' or ';' is a comment
//     wherever it is, also among the lines of a value, which goes on
//     after it (an entry of a list commented out); so does a value after
//     an empty line;
//   - a value goes on over the lines indented more than its key, and only
//     those: keys indented alike are keys (a section's keys indented
//     under it, a block pasted with its indentation);
//   - a value that starts with a backtick or three double quotes is that
//     text, not a quoted value (ini.v1's quotes), on its first line.
//
// Sections and keys come out at the line's start, the lines that go on a
// value indented by four spaces; comments and empty lines are left out.
// ini.v1 then reads the values, with IgnoreContinuation (a backslash at
// a value's end is part of it), PreserveSurroundedQuote (so are quotes
// around it) and IgnoreInlineComment (and what follows a '#').
//
// lines[i] is the line of the file that line i+1 of text comes from. A
// line that is none of a section, a key and a line of a value is an
// error naming the file and line, as configparser's ParsingError.
//
// A section given twice, or a key twice in a section, is a usage error
// naming both lines, as configparser (strict, its default, which the
// original used) raises DuplicateSectionError and DuplicateOptionError:
// ini.v1 would merge the sections and keep the last value. Key names
// compare in any case (configparser lowercases them), section names
// as written. [DEFAULT] may be given again, as configparser allows, but
// a key not twice in it.
//
// keys holds the line of each key of each section (key names in lower
// case), for messages about a value (Config.where).
func layout(path string, b []byte) (text []byte, lines []int, keys map[string]map[string]int, err error) {
	var out strings.Builder
	emit := func(n int, s string) {
		out.WriteString(s)
		out.WriteByte('\n')
		lines = append(lines, n)
	}
	src := strings.TrimPrefix(string(b), "\ufeff")
	inValue, keyIndent := false, 0
	section := ""                      // "": before any section
	sections := map[string]int{}       // the line of each section
	keys = map[string]map[string]int{} // the line of each key of each section
	for i, line := range strings.Split(src, "\n") {
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		s := strings.TrimSpace(line)
		if s == "" || s[0] == '#' || s[0] == ';' {
			continue // the value above, if any, goes on after it
		}
		indent := strings.IndexFunc(line, func(r rune) bool { return !unicode.IsSpace(r) })
		if inValue && indent > keyIndent {
			emit(n, "    "+s)
			continue
		}
		inValue, keyIndent = false, indent
		if s[0] == '[' {
			if j := strings.LastIndexByte(s, ']'); j > 1 {
				section = strings.TrimSpace(s[1:j])
				if first, ok := sections[section]; ok && section != "DEFAULT" {
					return nil, nil, nil, cli.UsageError{
						Err:  fmt.Errorf("%s:%d: [%s] is given twice, on lines %d and %d", path, n, section, first, n),
						Hint: "put the keys of [" + section + "] under one [" + section + "]",
					}
				}
				if _, ok := sections[section]; !ok {
					sections[section], keys[section] = n, map[string]int{}
				}
				emit(n, "["+section+"]")
				continue
			}
		}
		j := strings.IndexAny(s, "=:")
		if j < 0 || strings.TrimSpace(s[:j]) == "" {
			return nil, nil, nil, fmt.Errorf("%s:%d: %q is not a [SECTION], a key = value, or a line of the value above (indented more than its key)", path, n, s)
		}
		key, value := strings.TrimSpace(s[:j]), strings.TrimSpace(s[j+1:])
		if section != "" { // keys before any section are not read (checkINI warns)
			name := strings.ToLower(key)
			if first, ok := keys[section][name]; ok {
				return nil, nil, nil, cli.UsageError{
					Err:  fmt.Errorf("%s:%d: [%s] %s is given twice, on lines %d and %d", path, n, section, name, first, n),
					Hint: "keep one; a list goes on over the lines below its key, indented",
				}
			}
			keys[section][name] = n
		}
		if strings.HasPrefix(key, `"`) || strings.HasPrefix(key, "`") {
			key = "`" + strings.ReplaceAll(key, "`", "") + "`" // not ini.v1's quoted key
		}
		if strings.HasPrefix(value, "`") || strings.HasPrefix(value, `"""`) {
			value = `"""` + value + `"""` // its last """ ends it: the text as it is
		}
		emit(n, key+" = "+value)
		inValue = true
	}
	return []byte(out.String()), lines, keys, nil
}
