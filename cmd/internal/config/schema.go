package config

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/loganom/loganom/cmd/internal/cli"
)

// keyKind says how a key's value is read.
type keyKind uint8

const (
	kText    keyKind = iota
	kSecret          // a password, token or a URL holding a key: never echoed
	kPath            // a file name: relative names resolve from the config's directory
	kPaths           // a list of file names
	kDSN             // a database: a file name (resolved as kPath) or a URL, which may hold a password
	kTime            // a time above zero, with its unit: 2s, 36h, 30d (Duration)
	kTimeOff         // a time, or 0 (off: [STATE] prune_every's "never")
)

// schema is every section and key loganom reads. The original tool's file
// ([GENERAL], [SMTP], [MATTERMOST], [TEAMS]) is a subset of it. A key that
// is not here gets a warning naming its file, line and the nearest known
// name, so that a typo does not silently turn a whitelist off.
var schema = map[string]map[string]keyKind{
	"GENERAL": {
		"pattern_ip": kText, "pattern_org": kText, "country_ignore": kText, "email_skip": kText,
		"ip_ignore": kText, "ipinfo_token": kSecret,
	},
	"ENRICH": {
		"geoip": kPaths, "asn_csv": kPaths, "dns": kText, "rdns": kText, "cache": kPath,
		"workers": kText, "timeout": kTime, "ttl_rdns": kTime, "ipinfo": kText, "ttl_geo": kTime,
		"ipinfo_url": kText, "confirm_all": kText,
	},
	"FILTER": {"trust_unverified_rdns": kText, "keep_private": kText, "pattern_ip_substring": kText},
	"REPORT": {"min_ips": kText, "min_countries": kText, "min_asns": kText, "case_sensitive_users": kText, "window": kTime, "rule": kText},
	"DETECT": {
		"learn": kTime, "first_day": kTime, "max_speed": kText, "travel_min_km": kText, "failures": kText,
		"many_countries": kText, "many_networks": kText, "burst": kText, "alert": kText,
		"line_hold": kTime, "shared_days": kText, "familiar_site": kText,
		"scattered": kText, "scattered_span": kTime, "shared": kText, "lone_far": kText,
	},
	"SMTP": {
		"enabled": kText, "from": kText, "to": kText, "host": kText, "port": kText, "ssl": kText,
		"user": kText, "pass": kSecret, "subject": kText,
	},
	"MATTERMOST": {
		"enabled": kText, "url": kText, "api_key": kSecret, "channel": kText, "username": kText, "icon_url": kText,
	},
	"TEAMS":       {"enabled": kText, "url": kSecret, "title": kText, "button_caption": kText, "button_url": kText},
	"WEBHOOK":     {"enabled": kText, "url": kSecret},
	"EXEC":        {"script": kPath, "timeout": kTime},
	"NOTIFY_USER": {"enabled": kText, "template": kPath, "subject": kText, "from": kText},
	"NOTIFY":      {"attempts": kText, "backoff": kTime, "timeout": kTime, "give_up_after": kTime},
	"STATE":       {"db": kDSN, "keep": kTime, "prune_every": kTimeOff, "realert_after": kTime, "instance": kText},
	"SERVE":       {"metrics": kText},
	"POLICY":      {"listen": kText, "action": kText, "on_error": kText, "max_connections": kText, "refresh": kTime, "logins": kText},
	"BLOCK":       {"auto": kText, "for": kTime, "min_severity": kText, "min_countries": kText},
	"API":         {"listen": kText, "token_file": kPath, "cert": kPath, "key": kPath},
}

// kind returns a key's kind; unknown keys are plain text.
func kind(section, key string) keyKind {
	return schema[strings.ToUpper(section)][strings.ToLower(key)]
}

// Check warns about what in the file loganom does not read: unknown
// sections and keys (with the nearest known name), keys before any
// section, and values that end in what looks like an inline comment,
// which the original's configparser, like loganom, keeps as part of the
// value. Each warning names the file and line. It reads the text that
// LoadConfig read, since the INI reader keeps no line numbers.
func (c *Config) Check(log *cli.Logger) {
	if c.Path == "" {
		return
	}
	for _, w := range checkINI(c.Path, c.text, c.lines) {
		log.Warnf("%s", w.msg)
		if w.hint != "" {
			log.Hintf("%s", w.hint)
		}
	}
}

