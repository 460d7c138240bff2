package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWrapperSharedSameAsPipe: with [DETECT] shared set, the wrapper's
// report is the pipe's (loganom-parse | loganom-enrich | loganom-filter
// | loganom-report, the same config), each account named in its own way
// (an address in another case, a local part, a domain) weighed low on
// both; and the original rule ignores the key.
func TestWrapperSharedSameAsPipe(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	id := 0
	l := func(stamp, ip, user string) {
		id++
		fmt.Fprintf(&log, "%s mail postfix/submission/smtpd[100]: %X: client=unknown[%s], sasl_method=PLAIN, sasl_username=%s\n", stamp, 0x10000+id, ip, user)
	}
	// each at home for four days (São Paulo, whitelisted by its
	// country; Budapest), then in Osaka 20 minutes after home
	users := []string{"Dave@Example.test", "info@example.test", "erin@example.org"}
	homes := []string{"187.45.12.9", "176.63.195.207", "188.76.17.119"}
	for d := 23; d <= 26; d++ {
		for i, u := range users {
			l(fmt.Sprintf("Nov %d 09:0%d:00", d, i), homes[i], u)
			l(fmt.Sprintf("Nov %d 15:0%d:00", d, i), homes[i], strings.ToLower(u))
		}
	}
	for i, u := range users {
		l(fmt.Sprintf("Nov 27 10:0%d:00", i), homes[i], u)
		l(fmt.Sprintf("Nov 27 10:2%d:00", i), "60.56.32.1", strings.ToUpper(u))
	}
	dir := t.TempDir()
	logFile := filepath.Join(dir, "maillog")
	if err := os.WriteFile(logFile, log.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := func(name, extra string) string {
		c := filepath.Join(dir, name+".ini")
		if err := os.WriteFile(c, []byte(fmt.Sprintf(`[GENERAL]
country_ignore = BR
[ENRICH]
geoip = %[1]s/testdata/geo/example-city.mmdb
    %[1]s/testdata/geo/example-asn.mmdb
rdns = false
cache = %[2]s/%[3]s-cache.db
%[4]s`, root, dir, name, extra)), 0o600); err != nil {
			t.Fatal(err)
		}
		return c
	}
	shared := "[DETECT]\nshared = DAVE@example.TEST, info@\n    @EXAMPLE.org\n"
	env := map[string]string{"TZ": "UTC", "XDG_STATE_HOME": dir, "XDG_CACHE_HOME": dir}
	for _, rule := range []string{"detect", "original"} {
		args := []string{"--rule", rule, "--alert", "low"}
		if rule == "original" {
			args = args[:2]
		}
		plain, _ := wrapperAndPipe(t, env, logFile, conf("plain-"+rule, ""), conf("plain-pipe-"+rule, ""), args...)
		wrapper, pipe := wrapperAndPipe(t, env, logFile, conf("wrapper-"+rule, shared), conf("pipe-"+rule, shared), args...)
		if !bytes.Equal(wrapper, pipe) {
			t.Errorf("rule %s: the wrapper's report differs from the pipe's\nwrapper:\n%s\npipe:\n%s", rule, wrapper, pipe)
		}
		if rule == "original" {
			if !bytes.Equal(wrapper, plain) {
				t.Errorf("rule original: [DETECT] shared changed the report\nwith:\n%s\nwithout:\n%s", wrapper, plain)
			}
			continue
		}
		if n := bytes.Count(plain, []byte(`"severity":"high","reasons"`)); n != 3 {
			t.Errorf("without [DETECT] shared, %d accounts high, want 3:\n%s", n, plain)
		}
		if n := bytes.Count(wrapper, []byte("weighed low: the account is shared ([DETECT] shared)")); n != 3 || bytes.Contains(wrapper, []byte(`"severity":"high","reasons"`)) {
			t.Errorf("with [DETECT] shared, want the 3 accounts weighed low:\n%s", wrapper)
		}
	}
}
