// Package config is the INI configuration of the loganom commands: how it
// is read (Config), the keys loganom knows (the schema, with warnings for
// the others), and how a stage command starts (Start).
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/ini.v1"

	"github.com/loganom/loganom/cmd/internal/cli"
)

// Config is the INI file the original tool used ([GENERAL], [SMTP],
// [MATTERMOST], [TEAMS]) plus loganom's sections ([ENRICH] …), read the
// way Python's configparser reads it: key names in any case, values that
// continue on lines indented more than their key (comment and empty lines
// among them skipped), quotes and backslashes as written, and no inline
// comments (a '#' in a password stays part of it). gopkg.in/ini.v1 reads
// the values, from the file as layout lays it out for it.
type Config struct {
	Path   string
	f      *ini.File
	filled map[string]bool           // "SECTION.key" that Fill set a field from
	text   []byte                    // the file as layout laid it out, for Check
	lines  []int                     // the file's line of each line of text
	keys   map[string]map[string]int // the file's line of each key of each section (where)
}

// LoadConfig reads an INI file; "" gives an empty configuration.
func LoadConfig(path string) (*Config, error) {
	c := &Config{Path: path}
	if path == "" {
		c.f = ini.Empty()
		return c, nil
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	laid, lines, keys, err := layout(path, text)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	f, err := ini.LoadSources(ini.LoadOptions{
		Insensitive:                false,
		InsensitiveKeys:            true,
		AllowPythonMultilineValues: true,
		IgnoreInlineComment:        true,
		IgnoreContinuation:         true,
		PreserveSurroundedQuote:    true,
		SkipUnrecognizableLines:    false,
		// ini.v1 finds the lines that go on a value within its
		// reader's buffer only (4 KiB by default): the rest of a
		// longer list would be read as keys.
		ReaderBufferSize: len(laid) + 1,
	}, laid)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %s", path, strings.TrimSpace(err.Error())) // ini ends some with a new line
	}
	c.f, c.text, c.lines, c.keys = f, laid, lines, keys
	return c, nil
}

// String returns a value and whether it is set. A file name (a key of
// kind kPath) that is relative is resolved from the config file's
// directory, so that a config works from any working directory.
func (c *Config) String(section, key string) (string, bool) {
	v, ok := c.raw(section, key)
	if k := kind(section, key); ok && (k == kPath || k == kDSN && !strings.Contains(v, "://")) {
		v = c.resolve(v)
	}
	return v, ok
}

func (c *Config) raw(section, key string) (string, bool) {
	s, err := c.f.GetSection(section)
	if err != nil || !s.HasKey(key) {
		return "", false
	}
	// configparser strips each line of a value (ini.v1 keeps the
	// indentation of the lines that go on it)
	v := strings.TrimSpace(s.Key(key).String())
	if strings.Contains(v, "\n") {
		ls := strings.Split(v, "\n")
		for i, l := range ls {
			ls[i] = strings.TrimSpace(l)
		}
		v = strings.Join(ls, "\n")
	}
	return v, true
}

// resolve makes a relative file name relative to the config's directory.
func (c *Config) resolve(name string) string {
	if name == "" || c.Path == "" || filepath.IsAbs(name) || name == "-" {
		return name
	}
	if strings.HasPrefix(name, "~/") {
		return name // not expanded, as configparser does not; the error will say so
	}
	return filepath.Join(filepath.Dir(c.Path), name)
}

// List splits a value on new lines and commas, as the original's lists
// (pattern_ip one per line, country_ignore with commas) were written.
// File names (kPaths) are resolved as String resolves them.
func (c *Config) List(section, key string) []string {
	v, _ := c.raw(section, key)
	paths := kind(section, key) == kPaths
	var out []string
	for _, line := range strings.Split(v, "\n") {
		for _, item := range strings.Split(line, ",") {
			if item = strings.TrimSpace(item); item != "" {
				if paths {
					item = c.resolve(item)
				}
				out = append(out, item)
			}
		}
	}
	return out
}

// Where names a key for messages: "config.ini:12: [ENRICH] geoip", with
// the line the key is on in its section; without a line when the file
// does not give the key there (a default, or no file).
func (c *Config) Where(section, key string) string { return c.where(section, key) }

func (c *Config) where(section, key string) string {
	if n, ok := c.keys[section][strings.ToLower(key)]; ok {
		return fmt.Sprintf("%s:%d: [%s] %s", c.Path, n, section, key)
	}
	return fmt.Sprintf("%s: [%s] %s", c.Path, section, key)
}

