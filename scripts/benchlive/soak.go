package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loganom/loganom/pkg/enrich/dnstest"
	"github.com/loganom/loganom/pkg/state"
)

// soak: N login lines through --follow --resume --db STATE, the log
// rotated every -rotate-every lines (rename and create, as logrotate does,
// with lines written to the old file after the rename; one of them
// copytruncate), a stop and a restart with --resume in the middle, with
// lines and a rotation while it is down. The daemon's RSS is sampled
// every second; at the end the state's history must count exactly the
// logins written, account by account.
func soak(args []string) error {
	fs := flag.NewFlagSet("soak", flag.ExitOnError)
	n := fs.Int("n", 10_000_000, "login lines")
	every := fs.Int("rotate-every", 1_000_000, "lines between rotations")
	accounts := fs.Int("accounts", 20000, "accounts")
	days := fs.Int("days", 30, "days of log time the lines span")
	ahead := fs.Int("ahead", 300_000, "lines the writer may be ahead of the daemon")
	copyAt := fs.Int("copytruncate", 5, "which rotation is copytruncate (0: none)")
	restart := fs.Bool("restart", true, "stop the daemon (SIGTERM) half way, write and rotate while it is down, start it again with --resume")
	stdin := fs.Bool("stdin", false, "feed the daemon's stdin (-l -) until EOF instead: no rotation, no restart")
	fs.Parse(args)
	if *n < 1 || *every < 1 || *accounts < 1 || *accounts > 60000 {
		return fmt.Errorf("bad -n, -rotate-every or -accounts")
	}
	dir, err := os.MkdirTemp(*workDir, "soak-")
	if err != nil {
		return err
	}
	dns, err := dnstest.Start(&dnstest.Zone{Synthesize: "bench.example"}, "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer dns.Close()
	cfg := filepath.Join(dir, "config.ini")
	if err := writeConfig(cfg, dns.Addr, "", ""); err != nil {
		return err
	}
	log := filepath.Join(dir, "maillog")
	dbPath := filepath.Join(dir, "state.db")
	start := time.Now().UTC().Add(-time.Duration(*days+5) * 24 * time.Hour).Truncate(24 * time.Hour)
	step := time.Duration(*days) * 24 * time.Hour / time.Duration(*n)
	in := []string{"--resume", "-l", log}
	if *stdin {
		in = []string{"-l", "-"}
		*restart, *copyAt, *every = false, 0, *n
	}
	args = []string{"postfix-sasl", "--follow", "--db", dbPath, "-c", cfg, "--cache", filepath.Join(dir, "cache.db"),
		"--format", "json", "--metrics", "127.0.0.1:0", "--year", strconv.Itoa(start.Year()), "--tz", "UTC"}
	args = append(args, in...)
	fmt.Printf("   $ %s\n", commandLine(*loganomBin, args))
	fmt.Printf("   %d logins of %d accounts (3 home addresses each, São Paulo) over %d days of log time, rotated every %d lines\n", *n, *accounts, *days, *every)

	f, err := os.OpenFile(log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	run := 1
	d, err := startDaemon(*loganomBin, args, *stdin, filepath.Join(dir, fmt.Sprintf("stderr.%d.log", run)))
	if err != nil {
		return err
	}
	var cur atomic.Pointer[daemon]
	cur.Store(d)
	defer func() { cur.Load().cmd.Process.Kill() }()

	// the RSS, every second
	curve, err := os.Create(filepath.Join(dir, "rss.tsv"))
	if err != nil {
		return err
	}
	defer curve.Close()
	fmt.Fprintln(curve, "seconds\trss_kib\tlines_written\trun")
	var written atomic.Int64
	var samplesMu sync.Mutex
	type sample struct {
		t   float64
		rss int64
	}
	var samples []sample
	t0 := time.Now()
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	var runNo atomic.Int32
	runNo.Store(1)
	go func() {
		defer close(sampled)
		tk := time.NewTicker(time.Second)
		defer tk.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-tk.C:
			}
			rss, err := cur.Load().rssKB()
			if err != nil {
				continue // between two runs
			}
			s := time.Since(t0).Seconds()
			samplesMu.Lock()
			samples = append(samples, sample{s, rss})
			samplesMu.Unlock()
			fmt.Fprintf(curve, "%.1f\t%d\t%d\t%d\n", s, rss, written.Load(), runNo.Load())
		}
	}()

	users := make([]string, *accounts)
	for i := range users {
		users[i] = fmt.Sprintf("s%05d@example.test", i)
	}
	counts := make([]int64, *accounts)
	rnd := rand.New(rand.NewPCG(7, 7))
	bw := bufio.NewWriterSize(f, 1<<20)
	if *stdin {
		bw = bufio.NewWriterSize(d.stdin, 1<<20)
	}
	var base int64 // lines read by the runs before this one
	read := func() (int64, error) {
		m, err := cur.Load().scrape()
		if err != nil {
			return 0, err
		}
		return base + int64(m["loganom_lines_read_total"]), nil
	}
	waitRead := func(what string, target int64) error {
		_, err := cur.Load().waitMetric(what, 10*time.Minute, 20*time.Millisecond, func(m map[string]float64) bool {
			return base+int64(m["loganom_lines_read_total"]) >= target
		})
		return err
	}
	var line []byte
	writeLines := func(k int) error {
		for j := 0; j < k; j++ {
			i := int(written.Load())
			u := rnd.IntN(*accounts)
			a := u*3 + rnd.IntN(3)
			ip := fmt.Sprintf("187.45.%d.%d", (a/250)%256, a%250+1)
			line = loginLine(line[:0], start.Add(time.Duration(i)*step), users[u], ip)
			if _, err := bw.Write(line); err != nil {
				return err
			}
			counts[u]++
			written.Add(1)
		}
		return bw.Flush()
	}
	rotations, copies := 0, 0
	rotate := func(copytruncate bool) error {
		os.Remove(log + ".2")
		os.Rename(log+".1", log+".2")
		if copytruncate {
			// as logrotate's copytruncate: nothing is written between the
			// copy and the truncation (what would be is lost by logrotate
			// itself), and the daemon has read everything (it cannot read
			// what is only in the copy)
			if err := waitRead("the daemon to catch up before copytruncate", written.Load()); err != nil {
				return err
			}
			src, err := os.ReadFile(log)
			if err != nil {
				return err
			}
			if err := os.WriteFile(log+".1", src, 0o644); err != nil {
				return err
			}
			copies++
			return f.Truncate(0)
		}
		if err := os.Rename(log, log+".1"); err != nil {
			return err
		}
		// Postfix still writes to the old file a moment after the rename
		if err := writeLines(100); err != nil {
			return err
		}
		nf, err := os.OpenFile(log, os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		f.Close()
		f = nf
		bw.Reset(f)
		rotations++
		return nil
	}

	const batch = 10000
	sinceRotation := 0
	restarted := !*restart
	tStart := time.Now()
	for int(written.Load()) < *n {
		// not too far ahead of the daemon (a pipe holds the writer back itself)
		for !*stdin {
			r, err := read()
			if err == nil && written.Load()-r <= int64(*ahead) {
				break
			}
			if err != nil {
				select {
				case e := <-cur.Load().exited:
					return fmt.Errorf("the daemon exited: %v\n%s", e, tail(cur.Load().Stderr(), 3000))
				default:
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
		k := min(batch, *n-int(written.Load()), *every-sinceRotation)
		if err := writeLines(k); err != nil {
			return err
		}
		sinceRotation += k
		if sinceRotation >= *every && int(written.Load()) < *n {
			sinceRotation = 0
			if err := rotate(*copyAt > 0 && rotations+copies+1 == *copyAt); err != nil {
				return err
			}
		}
		if !restarted && int(written.Load()) >= *n/2 {
			restarted = true
			// SIGTERM once everything is read, then lines and a rotation
			// while it is down, and a start with --resume
			if err := waitRead("the daemon to catch up before the restart", written.Load()); err != nil {
				return err
			}
			if err := cur.Load().stop(); err != nil {
				return fmt.Errorf("SIGTERM: %v\n%s", err, tail(cur.Load().Stderr(), 3000))
			}
			base = written.Load()
			if err := writeLines(50000); err != nil {
				return err
			}
			if err := rotate(false); err != nil {
				return err
			}
			sinceRotation = 0
			if err := writeLines(50000); err != nil {
				return err
			}
			run++
			runNo.Store(int32(run))
			nd, err := startDaemon(*loganomBin, args, false, filepath.Join(dir, fmt.Sprintf("stderr.%d.log", run)))
			if err != nil {
				return err
			}
			cur.Store(nd)
			fmt.Printf("   restarted with --resume at %d lines written (%d while it was down, a rotation among them)\n", base, written.Load()-base)
		}
	}
	tw := time.Since(tStart)
	var waitErr error
	if *stdin {
		d.stdin.Close()
		waitErr = <-d.exited
	} else {
		waitErr = waitRead("every line to be read", written.Load())
	}
	el := time.Since(tStart)
	m, _ := cur.Load().scrape()
	close(stopSampling)
	<-sampled
	if err := cur.Load().stop(); err != nil {
		fmt.Printf("   the daemon's exit: %v\n%s\n", err, tail(cur.Load().Stderr(), 2000))
	}
	f.Close()
	if waitErr != nil {
		fmt.Printf("   %v\n", waitErr)
	}
	total := written.Load()
	fmt.Printf("   %d lines written in %s, all read after %s (%.0f lines/s); %d rename+create rotations, %d copytruncate; lines read by the last run %v, alerts %v\n",
		total, tw.Round(time.Millisecond), el.Round(time.Millisecond), float64(total)/el.Seconds(), rotations, copies,
		m["loganom_lines_read_total"], m["loganom_alerts_total"])

	// the RSS curve
	samplesMu.Lock()
	ss := samples
	samplesMu.Unlock()
	if len(ss) > 0 {
		rs := make([]int64, len(ss))
		for i, s := range ss {
			rs[i] = s.rss
		}
		sorted := append([]int64(nil), rs...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
		q := len(rs) / 4
		medOf := func(x []int64) int64 {
			if len(x) == 0 {
				return 0
			}
			s := append([]int64(nil), x...)
			sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
			return s[len(s)/2]
		}
		fmt.Printf("   RSS (%d samples, one a second; the curve: %s): min %.1f MiB, median %.1f MiB, max %.1f MiB; median of the first quarter %.1f MiB, of the last %.1f MiB\n",
			len(rs), curve.Name(), float64(sorted[0])/1024, float64(medOf(rs))/1024, float64(sorted[len(sorted)-1])/1024,
			float64(medOf(rs[:max(q, 1)]))/1024, float64(medOf(rs[len(rs)-max(q, 1):]))/1024)
	}

	// the history, account by account
	ctx := context.Background()
	st, err := state.Open(ctx, dbPath, state.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	stats, err := st.Stats(ctx)
	if err != nil {
		return err
	}
	since := make(map[string]time.Time, len(users))
	for _, u := range users {
		since[u] = time.Time{}
	}
	rows, err := st.Recent(ctx, since)
	if err != nil {
		return err
	}
	got := map[string]int64{}
	for _, r := range rows {
		got[r.User] += r.Count
	}
	lost, doubled, wrong := int64(0), int64(0), 0
	for i, u := range users {
		switch diff := got[u] - counts[i]; {
		case diff < 0:
			lost -= diff
			wrong++
		case diff > 0:
			doubled += diff
			wrong++
		}
		if wrong > 0 && wrong <= 5 && got[u] != counts[i] {
			fmt.Printf("   %s: %d logins written, %d in the history\n", u, counts[i], got[u])
		}
	}
	verdict := "none lost, none doubled"
	if wrong > 0 || stats.Logins != total {
		verdict = fmt.Sprintf("WRONG: %d accounts differ, %d logins missing, %d too many", wrong, lost, doubled)
	}
	fmt.Printf("   history: %d logins in the state (loganom db stats), %d written; account by account: %s\n", stats.Logins, total, verdict)
	return nil
}
