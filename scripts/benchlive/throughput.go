package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/loganom/loganom/pkg/enrich/dnstest"
)

// throughput: a log (scripts/genlog's realistic mix) is appended to the
// followed file as fast as it can be written, and the time until the
// daemon has read every line (its loganom_lines_read_total) gives the
// lines per second; loganom-parse on the same file, in alternating
// rounds, is the baseline.
func throughput(args []string) error {
	fs := flag.NewFlagSet("throughput", flag.ExitOnError)
	logIn := fs.String("log", "", "the log to append (required): scripts/genlog's output")
	rounds := fs.Int("rounds", 3, "rounds, each a loganom-parse run then a daemon run")
	year := fs.Int("year", 2025, "--year of the log's timestamps (genlog starts in 2025)")
	stdin := fs.Bool("stdin", false, "feed the daemon's stdin (-l -) and time it to its exit, instead of a followed file")
	noDB := fs.Bool("no-db", false, "run with --no-db (default: a fresh state)")
	chunk := fs.Int("chunk", 1<<20, "bytes per write")
	fs.Parse(args)
	if *logIn == "" {
		return fmt.Errorf("-log is required")
	}
	data, err := os.ReadFile(*logIn)
	if err != nil {
		return err
	}
	lines := bytes.Count(data, []byte{'\n'})
	logins := bytes.Count(data, []byte("sasl_username="))
	fmt.Printf("   input: %s, %d lines (%d with sasl_username=), %.0f MB\n", *logIn, lines, logins, float64(len(data))/1e6)
	dns, err := dnstest.Start(&dnstest.Zone{Synthesize: "bench.example"}, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer dns.Close()
	yr := strconv.Itoa(*year)
	parseArgs := []string{"--year", yr, "--tz", "UTC", *logIn}
	fmt.Printf("   baseline $ %s > /dev/null\n", commandLine(*parseBin, parseArgs))
	var parseT, followT []float64
	for r := 0; r < *rounds; r++ {
		t0 := time.Now()
		cmd := exec.Command(*parseBin, parseArgs...)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("loganom-parse: %v", err)
		}
		parseT = append(parseT, time.Since(t0).Seconds())

		dir, err := os.MkdirTemp(*workDir, "throughput-")
		if err != nil {
			return err
		}
		cfg := filepath.Join(dir, "config.ini")
		if err := writeConfig(cfg, dns.Addr, "", ""); err != nil {
			return err
		}
		log := filepath.Join(dir, "maillog")
		args := []string{"postfix-sasl", "--follow", "-c", cfg, "--cache", filepath.Join(dir, "cache.db"), "--format", "json",
			"--metrics", "127.0.0.1:0", "--year", yr, "--tz", "UTC"}
		if *noDB {
			args = append(args, "--no-db")
		} else {
			args = append(args, "--db", filepath.Join(dir, "state.db"))
		}
		var w io.Writer
		var f *os.File
		if *stdin {
			args = append(args, "-l", "-")
		} else {
			args = append(args, "-l", log)
			if f, err = os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
				return err
			}
			w = f
		}
		if r == 0 {
			fmt.Printf("   daemon $ %s   (the log appended in %d-byte writes)\n", commandLine(*loganomBin, args), *chunk)
		}
		d, err := startDaemon(*loganomBin, args, *stdin, filepath.Join(dir, "stderr.log"))
		if err != nil {
			return err
		}
		if *stdin {
			w = d.stdin
		}
		var maxLag float64
		t0 = time.Now()
		for off := 0; off < len(data); off += *chunk {
			if _, err := w.Write(data[off:min(off+*chunk, len(data))]); err != nil {
				d.cmd.Process.Kill()
				return err
			}
		}
		tw := time.Since(t0)
		var el time.Duration
		if *stdin {
			d.stdin.Close()
			if err := <-d.exited; err != nil {
				return fmt.Errorf("the daemon: %v\n%s", err, tail(d.Stderr(), 2000))
			}
			el = time.Since(t0)
		} else {
			f.Close()
			m, err := d.waitMetric("every line to be read", 10*time.Minute, 10*time.Millisecond, func(m map[string]float64) bool {
				maxLag = max(maxLag, m["loganom_lag_bytes"])
				return m["loganom_lines_read_total"] >= float64(lines)
			})
			el = time.Since(t0)
			if err != nil {
				d.cmd.Process.Kill()
				return err
			}
			if got := m["loganom_lines_read_total"]; got != float64(lines) {
				fmt.Printf("   round %d: the daemon read %.0f lines, %d written\n", r+1, got, lines)
			}
			ts := time.Now()
			if err := d.stop(); err != nil {
				return fmt.Errorf("the daemon: %v\n%s", err, tail(d.Stderr(), 2000))
			}
			fmt.Printf("   round %d: stopped (SIGTERM, drained) in %s; lookups %v, logins %v, alerts %d\n", r+1,
				time.Since(ts).Round(time.Millisecond), m["loganom_lookups_total"], m["loganom_events_total{type=\"login\"}"], d.alerts())
		}
		followT = append(followT, el.Seconds())
		fmt.Printf("   round %d: loganom-parse %.3f s (%.0f lines/s); daemon %.3f s (%.0f lines/s; the writer took %.3f s; max lag seen %.0f MB)\n",
			r+1, parseT[r], float64(lines)/parseT[r], el.Seconds(), float64(lines)/el.Seconds(), tw.Seconds(), maxLag/1e6)
		os.RemoveAll(dir)
	}
	med := func(x []float64) float64 {
		s := append([]float64(nil), x...)
		sort.Float64s(s)
		return s[len(s)/2]
	}
	p, fl := med(parseT), med(followT)
	verdict := "met"
	if float64(lines)/fl < 100000 {
		verdict = "NOT met"
	}
	fmt.Printf("   median of %d rounds: daemon %.0f lines/s (%.3f s), loganom-parse %.0f lines/s (%.3f s): the daemon takes %.2fx parse's time; target >= 100,000 lines/s: %s\n",
		*rounds, float64(lines)/fl, fl, float64(lines)/p, p, fl/p, verdict)
	return nil
}
