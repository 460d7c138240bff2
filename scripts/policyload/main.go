// Command policyload loads a Postfix policy service, for scripts/bench-policy:
//
//	policyload seed -db STATE -blocked N           # block N accounts in an SQLite state
//	policyload dunno ADDR                          # a trivial service: DUNNO to everything
//	policyload latency -addr A -conns 4 -requests 20000 -blocked N
//	policyload flood -addr A -conns 100 -time 5s -blocked N
//	policyload idle -addr A -conns 1000 -hold 3s
//
// latency: each connection sends a request and waits for its answer, as
// Postfix's smtpd processes do, for blocked and free accounts in turn;
// prints the percentiles of the answer times. flood: the same with no
// pause, for a time; prints the requests answered per second. Both check
// each answer (REJECT for a blocked account, DUNNO otherwise) unless
// -any. idle: holds connections open without a word, then prints how many
// the service still held open, and asks once on a new connection.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loganom/loganom/pkg/state"
)

func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "policyload: error: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 2 {
		die("usage: policyload seed|dunno|latency|flood|idle ...")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:10040", "the service")
	conns := fs.Int("conns", 4, "connections")
	requests := fs.Int("requests", 20000, "requests in all (latency)")
	dur := fs.Duration("time", 5*time.Second, "how long (flood)")
	hold := fs.Duration("hold", 3*time.Second, "how long to hold the connections (idle)")
	blocked := fs.Int("blocked", 1000, "accounts blocked: blocked-0@example.test ... (seed); the requests ask for them and as many free ones")
	anyAnswer := fs.Bool("any", false, "do not check the answers (a trivial service)")
	db := fs.String("db", "", "the SQLite state (seed)")
	fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "seed":
		seed(*db, *blocked)
	case "dunno":
		if fs.NArg() != 1 {
			die("usage: policyload dunno ADDR")
		}
		dunno(fs.Arg(0))
	case "latency":
		latency(*addr, *conns, *requests, *blocked, *anyAnswer)
	case "flood":
		flood(*addr, *conns, *dur, *blocked, *anyAnswer)
	case "idle":
		idle(*addr, *conns, *hold)
	default:
		die("unknown mode %q", os.Args[1])
	}
}

func seed(db string, n int) {
	ctx := context.Background()
	st, err := state.Open(ctx, db, state.Options{})
	if err != nil {
		die("%v", err)
	}
	defer st.Close()
	now := time.Now()
	for i := range n {
		b := state.Block{User: fmt.Sprintf("blocked-%d@example.test", i), Reason: "bench", Created: now}
		if i%2 == 1 {
			b.Expires = now.Add(24 * time.Hour)
		}
		if err := st.AddBlock(ctx, b); err != nil {
			die("%v", err)
		}
	}
}

// dunno is the trivial service: it reads lines to an empty one and
// answers DUNNO, with nothing else.
func dunno(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		die("%v", err)
	}
	fmt.Println(ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			die("%v", err)
		}
		go func() {
			defer c.Close()
			br := bufio.NewReader(c)
			for {
				line, err := br.ReadSlice('\n')
				if err != nil {
					return
				}
				if len(line) == 1 {
					if _, err := c.Write([]byte("action=DUNNO\n\n")); err != nil {
						return
					}
				}
			}
		}()
	}
}

// request is a request as Postfix 3.7 sends it at RCPT.
func request(user string, i int) []byte {
	return []byte(fmt.Sprintf(`request=smtpd_access_policy
protocol_state=RCPT
protocol_name=ESMTP
client_address=198.51.100.%d
client_name=unknown
client_port=%d
reverse_client_name=unknown
server_address=127.0.0.1
server_port=587
helo_name=pc.example.test
sender=%s
recipient=friend@example.net
recipient_count=0
queue_id=
instance=%x.6748a1c3.8d3e1.0
size=0
etrn_domain=
stress=
sasl_method=PLAIN
sasl_username=%s
sasl_sender=
ccert_subject=
ccert_issuer=
ccert_fingerprint=
ccert_pubkey_fingerprint=
encryption_protocol=TLSv1.3
encryption_cipher=TLS_AES_256_GCM_SHA384
encryption_keysize=256
policy_context=
compatibility_level=3.6
mail_version=3.7.11

`, i%250+1, 1024+i%60000, user, i, user))
}

