// Command benchlive measures the live daemon, loganom postfix-sasl
// --follow, on loopback only (scripts/bench-live runs it):
//
//	benchlive [common flags] latency     # write of the anomalous line -> webhook, 200 alerts
//	benchlive [common flags] throughput  # lines/s appended and read, against loganom-parse
//	benchlive [common flags] soak        # 10M logins, rotations, RSS curve, history counts
//
// Each runs the daemon as a child process on a log it appends to, with a
// DNS server (pkg/enrich/dnstest) and a webhook receiver of its own on
// 127.0.0.1, and reads its Prometheus metrics (--metrics 127.0.0.1:0).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

var (
	loganomBin = flag.String("loganom", "loganom", "the loganom binary")
	parseBin   = flag.String("parse", "loganom-parse", "the loganom-parse binary (throughput's baseline)")
	geoDir     = flag.String("geo", "testdata/geo", "directory of example-city.mmdb and example-asn.mmdb")
	workDir    = flag.String("dir", "", "work directory (default: a new one in $TMPDIR)")
)

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: benchlive [-loganom BIN] [-parse BIN] [-geo DIR] [-dir DIR] latency|throughput|soak [flags]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if *workDir == "" {
		d, err := os.MkdirTemp("", "benchlive-")
		check(err)
		*workDir = d
	}
	check(os.MkdirAll(*workDir, 0o755))
	g, err := filepath.Abs(*geoDir)
	check(err)
	*geoDir = g
	var run func([]string) error
	switch flag.Arg(0) {
	case "latency":
		run = latency
	case "throughput":
		run = throughput
	case "soak":
		run = soak
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Args()[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchlive: error:", err)
		os.Exit(1)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchlive: error:", err)
		os.Exit(1)
	}
}

// writeConfig writes a config with the example databases, the DNS server
// and, when hookURL is set, a webhook.
func writeConfig(path, dns, hookURL string, extra string) error {
	cfg := fmt.Sprintf("[ENRICH]\ngeoip = %s/example-city.mmdb\n    %s/example-asn.mmdb\n", *geoDir, *geoDir)
	if dns != "" {
		cfg += "dns = " + dns + "\n"
	}
	if hookURL != "" {
		cfg += "\n[WEBHOOK]\nenabled = true\nurl = " + hookURL + "\n"
	}
	cfg += extra
	return os.WriteFile(path, []byte(cfg), 0o600)
}

// loginLine is a Postfix submission login, in classic syslog format (UTC).
func loginLine(b []byte, at time.Time, user, ip string) []byte {
	b = at.UTC().AppendFormat(b, time.Stamp)
	b = append(b, " mail postfix/submission/smtpd[4242]: 2C0430163C: client=unknown["...)
	b = append(b, ip...)
	b = append(b, "], sasl_method=LOGIN, sasl_username="...)
	b = append(b, user...)
	return append(b, '\n')
}

// commandLine shows a command as it could be typed.
func commandLine(bin string, args []string) string {
	q := make([]string, 0, len(args)+1)
	for _, a := range append([]string{bin}, args...) {
		if strings.ContainsAny(a, " \t'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q = append(q, a)
	}
	return strings.Join(q, " ")
}
