package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loganom/loganom/pkg/enrich/dnstest"
)

// TestWrapperBatchSameAsPipe is TestWrapperReuseSameAsPipe where that
// one does not reach: more logins than the report queues at once (its
// queue is counted in the middle of the run, not only at the end), some
// 6,000 addresses (AddrIDs), users in mixed case, failed logins among
// them, times in two syslog formats and zones, and reverse DNS answered
// late by a server on loopback, so that the enricher holds records back
// and the parser may not reuse their memory (parse.Options.Reuse says no)
// until they have left. With the records given back poisoned, the
// wrapper's report must be the pipe's, with each rule.
func TestWrapperBatchSameAsPipe(t *testing.T) {
	if testing.Short() {
		t.Skip("a log of 24,000 lines through the wrapper and the pipe")
	}
	rng := rand.New(rand.NewPCG(11, 3))
	users := make([]string, 1500)
	home := make([]string, len(users))
	addr := func() string {
		return fmt.Sprintf("%d.%d.%d.%d", []int{81, 177, 45, 203, 91}[rng.IntN(5)], rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
	}
	for i := range users {
		users[i] = fmt.Sprintf("user%d@example.test", i)
		home[i] = addr()
	}
	pool := make([]string, 5000)
	for i := range pool {
		pool[i] = addr()
	}
	cet := time.FixedZone("", 3600)
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	var log bytes.Buffer
	for i := range 24000 { // some 21,600 logins: more than the report queues (batchLogins)
		t0 = t0.Add(time.Duration(rng.IntN(4)) * time.Second)
		u := rng.IntN(len(users))
		user := users[u]
		switch rng.IntN(10) {
		case 0:
			user = strings.ToUpper(user)
		case 1:
			user = strings.ToUpper(user[:1]) + user[1:]
		}
		ip := home[u]
		if rng.IntN(5) < 2 {
			ip = pool[rng.IntN(len(pool))]
		}
		stamp := t0.Format("Jan _2 15:04:05")
		if i%3 == 0 {
			stamp = t0.In(cet).Format("2006-01-02T15:04:05.000000-07:00")
		}
		if rng.IntN(10) == 0 {
			fmt.Fprintf(&log, "%s mail postfix/submission/smtpd[%d]: warning: unknown[%s]: SASL LOGIN authentication failed: authentication failure, sasl_username=%s\n", stamp, 100+i%50, ip, user)
			continue
		}
		fmt.Fprintf(&log, "%s mail postfix/submission/smtpd[%d]: %X: client=unknown[%s], sasl_method=PLAIN, sasl_username=%s\n", stamp, 100+i%50, 0x10000000+i, ip, user)
	}
	srv, err := dnstest.Start(&dnstest.Zone{Synthesize: "example.net", Delay: time.Millisecond}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	logFile := filepath.Join(dir, "maillog")
	if err := os.WriteFile(logFile, log.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// each its own cache: the pipe's lookups are as late as the wrapper's
	conf := func(name string) string {
		c := filepath.Join(dir, name+".ini")
		if err := os.WriteFile(c, []byte(fmt.Sprintf(`[GENERAL]
country_ignore = BR
pattern_org = AS8075

[ENRICH]
geoip = %[1]s/testdata/geo/example-city.mmdb
    %[1]s/testdata/geo/example-asn.mmdb
dns = %[2]s
cache = %[3]s/%[4]s-cache.db
`, root, srv.Addr, dir, name)), 0o600); err != nil {
			t.Fatal(err)
		}
		return c
	}
	env := map[string]string{"TZ": "UTC", "XDG_STATE_HOME": dir, "XDG_CACHE_HOME": dir, "LOGANOM_POISON_REUSE": "1"}
	for _, rule := range []string{"original", "detect"} {
		wrapper, pipe := wrapperAndPipe(t, env, logFile, conf("wrapper-"+rule), conf("pipe-"+rule), "--rule", rule)
		if rule == "original" {
			if n := bytes.Count(wrapper, []byte("\n")); n < 1000 {
				t.Fatalf("the wrapper flagged %d accounts with the original rule, want most of 1,500:\n%.2000s", n, wrapper)
			}
			if !bytes.Contains(wrapper, []byte(`.example.net"`)) {
				t.Fatalf("no reverse name in the report:\n%.2000s", wrapper)
			}
		}
		if !bytes.Equal(wrapper, pipe) {
			w, p := strings.Split(string(wrapper), "\n"), strings.Split(string(pipe), "\n")
			for i := range min(len(w), len(p)) {
				if w[i] != p[i] {
					t.Fatalf("rule %s: the wrapper's report differs from the pipe's at line %d of %d/%d\nwrapper:\n%.3000s\npipe:\n%.3000s", rule, i+1, len(w), len(p), w[i], p[i])
				}
			}
			t.Fatalf("rule %s: the wrapper's report has %d lines, the pipe's %d", rule, len(w), len(p))
		}
		if bytes.Contains(wrapper, []byte("poisoned")) {
			t.Errorf("rule %s: a poisoned record reached the report", rule)
		}
	}
}
