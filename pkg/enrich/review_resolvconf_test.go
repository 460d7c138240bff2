package enrich

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// resolv.conf as systems write it: an IPv6 nameserver with its zone (a
// link-local address), CRLF line ends, options over several lines (the
// last wins, as in glibc), a missing file.
func TestReviewResolvConf(t *testing.T) {
	for _, c := range []struct {
		name, text string
		server     string
		attempts   int
		err        string
	}{
		{"link-local with zone", "nameserver fe80::1%lo\n", "[fe80::1%lo]:53", Attempts, ""},
		{"CRLF", "nameserver 192.0.2.53\r\noptions attempts:3\r\n", "192.0.2.53:53", 3, ""},
		{"two options lines", "options attempts:3\nnameserver 192.0.2.53\noptions attempts:4 edns0 trust-ad\n", "192.0.2.53:53", 4, ""},
		{"mapped", "nameserver ::ffff:192.0.2.53\n", "[::ffff:192.0.2.53]:53", Attempts, ""},
		{"missing", "", "", 0, "no DNS server: open "},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "resolv.conf")
			if c.text != "" {
				if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r, err := newResolver("", 0, path)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Server() != c.server || r.stub.attempts != c.attempts {
				t.Errorf("%s %d, want %s %d", r.Server(), r.stub.attempts, c.server, c.attempts)
			}
		})
	}
}