type iniWarning struct{ msg, hint string }

// checkINI checks b, an INI file laid out by layout; lines maps its lines
// to the file's, for the warnings (nil: the same).
func checkINI(path string, b []byte, lines []int) []iniWarning {
	var out []iniWarning
	warn := func(line int, format string, args ...any) {
		if line-1 < len(lines) {
			line = lines[line-1]
		}
		out = append(out, iniWarning{msg: fmt.Sprintf("%s:%d: ", path, line) + fmt.Sprintf(format, args...)})
	}
	hint := func(h string) { out[len(out)-1].hint = h }
	section, known := "", true // known: the current section is one we read
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		if n == 1 {
			raw = strings.TrimPrefix(raw, "\ufeff")
		}
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if raw[0] == ' ' || raw[0] == '\t' { // a continuation line
			if known && section != "" {
				if c := inlineComment(line); c != "" {
					warn(n, "%q looks like an inline comment but is part of the value", c)
					hint("put comments on lines of their own")
				}
			}
			continue
		}
		if line[0] == '[' {
			name := strings.TrimSpace(strings.Trim(line, "[]"))
			section = name
			_, known = schema[name]
			if !known {
				if s := nearest(name, sectionNames()); s != "" {
					warn(n, "unknown section [%s]; did you mean [%s]?", name, s)
				} else {
					warn(n, "unknown section [%s]; loganom reads %s", name, strings.Join(bracketed(sectionNames()), ", "))
				}
			}
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i < 0 {
			continue // the INI reader reports what it cannot parse
		}
		key := strings.ToLower(strings.TrimSpace(line[:i]))
		value := strings.TrimSpace(line[i+1:])
		if section == "" {
			warn(n, "%s is before any section, so loganom does not read it", key)
			if s := sectionOf(key); s != "" {
				hint("put it under [" + s + "]")
			}
			continue
		}
		if !known {
			continue // the section was named already
		}
		keys := schema[section]
		if _, ok := keys[key]; !ok {
			if k := nearest(key, keyNames(keys)); k != "" {
				warn(n, "unknown key %s in [%s]; did you mean %s?", key, section, k)
			} else if s := sectionOf(key); s != "" {
				warn(n, "unknown key %s in [%s]; it belongs in [%s]", key, section, s)
			} else {
				warn(n, "unknown key %s in [%s], ignored", key, section)
			}
			continue
		}
		if c := inlineComment(value); c != "" {
			if keys[key] == kSecret || keys[key] == kDSN {
				warn(n, "[%s] %s: the value holds \" #\" or \" ;\", which looks like an inline comment but is part of the value", section, key)
			} else {
				warn(n, "[%s] %s: %q looks like an inline comment but is part of the value", section, key, c)
			}
			hint("put comments on lines of their own")
		}
	}
	return out
}

// inlineComment returns the part of a value from a '#' or ';' that
// follows a blank: what a reader used to other INI dialects would take
// for a comment.
func inlineComment(v string) string {
	for i := 1; i < len(v); i++ {
		if (v[i] == '#' || v[i] == ';') && (v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.TrimSpace(v[i:])
		}
	}
	return ""
}

func sectionNames() []string {
	out := make([]string, 0, len(schema))
	for s := range schema {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func bracketed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = "[" + n + "]"
	}
	return out
}

func keyNames(keys map[string]keyKind) []string {
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sectionOf returns the one section that has key, or "".
func sectionOf(key string) string {
	found := ""
	for _, s := range sectionNames() {
		if _, ok := schema[s][key]; ok {
			if found != "" {
				return "" // several: no single answer
			}
			found = s
		}
	}
	return found
}

// nearest returns the candidate closest to name by edit distance, when it
// is close enough to be a typo (at most a third of the name's length, and
// at least 1), ignoring case; "" otherwise.
func nearest(name string, candidates []string) string {
	best, bestD := "", len(name)/3+1
	if bestD < 2 {
		bestD = 2
	}
	lower := strings.ToLower(name)
	for _, c := range candidates {
		if d := editDistance(lower, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Keys returns the keys of a section that loganom reads, sorted.
func Keys(section string) []string { return keyNames(schema[section]) }
