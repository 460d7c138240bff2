package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/loganom/loganom/cmd/internal/cli"
)

// timeKeys are the keys that hold a time. The schema must say so of each
// (kTime, kTimeOff), so that Duration checks every one alike.
var timeKeys = []string{
	"BLOCK.for", "DETECT.first_day", "DETECT.learn", "DETECT.line_hold", "DETECT.scattered_span",
	"ENRICH.timeout", "ENRICH.ttl_geo", "ENRICH.ttl_rdns", "EXEC.timeout",
	"NOTIFY.backoff", "NOTIFY.give_up_after", "NOTIFY.timeout", "POLICY.refresh", "REPORT.window",
	"STATE.keep", "STATE.prune_every", "STATE.realert_after",
}

func TestTimeKeysInSchema(t *testing.T) {
	var got []string
	for _, s := range sectionNames() {
		for _, k := range keyNames(schema[s]) {
			if kk := schema[s][k]; kk == kTime || kk == kTimeOff {
				got = append(got, s+"."+k)
			}
		}
	}
	if !slices.Equal(got, timeKeys) {
		t.Errorf("time keys in the schema:\n%q\nwant\n%q", got, timeKeys)
	}
}

// Every time key reads a time with its unit, and refuses alike a bare
// number ("window = 24" was 24 seconds), a negative time (some keys
// took "-5h" for their default, others refused it) and zero, except
// [STATE] prune_every, whose 0 is documented: never.
func TestDurationKeys(t *testing.T) {
	dir := t.TempDir()
	for _, sk := range timeKeys {
		section, key, _ := ParseTag(sk)
		for _, tc := range []struct {
			value  string
			want   time.Duration
			err    string // "": no error
			noUnit bool
		}{
			{value: "36h", want: 36 * time.Hour},
			{value: "1.5d", want: 36 * time.Hour},
			{value: "90m", want: 90 * time.Minute},
			{value: "24", err: `"24" has no unit`, noUnit: true},
			{value: "1.5", err: `"1.5" has no unit`, noUnit: true},
			{value: "-5", err: `"-5" has no unit`, noUnit: true},
			{value: "-5h", err: `"-5h" is not above zero: want a time, like 2s, 36h or 30d`},
			{value: "-1d", err: `"-1d" is not above zero: want a time, like 2s, 36h or 30d`},
			{value: "0", err: `"0" is not above zero: want a time, like 2s, 36h or 30d`},
			{value: "0s", err: `"0s" is not above zero: want a time, like 2s, 36h or 30d`},
			{value: "soon", err: `"soon" is not a duration (like 2s, 36h, 30d)`},
		} {
			if sk == "STATE.prune_every" {
				switch tc.value {
				case "0", "0s":
					tc.err = ""
				case "-5h", "-1d":
					tc.err = `"` + tc.value + `" is negative: want a time, like 24h, or 0 (off)`
				}
			}
			path := filepath.Join(dir, "c.ini")
			if err := os.WriteFile(path, []byte("["+section+"]\n"+key+" = "+tc.value+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			d, set, err := cfg.Duration(section, key)
			where := path + ":2: [" + section + "] " + key + ": "
			if tc.err == "" {
				if err != nil || !set || d != tc.want {
					t.Errorf("%s = %s: got %v, %v, %v; want %v", sk, tc.value, d, set, err, tc.want)
				}
				continue
			}
			var ue cli.UsageError
			if err == nil || err.Error() != where+tc.err || !errors.As(err, &ue) || cli.ExitCodeOf(err) != cli.ExitUsage {
				t.Errorf("%s = %s: got %v, %v, %v; want the usage error %s", sk, tc.value, d, set, err, where+tc.err)
				continue
			}
			if tc.noUnit && ue.Hint != "write "+tc.value+"h or "+tc.value+"d (or "+tc.value+"m, "+tc.value+"s): a time needs its unit" {
				t.Errorf("%s = %s: hint %q", sk, tc.value, ue.Hint)
			}
		}
	}
}