// requests are the requests a connection sends in turn: blocked and free
// accounts alternating.
func requests(n, blocked, conn int) (reqs [][]byte, want []bool) {
	for i := range n {
		k := conn*7919 + i
		if i%2 == 0 && blocked > 0 {
			reqs = append(reqs, request(fmt.Sprintf("blocked-%d@example.test", k%blocked), k))
			want = append(want, true)
		} else {
			reqs = append(reqs, request(fmt.Sprintf("user-%d@example.test", k%100000), k))
			want = append(want, false)
		}
	}
	return reqs, want
}

type client struct {
	c  net.Conn
	br *bufio.Reader
}

func dial(addr string) *client {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		die("%v", err)
	}
	return &client{c: c, br: bufio.NewReader(c)}
}

// ask sends one request and reads its answer; blocked tells whether it
// was the service's action (anything but DUNNO).
func (c *client) ask(req []byte) (blocked bool, err error) {
	if _, err := c.c.Write(req); err != nil {
		return false, err
	}
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return false, err
	}
	blocked = string(line) != "action=DUNNO\n"
	if !strings.HasPrefix(string(line), "action=") {
		return false, fmt.Errorf("answer %q", line)
	}
	if _, err := c.br.ReadSlice('\n'); err != nil {
		return false, err
	}
	return blocked, nil
}

func latency(addr string, conns, total, blocked int, anyAnswer bool) {
	per := total / conns
	lat := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	var wrong atomic.Int64
	start := time.Now()
	for i := range conns {
		reqs, want := requests(per, blocked, i)
		c := dial(addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.c.Close()
			for j, r := range reqs {
				t := time.Now()
				b, err := c.ask(r)
				lat[i] = append(lat[i], time.Since(t))
				if err != nil {
					die("%v", err)
				}
				if !anyAnswer && b != want[j] {
					wrong.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	fmt.Printf("requests=%d conns=%d p50=%v p90=%v p99=%v p99.9=%v max=%v per_second=%.0f wrong=%d\n",
		len(all), conns, pct(0.50), pct(0.90), pct(0.99), pct(0.999), all[len(all)-1], float64(len(all))/elapsed.Seconds(), wrong.Load())
	if wrong.Load() > 0 {
		os.Exit(1)
	}
}

func flood(addr string, conns int, d time.Duration, blocked int, anyAnswer bool) {
	var n, wrong atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	clients := make([]*client, conns)
	for i := range clients {
		clients[i] = dial(addr)
	}
	start := time.Now()
	for i, c := range clients {
		reqs, want := requests(1000, blocked, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.c.Close()
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				b, err := c.ask(reqs[j%len(reqs)])
				if err != nil {
					die("%v", err)
				}
				n.Add(1)
				if !anyAnswer && b != want[j%len(reqs)] {
					wrong.Add(1)
				}
			}
		}()
	}
	time.Sleep(d)
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Printf("requests=%d conns=%d seconds=%.2f per_second=%.0f wrong=%d\n", n.Load(), conns, elapsed.Seconds(), float64(n.Load())/elapsed.Seconds(), wrong.Load())
	if wrong.Load() > 0 {
		os.Exit(1)
	}
}

// idle opens conns connections and sends nothing; after hold, it counts
// those the service closed, and asks once on a new connection.
func idle(addr string, conns int, hold time.Duration) {
	var cs []net.Conn
	var failed int
	for range conns {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			failed++
			continue
		}
		cs = append(cs, c)
	}
	time.Sleep(hold)
	closed := 0
	for _, c := range cs {
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		var b [1]byte
		if _, err := c.Read(b[:]); errors.Is(err, io.EOF) || err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			closed++
		}
	}
	c := dial(addr)
	_, err := c.ask(request("user-1@example.test", 1))
	answered := err == nil
	fmt.Printf("opened=%d dial_failed=%d closed_by_service=%d still_open=%d new_connection_answered=%v\n", len(cs), failed, closed, len(cs)-closed, answered)
	for _, c := range cs {
		c.Close()
	}
	if !answered {
		os.Exit(1)
	}
}
