package enrichcmd

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/loganom/loganom/cmd/internal/cli"
	"github.com/loganom/loganom/pkg/enrich/dnstest"
)

// The debug trace (LOGLEVEL=DEBUG) prints what a DNS server and a database
// said of an address; hostile names in it come out escaped, never raw.
func TestEnrichTraceInert(t *testing.T) {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-City", RecordSize: 24, IPVersion: 6})
	if err != nil {
		t.Fatal(err)
	}
	_, n, _ := net.ParseCIDR("187.45.0.0/16")
	err = tree.Insert(n, mmdbtype.Map{
		"country":                        mmdbtype.Map{"iso_code": mmdbtype.String("BR")},
		"city":                           mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String("\x1b]0;owned\x07S\u202eoluaP")}},
		"autonomous_system_number":       mmdbtype.Uint32(64500),
		"autonomous_system_organization": mmdbtype.String("Evil\u200bCorp\x00"),
	})
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "hostile.mmdb")
	f, err := os.Create(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	f.Close()

	// A PTR name with ESC, BEL and U+202E in it, as bytes on the wire.
	z, err := dnstest.ParseZone(`9.12.45.187.in-addr.arpa. 300 IN PTR evil\027]0\059x\007\226\128\174.example.`)
	if err != nil {
		t.Fatal(err)
	}
	s, err := dnstest.Start(z, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	var stdout, stderr bytes.Buffer
	env := cli.Env{
		Args:   []string{"--geoip", db, "--dns", s.Addr, "--timeout", "5s", "--no-cache"},
		Stdin:  strings.NewReader(`{"type":"login","user":"a","ip":"187.45.12.9"}` + "\n"),
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string {
			if k == "LOGLEVEL" {
				return "DEBUG"
			}
			return ""
		},
	}
	if code := Main(env); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	trace := stderr.String()
	if i := strings.IndexFunc(trace, func(r rune) bool {
		return r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r < 0xa0 || strings.ContainsRune("\u202e\u200b", r)
	}); i >= 0 {
		t.Errorf("a raw control or format character at %d in the trace:\n%q", i, trace)
	}
	want := `loganom-enrich: debug: 187.45.12.9: rdns evil\027]0\;x\007\226\128\174.example (does not resolve back), country BR "\x1b]0;owned\aS\u202eoluaP", AS64500 "Evil\u200bCorp\x00"` + "\n"
	if !strings.Contains(trace, want) {
		t.Errorf("trace:\n%s\nwant the line\n%s", trace, want)
	}
}

// A DNS server that reads queries and never answers is given up on: one
// warning with a hint while the run goes on, the records say so, and the
// summary at the end counts them.
func TestEnrichDeadDNS(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	addr := pc.LocalAddr().String()
	var in strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&in, `{"type":"login","user":"a","ip":"198.18.%d.%d"}`+"\n", i/250, 1+i%250)
	}
	var stdout, stderr bytes.Buffer
	env := cli.Env{
		// a geo database: without one, each record would also say that
		// no geo source is configured
		Args:   []string{"--dns", addr, "--timeout", "100ms", "--workers", "4", "--no-cache", "--geoip", "../../../testdata/geo/example-city.mmdb"},
		Stdin:  strings.NewReader(in.String()),
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(string) string { return "" },
	}
	if code := Main(env); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	errs := stderr.String()
	warn := "loganom-enrich: warning: DNS server " + addr + " not answering: 20 queries in a row failed (the last: timeout); not asked again in this run, and the records say so in enrich_errors\n" +
		"loganom-enrich: hint: is the DNS server " + addr + " reachable? --dns names another, --timeout waits longer, --no-rdns turns reverse DNS off\n"
	if strings.Count(errs, "not answering:") != 1 || !strings.Contains(errs, warn) {
		t.Errorf("stderr:\n%s\nwant once:\n%s", errs, warn)
	}
	if !strings.Contains(errs, "rdns: skipped: DNS server "+addr+" not answering ×") || strings.Contains(errs, "answered some queries") {
		t.Errorf("summary:\n%s", errs)
	}
	if n := strings.Count(stdout.String(), `"enrich_errors":["rdns: skipped: DNS server `+addr+` not answering"]`); n < 300-20-4 {
		t.Errorf("%d records skipped", n)
	}
}

// A DNS server that refuses every query (nothing listens on its port: the
// resolver in resolv.conf is down) gets the hint that asks whether it is
// reachable, not that it answered some queries: it answered none.
func TestEnrichRefusedDNS(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nothing listens there now: ICMP port unreachable
	var in strings.Builder
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&in, `{"type":"login","user":"a","ip":"198.18.0.%d"}`+"\n", 1+i)
	}
	var stdout, stderr bytes.Buffer
	env := cli.Env{
		Args:   []string{"--dns", addr, "--timeout", "100ms", "--no-cache"},
		Stdin:  strings.NewReader(in.String()),
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(string) string { return "" },
	}
	if code := Main(env); code != cli.ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	errs := stderr.String()
	if !strings.Contains(errs, "lookups failed (rdns: connection refused ×") {
		if os.Getenv("CI") != "" {
			t.Fatalf("no connection refused from loopback under CI:\n%s", errs)
		}
		t.Skipf("no connection refused here (a firewall that drops?):\n%s", errs)
	}
	if want := "loganom-enrich: hint: is the DNS server " + addr + " reachable?"; !strings.Contains(errs, want) || strings.Contains(errs, "answered some") {
		t.Errorf("stderr:\n%s\nwant the hint %q", errs, want)
	}
}