// Bool reads true/false, yes/no, on/off, 1/0.
func (c *Config) Bool(section, key string) (v, set bool, err error) {
	s, ok := c.String(section, key)
	if !ok || s == "" {
		return false, false, nil
	}
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1":
		return true, true, nil
	case "false", "no", "off", "0":
		return false, true, nil
	}
	return false, false, cli.Usagef("%s: %q is not true or false", c.where(section, key), s)
}

// Int reads a whole number.
func (c *Config) Int(section, key string) (v int, set bool, err error) {
	s, ok := c.String(section, key)
	if !ok || s == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, false, cli.Usagef("%s: %q is not a whole number", c.where(section, key), s)
	}
	return n, true, nil
}

// Duration reads a time key (kTime, kTimeOff in the schema): "2s",
// "36h", "30d". A bare number is refused, with a hint, rather than taken
// as seconds ("window = 24" is not 24 s); so is a negative time, and zero
// but where it means off (kTimeOff). Each error is a usage error naming
// "FILE: [SECTION] key".
func (c *Config) Duration(section, key string) (v time.Duration, set bool, err error) {
	k := kind(section, key)
	if k != kTime && k != kTimeOff {
		panic(fmt.Sprintf("config: [%s] %s is not a time in the schema", section, key))
	}
	s, ok := c.String(section, key)
	if !ok || s == "" {
		return 0, false, nil
	}
	d, err := ParseDuration(s)
	switch {
	case errors.Is(err, cli.ErrNoUnit):
		return 0, false, cli.UsageError{Err: fmt.Errorf("%s: %q %w", c.where(section, key), s, cli.ErrNoUnit), Hint: cli.NoUnitHint(s)}
	case err != nil:
		return 0, false, cli.Usagef("%s: %q is not a duration (like 2s, 36h, 30d)", c.where(section, key), s)
	case d < 0 && k == kTimeOff:
		return 0, false, cli.Usagef("%s: %q is negative: want a time, like 24h, or 0 (off)", c.where(section, key), s)
	case d <= 0 && k == kTime:
		return 0, false, cli.Usagef("%s: %q is not above zero: want a time, like 2s, 36h or 30d", c.where(section, key), s)
	}
	return d, true, nil
}

// ParseDuration reads a duration as the config writes them: "2s", "36h",
// "30d" (days); "0" is zero, another bare number cli.ErrNoUnit. Flags
// that take an age use it too.
func ParseDuration(s string) (time.Duration, error) { return cli.ParseDuration(s) }

// Start is how a stage command begins: parse the flags into grammar, turn
// on debug output (the flag or LOGLEVEL=DEBUG), load the config, warn
// when it exposes a secret, and fill in from it what no flag gave (Fill). done says the command should stop with code.
func Start(env cli.Env, log *cli.Logger, grammar any, desc string, debug *bool, config *string) (cfg *Config, code int, done bool) {
	if code, done := cli.ParseArgs(env, log, grammar, desc); done {
		return nil, code, true
	}
	log.Debug = *debug || cli.DebugFromEnv(env.Getenv)
	cfg, err := LoadConfig(*config)
	if err != nil {
		log.Errorf("%v", err)
		return nil, cli.ExitCodeOf(err), true // 1, or 2 for a usage error (a key given twice)
	}
	cfg.Check(log)
	CheckSecrets(cfg, log)
	if err := cfg.Fill(grammar); err != nil {
		log.Errorf("%v", err)
		return nil, cli.ExitCodeOf(err), true
	}
	return cfg, 0, false
}

// CheckSecrets warns when a config file that holds a password or a key
// can be read by others than its owner.
func CheckSecrets(cfg *Config, log *cli.Logger) {
	if cfg.Path == "" {
		return
	}
	fi, err := os.Stat(cfg.Path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return
	}
	for _, k := range [][2]string{{"SMTP", "pass"}, {"MATTERMOST", "api_key"}, {"GENERAL", "ipinfo_token"}, {"TEAMS", "url"}, {"WEBHOOK", "url"}, {"STATE", "db"}} {
		if v, _ := cfg.String(k[0], k[1]); v != "" && (k[0] != "STATE" || dsnPassword(v)) {
			log.Warnf("%s holds a secret ([%s] %s) and others than its owner may read it (mode %04o)", cfg.Path, k[0], k[1], fi.Mode().Perm())
			log.Hintf("chmod 600 %s", cfg.Path)
			return
		}
	}
}

// dsnPassword tells whether a database URL holds a password.
func dsnPassword(dsn string) bool {
	u, err := url.Parse(dsn)
	if err != nil {
		return strings.Contains(dsn, "password")
	}
	_, set := u.User.Password()
	return set || u.Query().Has("password")
}
