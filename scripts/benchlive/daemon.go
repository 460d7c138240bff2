package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// daemon is a running loganom postfix-sasl --follow, a child process.
type daemon struct {
	cmd     *exec.Cmd
	metrics string // http://ADDR/metrics
	stdin   io.WriteCloser

	mu      sync.Mutex
	printed map[string]time.Time // user -> when its first alert was read on stdout
	nAlerts int
	stderr  bytes.Buffer
	exited  chan error
}

var metricsLine = regexp.MustCompile(`metrics on (http://[^ "]+/metrics)`)

// startDaemon starts BIN ARGS (they must include --metrics 127.0.0.1:0
// and --format json), with stdin a pipe when pipeIn, and waits until it
// says it follows. Its stderr is copied to errPath.
func startDaemon(bin string, args []string, pipeIn bool, errPath string) (*daemon, error) {
	d := &daemon{printed: map[string]time.Time{}, exited: make(chan error, 1)}
	d.cmd = exec.Command(bin, args...)
	var err error
	if pipeIn {
		if d.stdin, err = d.cmd.StdinPipe(); err != nil {
			return nil, err
		}
	}
	out, err := d.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	errR, err := d.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	ef, err := os.Create(errPath)
	if err != nil {
		return nil, err
	}
	if err := d.cmd.Start(); err != nil {
		ef.Close()
		return nil, err
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			now := time.Now()
			var a struct {
				User string `json:"user"`
			}
			if json.Unmarshal(sc.Bytes(), &a) != nil {
				continue
			}
			d.mu.Lock()
			d.nAlerts++
			if _, ok := d.printed[a.User]; !ok {
				d.printed[a.User] = now
			}
			d.mu.Unlock()
		}
		io.Copy(io.Discard, out)
	}()
	go func() {
		defer wg.Done()
		defer ef.Close()
		br := bufio.NewReader(errR)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				ef.WriteString(line)
				d.mu.Lock()
				if d.stderr.Len() < 1<<20 {
					d.stderr.WriteString(line)
				}
				if m := metricsLine.FindStringSubmatch(line); m != nil {
					d.metrics = m[1]
				}
				d.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		d.exited <- d.cmd.Wait()
		close(d.exited)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		d.mu.Lock()
		ok := d.metrics != "" && strings.Contains(d.stderr.String(), "msg=\"following")
		d.mu.Unlock()
		if ok {
			return d, nil
		}
		select {
		case err := <-d.exited:
			return nil, fmt.Errorf("%s exited (%v) before following:\n%s", bin, err, d.Stderr())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			d.cmd.Process.Kill()
			return nil, fmt.Errorf("%s did not start following within a minute:\n%s", bin, d.Stderr())
		}
	}
}

func (d *daemon) Stderr() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stderr.String()
}

// printedAt tells when user's alert was read on stdout.
func (d *daemon) printedAt(user string) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.printed[user]
	return t, ok
}

func (d *daemon) alerts() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nAlerts
}

// stop sends SIGTERM (and closes stdin) and waits for the exit.
func (d *daemon) stop() error {
	d.cmd.Process.Signal(syscall.SIGTERM)
	if d.stdin != nil {
		d.stdin.Close()
	}
	select {
	case err := <-d.exited:
		return err
	case <-time.After(120 * time.Second):
		d.cmd.Process.Kill()
		return errors.New("SIGTERM did not stop it within 2 minutes; killed")
	}
}

// rssKB is the daemon's resident memory (VmRSS), in KiB.
func (d *daemon) rssKB() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				return strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	return 0, errors.New("no VmRSS")
}

var httpc = &http.Client{Timeout: 10 * time.Second}

// scrape reads the metrics: each sample by its name, the samples of a
// name with labels added up.
func (d *daemon) scrape() (map[string]float64, error) {
	resp, err := httpc.Get(d.metrics)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(l, ' ')
		if sp < 0 {
			continue
		}
		v, err := strconv.ParseFloat(l[sp+1:], 64)
		if err != nil {
			continue
		}
		name := l[:sp]
		m[name] = v
		if i := strings.IndexByte(name, '{'); i >= 0 {
			m[name[:i]] += v
		}
	}
	return m, sc.Err()
}

// waitMetric polls the metrics until cond holds, or fails after timeout.
func (d *daemon) waitMetric(what string, timeout time.Duration, every time.Duration, cond func(m map[string]float64) bool) (map[string]float64, error) {
	deadline := time.Now().Add(timeout)
	var last map[string]float64
	for {
		m, err := d.scrape()
		if err == nil {
			last = m
			if cond(m) {
				return m, nil
			}
		}
		select {
		case err := <-d.exited:
			return last, fmt.Errorf("waiting for %s: the daemon exited (%v):\n%s", what, err, tail(d.Stderr(), 3000))
		default:
		}
		if time.Now().After(deadline) {
			return last, fmt.Errorf("timed out waiting for %s (metrics: lines_read=%v logins=%v lag=%v)\n%s", what,
				last["loganom_lines_read_total"], last["loganom_events_total"], last["loganom_lag_bytes"], tail(d.Stderr(), 3000))
		}
		time.Sleep(every)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// hook is a webhook receiver on loopback that records when each
// account's first alert arrives.
type hook struct {
	srv  *http.Server
	url  string
	mu   sync.Mutex
	got  map[string]time.Time
	n    int
	wake chan struct{}
}

func startHook() (*hook, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hook{got: map[string]time.Time{}, url: "http://" + ln.Addr().String() + "/hook", wake: make(chan struct{}, 1)}
	h.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		var p struct {
			Accounts []struct {
				User string `json:"user"`
			} `json:"accounts"`
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &p)
		h.mu.Lock()
		h.n++
		for _, a := range p.Accounts {
			if _, ok := h.got[a.User]; !ok {
				h.got[a.User] = now
			}
		}
		h.mu.Unlock()
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}), ReadHeaderTimeout: 10 * time.Second}
	go h.srv.Serve(ln)
	return h, nil
}

func (h *hook) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	h.srv.Shutdown(ctx)
}

// wait waits for user's alert, until timeout.
func (h *hook) wait(user string, timeout time.Duration) (time.Time, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		t, ok := h.got[user]
		h.mu.Unlock()
		if ok {
			return t, true
		}
		select {
		case <-h.wake:
		case <-deadline.C:
			return time.Time{}, false
		}
	}
}

func (h *hook) posts() (int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n, len(h.got)
}

// quantiles of durations.
type dist []time.Duration

func (d dist) q(p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append(dist(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func (d dist) String() string {
	if len(d) == 0 {
		return "none"
	}
	r := func(x time.Duration) string { return x.Round(100 * time.Microsecond).String() }
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s  (min %s, n=%d)", r(d.q(0.5)), r(d.q(0.9)), r(d.q(0.99)), r(d.q(1)), r(d.q(0)), len(d))
}

// deadlineWait polls cond until it holds or d has passed.
func deadlineWait(d time.Duration, cond func() bool) bool {
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}
