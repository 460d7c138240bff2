package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
)

type fillTarget struct {
	embedded
	Workers  *int           `ini:"ENRICH.workers"`
	Timeout  *time.Duration `ini:"ENRICH.timeout"`
	TTL      time.Duration  `ini:"ENRICH.ttl_rdns"`
	DNS      string         `ini:"ENRICH.dns"`
	Cache    string         `ini:"ENRICH.cache"`
	GeoIP    []string       `ini:"ENRICH.geoip"`
	NoRDNS   bool           `ini:"ENRICH.rdns,negate"`
	MinIPs   int            `ini:"REPORT.min_ips"`
	Untagged string
}

type embedded struct {
	KeepPrivate bool     `ini:"FILTER.keep_private"`
	PatternIP   []string `ini:"GENERAL.pattern_ip"`
}

func ptr[T any](v T) *T { return &v }

// Fill sets what no flag gave from the config, in the field's type; a
// given flag wins; file names resolve from the config's directory.
func TestFill(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.ini")
	ini := `[ENRICH]
workers = 8
timeout = 1500ms
ttl_rdns = 2d
dns = 127.0.0.1:53
cache = cache.db
geoip = a.mmdb, /abs/b.mmdb
  c.mmdb
rdns = no
[FILTER]
keep_private = yes
[GENERAL]
pattern_ip = google.com
  example.org,example.net
[REPORT]
min_ips = 3
`
	if err := os.WriteFile(path, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		given, want fillTarget
		filled      []string // keys Fill took from the file
	}{{
		name: "nothing given",
		want: fillTarget{
			embedded: embedded{KeepPrivate: true, PatternIP: []string{"google.com", "example.org", "example.net"}},
			Workers:  ptr(8), Timeout: ptr(1500 * time.Millisecond), TTL: 48 * time.Hour, DNS: "127.0.0.1:53",
			Cache: filepath.Join(dir, "cache.db"), GeoIP: []string{filepath.Join(dir, "a.mmdb"), "/abs/b.mmdb", filepath.Join(dir, "c.mmdb")},
			NoRDNS: true, MinIPs: 3,
		},
		filled: []string{"ENRICH.workers", "ENRICH.dns", "ENRICH.rdns", "GENERAL.pattern_ip"},
	}, {
		name:  "flags given",
		given: fillTarget{Workers: ptr(0), DNS: "10.0.0.1:53", GeoIP: []string{"x.mmdb"}, MinIPs: 5, Untagged: "u"},
		want: fillTarget{
			embedded: embedded{KeepPrivate: true, PatternIP: []string{"google.com", "example.org", "example.net"}},
			Workers:  ptr(0), Timeout: ptr(1500 * time.Millisecond), TTL: 48 * time.Hour, DNS: "10.0.0.1:53",
			Cache: filepath.Join(dir, "cache.db"), GeoIP: []string{"x.mmdb"}, NoRDNS: true, MinIPs: 5, Untagged: "u",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg.filled = nil
			got := tc.given
			if err := cfg.Fill(&got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			for _, k := range tc.filled {
				if !cfg.filled[k] {
					t.Errorf("%s not marked as filled", k)
				}
			}
			if tc.given.DNS != "" && cfg.Origin("ENRICH", "dns", "--dns") != "--dns" {
				t.Errorf("origin of a given --dns: %q", cfg.Origin("ENRICH", "dns", "--dns"))
			}
		})
	}
}

// A value that is not of its field's type is a usage error naming the
// file, section and key; an empty value or a missing key leaves the field.
func TestFillErrors(t *testing.T) {
	for _, tc := range []struct{ ini, want string }{
		{"[ENRICH]\nworkers = many\n", `c.ini:2: [ENRICH] workers: "many" is not a whole number`},
		{"[ENRICH]\ntimeout = soon\n", `c.ini:2: [ENRICH] timeout: "soon" is not a duration (like 2s, 36h, 30d)`},
		{"[ENRICH]\ntimeout = 24\n", `c.ini:2: [ENRICH] timeout: "24" has no unit`},
		{"[ENRICH]\nttl_rdns = -1d\n", `c.ini:2: [ENRICH] ttl_rdns: "-1d" is not above zero: want a time, like 2s, 36h or 30d`},
		{"[ENRICH]\nttl_rdns = 0\n", `c.ini:2: [ENRICH] ttl_rdns: "0" is not above zero: want a time, like 2s, 36h or 30d`},
		{"[ENRICH]\nrdns = maybe\n", `c.ini:2: [ENRICH] rdns: "maybe" is not true or false`},
		{"[FILTER]\nkeep_private = 2\n", `c.ini:2: [FILTER] keep_private: "2" is not true or false`},
		{"[ENRICH]\nworkers =\ntimeout =\n", ""},
	} {
		path := filepath.Join(t.TempDir(), "c.ini")
		if err := os.WriteFile(path, []byte(tc.ini), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		var got fillTarget
		err = cfg.Fill(&got)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.ini, err)
		case tc.want == "" && !reflect.DeepEqual(got, fillTarget{}):
			t.Errorf("%q: filled %+v", tc.ini, got)
		case tc.want != "" && (err == nil || err.Error() != filepath.Dir(path)+"/"+tc.want || cli.ExitCodeOf(err) != cli.ExitUsage):
			t.Errorf("%q: got %v (exit %d), want %s", tc.ini, err, cli.ExitCodeOf(err), tc.want)
		}
	}
}

// An error about a value names the line of its key in its section; the
// line counts the comments, empty lines and lines of values above it. A
// key the file does not give there (a default) is named without a line:
// loganom reads no key from [DEFAULT] (checkINI warns of it).
func TestWhereNamesTheLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.ini")
	text := "# loganom\n" + // 1
		"[DEFAULT]\n" + // 2
		"timeout = soon\n" + // 3
		"\n" + // 4
		"[GENERAL]\n" + // 5
		"pattern_ip = 10.\n" + // 6
		"    192.168.\n" + // 7
		"; a comment\n" + // 8
		"[ENRICH]\n" + // 9
		"  # indented comment\n" + // 10
		"Workers = many\n" // 11
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ section, key, want string }{
		{"ENRICH", "workers", path + ":11: [ENRICH] workers"},
		{"GENERAL", "pattern_ip", path + ":6: [GENERAL] pattern_ip"},
		{"ENRICH", "timeout", path + ": [ENRICH] timeout"},
		{"REPORT", "window", path + ": [REPORT] window"},
	} {
		if got := cfg.Where(tc.section, tc.key); got != tc.want {
			t.Errorf("Where(%s, %s) = %q, want %q", tc.section, tc.key, got, tc.want)
		}
	}
	var got fillTarget
	err = cfg.Fill(&got)
	if want := path + ":11: [ENRICH] workers: \"many\" is not a whole number"; err == nil || err.Error() != want {
		t.Errorf("Fill: %v, want %s", err, want)
	}
	if _, set, err := cfg.Duration("ENRICH", "timeout"); set || err != nil {
		t.Errorf("Duration of a key in [DEFAULT] only: %v, %v", set, err)
	}
}
