package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// A time flag reads as the config's time keys do (days too), and
// refuses alike a bare number, with the same hint, and a time that is
// not above zero; the usage error exits with 2.
func TestDurationFlag(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		want   time.Duration
		stderr string // "": none
	}{
		{args: []string{"--refresh", "2s"}, want: 2 * time.Second},
		{args: []string{"--refresh", "1d"}, want: 24 * time.Hour},
		{args: []string{"--refresh", "24"}, stderr: "p: error: --refresh: \"24\" has no unit\np: hint: write 24h or 24d (or 24m, 24s): a time needs its unit\n"},
		{args: []string{"--refresh=-1h"}, stderr: "p: error: --refresh: \"-1h\" is not above zero: want a time, like 2s, 36h or 30d\np: hint: see 'p --help'\n"},
		{args: []string{"--refresh", "0"}, stderr: "p: error: --refresh: \"0\" is not above zero: want a time, like 2s, 36h or 30d\np: hint: see 'p --help'\n"},
		{args: []string{"--refresh", "soon"}, stderr: "p: error: --refresh: \"soon\" is not a duration (like 2s, 36h, 30d)\np: hint: see 'p --help'\n"},
	} {
		var g struct {
			Refresh time.Duration `placeholder:"TIME"`
		}
		var stdout, stderr bytes.Buffer
		log := &Logger{Prog: "p", W: &stderr}
		code, done := ParseArgs(Env{Args: tc.args, Stdout: &stdout, Stderr: &stderr}, log, &g, "")
		if tc.stderr == "" {
			if done || g.Refresh != tc.want || stderr.Len() > 0 {
				t.Errorf("%s: got %v (done %v), stderr %q; want %v", strings.Join(tc.args, " "), g.Refresh, done, stderr.String(), tc.want)
			}
			continue
		}
		if !done || code != ExitUsage || stderr.String() != tc.stderr {
			t.Errorf("%s: done %v, exit %d, stderr\n%s\nwant exit %d, stderr\n%s", strings.Join(tc.args, " "), done, code, stderr.String(), ExitUsage, tc.stderr)
		}
	}
}

// Days that no time.Duration holds (NaN, the infinities, more than some
// 292 years) are an error, not whatever converting them gives.
func TestParseDurationDaysOutOfRange(t *testing.T) {
	for _, s := range []string{"nand", "infd", "-infd", "200000d", "-200000d"} {
		if d, err := ParseDuration(s); err == nil {
			t.Errorf("%s: %v, want an error", s, d)
		}
	}
	if d, err := ParseDuration("1.5d"); err != nil || d != 36*time.Hour {
		t.Errorf("1.5d: %v, %v", d, err)
	}
}
