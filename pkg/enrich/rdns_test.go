package enrich

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReverse(t *testing.T) {
	server := startDNS(t, testZone())
	r, err := NewResolver(server, silentTimeout)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ip   string
		want RDNS
		err  string
	}{
		{"1.2.3.4", RDNS{Name: "good.example", Verified: true}, ""},
		{"5.6.7.8", RDNS{Name: "mail.google.com", Verified: false}, ""}, // a PTR that does not confirm
		{"2001:db8::1", RDNS{Name: "v6.example", Verified: true}, ""},
		{"2.2.2.2", RDNS{Name: "alias.example", Verified: true}, ""}, // through a CNAME
		{"9.9.9.9", RDNS{}, ""}, // no PTR: an answer, not an error
		{"10.0.0.10", RDNS{}, "PTR 10.0.0.10: SERVFAIL"},
		{"10.0.0.20", RDNS{}, "PTR 10.0.0.20: timeout"},
		{"3.3.3.3", RDNS{Name: "broken.example", Verified: false}, "A broken.example: SERVFAIL"},
	} {
		got, err := r.Reverse(context.Background(), netip.MustParseAddr(c.ip))
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.ip, got, c.want)
		}
		if (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: error %v, want %q", c.ip, err, c.err)
		}
	}
}

func TestResolverDefaults(t *testing.T) {
	r, err := NewResolver("192.0.2.53", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Server() != "192.0.2.53:53" || r.timeout != DefaultTimeout {
		t.Errorf("%s %v", r.Server(), r.timeout)
	}
}

// The benchmark's server answers every address with a name that resolves
// back (dnstest's Synthesize), after a delay.
func TestSynthesizedZone(t *testing.T) {
	z := &zone{Synthesize: "bench.example", Delay: 5 * time.Millisecond}
	r, _ := NewResolver(startDNS(t, z), answerTimeout)
	for ip, want := range map[string]string{"198.51.100.7": "h-198-51-100-7.bench.example", "2001:db8::7": "h-2001-db8--7.bench.example"} {
		got, err := r.Reverse(context.Background(), netip.MustParseAddr(ip))
		if err != nil || got != (RDNS{Name: want, Verified: true}) {
			t.Errorf("%s: %+v %v", ip, got, err)
		}
	}
}

// Without --dns, the first nameserver of resolv.conf is asked, with its
// options timeout and attempts when it gives them.
func TestResolvConf(t *testing.T) {
	for _, c := range []struct {
		name, text string
		timeout    time.Duration // given to NewResolver
		server     string
		want       time.Duration
		attempts   int
		err        string
	}{
		{"plain", "nameserver 192.0.2.53\nnameserver 192.0.2.54\n", 0, "192.0.2.53:53", DefaultTimeout, Attempts, ""},
		{"options", "# comment\nsearch example\noptions ndots:2 timeout:3 attempts:4 rotate\nnameserver 2001:db8::53 ; comment\n", 0, "[2001:db8::53]:53", 3 * time.Second, 4, ""},
		{"a timeout given wins", "nameserver 192.0.2.53\noptions timeout:3\n", time.Second, "192.0.2.53:53", time.Second, Attempts, ""},
		{"capped as glibc", "nameserver 192.0.2.53\noptions timeout:300 attempts:50\n", 0, "192.0.2.53:53", 30 * time.Second, 5, ""},
		{"bad values ignored", "nameserver nonsense\nnameserver 192.0.2.53\noptions timeout:x attempts:0\n", 0, "192.0.2.53:53", DefaultTimeout, Attempts, ""},
		{"none", "search example\n", 0, "", 0, 0, "no DNS server: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "resolv.conf")
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := newResolver("", c.timeout, path)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Server() != c.server || r.timeout != c.want || r.stub.attempts != c.attempts {
				t.Errorf("%s %v %d, want %s %v %d", r.Server(), r.timeout, r.stub.attempts, c.server, c.want, c.attempts)
			}
		})
	}
}
