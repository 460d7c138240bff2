package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/loganom/loganom/pkg/enrich/dnstest"
)

// latency: N accounts get days of home logins (São Paulo) first; then,
// one account at a time, the login from far away (Budapest, minutes after
// the last home login: impossible travel) is appended to the followed log,
// and the time from that write to the webhook's receipt of the account's
// alert is measured. Each far address is new: a cold reverse lookup,
// through a DNS server that answers after -delay.
func latency(args []string) error {
	fs := flag.NewFlagSet("latency", flag.ExitOnError)
	n := fs.Int("n", 200, "accounts, one alert each")
	delay := fs.Duration("delay", 50*time.Millisecond, "the DNS server's delay before each answer")
	stdin := fs.Bool("stdin", false, "feed the daemon's stdin (-l -) instead of a followed file")
	noDB := fs.Bool("no-db", false, "run with --no-db (default: a fresh state)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for each alert")
	noRDNS := fs.Bool("no-rdns", false, "run with --no-rdns (no reverse lookups: the pipeline's own latency)")
	fs.Parse(args)
	if *n < 1 || *n > 60000 {
		return fmt.Errorf("-n must be 1 to 60000")
	}
	dir, err := os.MkdirTemp(*workDir, "latency-")
	if err != nil {
		return err
	}
	z := &dnstest.Zone{Synthesize: "bench.example", Delay: *delay}
	dns, err := dnstest.Start(z, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer dns.Close()
	h, err := startHook()
	if err != nil {
		return err
	}
	defer h.close()
	cfg := filepath.Join(dir, "config.ini")
	if err := writeConfig(cfg, dns.Addr, h.url, ""); err != nil {
		return err
	}
	log := filepath.Join(dir, "maillog")
	now := time.Now().UTC()
	args = []string{"postfix-sasl", "--follow", "-c", cfg, "--no-cache", "--format", "json",
		"--metrics", "127.0.0.1:0", "--year", strconv.Itoa(now.Year()), "--tz", "UTC"}
	if *noDB {
		args = append(args, "--no-db")
	} else {
		args = append(args, "--db", filepath.Join(dir, "state.db"))
	}
	if *noRDNS {
		args = append(args, "--no-rdns")
	}
	var w io.Writer
	if *stdin {
		args = append(args, "-l", "-")
	} else {
		args = append(args, "-l", log)
		f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	fmt.Printf("   $ %s\n", commandLine(*loganomBin, args))
	d, err := startDaemon(*loganomBin, args, *stdin, filepath.Join(dir, "stderr.log"))
	if err != nil {
		return err
	}
	defer d.cmd.Process.Kill()
	if *stdin {
		w = d.stdin
	}

	user := func(i int) string { return fmt.Sprintf("u%05d@example.test", i) }
	home := func(i int) string { return fmt.Sprintf("187.45.%d.%d", i/250, i%250+1) }
	far := func(i int) string { return fmt.Sprintf("176.63.%d.%d", i/250, i%250+1) }
	// history: a home login on each of the last 3 days, and one 25 minutes ago
	var b []byte
	lines := 0
	for _, at := range []time.Time{now.Add(-72 * time.Hour), now.Add(-48 * time.Hour), now.Add(-24 * time.Hour), now.Add(-25 * time.Minute)} {
		for i := 0; i < *n; i++ {
			b = loginLine(b, at, user(i), home(i))
			lines++
		}
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	if *stdin {
		// stdin has no idle moments that bring the metrics up to date
		time.Sleep(3 * time.Second)
	} else if _, err := d.waitMetric("the history to be read", time.Minute, 20*time.Millisecond, func(m map[string]float64) bool {
		return m["loganom_lines_read_total"] >= float64(lines) && m["loganom_accounts_tracked"] >= float64(*n)
	}); err != nil {
		return err
	}
	if a := d.alerts(); a != 0 {
		fmt.Printf("   warning: %d alerts during the history (want none)\n", a)
	}
	fmt.Printf("   history: %d home logins of %d accounts read; now %d far logins, one at a time\n", lines, *n, *n)

	var hookLat, printLat dist
	missing := 0
	for i := 0; i < *n; i++ {
		line := loginLine(nil, time.Now(), user(i), far(i))
		t0 := time.Now()
		if _, err := w.Write(line); err != nil {
			return err
		}
		t1, ok := h.wait(user(i), *timeout)
		if !ok {
			missing++
			fmt.Printf("   no alert for %s within %s\n", user(i), *timeout)
			continue
		}
		hookLat = append(hookLat, t1.Sub(t0))
		var tp time.Time
		if deadlineWait(time.Second, func() (ok bool) { tp, ok = d.printedAt(user(i)); return ok }) {
			printLat = append(printLat, tp.Sub(t0))
		}
	}
	m, _ := d.scrape()
	if err := d.stop(); err != nil {
		fmt.Printf("   the daemon's exit: %v\n", err)
	}
	posts, users := h.posts()
	fmt.Printf("   write -> webhook:  %s\n", hookLat)
	fmt.Printf("   write -> stdout:   %s\n", printLat)
	fmt.Printf("   alerts: %d received by the webhook (%d posts), %d printed, %d missing; lookups %v, lookup failures %v\n",
		users, posts, d.alerts(), missing, m["loganom_lookups_total"], m["loganom_lookup_failures_total"])
	verdict := "met"
	if hookLat.q(0.5) > 100*time.Millisecond || hookLat.q(0.99) > time.Second || missing > 0 {
		verdict = "NOT met"
	}
	fmt.Printf("   target p50 <= 100ms, p99 <= 1s: %s\n", verdict)
	return nil
}
